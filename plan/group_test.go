package plan

import (
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
	appsv1 "k8s.io/api/apps/v1"
	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/labels"
	"pgregory.net/rapid"

	"github.com/dsplan/dsplan/internal/claim"
	"github.com/dsplan/dsplan/internal/dstest"
	"github.com/dsplan/dsplan/placement"
)

// referenceGroup is group written plainly, with a filtered copy of the pods
// for claim.Objects, a map, and a slice per node: the definition group's
// faster layout must reproduce exactly.
func referenceGroup(ds *appsv1.DaemonSet, eval *placement.Evaluator, selector labels.Selector, nodes []*corev1.Node, all []*corev1.Pod) grouping {
	var candidates []*corev1.Pod
	for _, pod := range all {
		if pod.Namespace != ds.Namespace {
			continue
		}
		if ref := metav1.GetControllerOfNoCopy(pod); ref != nil &&
			(ref.Kind != "DaemonSet" || ref.Name != ds.Name || ref.UID != ds.UID) {
			continue
		}
		candidates = append(candidates, pod)
	}
	pods, patches := claim.Objects(ds, candidates, func(pod *corev1.Pod) bool {
		return selector.Matches(labels.Set(pod.Labels))
	})
	g := grouping{existing: len(nodes), claimed: pods, patches: patches}
	index := map[string]int{}
	for i, node := range nodes {
		g.nodes = append(g.nodes, placement.NodePods{Name: node.Name, Node: node, Decision: eval.Evaluate(node)})
		if _, dup := index[node.Name]; !dup {
			index[node.Name] = i
		}
	}
	var vanished []string
	for _, pod := range pods {
		name, err := placement.TargetNodeName(pod)
		if err != nil {
			continue
		}
		g.history = append(g.history, pod)
		if pod.DeletionTimestamp != nil && (pod.Status.Phase == corev1.PodFailed || pod.Status.Phase == corev1.PodSucceeded) {
			continue
		}
		at, ok := index[name]
		if !ok {
			at = len(g.nodes)
			index[name] = at
			g.nodes = append(g.nodes, placement.NodePods{Name: name})
			vanished = append(vanished, name)
		}
		g.nodes[at].Pods = append(g.nodes[at].Pods, pod)
	}
	for i := range g.nodes {
		slices.SortFunc(g.nodes[i].Pods, placement.ComparePods)
	}
	slices.SortFunc(g.nodes[g.existing:], func(a, b placement.NodePods) int { return strings.Compare(a.Name, b.Name) })
	return g
}

// groupSnapshot draws nodes (names may repeat) and pods targeting them,
// vanished nodes, or nothing, in every state group distinguishes, owned by
// ds or others, or orphans, matching ds's selector or not.
func groupSnapshot(t *rapid.T, ds *appsv1.DaemonSet) ([]*corev1.Node, []*corev1.Pod) {
	names := rapid.SampledFrom([]string{"n1", "n2", "n3", "n4", "gone1", "gone2", "gone3"})
	nodes := rapid.SliceOfN(rapid.Custom(func(t *rapid.T) *corev1.Node {
		n := dstest.Node(names.Draw(t, "node"))
		if rapid.Bool().Draw(t, "tainted") {
			n.Spec.Taints = []corev1.Taint{{Key: "k", Effect: corev1.TaintEffectNoSchedule}}
		}
		return n
	}), 0, 6).Draw(t, "nodes")
	pods := rapid.SliceOfN(rapid.Custom(func(t *rapid.T) *corev1.Pod {
		node := names.Draw(t, "target")
		p := dstest.Pod(ds, rapid.SampledFrom([]string{"a", "b", "c"}).Draw(t, "name"), node, rapid.SampledFrom([]string{"h", "old"}).Draw(t, "hash"),
			dstest.Created(dstest.Epoch.Add(time.Duration(rapid.IntRange(0, 2).Draw(t, "created"))*time.Second)),
			dstest.Phase(rapid.SampledFrom([]corev1.PodPhase{corev1.PodRunning, corev1.PodFailed, corev1.PodSucceeded}).Draw(t, "phase")))
		switch rapid.IntRange(0, 3).Draw(t, "targeting") {
		case 1:
			dstest.Unscheduled(node)(p)
		case 2:
			p.Spec.NodeName = "" // no target at all
		}
		if rapid.Bool().Draw(t, "deleting") {
			dstest.Deleting(p)
		}
		if rapid.Bool().Draw(t, "unready") {
			p.Status.Conditions[0].Status = corev1.ConditionFalse
		}
		switch rapid.IntRange(0, 5).Draw(t, "ownership") {
		case 1:
			p.OwnerReferences = nil
		case 2:
			p.OwnerReferences[0].UID = "other-uid"
		case 3:
			p.OwnerReferences[0].Name = "other"
		case 4:
			p.Labels = map[string]string{"app": "other"}
		case 5:
			p.Namespace = "other"
		}
		return p
	}), 0, 12).Draw(t, "pods")
	return nodes, pods
}

