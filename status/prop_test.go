package status_test

import (
	"fmt"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
	appsv1 "k8s.io/api/apps/v1"
	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"pgregory.net/rapid"

	"github.com/dsplan/dsplan/internal/dstest"
	"github.com/dsplan/dsplan/placement"
	"github.com/dsplan/dsplan/status"
)

// input is one random call of Compute: a DaemonSet, nodes (some that do not
// exist, some ineligible through an untolerated NoSchedule taint), each
// with zero to three of the DaemonSet's pods.
type input struct {
	ds    *appsv1.DaemonSet
	hash  string
	nodes []testNode // shouldRun false: tainted; exists false: not in the node list
	gone  map[string]bool
	opts  status.Options
}

// generations are values for the deprecated annotation and the pod label:
// plain, with a leading zero or sign, too large, and not numbers.
var generations = []string{"1", "2", "01", "+1", "-1", "0", "123", "9223372036854775807", "9223372036854775808", "x", ""}

var hashes = []string{"", "h1", "h2"}

func genDaemonSet(t *rapid.T) *appsv1.DaemonSet {
	ds := &appsv1.DaemonSet{
		ObjectMeta: metav1.ObjectMeta{Name: "ds", Namespace: "default", UID: "uid-ds", Generation: rapid.Int64Range(0, 4).Draw(t, "generation")},
		Spec: appsv1.DaemonSetSpec{
			Selector:        &metav1.LabelSelector{MatchLabels: map[string]string{"app": "fluentd"}},
			MinReadySeconds: rapid.Int32Range(-1, 3).Draw(t, "minReadySeconds"),
			UpdateStrategy: appsv1.DaemonSetUpdateStrategy{
				Type: rapid.SampledFrom([]appsv1.DaemonSetUpdateStrategyType{appsv1.RollingUpdateDaemonSetStrategyType, appsv1.OnDeleteDaemonSetStrategyType}).Draw(t, "strategy"),
			},
		},
		Status: appsv1.DaemonSetStatus{
			ObservedGeneration:     rapid.Int64Range(0, 5).Draw(t, "observedGeneration"),
			DesiredNumberScheduled: rapid.Int32Range(0, 3).Draw(t, "oldDesired"),
			CurrentNumberScheduled: rapid.Int32Range(0, 3).Draw(t, "oldCurrent"),
			NumberMisscheduled:     rapid.Int32Range(0, 1).Draw(t, "oldMisscheduled"),
			NumberReady:            rapid.Int32Range(0, 3).Draw(t, "oldReady"),
			UpdatedNumberScheduled: rapid.Int32Range(0, 3).Draw(t, "oldUpdated"),
			NumberAvailable:        rapid.Int32Range(0, 3).Draw(t, "oldAvailable"),
			NumberUnavailable:      rapid.Int32Range(0, 3).Draw(t, "oldUnavailable"),
		},
	}
	if rapid.Bool().Draw(t, "hasCollisionCount") {
		c := rapid.Int32Range(0, 2).Draw(t, "collisionCount")
		ds.Status.CollisionCount = &c
	}
	if rapid.Bool().Draw(t, "hasTemplateGeneration") {
		ds.Annotations = map[string]string{appsv1.DeprecatedTemplateGeneration: rapid.SampledFrom(generations).Draw(t, "templateGeneration")}
	}
	return ds
}

