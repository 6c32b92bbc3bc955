package overhead_test

import (
	"fmt"
	"maps"
	"slices"
	"strings"

	appsv1 "k8s.io/api/apps/v1"
	corev1 "k8s.io/api/core/v1"
	"k8s.io/apimachinery/pkg/api/resource"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/types"

	"github.com/dsplan/dsplan/placement/overhead"
)

// agent returns a DaemonSet as the API server stores it, whose one
// container requests cpu and memory.
func agent(namespace, name, cpu, memory string) *appsv1.DaemonSet {
	labels := map[string]string{"app": name}
	return &appsv1.DaemonSet{
		ObjectMeta: metav1.ObjectMeta{Namespace: namespace, Name: name, UID: types.UID("uid-" + name)},
		Spec: appsv1.DaemonSetSpec{
			Selector: &metav1.LabelSelector{MatchLabels: labels},
			Template: corev1.PodTemplateSpec{
				ObjectMeta: metav1.ObjectMeta{Labels: labels},
				Spec: corev1.PodSpec{Containers: []corev1.Container{{
					Name: name, Image: "example.com/" + name,
					Resources: corev1.ResourceRequirements{Requests: corev1.ResourceList{
						corev1.ResourceCPU: resource.MustParse(cpu), corev1.ResourceMemory: resource.MustParse(memory),
					}},
				}}},
			},
		},
	}
}

// cluster returns three DaemonSets: kube-proxy tolerates every taint, the
// GPU device plugin wants GPU nodes, the log agent tolerates nothing.
func cluster() []*appsv1.DaemonSet {
	proxy := agent("kube-system", "kube-proxy", "100m", "50Mi")
	proxy.Spec.Template.Spec.Tolerations = []corev1.Toleration{{Operator: corev1.TolerationOpExists}}
	gpu := agent("gpu-operator", "nvidia-device-plugin", "50m", "64Mi")
	gpu.Spec.Template.Spec.NodeSelector = map[string]string{"nvidia.com/gpu.present": "true"}
	gpu.Spec.Template.Spec.Tolerations = []corev1.Toleration{{Key: "nvidia.com/gpu", Operator: corev1.TolerationOpExists}}
	return []*appsv1.DaemonSet{proxy, gpu, agent("logging", "fluent-bit", "200m", "128Mi")}
}

// format prints a resource list in name order.
func format(l corev1.ResourceList) string {
	var parts []string
	for _, name := range slices.Sorted(maps.Keys(l)) {
		q := l[name]
		parts = append(parts, string(name)+"="+q.String())
	}
	return strings.Join(parts, ",")
}

func ExampleNew() {
	set := overhead.New(cluster(), overhead.Options{})
	for _, d := range set.DaemonSets() {
		fmt.Println(d, format(d.Requests))
	}
	// Output:
	// gpu-operator/nvidia-device-plugin cpu=50m,memory=64Mi
	// kube-system/kube-proxy cpu=100m,memory=50Mi
	// logging/fluent-bit cpu=200m,memory=128Mi
}

func ExampleSet_Template() {
	set := overhead.New(cluster(), overhead.Options{})
	templates := map[string]*corev1.Node{
		"m5.large": {ObjectMeta: metav1.ObjectMeta{Labels: map[string]string{"node.kubernetes.io/instance-type": "m5.large"}}},
		"p5.48xlarge": {
			ObjectMeta: metav1.ObjectMeta{Labels: map[string]string{"node.kubernetes.io/instance-type": "p5.48xlarge", "nvidia.com/gpu.present": "true"}},
			Spec:       corev1.NodeSpec{Taints: []corev1.Taint{{Key: "nvidia.com/gpu", Value: "true", Effect: corev1.TaintEffectNoSchedule}}},
		},
	}
	for _, name := range slices.Sorted(maps.Keys(templates)) {
		r := set.Template(templates[name])
		fmt.Printf("%s: %d pods, %s\n", name, r.Pods, format(r.Requests))
		for _, e := range r.Entries() {
			fmt.Println("  " + e.String())
		}
	}
	// Output:
	// m5.large: 2 pods, cpu=300m,memory=178Mi
	//   gpu-operator/nvidia-device-plugin: Excluded: no pod: node labels do not match spec.template.spec.nodeSelector
	//   kube-system/kube-proxy: Lands
	//   logging/fluent-bit: Lands
	// p5.48xlarge: 2 pods, cpu=150m,memory=114Mi
	//   gpu-operator/nvidia-device-plugin: Lands
	//   kube-system/kube-proxy: Lands
	//   logging/fluent-bit: Excluded: no new pod; a pod already there may stay: untolerated taint nvidia.com/gpu=true:NoSchedule
}

