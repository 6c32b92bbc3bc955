package plan_test

import (
	"fmt"
	"sync"
	"testing"

	"github.com/google/go-cmp/cmp"
	corev1 "k8s.io/api/core/v1"

	"github.com/dsplan/dsplan/internal/dstest"
	"github.com/dsplan/dsplan/internal/fixture"
	"github.com/dsplan/dsplan/plan"
	"github.com/dsplan/dsplan/rollout"
)

// TestClusterPlanIsNew plans every golden fixture through a Cluster and
// through New: the plans are equal.
func TestClusterPlanIsNew(t *testing.T) {
	for _, c := range fixture.All(t) {
		s := plan.Snapshot{DaemonSet: c.DaemonSet, Nodes: c.Nodes, Pods: c.Pods, Revisions: c.Revisions, Now: c.Now}
		want := plan.New(s, plan.Options{})
		cluster := plan.NewCluster(c.Nodes)
		s.Nodes = nil // ignored by Cluster.Plan
		got := cluster.Plan(s, plan.Options{})
		if diff := cmp.Diff(want, got, cmp.Comparer(errorsEqual)); diff != "" {
			t.Errorf("%s: Cluster.Plan differs from New (-want +got):\n%s", c.Name, diff)
		}
	}
}

func errorsEqual(a, b error) bool {
	if a == nil || b == nil {
		return a == b
	}
	return a.Error() == b.Error()
}

// TestClusterNodesShareNames: of nodes with one name, the first gets the
// pods, through a Cluster as through New.
func TestClusterNodesShareNames(t *testing.T) {
	ds := dstest.DaemonSet("agent")
	tainted := dstest.Node("n", dstest.Taint("k", "", corev1.TaintEffectNoExecute))
	nodes := []*corev1.Node{tainted, dstest.Node("n")}
	pods := []*corev1.Pod{dstest.Pod(ds, "agent-a", "n", "")}
	s := plan.Snapshot{DaemonSet: ds, Nodes: nodes, Pods: pods, Now: dstest.Epoch}
	want := plan.New(s, plan.Options{})
	if len(want.Deletes) != 1 || want.Deletes[0].Reason != rollout.DeleteEvicted {
		t.Fatalf("New: deletes %v, want agent-a evicted from the first node n", want.Deletes)
	}
	got := plan.NewCluster(nodes).Plan(s, plan.Options{})
	if diff := cmp.Diff(want, got, cmp.Comparer(errorsEqual)); diff != "" {
		t.Errorf("Cluster.Plan differs from New (-want +got):\n%s", diff)
	}
}

// TestClusterConcurrentUse is meant for -race: goroutines plan different
// DaemonSets with one Cluster, and each gets New's plan.
func TestClusterConcurrentUse(t *testing.T) {
	nodes := dstest.Nodes(300)
	cluster := plan.NewCluster(nodes)
	var snapshots []plan.Snapshot
	for d := range 8 {
		ds := dstest.DaemonSet(fmt.Sprintf("agent-%d", d))
		var pods []*corev1.Pod
		for i, node := range nodes[:100*(d%4)] {
			pods = append(pods, dstest.Pod(ds, fmt.Sprintf("%s-%d", ds.Name, i), node.Name, ""))
		}
		snapshots = append(snapshots, plan.Snapshot{DaemonSet: ds, Nodes: nodes, Pods: pods, Now: dstest.Epoch})
	}
	var wg sync.WaitGroup
	got := make([][]plan.Plan, len(snapshots))
	for d, s := range snapshots {
		wg.Go(func() {
			for range 5 {
				got[d] = append(got[d], cluster.Plan(s, plan.Options{}))
			}
		})
	}
	wg.Wait()
	for d, s := range snapshots {
		want := plan.New(s, plan.Options{})
		for _, p := range got[d] {
			if diff := cmp.Diff(want, p, cmp.Comparer(errorsEqual)); diff != "" {
				t.Fatalf("DaemonSet %d: concurrent Cluster.Plan differs from New (-want +got):\n%s", d, diff)
			}
		}
	}
}
