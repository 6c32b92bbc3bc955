package status

import (
	"time"

	appsv1 "k8s.io/api/apps/v1"

	"github.com/dsplan/dsplan/placement"
)

// Options tunes Compute. The zero value describes a full sync, the common
// case.
type Options struct {
	// StatusOnly selects kube-controller-manager's status-only path, taken
	// while creates or deletes of an earlier sync have not been observed yet
	// (its expectations are unsatisfied): the counters are written but
	// observedGeneration is not raised, because the controller did not
	// process the DaemonSet's current generation.
	StatusOnly bool
}

// Compute returns the DaemonSetStatus that the DaemonSet has after one sync
// of kube-controller-manager v1.37.2 (updateDaemonSetStatus and
// storeDaemonSetStatus in pkg/controller/daemon/daemon_controller.go).
//
// hash is the controller-revision-hash of the current revision. nodes holds
// one entry per existing node with its placement decision and the
// DaemonSet's pods targeting it, each Pods slice in [placement.ComparePods]
// order (oldest first), as the controller's getNodesToDaemonPods(false)
// groups them. now is the clock for minReadySeconds.
//
// The rules:
//  1. Only entries with a Node count: the controller loops over its node
//     list, so pods bound to vanished nodes never appear in the status.
//  2. Pods that are terminal (Failed or Succeeded) and being deleted are
//     skipped, as getNodesToDaemonPods(false) skips them; so are nil pods.
//  3. desiredNumberScheduled counts nodes whose Decision.ShouldRun is true;
//     currentNumberScheduled those of them with at least one pod;
//     numberMisscheduled the nodes with a pod where ShouldRun is false.
//  4. On each desired node with pods only the oldest pod (the first one)
//     counts: it is ready when its Ready condition is true, available when
//     it has also been ready for minReadySeconds at now (see
//     [placement.IsPodAvailable]), and updated when [placement.IsPodUpdated]
//     holds for hash and the template generation of the deprecated
//     annotation (an unparsable annotation counts as absent, as upstream).
//     These are the pod's [placement.PodState] bits, as
//     placement.NewPodClassifier(ds, hash, now) computes them; when a node's
//     States are set, Compute reads them and not the pods.
//  5. numberUnavailable is desiredNumberScheduled − numberAvailable.
//  6. observedGeneration becomes ds.Generation unless opts.StatusOnly.
//  7. collisionCount and conditions are kept from ds.Status.
//  8. When the seven counters equal those in ds.Status and
//     ds.Status.ObservedGeneration ≥ ds.Generation, the controller writes
//     nothing (see NeedsUpdate) and Compute returns ds.Status unchanged.
//
// Compute does not check ds.DeletionTimestamp or an empty selector: the
// controller returns before computing any status then, which is for the
// caller to decide. The result shares Conditions and CollisionCount with
// ds.Status; deep-copy it before modifying them. A nil ds gives the zero
// status. Compute never modifies its inputs, runs in O(nodes + pods) and
// allocates nothing (but the error of an unparsable generation annotation).
func Compute(ds *appsv1.DaemonSet, hash string, nodes []placement.NodePods, now time.Time, opts Options) appsv1.DaemonSetStatus {
	if ds == nil {
		return appsv1.DaemonSetStatus{}
	}
	c := placement.NewPodClassifier(ds, hash, now)
	var desired, current, misscheduled, ready, updated, available int32
	for i := range nodes {
		n := &nodes[i]
		if n.Node == nil {
			continue
		}
		k, state := oldest(n, &c)
		if !n.Decision.ShouldRun {
			if k >= 0 {
				misscheduled++
			}
			continue
		}
		desired++
		if k < 0 {
			continue
		}
		current++
		if state&placement.PodReady != 0 {
			ready++
		}
		if state&placement.PodAvailable != 0 {
			available++
		}
		if state&placement.PodUpdated != 0 {
			updated++
		}
	}

	st := ds.Status
	st.DesiredNumberScheduled = desired
	st.CurrentNumberScheduled = current
	st.NumberMisscheduled = misscheduled
	st.NumberReady = ready
	st.UpdatedNumberScheduled = updated
	st.NumberAvailable = available
	st.NumberUnavailable = desired - available
	if !opts.StatusOnly {
		st.ObservedGeneration = ds.Generation
	}
	if !NeedsUpdate(ds, st) {
		return ds.Status
	}
	return st
}

// oldest returns the index in n.Pods of the first pod that
// getNodesToDaemonPods(false) keeps, and its state; -1 when there is none.
func oldest(n *placement.NodePods, c *placement.PodClassifier) (int, placement.PodState) {
	for k, p := range n.Pods {
		if p == nil {
			continue
		}
		if s := n.StateAt(k, c); s&placement.PodDeleting == 0 || !s.Terminal() {
			return k, s
		}
	}
	return -1, 0
}

// NeedsUpdate reports whether kube-controller-manager calls UpdateStatus
// to store st for ds, mirroring the early return of storeDaemonSetStatus:
// it writes unless all seven counters of st equal those of ds.Status and
// ds.Status.ObservedGeneration is at least ds.Generation. The other fields
// of st are not compared. A nil ds needs no update.
func NeedsUpdate(ds *appsv1.DaemonSet, st appsv1.DaemonSetStatus) bool {
	if ds == nil {
		return false
	}
	old := &ds.Status
	return old.DesiredNumberScheduled != st.DesiredNumberScheduled ||
		old.CurrentNumberScheduled != st.CurrentNumberScheduled ||
		old.NumberMisscheduled != st.NumberMisscheduled ||
		old.NumberReady != st.NumberReady ||
		old.UpdatedNumberScheduled != st.UpdatedNumberScheduled ||
		old.NumberAvailable != st.NumberAvailable ||
		old.NumberUnavailable != st.NumberUnavailable ||
		old.ObservedGeneration < ds.Generation
}

// RequeueAfter returns the delay after which kube-controller-manager syncs
// ds again on its own once it has computed st: spec.minReadySeconds when
// that is positive and some ready pods are not available yet
// (st.NumberReady ≠ st.NumberAvailable), so that they are counted once
// they become available; otherwise 0, meaning no timed requeue. A nil ds
// gives 0.
func RequeueAfter(ds *appsv1.DaemonSet, st appsv1.DaemonSetStatus) time.Duration {
	if ds == nil || ds.Spec.MinReadySeconds <= 0 || st.NumberReady == st.NumberAvailable {
		return 0
	}
	return time.Duration(ds.Spec.MinReadySeconds) * time.Second
}
