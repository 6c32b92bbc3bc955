package incremental_test

import (
	"fmt"
	"runtime"
	"testing"
	"time"

	appsv1 "k8s.io/api/apps/v1"
	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/types"

	"github.com/dsplan/dsplan/internal/dstest"
	"github.com/dsplan/dsplan/plan"
	"github.com/dsplan/dsplan/plan/control"
	"github.com/dsplan/dsplan/plan/incremental"
	"github.com/dsplan/dsplan/revision"
)

// The benchmarks run a cluster of converged DaemonSets. With one
// DaemonSet, it runs on every Linux node; with 50, the first 10 run on
// every Linux node (CNI, proxy, log shipper...) and each of the other 40 on
// one node pool of 40 (the nodes' pool label), which makes 10 pods per
// node, plus one: 1,100,000 pods at 100,000 nodes. Every node is Linux.
//
// Each benchmark has a pair: planner=incremental (a Planner kept up to
// date by the same events) and planner=New (plan.New on the DaemonSet's
// snapshot: every node and the DaemonSet's own pods, as an index of pods
// by owner gives them). The ratio of the two is what keeping the index
// saves.

const (
	clusterWide = 10
	pools       = 40
	benchNow    = time.Hour // after dstest.Epoch
)

// benchCluster is the benchmarks' cluster.
type benchCluster struct {
	now   time.Time
	nodes []*corev1.Node
	sets  []*appsv1.DaemonSet
	revs  []*appsv1.ControllerRevision
	pods  [][]*corev1.Pod // by DaemonSet
	all   []*corev1.Pod
}

var poolNames = func() (names [pools]string) {
	for i := range names {
		names[i] = fmt.Sprintf("p%02d", i)
	}
	return names
}()

func poolOf(i int) string { return poolNames[i%pools] }

// newBenchCluster builds the cluster. Pods of one DaemonSet share their
// labels, owner references and status (read-only), which keeps 1,100,000
// pods near 1.5 GB.
func newBenchCluster(tb testing.TB, nodes, daemonSets int) *benchCluster {
	c := &benchCluster{now: dstest.Epoch.Add(benchNow)}
	c.nodes = make([]*corev1.Node, nodes)
	for i := range c.nodes {
		c.nodes[i] = dstest.Node(fmt.Sprintf("node-%06d", i), dstest.Labels(corev1.LabelOSStable, "linux", "pool", poolOf(i)))
	}
	for d := range daemonSets {
		selector := map[string]string{corev1.LabelOSStable: "linux"}
		if d >= clusterWide {
			selector["pool"] = poolOf(d - clusterWide)
		}
		ds := dstest.DaemonSet(fmt.Sprintf("ds-%02d", d), dstest.NodeSelector(selector), dstest.MinReadySeconds(10))
		rev, err := revision.New(ds, 1)
		if err != nil {
			tb.Fatal(err)
		}
		hash := rev.Labels[appsv1.DefaultDaemonSetUniqueLabelKey]
		model := dstest.Pod(ds, "", "", hash)
		var pods []*corev1.Pod
		for i, node := range c.nodes {
			if d >= clusterWide && poolOf(i) != poolOf(d-clusterWide) {
				continue
			}
			p := &corev1.Pod{ObjectMeta: metav1.ObjectMeta{
				Name: fmt.Sprintf("%s-%06d", ds.Name, i), Namespace: ds.Namespace, UID: types.UID(fmt.Sprintf("%s-%06d", ds.Name, i)),
				Labels: model.Labels, OwnerReferences: model.OwnerReferences, CreationTimestamp: model.CreationTimestamp,
			}}
			p.Spec.NodeName = node.Name
			p.Status = model.Status
			pods = append(pods, p)
		}
		n := int32(len(pods))
		ds.Status = appsv1.DaemonSetStatus{DesiredNumberScheduled: n, CurrentNumberScheduled: n, NumberReady: n,
			UpdatedNumberScheduled: n, NumberAvailable: n, ObservedGeneration: ds.Generation}
		c.sets = append(c.sets, ds)
		c.revs = append(c.revs, rev)
		c.pods = append(c.pods, pods)
		c.all = append(c.all, pods...)
	}
	return c
}

