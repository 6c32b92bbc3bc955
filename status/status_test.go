package status_test

import (
	"errors"
	"fmt"
	"strings"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
	appsv1 "k8s.io/api/apps/v1"
	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/utils/ptr"

	"github.com/dsplan/dsplan/placement"
	"github.com/dsplan/dsplan/status"
)

// now is the clock of every test, the oracle's default.
var now = time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC)

const (
	hashNew = "new5c6f8"
	hashOld = "old7d9b4"
)

// podOpt modifies a test pod.
type podOpt func(*corev1.Pod)

// newPod returns a scheduled, running, unready pod created at now−1h.
func newPod(name string, opts ...podOpt) *corev1.Pod {
	p := &corev1.Pod{
		ObjectMeta: metav1.ObjectMeta{
			Name:              name,
			Namespace:         "default",
			CreationTimestamp: metav1.NewTime(now.Add(-time.Hour)),
			Labels:            map[string]string{},
		},
		Spec:   corev1.PodSpec{NodeName: "n"},
		Status: corev1.PodStatus{Phase: corev1.PodRunning},
	}
	for _, o := range opts {
		o(p)
	}
	return p
}

// readySince makes the pod Ready since t.
func readySince(t time.Time) podOpt {
	return func(p *corev1.Pod) {
		p.Status.Conditions = append(p.Status.Conditions, corev1.PodCondition{
			Type: corev1.PodReady, Status: corev1.ConditionTrue, LastTransitionTime: metav1.NewTime(t),
		})
	}
}

// ready makes the pod Ready since now−1h.
var ready = readySince(now.Add(-time.Hour))

// withHash sets the controller-revision-hash label.
func withHash(h string) podOpt {
	return func(p *corev1.Pod) { p.Labels[appsv1.DefaultDaemonSetUniqueLabelKey] = h }
}

// withGeneration sets the deprecated pod-template-generation label.
func withGeneration(g string) podOpt {
	return func(p *corev1.Pod) { p.Labels["pod-template-generation"] = g }
}

// deleted marks the pod as being deleted.
func deleted(p *corev1.Pod) { p.DeletionTimestamp = ptr.To(metav1.NewTime(now.Add(-time.Minute))) }

// created sets the creation time.
func created(t time.Time) podOpt {
	return func(p *corev1.Pod) { p.CreationTimestamp = metav1.NewTime(t) }
}

// phase sets the pod phase.
func phase(ph corev1.PodPhase) podOpt { return func(p *corev1.Pod) { p.Status.Phase = ph } }

// testNode is a node with the DaemonSet's pods.
type testNode struct {
	name      string
	shouldRun bool
	gone      bool // the node does not exist
	pods      []*corev1.Pod
}

// node returns an existing node with the given pods; a node that should not
// run the DaemonSet has an untolerated NoSchedule taint.
func node(name string, shouldRun bool, pods ...*corev1.Pod) testNode {
	return testNode{name: name, shouldRun: shouldRun, pods: pods}
}

// group groups the nodes' pods for ds at hash: each pod is bound to its
// node, controlled by ds and matches its selector.
func group(ds *appsv1.DaemonSet, hash string, nodes []testNode) *placement.Grouping {
	if ds == nil {
		return nil
	}
	var ns []*corev1.Node
	var pods []*corev1.Pod
	for _, n := range nodes {
		node := &corev1.Node{ObjectMeta: metav1.ObjectMeta{Name: n.name}}
		if !n.shouldRun {
			node.Spec.Taints = []corev1.Taint{{Key: "dedicated", Effect: corev1.TaintEffectNoSchedule}}
		}
		if !n.gone {
			ns = append(ns, node)
		}
		for _, pod := range n.pods {
			if pod != nil {
				pod = pod.DeepCopy()
				pod.Spec.NodeName = n.name
				pod.Labels["app"] = "fluentd"
				pod.OwnerReferences = []metav1.OwnerReference{*metav1.NewControllerRef(ds, placement.ControllerKind)}
			}
			pods = append(pods, pod)
		}
	}
	g, err := placement.Group(placement.GroupInput{Evaluator: placement.New(ds, placement.Options{}), Hash: hash, Now: now, Nodes: ns, Pods: pods})
	if err != nil {
		panic(err)
	}
	return g
}