func genPod(t *rapid.T, name string) *corev1.Pod {
	p := &corev1.Pod{
		ObjectMeta: metav1.ObjectMeta{
			Name:              name,
			CreationTimestamp: metav1.NewTime(now.Add(-time.Duration(rapid.IntRange(0, 3).Draw(t, "age")) * time.Minute)),
		},
		Status: corev1.PodStatus{Phase: rapid.SampledFrom([]corev1.PodPhase{corev1.PodRunning, corev1.PodPending, corev1.PodFailed, corev1.PodSucceeded}).Draw(t, "phase")},
	}
	if rapid.IntRange(0, 4).Draw(t, "scheduled") == 0 {
		// Not bound yet: it targets its node through its node affinity
		// (see group).
		p.Spec.Affinity = &corev1.Affinity{}
	}
	if rapid.IntRange(0, 3).Draw(t, "deleting") == 0 {
		d := metav1.NewTime(now)
		p.DeletionTimestamp = &d
	}
	if h := rapid.SampledFrom(hashes).Draw(t, "hash"); h != "" || rapid.Bool().Draw(t, "emptyHashLabel") {
		p.Labels = map[string]string{appsv1.DefaultDaemonSetUniqueLabelKey: h}
	}
	if rapid.Bool().Draw(t, "hasGenerationLabel") {
		if p.Labels == nil {
			p.Labels = map[string]string{}
		}
		p.Labels["pod-template-generation"] = rapid.SampledFrom(generations).Draw(t, "generationLabel")
	}
	switch rapid.IntRange(0, 3).Draw(t, "readiness") {
	case 1:
		p.Status.Conditions = []corev1.PodCondition{{Type: corev1.PodReady, Status: corev1.ConditionFalse}}
	case 2, 3:
		var ltt time.Time
		if rapid.IntRange(0, 5).Draw(t, "hasTransitionTime") > 0 {
			// Around the minReadySeconds boundary, in half seconds.
			ltt = now.Add(-time.Duration(rapid.IntRange(-2, 8).Draw(t, "readyHalfSeconds")) * time.Second / 2)
		}
		p.Status.Conditions = []corev1.PodCondition{
			{Type: corev1.PodScheduled, Status: corev1.ConditionTrue},
			{Type: corev1.PodReady, Status: corev1.ConditionTrue, LastTransitionTime: metav1.NewTime(ltt)},
		}
	}
	return p
}

func genInput(t *rapid.T) input {
	in := input{
		ds:   genDaemonSet(t),
		hash: rapid.SampledFrom(hashes).Draw(t, "currentHash"),
		opts: status.Options{StatusOnly: rapid.Bool().Draw(t, "statusOnly")},
	}
	in.gone = map[string]bool{}
	n := rapid.IntRange(0, 6).Draw(t, "nodes")
	for i := range n {
		name := fmt.Sprintf("n%d", i)
		tn := testNode{name: name}
		if rapid.IntRange(0, 5).Draw(t, "nodeExists") == 0 {
			in.gone[name] = true
		} else {
			tn.shouldRun = rapid.Bool().Draw(t, "shouldRun")
		}
		for j := range rapid.IntRange(0, 3).Draw(t, "pods") {
			tn.pods = append(tn.pods, genPod(t, fmt.Sprintf("%s-p%d", name, j)))
		}
		in.nodes = append(in.nodes, tn)
	}
	return in
}

// grouping groups in's pods: the nodes that exist are listed, and each pod
// is bound to its node (or pinned to it by node affinity), controlled by
// the DaemonSet and matching its selector.
func (in input) grouping(t *rapid.T, shuffle bool) *placement.Grouping {
	var nodes []*corev1.Node
	var pods []*corev1.Pod
	for _, n := range in.nodes {
		if !in.gone[n.name] {
			node := &corev1.Node{ObjectMeta: metav1.ObjectMeta{Name: n.name}}
			if !n.shouldRun {
				node.Spec.Taints = []corev1.Taint{{Key: "dedicated", Effect: corev1.TaintEffectNoSchedule}}
			}
			nodes = append(nodes, node)
		}
		for _, pod := range n.pods {
			pods = append(pods, bound(in.ds, pod, n.name))
		}
	}
	if shuffle {
		nodes = rapid.Permutation(nodes).Draw(t, "nodeOrder")
		pods = rapid.Permutation(pods).Draw(t, "podOrder")
	}
	g, err := placement.Group(placement.GroupInput{Evaluator: placement.New(in.ds, placement.Options{}), Hash: in.hash, Now: now, Nodes: nodes, Pods: pods})
	if err != nil {
		t.Fatalf("Group: %v", err)
	}
	return g
}

