package rollout_test

import (
	"errors"
	"fmt"
	"testing"

	"github.com/google/go-cmp/cmp"
	"github.com/google/go-cmp/cmp/cmpopts"
	appsv1 "k8s.io/api/apps/v1"
	corev1 "k8s.io/api/core/v1"
	"k8s.io/apimachinery/pkg/util/intstr"
	"pgregory.net/rapid"

	"github.com/dsplan/dsplan/internal/dstest"
	"github.com/dsplan/dsplan/placement"
	"github.com/dsplan/dsplan/rollout"
)

// input is a drawn rollout input: a DaemonSet with int budgets, nodes
// (some ineligible through an untolerated NoSchedule taint) and zero to two
// pods per node, old or new, ready or not, some on vanished nodes.
type input struct {
	ds    *appsv1.DaemonSet
	nodes []*corev1.Node
	pods  []*corev1.Pod
}

func genInput(t *rapid.T) input {
	maxUnavailable := rapid.IntRange(0, 4).Draw(t, "maxUnavailable")
	maxSurge := rapid.IntRange(0, 3).Draw(t, "maxSurge")
	in := input{ds: dstest.DaemonSet("agent", dstest.RollingUpdate(intstr.FromInt(maxUnavailable), intstr.FromInt(maxSurge)))}
	for i := range rapid.IntRange(0, 8).Draw(t, "nodes") {
		name := fmt.Sprintf("node-%d", i)
		switch rapid.IntRange(0, 5).Draw(t, "node") {
		case 0:
			// vanished: its pods target a node that does not exist
		case 1:
			in.nodes = append(in.nodes, dstest.Node(name, dstest.Taint("dedicated", "x", corev1.TaintEffectNoSchedule)))
		default:
			in.nodes = append(in.nodes, dstest.Node(name))
		}
		for j := range rapid.IntRange(0, 2).Draw(t, "pods") {
			hash := rapid.SampledFrom([]string{"old", "new"}).Draw(t, "hash")
			var mods []func(*corev1.Pod)
			if !rapid.Bool().Draw(t, "ready") {
				mods = append(mods, dstest.NotReady)
			}
			in.pods = append(in.pods, dstest.Pod(in.ds, fmt.Sprintf("p-%d-%d", i, j), name, hash, mods...))
		}
	}
	return in
}