// dsOpt modifies a test DaemonSet.
type dsOpt func(*appsv1.DaemonSet)

// newDS returns a RollingUpdate DaemonSet at generation 2 whose status was
// last written for generation 1 with all counters zero.
func newDS(opts ...dsOpt) *appsv1.DaemonSet {
	ds := &appsv1.DaemonSet{
		ObjectMeta: metav1.ObjectMeta{Name: "fluentd", Namespace: "default", UID: "uid-fluentd", Generation: 2},
		Spec: appsv1.DaemonSetSpec{
			Selector:       &metav1.LabelSelector{MatchLabels: map[string]string{"app": "fluentd"}},
			UpdateStrategy: appsv1.DaemonSetUpdateStrategy{Type: appsv1.RollingUpdateDaemonSetStrategyType},
		},
		Status: appsv1.DaemonSetStatus{ObservedGeneration: 1},
	}
	for _, o := range opts {
		o(ds)
	}
	return ds
}

func minReady(s int32) dsOpt { return func(ds *appsv1.DaemonSet) { ds.Spec.MinReadySeconds = s } }

func templateGeneration(v string) dsOpt {
	return func(ds *appsv1.DaemonSet) {
		ds.Annotations = map[string]string{appsv1.DeprecatedTemplateGeneration: v}
	}
}

func withStatus(st appsv1.DaemonSetStatus) dsOpt {
	return func(ds *appsv1.DaemonSet) { ds.Status = st }
}

// counts builds the expected status from the seven counters (desired,
// current, misscheduled, ready, updated, available; unavailable derived)
// and observedGeneration.
func counts(desired, current, misscheduled, ready, updated, available int32, observed int64) appsv1.DaemonSetStatus {
	return appsv1.DaemonSetStatus{
		DesiredNumberScheduled: desired,
		CurrentNumberScheduled: current,
		NumberMisscheduled:     misscheduled,
		NumberReady:            ready,
		UpdatedNumberScheduled: updated,
		NumberAvailable:        available,
		NumberUnavailable:      desired - available,
		ObservedGeneration:     observed,
	}
}

