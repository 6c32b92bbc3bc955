package status_test

import (
	"slices"
	"testing"

	"github.com/google/go-cmp/cmp"
	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/labels"

	"github.com/dsplan/dsplan/internal/claim"
	"github.com/dsplan/dsplan/internal/fixture"
	"github.com/dsplan/dsplan/placement"
	"github.com/dsplan/dsplan/status"
)

// TestOracleParity checks Compute and NeedsUpdate against the status the
// real kube-controller-manager wrote on every golden fixture whose sync
// reached updateDaemonSetStatus, for each upstream variant with a hash (one
// must agree). Pods are grouped as the
// controller's getNodesToDaemonPods(false) does: the DaemonSet's namespace,
// claimed (adopted orphans in, released pods out), deleted terminal pods
// dropped, by target node, in ComparePods order.
func TestOracleParity(t *testing.T) {
	if testing.Short() {
		t.Skip("loads every fixture")
	}
	var agreed int
	skipped := map[string]int{}
	cases := fixture.All(t)
	for _, c := range cases {
		ds := c.DaemonSet
		// The controller returns before the status for a DaemonSet being
		// deleted or selecting everything, and when constructHistory fails
		// (a hash collision: no hash, only collisionCount written): package
		// plan's business, not Compute's. Other sync errors (a failed
		// rolling update) still write the status.
		variants := slices.DeleteFunc(slices.Clone(c.Want.Variants), func(v fixture.Variant) bool { return v.Hash == "" })
		switch {
		case ds.DeletionTimestamp != nil:
			skipped["deleting"]++
			continue
		case ds.Spec.Selector == nil || len(ds.Spec.Selector.MatchLabels)+len(ds.Spec.Selector.MatchExpressions) == 0:
			skipped["selects all"]++
			continue
		case len(variants) == 0:
			skipped["no hash"]++
			continue
		}
		t.Run(c.Name, func(t *testing.T) {
			sel, err := metav1.LabelSelectorAsSelector(ds.Spec.Selector)
			if err != nil {
				t.Fatalf("selector: %v (the oracle reported no error)", err)
			}
			nodes := groupPods(ds.Namespace, c, sel)
			var diffs []string
			for _, v := range variants {
				got := status.Compute(ds, v.Hash, nodes, c.Now, status.Options{})
				diff := cmp.Diff(v.Status, got)
				if updated := status.NeedsUpdate(ds, got); updated != v.StatusUpdated {
					diff += "NeedsUpdate() = " + boolText(updated) + ", want " + boolText(v.StatusUpdated) + "\n"
				}
				if diff == "" {
					agreed++
					return
				}
				diffs = append(diffs, diff)
			}
			t.Errorf("Compute() matches no upstream variant; per variant (-want +got):\n%s", diffs)
		})
	}
	n := len(cases)
	for _, k := range skipped {
		n -= k
	}
	t.Logf("%d of %d fixtures agree; skipped: %v", agreed, n, skipped)
}

// groupPods builds Compute's input for a fixture from its objects.
func groupPods(namespace string, c fixture.Case, sel labels.Selector) []placement.NodePods {
	ds := c.DaemonSet
	var inNamespace []*corev1.Pod
	for _, p := range c.Pods {
		if p.Namespace == namespace {
			inNamespace = append(inNamespace, p)
		}
	}
	claimed, _ := claim.Objects(ds, inNamespace, func(p *corev1.Pod) bool { return sel.Matches(labels.Set(p.Labels)) })
	byNode := map[string][]*corev1.Pod{}
	for _, p := range claimed {
		terminal := p.Status.Phase == corev1.PodFailed || p.Status.Phase == corev1.PodSucceeded
		if terminal && p.DeletionTimestamp != nil {
			continue
		}
		name, err := placement.TargetNodeName(p)
		if err != nil {
			continue
		}
		byNode[name] = append(byNode[name], p)
	}
	ev := placement.New(ds, placement.Options{})
	nodes := make([]placement.NodePods, 0, len(c.Nodes))
	for _, n := range c.Nodes {
		pods := byNode[n.Name]
		slices.SortFunc(pods, placement.ComparePods)
		nodes = append(nodes, placement.NodePods{Name: n.Name, Node: n, Decision: ev.Evaluate(n), Pods: pods})
	}
	return nodes
}

func boolText(b bool) string {
	if b {
		return "true"
	}
	return "false"
}
