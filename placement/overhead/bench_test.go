package overhead_test

import (
	"fmt"
	"strconv"
	"testing"

	appsv1 "k8s.io/api/apps/v1"
	corev1 "k8s.io/api/core/v1"

	"github.com/dsplan/dsplan/internal/dstest"
	"github.com/dsplan/dsplan/placement/overhead"
)

// benchDaemonSets returns n DaemonSets of the kinds a cluster runs:
// everywhere (some tolerating every taint), by OS and architecture, split
// by instance size (Gt/Lt), by instance family, GPU nodes only, excluded
// by six NotIn (upstream's benchmark affinity), with sidecars and host
// ports.
func benchDaemonSets(n int) []*appsv1.DaemonSet {
	sidecar := corev1.ContainerRestartPolicyAlways
	dss := make([]*appsv1.DaemonSet, n)
	for i := range dss {
		name := fmt.Sprintf("ds-%03d", i)
		mods := []func(*appsv1.DaemonSet){namespace(fmt.Sprintf("team-%d", i%7)), requests("cpu", fmt.Sprintf("%dm", 10+i), "memory", fmt.Sprintf("%dMi", 16+i))}
		switch i % 10 {
		case 0:
			mods = append(mods, tolerate(corev1.Toleration{Operator: corev1.TolerationOpExists}), hostNetwork, func(ds *appsv1.DaemonSet) {
				ds.Spec.Template.Spec.Containers[0].Ports = []corev1.ContainerPort{{ContainerPort: int32(9000 + i), Protocol: corev1.ProtocolTCP}}
			})
		case 1:
			mods = append(mods, nodeSelector("kubernetes.io/os", "linux", "kubernetes.io/arch", "amd64"))
		case 2:
			mods = append(mods, affinity(exprs(req("karpenter.k8s.aws/instance-cpu", Lt, "17"))))
		case 3:
			mods = append(mods, affinity(exprs(req("karpenter.k8s.aws/instance-cpu", Gt, "16"))))
		case 4:
			mods = append(mods, affinity(
				exprs(req("karpenter.k8s.aws/instance-family", In, "m5", "m6i", "m7i")),
				exprs(req("kubernetes.io/arch", In, "arm64")),
			))
		case 5:
			mods = append(mods, nodeSelector("nvidia.com/gpu.present", "true"),
				tolerate(corev1.Toleration{Key: "nvidia.com/gpu", Operator: corev1.TolerationOpExists, Effect: NoSchedule}),
				requests("cpu", "50m", "memory", "64Mi"))
		case 6:
			mods = append(mods, affinity(exprs(
				req("example.com/papaya", NotIn, "true"),
				req("example.com/kumquat", NotIn, "true"),
				req("quince", NotIn, "dragonfruit"),
				req("lychee", NotIn, "rambutan"),
				req("example.com/durian", NotIn, "mangosteen", "tamarind", "persimmon"),
				req("example.com/guava", NotIn, "starfruit"),
			)))
		case 7:
			mods = append(mods, func(ds *appsv1.DaemonSet) {
				ds.Spec.Template.Spec.InitContainers = []corev1.Container{{
					Name: "proxy", Image: "example.com/proxy", RestartPolicy: &sidecar,
					Resources: corev1.ResourceRequirements{Requests: list("cpu", "20m", "memory", "32Mi")},
				}}
			})
		case 8:
			mods = append(mods, tolerate(corev1.Toleration{Key: "dedicated", Operator: corev1.TolerationOpEqual, Value: "batch", Effect: NoSchedule}),
				affinity(exprs(req("topology.kubernetes.io/zone", In, "us-east-1a", "us-east-1b"))))
		}
		dss[i] = daemonSet(name, mods...)
	}
	return dss
}

