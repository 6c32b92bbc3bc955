package plan_test

import (
	"fmt"
	"math/rand/v2"
	"runtime"
	"sync"
	"testing"

	appsv1 "k8s.io/api/apps/v1"
	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/types"
	"k8s.io/apimachinery/pkg/util/intstr"

	"github.com/dsplan/dsplan/internal/dstest"
	"github.com/dsplan/dsplan/plan"
	"github.com/dsplan/dsplan/revision"
	"github.com/dsplan/dsplan/rollout"
)

// sixNotIn is the one-term, six-NotIn required node affinity of upstream's
// BenchmarkUpdateDaemonSetStatus.
func sixNotIn(ds *appsv1.DaemonSet) {
	var reqs []corev1.NodeSelectorRequirement
	for i := range 6 {
		reqs = append(reqs, corev1.NodeSelectorRequirement{
			Key: fmt.Sprintf("key-%d", i), Operator: corev1.NodeSelectorOpNotIn, Values: []string{"a", "b"},
		})
	}
	ds.Spec.Template.Spec.Affinity = &corev1.Affinity{NodeAffinity: &corev1.NodeAffinity{
		RequiredDuringSchedulingIgnoredDuringExecution: &corev1.NodeSelector{
			NodeSelectorTerms: []corev1.NodeSelectorTerm{{MatchExpressions: reqs}},
		},
	}}
}

// scenario builds a snapshot of n nodes. state is one of:
// steady (every node runs a current, available pod), fresh (no pods),
// unavailable10 (old pods everywhere, maxUnavailable 10%), surge10 (old
// pods everywhere, maxSurge 10%).
func scenario(b *testing.B, n int, state string, affinity bool) plan.Snapshot {
	var mods []func(*appsv1.DaemonSet)
	if affinity {
		mods = append(mods, sixNotIn)
	}
	switch state {
	case "unavailable10":
		mods = append(mods, dstest.RollingUpdate(intstr.FromString("10%"), intstr.FromInt32(0)))
	case "surge10":
		mods = append(mods, dstest.RollingUpdate(intstr.FromInt32(0), intstr.FromString("10%")))
	}
	ds := dstest.DaemonSet("agent", mods...)
	cur, err := revision.New(ds, 1)
	if err != nil {
		b.Fatal(err)
	}
	hash := cur.Labels[appsv1.DefaultDaemonSetUniqueLabelKey]
	revs := []*appsv1.ControllerRevision{cur}
	podHash := hash
	if state == "unavailable10" || state == "surge10" {
		old := dstest.DaemonSet("agent", append(mods, dstest.Image("registry.example.com/agent:v0"))...)
		oldRev, err := revision.New(old, 1)
		if err != nil {
			b.Fatal(err)
		}
		cur.Revision = 2
		revs = append(revs, oldRev)
		podHash = oldRev.Labels[appsv1.DefaultDaemonSetUniqueLabelKey]
	}
	nodes := dstest.Nodes(n)
	var pods []*corev1.Pod
	if state != "fresh" {
		pods = make([]*corev1.Pod, n)
		for i, node := range nodes {
			pods[i] = dstest.Pod(ds, fmt.Sprintf("agent-%06d", i), node.Name, podHash)
		}
	}
	return plan.Snapshot{DaemonSet: ds, Nodes: nodes, Pods: pods, Revisions: revs, Now: dstest.Epoch}
}

func BenchmarkNew(b *testing.B) {
	for _, state := range []string{"steady", "fresh", "unavailable10", "surge10"} {
		for _, affinity := range []bool{false, true} {
			aff := "none"
			if affinity {
				aff = "sixNotIn"
			}
			for _, n := range []int{1000, 10000, 100000} {
				b.Run(fmt.Sprintf("state=%s/affinity=%s/nodes=%d", state, aff, n), func(b *testing.B) {
					s := scenario(b, n, state, affinity)
					// Collect the fixture's garbage now, not while timing.
					runtime.GC()
					b.ReportAllocs()
					for b.Loop() {
						p := plan.New(s, plan.Options{})
						if p.Err != nil {
							b.Fatal(p.Err)
						}
					}
					b.ReportMetric(float64(b.Elapsed().Nanoseconds())/float64(b.N)/float64(n), "ns/node")
				})
			}
		}
	}
}

