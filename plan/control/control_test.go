package control_test

import (
	"errors"
	"slices"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
	appsv1 "k8s.io/api/apps/v1"
	corev1 "k8s.io/api/core/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/runtime/schema"
	"pgregory.net/rapid"

	"github.com/dsplan/dsplan/internal/dstest"
	"github.com/dsplan/dsplan/plan"
	"github.com/dsplan/dsplan/plan/control"
	"github.com/dsplan/dsplan/revision"
	"github.com/dsplan/dsplan/rollout"
)

var t0 = time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC)

// planWith returns a plan with n creates and m deletes.
func planWith(n, m int) plan.Plan {
	var p plan.Plan
	for range n {
		p.Creates = append(p.Creates, plan.Create{Node: "n"})
	}
	for range m {
		p.Deletes = append(p.Deletes, plan.Delete{Pod: "p"})
	}
	return p
}

func TestExpectations(t *testing.T) {
	for _, tc := range []struct {
		name string
		run  func(e *control.Expectations) // at t0
		at   time.Duration                 // Satisfied is asked at t0+at
		want bool
	}{
		{name: "none", run: func(*control.Expectations) {}, want: true},
		{name: "creates pending", run: func(e *control.Expectations) { e.Expect("ns/ds", planWith(2, 0), t0) }},
		{name: "creates observed", run: func(e *control.Expectations) {
			e.Expect("ns/ds", planWith(2, 0), t0)
			e.CreationObserved("ns/ds")
			e.CreationObserved("ns/ds")
		}, want: true},
		{name: "one of two creates observed", run: func(e *control.Expectations) {
			e.Expect("ns/ds", planWith(2, 0), t0)
			e.CreationObserved("ns/ds")
		}},
		{name: "deletes pending", run: func(e *control.Expectations) { e.Expect("ns/ds", planWith(0, 1), t0) }},
		{name: "deletes observed", run: func(e *control.Expectations) {
			e.Expect("ns/ds", planWith(0, 1), t0)
			e.DeletionObserved("ns/ds")
		}, want: true},
		{name: "failed writes lowered", run: func(e *control.Expectations) {
			e.Expect("ns/ds", planWith(3, 2), t0)
			e.Lower("ns/ds", 3, 2)
		}, want: true},
		{name: "more observed than expected", run: func(e *control.Expectations) {
			e.Expect("ns/ds", planWith(1, 0), t0)
			e.CreationObserved("ns/ds")
			e.CreationObserved("ns/ds")
		}, want: true},
		{name: "expired after five minutes", run: func(e *control.Expectations) { e.Expect("ns/ds", planWith(1, 0), t0) },
			at: control.ExpectationsTimeout + time.Nanosecond, want: true},
		{name: "not yet expired at five minutes", run: func(e *control.Expectations) { e.Expect("ns/ds", planWith(1, 0), t0) },
			at: control.ExpectationsTimeout},
		{name: "a plan without writes keeps the expectations", run: func(e *control.Expectations) {
			e.Expect("ns/ds", planWith(1, 0), t0)
			e.Expect("ns/ds", plan.Plan{}, t0)
		}},
		{name: "a new plan replaces them", run: func(e *control.Expectations) {
			e.Expect("ns/ds", planWith(1, 0), t0)
			e.Expect("ns/ds", planWith(0, 1), t0)
			e.DeletionObserved("ns/ds")
		}, want: true},
		{name: "other keys are apart", run: func(e *control.Expectations) {
			e.Expect("ns/ds", planWith(1, 0), t0)
			e.CreationObserved("ns/other")
		}},
		{name: "deleted", run: func(e *control.Expectations) {
			e.Expect("ns/ds", planWith(1, 0), t0)
			e.Delete("ns/ds")
		}, want: true},
	} {
		t.Run(tc.name, func(t *testing.T) {
			var e control.Expectations
			tc.run(&e)
			if got := e.Satisfied("ns/ds", t0.Add(tc.at)); got != tc.want {
				t.Errorf("Satisfied() = %v, want %v", got, tc.want)
			}
			if got := e.Pending("ns/ds", t0.Add(tc.at)); got == tc.want {
				t.Errorf("Pending() = %v, want %v", got, !tc.want)
			}
		})
	}
}

