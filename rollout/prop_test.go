package rollout_test

import (
	"fmt"
	"testing"

	"github.com/google/go-cmp/cmp"
	"github.com/google/go-cmp/cmp/cmpopts"
	corev1 "k8s.io/api/core/v1"
	"k8s.io/apimachinery/pkg/util/intstr"
	"pgregory.net/rapid"

	"github.com/dsplan/dsplan/internal/dstest"
	"github.com/dsplan/dsplan/placement"
	"github.com/dsplan/dsplan/rollout"
)

func nodePods(node *corev1.Node, pods ...*corev1.Pod) placement.NodePods {
	return placement.NodePods{Name: node.Name, Node: node, Decision: placement.Decision{ShouldRun: true, ShouldContinueRunning: true}, Pods: pods}
}

// genInput draws a rollout input: nodes with zero to two pods, old or new,
// ready or not, some nodes ineligible, and int budgets.
func genInput(t *rapid.T) rollout.Input {
	maxUnavailable := rapid.IntRange(0, 4).Draw(t, "maxUnavailable")
	maxSurge := rapid.IntRange(0, 3).Draw(t, "maxSurge")
	ds := dstest.DaemonSet("agent", dstest.RollingUpdate(intstr.FromInt(maxUnavailable), intstr.FromInt(maxSurge)))
	in := rollout.Input{DaemonSet: ds, Hash: "new", Now: dstest.Epoch}
	n := rapid.IntRange(0, 8).Draw(t, "nodes")
	for i := range n {
		node := dstest.Node(fmt.Sprintf("node-%d", i))
		np := nodePods(node)
		if rapid.Bool().Draw(t, "ineligible") {
			np.Decision = placement.Decision{}
		}
		for j := range rapid.IntRange(0, 2).Draw(t, "pods") {
			hash := rapid.SampledFrom([]string{"old", "new"}).Draw(t, "hash")
			var mods []func(*corev1.Pod)
			if !rapid.Bool().Draw(t, "ready") {
				mods = append(mods, dstest.NotReady)
			}
			np.Pods = append(np.Pods, dstest.Pod(ds, fmt.Sprintf("p-%d-%d", i, j), node.Name, hash, mods...))
		}
		in.Nodes = append(in.Nodes, np)
	}
	return in
}

// TestUpdateProperties checks, for random inputs: without surge, the number
// of available pods deleted never exceeds the room maxUnavailable leaves;
// with surge, available old pods on eligible nodes are deleted only next
// to an available new pod, and surge creates never exceed maxSurge; the
// plan does not depend on node order; the input is not modified.
func TestUpdateProperties(t *testing.T) {
	rapid.Check(t, func(t *rapid.T) {
		in := genInput(t)
		before := make([]placement.NodePods, len(in.Nodes))
		for i, n := range in.Nodes {
			before[i] = n
			before[i].Pods = nil
			for _, p := range n.Pods {
				before[i].Pods = append(before[i].Pods, p.DeepCopy())
			}
		}
		p, err := rollout.Update(in, rollout.Options{})
		if err != nil {
			t.Fatalf("Update: %v", err)
		}
		if diff := cmp.Diff(before, in.Nodes, cmpopts.EquateEmpty()); diff != "" {
			t.Fatalf("input modified (-before +after):\n%s", diff)
		}
		available := func(pod *corev1.Pod) bool { return placement.IsPodAvailable(pod, 0, in.Now) }
		budgeted := 0
		for _, d := range p.Deletes {
			if d.Reason == rollout.Replace {
				budgeted++
				if !available(d.Pod) {
					t.Fatalf("Replace deletes unavailable pod %s", d.Pod.Name)
				}
			}
		}
		if p.Budget.MaxSurge == 0 && budgeted > p.Budget.MaxUnavailable {
			t.Fatalf("%d available pods deleted, maxUnavailable %d", budgeted, p.Budget.MaxUnavailable)
		}
		surged := 0
		for _, c := range p.Creates {
			if c.Reason == rollout.Surge {
				surged++
			}
		}
		if surged > p.Budget.MaxSurge {
			t.Fatalf("%d surge creates, maxSurge %d", surged, p.Budget.MaxSurge)
		}

		// Precomputed States give the same plan.
		classify := placement.NewPodClassifier(in.DaemonSet, in.Hash, in.Now)
		withStates := dstest.WithStates(in.Nodes, &classify)
		r, err := rollout.Update(rollout.Input{DaemonSet: in.DaemonSet, Hash: in.Hash, Nodes: withStates, Now: in.Now}, rollout.Options{})
		if err != nil {
			t.Fatalf("Update(with States): %v", err)
		}
		if diff := cmp.Diff(summary(p), summary(r)); diff != "" {
			t.Fatalf("plan with States differs (-without +with):\n%s", diff)
		}

		shuffled := rapid.Permutation(in.Nodes).Draw(t, "order")
		q, err := rollout.Update(rollout.Input{DaemonSet: in.DaemonSet, Hash: in.Hash, Nodes: shuffled, Now: in.Now}, rollout.Options{})
		if err != nil {
			t.Fatalf("Update(shuffled): %v", err)
		}
		if diff := cmp.Diff(summary(p), summary(q)); diff != "" {
			t.Fatalf("plan depends on node order (-sorted +shuffled):\n%s", diff)
		}
	})
}

// FuzzUpdate runs the properties under go test -fuzz.
func FuzzUpdate(f *testing.F) {
	f.Fuzz(rapid.MakeFuzz(func(t *rapid.T) {
		in := genInput(t)
		if _, err := rollout.Update(in, rollout.Options{}); err != nil {
			t.Fatalf("Update: %v", err)
		}
	}))
}
