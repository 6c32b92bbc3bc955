// Package incremental plans DaemonSets from an index kept up to date by
// events, so that the plan after one event costs what the event changed,
// not a pass over every node and pod: the plan.Plan of plan.New, field for
// field, in microseconds at 100,000 nodes where plan.New takes tens of
// milliseconds.
//
// kube-controller-manager reads every node and pod of a DaemonSet on every
// sync, and a sync follows almost every pod or node event. A [Planner]
// keeps, for every DaemonSet, what placement.Group would make of its
// snapshot — each node's decision and pods, each pod's state — together
// with what the later stages sum over the nodes: the status counts
// (status.NodeCounts), the rolling update's classes of nodes in node-name
// order (rollout.Classify), the nodes the manage pass acts on
// (plan.Manages), the pod claims, and a queue of pods that become
// available when their minReadySeconds pass. [Planner.Plan] then plans
// through plan.FromIndex: the same decisions as plan.New, read from the
// index.
//
// # Events
//
// A controller's informer handlers give the Planner every change, and its
// sync calls Plan:
//
//   - nodes: [Planner.SetNode] on add and update, [Planner.DeleteNode] on
//     delete;
//   - pods: [Planner.SetPod], [Planner.DeletePod];
//   - DaemonSets: [Planner.SetDaemonSet], [Planner.DeleteDaemonSet];
//   - ControllerRevisions: [Planner.SetRevision], [Planner.DeleteRevision];
//   - the sync: [Planner.Plan](key, now, pendingExpectations,
//     failedPodBackoff, opts), key being "namespace/name" (control.Key,
//     a controller's work queue key).
//
// The Planner's content is, for every object, the last version set and not
// deleted since; a plan is plan.New's on that content ([Planner.Snapshot])
// at now. So:
//
//  1. events of one object must come in the order the informer delivers
//     them; events of different objects may come in any order, and an
//     object may be set again unchanged (an informer's resync);
//  2. a delete handler must unwrap a cache.DeletedFinalStateUnknown
//     tombstone to its object's namespace and name;
//  3. objects must not be modified once given (informer objects never
//     are): a change is a new object, set again;
//  4. pods controlled by something other than a DaemonSet are not kept (no
//     DaemonSet claims them); orphans are;
//  5. the Planner is not safe for concurrent use: handlers and syncs call
//     it under one lock.
//
// An event that was missed (a handler that failed, a watch that expired
// and whose relist was not delivered) leaves the Planner's content behind
// the cluster's, and its plans wrong, until the object is set again. A
// controller that may have missed events calls [Planner.Reset] with the
// lists of its listers, as it does on a resync: Reset replaces the content
// and builds every index again.
//
// # What a plan costs
//
// An event costs, for every DaemonSet whose index holds the node or pod,
// the node's entry again (its decision, its pods in order, its share of
// the sums): O(pods on the node), and O(log nodes) to move the node
// between the rolling update's sets. A node event touches every
// DaemonSet; a pod event the DaemonSets that may claim the pod.
//
// A plan costs O(actions): the nodes the manage pass acts on, the nodes
// the rolling update picks (the first of its sets in node-name order, as
// many as its budget takes), the claims and the created pods; the status
// and the revision history (reconciled again only after a revision or the
// DaemonSet changed) cost nothing more. A converged DaemonSet whose pod
// turns unready and ready again, a node whose labels or taints flip its
// eligibility, and each step of a rollout in progress are all planned so.
//
// Rare or complicated cases cost more, always with the result of
// plan.New:
//
//   - the index is built over every node and pod (placement.Group, the
//     pass plan.New makes: one to two full plans) for a
//     DaemonSet's first plan, after a change of its spec or of the
//     metadata its pods are judged by (a rollout starts: its revision hash
//     changes), after a change of Options.Placement, and when now is
//     earlier than the last plan's;
//   - plan.New plans the whole snapshot with Options.Explain, and for a
//     DaemonSet without namespace, name or UID;
//   - the rolling update is decided over a full placement.Grouping with
//     rollout controls (Options.Rollout, or Options.Annotations on a
//     DaemonSet with rollout.dsplan.io/ annotations), and while no node is
//     desired under a percentage maxSurge;
//   - the DaemonSet's pods are read again when duplicate current
//     revisions make the plan relabel pods, and when more old revisions
//     than revisionHistoryLimit are kept (their cleanup spares those that
//     pods carry).
//
// [Planner.Stats] counts the plans, the builds and the fallbacks.
//
// # Time
//
// A pod is available once it has been ready for minReadySeconds, which
// changes with now, without any event. The index judges its pods at the
// time of the last plan; each plan first judges again the pods of a time
// queue whose minReadySeconds have passed since (placement.PodJudge's
// AvailableAt), and only those. Now is read on the wall clock (a monotonic
// reading is dropped), as availability is.
//
// # Memory
//
// About 70 bytes per node, 110 bytes per pod and 20 bytes per node and
// DaemonSet, besides the objects, which the Planner shares with its
// caller. Builds borrow placement.Group's working memory (about 13 MB at
// 100,000 nodes) from a sync.Pool, the package's only package-level
// variable besides constants; it holds nothing a later plan reads.
package incremental
