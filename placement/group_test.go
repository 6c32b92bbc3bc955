package placement

import (
	"cmp"
	"errors"
	"fmt"
	"slices"
	"strings"
	"testing"
	"time"

	gocmp "github.com/google/go-cmp/cmp"
	appsv1 "k8s.io/api/apps/v1"
	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/labels"
	"pgregory.net/rapid"
)

// refEntry and refGrouping are a Grouping written plainly.
type refEntry struct {
	name     string
	node     *corev1.Node
	decision Decision
	pods     []*corev1.Pod
	states   []podState
}

type refGrouping struct {
	existing, desired  int
	entries            []refEntry
	claimed, targeting []*corev1.Pod
	claims             []Claim
}

// referenceGroup is Group written plainly, with ClaimObjects on a filtered
// copy of the pods, a map, and a slice per node: the definition Group's
// faster layout must reproduce exactly.
func referenceGroup(ds *appsv1.DaemonSet, e *Evaluator, hash string, now time.Time, nodes []*corev1.Node, all []*corev1.Pod) refGrouping {
	selector, err := metav1.LabelSelectorAsSelector(ds.Spec.Selector)
	if err != nil {
		panic(err)
	}
	var candidates []*corev1.Pod
	for _, pod := range all {
		if pod == nil || pod.Namespace != ds.Namespace {
			continue
		}
		if ref := metav1.GetControllerOfNoCopy(pod); ref != nil &&
			(ref.Kind != "DaemonSet" || ref.Name != ds.Name || ref.UID != ds.UID) {
			continue
		}
		candidates = append(candidates, pod)
	}
	claimed, claims := ClaimObjects(ds, ClaimPod, candidates, func(pod *corev1.Pod) bool {
		return selector.Matches(labels.Set(pod.Labels))
	})
	claims = slices.Compact(claims)
	c := newClassifier(e, hash, now)
	g := refGrouping{existing: len(nodes), claims: claims}
	index := map[string]int{}
	for i, node := range nodes {
		if node == nil {
			g.entries = append(g.entries, refEntry{})
			continue
		}
		if _, dup := index[node.Name]; dup {
			g.entries = append(g.entries, refEntry{})
			continue
		}
		index[node.Name] = i
		d := e.Evaluate(node)
		if d.ShouldRun() {
			g.desired++
		}
		g.entries = append(g.entries, refEntry{name: node.Name, node: node, decision: d})
	}
	duplicate := map[*corev1.Pod]bool{}
	type key struct{ node, namespace, name string }
	seen := map[key]bool{}
	for _, pod := range claimed {
		name, err := TargetNodeName(pod)
		if err != nil {
			continue
		}
		if pod.DeletionTimestamp != nil && (pod.Status.Phase == corev1.PodFailed || pod.Status.Phase == corev1.PodSucceeded) {
			continue
		}
		if k := (key{name, pod.Namespace, pod.Name}); seen[k] {
			duplicate[pod] = true
			continue
		} else {
			seen[k] = true
		}
		at, ok := index[name]
		if !ok {
			at = len(g.entries)
			index[name] = at
			g.entries = append(g.entries, refEntry{name: name})
		}
		g.entries[at].pods = append(g.entries[at].pods, pod)
	}
	for _, pod := range claimed {
		if duplicate[pod] {
			continue
		}
		g.claimed = append(g.claimed, pod)
		if _, err := TargetNodeName(pod); err == nil {
			g.targeting = append(g.targeting, pod)
		}
	}
	for i := range g.entries {
		slices.SortStableFunc(g.entries[i].pods, ComparePods)
		for _, pod := range g.entries[i].pods {
			g.entries[i].states = append(g.entries[i].states, c.state(pod))
		}
	}
	slices.SortFunc(g.entries[g.existing:], func(a, b refEntry) int { return strings.Compare(a.name, b.name) })
	return g
}