// sameGrouping checks got against want, and got's pod states against
// classify.
func sameGrouping(t *rapid.T, classify *placement.PodClassifier, want, got grouping) {
	if got.existing != want.existing {
		t.Fatalf("existing = %d, want %d", got.existing, want.existing)
	}
	if !slices.Equal(got.claimed, want.claimed) {
		t.Fatalf("claimed: got %d pods, want %d", len(got.claimed), len(want.claimed))
	}
	if diff := cmp.Diff(want.patches, got.patches); diff != "" {
		t.Fatalf("patches (-want +got):\n%s", diff)
	}
	if !slices.Equal(got.history, want.history) {
		t.Fatalf("history: got %d pods, want %d", len(got.history), len(want.history))
	}
	if len(got.nodes) != len(want.nodes) {
		t.Fatalf("got %d nodes, want %d", len(got.nodes), len(want.nodes))
	}
	for i := range want.nodes {
		w, g := want.nodes[i], got.nodes[i]
		if g.Name != w.Name || g.Node != w.Node || g.Decision != w.Decision || !slices.Equal(g.Pods, w.Pods) {
			t.Fatalf("nodes[%d]: got %s %p %v %v, want %s %p %v %v", i, g.Name, g.Node, g.Decision, g.Pods, w.Name, w.Node, w.Decision, w.Pods)
		}
		if len(g.States) != len(g.Pods) {
			t.Fatalf("nodes[%d]: States %v for %d pods", i, g.States, len(g.Pods))
		}
		for k, f := range g.States {
			if want := classify.State(g.Pods[k]); f != want {
				t.Fatalf("nodes[%d]: States[%d] = %v, want %v", i, k, f, want)
			}
		}
	}
}

// TestGroupIsReferenceGroup checks group against referenceGroup, twice in
// a row on one scratch, so that memory left over from a larger plan cannot
// leak into the next.
func TestGroupIsReferenceGroup(t *testing.T) {
	ds := dstest.DaemonSet("agent")
	eval := placement.New(ds, placement.Options{})
	selector, err := metav1.LabelSelectorAsSelector(ds.Spec.Selector)
	if err != nil {
		t.Fatal(err)
	}
	sel := compileSelector(selector)
	classify := placement.NewPodClassifier(ds, "h", dstest.Epoch)
	rapid.Check(t, func(t *rapid.T) {
		sc := new(scratch)
		for _, round := range []string{"first", "second"} {
			nodes, pods := groupSnapshot(t, ds)
			before := slices.Clone(pods)
			g := group(sc, ds, eval, &sel, &classify, nodes, nil, pods)
			sameGrouping(t, &classify, referenceGroup(ds, eval, selector, nodes, pods), g)
			if !slices.Equal(pods, before) {
				t.Fatalf("%s: group reordered its input", round)
			}
			sc.release(g)
		}
	})
}

// TestSelectorMatchesLikeLabels checks the compiled pod selector against
// labels.Selector.Matches on random selectors and label sets.
func TestSelectorMatchesLikeLabels(t *testing.T) {
	keys := rapid.SampledFrom([]string{"a", "b", "c"})
	values := rapid.SampledFrom([]string{"x", "y", ""})
	labelSets := rapid.MapOfN(keys, values, 0, 3)
	parsed := []string{"a>1", "a<1", "a!=x", "a==x", "!a", "a", "a in (x,y)", "a notin (x)", "a,b!=y"}
	rapid.Check(t, func(t *rapid.T) {
		var selector labels.Selector
		switch rapid.IntRange(0, 2).Draw(t, "kind") {
		case 0:
			ls := &metav1.LabelSelector{MatchLabels: rapid.MapOfN(keys, values, 0, 2).Draw(t, "matchLabels")}
			for _, op := range rapid.SliceOfN(rapid.SampledFrom([]metav1.LabelSelectorOperator{
				metav1.LabelSelectorOpIn, metav1.LabelSelectorOpNotIn, metav1.LabelSelectorOpExists, metav1.LabelSelectorOpDoesNotExist,
			}), 0, 3).Draw(t, "ops") {
				var vs []string
				if op == metav1.LabelSelectorOpIn || op == metav1.LabelSelectorOpNotIn {
					vs = rapid.SliceOfN(values, 1, 2).Draw(t, "values")
				}
				ls.MatchExpressions = append(ls.MatchExpressions, metav1.LabelSelectorRequirement{Key: keys.Draw(t, "key"), Operator: op, Values: vs})
			}
			if rapid.Bool().Draw(t, "nil") {
				ls = nil
			}
			var err error
			if selector, err = metav1.LabelSelectorAsSelector(ls); err != nil {
				t.Skip(err)
			}
		case 1:
			var err error
			if selector, err = labels.Parse(rapid.SampledFrom(parsed).Draw(t, "parse")); err != nil {
				t.Fatal(err)
			}
		default:
			selector = rapid.SampledFrom([]labels.Selector{labels.Everything(), labels.Nothing()}).Draw(t, "constant")
		}
		s := compileSelector(selector)
		for _, l := range rapid.SliceOfN(labelSets, 1, 4).Draw(t, "labels") {
			if got, want := s.matches(l), selector.Matches(labels.Set(l)); got != want {
				t.Fatalf("%q on %v: got %v, want %v", selector.String(), l, got, want)
			}
		}
	})
}
