package rollout_test

import (
	"fmt"
	"slices"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"
	appsv1 "k8s.io/api/apps/v1"
	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/labels"
	"k8s.io/apimachinery/pkg/util/intstr"
	"k8s.io/apimachinery/pkg/util/validation/field"
	"pgregory.net/rapid"

	"github.com/dsplan/dsplan/internal/dstest"
	"github.com/dsplan/dsplan/placement"
	"github.com/dsplan/dsplan/rollout"
)

// fleet is n nodes node-0000… with an available old pod each; zone(i) and
// extra(i) label them.
func fleet(ds *appsv1.DaemonSet, n int, label func(i int) map[string]string) ([]*corev1.Node, []*corev1.Pod) {
	var nodes []*corev1.Node
	var pods []*corev1.Pod
	for i := range n {
		name := fmt.Sprintf("node-%04d", i)
		node := dstest.Node(name)
		if label != nil {
			for k, v := range label(i) {
				node.Labels[k] = v
			}
		}
		nodes = append(nodes, node)
		pods = append(pods, dstest.Pod(ds, "old-"+name, name, "old"))
	}
	return nodes, pods
}

func deletedNodes(p rollout.Plan) []string {
	var out []string
	for _, d := range p.Deletes {
		out = append(out, d.Node)
	}
	return out
}

func createdNodes(p rollout.Plan) []string {
	var out []string
	for _, c := range p.Creates {
		out = append(out, c.Node)
	}
	return out
}

