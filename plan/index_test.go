package plan_test

import (
	"iter"
	"testing"

	"github.com/google/go-cmp/cmp"
	appsv1 "k8s.io/api/apps/v1"
	corev1 "k8s.io/api/core/v1"
	"pgregory.net/rapid"

	"github.com/dsplan/dsplan/internal/dstest"
	"github.com/dsplan/dsplan/placement"
	"github.com/dsplan/dsplan/plan"
	"github.com/dsplan/dsplan/revision"
	"github.com/dsplan/dsplan/rollout"
	"github.com/dsplan/dsplan/status"
)

// groupingIndex is a plan.Index over a Grouping, built outside package
// plan from the public stages. Managed yields only the entries Manages
// names, which the Index contract allows.
type groupingIndex struct {
	ds   *appsv1.DaemonSet
	g    *placement.Grouping
	hist revision.History
	err  error
}

func (x groupingIndex) Evaluator() *placement.Evaluator      { return x.g.Evaluator() }
func (x groupingIndex) History() (revision.History, error)   { return x.hist, x.err }
func (x groupingIndex) Claims() []placement.Claim            { return x.g.Claims() }
func (x groupingIndex) Warnings() []placement.Warning        { return x.g.Warnings() }
func (x groupingIndex) ClaimedPods() iter.Seq[*corev1.Pod]   { return x.g.ClaimedPods() }
func (x groupingIndex) TargetingPods() iter.Seq[*corev1.Pod] { return x.g.TargetingPods() }
func (x groupingIndex) Update(ds *appsv1.DaemonSet, opts rollout.Options) (rollout.Plan, error) {
	return rollout.Update(ds, x.g, opts)
}
func (x groupingIndex) Status(ds *appsv1.DaemonSet, opts status.Options) status.Result {
	return status.Compute(ds, x.g, opts)
}

func (x groupingIndex) Managed() iter.Seq[placement.NodePods] {
	surge := rollout.AllowsSurge(x.ds)
	return func(yield func(placement.NodePods) bool) {
		for _, n := range x.g.All() {
			if plan.Manages(n, x.g.Hash(), surge) && !yield(n) {
				return
			}
		}
	}
}

// TestFromIndexIsNew plans random snapshots with FromIndex over an index
// built from the public stages, whose Managed yields only the entries
// Manages names, and checks the plan equals New's.
func TestFromIndexIsNew(t *testing.T) {
	rapid.Check(t, func(t *rapid.T) {
		s, opts := randomSnapshot(t)
		want := plan.New(s, opts)
		e := placement.New(s.DaemonSet, opts.Placement)
		sel, err := e.Selector()
		var hist revision.History
		if err == nil {
			hist, err = revision.Reconcile(s.DaemonSet, sel, s.Revisions)
		}
		g, gerr := placement.Group(placement.GroupInput{Evaluator: e, Hash: hist.Hash, Now: s.Now, Nodes: s.Nodes, Pods: s.Pods})
		if gerr != nil {
			t.Skip("no grouping: FromIndex does not report the grouping's errors")
		}
		got := plan.FromIndex(s, groupingIndex{s.DaemonSet, g, hist, err}, opts)
		if !samePlan(want, got) {
			t.Fatalf("FromIndex differs from New (-New +FromIndex):\n%s", cmp.Diff(want, got, dstest.PlanCmp))
		}
	})
}
