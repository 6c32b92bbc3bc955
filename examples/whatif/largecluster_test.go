package main

import (
	"fmt"
	"os"
	"path/filepath"
	"testing"
	"time"

	appsv1 "k8s.io/api/apps/v1"
	corev1 "k8s.io/api/core/v1"
	"k8s.io/apimachinery/pkg/util/intstr"
	"sigs.k8s.io/yaml"

	"github.com/dsplan/dsplan/plan"
	"github.com/dsplan/dsplan/revision"
)

// largeCluster is a dump of n nodes with the example's fluentd DaemonSet in
// the middle of a rollout (maxUnavailable 10%), every node state present:
// control-plane and db nodes (NoSchedule taints, the db ones keep old pods),
// Windows nodes outside the nodeSelector, new pods, old ready and unready
// pods, failed pods, nodes without a pod and pods bound to deleted nodes.
func largeCluster(t testing.TB, n int) []byte {
	t.Helper()
	y, err := yaml.Marshal(kubectlList{APIVersion: "v1", Kind: "List", Items: largeClusterObjects(t, n), Metadata: map[string]string{"resourceVersion": ""}})
	if err != nil {
		t.Fatal(err)
	}
	return y
}

// largeClusterObjects are the objects of largeCluster, in kubectl's order.
func largeClusterObjects(t testing.TB, n int) []any {
	t.Helper()
	v1 := fluentdDS(1, "fluent/fluentd:v1.16.5")
	v2 := fluentdDS(2, "fluent/fluentd:v1.17.1")
	ten := intstr.FromString("10%")
	v2.Spec.UpdateStrategy.RollingUpdate.MaxUnavailable = &ten
	start := clusterStart
	var nodes []*corev1.Node
	var pods []*corev1.Pod
	for i := range n {
		name := fmt.Sprintf("node-%04d", i)
		zone := map[string]string{"topology.kubernetes.io/zone": fmt.Sprintf("eu-west-1%c", 'a'+i%3)}
		var node *corev1.Node
		switch {
		case i%50 == 0:
			zone["node-role.kubernetes.io/control-plane"] = ""
			node = exampleNode(name, zone, corev1.Taint{Key: "node-role.kubernetes.io/control-plane", Effect: corev1.TaintEffectNoSchedule})
		case i%33 == 1:
			zone["kubernetes.io/os"] = "windows"
			node = exampleNode(name, zone)
		case i%40 == 2:
			zone["dedicated"] = "db"
			node = exampleNode(name, zone, corev1.Taint{Key: "dedicated", Value: "db", Effect: corev1.TaintEffectNoSchedule})
			pods = append(pods, examplePod(v1, name, fmt.Sprintf("d%04d", i), start, true))
		default:
			node = exampleNode(name, zone)
			suffix := fmt.Sprintf("p%04d", i)
			switch r := i % 20; {
			case r < 8:
				pods = append(pods, examplePod(v2, name, suffix, clusterRollout, true))
			case r < 16:
				pods = append(pods, examplePod(v1, name, suffix, start, true))
			case r == 16:
				pods = append(pods, examplePod(v1, name, suffix, start, false))
			case r == 17:
				pods = append(pods, examplePod(v2, name, suffix, clusterRollout, false))
			case r == 18:
				p := examplePod(v1, name, suffix, start, false)
				p.Status.Phase = corev1.PodFailed
				pods = append(pods, p)
			}
			// r == 19: a node without a pod (joined after the last sync).
		}
		nodes = append(nodes, node)
	}
	for i := range max(1, n/500) {
		pods = append(pods, examplePod(v1, fmt.Sprintf("gone-%02d", i), fmt.Sprintf("g%04d", i), start, true))
	}
	var revs []*appsv1.ControllerRevision
	for i, ds := range []*appsv1.DaemonSet{v1, v2} {
		r, err := revision.New(ds, int64(i+1))
		if err != nil {
			t.Fatal(err)
		}
		r.TypeMeta.APIVersion, r.TypeMeta.Kind = "apps/v1", "ControllerRevision"
		revs = append(revs, r)
	}
	p := plan.New(plan.Snapshot{DaemonSet: v2, Nodes: nodes, Pods: pods, Revisions: revs, Now: clusterRollout.Add(5 * time.Minute)}, plan.Options{})
	v2.Status = p.Status
	items := []any{v2}
	for _, x := range nodes {
		items = append(items, x)
	}
	for _, x := range pods {
		items = append(items, x)
	}
	for _, x := range revs {
		items = append(items, x)
	}
	return items
}

// TestWriteLargeDumps writes 60- and 5,000-node dumps to
// $WHATIF_DUMP_DIR, for looking at -o html in a browser.
func TestWriteLargeDumps(t *testing.T) {
	dir := os.Getenv("WHATIF_DUMP_DIR")
	if dir == "" {
		t.Skip("set WHATIF_DUMP_DIR to write cluster-60.yaml and cluster-5000.yaml there")
	}
	for _, n := range []int{60, 5000} {
		if err := os.WriteFile(filepath.Join(dir, fmt.Sprintf("cluster-%d.yaml", n)), largeCluster(t, n), 0o644); err != nil {
			t.Fatal(err)
		}
	}
}
