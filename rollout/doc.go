// Package rollout decides the rolling update of a DaemonSet: which old pods
// to replace and, with maxSurge, which nodes get a new pod first, exactly as
// kube-controller-manager v1.37.2's rollingUpdate (pkg/controller/daemon,
// update.go) does in one sync. [Update] reads the DaemonSet's pods grouped
// by node ([placement.Group]).
//
// # Vocabulary
//
// [CreateReason] and [DeleteReason] name why a pod is created or deleted,
// for the rolling update here and for package plan's manage pass: one
// vocabulary for every action a plan holds.
//
// # Budgets
//
// Budgets scales maxUnavailable and maxSurge to the number of nodes that
// should run a daemon pod, rounding percentages up (90% of 95 is 86). When
// both come out zero, upstream silently allows one unavailable pod; Budget
// reports that as Fallback so callers can warn.
//
// # Accounting
//
// Without surge, a node counts as unavailable when its new pod is not
// available, when it has no pod, or when it has more than one (the manage
// pass must act there first). An old pod that is itself unavailable is
// replaced without spending budget. Deleted (terminating) pods are ignored,
// so updates progress while nodes are down.
//
// With surge, a new pod is created next to each old pod that is unavailable,
// and next to at most maxSurge available old pods minus the nodes already
// waiting for a new pod to become available. An old pod goes once the new
// pod on its node is available. Old pods on nodes the DaemonSet no longer
// schedules to go only while more pods are available than desired.
//
// # One node at a time
//
// Without rollout controls, Update classifies every node of the grouping
// ([Classify]: a [NodeKind] per node, the old pod, whether it counts as
// available) and decides from the classes alone ([Decide]): how many
// nodes there are of each kind, and the first of a kind in node-name
// order. A caller that keeps the classes of a DaemonSet's nodes up to date
// between events (package plan/incremental) decides with Decide from them,
// with Update's result.
//
// # Determinism
//
// Upstream iterates a map, so when the budget is smaller than the
// candidates it picks a random subset. Update always takes the candidates
// in node-name order. The number of pods picked never depends on the order.
//
// Update only runs when the manage pass had nothing to do (upstream's
// expectations gate); package plan enforces that.
//
// # Rollout controls
//
// [Options] adds what kube-controller-manager never shipped (kubernetes
// #80130, #86619, enhancements #5262), each control's zero value leaving
// upstream's decisions byte for byte as they are:
//
//   - Partition keeps N (or N% of the desired nodes, rounded down) nodes
//     on an old revision; the rollout stops there;
//   - Paused starts no replacement (the manage pass goes on, and a pod it
//     creates is of the current revision, the only template there is);
//   - Selector updates only the nodes it matches (a canary pool, a zone);
//   - Order takes nodes in a total, documented order: an explicit list,
//     label weights, zone by zone along a topology key with an optional
//     budget per zone, then node name;
//   - Held, filled by plan.Cluster.PlanGroup, keeps a group of DaemonSets
//     (CNI and CSI agents) from being unavailable together on one node.
//
// A stock apps/v1 DaemonSet carries them as annotations with the prefix
// rollout.dsplan.io/ ([ParseAnnotations]). With Explain, every node the
// pass leaves alone says why ([WaitReason]).
//
// The controls combine in this order, for each node the update could take,
// in update order: paused, outside the selector, beyond the partition, in a
// later zone, then (for an available old pod) held by the group, and the
// budgets — maxUnavailable or maxSurge, then the zone's. An unavailable old
// pod costs no budget, so it is replaced wherever it is in the order, as
// upstream replaces it at once, unless one of the controls before the
// budgets holds it back.
//
// # Compared with OpenKruise's Advanced DaemonSet
//
// Kruise's rollingUpdate has partition, paused and selector. Where dsplan
// differs, and why:
//
//   - Partition: Kruise keeps the pods of the highest-priority nodes old
//     and updates the rest; which of equal nodes stay old follows its map
//     order. dsplan keeps the last nodes of the documented update order,
//     so the kept nodes are known in advance and stable across syncs, and
//     a percentage is accepted (rounded down: a partition never keeps more
//     than asked).
//   - Paused: Kruise's pause stops the rolling update; dsplan does the
//     same and says what still happens (creates on empty nodes, deletes of
//     failed and ineligible pods, finishing a surge already started).
//   - Selector: the same meaning; dsplan counts the nodes outside it toward
//     the partition, since they stay old.
//   - Update order: Kruise has none beyond its priority strategies, and its
//     picks inside a budget follow map order; dsplan's order is total
//     (ending with the node name), so every pick can be predicted and
//     explained.
//   - A budget across DaemonSets on one node has no counterpart in Kruise.
package rollout
