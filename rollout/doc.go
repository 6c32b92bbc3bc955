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
// # Determinism
//
// Upstream iterates a map, so when the budget is smaller than the
// candidates it picks a random subset. Update always takes the candidates
// in node-name order. The number of pods picked never depends on the order.
//
// Update only runs when the manage pass had nothing to do (upstream's
// expectations gate); package plan enforces that.
package rollout
