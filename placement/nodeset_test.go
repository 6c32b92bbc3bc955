package placement

import (
	"fmt"
	"testing"

	corev1 "k8s.io/api/core/v1"
	"k8s.io/apimachinery/pkg/api/equality"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"pgregory.net/rapid"
)

// checkSetEvaluate checks that a setEvaluator decides every node of a set
// exactly as Evaluate does, for random DaemonSets, options and nodes (nil
// ones included), and that building the set and binding to it leave the
// inputs alone.
func checkSetEvaluate(t *rapid.T) {
	ds := genDaemonSet.Draw(t, "ds")
	if rapid.IntRange(0, 3).Draw(t, "reachAffinity") > 0 {
		// Most nodes would stop at nodeName or nodeSelector otherwise.
		ds.Spec.Template.Spec.NodeName = ""
		ds.Spec.Template.Spec.NodeSelector = nil
		ds.Spec.Template.Spec.Affinity = required(rapid.SliceOfN(genValidTerm, 1, 3).Draw(t, "terms")...)
	}
	opts := genOptions.Draw(t, "opts")
	nodes := rapid.SliceOfN(rapid.OneOf(genNode, rapid.Just[*corev1.Node](nil)), 0, 8).Draw(t, "nodes")
	var before []*corev1.Node
	for _, n := range nodes {
		before = append(before, n.DeepCopy()) // nil stays nil
	}
	e := New(ds, opts)
	set := NewNodeSet(nodes)
	c := e.on(set)
	if set.Len() != len(nodes) {
		t.Fatalf("Len() = %d, want %d", set.Len(), len(nodes))
	}
	for i, n := range nodes {
		if set.Node(i) != n {
			t.Fatalf("Node(%d) is not the node given", i)
		}
		if got, want := c.evaluate(i), e.Evaluate(n); got != want {
			t.Fatalf("node %d: setEvaluator.evaluate = %v, Evaluate = %v", i, got, want)
		}
	}
	// EvaluateNodeSet appends the same decisions after what is there.
	prefix := []Decision{{Reason: NodeNameMismatch}}
	all := e.EvaluateNodeSet(set, prefix)
	if len(all) != 1+len(nodes) || all[0] != prefix[0] {
		t.Fatalf("EvaluateNodeSet(set, 1 decision) = %d decisions starting %v, want %d starting %v", len(all), all[:min(1, len(all))], 1+len(nodes), prefix[0])
	}
	for i, n := range nodes {
		if got, want := all[1+i], e.Evaluate(n); got != want {
			t.Fatalf("node %d: EvaluateNodeSet = %v, Evaluate = %v", i, got, want)
		}
	}
	if !equality.Semantic.DeepEqual(before, nodes) {
		t.Fatal("the nodes were modified")
	}
}

// genValidTerm draws terms that parse, over the labels genNode draws, so
// that the comparison reaches the label columns.
var genValidTerm = rapid.Custom(func(t *rapid.T) corev1.NodeSelectorTerm {
	keys := rapid.SampledFrom([]string{"a", "b", "example.com/c"})
	values := rapid.SampledFrom([]string{"", "x", "y", "1", "10", "-3"})
	var term corev1.NodeSelectorTerm
	for range rapid.IntRange(0, 3).Draw(t, "expressions") {
		r := corev1.NodeSelectorRequirement{Key: keys.Draw(t, "key"),
			Operator: rapid.SampledFrom([]corev1.NodeSelectorOperator{corev1.NodeSelectorOpIn, corev1.NodeSelectorOpNotIn,
				corev1.NodeSelectorOpExists, corev1.NodeSelectorOpDoesNotExist, corev1.NodeSelectorOpGt, corev1.NodeSelectorOpLt}).Draw(t, "operator")}
		switch r.Operator {
		case corev1.NodeSelectorOpIn, corev1.NodeSelectorOpNotIn:
			r.Values = rapid.SliceOfN(values, 1, 3).Draw(t, "values")
		case corev1.NodeSelectorOpGt, corev1.NodeSelectorOpLt:
			r.Values = []string{rapid.SampledFrom([]string{"1", "10", "-3"}).Draw(t, "bound")}
		}
		term.MatchExpressions = append(term.MatchExpressions, r)
	}
	if rapid.IntRange(0, 3).Draw(t, "fields") == 0 {
		term.MatchFields = []corev1.NodeSelectorRequirement{{Key: "metadata.name",
			Operator: rapid.SampledFrom([]corev1.NodeSelectorOperator{corev1.NodeSelectorOpIn, corev1.NodeSelectorOpNotIn}).Draw(t, "fieldOp"),
			Values:   []string{genName.Draw(t, "fieldValue")}}}
	}
	return term
})

