package status_test

import (
	"fmt"
	"testing"

	appsv1 "k8s.io/api/apps/v1"
	corev1 "k8s.io/api/core/v1"
	"k8s.io/apimachinery/pkg/api/resource"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"

	"github.com/dsplan/dsplan/placement"
	"github.com/dsplan/dsplan/status"
)

// BenchmarkUpdateDaemonSetStatus is the dsplan counterpart of
// kube-controller-manager's benchmark of the same name and sub-benchmark
// names (k8s.io/kubernetes v1.37.2 pkg/controller/daemon/benchmark_test.go,
// run by `oracle bench`), for benchstat to compare. It does the same work
// on the same input: the DaemonSet of upstream's newDaemonSet, with no
// affinity or the six-NotIn exclusion affinity, over 1,000 or 10,000 ready
// nodes labelled as upstream's, and no pods; each iteration compiles the
// placement rules (upstream builds the tolerations and the required node
// affinity in every call), evaluates every node into the per-node list and
// computes the status (status-only, as updateObservedGen false), which
// equals the stored one (upstream then skips the write). The per-node list
// is the caller's memory, reused across iterations, as a controller keeps
// it (plan.New recycles its own, and writes it the same way).
func BenchmarkUpdateDaemonSetStatus(b *testing.B) {
	benchmarkStatus(b, false)
}

// BenchmarkUpdateDaemonSetStatusNodeSet is BenchmarkUpdateDaemonSetStatus
// with the nodes prepared once as a placement.NodeSet, outside the timing,
// as a controller keeps them between two changes of its node list: each
// iteration groups through the set, which reads labels from its columns.
// Same sub-benchmark names, for benchstat.
func BenchmarkUpdateDaemonSetStatusNodeSet(b *testing.B) {
	benchmarkStatus(b, true)
}

func benchmarkStatus(b *testing.B, nodeSet bool) {
	for _, tc := range []struct {
		name     string
		affinity *corev1.Affinity
	}{
		{name: "no-affinity"},
		{name: "exclusion-affinity", affinity: exclusionNodeAffinity()},
	} {
		for _, n := range []int{1000, 10000} {
			b.Run(fmt.Sprintf("affinity=%s/nodes=%d", tc.name, n), func(b *testing.B) {
				ds := kcmDaemonSet(tc.affinity)
				ds.Status.DesiredNumberScheduled = int32(n)
				ds.Status.NumberUnavailable = int32(n)
				nodeList := kcmNodes(n)
				var set *placement.NodeSet
				if nodeSet {
					set = placement.NewNodeSet(nodeList)
				}
				b.ReportAllocs()
				var r status.Result
				var gr placement.Grouper
				in := placement.GroupInput{Hash: "hash", Now: now, Nodes: nodeList, NodeSet: set}
				for b.Loop() {
					in.Evaluator = placement.New(ds, placement.Options{})
					g, err := gr.Group(in)
					if err != nil {
						b.Fatal(err)
					}
					r = status.Compute(ds, g, status.Options{StatusOnly: true})
				}
				if r.Status.DesiredNumberScheduled != int32(n) || r.Changed {
					b.Fatalf("status %+v, want %d desired and no update", r.Status, n)
				}
				b.ReportMetric(float64(b.Elapsed().Nanoseconds())/float64(b.N)/float64(n), "ns/node")
			})
		}
	}
}

// exclusionNodeAffinity is upstream's: one term of six NotIn expressions,
// as cluster-wide agents carry to avoid a few node classes.
func exclusionNodeAffinity() *corev1.Affinity {
	return &corev1.Affinity{NodeAffinity: &corev1.NodeAffinity{
		RequiredDuringSchedulingIgnoredDuringExecution: &corev1.NodeSelector{
			NodeSelectorTerms: []corev1.NodeSelectorTerm{{MatchExpressions: []corev1.NodeSelectorRequirement{
				{Key: "example.com/papaya", Operator: corev1.NodeSelectorOpNotIn, Values: []string{"true"}},
				{Key: "example.com/kumquat", Operator: corev1.NodeSelectorOpNotIn, Values: []string{"true"}},
				{Key: "quince", Operator: corev1.NodeSelectorOpNotIn, Values: []string{"dragonfruit"}},
				{Key: "lychee", Operator: corev1.NodeSelectorOpNotIn, Values: []string{"rambutan"}},
				{Key: "example.com/durian", Operator: corev1.NodeSelectorOpNotIn, Values: []string{"mangosteen", "tamarind", "persimmon"}},
				{Key: "example.com/guava", Operator: corev1.NodeSelectorOpNotIn, Values: []string{"starfruit"}},
			}}},
		},
	}}
}

// kcmDaemonSet is upstream's newDaemonSet("bench") (OnDelete, two-label
// selector, one container) with the given affinity.
func kcmDaemonSet(affinity *corev1.Affinity) *appsv1.DaemonSet {
	two := int32(2)
	labels := map[string]string{"name": "simple-daemon", "type": "production"}
	return &appsv1.DaemonSet{
		ObjectMeta: metav1.ObjectMeta{UID: "bench-uid", Name: "bench", Namespace: metav1.NamespaceDefault},
		Spec: appsv1.DaemonSetSpec{
			RevisionHistoryLimit: &two,
			UpdateStrategy:       appsv1.DaemonSetUpdateStrategy{Type: appsv1.OnDeleteDaemonSetStrategyType},
			Selector:             &metav1.LabelSelector{MatchLabels: labels},
			Template: corev1.PodTemplateSpec{
				ObjectMeta: metav1.ObjectMeta{Labels: labels},
				Spec: corev1.PodSpec{
					Containers: []corev1.Container{{
						Image:                  "foo/bar",
						TerminationMessagePath: corev1.TerminationMessagePathDefault,
						ImagePullPolicy:        corev1.PullIfNotPresent,
					}},
					DNSPolicy: corev1.DNSDefault,
					Affinity:  affinity,
				},
			},
		},
	}
}

// kcmNodes returns upstream's benchmark nodes: node-<i>, ready, with the
// hostname, zone (three zones) and region labels and 100 allocatable pods.
func kcmNodes(n int) []*corev1.Node {
	nodes := make([]*corev1.Node, n)
	for i := range nodes {
		name := fmt.Sprintf("node-%d", i)
		nodes[i] = &corev1.Node{
			TypeMeta: metav1.TypeMeta{APIVersion: "v1"},
			ObjectMeta: metav1.ObjectMeta{Name: name, Labels: map[string]string{
				"kubernetes.io/hostname":        name,
				"topology.kubernetes.io/zone":   fmt.Sprintf("zone-%d", i%3),
				"topology.kubernetes.io/region": "region-1",
			}},
			Status: corev1.NodeStatus{
				Conditions:  []corev1.NodeCondition{{Type: corev1.NodeReady, Status: corev1.ConditionTrue}},
				Allocatable: corev1.ResourceList{corev1.ResourcePods: resource.MustParse("100")},
			},
		}
	}
	return nodes
}