// TestExpectationsModel checks Expectations against a plain model on
// random operations: per key, the counts expected minus observed, and the
// time they were set.
func TestExpectationsModel(t *testing.T) {
	rapid.Check(t, func(t *rapid.T) {
		var e control.Expectations
		type model struct {
			add, del int64
			at       time.Time
		}
		m := map[string]*model{}
		now := t0
		keys := rapid.SampledFrom([]string{"a/x", "a/y"})
		for range rapid.IntRange(0, 30).Draw(t, "steps") {
			k := keys.Draw(t, "key")
			switch rapid.IntRange(0, 5).Draw(t, "op") {
			case 0:
				c, d := rapid.IntRange(0, 3).Draw(t, "creates"), rapid.IntRange(0, 3).Draw(t, "deletes")
				e.Expect(k, planWith(c, d), now)
				if c+d > 0 {
					m[k] = &model{int64(c), int64(d), now}
				}
			case 1:
				e.CreationObserved(k)
				if x := m[k]; x != nil {
					x.add--
				}
			case 2:
				e.DeletionObserved(k)
				if x := m[k]; x != nil {
					x.del--
				}
			case 3:
				now = now.Add(time.Duration(rapid.IntRange(0, 200).Draw(t, "seconds")) * time.Second)
			case 4:
				e.Delete(k)
				delete(m, k)
			case 5:
				a, d := rapid.IntRange(0, 2).Draw(t, "lowerAdd"), rapid.IntRange(0, 2).Draw(t, "lowerDel")
				e.Lower(k, a, d)
				if x := m[k]; x != nil {
					x.add -= int64(a)
					x.del -= int64(d)
				}
			}
			for _, key := range []string{"a/x", "a/y"} {
				x := m[key]
				want := x == nil || x.add <= 0 && x.del <= 0 || now.Sub(x.at) > 5*time.Minute
				if got := e.Satisfied(key, now); got != want {
					t.Fatalf("Satisfied(%s) = %v, want %v (model %+v)", key, got, want, x)
				}
			}
		}
	})
}

func daemonSet() *appsv1.DaemonSet {
	return &appsv1.DaemonSet{ObjectMeta: metav1.ObjectMeta{Name: "agent", Namespace: "ns", UID: "uid-1"},
		Status: appsv1.DaemonSetStatus{ObservedGeneration: 3}}
}

func failedOn(nodes ...string) plan.Plan { return plan.Plan{FailedPodBackoff: nodes} }

func TestBackoff(t *testing.T) {
	ds := daemonSet()
	var b control.Backoff
	if got := b.Delays(ds, t0); got != nil {
		t.Fatalf("zero Backoff: %v", got)
	}
	// 1s, doubling while each failed pod is deleted as soon as allowed.
	now := t0
	for _, want := range []time.Duration{time.Second, 2 * time.Second, 4 * time.Second, 8 * time.Second} {
		b.Observe(ds, failedOn("n1"), now)
		if got := b.Delays(ds, now)["n1"]; got != want {
			t.Fatalf("after Observe at %v: delay %v, want %v", now.Sub(t0), got, want)
		}
		if got := b.Delays(ds, now.Add(want-time.Nanosecond))["n1"]; got != want {
			t.Fatalf("just before the delay ends: %v, want still %v", got, want)
		}
		if got, ok := b.Delays(ds, now.Add(want))["n1"]; ok {
			t.Fatalf("once the delay has passed: still in backoff (%v)", got)
		}
		now = now.Add(want)
	}
	// Other nodes, DaemonSets and generations are apart.
	if got := b.Delays(ds, now.Add(-time.Second)); !cmp.Equal(got, map[string]time.Duration{"n1": 8 * time.Second}) {
		t.Errorf("Delays = %v, want only n1", got)
	}
	other := daemonSet()
	other.UID = "uid-2"
	newer := daemonSet()
	newer.Status.ObservedGeneration = 4
	for _, d := range []*appsv1.DaemonSet{other, newer} {
		if got := b.Delays(d, now.Add(-time.Second)); got != nil {
			t.Errorf("Delays(%s gen %d) = %v, want none", d.UID, d.Status.ObservedGeneration, got)
		}
	}
}

