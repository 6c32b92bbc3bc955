package incremental_test

import (
	"math/rand/v2"
	"testing"

	"github.com/google/go-cmp/cmp"
	appsv1 "k8s.io/api/apps/v1"

	"github.com/dsplan/dsplan/internal/dstest"
	"github.com/dsplan/dsplan/internal/fixture"
	"github.com/dsplan/dsplan/plan"
	"github.com/dsplan/dsplan/plan/control"
	"github.com/dsplan/dsplan/plan/incremental"
)

// TestFixturesReplayed replays every golden fixture as an event stream
// (its objects in a random order, each given once) and checks that the
// plan equals plan.New's, and so the one recorded from
// kube-controller-manager; then it checks the same after Reset from the
// lists.
func TestFixturesReplayed(t *testing.T) {
	cases := fixture.All(t)
	r := rand.New(rand.NewPCG(16, 1))
	compared := 0
	for _, c := range cases {
		s := plan.Snapshot{DaemonSet: c.DaemonSet, Nodes: c.Nodes, Pods: c.Pods, Revisions: c.Revisions, Now: c.Now}
		want := plan.New(s, plan.Options{})
		key := control.Key(c.DaemonSet)

		var p incremental.Planner
		events := []func(){func() { p.SetDaemonSet(c.DaemonSet) }}
		for _, n := range c.Nodes {
			events = append(events, func() { p.SetNode(n) })
		}
		for _, pod := range c.Pods {
			events = append(events, func() { p.SetPod(pod) })
		}
		for _, rev := range c.Revisions {
			events = append(events, func() { p.SetRevision(rev) })
		}
		r.Shuffle(len(events), func(i, j int) { events[i], events[j] = events[j], events[i] })
		for _, e := range events {
			e()
		}
		if got := p.Plan(key, c.Now, false, nil, plan.Options{}); !cmp.Equal(want, got, dstest.PlanCmp) {
			t.Errorf("%s: replayed events: plan differs from plan.New (-want +got):\n%s", c.Name, cmp.Diff(want, got, dstest.PlanCmp))
			continue
		}

		var q incremental.Planner
		q.Reset(c.Now, c.Nodes, c.Pods, []*appsv1.DaemonSet{c.DaemonSet}, c.Revisions)
		if got := q.Plan(key, c.Now, false, nil, plan.Options{}); !cmp.Equal(want, got, dstest.PlanCmp) {
			t.Errorf("%s: after Reset: plan differs from plan.New (-want +got):\n%s", c.Name, cmp.Diff(want, got, dstest.PlanCmp))
			continue
		}
		compared++
	}
	if compared != len(cases) || len(cases) == 0 {
		t.Errorf("%d of %d fixtures agree, want all", compared, len(cases))
	}
}