// bound returns a copy of pod in ds's namespace, controlled by ds, matching
// its selector and targeting node: bound to it, or, for a pod with an
// (empty) affinity, pinned to it as the controller creates pods.
func bound(ds *appsv1.DaemonSet, pod *corev1.Pod, node string) *corev1.Pod {
	pod = pod.DeepCopy()
	pod.Namespace = ds.Namespace
	if pod.Labels == nil {
		pod.Labels = map[string]string{}
	}
	pod.Labels["app"] = "fluentd"
	pod.OwnerReferences = []metav1.OwnerReference{*metav1.NewControllerRef(ds, placement.ControllerKind)}
	if pod.Spec.Affinity != nil {
		dstest.Unscheduled(node)(pod)
	} else {
		pod.Spec.NodeName = node
	}
	return pod
}

// reference computes the status the plain way, from the placement helpers
// and upstream's structure: filter, sort a copy, look at the first pod.
func reference(in input) appsv1.DaemonSetStatus {
	ds := in.ds
	gen, err := placement.TemplateGeneration(ds)
	if err != nil {
		gen = nil
	}
	var st appsv1.DaemonSetStatus
	for _, np := range in.nodes {
		if in.gone[np.name] {
			continue
		}
		var pods []*corev1.Pod
		for _, p := range np.pods {
			if p.DeletionTimestamp != nil && (p.Status.Phase == corev1.PodFailed || p.Status.Phase == corev1.PodSucceeded) {
				continue
			}
			pods = append(pods, p)
		}
		slices.SortFunc(pods, func(a, b *corev1.Pod) int {
			return placement.ComparePods(bound(ds, a, np.name), bound(ds, b, np.name))
		})
		if !np.shouldRun {
			if len(pods) > 0 {
				st.NumberMisscheduled++
			}
			continue
		}
		st.DesiredNumberScheduled++
		if len(pods) == 0 {
			continue
		}
		st.CurrentNumberScheduled++
		if placement.IsPodReady(pods[0]) {
			st.NumberReady++
			if placement.IsPodAvailable(pods[0], ds.Spec.MinReadySeconds, now) {
				st.NumberAvailable++
			}
		}
		if placement.IsPodUpdated(pods[0], in.hash, gen) {
			st.UpdatedNumberScheduled++
		}
	}
	st.NumberUnavailable = st.DesiredNumberScheduled - st.NumberAvailable
	old := ds.Status
	if old.DesiredNumberScheduled == st.DesiredNumberScheduled &&
		old.CurrentNumberScheduled == st.CurrentNumberScheduled &&
		old.NumberMisscheduled == st.NumberMisscheduled &&
		old.NumberReady == st.NumberReady &&
		old.UpdatedNumberScheduled == st.UpdatedNumberScheduled &&
		old.NumberAvailable == st.NumberAvailable &&
		old.NumberUnavailable == st.NumberUnavailable &&
		old.ObservedGeneration >= ds.Generation {
		return old
	}
	st.ObservedGeneration = old.ObservedGeneration
	if !in.opts.StatusOnly {
		st.ObservedGeneration = ds.Generation
	}
	st.CollisionCount = old.CollisionCount
	st.Conditions = old.Conditions
	return st
}