func TestBackoffCapAndReset(t *testing.T) {
	ds := daemonSet()
	var b control.Backoff
	now := t0
	for range 20 {
		b.Observe(ds, failedOn("n1"), now)
		now = now.Add(time.Minute)
	}
	if got := b.Delays(ds, now.Add(-time.Minute))["n1"]; got != control.BackoffMax {
		t.Errorf("after 20 failures: %v, want the 15m cap", got)
	}
	// Unstamped for more than 2×15m: starts afresh, and GC drops it.
	later := now.Add(2*control.BackoffMax + time.Second)
	b.GC(later)
	b.Observe(ds, failedOn("n1"), later)
	if got := b.Delays(ds, later)["n1"]; got != control.BackoffInitial {
		t.Errorf("after 30m without a failure: %v, want 1s", got)
	}
}

// TestBackoffFeedsPlan: a node in backoff keeps its failed pod, and the plan
// resyncs after the delay.
func TestBackoffFeedsPlan(t *testing.T) {
	ds := dstest.DaemonSet("agent")
	hash := revision.Hash(&ds.Spec.Template, nil)
	s := plan.Snapshot{DaemonSet: ds, Nodes: dstest.Nodes(1), Now: dstest.Epoch, Pods: []*corev1.Pod{
		dstest.Pod(ds, "a", "node-0000", hash, dstest.Phase(corev1.PodFailed)),
		dstest.Pod(ds, "b", "node-0000", hash, dstest.Phase(corev1.PodFailed), dstest.Created(dstest.Epoch.Add(time.Minute))),
	}}
	var b control.Backoff
	p := plan.New(s, plan.Options{})
	if len(p.Deletes) != 1 || p.Deletes[0].Reason != rollout.DeleteFailed || !slices.Equal(p.FailedPodBackoff, []string{"node-0000"}) {
		t.Fatalf("first plan: deletes %v, backoff nodes %v; want one failed pod deleted on node-0000", p.Deletes, p.FailedPodBackoff)
	}
	b.Observe(ds, p, s.Now)
	s.Pods = s.Pods[1:] // the delete was carried out
	s.Now = s.Now.Add(500 * time.Millisecond)
	s.FailedPodBackoff = b.Delays(ds, s.Now)
	p = plan.New(s, plan.Options{})
	if len(p.Deletes) != 0 || p.RequeueAfter != time.Second {
		t.Errorf("in backoff: deletes %v, requeue %v; want none and 1s", p.Deletes, p.RequeueAfter)
	}
	s.Now = s.Now.Add(time.Second)
	s.FailedPodBackoff = b.Delays(ds, s.Now)
	if p = plan.New(s, plan.Options{}); len(p.Deletes) != 1 {
		t.Errorf("after the backoff: deletes %v, want the second failed pod", p.Deletes)
	}
}

func TestSlowStart(t *testing.T) {
	for _, tc := range []struct {
		n    int
		want []control.Batch
	}{
		{n: 0},
		{n: -3},
		{n: 1, want: []control.Batch{{0, 1}}},
		{n: 3, want: []control.Batch{{0, 1}, {1, 3}}},
		{n: 10, want: []control.Batch{{0, 1}, {1, 3}, {3, 7}, {7, 10}}},
		{n: 250, want: []control.Batch{{0, 1}, {1, 3}, {3, 7}, {7, 15}, {15, 31}, {31, 63}, {63, 127}, {127, 250}}},
	} {
		if diff := cmp.Diff(tc.want, control.SlowStart(tc.n)); diff != "" {
			t.Errorf("SlowStart(%d) (-want +got):\n%s", tc.n, diff)
		}
	}
}

