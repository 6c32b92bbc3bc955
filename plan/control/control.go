package control

import (
	"cmp"
	"fmt"
	"maps"
	"slices"
	"time"

	appsv1 "k8s.io/api/apps/v1"
	corev1 "k8s.io/api/core/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	"k8s.io/apimachinery/pkg/types"

	"github.com/dsplan/dsplan/plan"
	"github.com/dsplan/dsplan/rollout"
)

// ExpectationsTimeout is how long expectations wait for the informers
// before a sync goes ahead anyway (kube-controller-manager's
// ExpectationsTimeout).
const ExpectationsTimeout = 5 * time.Minute

// Key returns the key a controller queues a DaemonSet under and keeps its
// expectations by: "namespace/name".
func Key(ds *appsv1.DaemonSet) string {
	if ds == nil {
		return ""
	}
	return ds.Namespace + "/" + ds.Name
}

// Expectations are the creates and deletes each DaemonSet's last sync
// started whose effect the informers have not shown yet, by [Key]. The
// zero Expectations has none. Rules, as kube-controller-manager's
// ControllerExpectations:
//
//  1. [Expectations.Expect] replaces a key's expectations with a plan's
//     creates and deletes, stamped with the time;
//  2. [Expectations.CreationObserved] lowers the creates by one when the
//     pod informer shows a new pod controlled by the DaemonSet (any such
//     pod, not only one this controller created);
//     [Expectations.DeletionObserved] lowers the deletes by one when it
//     shows such a pod deleted or given a deletionTimestamp;
//     [Expectations.Lower] lowers them for writes that failed or were never
//     sent (see [SlowStart]);
//  3. a key is satisfied when it has none, when both counts are ≤ 0, or
//     when they were set more than [ExpectationsTimeout] before now.
//
// Counts may go below zero (more pods observed than expected), as
// upstream's.
type Expectations struct {
	m map[string]*expectation
}

type expectation struct {
	add, del int64
	at       time.Time
}

// Expect records the creates and deletes p starts for key at now, when p
// has any (kube-controller-manager sets expectations in every sync that
// reaches its manage pass or rolling update; with none to expect, the
// result is the same as not setting them).
func (e *Expectations) Expect(key string, p plan.Plan, now time.Time) {
	if len(p.Creates) == 0 && len(p.Deletes) == 0 {
		return
	}
	if e.m == nil {
		e.m = make(map[string]*expectation)
	}
	e.m[key] = &expectation{add: int64(len(p.Creates)), del: int64(len(p.Deletes)), at: now}
}

// CreationObserved lowers key's expected creates by one.
func (e *Expectations) CreationObserved(key string) { e.Lower(key, 1, 0) }

// DeletionObserved lowers key's expected deletes by one.
func (e *Expectations) DeletionObserved(key string) { e.Lower(key, 0, 1) }

// Lower lowers key's expected creates by add and deletes by del; a key
// without expectations is left without.
func (e *Expectations) Lower(key string, add, del int) {
	if x, ok := e.m[key]; ok {
		x.add -= int64(add)
		x.del -= int64(del)
	}
}

// Satisfied reports whether key's next sync may act: see the rules of
// [Expectations].
func (e *Expectations) Satisfied(key string, now time.Time) bool {
	x, ok := e.m[key]
	return !ok || x.add <= 0 && x.del <= 0 || now.Sub(x.at) > ExpectationsTimeout
}

// Pending is !Satisfied: the value of plan.Snapshot.PendingExpectations.
func (e *Expectations) Pending(key string, now time.Time) bool { return !e.Satisfied(key, now) }

// Counts returns key's expected creates and deletes (0, 0 for none).
func (e *Expectations) Counts(key string) (creates, deletes int64) {
	if x, ok := e.m[key]; ok {
		return x.add, x.del
	}
	return 0, 0
}

// Delete forgets key, as kube-controller-manager does when the DaemonSet
// is deleted.
func (e *Expectations) Delete(key string) { delete(e.m, key) }