// BenchmarkListerOrder is BenchmarkNew's steady state with the nodes and
// the pods listed in a random order, as an informer's lister returns them,
// while BenchmarkNew lists them in the order they were created, which is
// also their order in memory. Planning then visits memory in a random
// order: a measure of what locality is worth.
func BenchmarkListerOrder(b *testing.B) {
	for _, n := range []int{10000, 100000} {
		b.Run(fmt.Sprintf("state=steady/affinity=none/nodes=%d", n), func(b *testing.B) {
			s := scenario(b, n, "steady", false)
			r := rand.New(rand.NewPCG(1, 2))
			r.Shuffle(len(s.Nodes), func(i, j int) { s.Nodes[i], s.Nodes[j] = s.Nodes[j], s.Nodes[i] })
			r.Shuffle(len(s.Pods), func(i, j int) { s.Pods[i], s.Pods[j] = s.Pods[j], s.Pods[i] })
			runtime.GC()
			b.ReportAllocs()
			for b.Loop() {
				if p := plan.New(s, plan.Options{}); p.Err != nil || len(p.Creates)+len(p.Deletes) > 0 {
					b.Fatalf("a steady DaemonSet has work: %v, %d creates, %d deletes", p.Err, len(p.Creates), len(p.Deletes))
				}
			}
			b.ReportMetric(float64(b.Elapsed().Nanoseconds())/float64(b.N)/float64(n), "ns/node")
		})
	}
}

// BenchmarkClusterPlan is BenchmarkNew's steady state through a Cluster,
// the path of a controller that re-plans a DaemonSet on every event: the
// node index is built once, outside the timing.
func BenchmarkClusterPlan(b *testing.B) {
	for _, affinity := range []bool{false, true} {
		aff := "none"
		if affinity {
			aff = "sixNotIn"
		}
		for _, n := range []int{1000, 10000, 100000} {
			b.Run(fmt.Sprintf("state=steady/affinity=%s/nodes=%d", aff, n), func(b *testing.B) {
				s := scenario(b, n, "steady", affinity)
				c := plan.NewCluster(s.Nodes)
				runtime.GC()
				b.ReportAllocs()
				for b.Loop() {
					if p := c.Plan(s, plan.Options{}); p.Err != nil || len(p.Creates)+len(p.Deletes) > 0 {
						b.Fatalf("a steady DaemonSet has work: %v, %d creates, %d deletes", p.Err, len(p.Creates), len(p.Deletes))
					}
				}
				b.ReportMetric(float64(b.Elapsed().Nanoseconds())/float64(b.N)/float64(n), "ns/node")
			})
		}
	}
}

// BenchmarkResync plans 50 DaemonSets over one cluster of 10,000 nodes, as a
// controller's periodic resync does: every DaemonSet in steady state with
// a current, available pod on every node (500,000 pods), every other one
// with the six-NotIn affinity. api=New plans each with New; api=Cluster
// shares one Cluster (built once, outside the timing: a controller rebuilds
// it only when nodes change); goroutines=2 plans from two goroutines
// sharing it.
//
// To keep the fixture near 700 MB, the pods of one DaemonSet share their
// labels, owner references and conditions (read-only, as in an informer
// cache that interned them).
func BenchmarkResync(b *testing.B) {
	const daemonSets, nodes = 50, 10000
	snapshots := resyncSnapshots(b, daemonSets, nodes)
	cluster := plan.NewCluster(snapshots[0].Nodes)
	for _, tc := range []struct {
		api        string
		goroutines int
		plan       func(plan.Snapshot) plan.Plan
	}{
		{"New", 1, func(s plan.Snapshot) plan.Plan { return plan.New(s, plan.Options{}) }},
		{"Cluster", 1, func(s plan.Snapshot) plan.Plan { return cluster.Plan(s, plan.Options{}) }},
		{"Cluster", 2, func(s plan.Snapshot) plan.Plan { return cluster.Plan(s, plan.Options{}) }},
	} {
		b.Run(fmt.Sprintf("daemonsets=%d/nodes=%d/api=%s/goroutines=%d", daemonSets, nodes, tc.api, tc.goroutines), func(b *testing.B) {
			runtime.GC()
			b.ReportAllocs()
			for b.Loop() {
				var wg sync.WaitGroup
				for g := range tc.goroutines {
					wg.Go(func() {
						for i := g; i < len(snapshots); i += tc.goroutines {
							if p := tc.plan(snapshots[i]); p.Err != nil || len(p.Creates)+len(p.Deletes) > 0 {
								b.Errorf("DaemonSet %d: a steady DaemonSet has work: %v, %d creates, %d deletes", i, p.Err, len(p.Creates), len(p.Deletes))
							}
						}
					})
				}
				wg.Wait()
			}
			b.ReportMetric(float64(b.Elapsed().Nanoseconds())/float64(b.N)/float64(daemonSets*nodes), "ns/node")
		})
	}
}

