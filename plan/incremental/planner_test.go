package incremental_test

import (
	"fmt"
	"maps"
	"slices"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
	appsv1 "k8s.io/api/apps/v1"
	corev1 "k8s.io/api/core/v1"
	"k8s.io/apimachinery/pkg/util/intstr"

	"github.com/dsplan/dsplan/internal/dstest"
	"github.com/dsplan/dsplan/plan"
	"github.com/dsplan/dsplan/plan/incremental"
)

// syncWorld plans every DaemonSet of the world with its Planner, checks
// each plan against plan.New's, carries the plans out, and reports
// whether any created or deleted a pod.
func syncWorld(t *testing.T, w *world) bool {
	t.Helper()
	acted := false
	for _, key := range slices.Sorted(maps.Keys(w.sets)) {
		s := w.snapshot(key)
		got := w.p.Plan(key, w.now, false, s.FailedPodBackoff, plan.Options{})
		if want := plan.New(s, plan.Options{}); !cmp.Equal(want, got, dstest.PlanCmp) {
			t.Fatalf("%s: the Planner's plan differs from plan.New's (-want +got):\n%s", key, cmp.Diff(want, got, dstest.PlanCmp))
		}
		acted = acted || len(got.Creates)+len(got.Deletes) > 0
		w.apply(key, got, func() bool { return true })
	}
	return acted
}

// settleWorld is the cluster catching up: deletions finish, pods are
// scheduled and ready, and minReadySeconds pass.
func settleWorld(w *world) {
	w.finishDeletions()
	w.schedule()
	for _, key := range slices.Sorted(maps.Keys(w.pods)) {
		w.setReady(key, true)
	}
	w.now = w.now.Add(11 * time.Second)
}

// TestIncrementalPaths runs the common paths on a cluster of 300 nodes and
// two DaemonSets and checks, besides every plan against plan.New's, that
// none of them builds an index again or falls back to a full pass: a pod
// turning unready and ready (and available minReadySeconds later), a node
// label change that flips eligibility, and a rollout in progress once it
// has started (its start builds one index).
func TestIncrementalPaths(t *testing.T) {
	p := &incremental.Planner{}
	w := newWorld(p, dstest.Epoch)
	for i := range 300 {
		w.setNode(dstest.Node(fmt.Sprintf("node-%03d", i), dstest.Labels(corev1.LabelOSStable, "linux", "pool", fmt.Sprint("p", i%3))))
	}
	agent := dstest.DaemonSet("agent", dstest.NodeSelector(map[string]string{corev1.LabelOSStable: "linux"}), dstest.MinReadySeconds(10),
		dstest.RollingUpdate(intstr.FromInt32(3), intstr.FromInt32(0)))
	gpu := dstest.DaemonSet("gpu", dstest.NodeSelector(map[string]string{corev1.LabelOSStable: "linux", "pool": "p1"}),
		dstest.RollingUpdate(intstr.FromInt32(0), intstr.FromString("10%")))
	w.setDaemonSet(agent)
	w.setDaemonSet(gpu)
	converge := func(what string) {
		t.Helper()
		for round := 0; syncWorld(t, w); round++ {
			if round > 500 {
				t.Fatalf("%s: no fixpoint in 500 rounds", what)
			}
			settleWorld(w)
		}
		syncWorld(t, w) // the status of the fixpoint
	}
	converge("first rollout")
	incrementalSince := func(what string, before incremental.Stats) {
		t.Helper()
		st := p.Stats()
		if st.Builds != before.Builds || st.FullPlans != before.FullPlans || st.GroupedUpdates != before.GroupedUpdates {
			t.Errorf("%s: not incremental: %+v, before %+v", what, st, before)
		}
	}

	before := p.Stats()
	podKey := slices.Sorted(maps.Keys(w.pods))[0]
	w.setReady(podKey, false)
	syncWorld(t, w)
	w.now = w.now.Add(time.Second)
	w.setReady(podKey, true)
	syncWorld(t, w) // ready, not available for 10 seconds
	w.now = w.now.Add(10 * time.Second)
	syncWorld(t, w) // available: no event, the time queue
	incrementalSince("a pod unready, then ready", before)

	before = p.Stats()
	w.modNode("node-004", func(n *corev1.Node) { n.Labels["pool"] = "p1" }) // joins gpu
	w.modNode("node-007", func(n *corev1.Node) { n.Labels["pool"] = "p0" }) // leaves gpu
	w.modNode("node-010", func(n *corev1.Node) { n.Labels[corev1.LabelOSStable] = "windows" })
	converge("relabelled nodes")
	incrementalSince("nodes relabelled", before)

	builds := p.Stats().Builds
	for _, key := range []string{"default/agent", "default/gpu"} {
		w.modSpec(key, func(s *appsv1.DaemonSetSpec) { s.Template.Spec.Containers[0].Image += "-v2" })
	}
	syncWorld(t, w) // the rollouts start: one build each
	if got := p.Stats().Builds - builds; got != 2 {
		t.Errorf("starting two rollouts built %d indexes, want 2", got)
	}
	before = p.Stats()
	settleWorld(w)
	converge("second rollout")
	incrementalSince("rollouts in progress", before)
	if got := w.sets["default/agent"].Status.UpdatedNumberScheduled; got != 299 {
		t.Errorf("agent: %d pods updated, want 299", got)
	}
}

// TestPlanUnknownKey: a key the Planner does not hold plans as plan.New
// with no DaemonSet.
func TestPlanUnknownKey(t *testing.T) {
	var p incremental.Planner
	got := p.Plan("default/none", dstest.Epoch, false, nil, plan.Options{})
	if want := plan.New(plan.Snapshot{}, plan.Options{}); !cmp.Equal(want, got, dstest.PlanCmp) {
		t.Errorf("plan (-want +got):\n%s", cmp.Diff(want, got, dstest.PlanCmp))
	}
}