// Failed-pod backoff bounds: kube-controller-manager's
// flowcontrol.NewBackOff(1s, 15m) for failed daemon pods.
const (
	BackoffInitial = time.Second
	BackoffMax     = 15 * time.Minute
)

// Backoff is the failed-pod backoff of kube-controller-manager's DaemonSet
// controller: after it deletes a failed daemon pod on a node, it deletes
// the next failed pod there only once a delay has passed, 1 s doubling to
// [BackoffMax]. The zero Backoff has no node in backoff. Rules, as
// upstream's flowcontrol.Backoff:
//
//  1. entries are per DaemonSet UID, its status.observedGeneration when
//     the sync ran, and node (failedPodsBackoffKey): a new generation
//     starts afresh;
//  2. [Backoff.Observe] starts a node's delay at [BackoffInitial], or
//     doubles it (at most [BackoffMax]), for every node of
//     plan.Plan.FailedPodBackoff, and stamps it with the time;
//  3. a node is in backoff while less than its delay has passed since the
//     stamp; an entry not stamped for 2×BackoffMax starts afresh (and is
//     dropped by [Backoff.GC]).
type Backoff struct {
	m map[backoffKey]*backoffEntry
}

type backoffKey struct {
	uid        types.UID
	generation int64
	node       string
}

type backoffEntry struct {
	delay time.Duration
	at    time.Time
}

func key(ds *appsv1.DaemonSet, node string) backoffKey {
	return backoffKey{ds.UID, ds.Status.ObservedGeneration, node}
}

// expired reports whether an entry stamped at was not renewed for
// 2×BackoffMax at now.
func expired(at, now time.Time) bool { return now.Sub(at) > 2*BackoffMax }

// Observe advances the backoff of the nodes where p, planned for ds, starts
// deleting a failed pod (p.FailedPodBackoff), at now. ds is the DaemonSet
// as it was planned (before the status p writes).
func (b *Backoff) Observe(ds *appsv1.DaemonSet, p plan.Plan, now time.Time) {
	if ds == nil || len(p.FailedPodBackoff) == 0 {
		return
	}
	if b.m == nil {
		b.m = make(map[backoffKey]*backoffEntry)
	}
	for _, node := range p.FailedPodBackoff {
		k := key(ds, node)
		x, ok := b.m[k]
		if !ok || expired(x.at, now) {
			x = &backoffEntry{delay: BackoffInitial}
			b.m[k] = x
		} else {
			x.delay = min(2*x.delay, BackoffMax)
		}
		x.at = now
	}
}

// Delays returns the nodes in ds's backoff at now with their current
// delay, which is also the delay kube-controller-manager resyncs the
// DaemonSet after: the value of plan.Snapshot.FailedPodBackoff. nil when
// no node is in backoff.
func (b *Backoff) Delays(ds *appsv1.DaemonSet, now time.Time) map[string]time.Duration {
	if ds == nil {
		return nil
	}
	var out map[string]time.Duration
	for k, x := range b.m {
		if k.uid != ds.UID || k.generation != ds.Status.ObservedGeneration || expired(x.at, now) || now.Sub(x.at) >= x.delay {
			continue
		}
		if out == nil {
			out = make(map[string]time.Duration)
		}
		out[k.node] = x.delay
	}
	return out
}

// GC drops the entries not stamped for 2×BackoffMax at now.
func (b *Backoff) GC(now time.Time) {
	maps.DeleteFunc(b.m, func(_ backoffKey, x *backoffEntry) bool { return expired(x.at, now) })
}

// Batch is the range [From, To) of a plan's creates sent together.
type Batch struct{ From, To int }

// SlowStart returns the batches kube-controller-manager sends n creates in
// (slowStartBatch in syncNodes): 1, then twice the last size, the last
// batch cut to what is left (n = 10: 1, 2, 4, 3). The creates of a batch
// go out together; a batch with any failure ends the run, and the creates
// after it are never sent: lower the expectations by n − batch.To for
// them (the failed ones lower them too, one each). n ≤ 0 gives none.
func SlowStart(n int) []Batch {
	var out []Batch
	for from, size := 0, 1; from < n; from, size = from+size, 2*size {
		out = append(out, Batch{from, min(from+size, n)})
	}
	return out
}

