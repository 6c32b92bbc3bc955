package status_test

import (
	"testing"

	"github.com/google/go-cmp/cmp"
	corev1 "k8s.io/api/core/v1"

	"github.com/dsplan/dsplan/internal/dstest"
	"github.com/dsplan/dsplan/placement"
	"github.com/dsplan/dsplan/status"
)

// TestNodeCounts: one node's share of the counts, each field 0 or 1, for
// the cases of Compute's rules 1 to 3.
func TestNodeCounts(t *testing.T) {
	ds := dstest.DaemonSet("agent")
	e := placement.New(ds, placement.Options{})
	tainted := dstest.Node("n", dstest.Taint("k", "v", corev1.TaintEffectNoSchedule))
	node := dstest.Node("n")
	pod := func(mods ...func(*corev1.Pod)) *corev1.Pod { return dstest.Pod(ds, "p", "n", "h", mods...) }
	for _, tc := range []struct {
		name string
		node *corev1.Node
		pods []*corev1.Pod
		want status.Counts
	}{
		{"vanished with a pod", nil, []*corev1.Pod{pod()}, status.Counts{}},
		{"desired without pod", node, nil, status.Counts{Desired: 1}},
		{"desired, ready and updated", node, []*corev1.Pod{pod()}, status.Counts{Desired: 1, Current: 1, Ready: 1, Available: 1, Updated: 1}},
		{"desired, not ready, old", node, []*corev1.Pod{dstest.Pod(ds, "p", "n", "old", dstest.NotReady)}, status.Counts{Desired: 1, Current: 1}},
		{"misscheduled", tainted, []*corev1.Pod{pod()}, status.Counts{Misscheduled: 1}},
		{"ineligible without pod", tainted, nil, status.Counts{}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			var nodes []*corev1.Node
			if tc.node != nil {
				nodes = []*corev1.Node{tc.node}
			}
			g, err := placement.Group(placement.GroupInput{Evaluator: e, Hash: "h", Now: dstest.Epoch, Nodes: nodes, Pods: tc.pods})
			if err != nil {
				t.Fatal(err)
			}
			var got status.Counts
			for _, n := range g.All() {
				got.Add(status.NodeCounts(n))
			}
			if got != tc.want {
				t.Errorf("NodeCounts summed = %+v, want %+v", got, tc.want)
			}
			if diff := cmp.Diff(status.Compute(ds, g, status.Options{}), status.FromCounts(ds, got, status.Options{})); diff != "" {
				t.Errorf("FromCounts differs from Compute (-Compute +FromCounts):\n%s", diff)
			}
			got.Sub(tc.want)
			if got != (status.Counts{}) {
				t.Errorf("Sub does not undo Add: %+v", got)
			}
		})
	}
}