// ExampleSet_Templates sizes a catalogue of instance types at once: each
// template gets the overhead of the DaemonSets that land on it.
func ExampleSet_Templates() {
	set := overhead.New(cluster(), overhead.Options{})
	var templates []*corev1.Node
	for _, instanceType := range []string{"m5.large", "c6g.xlarge", "g5.2xlarge"} {
		labels := map[string]string{"node.kubernetes.io/instance-type": instanceType}
		if strings.HasPrefix(instanceType, "g5.") {
			labels["nvidia.com/gpu.present"] = "true"
		}
		templates = append(templates, &corev1.Node{ObjectMeta: metav1.ObjectMeta{Labels: labels}})
	}
	for i, r := range set.Templates(templates) {
		fmt.Printf("%s: %d pods, %s\n", templates[i].Labels["node.kubernetes.io/instance-type"], r.Pods, format(r.Requests))
	}
	// Output:
	// m5.large: 2 pods, cpu=300m,memory=178Mi
	// c6g.xlarge: 2 pods, cpu=300m,memory=178Mi
	// g5.2xlarge: 3 pods, cpu=350m,memory=242Mi
}

func ExampleSet_Node() {
	pinned := agent("kube-system", "etcd-backup", "500m", "256Mi")
	pinned.Spec.Template.Spec.Affinity = &corev1.Affinity{NodeAffinity: &corev1.NodeAffinity{
		RequiredDuringSchedulingIgnoredDuringExecution: &corev1.NodeSelector{NodeSelectorTerms: []corev1.NodeSelectorTerm{{
			MatchFields: []corev1.NodeSelectorRequirement{{Key: "metadata.name", Operator: corev1.NodeSelectorOpIn, Values: []string{"control-plane-1"}}},
		}}},
	}}
	set := overhead.New([]*appsv1.DaemonSet{pinned, agent("logging", "fluent-bit", "200m", "128Mi")}, overhead.Options{})

	// The node it is pinned to, another node, and a template: a template
	// is never a node a DaemonSet names.
	for _, r := range []overhead.Result{
		set.Node(&corev1.Node{ObjectMeta: metav1.ObjectMeta{Name: "control-plane-1"}}),
		set.Node(&corev1.Node{ObjectMeta: metav1.ObjectMeta{Name: "worker-1"}}),
		set.Template(&corev1.Node{}),
	} {
		name := r.Node
		if r.Template {
			name = "(template)"
		}
		fmt.Printf("%s: %d pods, %s\n", name, r.Pods, format(r.Requests))
	}
	// Output:
	// control-plane-1: 2 pods, cpu=700m,memory=384Mi
	// worker-1: 1 pods, cpu=200m,memory=128Mi
	// (template): 1 pods, cpu=200m,memory=128Mi
}

func ExampleSet_Missing() {
	dss := cluster()
	set := overhead.New(dss, overhead.Options{})
	node := &corev1.Node{ObjectMeta: metav1.ObjectMeta{Name: "worker-1"}}
	// kube-proxy's pod already runs on worker-1.
	yes := true
	pod := &corev1.Pod{
		ObjectMeta: metav1.ObjectMeta{
			Namespace: "kube-system", Name: "kube-proxy-x7k2p", Labels: map[string]string{"app": "kube-proxy"},
			OwnerReferences: []metav1.OwnerReference{{APIVersion: "apps/v1", Kind: "DaemonSet", Name: "kube-proxy", UID: dss[0].UID, Controller: &yes}},
		},
		Spec: corev1.PodSpec{NodeName: "worker-1"},
	}
	r, err := set.Missing(node, []*corev1.Pod{pod})
	if err != nil {
		fmt.Println(err)
		return
	}
	fmt.Printf("still missing: %d pods, %s\n", r.Pods, format(r.Requests))
	for _, e := range r.Entries() {
		fmt.Println("  " + e.String())
	}
	// Output:
	// still missing: 1 pods, cpu=200m,memory=128Mi
	//   gpu-operator/nvidia-device-plugin: Excluded: no pod: node labels do not match spec.template.spec.nodeSelector
	//   kube-system/kube-proxy: Present: a pod of the DaemonSet targets the node
	//   logging/fluent-bit: Lands
}