// TestSlowStartCovers: the batches cover [0, n) in order, each at most
// twice the one before it.
func TestSlowStartCovers(t *testing.T) {
	rapid.Check(t, func(t *rapid.T) {
		n := rapid.IntRange(0, 5000).Draw(t, "n")
		next, last := 0, 0
		for i, b := range control.SlowStart(n) {
			size := b.To - b.From
			if b.From != next || size <= 0 || i > 0 && size > 2*last {
				t.Fatalf("batch %d = %+v after %d (size %d)", i, b, next, last)
			}
			next, last = b.To, size
		}
		if next != max(n, 0) {
			t.Fatalf("batches end at %d, want %d", next, n)
		}
	})
}

func TestEvents(t *testing.T) {
	ds := daemonSet()
	p := plan.Plan{Deletes: []plan.Delete{
		{Pod: "b", Node: "n2", Reason: rollout.DeleteSucceeded},
		{Pod: "a", Node: "n1", Reason: rollout.DeleteFailed},
		{Pod: "c", Node: "n3", Reason: rollout.DeleteReplace},
	}}
	want := []control.Event{
		{Type: "Warning", Reason: "FailedDaemonPod", Message: "Found failed daemon pod ns/a on node n1, will try to kill it"},
		{Type: "Normal", Reason: "SucceededDaemonPod", Message: "Found succeeded daemon pod ns/b on node n2, will try to delete it"},
	}
	if diff := cmp.Diff(want, control.PlanEvents(ds, p)); diff != "" {
		t.Errorf("PlanEvents (-want +got):\n%s", diff)
	}
	all := daemonSet()
	all.Spec.Selector = &metav1.LabelSelector{}
	if got := control.PlanEvents(all, plan.Plan{}); len(got) != 1 || got[0].Reason != control.ReasonSelectingAll {
		t.Errorf("PlanEvents(selects all) = %v", got)
	}

	gr := schema.GroupResource{Resource: "pods"}
	for _, tc := range []struct {
		name   string
		event  func() (control.Event, bool)
		want   control.Event
		wantOK bool
	}{
		{name: "created", event: func() (control.Event, bool) { return control.CreateEvent("agent-x7", nil) },
			want: control.Event{Type: "Normal", Reason: "SuccessfulCreate", Message: "Created pod: agent-x7"}, wantOK: true},
		{name: "create failed", event: func() (control.Event, bool) { return control.CreateEvent("", errors.New("quota exceeded")) },
			want: control.Event{Type: "Warning", Reason: "FailedCreate", Message: "Error creating: quota exceeded"}, wantOK: true},
		{name: "namespace terminating", event: func() (control.Event, bool) {
			err := apierrors.NewForbidden(gr, "", errors.New("terminating"))
			err.ErrStatus.Details.Causes = []metav1.StatusCause{{Type: corev1.NamespaceTerminatingCause}}
			return control.CreateEvent("", err)
		}},
		{name: "deleted", event: func() (control.Event, bool) { return control.DeleteEvent("agent-x7", nil) },
			want: control.Event{Type: "Normal", Reason: "SuccessfulDelete", Message: "Deleted pod: agent-x7"}, wantOK: true},
		{name: "already gone", event: func() (control.Event, bool) {
			return control.DeleteEvent("agent-x7", apierrors.NewNotFound(gr, "agent-x7"))
		}},
		{name: "delete failed", event: func() (control.Event, bool) { return control.DeleteEvent("agent-x7", errors.New("timeout")) },
			want: control.Event{Type: "Warning", Reason: "FailedDelete", Message: "Error deleting: timeout"}, wantOK: true},
	} {
		t.Run(tc.name, func(t *testing.T) {
			got, ok := tc.event()
			if ok != tc.wantOK || got != tc.want {
				t.Errorf("event = %+v, %v; want %+v, %v", got, ok, tc.want, tc.wantOK)
			}
		})
	}
}