func TestControls(t *testing.T) {
	zones := func(i int) map[string]string {
		return map[string]string{"topology.kubernetes.io/zone": []string{"b", "a", "c"}[i%3], "tier": []string{"canary", "batch", "web", "web"}[i%4]}
	}
	pct := func(s string) *intstr.IntOrString { v := intstr.FromString(s); return &v }
	num := func(n int32) *intstr.IntOrString { v := intstr.FromInt32(n); return &v }
	for _, tc := range []struct {
		name        string
		maxUnavail  intstr.IntOrString
		maxSurge    intstr.IntOrString
		nodes       int
		opts        rollout.Options
		wantDeletes []string
		wantCreates []string
		wantWaits   map[rollout.WaitReason]int
	}{
		{name: "zero options: first by node name", maxUnavail: intstr.FromInt32(2), nodes: 4,
			wantDeletes: []string{"node-0000", "node-0001"}},
		{name: "partition 3 of 4 leaves one update", maxUnavail: intstr.FromInt32(2), nodes: 4, opts: rollout.Options{Partition: num(3)},
			wantDeletes: []string{"node-0000"}},
		{name: "partition 10% of 25 keeps 2 (rounded down)", maxUnavail: intstr.FromString("100%"), nodes: 25, opts: rollout.Options{Partition: pct("10%")},
			wantDeletes: nodeRange(0, 23)},
		{name: "partition at desired updates nothing", maxUnavail: intstr.FromInt32(2), nodes: 4, opts: rollout.Options{Partition: num(4), Explain: true},
			wantWaits: map[rollout.WaitReason]int{rollout.WaitPartition: 4}},
		{name: "paused", maxUnavail: intstr.FromInt32(2), nodes: 3, opts: rollout.Options{Paused: true, Explain: true},
			wantWaits: map[rollout.WaitReason]int{rollout.WaitPaused: 3}},
		{name: "selector: only the canary tier", maxUnavail: intstr.FromInt32(5), nodes: 8,
			opts:        rollout.Options{Selector: labels.SelectorFromSet(labels.Set{"tier": "canary"}), Explain: true},
			wantDeletes: []string{"node-0000", "node-0004"}, wantWaits: map[rollout.WaitReason]int{rollout.WaitOutsideSelector: 6}},
		{name: "explicit nodes first", maxUnavail: intstr.FromInt32(2), nodes: 6, opts: rollout.Options{Order: rollout.Order{Nodes: []string{"node-0005", "node-0003"}}},
			wantDeletes: []string{"node-0003", "node-0005"}},
		{name: "weights: web first", maxUnavail: intstr.FromInt32(2), nodes: 8, opts: rollout.Options{Order: rollout.Order{Weights: []rollout.Weight{{Key: "tier", Value: "web", Weight: 10}}}},
			wantDeletes: []string{"node-0002", "node-0003"}},
		{name: "zone by zone: zone a first", maxUnavail: intstr.FromInt32(10), nodes: 9,
			opts:        rollout.Options{Order: rollout.Order{TopologyKey: "topology.kubernetes.io/zone"}, Explain: true},
			wantDeletes: []string{"node-0001", "node-0004", "node-0007"}, wantWaits: map[rollout.WaitReason]int{rollout.WaitLaterZone: 6}},
		{name: "zone budget", maxUnavail: intstr.FromInt32(10), nodes: 9,
			opts:        rollout.Options{Order: rollout.Order{TopologyKey: "topology.kubernetes.io/zone", ZoneBudget: num(1)}, Explain: true},
			wantDeletes: []string{"node-0001"}, wantWaits: map[rollout.WaitReason]int{rollout.WaitLaterZone: 6, rollout.WaitZoneBudget: 2}},
		{name: "held nodes wait", maxUnavail: intstr.FromInt32(2), nodes: 4, opts: rollout.Options{Held: map[string]bool{"node-0000": true}, Explain: true},
			wantDeletes: []string{"node-0001", "node-0002"}, wantWaits: map[rollout.WaitReason]int{rollout.WaitHeld: 1, rollout.WaitBudget: 1}},
		{name: "surge with partition and order", maxSurge: intstr.FromInt32(2), nodes: 6,
			opts:        rollout.Options{Partition: num(3), Order: rollout.Order{Nodes: []string{"node-0004"}}},
			wantCreates: []string{"node-0000", "node-0004"}},
		{name: "surge paused", maxSurge: intstr.FromInt32(2), nodes: 3, opts: rollout.Options{Paused: true}},
		{name: "surge is not held", maxSurge: intstr.FromInt32(1), nodes: 2, opts: rollout.Options{Held: map[string]bool{"node-0000": true}},
			wantCreates: []string{"node-0000"}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			ds := dstest.DaemonSet("agent", dstest.RollingUpdate(tc.maxUnavail, tc.maxSurge))
			nodes, pods := fleet(ds, tc.nodes, zones)
			p, err := rollout.Update(ds, dstest.Group(ds, "new", dstest.Epoch, nodes, pods), tc.opts)
			if err != nil {
				t.Fatal(err)
			}
			if diff := cmp.Diff(tc.wantDeletes, deletedNodes(p)); diff != "" {
				t.Errorf("deletes (-want +got):\n%s", diff)
			}
			if diff := cmp.Diff(tc.wantCreates, createdNodes(p)); diff != "" {
				t.Errorf("creates (-want +got):\n%s", diff)
			}
			if tc.opts.Explain {
				got := map[rollout.WaitReason]int{}
				for _, w := range p.Waiting {
					got[w.Reason]++
				}
				if diff := cmp.Diff(tc.wantWaits, got); diff != "" {
					t.Errorf("waits (-want +got):\n%s", diff)
				}
			}
		})
	}
}

func nodeRange(from, to int) []string {
	var out []string
	for i := from; i < to; i++ {
		out = append(out, fmt.Sprintf("node-%04d", i))
	}
	return out
}