// checkUpdate states the rolling update's invariants (upstream's
// rollingUpdate "Assumptions/Invariants") for one drawn input:
//
//  1. without surge, the available pods deleted (Replace) never exceed the
//     room maxUnavailable leaves, and each was available;
//  2. with surge, an available old pod on an eligible node is deleted only
//     next to an available new pod on that node (SurgeReplaced), and surge
//     creates (Surge) never exceed maxSurge;
//  3. every create is for an eligible existing node without a new pod;
//  4. the plan does not depend on the order of the nodes or pods;
//  5. the input is not modified.
func checkUpdate(t *rapid.T) {
	in := genInput(t)
	nodesBefore, podsBefore := deepCopies(in.nodes), deepCopies(in.pods)
	g := dstest.Group(in.ds, "new", dstest.Epoch, in.nodes, in.pods)
	p, err := rollout.Update(in.ds, g, rollout.Options{})
	if err != nil {
		// Only a surge candidate on a vanished node fails the update, as
		// upstream.
		if !errors.Is(err, rollout.ErrNodeNotFound) || g.Existing() == g.Len() {
			t.Fatalf("Update: %v", err)
		}
		return
	}

	budgeted, surged := 0, 0
	for _, d := range p.Deletes {
		n, _ := g.Lookup(d.Node)
		switch d.Reason {
		case rollout.DeleteReplace:
			budgeted++
			if !placement.IsPodAvailable(d.Pod, 0, dstest.Epoch) {
				t.Fatalf("Replace deletes unavailable pod %s", d.Pod.Name)
			}
		case rollout.DeleteSurgeReplaced:
			if !hasAvailableNew(n) {
				t.Fatalf("SurgeReplaced deletes %s on %s without an available new pod there", d.Pod.Name, d.Node)
			}
		}
		if p.Budget.MaxSurge > 0 && n.Decision().ShouldRun() && placement.IsPodAvailable(d.Pod, 0, dstest.Epoch) && !hasAvailableNew(n) {
			t.Fatalf("surge deletes available old pod %s on eligible %s without an available new pod (%s)", d.Pod.Name, d.Node, d.Reason)
		}
	}
	if unavailable := unavailableNodes(g); p.Budget.MaxSurge == 0 && budgeted > 0 && unavailable+budgeted > p.Budget.MaxUnavailable {
		t.Fatalf("%d available pods deleted with %d nodes unavailable, maxUnavailable %d", budgeted, unavailable, p.Budget.MaxUnavailable)
	}
	for _, c := range p.Creates {
		n, ok := g.Lookup(c.Node)
		if !ok || !n.Exists() || !n.Decision().ShouldRun() {
			t.Fatalf("create on %s, which is not an eligible node", c.Node)
		}
		for _, pod := range n.Pods() {
			if pod.Updated() && !pod.Deleting() {
				t.Fatalf("create on %s, which has new pod %s", c.Node, pod.Name())
			}
		}
		if c.Reason == rollout.CreateSurge {
			surged++
		}
	}
	if surged > p.Budget.MaxSurge {
		t.Fatalf("%d surge creates, maxSurge %d", surged, p.Budget.MaxSurge)
	}

	shuffled := dstest.Group(in.ds, "new", dstest.Epoch,
		rapid.Permutation(in.nodes).Draw(t, "nodeOrder"), rapid.Permutation(in.pods).Draw(t, "podOrder"))
	q, err := rollout.Update(in.ds, shuffled, rollout.Options{})
	if err != nil {
		t.Fatalf("Update(shuffled): %v", err)
	}
	if diff := cmp.Diff(summary(p), summary(q)); diff != "" {
		t.Fatalf("plan depends on input order (-given +shuffled):\n%s", diff)
	}
	if diff := cmp.Diff(nodesBefore, in.nodes, cmpopts.EquateEmpty()); diff != "" {
		t.Fatalf("nodes modified (-before +after):\n%s", diff)
	}
	if diff := cmp.Diff(podsBefore, in.pods, cmpopts.EquateEmpty()); diff != "" {
		t.Fatalf("pods modified (-before +after):\n%s", diff)
	}
}

// unavailableNodes counts the nodes the rolling update looks at (nodes with
// pods, eligible existing nodes) that do not run exactly one live pod that
// is available: the unavailability a replacement adds to.
func unavailableNodes(g *placement.Grouping) int {
	count := 0
	for _, n := range g.All() {
		if n.Len() == 0 && !(n.Exists() && n.Decision().ShouldRun()) {
			continue
		}
		live, available := 0, false
		for _, pod := range n.Pods() {
			if !pod.Deleting() {
				live++
				available = pod.Available()
			}
		}
		if live != 1 || !available {
			count++
		}
	}
	return count
}

// hasAvailableNew reports whether the node runs an available pod of the
// current revision.
func hasAvailableNew(n placement.NodePods) bool {
	for _, pod := range n.Pods() {
		if pod.Updated() && pod.Available() && !pod.Deleting() {
			return true
		}
	}
	return false
}

func deepCopies[T interface{ DeepCopy() T }](objs []T) []T {
	out := make([]T, len(objs))
	for i, o := range objs {
		out[i] = o.DeepCopy()
	}
	return out
}

func TestUpdateProperties(t *testing.T) {
	rapid.Check(t, checkUpdate)
}

// FuzzUpdate checks the same properties under go test -fuzz.
func FuzzUpdate(f *testing.F) {
	f.Fuzz(rapid.MakeFuzz(checkUpdate))
}
