package plan_test

import (
	"fmt"
	"slices"
	"sync"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
	appsv1 "k8s.io/api/apps/v1"
	corev1 "k8s.io/api/core/v1"
	"k8s.io/apimachinery/pkg/util/intstr"
	"pgregory.net/rapid"

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

// TestPlanGroup: two agents of a group never start replacements on the same
// node, nor on a node where the other is unavailable; alone, each would.
func TestPlanGroup(t *testing.T) {
	nodes := dstest.Nodes(4)
	c := plan.NewCluster(nodes)
	snap := func(name string, unavailableOn string) plan.Snapshot {
		ds := dstest.DaemonSet(name, dstest.RollingUpdate(intstr.FromInt32(2), intstr.FromInt32(0)))
		s := plan.Snapshot{DaemonSet: ds, Now: dstest.Epoch.Add(time.Hour), Revisions: []*appsv1.ControllerRevision{currentRevision(t, ds, 2)}}
		for _, n := range nodes {
			var mods []func(*corev1.Pod)
			hash := "5d4b86d8bb" // old
			if n.Name == unavailableOn {
				hash, mods = hashOf(ds), append(mods, dstest.NotReady) // updated, not ready yet
			}
			s.Pods = append(s.Pods, dstest.Pod(ds, name+"-"+n.Name, n.Name, hash, mods...))
		}
		return s
	}
	cni, csi := snap("cni", "node-0000"), snap("csi", "")
	replaced := func(p plan.Plan) []string {
		var out []string
		for _, d := range p.Deletes {
			out = append(out, d.Node)
		}
		return out
	}
	// Alone: cni has one unavailable node, so replaces one more; csi two.
	if got := replaced(c.Plan(cni, plan.Options{})); !slices.Equal(got, []string{"node-0001"}) {
		t.Fatalf("cni alone replaces on %v", got)
	}
	if got := replaced(c.Plan(csi, plan.Options{})); !slices.Equal(got, []string{"node-0000", "node-0001"}) {
		t.Fatalf("csi alone replaces on %v", got)
	}
	plans := c.PlanGroup([]plan.Snapshot{csi, cni}, plan.Options{Explain: true})
	// cni goes first (namespace/name order): node-0001; csi holds node-0000
	// (cni unavailable) and node-0001 (cni replacing), takes node-0002, 0003.
	if got := replaced(plans[1]); !slices.Equal(got, []string{"node-0001"}) {
		t.Errorf("cni in the group replaces on %v, want [node-0001]", got)
	}
	if got := replaced(plans[0]); !slices.Equal(got, []string{"node-0002", "node-0003"}) {
		t.Errorf("csi in the group replaces on %v, want [node-0002 node-0003]", got)
	}
	for _, r := range plans[0].Nodes {
		if (r.Node == "node-0000" || r.Node == "node-0001") && (r.Wait == nil || r.Wait.Reason != rollout.WaitHeld) {
			t.Errorf("csi on %s: %v, want it held by the group", r.Node, r)
		}
	}
}

// TestPlanGroupProperty: in any group plan, a DaemonSet deletes an
// available pod (Replace) only on a node where no other DaemonSet of the
// group is unavailable and no other replaces in the same round.
func TestPlanGroupProperty(t *testing.T) {
	rapid.Check(t, func(t *rapid.T) {
		nodes := dstest.Nodes(rapid.IntRange(1, 6).Draw(t, "nodes"))
		c := plan.NewCluster(nodes)
		var snaps []plan.Snapshot
		for i := range rapid.IntRange(1, 3).Draw(t, "daemonSets") {
			mu := rapid.IntRange(1, 4).Draw(t, "maxUnavailable")
			ds := dstest.DaemonSet(fmt.Sprintf("agent-%d", i), dstest.RollingUpdate(intstr.FromInt(mu), intstr.FromInt32(0)))
			s := plan.Snapshot{DaemonSet: ds, Now: dstest.Epoch.Add(time.Hour), Revisions: []*appsv1.ControllerRevision{currentRevision(t, ds, 2)}}
			for _, n := range nodes {
				hash := rapid.SampledFrom([]string{"5d4b86d8bb", hashOf(ds)}).Draw(t, "hash")
				var mods []func(*corev1.Pod)
				if !rapid.Bool().Draw(t, "ready") {
					mods = append(mods, dstest.NotReady)
				}
				if rapid.IntRange(0, 5).Draw(t, "missing") > 0 {
					s.Pods = append(s.Pods, dstest.Pod(ds, ds.Name+"-"+n.Name, n.Name, hash, mods...))
				}
			}
			snaps = append(snaps, s)
		}
		plans := c.PlanGroup(snaps, plan.Options{})
		unavailable := make([]map[string]bool, len(snaps))
		for i, s := range snaps {
			var err error
			if unavailable[i], err = c.Unavailable(s, plan.Options{}); err != nil {
				t.Fatal(err)
			}
		}
		replacers := map[string][]int{}
		for i, p := range plans {
			for _, d := range p.Deletes {
				if d.Reason == rollout.DeleteReplace {
					replacers[d.Node] = append(replacers[d.Node], i)
				}
			}
		}
		for node, who := range replacers {
			if len(who) > 1 {
				t.Fatalf("%d DaemonSets replace on %s at once", len(who), node)
			}
			for j := range snaps {
				if j != who[0] && unavailable[j][node] {
					t.Fatalf("%s replaces on %s, where %s is unavailable", snaps[who[0]].DaemonSet.Name, node, snaps[j].DaemonSet.Name)
				}
			}
		}
	})
}