func TestParseAnnotations(t *testing.T) {
	ds := func(a map[string]string) *appsv1.DaemonSet {
		return &appsv1.DaemonSet{ObjectMeta: metav1.ObjectMeta{Annotations: a}}
	}
	five, ten := intstr.FromInt32(5), intstr.FromString("10%")
	t.Run("valid", func(t *testing.T) {
		o, errs := rollout.ParseAnnotations(ds(map[string]string{
			rollout.AnnotationPartition:    "5",
			rollout.AnnotationPaused:       "true",
			rollout.AnnotationSelector:     "zone in (a,b),tier!=gpu",
			rollout.AnnotationOrderNodes:   "n-1, n-2",
			rollout.AnnotationOrderWeights: "tier=web:10,canary:100",
			rollout.AnnotationZoneKey:      "topology.kubernetes.io/zone",
			rollout.AnnotationZoneBudget:   "10%",
			rollout.AnnotationGroup:        "node-agents",
			"unrelated.example.com/x":      "y",
		}))
		if len(errs) > 0 {
			t.Fatalf("errors: %v", errs)
		}
		if *o.Partition != five || !o.Paused || o.Selector.String() != "tier!=gpu,zone in (a,b)" ||
			!slices.Equal(o.Order.Nodes, []string{"n-1", "n-2"}) || o.Order.TopologyKey != "topology.kubernetes.io/zone" || *o.Order.ZoneBudget != ten {
			t.Errorf("ParseAnnotations = %+v", o)
		}
		if diff := cmp.Diff([]rollout.Weight{{Key: "tier", Value: "web", Weight: 10}, {Key: "canary", Weight: 100}}, o.Order.Weights); diff != "" {
			t.Errorf("weights (-want +got):\n%s", diff)
		}
	})
	path := func(k string) string { return field.NewPath("metadata", "annotations").Key(k).String() }
	for _, tc := range []struct {
		name, key, value string
	}{
		{"partition abc", rollout.AnnotationPartition, "abc"},
		{"negative partition", rollout.AnnotationPartition, "-1"},
		{"partition over 100%", rollout.AnnotationPartition, "150%"},
		{"paused yes", rollout.AnnotationPaused, "yes"},
		{"unparsable selector", rollout.AnnotationSelector, "zone in (a"},
		{"bad node name", rollout.AnnotationOrderNodes, "ok,Not_A_Name"},
		{"weight without number", rollout.AnnotationOrderWeights, "tier=web"},
		{"weight not a number", rollout.AnnotationOrderWeights, "tier=web:x"},
		{"bad zone key", rollout.AnnotationZoneKey, "a b"},
		{"bad zone budget", rollout.AnnotationZoneBudget, "1.5"},
		{"bad group", rollout.AnnotationGroup, "Not A Group"},
		{"unknown control", rollout.AnnotationPrefix + "partiton", "3"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			_, errs := rollout.ParseAnnotations(ds(map[string]string{tc.key: tc.value}))
			if len(errs) != 1 || errs[0].Field != path(tc.key) {
				t.Errorf("ParseAnnotations(%s=%q) = %v, want one error at %s", tc.key, tc.value, errs, path(tc.key))
			}
		})
	}
	if o, errs := rollout.ParseAnnotations(nil); errs != nil || o.Paused {
		t.Errorf("ParseAnnotations(nil) = %+v, %v", o, errs)
	}
}

// controlsInput is a drawn cluster mid-rollout with random controls.
type controlsInput struct {
	ds    *appsv1.DaemonSet
	nodes []*corev1.Node
	pods  []*corev1.Pod
	opts  rollout.Options
}

