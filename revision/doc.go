// Package revision computes DaemonSet revision hashes and ControllerRevision
// history exactly as kube-controller-manager (KCM) v1.37.2 and kubectl
// v0.37.2 do, as pure functions: they take objects and return the objects
// and API writes KCM or kubectl would produce, never call an API server,
// never modify their inputs and give sorted, deterministic output.
//
// A controller built on dsplan shares clusters with pods and
// ControllerRevisions that KCM created: if its controller-revision-hash
// differed from KCM's by one character, every pod would look outdated.
//
// # Hashes and revisions
//
// [Hash] is KCM's controller.ComputeHash of a pod template and collision
// count. [Patch] is the data KCM stores in a revision (byte for byte), [Match]
// compares a DaemonSet with a revision as KCM and kubectl do, and [New] is the
// ControllerRevision KCM creates. Hash depends on the Go value of the
// template: pass it API-defaulted and as it comes out of protobuf (empty
// lists and maps nil), as KCM sees it.
//
// # History reconciliation
//
// [Reconcile] mirrors constructHistory (revision claiming, missing-label fix,
// duplicate removal with pod relabelling, creation, renumbering, name
// collisions) and returns a [History]; [Cleanup] mirrors cleanupHistory
// (oldest revisions beyond revisionHistoryLimit, except those live pods
// carry). Where upstream depends on lister order (equal revision numbers),
// the rules pick by name and say which.
//
// # kubectl
//
// [RolloutHistory] and [FormatHistory] are `kubectl rollout history`,
// [TemplateAt] is `kubectl rollout history --revision=N`, [Undo] is `kubectl
// rollout undo [--to-revision=N]` and [Restart] is `kubectl rollout restart`,
// with kubectl's error messages.
//
// # Tests against upstream
//
// The tests compare with upstream through the oracle in ../shared/oracle
// (which runs the real controller code): testdata/hashvec.json holds 500
// templates with KCM's hashes and stored data, and testdata/oracle holds
// snapshots with what one KCM sync did to their revisions. Regenerate both
// with
//
//	revision/testdata/regen.sh
//
// (it documents which snapshots it keeps and how it trims the output).
package revision