// benchTemplates returns n node templates: instance types of several
// families and sizes, three zones, two architectures, one in ten with
// GPUs (and their taint), one in five dedicated to batch.
func benchTemplates(n int) []*corev1.Node {
	families := []string{"m5", "m6i", "m7i", "c5", "c6g", "r5", "r6g", "p4d", "g5", "t3"}
	sizes := []string{"large", "xlarge", "2xlarge", "4xlarge", "8xlarge", "12xlarge", "16xlarge", "24xlarge", "metal"}
	zones := []string{"us-east-1a", "us-east-1b", "us-east-1c"}
	nodes := make([]*corev1.Node, n)
	for i := range nodes {
		family, size := families[i%len(families)], sizes[(i/len(families))%len(sizes)]
		arch := "amd64"
		if family == "c6g" || family == "r6g" {
			arch = "arm64"
		}
		cpu := 2 << ((i / len(families)) % len(sizes))
		labels := []string{
			"node.kubernetes.io/instance-type", family + "." + size,
			"karpenter.k8s.aws/instance-family", family,
			"karpenter.k8s.aws/instance-size", size,
			"karpenter.k8s.aws/instance-cpu", strconv.Itoa(cpu),
			"kubernetes.io/arch", arch,
			"kubernetes.io/os", "linux",
			"topology.kubernetes.io/zone", zones[i%len(zones)],
			"karpenter.sh/capacity-type", []string{"spot", "on-demand"}[i%2],
			"karpenter.sh/nodepool", "pool-" + strconv.Itoa(i%37),
		}
		var taints []corev1.Taint
		if family == "p4d" || family == "g5" {
			labels = append(labels, "nvidia.com/gpu.present", "true")
			taints = append(taints, taint("nvidia.com/gpu", "true", NoSchedule))
		}
		if i%5 == 0 {
			taints = append(taints, taint("dedicated", "batch", NoSchedule))
		}
		nodes[i] = template(labels, taints...)
		nodes[i].Status.Allocatable = list("cpu", strconv.Itoa(cpu), "memory", strconv.Itoa(4*cpu)+"Gi", "pods", "110")
	}
	return nodes
}

// BenchmarkTemplates is the overhead of every template of a large
// autoscaler's catalogue against a cluster's DaemonSets: one op evaluates
// all the templates, with Templates or with a Template call each.
func BenchmarkTemplates(b *testing.B) {
	for _, size := range []struct{ daemonSets, templates int }{{10, 1000}, {100, 10000}} {
		set := overhead.New(benchDaemonSets(size.daemonSets), overhead.Options{})
		templates := benchTemplates(size.templates)
		b.Run(fmt.Sprintf("api=Templates/daemonsets=%d/templates=%d", size.daemonSets, size.templates), func(b *testing.B) {
			b.ReportAllocs()
			pods := 0
			for b.Loop() {
				pods = 0
				for _, r := range set.Templates(templates) {
					pods += r.Pods
				}
			}
			b.ReportMetric(float64(pods)/float64(size.templates), "pods/template")
		})
		b.Run(fmt.Sprintf("api=Template/daemonsets=%d/templates=%d", size.daemonSets, size.templates), func(b *testing.B) {
			b.ReportAllocs()
			pods := 0
			for b.Loop() {
				pods = 0
				for _, n := range templates {
					pods += set.Template(n).Pods
				}
			}
			b.ReportMetric(float64(pods)/float64(size.templates), "pods/template")
		})
	}
}

func BenchmarkNew(b *testing.B) {
	dss := benchDaemonSets(100)
	b.ReportAllocs()
	for b.Loop() {
		overhead.New(dss, overhead.Options{})
	}
}

// BenchmarkMissing: one node with its pods, a pod of every second
// DaemonSet already there.
func BenchmarkMissing(b *testing.B) {
	dss := benchDaemonSets(100)
	set := overhead.New(dss, overhead.Options{})
	node := benchTemplates(1)[0]
	node.Name = "node-a"
	var pods []*corev1.Pod
	for i, ds := range dss {
		if i%2 == 0 {
			pods = append(pods, dstest.Pod(ds, ds.Name+"-x", "node-a", ""))
		}
	}
	b.ReportAllocs()
	for b.Loop() {
		if _, err := set.Missing(node, pods); err != nil {
			b.Fatal(err)
		}
	}
}
