package incremental_test

import (
	"fmt"
	"maps"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
	appsv1 "k8s.io/api/apps/v1"
	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/types"
	"pgregory.net/rapid"

	"github.com/dsplan/dsplan/internal/dstest"
	"github.com/dsplan/dsplan/internal/model"
	"github.com/dsplan/dsplan/plan"
	"github.com/dsplan/dsplan/plan/incremental"
	"github.com/dsplan/dsplan/rollout"
)

// The equivalence property: after every event of a random history, the
// Planner's plan for every DaemonSet equals plan.New's on the same
// snapshot, field for field.

// daemonSetPool are the DaemonSets a history draws from, with the app
// label they select: "twin" selects agent's pods (both may adopt the same
// orphans).
var daemonSetPool = []struct{ name, app string }{{"agent", "agent"}, {"logs", "logs"}, {"twin", "agent"}}

// machine is the state machine: a world and its Planner.
type machine struct {
	w    *world
	p    *incremental.Planner
	opts plan.Options
	// plans counts the plans compared.
	plans int
	// verify checks the indexes themselves (not for broken variants).
	verify bool
}

// equivalence returns the rapid property for the Planners newPlanner
// makes; verify also checks their indexes after every step.
func equivalence(newPlanner func() *incremental.Planner, verify bool) func(*rapid.T) {
	return func(t *rapid.T) {
		p := newPlanner()
		m := &machine{w: newWorld(p, dstest.Epoch), p: p, verify: verify}
		m.opts.BurstReplicas = rapid.SampledFrom([]int{0, 0, 0, 2}).Draw(t, "burstReplicas")
		m.opts.Placement.TaintTolerationComparisonOperators = rapid.Bool().Draw(t, "comparisonOperators")
		m.opts.Annotations = rapid.IntRange(0, 3).Draw(t, "annotations") == 0
		byReset := rapid.Bool().Draw(t, "startByReset")
		m.w.deaf = byReset
		for _, name := range rapid.SliceOfNDistinct(model.NodeName(), 1, 6, rapid.ID[string]).Draw(t, "nodes") {
			m.w.setNode(model.Node(name).Draw(t, name).Node())
		}
		for i := range rapid.IntRange(1, len(daemonSetPool)).Draw(t, "daemonSets") {
			m.addDaemonSet(t, i)
		}
		if byReset {
			m.w.deaf = false
			m.w.reset()
		}
		t.Repeat(map[string]func(*rapid.T){
			"node":        m.nodeAction,
			"pod":         m.podAction,
			"userPod":     m.userPod,
			"cluster":     m.clusterAction,
			"time":        m.advance,
			"spec":        m.specAction,
			"daemonSet":   m.daemonSetAction,
			"sync":        m.sync,
			"syncAll":     m.syncAll,
			"syncPartial": m.syncPartial,
			"missed":      m.missed,
			"":            m.check,
		})
	}
}

// compare plans DaemonSet key with the Planner and with plan.New and
// fails when they differ; it returns the Planner's plan.
func (m *machine) compare(t *rapid.T, key string, pending bool, opts plan.Options) plan.Plan {
	s := m.w.snapshot(key)
	s.PendingExpectations = pending
	got := m.p.Plan(key, m.w.now, pending, s.FailedPodBackoff, opts)
	m.plans++
	if s.DaemonSet == nil {
		s = plan.Snapshot{Now: m.w.now}
	}
	want := plan.New(s, opts)
	if !cmp.Equal(want, got, dstest.PlanCmp) {
		t.Fatalf("DaemonSet %s (pending %v, options %+v): the Planner's plan differs from plan.New's (-want +got):\n%s\nworld:\n%s",
			key, pending, opts, cmp.Diff(want, got, dstest.PlanCmp), m.w.describe())
	}
	return got
}

// check compares the plans of every DaemonSet, and of one the world does
// not have, with options drawn around the machine's.
func (m *machine) check(t *rapid.T) {
	if m.verify {
		if err := incremental.Verify(m.p); err != nil {
			t.Fatalf("index: %v\nworld:\n%s", err, m.w.describe())
		}
	}
	keys := append(slices.Sorted(maps.Keys(m.w.sets)), "default/absent")
	for _, key := range keys {
		opts := m.opts
		switch rapid.IntRange(0, 19).Draw(t, "checkOptions") {
		case 0:
			opts.Explain = true
		case 1:
			opts.Placement.TaintTolerationComparisonOperators = !opts.Placement.TaintTolerationComparisonOperators
		case 2:
			opts.Rollout.Paused = true
		}
		m.compare(t, key, rapid.IntRange(0, 9).Draw(t, "pending") == 0, opts)
	}
}