func TestCompute(t *testing.T) {
	conditions := []appsv1.DaemonSetCondition{{Type: "Example", Status: corev1.ConditionTrue, Reason: "Kept"}}
	tests := []struct {
		name  string
		ds    *appsv1.DaemonSet
		hash  string
		nodes []testNode
		opts  status.Options
		want  appsv1.DaemonSetStatus
	}{
		{
			name: "no nodes",
			ds:   newDS(),
			want: counts(0, 0, 0, 0, 0, 0, 2),
		},
		{
			name:  "desired node without pod",
			ds:    newDS(),
			nodes: []testNode{node("a", true)},
			want:  counts(1, 0, 0, 0, 0, 0, 2),
		},
		{
			name:  "ready updated pod",
			ds:    newDS(),
			hash:  hashNew,
			nodes: []testNode{node("a", true, newPod("p", ready, withHash(hashNew)))},
			want:  counts(1, 1, 0, 1, 1, 1, 2),
		},
		{
			name: "misscheduled pod",
			ds:   newDS(),
			hash: hashNew,
			nodes: []testNode{
				node("a", false, newPod("p", ready, withHash(hashNew))),
				node("b", false),
			},
			want: counts(0, 0, 1, 0, 0, 0, 2),
		},
		{
			name: "misscheduled counts once per node",
			ds:   newDS(),
			nodes: []testNode{
				node("a", false, newPod("p1", ready), newPod("p2", ready)),
			},
			want: counts(0, 0, 1, 0, 0, 0, 2),
		},
		{
			name: "oldest unready pod makes the node unready",
			ds:   newDS(),
			hash: hashNew,
			nodes: []testNode{node("a", true,
				newPod("old", withHash(hashOld), created(now.Add(-2*time.Hour))),
				newPod("new", ready, withHash(hashNew)))},
			want: counts(1, 1, 0, 0, 0, 0, 2),
		},
		{
			name: "oldest ready old pod is ready but not updated",
			ds:   newDS(),
			hash: hashNew,
			nodes: []testNode{node("a", true,
				newPod("old", ready, withHash(hashOld), created(now.Add(-2*time.Hour))),
				newPod("new", withHash(hashNew)))},
			want: counts(1, 1, 0, 1, 0, 1, 2),
		},
		{
			name:  "updated via template generation",
			ds:    newDS(templateGeneration("3")),
			hash:  hashNew,
			nodes: []testNode{node("a", true, newPod("p", withHash(hashOld), withGeneration("3")))},
			want:  counts(1, 1, 0, 0, 1, 0, 2),
		},
		{
			name:  "template generation compared as decimal text",
			ds:    newDS(templateGeneration("3")),
			hash:  hashNew,
			nodes: []testNode{node("a", true, newPod("p", withHash(hashOld), withGeneration("03")))},
			want:  counts(1, 1, 0, 0, 0, 0, 2),
		},
		{
			name:  "large template generation",
			ds:    newDS(templateGeneration("123456789012")),
			nodes: []testNode{node("a", true, newPod("p", withGeneration("123456789012")))},
			want:  counts(1, 1, 0, 0, 1, 0, 2),
		},
		{
			name:  "unparsable template generation counts as absent",
			ds:    newDS(templateGeneration("three")),
			hash:  hashNew,
			nodes: []testNode{node("a", true, newPod("p", withHash(hashOld), withGeneration("three")))},
			want:  counts(1, 1, 0, 0, 0, 0, 2),
		},
		{
			name:  "unparsable template generation still matches by hash",
			ds:    newDS(templateGeneration("three")),
			hash:  hashNew,
			nodes: []testNode{node("a", true, newPod("p", withHash(hashNew)))},
			want:  counts(1, 1, 0, 0, 1, 0, 2),
		},
		{
			name:  "empty hash matches nothing",
			ds:    newDS(),
			hash:  "",
			nodes: []testNode{node("a", true, newPod("p", withHash("")))},
			want:  counts(1, 1, 0, 0, 0, 0, 2),
		},
		{
			name:  "minReadySeconds elapsed exactly",
			ds:    newDS(minReady(30)),
			nodes: []testNode{node("a", true, newPod("p", readySince(now.Add(-30*time.Second))))},
			want:  counts(1, 1, 0, 1, 0, 1, 2),
		},
		{
			name:  "minReadySeconds not yet elapsed",
			ds:    newDS(minReady(30)),
			nodes: []testNode{node("a", true, newPod("p", readySince(now.Add(-30*time.Second+time.Nanosecond))))},
			want:  counts(1, 1, 0, 1, 0, 0, 2),
		},
		{
			name:  "minReadySeconds without transition time",
			ds:    newDS(minReady(30)),
			nodes: []testNode{node("a", true, newPod("p", readySince(time.Time{})))},
			want:  counts(1, 1, 0, 1, 0, 0, 2),
		},
		{
			name:  "minReadySeconds zero ready is available",
			ds:    newDS(),
			nodes: []testNode{node("a", true, newPod("p", readySince(now)))},
			want:  counts(1, 1, 0, 1, 0, 1, 2),
		},
		{
			name: "vanished node ignored",
			ds:   newDS(),
			nodes: []testNode{
				{name: "gone", gone: true, pods: []*corev1.Pod{newPod("p", ready)}},
				{name: "gone2", gone: true, shouldRun: true, pods: []*corev1.Pod{newPod("q", ready)}},
			},
			want: counts(0, 0, 0, 0, 0, 0, 2),
		},
		{
			name: "terminal pod being deleted skipped",
			ds:   newDS(),
			nodes: []testNode{
				node("a", true, newPod("failed", ready, phase(corev1.PodFailed), deleted), newPod("p")),
				node("b", true, newPod("done", ready, phase(corev1.PodSucceeded), deleted)),
				node("c", false, newPod("done2", phase(corev1.PodSucceeded), deleted)),
			},
			want: counts(2, 1, 0, 0, 0, 0, 2),
		},
		{
			name: "terminal pod not deleted counts",
			ds:   newDS(),
			nodes: []testNode{
				node("a", true, newPod("failed", ready, phase(corev1.PodFailed)), newPod("p")),
			},
			want: counts(1, 1, 0, 1, 0, 1, 2),
		},
		{
			name: "running pod being deleted counts",
			ds:   newDS(),
			nodes: []testNode{
				node("a", true, newPod("p", ready, deleted)),
			},
			want: counts(1, 1, 0, 1, 0, 1, 2),
		},
		{
			name:  "nil pods skipped",
			ds:    newDS(),
			nodes: []testNode{node("a", true, nil, newPod("p", ready)), node("b", false, nil)},
			want:  counts(1, 1, 0, 1, 0, 1, 2),
		},
		{
			name: "status only keeps observedGeneration",
			ds:   newDS(),
			opts: status.Options{StatusOnly: true},
			nodes: []testNode{
				node("a", true, newPod("p", ready)),
			},
			want: counts(1, 1, 0, 1, 0, 1, 1),
		},
		{
			name: "status only with unchanged counters",
			ds:   newDS(withStatus(counts(1, 1, 0, 1, 0, 1, 1))),
			opts: status.Options{StatusOnly: true},
			nodes: []testNode{
				node("a", true, newPod("p", ready)),
			},
			want: counts(1, 1, 0, 1, 0, 1, 1),
		},
		{
			name: "full sync raises observedGeneration with unchanged counters",
			ds:   newDS(withStatus(counts(1, 1, 0, 1, 0, 1, 1))),
			nodes: []testNode{
				node("a", true, newPod("p", ready)),
			},
			want: counts(1, 1, 0, 1, 0, 1, 2),
		},
		{
			name: "no write keeps a newer observedGeneration",
			ds:   newDS(withStatus(counts(1, 1, 0, 1, 0, 1, 7))),
			nodes: []testNode{
				node("a", true, newPod("p", ready)),
			},
			want: counts(1, 1, 0, 1, 0, 1, 7),
		},
		{
			name: "write lowers a newer observedGeneration",
			ds:   newDS(withStatus(counts(1, 1, 0, 1, 0, 1, 7))),
			nodes: []testNode{
				node("a", true, newPod("p")),
			},
			want: counts(1, 1, 0, 0, 0, 0, 2),
		},
		{
			name: "collisionCount and conditions kept",
			ds: newDS(withStatus(appsv1.DaemonSetStatus{
				ObservedGeneration: 1, CollisionCount: ptr.To[int32](3), Conditions: conditions,
			})),
			nodes: []testNode{node("a", true)},
			want: appsv1.DaemonSetStatus{
				ObservedGeneration: 2, DesiredNumberScheduled: 1, NumberUnavailable: 1,
				CollisionCount: ptr.To[int32](3), Conditions: conditions,
			},
		},
		{
			name: "stale counters overwritten",
			ds:   newDS(withStatus(counts(5, 5, 5, 5, 5, 5, 2))),
			nodes: []testNode{
				node("a", true, newPod("p", ready)),
			},
			want: counts(1, 1, 0, 1, 0, 1, 2),
		},
		{
			name: "mixed",
			ds:   newDS(minReady(10), templateGeneration("4")),
			hash: hashNew,
			nodes: []testNode{
				node("a", true, newPod("a1", ready, withHash(hashNew))),
				node("b", true, newPod("b1", readySince(now.Add(-5*time.Second)), withHash(hashNew))),
				node("c", true, newPod("c1", withGeneration("4"))),
				node("d", true),
				node("e", false, newPod("e1", ready)),
				node("f", true, newPod("f1", ready, withHash(hashOld)), newPod("f2", withHash(hashNew))),
			},
			want: counts(5, 4, 1, 3, 3, 2, 2),
		},
		{
			name: "nil DaemonSet",
			ds:   nil,
			want: appsv1.DaemonSetStatus{},
		},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			got := status.Compute(tc.ds, group(tc.ds, tc.hash, tc.nodes), tc.opts).Status
			if diff := cmp.Diff(tc.want, got); diff != "" {
				t.Errorf("Compute() mismatch (-want +got):\n%s", diff)
			}
		})
	}
}

