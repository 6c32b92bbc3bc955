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

// Result is what one sync does to a DaemonSet's status.
type Result struct {
	// Status is the DaemonSetStatus after the sync: ds.Status unchanged
	// when Changed is false.
	Status appsv1.DaemonSetStatus
	// Changed reports whether kube-controller-manager writes Status
	// ([NeedsUpdate]).
	Changed bool
	// RequeueAfter is when kube-controller-manager syncs the DaemonSet
	// again to count pods that become available ([RequeueAfter]); 0 for
	// none.
	RequeueAfter time.Duration
}

// Compute returns the status the DaemonSet has after one sync of
// kube-controller-manager v1.37.2 (updateDaemonSetStatus and
// storeDaemonSetStatus in pkg/controller/daemon/daemon_controller.go).
//
// g is ds's pods grouped for ds's current revision ([placement.Group]): its
// hash and time judge whether a pod is updated and available.
//
// The rules:
//  1. Only existing nodes count: the controller loops over its node list,
//     so pods bound to vanished nodes never appear in the status.
//  2. desiredNumberScheduled counts nodes whose Decision.ShouldRun holds;
//     currentNumberScheduled those of them with at least one pod;
//     numberMisscheduled the nodes with a pod where ShouldRun does not
//     hold.
//  3. On each desired node with pods only the oldest pod counts (the
//     Grouping's first; terminal pods being deleted are not in it): it is
//     ready when its Ready condition is true, available when it has also
//     been ready for minReadySeconds, and updated when it belongs to the
//     revision ([placement.Pod]).
//  4. numberUnavailable is desiredNumberScheduled − numberAvailable.
//  5. observedGeneration becomes ds.Generation unless opts.StatusOnly.
//  6. collisionCount and conditions are kept from ds.Status.
//  7. When the seven counters equal those in ds.Status and
//     ds.Status.ObservedGeneration ≥ ds.Generation, the controller writes
//     nothing: Changed is false and Status is ds.Status.
//
// Compute does not check ds.DeletionTimestamp or an empty selector: the
// controller returns before computing any status then, which is for the
// caller to decide. The result shares Conditions and CollisionCount with
// ds.Status; deep-copy it before modifying them. A nil ds or g gives the
// zero Result. Compute never modifies its inputs, runs in O(nodes) and
// does not allocate.
func Compute(ds *appsv1.DaemonSet, g *placement.Grouping, opts Options) Result {
	if ds == nil || g == nil {
		return Result{}
	}
	var c Counts
	for i := range g.Existing() {
		c.Add(NodeCounts(g.At(i)))
	}
	return FromCounts(ds, c, opts)
}

// Counts are the node counts a DaemonSet's status is made of (rules 1 to 3
// of [Compute]), summed over the nodes.
type Counts struct {
	// Desired counts the existing nodes whose Decision.ShouldRun holds.
	Desired int32
	// Current counts those of them with at least one pod.
	Current int32
	// Misscheduled counts the existing nodes with a pod where ShouldRun
	// does not hold.
	Misscheduled int32
	// Ready, Updated and Available count the current nodes whose oldest
	// pod is ready, updated and available.
	Ready, Updated, Available int32
}

// Add adds d's counts to c's.
func (c *Counts) Add(d Counts) {
	c.Desired += d.Desired
	c.Current += d.Current
	c.Misscheduled += d.Misscheduled
	c.Ready += d.Ready
	c.Updated += d.Updated
	c.Available += d.Available
}

// Sub subtracts d's counts from c's.
func (c *Counts) Sub(d Counts) {
	c.Desired -= d.Desired
	c.Current -= d.Current
	c.Misscheduled -= d.Misscheduled
	c.Ready -= d.Ready
	c.Updated -= d.Updated
	c.Available -= d.Available
}

// NodeCounts returns what one entry of a Grouping adds to the counts:
// every field 0 or 1, all 0 for a node that does not exist (rule 1). It is
// the per-node step of [Compute], for callers that keep the counts of a
// DaemonSet up to date node by node (package plan/incremental).
func NodeCounts(n placement.NodePods) Counts {
	var c Counts
	if !n.Exists() {
		return c
	}
	hasPod := n.Len() > 0
	if !n.Decision().ShouldRun() {
		if hasPod {
			c.Misscheduled = 1
		}
		return c
	}
	c.Desired = 1
	if !hasPod {
		return c
	}
	c.Current = 1
	p := n.Pod(0)
	if p.Ready() {
		c.Ready = 1
	}
	if p.Available() {
		c.Available = 1
	}
	if p.Updated() {
		c.Updated = 1
	}
	return c
}

// FromCounts returns the Result [Compute] returns for a Grouping whose
// [NodeCounts] sum to c (rules 4 to 7): Compute is FromCounts of the sum.
// A nil ds gives the zero Result.
func FromCounts(ds *appsv1.DaemonSet, c Counts, opts Options) Result {
	if ds == nil {
		return Result{}
	}
	st := ds.Status
	st.DesiredNumberScheduled = c.Desired
	st.CurrentNumberScheduled = c.Current
	st.NumberMisscheduled = c.Misscheduled
	st.NumberReady = c.Ready
	st.UpdatedNumberScheduled = c.Updated
	st.NumberAvailable = c.Available
	st.NumberUnavailable = c.Desired - c.Available
	if !opts.StatusOnly {
		st.ObservedGeneration = ds.Generation
	}
	r := Result{Status: ds.Status, Changed: NeedsUpdate(ds, st)}
	if r.Changed {
		r.Status = st
	}
	r.RequeueAfter = RequeueAfter(ds, r.Status)
	return r
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