// addDaemonSet adds the i-th DaemonSet of the pool, drawn afresh, with a
// new UID.
func (m *machine) addDaemonSet(t *rapid.T, i int) {
	d := model.DaemonSet().Draw(t, "daemonSet")
	ds := d.DaemonSet()
	m.w.serial++
	ds.Name, ds.UID = daemonSetPool[i].name, types.UID(fmt.Sprintf("%s-uid-%d", daemonSetPool[i].name, m.w.serial))
	app := daemonSetPool[i].app
	ds.Spec.Selector = &metav1.LabelSelector{MatchLabels: map[string]string{"app": app}}
	ds.Spec.Template.Labels = map[string]string{"app": app}
	if rapid.IntRange(0, 3).Draw(t, "rolloutAnnotation") == 0 {
		ds.Annotations = map[string]string{rollout.AnnotationPartition: "1"}
	}
	m.w.setDaemonSet(ds)
	t.Logf("add DaemonSet %s %+v", ds.Name, d)
}

// randomKey draws a key of a map, or skips.
func randomKey[T any](t *rapid.T, m map[string]T, label string) string {
	if len(m) == 0 {
		t.Skip("nothing to draw")
	}
	return rapid.SampledFrom(slices.Sorted(maps.Keys(m))).Draw(t, label)
}

func (m *machine) nodeAction(t *rapid.T) {
	w := m.w
	op := rapid.SampledFrom([]string{"add", "remove", "relabel", "relabel", "taint", "untaint"}).Draw(t, "nodeOp")
	if op == "add" {
		name := model.NodeName().Draw(t, "node")
		d := model.Node(name).Draw(t, "newNode")
		w.setNode(d.Node())
		t.Logf("set node %+v", d)
		return
	}
	name := randomKey(t, w.nodes, "nodeName")
	switch op {
	case "remove":
		w.deleteNode(name)
	case "relabel":
		l := model.NodeLabels().Draw(t, "labels")
		w.modNode(name, func(n *corev1.Node) {
			host := n.Labels[corev1.LabelHostname]
			n.Labels = model.LabelsOf(l)
			n.Labels[corev1.LabelHostname] = host
		})
		t.Logf("relabel node %s %v", name, l)
		return
	case "taint":
		taint := model.ParseTaint(model.Taint().Draw(t, "taint"))
		w.modNode(name, func(n *corev1.Node) {
			n.Spec.Taints = slices.DeleteFunc(n.Spec.Taints, func(x corev1.Taint) bool { return x.Key == taint.Key && x.Effect == taint.Effect })
			n.Spec.Taints = append(n.Spec.Taints, taint)
		})
	case "untaint":
		if len(w.nodes[name].Spec.Taints) == 0 {
			t.Skip("no taints")
		}
		i := rapid.IntRange(0, len(w.nodes[name].Spec.Taints)-1).Draw(t, "taintIndex")
		w.modNode(name, func(n *corev1.Node) { n.Spec.Taints = slices.Delete(n.Spec.Taints, i, i+1) })
	}
	t.Logf("node %s: %s", name, op)
}

func (m *machine) podAction(t *rapid.T) {
	w := m.w
	op := rapid.SampledFrom([]string{"ready", "ready", "ready", "readyAll", "notReady", "failed", "succeeded", "startDeleting",
		"finishDeleting", "orphan", "relabel"}).Draw(t, "podOp")
	if op == "readyAll" {
		for _, key := range slices.Sorted(maps.Keys(w.pods)) {
			w.setReady(key, true)
		}
		t.Logf("all pods ready")
		return
	}
	key := randomKey(t, w.pods, "pod")
	ok := true
	switch op {
	case "ready":
		ok = w.setReady(key, true)
	case "notReady":
		ok = w.setReady(key, false)
	case "failed":
		ok = w.setPhase(key, corev1.PodFailed)
	case "succeeded":
		ok = w.setPhase(key, corev1.PodSucceeded)
	case "startDeleting":
		ok = w.startDeleting(key)
	case "finishDeleting":
		w.deletePod(w.pods[key])
	case "orphan":
		ok = w.modPod(key, func(p *corev1.Pod) bool {
			if len(p.OwnerReferences) == 0 {
				return false
			}
			p.OwnerReferences = nil
			return true
		})
	case "relabel":
		app := rapid.SampledFrom([]string{"agent", "logs", "other"}).Draw(t, "app")
		ok = w.modPod(key, func(p *corev1.Pod) bool {
			if p.Labels["app"] == app {
				return false
			}
			p.Labels = maps.Clone(p.Labels)
			p.Labels["app"] = app
			return true
		})
	}
	if !ok {
		t.Skip("not applicable")
	}
	t.Logf("pod %s: %s", key, op)
}

