package plan_test

import (
	"fmt"
	"testing"

	appsv1 "k8s.io/api/apps/v1"
	corev1 "k8s.io/api/core/v1"
	"k8s.io/apimachinery/pkg/util/intstr"

	"github.com/dsplan/dsplan/internal/dstest"
	"github.com/dsplan/dsplan/plan"
	"github.com/dsplan/dsplan/revision"
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
					b.ReportAllocs()
					for b.Loop() {
						p := plan.New(s, plan.Options{})
						if p.Err != nil {
							b.Fatal(p.Err)
						}
					}
				})
			}
		}
	}
}