func TestSetEvaluateIsEvaluate(t *testing.T) {
	rapid.Check(t, checkSetEvaluate)
}

func FuzzSetEvaluate(f *testing.F) {
	f.Fuzz(rapid.MakeFuzz(checkSetEvaluate))
}

func TestSetEvaluateDoesNotAllocate(t *testing.T) {
	nodes := benchNodes(50)
	c := New(withSpec(func(s *corev1.PodSpec) { s.Affinity = sixNotIn() }), Options{}).on(NewNodeSet(nodes))
	run := 0
	if n := testing.AllocsPerRun(20, func() {
		run = 0
		for i := range nodes {
			if c.evaluate(i).ShouldRun() {
				run++
			}
		}
	}); n != 0 {
		t.Errorf("setEvaluator.evaluate: %v allocations per 50 nodes, want 0", n)
	}
	if run != len(nodes) {
		t.Errorf("%d of %d nodes run", run, len(nodes))
	}
}

func TestEvaluateNodeSetAllocations(t *testing.T) {
	nodes := benchNodes(50)
	e := New(withSpec(func(s *corev1.PodSpec) { s.Affinity = sixNotIn() }), Options{})
	set := NewNodeSet(nodes)
	decisions := make([]Decision, 0, len(nodes))
	// Binding to the set allocates its resolved requirements, a few
	// allocations whatever the number of nodes.
	if n := testing.AllocsPerRun(20, func() { decisions = e.EvaluateNodeSet(set, decisions[:0]) }); n > 10 {
		t.Errorf("EvaluateNodeSet: %v allocations for 50 nodes, want at most 10", n)
	}
	for i, d := range decisions {
		if d != e.Evaluate(nodes[i]) {
			t.Errorf("node %d: EvaluateNodeSet = %v, Evaluate = %v", i, d, e.Evaluate(nodes[i]))
		}
	}
	if got := e.EvaluateNodeSet(nil, nil); got != nil {
		t.Errorf("EvaluateNodeSet(nil, nil) = %v, want nil", got)
	}
	if got := e.EvaluateNodeSet(NewNodeSet(nil), decisions[:1]); len(got) != 1 {
		t.Errorf("EvaluateNodeSet(empty set, 1 decision) = %d decisions, want 1", len(got))
	}
}

// BenchmarkNewNodeSet prepares the node lists of BenchmarkEvaluate.
func BenchmarkNewNodeSet(b *testing.B) {
	for _, n := range []int{10000, 100000} {
		b.Run(fmt.Sprintf("nodes=%d", n), func(b *testing.B) {
			nodes := benchNodes(n)
			b.ReportAllocs()
			for b.Loop() {
				NewNodeSet(nodes)
			}
			b.ReportMetric(float64(b.Elapsed().Nanoseconds())/float64(b.N)/float64(n), "ns/node")
		})
	}
}

func TestEmptyNodeSet(t *testing.T) {
	set := NewNodeSet(nil)
	if set.Len() != 0 || len(set.Nodes()) != 0 {
		t.Fatalf("NewNodeSet(nil): Len() = %d, Nodes() = %v", set.Len(), set.Nodes())
	}
	// Its nodes are none: a pod's node is a vanished one.
	ds := fluentd()
	pod := &corev1.Pod{ObjectMeta: metav1.ObjectMeta{Name: "p", Namespace: ds.Namespace, Labels: ds.Spec.Template.Labels}, Spec: corev1.PodSpec{NodeName: "gone"}}
	g, err := Group(GroupInput{Evaluator: New(ds, Options{}), NodeSet: set, Pods: []*corev1.Pod{pod}})
	if err != nil {
		t.Fatal(err)
	}
	if g.Existing() != 0 || g.Len() != 1 || g.At(0).Name() != "gone" || g.At(0).Exists() {
		t.Errorf("Group over an empty NodeSet: %d existing, %d entries, want 0 and the vanished node gone", g.Existing(), g.Len())
	}
}