// userPod creates a pod no DaemonSet made: an orphan a DaemonSet may
// adopt, one in another namespace, or one a ReplicaSet controls.
func (m *machine) userPod(t *rapid.T) {
	w := m.w
	node := randomKey(t, w.nodes, "userPodNode")
	w.serial++
	pod := &corev1.Pod{ObjectMeta: metav1.ObjectMeta{
		Name: fmt.Sprintf("user-%d", w.serial), Namespace: "default", UID: types.UID(fmt.Sprintf("user-uid-%d", w.serial)),
		Labels: map[string]string{"app": rapid.SampledFrom([]string{"agent", "logs"}).Draw(t, "userPodApp")}, CreationTimestamp: metav1.NewTime(w.now),
	}, Spec: corev1.PodSpec{NodeName: node}, Status: corev1.PodStatus{Phase: corev1.PodRunning}}
	switch kind := rapid.SampledFrom([]string{"orphan", "otherNamespace", "replicaSet"}).Draw(t, "userPodKind"); kind {
	case "otherNamespace":
		pod.Namespace = "other"
	case "replicaSet":
		yes := true
		pod.OwnerReferences = []metav1.OwnerReference{{APIVersion: "apps/v1", Kind: "ReplicaSet", Name: "web", UID: "rs-uid", Controller: &yes}}
	}
	setCondition(pod, corev1.PodReady, corev1.ConditionTrue, w.now.Add(-time.Minute))
	w.setPod(pod)
	t.Logf("user pod %s/%s on %s", pod.Namespace, pod.Name, node)
}

func (m *machine) clusterAction(t *rapid.T) {
	w := m.w
	switch op := rapid.SampledFrom([]string{"gc", "schedule", "schedulerDown", "finishDeletions", "settle"}).Draw(t, "clusterOp"); op {
	case "gc":
		w.gc()
	case "schedule":
		w.schedule()
	case "schedulerDown":
		w.schedulerDown = !w.schedulerDown
	case "finishDeletions":
		w.finishDeletions()
	case "settle":
		w.finishDeletions()
		w.gc()
		w.schedulerDown = false
		w.schedule()
		for _, key := range slices.Sorted(maps.Keys(w.pods)) {
			w.setReady(key, true)
		}
		w.now = w.now.Add(31 * time.Second)
	}
}

// advance moves the clock, rarely backwards (a wall clock set back).
func (m *machine) advance(t *rapid.T) {
	secs := rapid.SampledFrom([]int{1, 4, 5, 10, 30, 60, 600, -3}).Draw(t, "seconds")
	m.w.now = m.w.now.Add(time.Duration(secs) * time.Second)
	t.Logf("time %+ds", secs)
}

func (m *machine) specAction(t *rapid.T) {
	key := randomKey(t, m.w.sets, "specDaemonSet")
	switch op := rapid.SampledFrom([]string{"template", "template", "placement", "strategy", "minReadySeconds"}).Draw(t, "specOp"); op {
	case "template":
		d := model.Template().Draw(t, "template")
		m.w.modSpec(key, func(s *appsv1.DaemonSetSpec) { d.Apply(&s.Template.Spec) })
		t.Logf("%s: template %+v", key, d)
	case "placement":
		d := model.Placement().Draw(t, "placement")
		m.w.modSpec(key, func(s *appsv1.DaemonSetSpec) { d.Apply(&s.Template.Spec) })
		t.Logf("%s: placement %+v", key, d)
	case "strategy":
		d := model.Strategy().Draw(t, "strategy")
		m.w.modSpec(key, func(s *appsv1.DaemonSetSpec) { s.UpdateStrategy = d.UpdateStrategy() })
		t.Logf("%s: strategy %+v", key, d)
	case "minReadySeconds":
		n := model.MinReadySeconds().Draw(t, "minReadySeconds")
		m.w.modSpec(key, func(s *appsv1.DaemonSetSpec) { s.MinReadySeconds = n })
		t.Logf("%s: minReadySeconds %d", key, n)
	}
}

func (m *machine) daemonSetAction(t *rapid.T) {
	if rapid.Bool().Draw(t, "deleteDaemonSet") {
		key := randomKey(t, m.w.sets, "deletedDaemonSet")
		m.w.deleteDaemonSet(key)
		t.Logf("delete DaemonSet %s", key)
		return
	}
	i := rapid.IntRange(0, len(daemonSetPool)-1).Draw(t, "newDaemonSet")
	if _, exists := m.w.sets["default/"+daemonSetPool[i].name]; exists {
		t.Skip("exists")
	}
	m.addDaemonSet(t, i)
}

