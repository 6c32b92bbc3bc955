package plan_test

import (
	"cmp"
	"fmt"
	"math"
	"slices"
	"strings"
	"testing"
	"time"

	gocmp "github.com/google/go-cmp/cmp"
	appsv1 "k8s.io/api/apps/v1"
	corev1 "k8s.io/api/core/v1"
	"k8s.io/apimachinery/pkg/util/intstr"
	"pgregory.net/rapid"

	"github.com/dsplan/dsplan/internal/dstest"
	"github.com/dsplan/dsplan/plan"
	"github.com/dsplan/dsplan/rollout"
)

// burstCluster is n nodes named node-0000… with one pod each of the given
// hash, ready and available; the nodes of unready (by index) run a pod that
// is not ready (a crash-looping agent).
func burstCluster(ds *appsv1.DaemonSet, n int, hash string, unready func(i int) bool) plan.Snapshot {
	s := plan.Snapshot{DaemonSet: ds, Nodes: dstest.Nodes(n), Now: dstest.Epoch.Add(time.Hour)}
	for i, node := range s.Nodes {
		var mods []func(*corev1.Pod)
		if unready(i) {
			mods = append(mods, dstest.NotReady)
		}
		s.Pods = append(s.Pods, dstest.Pod(ds, fmt.Sprintf("agent-%04d", i), node.Name, hash, mods...))
	}
	return s
}

// reasons counts a plan's actions by reason.
func reasons(p plan.Plan) map[string]int {
	m := map[string]int{}
	for _, c := range p.Creates {
		m["create "+string(c.Reason)]++
	}
	for _, d := range p.Deletes {
		m["delete "+string(d.Reason)]++
	}
	return m
}