func TestComputeNoWriteReturnsInputStatus(t *testing.T) {
	// The result of a skipped write is ds.Status itself, the shared
	// Conditions included.
	conds := []appsv1.DaemonSetCondition{{Type: "X"}}
	st := counts(1, 1, 0, 0, 0, 0, 2)
	st.Conditions = conds
	ds := newDS(withStatus(st))
	r := status.Compute(ds, group(ds, "", []testNode{node("a", true, newPod("p"))}), status.Options{})
	got := r.Status
	if r.Changed || status.NeedsUpdate(ds, got) {
		t.Errorf("Compute().Changed = %v, NeedsUpdate(ds, Compute()) = %v; want false", r.Changed, status.NeedsUpdate(ds, got))
	}
	if &got.Conditions[0] != &conds[0] {
		t.Errorf("Compute() copied Conditions, want them shared with ds.Status")
	}
}

func TestNeedsUpdate(t *testing.T) {
	base := counts(3, 3, 1, 2, 2, 1, 2)
	tests := []struct {
		name string
		ds   *appsv1.DaemonSet
		st   appsv1.DaemonSetStatus
		want bool
	}{
		{name: "all equal", ds: newDS(withStatus(base)), st: base, want: false},
		{name: "observed newer than generation", ds: newDS(withStatus(counts(3, 3, 1, 2, 2, 1, 9))), st: base, want: false},
		{name: "observed behind generation", ds: newDS(withStatus(counts(3, 3, 1, 2, 2, 1, 1))), st: base, want: true},
		{name: "observed behind even if st keeps it", ds: newDS(withStatus(counts(3, 3, 1, 2, 2, 1, 1))), st: counts(3, 3, 1, 2, 2, 1, 1), want: true},
		{name: "desired", ds: newDS(withStatus(base)), st: with(base, func(s *appsv1.DaemonSetStatus) { s.DesiredNumberScheduled++ }), want: true},
		{name: "current", ds: newDS(withStatus(base)), st: with(base, func(s *appsv1.DaemonSetStatus) { s.CurrentNumberScheduled++ }), want: true},
		{name: "misscheduled", ds: newDS(withStatus(base)), st: with(base, func(s *appsv1.DaemonSetStatus) { s.NumberMisscheduled++ }), want: true},
		{name: "ready", ds: newDS(withStatus(base)), st: with(base, func(s *appsv1.DaemonSetStatus) { s.NumberReady++ }), want: true},
		{name: "updated", ds: newDS(withStatus(base)), st: with(base, func(s *appsv1.DaemonSetStatus) { s.UpdatedNumberScheduled++ }), want: true},
		{name: "available", ds: newDS(withStatus(base)), st: with(base, func(s *appsv1.DaemonSetStatus) { s.NumberAvailable++ }), want: true},
		{name: "unavailable", ds: newDS(withStatus(base)), st: with(base, func(s *appsv1.DaemonSetStatus) { s.NumberUnavailable++ }), want: true},
		{name: "other fields ignored", ds: newDS(withStatus(base)), st: with(base, func(s *appsv1.DaemonSetStatus) {
			s.CollisionCount = ptr.To[int32](1)
			s.ObservedGeneration = 100
			s.Conditions = []appsv1.DaemonSetCondition{{Type: "X"}}
		}), want: false},
		{name: "nil DaemonSet", ds: nil, st: base, want: false},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			if got := status.NeedsUpdate(tc.ds, tc.st); got != tc.want {
				t.Errorf("NeedsUpdate() = %v, want %v", got, tc.want)
			}
		})
	}
}