// sync plans a DaemonSet and carries the plan out.
func (m *machine) sync(t *rapid.T) {
	key := randomKey(t, m.w.sets, "syncDaemonSet")
	p := m.compare(t, key, false, m.opts)
	m.w.apply(key, p, func() bool { return true })
	t.Logf("sync %s: %s", key, planString(p))
}

// syncAll syncs every DaemonSet, as a resync does.
func (m *machine) syncAll(t *rapid.T) {
	for _, key := range slices.Sorted(maps.Keys(m.w.sets)) {
		p := m.compare(t, key, false, m.opts)
		m.w.apply(key, p, func() bool { return true })
	}
	t.Logf("sync all")
}

// syncPartial carries out some of a plan's API calls; the others fail.
func (m *machine) syncPartial(t *rapid.T) {
	key := randomKey(t, m.w.sets, "syncDaemonSet")
	p := m.compare(t, key, false, m.opts)
	mask := rapid.SliceOfN(rapid.Bool(), 64, 64).Draw(t, "succeeds")
	i := 0
	m.w.apply(key, p, func() bool { i++; return mask[(i-1)%len(mask)] })
	t.Logf("partial sync %s: %s", key, planString(p))
}

// missed changes the world without telling the Planner, then resyncs it
// from the lists (Reset).
func (m *machine) missed(t *rapid.T) {
	m.w.deaf = true
	defer func() { // also when an action skips
		m.w.deaf = false
		m.w.reset()
	}()
	for range rapid.IntRange(1, 3).Draw(t, "missedEvents") {
		switch rapid.SampledFrom([]string{"node", "pod", "spec"}).Draw(t, "missedKind") {
		case "node":
			m.nodeAction(t)
		case "pod":
			m.podAction(t)
		case "spec":
			m.specAction(t)
		}
	}
	t.Logf("missed events, Reset")
}

func planString(p plan.Plan) string {
	var parts []string
	for _, c := range p.Creates {
		parts = append(parts, fmt.Sprintf("create %s (%s)", c.Node, c.Reason))
	}
	for _, d := range p.Deletes {
		parts = append(parts, fmt.Sprintf("delete %s (%s)", d.Pod, d.Reason))
	}
	if p.Err != nil {
		parts = append(parts, "err "+p.Err.Error())
	}
	return strings.Join(parts, "; ")
}

// TestEquivalence runs random histories of several DaemonSets against a
// Planner and checks, after every step, every DaemonSet's plan against
// plan.New's.
func TestEquivalence(t *testing.T) {
	var stats []incremental.Stats
	rapid.Check(t, func(rt *rapid.T) {
		var p *incremental.Planner
		equivalence(func() *incremental.Planner { p = &incremental.Planner{}; return p }, true)(rt)
		stats = append(stats, p.Stats())
	})
	var sum incremental.Stats
	for _, s := range stats {
		sum.Plans += s.Plans
		sum.FullPlans += s.FullPlans
		sum.Builds += s.Builds
		sum.GroupedUpdates += s.GroupedUpdates
	}
	t.Logf("%+v", sum)
}

// TestBrokenVariantsAreCaught runs the equivalence property against
// deliberately wrong Planners and expects rapid to find a history on which
// each plans differently from plan.New: a counter not lowered when a pod
// is deleted, decisions not refreshed when a node's labels or taints
// change, the time queue ignored.
func TestBrokenVariantsAreCaught(t *testing.T) {
	t.Chdir(t.TempDir()) // rapid writes fail files under ./testdata
	dstest.SetFlag(t, "rapid.shrinktime", "1s")
	for _, variant := range []string{"counter", "nodeRefresh", "timeQueue"} {
		t.Run(variant, func(t *testing.T) {
			r := dstest.NewRecorder(t.Name())
			rapid.Check(r, equivalence(func() *incremental.Planner {
				p := &incremental.Planner{}
				incremental.Break(p, variant)
				return p
			}, false))
			if !r.Failed() {
				t.Fatalf("the equivalence property did not catch the broken variant %s", variant)
			}
			out := r.Output()
			if !strings.Contains(out, "differs from plan.New") {
				t.Errorf("%s failed, but not on a plan:\n%s", variant, out)
			}
			first, _, _ := strings.Cut(out[strings.Index(out, "DaemonSet "):], "\n")
			t.Logf("caught %s: %s", variant, first)
		})
	}
}
