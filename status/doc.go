// Package status computes the status of a DaemonSet the way
// kube-controller-manager v1.37.2 writes it, and renders it the way kubectl
// v0.37.2 shows it.
//
// # Controller status
//
// [Compute] mirrors the counting loop of the DaemonSet controller's
// updateDaemonSetStatus and the write decision of storeDaemonSetStatus
// (pkg/controller/daemon/daemon_controller.go): it takes the DaemonSet's
// pods grouped by node ([placement.Group]) and returns the DaemonSetStatus
// the object has after one sync, whether the controller writes it
// ([NeedsUpdate]) and when it syncs the DaemonSet again to count pods that
// become available after minReadySeconds ([RequeueAfter]).
//
// Compute is the sum of each node's share, [NodeCounts], turned into a
// status by [FromCounts]: a caller that keeps the shares of a DaemonSet's
// nodes up to date between events (package plan/incremental) computes the
// same status from their sum without reading every node.
//
// Only the oldest pod on each node counts, so a node with an old ready pod
// and a new unready one is ready but not updated. Compute runs in O(nodes)
// without allocating, and never reads the clock: the grouping was judged
// at a time the caller chose.
//
// There are no deliberate differences in the result. Upstream sorts each
// node's pod slice in place; the grouping sorts its own copy of the order.
// Compute's output equals the status the real controller wrote on every
// golden fixture of internal/fixture that reaches the status update
// (TestOracleParity).
//
// # kubectl
//
// [Rollout] gives the verdict and message of `kubectl rollout status` for a
// DaemonSet. [Header], [Row] and [Table] render the columns of
// `kubectl get daemonsets`.
package status