// TestBurstKeepsUpstreamsOrder: when one sync has more than 250 creates or
// deletes, the 250 carried out are those kube-controller-manager's lists
// hold first (see plan's package doc), at 260-300 nodes, for each branch.
func TestBurstKeepsUpstreamsOrder(t *testing.T) {
	old := dstest.DaemonSet("agent", dstest.Image("registry.example.com/agent:v0"))
	oldHash := hashOf(old)
	lateNodes := func(i int) bool { return i >= 280 } // the crash-looping pods sort last by name

	t.Run("maxUnavailable 100%: every unavailable old pod is among the deletes", func(t *testing.T) {
		ds := dstest.DaemonSet("agent", dstest.RollingUpdate(intstr.FromString("100%"), intstr.FromInt32(0)))
		s := burstCluster(ds, 300, oldHash, lateNodes)
		s.Revisions = append(s.Revisions, currentRevision(t, ds, 2))
		p := plan.New(s, plan.Options{})
		if got, want := reasons(p), map[string]int{"delete ReplaceUnavailable": 20, "delete Replace": 230}; !sameCounts(got, want) {
			t.Errorf("actions by reason = %v, want %v", got, want)
		}
		// The available ones are the first by node name.
		for _, d := range p.Deletes {
			if d.Reason == rollout.DeleteReplace && d.Node >= "node-0230" {
				t.Errorf("replaced %s on %s, beyond the first 230 nodes by name", d.Pod, d.Node)
			}
		}
	})

	t.Run("maxSurge 100%: every node with an unavailable old pod is surged", func(t *testing.T) {
		ds := dstest.DaemonSet("agent", dstest.RollingUpdate(intstr.FromInt32(0), intstr.FromString("100%")))
		s := burstCluster(ds, 300, oldHash, lateNodes)
		s.Revisions = append(s.Revisions, currentRevision(t, ds, 2))
		p := plan.New(s, plan.Options{})
		if got, want := reasons(p), map[string]int{"create SurgeUnavailable": 20, "create Surge": 230}; !sameCounts(got, want) {
			t.Errorf("actions by reason = %v, want %v", got, want)
		}
		for _, c := range p.Creates {
			if c.Reason == rollout.CreateSurge && c.Node >= "node-0230" {
				t.Errorf("surged %s, beyond the first 230 nodes by name", c.Node)
			}
		}
	})

	t.Run("surge: unavailable old pods on ineligible nodes before sunset pods", func(t *testing.T) {
		// Nodes 0-99 left the DaemonSet (an untolerated NoSchedule taint)
		// with an available old pod: sunset while more are available than
		// desired. Nodes 100-299 left it with an unavailable old pod: those
		// go at once. Nodes 300-399 run an available new pod.
		ds := dstest.DaemonSet("agent", dstest.RollingUpdate(intstr.FromInt32(0), intstr.FromString("100%")))
		hash := hashOf(ds)
		s := plan.Snapshot{DaemonSet: ds, Now: dstest.Epoch.Add(time.Hour), Revisions: []*appsv1.ControllerRevision{currentRevision(t, ds, 2)}}
		for i := range 400 {
			name := fmt.Sprintf("node-%04d", i)
			switch {
			case i < 300:
				s.Nodes = append(s.Nodes, dstest.Node(name, dstest.Taint("dedicated", "db", corev1.TaintEffectNoSchedule)))
				var mods []func(*corev1.Pod)
				if i >= 100 {
					mods = append(mods, dstest.NotReady)
				}
				s.Pods = append(s.Pods, dstest.Pod(ds, "old-"+name, name, oldHash, mods...))
			default:
				s.Nodes = append(s.Nodes, dstest.Node(name))
				s.Pods = append(s.Pods, dstest.Pod(ds, "new-"+name, name, hash))
			}
		}
		p := plan.New(s, plan.Options{})
		if got, want := reasons(p), map[string]int{"delete SurgeIneligible": 200, "delete SurgeSunset": 50}; !sameCounts(got, want) {
			t.Errorf("actions by reason = %v, want %v", got, want)
		}
	})

	t.Run("manage: a node's deletes stay together, vanished nodes' pods come last", func(t *testing.T) {
		ds := dstest.DaemonSet("agent")
		hash := hashOf(ds)
		s := plan.Snapshot{DaemonSet: ds, Nodes: dstest.Nodes(130), Now: dstest.Epoch.Add(time.Hour),
			Revisions: []*appsv1.ControllerRevision{currentRevision(t, ds, 1)}}
		for i, node := range s.Nodes {
			// Three pods per node: the oldest stays, two are excess.
			for k := range 3 {
				s.Pods = append(s.Pods, dstest.Pod(ds, fmt.Sprintf("%c-%04d", 'a'+k, i), node.Name, hash,
					dstest.Created(dstest.Epoch.Add(time.Duration(k)*time.Minute))))
			}
		}
		for i := range 5 {
			s.Pods = append(s.Pods, dstest.Pod(ds, fmt.Sprintf("0-gone-%d", i), fmt.Sprintf("gone-%d", i), hash, dstest.Unscheduled(fmt.Sprintf("gone-%d", i))))
		}
		p := plan.New(s, plan.Options{})
		if got, want := reasons(p), map[string]int{"delete Excess": 250}; !sameCounts(got, want) {
			t.Errorf("actions by reason = %v, want %v", got, want)
		}
		perNode := map[string]int{}
		for _, d := range p.Deletes {
			perNode[d.Node]++
		}
		for i := range 130 {
			name := fmt.Sprintf("node-%04d", i)
			if want := 2 * min(1, max(0, 125-i)); perNode[name] != want {
				t.Errorf("%s: %d deletes, want %d (the first 125 nodes by name, whole)", name, perNode[name], want)
			}
		}
	})

	t.Run("manage: creates beyond the burst wait", func(t *testing.T) {
		ds := dstest.DaemonSet("agent")
		s := plan.Snapshot{DaemonSet: ds, Nodes: dstest.Nodes(260), Now: dstest.Epoch}
		p := plan.New(s, plan.Options{})
		if len(p.Creates) != 250 || p.Creates[249].Node != "node-0249" {
			t.Errorf("%d creates, last on %s; want 250, the first by node name", len(p.Creates), p.Creates[len(p.Creates)-1].Node)
		}
	})
}

func sameCounts(a, b map[string]int) bool {
	if len(a) != len(b) {
		return false
	}
	for k, v := range a {
		if b[k] != v {
			return false
		}
	}
	return true
}

// burstRank mirrors the documented burst order's categories, for the
// property below.
func burstRank[R rollout.CreateReason | rollout.DeleteReason](r R) int {
	switch any(r) {
	case rollout.DeleteNodeGone, rollout.DeleteReplace, rollout.DeleteSurgeSunset, rollout.CreateSurge:
		return 1
	}
	return 0
}