// snapshot is DaemonSet d's snapshot for plan.New.
func (c *benchCluster) snapshot(d int) plan.Snapshot {
	return plan.Snapshot{DaemonSet: c.sets[d], Nodes: c.nodes, Pods: c.pods[d], Revisions: c.revs, Now: c.now}
}

func (c *benchCluster) planner() *incremental.Planner {
	var p incremental.Planner
	p.Reset(c.now, c.nodes, c.all, c.sets, c.revs)
	return &p
}

// withReady returns a copy of pod whose Ready condition is status since
// at.
func withReady(pod *corev1.Pod, status corev1.ConditionStatus, at time.Time) *corev1.Pod {
	q := *pod
	q.Status.Conditions = []corev1.PodCondition{{Type: corev1.PodReady, Status: status, LastTransitionTime: metav1.NewTime(at)}}
	return &q
}

var benchSizes = []struct{ nodes, daemonSets int }{{10000, 1}, {10000, 50}, {100000, 1}, {100000, 50}}

// clusters caches the benchmark clusters: building the largest takes
// seconds.
var clusters = map[[2]int]*benchCluster{}

func clusterFor(b *testing.B, nodes, daemonSets int) *benchCluster {
	k := [2]int{nodes, daemonSets}
	if clusters[k] == nil {
		clear(clusters) // keep one in memory
		runtime.GC()
		clusters[k] = newBenchCluster(b, nodes, daemonSets)
	}
	return clusters[k]
}

// BenchmarkPodEvent is a pod of a converged DaemonSet turning unready, then
// ready again (10 seconds later, not available for minReadySeconds): each
// op is one pod update followed by one plan of its DaemonSet.
func BenchmarkPodEvent(b *testing.B) {
	for _, size := range benchSizes {
		c := clusterFor(b, size.nodes, size.daemonSets)
		pod := c.pods[0][len(c.pods[0])/2]
		versions := []*corev1.Pod{withReady(pod, corev1.ConditionFalse, c.now), withReady(pod, corev1.ConditionTrue, c.now)}
		key := control.Key(c.sets[0])
		name := fmt.Sprintf("daemonsets=%d/nodes=%d", size.daemonSets, size.nodes)
		b.Run(name+"/planner=incremental", func(b *testing.B) {
			p := c.planner()
			runtime.GC()
			b.ReportAllocs()
			i := 0
			for b.Loop() {
				p.SetPod(versions[i%2])
				if pl := p.Plan(key, c.now, false, nil, plan.Options{}); pl.Err != nil || len(pl.Creates)+len(pl.Deletes) > 0 {
					b.Fatalf("a converged DaemonSet has work: %v", pl.Err)
				}
				i++
			}
			if p.Stats().Builds != len(c.sets) || p.Stats().FullPlans > 0 {
				b.Fatalf("not incremental: %+v", p.Stats())
			}
		})
		b.Run(name+"/planner=New", func(b *testing.B) {
			s := c.snapshot(0)
			s.Pods = append([]*corev1.Pod(nil), s.Pods...)
			at := len(s.Pods) / 2
			runtime.GC()
			b.ReportAllocs()
			i := 0
			for b.Loop() {
				s.Pods[at] = versions[i%2]
				if pl := plan.New(s, plan.Options{}); pl.Err != nil || len(pl.Creates)+len(pl.Deletes) > 0 {
					b.Fatalf("a converged DaemonSet has work: %v", pl.Err)
				}
				i++
			}
		})
	}
}

