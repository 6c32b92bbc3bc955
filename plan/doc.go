// Package plan turns a snapshot of one DaemonSet and its cluster into the
// actions one sync of kube-controller-manager's DaemonSet controller takes
// (v1.37.2, pkg/controller/daemon): pods to create, pods to delete with a
// reason, pod label patches and ownership claims, ControllerRevision
// writes, the new status and when to sync again — as data, with no API
// client, clock or randomness.
//
// # Using it
//
// Build a Snapshot (or Decode one from `kubectl get -o yaml` output), call
// New, carry out the Plan; [Plan.Writes] says whether there is anything to
// carry out. The zero Plan means nothing to do. The snapshot's
// DaemonSet should be as the API server stores it: Default applies the
// apps/v1 and pod-template defaults to a hand-written manifest (they change
// the revision hash).
//
// # Faithfulness
//
// Plans agree with kube-controller-manager action for action; the package
// tests check that against golden fixtures recorded from the real controller
// (internal/fixture). Where upstream picks at random, New picks
// deterministically:
//
//   - candidates of the rolling update are taken in node-name order (see
//     package rollout);
//   - of several failed pods on one node, the oldest (ComparePods order) is
//     deleted in this sync, the others wait for the backoff;
//   - beyond the burst limit of 250 creates and 250 deletes per sync, the
//     ones kube-controller-manager's lists hold first are kept: by
//     category as upstream appends them (the manage pass's per-node deletes
//     before the pods of vanished nodes; unavailable old pods before
//     available candidates in the rolling update; creates next to
//     unavailable old pods before surge candidates; deletes of replaced or
//     unavailable ineligible old pods before sunset pods), each node's
//     deletes together, and, where upstream's order within a category is
//     map order, by node name;
//   - revision ties are broken as package revision documents.
//
// Failed-pod backoff and unobserved expectations, which upstream keeps in
// memory, are inputs (Snapshot.FailedPodBackoff, PendingExpectations).
//
// # The pipeline
//
// New is the stages of the other packages, in upstream's order:
// revision.Reconcile (the current revision and its hash), placement.Group
// (pods claimed and grouped by node, every node evaluated once), the
// manage pass (this package), rollout.Update when the manage pass has
// nothing to do, revision.Cleanup and status.Compute. A controller loop or
// a test can call the same stages itself.
//
// The stages after grouping read the DaemonSet's nodes and pods through an
// [Index]: New's is the Grouping of its snapshot; [FromIndex] plans from
// any other, such as the one package plan/incremental keeps up to date
// between events, whose plans then cost what an event changed. [Manages]
// is the manage pass on one node, as such an index needs it.
//
// # Concurrency and memory
//
// New and Cluster.Plan may run in any number of goroutines at once; they
// start none themselves. Each plan reads every node and pod once and keeps
// what later stages need in working memory (about 100 bytes per node and
// pod, a placement.Grouper). That memory is recycled between plans through
// a sync.Pool, the package's only package-level variable besides
// constants: it holds nothing a later plan reads (it is reset before
// reuse), so results never depend on earlier calls.
//
// # Deliberate differences
//
// New follows kube-controller-manager even where it misbehaves (a surge
// rollout fails while an old pod is bound to a deleted node; a revision
// adopted and relabelled in one sync is updated without its new owner
// reference). It differs only where upstream crashes or where its state is
// not an input:
//
//   - a controlled ControllerRevision without any label makes upstream panic
//     (assignment to a nil map in constructHistory); New returns
//     Plan.Err wrapping revision.ErrNoLabels and plans nothing else;
//   - a nil spec.revisionHistoryLimit makes upstream's cleanupHistory panic;
//     New keeps 10 revisions, as the API server's default, and warns;
//   - after deleting a failed pod, the other failed pods on that node wait
//     for the backoff: RequeueAfter is then 1s, the backoff's first step,
//     where upstream uses its in-memory delay for the node.
package plan
