// Package control holds the state a DaemonSet control loop keeps between
// plans, as values the caller owns: what kube-controller-manager keeps in
// memory next to its caches, without its clock, goroutines or event
// recorder.
//
//   - [Expectations]: the creates and deletes a sync started and whose
//     effect the informers have not shown yet. While a DaemonSet has
//     unobserved expectations, its next plan only refreshes the status
//     (plan.Snapshot.PendingExpectations). Raised from a Plan, lowered by
//     observed pod events and by writes that failed or were skipped,
//     expiring after [ExpectationsTimeout] (kube-controller-manager's
//     ControllerExpectations).
//   - [Backoff]: the failed-pod backoff per DaemonSet and node, 1 s doubling
//     to 15 min (kube-controller-manager's flowcontrol.Backoff for failed
//     daemon pods), feeding plan.Snapshot.FailedPodBackoff.
//   - [SlowStart]: the batches creates are sent in (1, 2, 4, …), stopping
//     at the first batch with a failure (slowStartBatch in syncNodes).
//   - [Event]: the events kube-controller-manager records for a sync
//     (SuccessfulCreate, FailedCreate, SuccessfulDelete, FailedDelete,
//     FailedDaemonPod, SucceededDaemonPod, SelectingAll), as data a caller
//     can emit with its own recorder.
//
// Every method takes the time as a parameter. None is safe for concurrent
// use: a controller with several workers guards them with its own lock
// (or keeps one per worker key).
package control