// BenchmarkNodeEvent is a node's OS label flipping between linux and
// windows: every DaemonSet selects Linux nodes, so the node leaves (then
// rejoins) every DaemonSet that runs there: 1 of 1, or 11 of 50 (the 10
// cluster-wide ones and its pool's). Each op is one node update followed by
// a plan of every DaemonSet it affects; ns/affected is the cost per
// affected DaemonSet.
func BenchmarkNodeEvent(b *testing.B) {
	for _, size := range benchSizes {
		c := clusterFor(b, size.nodes, size.daemonSets)
		at := len(c.nodes) / 2
		node := c.nodes[at]
		windows := node.DeepCopy()
		windows.Labels[corev1.LabelOSStable] = "windows"
		versions := []*corev1.Node{windows, node}
		var affected []int
		for d := range c.sets {
			if d < clusterWide || poolOf(d-clusterWide) == poolOf(at) {
				affected = append(affected, d)
			}
		}
		name := fmt.Sprintf("daemonsets=%d/nodes=%d", size.daemonSets, size.nodes)
		b.Run(name+"/planner=incremental", func(b *testing.B) {
			p := c.planner()
			runtime.GC()
			b.ReportAllocs()
			i := 0
			for b.Loop() {
				p.SetNode(versions[i%2])
				for _, d := range affected {
					if pl := p.Plan(control.Key(c.sets[d]), c.now, false, nil, plan.Options{}); pl.Err != nil {
						b.Fatal(pl.Err)
					}
				}
				i++
			}
			b.ReportMetric(float64(b.Elapsed().Nanoseconds())/float64(b.N)/float64(len(affected)), "ns/affected")
			if p.Stats().Builds != len(c.sets) || p.Stats().FullPlans > 0 {
				b.Fatalf("not incremental: %+v", p.Stats())
			}
		})
		b.Run(name+"/planner=New", func(b *testing.B) {
			nodes := append([]*corev1.Node(nil), c.nodes...)
			runtime.GC()
			b.ReportAllocs()
			i := 0
			for b.Loop() {
				nodes[at] = versions[i%2]
				for _, d := range affected {
					s := c.snapshot(d)
					s.Nodes = nodes
					if pl := plan.New(s, plan.Options{}); pl.Err != nil {
						b.Fatal(pl.Err)
					}
				}
				i++
			}
			b.ReportMetric(float64(b.Elapsed().Nanoseconds())/float64(b.N)/float64(len(affected)), "ns/affected")
		})
	}
}

// BenchmarkTemplateChange is a rollout starting: the first DaemonSet's
// image changes (back and forth), and the plan that follows, which the
// Planner may make in O(nodes): its index is built again for the new
// revision hash.
func BenchmarkTemplateChange(b *testing.B) {
	for _, size := range benchSizes {
		c := clusterFor(b, size.nodes, size.daemonSets)
		next := c.sets[0].DeepCopy()
		next.Spec.Template.Spec.Containers[0].Image += "-next"
		next.Generation++
		versions := []*appsv1.DaemonSet{next, c.sets[0]}
		key := control.Key(c.sets[0])
		name := fmt.Sprintf("daemonsets=%d/nodes=%d", size.daemonSets, size.nodes)
		b.Run(name+"/planner=incremental", func(b *testing.B) {
			p := c.planner()
			runtime.GC()
			b.ReportAllocs()
			i := 0
			for b.Loop() {
				p.SetDaemonSet(versions[i%2])
				if pl := p.Plan(key, c.now, false, nil, plan.Options{}); pl.Err != nil || len(pl.Deletes) == 0 && i%2 == 0 {
					b.Fatalf("no rollout: %v", pl.Err)
				}
				i++
			}
		})
		b.Run(name+"/planner=New", func(b *testing.B) {
			runtime.GC()
			b.ReportAllocs()
			i := 0
			for b.Loop() {
				s := c.snapshot(0)
				s.DaemonSet = versions[i%2]
				if pl := plan.New(s, plan.Options{}); pl.Err != nil || len(pl.Deletes) == 0 && i%2 == 0 {
					b.Fatalf("no rollout: %v", pl.Err)
				}
				i++
			}
		})
	}
}