func genControls(t *rapid.T) controlsInput {
	maxUnavailable := rapid.IntRange(0, 4).Draw(t, "maxUnavailable")
	maxSurge := rapid.IntRange(0, 3).Draw(t, "maxSurge")
	in := controlsInput{ds: dstest.DaemonSet("agent", dstest.RollingUpdate(intstr.FromInt(maxUnavailable), intstr.FromInt(maxSurge)))}
	n := rapid.IntRange(0, 12).Draw(t, "nodes")
	for i := range n {
		name := fmt.Sprintf("node-%02d", i)
		node := dstest.Node(name, dstest.Labels("zone", rapid.SampledFrom([]string{"a", "b", "c"}).Draw(t, "zone"),
			"tier", rapid.SampledFrom([]string{"canary", "web"}).Draw(t, "tier")))
		if rapid.IntRange(0, 5).Draw(t, "ineligible") == 0 {
			dstest.Taint("dedicated", "x", corev1.TaintEffectNoSchedule)(node)
		}
		in.nodes = append(in.nodes, node)
		for j := range rapid.IntRange(0, 2).Draw(t, "pods") {
			var mods []func(*corev1.Pod)
			if !rapid.Bool().Draw(t, "ready") {
				mods = append(mods, dstest.NotReady)
			}
			in.pods = append(in.pods, dstest.Pod(in.ds, fmt.Sprintf("p-%d-%d", i, j), name, rapid.SampledFrom([]string{"old", "new"}).Draw(t, "hash"), mods...))
		}
	}
	if rapid.Bool().Draw(t, "partition") {
		v := rapid.SampledFrom([]intstr.IntOrString{intstr.FromInt32(0), intstr.FromInt32(2), intstr.FromInt32(5), intstr.FromString("50%")}).Draw(t, "partitionValue")
		in.opts.Partition = &v
	}
	in.opts.Paused = rapid.IntRange(0, 4).Draw(t, "paused") == 0
	if rapid.Bool().Draw(t, "selector") {
		in.opts.Selector = labels.SelectorFromSet(labels.Set{"tier": "canary"})
	}
	if rapid.Bool().Draw(t, "explicit") {
		in.opts.Order.Nodes = []string{"node-05", "node-02"}
	}
	if rapid.Bool().Draw(t, "weights") {
		in.opts.Order.Weights = []rollout.Weight{{Key: "tier", Value: "web", Weight: 5}}
	}
	if rapid.Bool().Draw(t, "zoned") {
		in.opts.Order.TopologyKey = "zone"
		if rapid.Bool().Draw(t, "zoneBudget") {
			v := intstr.FromInt32(1)
			in.opts.Order.ZoneBudget = &v
		}
	}
	if rapid.Bool().Draw(t, "held") {
		in.opts.Held = map[string]bool{"node-01": true, "node-03": true}
	}
	in.opts.Explain = rapid.Bool().Draw(t, "explain")
	return in
}

// checkControls states the controls' properties on a drawn input:
//
//  1. partition is never crossed: the nodes the pass starts updating leave
//     at least Partition desired nodes on an old revision;
//  2. paused never starts a replacement;
//  3. only nodes the selector matches start updating;
//  4. the order is respected: no node starts updating while an earlier
//     candidate in the order waits for a reason other than its own node
//     (held, outside the selector), unless it costs no budget;
//  5. held nodes never lose an available pod;
//  6. maxUnavailable and maxSurge hold, as without controls;
//  7. with every control at its zero value the plan is upstream's
//     (the same as with no Options), with Explain or without.
func checkControls(t *rapid.T) {
	in := genControls(t)
	g := dstest.Group(in.ds, "new", dstest.Epoch, in.nodes, in.pods)
	p, err := rollout.Update(in.ds, g, in.opts)
	if err != nil {
		t.Fatalf("Update: %v", err)
	}
	upstream, err := rollout.Update(in.ds, g, rollout.Options{})
	if err != nil {
		t.Fatalf("Update(zero): %v", err)
	}
	explained, _ := rollout.Update(in.ds, g, rollout.Options{Explain: true})
	explained.Waiting = nil
	if diff := cmp.Diff(upstream, explained); diff != "" {
		t.Fatalf("Explain changed the plan (-without +with):\n%s", diff)
	}

	starts := map[string]bool{} // nodes whose update starts in this pass
	for _, d := range p.Deletes {
		if d.Reason == rollout.DeleteReplace || d.Reason == rollout.DeleteReplaceUnavailable {
			starts[d.Node] = true
		}
	}
	for _, c := range p.Creates {
		starts[c.Node] = true
	}
	if in.opts.Paused && len(starts) > 0 {
		t.Fatalf("paused, but updates start on %v", starts)
	}
	old := 0
	for _, n := range g.All() {
		if oldOnly(n) && n.Exists() {
			old++
		}
	}
	if old-len(starts) < min(p.Partition, old) {
		t.Fatalf("partition %d crossed: %d old nodes, %d updates start", p.Partition, old, len(starts))
	}
	for node := range starts {
		n, _ := g.Lookup(node)
		if in.opts.Selector != nil && !in.opts.Selector.Matches(labels.Set(n.Node().Labels)) {
			t.Fatalf("%s starts updating outside the selector", node)
		}
	}
	for _, d := range p.Deletes {
		if d.Reason == rollout.DeleteReplace && in.opts.Held[d.Node] {
			t.Fatalf("held node %s loses its available pod", d.Node)
		}
	}
	if in.opts.Explain {
		for _, w := range p.Waiting {
			if starts[w.Node] {
				t.Fatalf("%s both starts and waits (%s)", w.Node, w.Reason)
			}
			if w.Reason == rollout.WaitBudget || w.Reason == rollout.WaitLaterZone || w.Reason == rollout.WaitPartition {
				// Order: no later node in the same situation started
				// while this one waits, unless it was free.
				for node := range starts {
					if laterInOrder(in.opts.Order, g, node, w.Node) && !freeStart(p, node) && w.Reason != rollout.WaitLaterZone {
						t.Fatalf("%s starts while %s, earlier in order, waits (%s)", node, w.Node, w.Reason)
					}
				}
			}
		}
	}
	budgeted, surged := 0, 0
	for _, d := range p.Deletes {
		if d.Reason == rollout.DeleteReplace {
			budgeted++
		}
	}
	for _, c := range p.Creates {
		if c.Reason == rollout.CreateSurge {
			surged++
		}
	}
	if budgeted > p.Budget.MaxUnavailable || surged > p.Budget.MaxSurge {
		t.Fatalf("%d replaced, %d surged; budgets %+v", budgeted, surged, p.Budget)
	}
	if len(p.Deletes)+len(p.Creates) > len(upstream.Deletes)+len(upstream.Creates) {
		t.Fatalf("controls added actions: %d against upstream's %d", len(p.Deletes)+len(p.Creates), len(upstream.Deletes)+len(upstream.Creates))
	}
}