// propCompute checks Compute on one random input against the reference
// and the invariants of a status.
func propCompute(t *rapid.T) {
	in := genInput(t)
	dsBefore := in.ds.DeepCopy()
	g := in.grouping(t, false)

	r := status.Compute(in.ds, g, in.opts)
	got := r.Status

	if diff := cmp.Diff(dsBefore, in.ds); diff != "" {
		t.Fatalf("Compute() modified the DaemonSet (-before +after):\n%s", diff)
	}
	if diff := cmp.Diff(reference(in), got); diff != "" {
		t.Fatalf("Compute() differs from the reference (-want +got):\n%s", diff)
	}
	if !(0 <= got.NumberAvailable && got.NumberAvailable <= got.NumberReady && got.NumberReady <= got.CurrentNumberScheduled &&
		got.CurrentNumberScheduled <= got.DesiredNumberScheduled) {
		t.Fatalf("Compute() = %+v, want 0 ≤ available ≤ ready ≤ current ≤ desired", got)
	}
	if got.UpdatedNumberScheduled > got.CurrentNumberScheduled {
		t.Fatalf("Compute() updated %d > current %d", got.UpdatedNumberScheduled, got.CurrentNumberScheduled)
	}
	if got.NumberUnavailable != got.DesiredNumberScheduled-got.NumberAvailable {
		t.Fatalf("Compute() unavailable %d, want desired−available = %d", got.NumberUnavailable, got.DesiredNumberScheduled-got.NumberAvailable)
	}
	if int(got.DesiredNumberScheduled+got.NumberMisscheduled) > len(in.nodes) {
		t.Fatalf("Compute() desired %d + misscheduled %d > %d nodes", got.DesiredNumberScheduled, got.NumberMisscheduled, len(in.nodes))
	}
	if r.Changed != status.NeedsUpdate(in.ds, got) || !r.Changed && !cmp.Equal(in.ds.Status, got) {
		t.Fatalf("Compute() = %+v, changed %v; want ds.Status %+v exactly when no write is needed", got, r.Changed, in.ds.Status)
	}

	// Input order does not matter.
	if diff := cmp.Diff(r, status.Compute(in.ds, in.grouping(t, true), in.opts)); diff != "" {
		t.Fatalf("Compute() depends on input order (-original +shuffled):\n%s", diff)
	}

	// Without a requeue, time passing alone changes nothing: no ready pod
	// is waiting to become available.
	if r.RequeueAfter == 0 {
		later := status.Compute(in.ds, in.laterGrouping(t, time.Hour), in.opts)
		if diff := cmp.Diff(r.Status, later.Status); diff != "" {
			t.Fatalf("no requeue, but an hour later the status differs (-now +later):\n%s", diff)
		}
	}
}

// laterGrouping is grouping judged d later.
func (in input) laterGrouping(t *rapid.T, d time.Duration) *placement.Grouping {
	g := in.grouping(t, false)
	var nodes []*corev1.Node
	var pods []*corev1.Pod
	for i := range g.Existing() {
		nodes = append(nodes, g.At(i).Node())
	}
	for pod := range g.ClaimedPods() {
		pods = append(pods, pod)
	}
	later, err := placement.Group(placement.GroupInput{Evaluator: g.Evaluator(), Hash: in.hash, Now: now.Add(d), Nodes: nodes, Pods: pods})
	if err != nil {
		t.Fatalf("Group: %v", err)
	}
	return later
}

func TestComputeProperties(t *testing.T) {
	rapid.Check(t, propCompute)
}

func FuzzCompute(f *testing.F) {
	f.Fuzz(rapid.MakeFuzz(propCompute))
}

// propRollout checks that Rollout's verdict agrees with the status it
// reads.
func propRollout(t *rapid.T) {
	ds := genDaemonSet(t)
	before := ds.DeepCopy()
	got, err := status.Rollout(ds)
	if diff := cmp.Diff(before, ds); diff != "" {
		t.Fatalf("Rollout() modified the DaemonSet (-before +after):\n%s", diff)
	}
	if ds.Spec.UpdateStrategy.Type != appsv1.RollingUpdateDaemonSetStrategyType {
		if err == nil || got != (status.RolloutStatus{}) {
			t.Fatalf("Rollout() = %+v, %v for %s, want the zero status and an error", got, err, ds.Spec.UpdateStrategy.Type)
		}
		return
	}
	if err != nil {
		t.Fatalf("Rollout() error = %v", err)
	}
	st := ds.Status
	wantDone := ds.Generation <= st.ObservedGeneration &&
		st.UpdatedNumberScheduled >= st.DesiredNumberScheduled && st.NumberAvailable >= st.DesiredNumberScheduled
	if got.Done != wantDone {
		t.Fatalf("Rollout() done = %v, want %v", got.Done, wantDone)
	}
	if !strings.HasSuffix(got.Message, "...\n") && !strings.HasSuffix(got.Message, " successfully rolled out\n") {
		t.Fatalf("Rollout() message %q, want one of kubectl's lines", got.Message)
	}
}

func TestRolloutProperties(t *testing.T) {
	rapid.Check(t, propRollout)
}