// BenchmarkRollout is a rolling update in progress (maxUnavailable 1): each
// op is one step of it as a controller sees it: a plan that deletes an old
// pod, the pod's deletion, a plan that creates its replacement, the new
// pod (created ready, and available: minReadySeconds passes before the
// next step). When the rollout is done, it starts again from the first
// step, not timed (the planner=incremental start builds the index for the
// new revision, once; BenchmarkTemplateChange times that).
func BenchmarkRollout(b *testing.B) {
	for _, size := range benchSizes {
		c := clusterFor(b, size.nodes, size.daemonSets)
		next := c.sets[0].DeepCopy()
		next.Spec.Template.Spec.Containers[0].Image += "-next"
		next.Generation++
		rev, err := revision.New(next, 2)
		if err != nil {
			b.Fatal(err)
		}
		key := control.Key(next)
		name := fmt.Sprintf("daemonsets=%d/nodes=%d", size.daemonSets, size.nodes)
		byName := map[string]*corev1.Pod{}
		for _, pod := range c.pods[0] {
			byName[pod.Name] = pod
		}
		// A planner starts the rollout (start) and plans after the
		// deletion of removed and the creation of added (step).
		type planner struct {
			start func()
			step  func(now time.Time, removed, added *corev1.Pod) plan.Plan
		}
		run := func(b *testing.B, pl planner) {
			pl.start()
			now := c.now
			var removed, added *corev1.Pod
			serial := 0
			b.ReportAllocs()
			for b.Loop() {
				p := pl.step(now, removed, added)
				if p.Err == nil && len(p.Deletes)+len(p.Creates) == 0 {
					b.StopTimer() // the rollout is done
					pl.start()
					added = nil
					b.StartTimer()
					p = pl.step(now, nil, nil)
				}
				if p.Err != nil || len(p.Deletes) != 1 {
					b.Fatalf("step %d: %v, %d deletes", serial, p.Err, len(p.Deletes))
				}
				removed = byName[p.Deletes[0].Pod]
				p = pl.step(now, removed, nil)
				if p.Err != nil || len(p.Creates) != 1 {
					b.Fatalf("step %d: %v, %d creates", serial, p.Err, len(p.Creates))
				}
				serial++
				added = p.Creates[0].Pod
				added.Name, added.UID = fmt.Sprintf("new-%06d", serial), types.UID(fmt.Sprintf("new-%06d", serial))
				added.CreationTimestamp = metav1.NewTime(now)
				added.Spec.NodeName = p.Creates[0].Node
				added.Status = corev1.PodStatus{Phase: corev1.PodRunning,
					Conditions: []corev1.PodCondition{{Type: corev1.PodReady, Status: corev1.ConditionTrue, LastTransitionTime: metav1.NewTime(now)}}}
				now = now.Add(11 * time.Second)
				removed = nil
			}
		}
		b.Run(name+"/planner=incremental", func(b *testing.B) {
			var p *incremental.Planner
			check := func() {
				if p != nil && (p.Stats().Builds != len(c.sets)+1 || p.Stats().FullPlans > 0) {
					b.Fatalf("not incremental: %+v", p.Stats())
				}
			}
			run(b, planner{
				start: func() {
					check()
					p = c.planner()
					p.SetDaemonSet(next)
					p.SetRevision(rev)
					p.Plan(key, c.now, false, nil, plan.Options{}) // builds the index for the new hash
					runtime.GC()
				},
				step: func(now time.Time, removed, added *corev1.Pod) plan.Plan {
					if removed != nil {
						p.DeletePod(removed.Namespace, removed.Name)
					}
					if added != nil {
						p.SetPod(added)
					}
					return p.Plan(key, now, false, nil, plan.Options{})
				},
			})
			check()
		})
		b.Run(name+"/planner=New", func(b *testing.B) {
			var s plan.Snapshot
			var at map[string]int
			run(b, planner{
				start: func() {
					s = c.snapshot(0)
					s.DaemonSet = next
					s.Revisions = append([]*appsv1.ControllerRevision{rev}, c.revs...)
					s.Pods = append([]*corev1.Pod(nil), s.Pods...)
					at = map[string]int{}
					for i, pod := range s.Pods {
						at[pod.Name] = i
					}
					runtime.GC()
				},
				step: func(now time.Time, removed, added *corev1.Pod) plan.Plan {
					if removed != nil {
						i := at[removed.Name]
						s.Pods[i] = s.Pods[len(s.Pods)-1]
						at[s.Pods[i].Name] = i
						s.Pods = s.Pods[:len(s.Pods)-1]
					}
					if added != nil {
						at[added.Name] = len(s.Pods)
						s.Pods = append(s.Pods, added)
					}
					s.Now = now
					return plan.New(s, plan.Options{})
				},
			})
		})
	}
}