// oldOnly reports whether the node runs exactly one live pod, an old one.
func oldOnly(n placement.NodePods) bool {
	live, old := 0, false
	for _, p := range n.Pods() {
		if !p.Deleting() {
			live++
			old = !p.Updated()
		}
	}
	return live == 1 && old
}

func freeStart(p rollout.Plan, node string) bool {
	for _, d := range p.Deletes {
		if d.Node == node && d.Reason == rollout.DeleteReplaceUnavailable {
			return true
		}
	}
	for _, c := range p.Creates {
		if c.Node == node && c.Reason == rollout.CreateSurgeUnavailable {
			return true
		}
	}
	return false
}

// laterInOrder reports whether node a comes after node b in o (same zone
// order aside), by the documented rules.
func laterInOrder(o rollout.Order, g *placement.Grouping, a, b string) bool {
	rank := func(name string) (int, int) {
		explicit := slices.Index(o.Nodes, name)
		if explicit < 0 {
			explicit = len(o.Nodes)
		}
		n, _ := g.Lookup(name)
		weight := 0
		for _, w := range o.Weights {
			if v, ok := n.Node().Labels[w.Key]; ok && (w.Value == "" || w.Value == v) {
				weight += w.Weight
			}
		}
		return explicit, -weight
	}
	if o.TopologyKey != "" {
		na, _ := g.Lookup(a)
		nb, _ := g.Lookup(b)
		if za, zb := na.Node().Labels[o.TopologyKey], nb.Node().Labels[o.TopologyKey]; za != zb {
			return za > zb
		}
	}
	ea, wa := rank(a)
	eb, wb := rank(b)
	if ea != eb {
		return ea > eb
	}
	if wa != wb {
		return wa > wb
	}
	return strings.Compare(a, b) > 0
}

func TestControlsProperties(t *testing.T) {
	rapid.Check(t, checkControls)
}

func FuzzControls(f *testing.F) {
	f.Fuzz(rapid.MakeFuzz(checkControls))
}