// with returns a modified copy of st.
func with(st appsv1.DaemonSetStatus, f func(*appsv1.DaemonSetStatus)) appsv1.DaemonSetStatus {
	f(&st)
	return st
}

func TestRequeueAfter(t *testing.T) {
	tests := []struct {
		name string
		ds   *appsv1.DaemonSet
		st   appsv1.DaemonSetStatus
		want time.Duration
	}{
		{name: "minReadySeconds zero", ds: newDS(), st: counts(2, 2, 0, 2, 2, 0, 2), want: 0},
		{name: "negative minReadySeconds", ds: newDS(minReady(-5)), st: counts(2, 2, 0, 2, 2, 0, 2), want: 0},
		{name: "all ready available", ds: newDS(minReady(10)), st: counts(2, 2, 0, 2, 2, 2, 2), want: 0},
		{name: "nothing ready", ds: newDS(minReady(10)), st: counts(2, 2, 0, 0, 2, 0, 2), want: 0},
		{name: "ready not yet available", ds: newDS(minReady(10)), st: counts(2, 2, 0, 2, 2, 1, 2), want: 10 * time.Second},
		{name: "nil DaemonSet", ds: nil, st: counts(2, 2, 0, 2, 2, 1, 2), want: 0},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			if got := status.RequeueAfter(tc.ds, tc.st); got != tc.want {
				t.Errorf("RequeueAfter() = %v, want %v", got, tc.want)
			}
		})
	}
}