// burstProperty: whatever the burst, the plan's creates are the first ones
// of the unbounded plan's in (category, node) order, and its deletes those
// of whole nodes in that order, with at most the last node cut; the counts
// are min(burst, total); nothing else changes.
func burstProperty(t *rapid.T) {
	s, opts := randomSnapshot(t)
	opts.BurstReplicas = rapid.IntRange(1, 4).Draw(t, "burst")
	p := plan.New(s, opts)
	all := opts
	all.BurstReplicas = math.MaxInt
	q := plan.New(s, all)

	creates := slices.Clone(q.Creates)
	slices.SortFunc(creates, func(a, b plan.Create) int {
		return cmp.Or(cmp.Compare(burstRank(a.Reason), burstRank(b.Reason)), strings.Compare(a.Node, b.Node))
	})
	wantCreates := creates[:min(len(creates), opts.BurstReplicas)]
	slices.SortFunc(wantCreates, func(a, b plan.Create) int { return strings.Compare(a.Node, b.Node) })
	if got, want := createKeys(p.Creates), createKeys(wantCreates); !slices.Equal(got, want) {
		t.Fatalf("creates %v, want the first %d of %v", got, opts.BurstReplicas, createKeys(creates))
	}

	if len(p.Deletes) != min(len(q.Deletes), opts.BurstReplicas) {
		t.Fatalf("%d deletes, want min(%d, %d)", len(p.Deletes), opts.BurstReplicas, len(q.Deletes))
	}
	type group struct {
		rank int
		node string
	}
	kept := map[string]bool{}
	for _, d := range p.Deletes {
		kept[d.Pod+"@"+d.Node] = true
	}
	var groups []group
	total, inPlan := map[group]int{}, map[group]int{}
	for _, d := range q.Deletes {
		g := group{burstRank(d.Reason), d.Node}
		if total[g] == 0 {
			groups = append(groups, g)
		}
		total[g]++
		if kept[d.Pod+"@"+d.Node] {
			inPlan[g]++
			delete(kept, d.Pod+"@"+d.Node)
		}
	}
	if len(kept) > 0 {
		t.Fatalf("deletes %v are not in the unbounded plan", kept)
	}
	slices.SortFunc(groups, func(a, b group) int { return cmp.Or(cmp.Compare(a.rank, b.rank), strings.Compare(a.node, b.node)) })
	cut := false
	for _, g := range groups {
		switch {
		case cut && inPlan[g] > 0:
			t.Fatalf("deletes of %v kept after the cut", g)
		case inPlan[g] < total[g]:
			cut = true
		}
	}

	p.Creates, p.Deletes, q.Creates, q.Deletes = nil, nil, nil, nil
	if diff := gocmp.Diff(q, p, dstest.PlanCmp); diff != "" {
		t.Fatalf("the burst changed more than the actions (-unbounded +burst):\n%s", diff)
	}
}

func createKeys(cs []plan.Create) []string {
	var out []string
	for _, c := range cs {
		out = append(out, c.Node+" "+string(c.Reason))
	}
	return out
}

func TestBurstProperty(t *testing.T) {
	rapid.Check(t, burstProperty)
}

// TestBurstOrderRanks pins the rank of every create and delete reason, and
// that no create reason has a delete reason's string: burstOrder switches
// on the string.
func TestBurstOrderRanks(t *testing.T) {
	creates := map[rollout.CreateReason]int{
		rollout.CreateMissing: 0, rollout.CreateSurgeUnavailable: 0, rollout.CreateSurge: 1,
	}
	deletes := map[rollout.DeleteReason]int{
		rollout.DeleteFailed: 0, rollout.DeleteSucceeded: 0, rollout.DeleteExcess: 0,
		rollout.DeleteSurgeOldNotReady: 0, rollout.DeleteSurgeNewAvailable: 0, rollout.DeleteNodeIneligible: 0,
		rollout.DeleteEvicted: 0, rollout.DeleteNodeGone: 1, rollout.DeleteReplaceUnavailable: 0,
		rollout.DeleteReplace: 1, rollout.DeleteSurgeReplaced: 0, rollout.DeleteSurgeIneligible: 0,
		rollout.DeleteSurgeSunset: 1,
	}
	for r, want := range creates {
		if got := plan.BurstOrderOfCreate(r); got != want {
			t.Errorf("burstOrder(%s) = %d, want %d", r, got, want)
		}
		if _, ok := deletes[rollout.DeleteReason(r)]; ok {
			t.Errorf("create reason %q is also a delete reason", r)
		}
	}
	for r, want := range deletes {
		if got := plan.BurstOrderOfDelete(r); got != want {
			t.Errorf("burstOrder(%s) = %d, want %d", r, got, want)
		}
	}
}