// Event is one event kube-controller-manager records on a DaemonSet, as
// data: emit it with a recorder (type, reason, message) on the DaemonSet.
type Event struct {
	// Type is corev1.EventTypeNormal or corev1.EventTypeWarning.
	Type    string
	Reason  string
	Message string
}

// Event reasons, as kube-controller-manager's.
const (
	ReasonSuccessfulCreate   = "SuccessfulCreate"
	ReasonFailedCreate       = "FailedCreate"
	ReasonSuccessfulDelete   = "SuccessfulDelete"
	ReasonFailedDelete       = "FailedDelete"
	ReasonFailedDaemonPod    = "FailedDaemonPod"
	ReasonSucceededDaemonPod = "SucceededDaemonPod"
	ReasonSelectingAll       = "SelectingAll"
)

// PlanEvents returns the events a sync of ds records before its writes, in
// order: SelectingAll for a DaemonSet whose selector is empty, then, for
// each failed or succeeded pod p deletes (by pod name), FailedDaemonPod or
// SucceededDaemonPod. (Beyond the burst limit upstream records these
// events also for the pods whose deletes wait for a later sync; p holds
// only the deletes carried out.)
func PlanEvents(ds *appsv1.DaemonSet, p plan.Plan) []Event {
	if ds == nil {
		return nil
	}
	var out []Event
	if sel := ds.Spec.Selector; sel != nil && len(sel.MatchLabels) == 0 && len(sel.MatchExpressions) == 0 {
		out = append(out, Event{corev1.EventTypeWarning, ReasonSelectingAll, "This daemon set is selecting all pods. A non-empty selector is required."})
	}
	deletes := slices.Clone(p.Deletes)
	slices.SortFunc(deletes, func(a, b plan.Delete) int { return cmp.Compare(a.Pod, b.Pod) })
	for _, d := range deletes {
		switch d.Reason {
		case rollout.DeleteFailed:
			out = append(out, Event{corev1.EventTypeWarning, ReasonFailedDaemonPod,
				fmt.Sprintf("Found failed daemon pod %s/%s on node %s, will try to kill it", ds.Namespace, d.Pod, d.Node)})
		case rollout.DeleteSucceeded:
			out = append(out, Event{corev1.EventTypeNormal, ReasonSucceededDaemonPod,
				fmt.Sprintf("Found succeeded daemon pod %s/%s on node %s, will try to delete it", ds.Namespace, d.Pod, d.Node)})
		}
	}
	return out
}

// CreateEvent returns the event recorded after creating a daemon pod: name
// is the created pod's name (the API server's, from generateName) and err
// the create's error. A failure caused by the namespace being deleted
// records nothing (ok false), as upstream.
func CreateEvent(name string, err error) (e Event, ok bool) {
	switch {
	case err == nil:
		return Event{corev1.EventTypeNormal, ReasonSuccessfulCreate, "Created pod: " + name}, true
	case apierrors.HasStatusCause(err, corev1.NamespaceTerminatingCause):
		return Event{}, false
	}
	return Event{corev1.EventTypeWarning, ReasonFailedCreate, fmt.Sprintf("Error creating: %v", err)}, true
}

// DeleteEvent returns the event recorded after deleting the daemon pod
// name: none (ok false) when it was already gone (NotFound), as upstream.
func DeleteEvent(name string, err error) (e Event, ok bool) {
	switch {
	case err == nil:
		return Event{corev1.EventTypeNormal, ReasonSuccessfulDelete, "Deleted pod: " + name}, true
	case apierrors.IsNotFound(err):
		return Event{}, false
	}
	return Event{corev1.EventTypeWarning, ReasonFailedDelete, fmt.Sprintf("Error deleting: %v", err)}, true
}