func TestComputeRequeue(t *testing.T) {
	// A pod ready 5s ago with minReadySeconds 10 is ready, not available:
	// the controller looks again after 10s.
	ds := newDS(minReady(10))
	r := status.Compute(ds, group(ds, "", []testNode{node("a", true, newPod("p", readySince(now.Add(-5*time.Second))))}), status.Options{})
	if got, want := r.RequeueAfter, 10*time.Second; got != want {
		t.Errorf("Compute().RequeueAfter = %v, want %v", got, want)
	}
}

func TestComputeAllocs(t *testing.T) {
	ds := newDS(minReady(5), templateGeneration("1234"))
	g := group(ds, hashNew, benchNodes(100))
	allocs := testing.AllocsPerRun(50, func() {
		status.Compute(ds, g, status.Options{})
	})
	if allocs != 0 {
		t.Errorf("Compute() allocates %v times per call, want 0", allocs)
	}
}

func TestRollout(t *testing.T) {
	tests := []struct {
		name string
		ds   *appsv1.DaemonSet
		want status.RolloutStatus
	}{
		{
			name: "spec update not observed",
			ds:   newDS(withStatus(counts(3, 3, 0, 3, 3, 3, 1))),
			want: status.RolloutStatus{Message: "Waiting for daemon set spec update to be observed...\n"},
		},
		{
			name: "pods not updated",
			ds:   newDS(withStatus(counts(3, 3, 0, 3, 1, 3, 2))),
			want: status.RolloutStatus{Message: "Waiting for daemon set \"fluentd\" rollout to finish: 1 out of 3 new pods have been updated...\n"},
		},
		{
			name: "updated pods not available",
			ds:   newDS(withStatus(counts(3, 3, 0, 3, 3, 2, 2))),
			want: status.RolloutStatus{Message: "Waiting for daemon set \"fluentd\" rollout to finish: 2 of 3 updated pods are available...\n"},
		},
		{
			name: "rolled out",
			ds:   newDS(withStatus(counts(3, 3, 0, 3, 3, 3, 2))),
			want: status.RolloutStatus{Done: true, Message: "daemon set \"fluentd\" successfully rolled out\n"},
		},
		{
			name: "rolled out with observedGeneration ahead",
			ds:   newDS(withStatus(counts(3, 3, 0, 3, 3, 3, 5))),
			want: status.RolloutStatus{Done: true, Message: "daemon set \"fluentd\" successfully rolled out\n"},
		},
		{
			name: "rolled out on no nodes",
			ds:   newDS(withStatus(counts(0, 0, 0, 0, 0, 0, 2))),
			want: status.RolloutStatus{Done: true, Message: "daemon set \"fluentd\" successfully rolled out\n"},
		},
		{
			name: "more updated than desired",
			ds:   newDS(withStatus(counts(2, 3, 1, 3, 3, 3, 2))),
			want: status.RolloutStatus{Done: true, Message: "daemon set \"fluentd\" successfully rolled out\n"},
		},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			got, err := status.Rollout(tc.ds)
			if err != nil {
				t.Fatalf("Rollout() error = %v, want nil", err)
			}
			if diff := cmp.Diff(tc.want, got); diff != "" {
				t.Errorf("Rollout() mismatch (-want +got):\n%s", diff)
			}
		})
	}
}

