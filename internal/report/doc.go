// Package report renders DaemonSet plans for operators: the output of the
// whatif command (examples/whatif) and of the kubectl-dsplan plugin
// (examples/controller/cmd/kubectl-dsplan), which share it. It is not part
// of the library: it reads no API server and imports no client.
//
// [FromObjects] turns a decoded dump into an [Input] (names checked,
// revision data compacted, objects normalized); a client fills an Input
// from its lists. [Plan] plans every DaemonSet of an Input as the example
// controller does (API defaults, placement.Validate first, the
// rollout.dsplan.io/ annotations, a report per node) and returns a
// [Section] each. The writers:
//
//   - [Table]: a block per DaemonSet with one line per node (state, action,
//     the reason naming its label, taint, pod or budget), the `kubectl get
//     ds` row with MISSCHEDULED, the other writes, a summary, warnings;
//   - [Section.Explain]: one node in `kubectl describe` style;
//   - [Document], [WriteJSON], [WriteYAML]: the whatif.dsplan.io/v1alpha1
//     schema ([PlanDoc], [NodeDoc]);
//   - [HTML]: one self-contained page with a grid of the nodes.
//
// Reasons always lead with the typed constant of package placement or
// rollout (NodeSelectorMismatch, ReplaceUnavailable, BudgetSpent, ...) and
// follow with the words of [Section.Reason].
package report