// groupSnapshot draws nodes (names may repeat, some nil) and pods targeting
// them, vanished nodes, or nothing, in every state Group distinguishes,
// owned by ds or others, or orphans, matching ds's selector or not, some
// listed twice.
func groupSnapshot(t *rapid.T, ds *appsv1.DaemonSet) ([]*corev1.Node, []*corev1.Pod) {
	names := rapid.SampledFrom([]string{"n1", "n2", "n3", "n4", "gone1", "gone2", "gone3"})
	nodes := rapid.SliceOfN(rapid.Custom(func(t *rapid.T) *corev1.Node {
		if rapid.IntRange(0, 9).Draw(t, "nilNode") == 0 {
			return nil
		}
		n := &corev1.Node{ObjectMeta: metav1.ObjectMeta{Name: names.Draw(t, "node")}}
		if rapid.Bool().Draw(t, "tainted") {
			n.Spec.Taints = []corev1.Taint{{Key: "k", Effect: corev1.TaintEffectNoSchedule}}
		}
		return n
	}), 0, 6).Draw(t, "nodes")
	epoch := time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC)
	pods := rapid.SliceOfN(rapid.Custom(func(t *rapid.T) *corev1.Pod {
		if rapid.IntRange(0, 9).Draw(t, "nilPod") == 0 {
			return nil
		}
		node := names.Draw(t, "target")
		p := &corev1.Pod{
			ObjectMeta: metav1.ObjectMeta{
				Name: rapid.SampledFrom([]string{"a", "b", "c", "d"}).Draw(t, "name"), Namespace: ds.Namespace,
				CreationTimestamp: metav1.NewTime(epoch.Add(time.Duration(rapid.IntRange(0, 2).Draw(t, "created")) * time.Second)),
				Labels:            map[string]string{"name": "fluentd-elasticsearch", appsv1.DefaultDaemonSetUniqueLabelKey: rapid.SampledFrom([]string{"h", "old"}).Draw(t, "hash")},
				OwnerReferences:   []metav1.OwnerReference{*metav1.NewControllerRef(ds, ControllerKind)},
			},
			Spec: corev1.PodSpec{NodeName: node},
			Status: corev1.PodStatus{
				Phase:      rapid.SampledFrom([]corev1.PodPhase{corev1.PodRunning, corev1.PodFailed, corev1.PodSucceeded}).Draw(t, "phase"),
				Conditions: []corev1.PodCondition{{Type: corev1.PodReady, Status: corev1.ConditionTrue}},
			},
		}
		switch rapid.IntRange(0, 3).Draw(t, "targeting") {
		case 1:
			p.Spec.NodeName = ""
			p.Spec.Affinity = &corev1.Affinity{NodeAffinity: &corev1.NodeAffinity{
				RequiredDuringSchedulingIgnoredDuringExecution: &corev1.NodeSelector{NodeSelectorTerms: []corev1.NodeSelectorTerm{{
					MatchFields: []corev1.NodeSelectorRequirement{{Key: "metadata.name", Operator: corev1.NodeSelectorOpIn, Values: []string{node}}},
				}}},
			}}
		case 2:
			p.Spec.NodeName = "" // no target at all
		}
		if rapid.Bool().Draw(t, "deleting") {
			p.DeletionTimestamp = new(metav1.NewTime(epoch))
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

// sameGrouping checks got against want.
func sameGrouping(t *rapid.T, want refGrouping, got *Grouping) {
	if got.Existing() != want.existing || got.Desired() != want.desired {
		t.Fatalf("Existing, Desired = %d, %d, want %d, %d", got.Existing(), got.Desired(), want.existing, want.desired)
	}
	if c := slices.Collect(got.ClaimedPods()); !slices.Equal(c, want.claimed) {
		t.Fatalf("claimed: got %d pods, want %d", len(c), len(want.claimed))
	}
	if c := slices.Collect(got.TargetingPods()); !slices.Equal(c, want.targeting) {
		t.Fatalf("targeting: got %d pods, want %d", len(c), len(want.targeting))
	}
	if diff := gocmp.Diff(want.claims, got.Claims()); diff != "" {
		t.Fatalf("claims (-want +got):\n%s", diff)
	}
	if got.Len() != len(want.entries) {
		t.Fatalf("got %d entries, want %d", got.Len(), len(want.entries))
	}
	for i, w := range want.entries {
		n := got.At(i)
		var pods []*corev1.Pod
		var states []podState
		for _, p := range n.Pods() {
			pods = append(pods, p.Object())
			states = append(states, p.state)
		}
		if n.Name() != w.name || n.Node() != w.node || n.Decision() != w.decision || !slices.Equal(pods, w.pods) || !slices.Equal(states, w.states) {
			t.Fatalf("entry %d: got %s %p %v %v %v, want %s %p %v %v %v", i, n.Name(), n.Node(), n.Decision(), pods, states, w.name, w.node, w.decision, w.pods, w.states)
		}
	}
}

// TestGroupIsReferenceGroup checks Group against referenceGroup, twice in
// a row on one Grouper, so that memory left over from a larger grouping
// cannot leak into the next, and through a NodeSet.
func TestGroupIsReferenceGroup(t *testing.T) {
	ds := fluentd()
	e := New(ds, Options{})
	now := time.Date(2026, 1, 1, 0, 0, 1, 0, time.UTC)
	rapid.Check(t, func(t *rapid.T) {
		var gr Grouper
		for _, round := range []string{"first", "second"} {
			nodes, pods := groupSnapshot(t, ds)
			before := slices.Clone(pods)
			in := GroupInput{Evaluator: e, Hash: "h", Now: now, Nodes: nodes, Pods: pods}
			if rapid.Bool().Draw(t, "nodeSet") {
				in.Nodes, in.NodeSet = nil, NewNodeSet(nodes)
			}
			g, err := gr.Group(in)
			if err != nil {
				t.Fatalf("%s: %v", round, err)
			}
			sameGrouping(t, referenceGroup(ds, e, "h", now, nodes, pods), g)
			if !slices.Equal(pods, before) {
				t.Fatalf("%s: Group reordered its input", round)
			}
		}
	})
}

// TestGroupIgnoresInputOrder: with node and pod names unique (of repeated
// names the first counts, so there order matters by definition), the grouping
// of every node, the claims and the counts do not depend on the order of
// the nodes or the pods, also through a NodeSet.
func TestGroupIgnoresInputOrder(t *testing.T) {
	ds := fluentd()
	e := New(ds, Options{})
	type entry struct {
		decision Decision
		pods     []string
	}
	view := func(g *Grouping) (map[string]entry, []Claim, int) {
		m := map[string]entry{}
		for _, n := range g.All() {
			var pods []string
			for _, p := range n.Pods() {
				pods = append(pods, p.Name()+"/"+p.state.String())
			}
			m[n.Name()] = entry{n.Decision(), pods}
		}
		return m, g.Claims(), g.Desired()
	}
	rapid.Check(t, func(t *rapid.T) {
		nodes, pods := groupSnapshot(t, ds)
		seen := map[string]bool{}
		nodes = slices.DeleteFunc(nodes, func(n *corev1.Node) bool {
			dup := n != nil && seen[n.Name]
			if n != nil {
				seen[n.Name] = true
			}
			return dup
		})
		for i, p := range pods {
			if p != nil {
				p.Name = fmt.Sprintf("%s-%d", p.Name, i) // of repeated pods the first counts, too
			}
		}
		g, err := Group(GroupInput{Evaluator: e, Hash: "h", Nodes: nodes, Pods: pods})
		if err != nil {
			t.Fatal(err)
		}
		wantNodes, wantClaims, wantDesired := view(g)
		in := GroupInput{Evaluator: e, Hash: "h", Nodes: rapid.Permutation(nodes).Draw(t, "nodeOrder"), Pods: rapid.Permutation(pods).Draw(t, "podOrder")}
		if rapid.Bool().Draw(t, "nodeSet") {
			in.Nodes, in.NodeSet = nil, NewNodeSet(in.Nodes)
		}
		shuffled, err := Group(in)
		if err != nil {
			t.Fatal(err)
		}
		gotNodes, gotClaims, gotDesired := view(shuffled)
		if diff := gocmp.Diff(wantNodes, gotNodes, gocmp.AllowUnexported(entry{})); diff != "" {
			t.Fatalf("nodes depend on input order (-given +shuffled):\n%s", diff)
		}
		if diff := gocmp.Diff(wantClaims, gotClaims); diff != "" || wantDesired != gotDesired {
			t.Fatalf("claims or Desired depend on input order: %d vs %d, claims (-given +shuffled):\n%s", wantDesired, gotDesired, diff)
		}
	})
}

func TestGroupErrors(t *testing.T) {
	noUID := fluentd()
	noUID.UID = ""
	badSelector := fluentd()
	badSelector.Spec.Selector.MatchExpressions = []metav1.LabelSelectorRequirement{{Key: "k", Operator: "Bogus"}}
	for _, tc := range []struct {
		name string
		e    *Evaluator
		want error
	}{
		{name: "no evaluator", want: ErrNoDaemonSet},
		{name: "no uid", e: New(noUID, Options{}), want: ErrNoIdentity},
		{name: "selector", e: New(badSelector, Options{})},
	} {
		t.Run(tc.name, func(t *testing.T) {
			g, err := Group(GroupInput{Evaluator: tc.e})
			if err == nil || g != nil {
				t.Fatalf("Group() = %v, %v, want an error", g, err)
			}
			if tc.want != nil && !errors.Is(err, tc.want) {
				t.Errorf("Group() error %v, want %v", err, tc.want)
			}
		})
	}
}

// TestGroupRepeats: a node or pod listed twice counts once, with a warning
// naming it.
func TestGroupRepeats(t *testing.T) {
	ds := fluentd()
	node := func(name string) *corev1.Node { return &corev1.Node{ObjectMeta: metav1.ObjectMeta{Name: name}} }
	pod := func(name, node string) *corev1.Pod {
		return &corev1.Pod{ObjectMeta: metav1.ObjectMeta{Name: name, Namespace: ds.Namespace, Labels: ds.Spec.Template.Labels,
			OwnerReferences: []metav1.OwnerReference{*metav1.NewControllerRef(ds, ControllerKind)}}, Spec: corev1.PodSpec{NodeName: node}}
	}
	a, b := pod("a", "n1"), pod("b", "n1")
	g, err := Group(GroupInput{Evaluator: New(ds, Options{}),
		Nodes: []*corev1.Node{node("n1"), node("n2"), node("n1"), nil},
		Pods:  []*corev1.Pod{a, b, a.DeepCopy(), nil},
	})
	if err != nil {
		t.Fatal(err)
	}
	if g.Desired() != 2 || g.At(0).Len() != 2 || g.At(2).Name() != "" {
		t.Errorf("Desired() = %d, n1 has %d pods, entry 2 named %q; want 2, 2, \"\"", g.Desired(), g.At(0).Len(), g.At(2).Name())
	}
	if claimed := slices.Collect(g.ClaimedPods()); !slices.Equal(claimed, []*corev1.Pod{a, b}) {
		t.Errorf("ClaimedPods() = %v, want a and b", claimed)
	}
	want := []Warning{
		{Field: "Nodes", Message: "1 nil entries ignored"},
		{Field: "Nodes", Message: "listed more than once, later entries ignored: n1"},
		{Field: "Pods", Message: "1 nil entries ignored"},
		{Field: "Pods", Message: "pod kube-system/a listed more than once, later entries ignored"},
	}
	got := g.Warnings()
	slices.SortFunc(got, func(a, b Warning) int {
		return cmp.Or(cmp.Compare(a.Field, b.Field), cmp.Compare(a.Message, b.Message))
	})
	if diff := gocmp.Diff(want, got); diff != "" {
		t.Errorf("Warnings() (-want +got):\n%s", diff)
	}
}

// TestGroupDoesNotAllocateAgain: a Grouper grouping the same cluster again
// allocates only what does not depend on its size (the NodeSet binding).
func TestGroupDoesNotAllocateAgain(t *testing.T) {
	ds := fluentd()
	e := New(ds, Options{})
	nodes := benchNodes(200)
	var pods []*corev1.Pod
	for _, n := range nodes {
		p := &corev1.Pod{ObjectMeta: metav1.ObjectMeta{Name: "p-" + n.Name, Namespace: ds.Namespace, Labels: ds.Spec.Template.Labels,
			OwnerReferences: []metav1.OwnerReference{*metav1.NewControllerRef(ds, ControllerKind)}}, Spec: corev1.PodSpec{NodeName: n.Name}}
		pods = append(pods, p)
	}
	var gr Grouper
	in := GroupInput{Evaluator: e, Hash: "h", Nodes: nodes, Pods: pods}
	if _, err := gr.Group(in); err != nil {
		t.Fatal(err)
	}
	if n := testing.AllocsPerRun(10, func() {
		if _, err := gr.Group(in); err != nil {
			t.Fatal(err)
		}
	}); n > 0 {
		t.Errorf("Grouper.Group again: %v allocations, want 0", n)
	}
}

func TestNodePodsPodOutOfRange(t *testing.T) {
	g, err := Group(GroupInput{Evaluator: New(fluentd(), Options{}), Nodes: []*corev1.Node{{ObjectMeta: metav1.ObjectMeta{Name: "n"}}}})
	if err != nil {
		t.Fatal(err)
	}
	defer func() {
		if recover() == nil {
			t.Error("Pod(0) on a node without pods did not panic")
		}
	}()
	g.At(0).Pod(0)
}