func TestRolloutError(t *testing.T) {
	tests := []struct {
		name    string
		ds      *appsv1.DaemonSet
		wantErr error
	}{
		{
			name:    "OnDelete",
			ds:      newDS(func(ds *appsv1.DaemonSet) { ds.Spec.UpdateStrategy.Type = appsv1.OnDeleteDaemonSetStrategyType }),
			wantErr: status.ErrNotRollingUpdate,
		},
		{
			name:    "empty strategy",
			ds:      newDS(func(ds *appsv1.DaemonSet) { ds.Spec.UpdateStrategy.Type = "" }),
			wantErr: status.ErrNotRollingUpdate,
		},
		{
			name: "nil DaemonSet",
			ds:   nil,
		},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			got, err := status.Rollout(tc.ds)
			if err == nil {
				t.Fatalf("Rollout() error = nil, want an error")
			}
			if tc.wantErr != nil && !errors.Is(err, tc.wantErr) {
				t.Errorf("Rollout() error = %v, want %v", err, tc.wantErr)
			}
			if got != (status.RolloutStatus{}) {
				t.Errorf("Rollout() = %+v on error, want the zero RolloutStatus", got)
			}
		})
	}
	if got, want := status.ErrNotRollingUpdate.Error(), "rollout status is only available for RollingUpdate strategy type"; got != want {
		t.Errorf("ErrNotRollingUpdate = %q, want kubectl's %q", got, want)
	}
}

func TestRow(t *testing.T) {
	created := func(d time.Duration) dsOpt {
		return func(ds *appsv1.DaemonSet) { ds.CreationTimestamp = metav1.NewTime(now.Add(-d)) }
	}
	selector := func(m map[string]string) dsOpt {
		return func(ds *appsv1.DaemonSet) { ds.Spec.Template.Spec.NodeSelector = m }
	}
	tests := []struct {
		name string
		ds   *appsv1.DaemonSet
		want []string
	}{
		{
			name: "counters",
			ds:   newDS(withStatus(counts(5, 4, 1, 3, 2, 1, 2)), created(90*time.Second)),
			want: []string{"fluentd", "5", "4", "3", "2", "1", "<none>", "90s"},
		},
		{
			name: "node selector sorted",
			ds:   newDS(selector(map[string]string{"zone": "a", "kubernetes.io/os": "linux"}), created(3*time.Hour)),
			want: []string{"fluentd", "0", "0", "0", "0", "0", "kubernetes.io/os=linux,zone=a", "3h"},
		},
		{
			name: "empty node selector",
			ds:   newDS(selector(map[string]string{}), created(50*time.Hour)),
			want: []string{"fluentd", "0", "0", "0", "0", "0", "<none>", "2d2h"},
		},
		{
			name: "unknown age",
			ds:   newDS(),
			want: []string{"fluentd", "0", "0", "0", "0", "0", "<none>", "<unknown>"},
		},
		{
			name: "created in the future",
			ds:   newDS(created(-time.Minute)),
			want: []string{"fluentd", "0", "0", "0", "0", "0", "<none>", "<invalid>"},
		},
		{
			name: "minutes and seconds",
			ds:   newDS(created(5*time.Minute + 7*time.Second)),
			want: []string{"fluentd", "0", "0", "0", "0", "0", "<none>", "5m7s"},
		},
		{
			name: "control characters",
			ds: newDS(func(ds *appsv1.DaemonSet) { ds.Name = "a\x1bb" },
				selector(map[string]string{"k": "v\nrest"}), created(400*24*time.Hour)),
			want: []string{"a^[b", "0", "0", "0", "0", "0", "k=v...", "400d"},
		},
		{
			name: "nil DaemonSet",
			ds:   nil,
			want: nil,
		},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			got := status.Row(tc.ds, now)
			if diff := cmp.Diff(tc.want, got); diff != "" {
				t.Errorf("Row() mismatch (-want +got):\n%s", diff)
			}
		})
	}
}

