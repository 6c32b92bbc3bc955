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

// input is one random call of Compute.
type input struct {
	ds    *appsv1.DaemonSet
	hash  string
	nodes []placement.NodePods
	opts  status.Options
}

// generations are values for the deprecated annotation and the pod label:
// plain, with a leading zero or sign, too large, and not numbers.
var generations = []string{"1", "2", "01", "+1", "-1", "0", "123", "9223372036854775807", "9223372036854775808", "x", ""}

var hashes = []string{"", "h1", "h2"}

func genDaemonSet(t *rapid.T) *appsv1.DaemonSet {
	ds := &appsv1.DaemonSet{
		ObjectMeta: metav1.ObjectMeta{Name: "ds", Namespace: "default", Generation: rapid.Int64Range(0, 4).Draw(t, "generation")},
		Spec: appsv1.DaemonSetSpec{
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
	if rapid.IntRange(0, 4).Draw(t, "scheduled") > 0 {
		p.Spec.NodeName = "n"
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
	n := rapid.IntRange(0, 6).Draw(t, "nodes")
	for i := range n {
		name := fmt.Sprintf("n%d", i)
		np := placement.NodePods{Name: name}
		if rapid.IntRange(0, 5).Draw(t, "nodeExists") > 0 {
			np.Node = &corev1.Node{ObjectMeta: metav1.ObjectMeta{Name: name}}
			run := rapid.Bool().Draw(t, "shouldRun")
			np.Decision = placement.Decision{ShouldRun: run, ShouldContinueRunning: run}
		}
		for j := range rapid.IntRange(0, 3).Draw(t, "pods") {
			np.Pods = append(np.Pods, genPod(t, fmt.Sprintf("%s-p%d", name, j)))
		}
		slices.SortFunc(np.Pods, placement.ComparePods)
		in.nodes = append(in.nodes, np)
	}
	return in
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
		if np.Node == nil {
			continue
		}
		var pods []*corev1.Pod
		for _, p := range np.Pods {
			if p.DeletionTimestamp != nil && (p.Status.Phase == corev1.PodFailed || p.Status.Phase == corev1.PodSucceeded) {
				continue
			}
			pods = append(pods, p)
		}
		slices.SortFunc(pods, placement.ComparePods)
		if !np.Decision.ShouldRun {
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
	nodesBefore := deepCopyNodes(in.nodes)

	got := status.Compute(in.ds, in.hash, in.nodes, now, in.opts)

	if diff := cmp.Diff(dsBefore, in.ds); diff != "" {
		t.Fatalf("Compute() modified the DaemonSet (-before +after):\n%s", diff)
	}
	if diff := cmp.Diff(nodesBefore, in.nodes); diff != "" {
		t.Fatalf("Compute() modified the nodes (-before +after):\n%s", diff)
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
	if !status.NeedsUpdate(in.ds, got) && !cmp.Equal(in.ds.Status, got) {
		t.Fatalf("Compute() = %+v without a write, want ds.Status %+v", got, in.ds.Status)
	}

	// Precomputed States give the same status.
	classify := placement.NewPodClassifier(in.ds, in.hash, now)
	withStates := dstest.WithStates(in.nodes, &classify)
	if diff := cmp.Diff(got, status.Compute(in.ds, in.hash, withStates, now, in.opts)); diff != "" {
		t.Fatalf("Compute() with States differs (-without +with):\n%s", diff)
	}

	// Node order does not matter.
	shuffled := rapid.Permutation(in.nodes).Draw(t, "shuffled")
	if diff := cmp.Diff(got, status.Compute(in.ds, in.hash, shuffled, now, in.opts)); diff != "" {
		t.Fatalf("Compute() depends on node order (-original +shuffled):\n%s", diff)
	}

	// The requeue hint follows the computed counts.
	wantRequeue := in.ds.Spec.MinReadySeconds > 0 && got.NumberReady != got.NumberAvailable
	if after := status.RequeueAfter(in.ds, got); (after > 0) != wantRequeue || after < 0 {
		t.Fatalf("RequeueAfter() = %v, want a positive delay: %v", after, wantRequeue)
	}
}

func deepCopyNodes(nodes []placement.NodePods) []placement.NodePods {
	if nodes == nil {
		return nil
	}
	out := make([]placement.NodePods, len(nodes))
	for i, np := range nodes {
		out[i] = np
		out[i].Node = np.Node.DeepCopy()
		out[i].Pods = nil
		for _, p := range np.Pods {
			out[i].Pods = append(out[i].Pods, p.DeepCopy())
		}
	}
	return out
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