// resyncSnapshots returns the steady snapshots of BenchmarkResync, sharing
// one node list.
func resyncSnapshots(b *testing.B, daemonSets, n int) []plan.Snapshot {
	nodes := dstest.Nodes(n)
	snapshots := make([]plan.Snapshot, daemonSets)
	for d := range snapshots {
		var mods []func(*appsv1.DaemonSet)
		if d%2 == 1 {
			mods = append(mods, sixNotIn)
		}
		ds := dstest.DaemonSet(fmt.Sprintf("agent-%02d", d), mods...)
		cur, err := revision.New(ds, 1)
		if err != nil {
			b.Fatal(err)
		}
		hash := cur.Labels[appsv1.DefaultDaemonSetUniqueLabelKey]
		// One pod, whose read-only parts the DaemonSet's pods share.
		model := dstest.Pod(ds, "", "", hash)
		ds.Status = appsv1.DaemonSetStatus{
			DesiredNumberScheduled: int32(n), CurrentNumberScheduled: int32(n), NumberReady: int32(n),
			UpdatedNumberScheduled: int32(n), NumberAvailable: int32(n), ObservedGeneration: ds.Generation,
		}
		pods := make([]corev1.Pod, n)
		ptrs := make([]*corev1.Pod, n)
		for i, node := range nodes {
			p := &pods[i]
			p.ObjectMeta = metav1.ObjectMeta{
				Name: fmt.Sprintf("%s-%05d", ds.Name, i), Namespace: ds.Namespace, UID: types.UID(fmt.Sprintf("%s-%05d-uid", ds.Name, i)),
				Labels: model.Labels, OwnerReferences: model.OwnerReferences, CreationTimestamp: model.CreationTimestamp,
			}
			p.Spec.NodeName = node.Name
			p.Status = model.Status
			ptrs[i] = p
		}
		snapshots[d] = plan.Snapshot{DaemonSet: ds, Nodes: nodes, Pods: ptrs, Revisions: []*appsv1.ControllerRevision{cur}, Now: dstest.Epoch}
	}
	return snapshots
}

// BenchmarkExplain is BenchmarkNew with Options.Explain on and off: off, a
// plan costs what it costs without explanations; on, every node gets a
// report.
func BenchmarkExplain(b *testing.B) {
	for _, state := range []string{"steady", "unavailable10"} {
		for _, n := range []int{10000, 100000} {
			for _, explain := range []bool{false, true} {
				b.Run(fmt.Sprintf("state=%s/nodes=%d/explain=%v", state, n, explain), func(b *testing.B) {
					s := scenario(b, n, state, false)
					runtime.GC()
					b.ReportAllocs()
					for b.Loop() {
						p := plan.New(s, plan.Options{Explain: explain})
						if p.Err != nil || explain && len(p.Nodes) != n {
							b.Fatalf("%v, %d reports", p.Err, len(p.Nodes))
						}
					}
					b.ReportMetric(float64(b.Elapsed().Nanoseconds())/float64(b.N)/float64(n), "ns/node")
				})
			}
		}
	}
}

// BenchmarkControls is BenchmarkNew mid-rollout (unavailable10: 10% of the
// nodes unavailable, the rest old) with the rollout controls unset, and
// with zone-by-zone order and a partition.
func BenchmarkControls(b *testing.B) {
	for _, n := range []int{10000, 100000} {
		for _, controls := range []string{"none", "zones+partition"} {
			b.Run(fmt.Sprintf("state=unavailable10/nodes=%d/controls=%s", n, controls), func(b *testing.B) {
				s := scenario(b, n, "unavailable10", false)
				var opts plan.Options
				if controls != "none" {
					for i, node := range s.Nodes {
						node.Labels["topology.kubernetes.io/zone"] = fmt.Sprintf("zone-%d", i%3)
					}
					opts.Rollout = rollout.Options{Partition: new(intstr.FromString("20%")),
						Order: rollout.Order{TopologyKey: "topology.kubernetes.io/zone"}}
				}
				runtime.GC()
				b.ReportAllocs()
				for b.Loop() {
					if p := plan.New(s, opts); p.Err != nil {
						b.Fatal(p.Err)
					}
				}
				b.ReportMetric(float64(b.Elapsed().Nanoseconds())/float64(b.N)/float64(n), "ns/node")
			})
		}
	}
}