func TestTable(t *testing.T) {
	a := newDS(withStatus(counts(3, 3, 0, 3, 3, 3, 2)), func(ds *appsv1.DaemonSet) {
		ds.CreationTimestamp = metav1.NewTime(now.Add(-10 * time.Minute))
		ds.Spec.Template.Spec.NodeSelector = map[string]string{"kubernetes.io/os": "linux"}
	})
	b := newDS(withStatus(counts(120, 118, 0, 100, 60, 99, 2)), func(ds *appsv1.DaemonSet) {
		ds.Name = "node-exporter-long-name"
		ds.CreationTimestamp = metav1.NewTime(now.Add(-400 * 24 * time.Hour))
	})
	tests := []struct {
		name string
		dss  []*appsv1.DaemonSet
		want string
	}{
		{
			name: "two rows",
			dss:  []*appsv1.DaemonSet{a, nil, b},
			want: strings.Join([]string{
				"NAME                      DESIRED   CURRENT   READY   UP-TO-DATE   AVAILABLE   NODE SELECTOR            AGE",
				"fluentd                   3         3         3       3            3           kubernetes.io/os=linux   10m",
				"node-exporter-long-name   120       118       100     60           99          <none>                   400d",
				"",
			}, "\n"),
		},
		{
			name: "narrow columns keep the minimum width",
			dss:  []*appsv1.DaemonSet{newDS(func(ds *appsv1.DaemonSet) { ds.Name = "x" })},
			want: strings.Join([]string{
				"NAME   DESIRED   CURRENT   READY   UP-TO-DATE   AVAILABLE   NODE SELECTOR   AGE",
				"x      0         0         0       0            0           <none>          <unknown>",
				"",
			}, "\n"),
		},
		{
			// kubectl pads the header to the cell's length before it is
			// cut, so the column keeps that width.
			name: "cut cell keeps its uncut width",
			dss:  []*appsv1.DaemonSet{newDS(func(ds *appsv1.DaemonSet) { ds.Name = "ab\ncdefghijklmnop" })},
			want: strings.Join([]string{
				"NAME                DESIRED   CURRENT   READY   UP-TO-DATE   AVAILABLE   NODE SELECTOR   AGE",
				"ab...               0         0         0       0            0           <none>          <unknown>",
				"",
			}, "\n"),
		},
		{name: "none", dss: nil, want: ""},
		{name: "only nil", dss: []*appsv1.DaemonSet{nil}, want: ""},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			var sb strings.Builder
			if err := status.Table(&sb, tc.dss, now); err != nil {
				t.Fatalf("Table() error = %v", err)
			}
			if diff := cmp.Diff(tc.want, sb.String()); diff != "" {
				t.Errorf("Table() mismatch (-want +got):\n%s", diff)
			}
		})
	}
}

func TestTableWriteError(t *testing.T) {
	want := errors.New("disk full")
	if got := status.Table(failWriter{want}, []*appsv1.DaemonSet{newDS()}, now); !errors.Is(got, want) {
		t.Errorf("Table() error = %v, want %v", got, want)
	}
}

type failWriter struct{ err error }

func (w failWriter) Write([]byte) (int, error) { return 0, w.err }

// benchNodes returns n nodes: 9 in 10 should run and hold a ready pod of
// the new revision created an hour ago (every 7th one also holds a newer
// pod), every 10th holds a misscheduled pod, and every 13th desired node
// has no pod.
func benchNodes(n int) []testNode {
	nodes := make([]testNode, n)
	for i := range nodes {
		name := fmt.Sprintf("node-%06d", i)
		var pods []*corev1.Pod
		if i%13 != 0 {
			pods = append(pods, newPod(name+"-a", ready, withHash(hashNew), withGeneration("1234")))
			if i%7 == 0 {
				pods = append(pods, newPod(name+"-b", withHash(hashOld), withGeneration("1233")))
			}
		}
		nodes[i] = node(name, i%10 != 0, pods...)
	}
	return nodes
}

func BenchmarkCompute(b *testing.B) {
	ds := newDS(minReady(5), templateGeneration("1234"))
	for _, n := range []int{1000, 10000, 100000} {
		g := group(ds, hashNew, benchNodes(n))
		b.Run(fmt.Sprintf("nodes=%d", n), func(b *testing.B) {
			b.ReportAllocs()
			for b.Loop() {
				status.Compute(ds, g, status.Options{})
			}
		})
	}
}