// BenchmarkReset builds a Planner from the full lists, every DaemonSet's
// index included (planner=incremental), against planning every DaemonSet
// once with plan.New (planner=New). start=fresh is a process's first
// build: a new Planner, and the sync.Pools of working memory (plan.New's
// and the Planner's) emptied before each op, untimed, so that both pay for
// fresh memory; start=resync is a build again: the same Planner, warm
// pools. planner=incremental/start=fresh also reports what the Planner
// holds (its live heap after a collection, runtime.MemStats) per node and
// per pod.
func BenchmarkReset(b *testing.B) {
	emptyPools := func(b *testing.B) {
		b.StopTimer()
		runtime.GC()
		runtime.GC() // a sync.Pool keeps its objects for one collection
		b.StartTimer()
	}
	for _, size := range benchSizes {
		c := clusterFor(b, size.nodes, size.daemonSets)
		name := fmt.Sprintf("daemonsets=%d/nodes=%d", size.daemonSets, size.nodes)
		planAll := func(b *testing.B) {
			for d := range c.sets {
				if pl := plan.New(c.snapshot(d), plan.Options{}); pl.Err != nil {
					b.Fatal(pl.Err)
				}
			}
		}
		b.Run(name+"/planner=incremental/start=fresh", func(b *testing.B) {
			b.ReportAllocs()
			for b.Loop() {
				emptyPools(b)
				var p incremental.Planner
				p.Reset(c.now, c.nodes, c.all, c.sets, c.revs)
			}
			b.StopTimer()
			perNode, perPod := memoryPerObject(c)
			b.ReportMetric(perNode, "B/node")
			b.ReportMetric(perPod, "B/pod")
		})
		b.Run(name+"/planner=New/start=fresh", func(b *testing.B) {
			b.ReportAllocs()
			for b.Loop() {
				emptyPools(b)
				planAll(b)
			}
		})
		b.Run(name+"/planner=incremental/start=resync", func(b *testing.B) {
			var p incremental.Planner
			p.Reset(c.now, c.nodes, c.all, c.sets, c.revs)
			runtime.GC()
			b.ReportAllocs()
			for b.Loop() {
				p.Reset(c.now, c.nodes, c.all, c.sets, c.revs)
			}
		})
		b.Run(name+"/planner=New/start=resync", func(b *testing.B) {
			planAll(b)
			runtime.GC()
			b.ReportAllocs()
			for b.Loop() {
				planAll(b)
			}
		})
	}
}

// memoryPerObject measures a Planner of the cluster's nodes alone (bytes
// per node), then of everything (the rest, per pod, index entries
// included).
func memoryPerObject(c *benchCluster) (perNode, perPod float64) {
	heap := func() int64 {
		runtime.GC()
		runtime.GC() // and what sync.Pools kept
		var m runtime.MemStats
		runtime.ReadMemStats(&m)
		return int64(m.HeapAlloc)
	}
	before := heap()
	var nodesOnly incremental.Planner
	nodesOnly.Reset(c.now, c.nodes, nil, nil, nil)
	withNodes := heap()
	var all incremental.Planner
	all.Reset(c.now, c.nodes, c.all, c.sets, c.revs)
	withAll := heap()
	runtime.KeepAlive(&nodesOnly)
	runtime.KeepAlive(&all)
	perNode = float64(withNodes-before) / float64(len(c.nodes))
	perPod = float64(withAll-withNodes-(withNodes-before)) / float64(len(c.all))
	return perNode, perPod
}
