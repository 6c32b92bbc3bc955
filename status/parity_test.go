package status_test

import (
	"slices"
	"testing"

	"github.com/google/go-cmp/cmp"

	"github.com/dsplan/dsplan/internal/fixture"
	"github.com/dsplan/dsplan/placement"
	"github.com/dsplan/dsplan/status"
)

// TestOracleParity checks Compute and NeedsUpdate against the status the
// real kube-controller-manager wrote on every golden fixture whose sync
// reached updateDaemonSetStatus, for each upstream variant with a hash (one
// must agree), with the pods grouped by placement.Group, the stage every
// caller uses. Every fixture is either compared or skipped for a reason
// named below; the test fails unless all compared ones agree.
func TestOracleParity(t *testing.T) {
	if testing.Short() {
		t.Skip("loads every fixture")
	}
	var compared, agreed int
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
		compared++
		t.Run(c.Name, func(t *testing.T) {
			var diffs []string
			for _, v := range variants {
				g, err := placement.Group(placement.GroupInput{Evaluator: placement.New(ds, placement.Options{}),
					Hash: v.Hash, Now: c.Now, Nodes: c.Nodes, Pods: c.Pods})
				if err != nil {
					t.Fatalf("Group: %v (the oracle reported no error)", err)
				}
				got := status.Compute(ds, g, status.Options{})
				diff := cmp.Diff(v.Status, got.Status)
				if got.Changed != v.StatusUpdated {
					diff += "Changed = " + boolText(got.Changed) + ", want " + boolText(v.StatusUpdated) + "\n"
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
	t.Logf("%d of %d compared fixtures agree; skipped: %v", agreed, compared, skipped)
	if compared == 0 || agreed != compared {
		t.Errorf("%d of %d compared fixtures agree, want all and at least one", agreed, compared)
	}
	if n := compared + skipped["deleting"] + skipped["selects all"] + skipped["no hash"]; n != len(cases) {
		t.Errorf("%d fixtures compared or skipped, %d loaded", n, len(cases))
	}
}

func boolText(b bool) string {
	if b {
		return "true"
	}
	return "false"
}
