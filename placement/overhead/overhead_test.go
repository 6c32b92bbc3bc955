package overhead_test

import (
	"errors"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"
	appsv1 "k8s.io/api/apps/v1"
	corev1 "k8s.io/api/core/v1"
	nodev1 "k8s.io/api/node/v1"
	"k8s.io/apimachinery/pkg/api/resource"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"

	"github.com/dsplan/dsplan/internal/dstest"
	"github.com/dsplan/dsplan/placement"
	"github.com/dsplan/dsplan/placement/overhead"
)

const (
	NoSchedule       = corev1.TaintEffectNoSchedule
	PreferNoSchedule = corev1.TaintEffectPreferNoSchedule
	NoExecute        = corev1.TaintEffectNoExecute
	In               = corev1.NodeSelectorOpIn
	NotIn            = corev1.NodeSelectorOpNotIn
	Exists           = corev1.NodeSelectorOpExists
	Gt               = corev1.NodeSelectorOpGt
	Lt               = corev1.NodeSelectorOpLt
)

// list builds a ResourceList from name, quantity pairs.
func list(kv ...string) corev1.ResourceList {
	l := corev1.ResourceList{}
	for i := 0; i+1 < len(kv); i += 2 {
		l[corev1.ResourceName(kv[i])] = resource.MustParse(kv[i+1])
	}
	return l
}

// daemonSet is dstest.DaemonSet: a DaemonSet as the API server stores it,
// in namespace "default", one container requesting nothing.
func daemonSet(name string, mods ...func(*appsv1.DaemonSet)) *appsv1.DaemonSet {
	return dstest.DaemonSet(name, mods...)
}

func namespace(ns string) func(*appsv1.DaemonSet) {
	return func(ds *appsv1.DaemonSet) { ds.Namespace = ns }
}

// requests sets the first container's requests.
func requests(kv ...string) func(*appsv1.DaemonSet) {
	return func(ds *appsv1.DaemonSet) { ds.Spec.Template.Spec.Containers[0].Resources.Requests = list(kv...) }
}

// limits sets the first container's limits.
func limits(kv ...string) func(*appsv1.DaemonSet) {
	return func(ds *appsv1.DaemonSet) { ds.Spec.Template.Spec.Containers[0].Resources.Limits = list(kv...) }
}

func nodeSelector(kv ...string) func(*appsv1.DaemonSet) {
	return func(ds *appsv1.DaemonSet) {
		sel := map[string]string{}
		for i := 0; i+1 < len(kv); i += 2 {
			sel[kv[i]] = kv[i+1]
		}
		ds.Spec.Template.Spec.NodeSelector = sel
	}
}

func tolerate(t corev1.Toleration) func(*appsv1.DaemonSet) {
	return func(ds *appsv1.DaemonSet) {
		ds.Spec.Template.Spec.Tolerations = append(ds.Spec.Template.Spec.Tolerations, t)
	}
}

// affinity sets the required node affinity's terms (ORed).
func affinity(terms ...corev1.NodeSelectorTerm) func(*appsv1.DaemonSet) {
	return func(ds *appsv1.DaemonSet) {
		ds.Spec.Template.Spec.Affinity = &corev1.Affinity{NodeAffinity: &corev1.NodeAffinity{
			RequiredDuringSchedulingIgnoredDuringExecution: &corev1.NodeSelector{NodeSelectorTerms: terms},
		}}
	}
}

func hostNetwork(ds *appsv1.DaemonSet) { ds.Spec.Template.Spec.HostNetwork = true }

func exprs(reqs ...corev1.NodeSelectorRequirement) corev1.NodeSelectorTerm {
	return corev1.NodeSelectorTerm{MatchExpressions: reqs}
}

func fields(reqs ...corev1.NodeSelectorRequirement) corev1.NodeSelectorTerm {
	return corev1.NodeSelectorTerm{MatchFields: reqs}
}

func req(key string, op corev1.NodeSelectorOperator, values ...string) corev1.NodeSelectorRequirement {
	return corev1.NodeSelectorRequirement{Key: key, Operator: op, Values: values}
}

func taint(key, value string, effect corev1.TaintEffect) corev1.Taint {
	return corev1.Taint{Key: key, Value: value, Effect: effect}
}

// template returns a node template (no name) with labels given as
// key, value pairs and taints.
func template(labels []string, taints ...corev1.Taint) *corev1.Node {
	n := &corev1.Node{ObjectMeta: metav1.ObjectMeta{Labels: map[string]string{}}, Spec: corev1.NodeSpec{Taints: taints}}
	for i := 0; i+1 < len(labels); i += 2 {
		n.Labels[labels[i]] = labels[i+1]
	}
	return n
}

// kv is a readable []string for label pairs.
func kv(s ...string) []string { return s }

// resultView is a Result with its entries in a slice, for cmp.
type resultView struct {
	Node      string
	Template  bool
	Entries   []overhead.Entry
	Pods      int
	Requests  corev1.ResourceList
	HostPorts []overhead.HostPort
}

func view(r overhead.Result) resultView {
	v := resultView{Node: r.Node, Template: r.Template, Pods: r.Pods, Requests: r.Requests, HostPorts: r.HostPorts}
	for _, e := range r.Entries() {
		v.Entries = append(v.Entries, e)
	}
	return v
}

// outcomes summarizes a Result's entries: "namespace/name" to the outcome
// and, for excluded entries, the placement reason and taint.
func outcomes(r overhead.Result) map[string]string {
	out := map[string]string{}
	for _, e := range r.Entries() {
		s := e.Outcome.String()
		if e.Outcome == overhead.Excluded {
			s += " " + e.Decision.Reason.String()
			if e.Decision.Taint != nil {
				s += " " + e.Decision.Taint.ToString()
			}
		}
		out[e.DaemonSet.String()] = s
	}
	return out
}

// TestTemplate holds the cases autoscalers have got wrong, each named by
// the upstream rule it follows and, where there is one, the bug it would
// catch.
func TestTemplate(t *testing.T) {
	gpuTaint := taint("nvidia.com/gpu", "true", NoSchedule)
	nvidia := daemonSet("nvidia-device-plugin", namespace("gpu-operator"),
		nodeSelector("nvidia.com/gpu.present", "true"),
		tolerate(corev1.Toleration{Key: "nvidia.com/gpu", Operator: corev1.TolerationOpExists, Effect: NoSchedule}),
		requests("cpu", "50m", "memory", "64Mi"))
	tests := []struct {
		name         string
		daemonSets   []*appsv1.DaemonSet
		node         *corev1.Node
		want         map[string]string
		wantPods     int
		wantRequests corev1.ResourceList
	}{
		{
			// Toleration.ToleratesTaint: an empty key with operator Exists
			// matches every key, an empty effect every effect.
			// kubernetes-sigs/karpenter#1749 counted such DaemonSets
			// (kube-proxy, aws-node) as tolerating nothing: pods 0.
			name: "Exists toleration without key tolerates every taint",
			daemonSets: []*appsv1.DaemonSet{
				daemonSet("kube-proxy", namespace("kube-system"), tolerate(corev1.Toleration{Operator: corev1.TolerationOpExists}), requests("cpu", "100m")),
				daemonSet("aws-node", namespace("kube-system"), tolerate(corev1.Toleration{Operator: corev1.TolerationOpExists}), requests("cpu", "25m")),
				daemonSet("log-agent", requests("cpu", "200m")),
			},
			node: template(kv("kubernetes.io/os", "linux"), taint("dedicated", "batch", NoSchedule), taint("team", "ml", NoExecute)),
			want: map[string]string{
				"kube-system/kube-proxy": "Lands",
				"kube-system/aws-node":   "Lands",
				"default/log-agent":      "Excluded UntoleratedNoExecuteTaint team=ml:NoExecute",
			},
			wantPods:     2,
			wantRequests: list("cpu", "125m"),
		},
		{
			// nodeaffinity: Gt and Lt compare a label's integer value.
			// kubernetes-sigs/karpenter#715 counted every DaemonSet split
			// by instance size on every node.
			name: "DaemonSets split by instance size",
			daemonSets: []*appsv1.DaemonSet{
				daemonSet("agent-small", affinity(exprs(req("karpenter.k8s.aws/instance-cpu", Lt, "17"))), requests("cpu", "500m", "memory", "512Mi")),
				daemonSet("agent-large", affinity(exprs(req("karpenter.k8s.aws/instance-cpu", Gt, "16"))), requests("cpu", "2", "memory", "4Gi")),
				daemonSet("agent-metal", affinity(exprs(req("karpenter.k8s.aws/instance-size", In, "metal"))), requests("cpu", "4")),
			},
			node: template(kv("karpenter.k8s.aws/instance-cpu", "32", "karpenter.k8s.aws/instance-size", "8xlarge")),
			want: map[string]string{
				"default/agent-small": "Excluded NodeAffinityMismatch",
				"default/agent-large": "Lands",
				"default/agent-metal": "Excluded NodeAffinityMismatch",
			},
			wantPods:     1,
			wantRequests: list("cpu", "2", "memory", "4Gi"),
		},
		{
			// nodeaffinity: nodeSelectorTerms are ORed, the requirements
			// of one term ANDed. kubernetes-sigs/karpenter#1337 looked at
			// the first term only.
			name: "ORed nodeSelectorTerms, second term matches",
			daemonSets: []*appsv1.DaemonSet{
				daemonSet("arm-or-large", affinity(
					exprs(req("kubernetes.io/arch", In, "arm64")),
					exprs(req("node.kubernetes.io/instance-type", In, "m5.4xlarge", "m5.8xlarge"), req("kubernetes.io/os", In, "linux")),
				), requests("memory", "256Mi")),
				daemonSet("arm-only", affinity(exprs(req("kubernetes.io/arch", In, "arm64"))), requests("memory", "1Gi")),
			},
			node: template(kv("kubernetes.io/arch", "amd64", "kubernetes.io/os", "linux", "node.kubernetes.io/instance-type", "m5.8xlarge")),
			want: map[string]string{
				"default/arm-or-large": "Lands",
				"default/arm-only":     "Excluded NodeAffinityMismatch",
			},
			wantPods:     1,
			wantRequests: list("memory", "256Mi"),
		},
		{
			// The same terms, a template no term matches (the ANDed
			// requirement os=linux fails).
			name: "ORed nodeSelectorTerms, no term matches",
			daemonSets: []*appsv1.DaemonSet{
				daemonSet("arm-or-large", affinity(
					exprs(req("kubernetes.io/arch", In, "arm64")),
					exprs(req("node.kubernetes.io/instance-type", In, "m5.8xlarge"), req("kubernetes.io/os", In, "linux")),
				), requests("memory", "256Mi")),
			},
			node: template(kv("kubernetes.io/arch", "amd64", "kubernetes.io/os", "windows", "node.kubernetes.io/instance-type", "m5.8xlarge")),
			want: map[string]string{"default/arm-or-large": "Excluded NodeAffinityMismatch"},
		},
		{
			// nodeSelector: every pair must be a label of the node.
			// aws/karpenter-provider-aws#6507 counted GPU resources as
			// DaemonSet overhead of nodes they do not belong to.
			name:       "GPU DaemonSet on a CPU template",
			daemonSets: []*appsv1.DaemonSet{nvidia, daemonSet("log-agent", requests("cpu", "100m"))},
			node:       template(kv("kubernetes.io/arch", "amd64", "node.kubernetes.io/instance-type", "m5.large")),
			want: map[string]string{
				"gpu-operator/nvidia-device-plugin": "Excluded NodeSelectorMismatch",
				"default/log-agent":                 "Lands",
			},
			wantPods:     1,
			wantRequests: list("cpu", "100m"),
		},
		{
			// The GPU template carries the label and the GPU taint the
			// device plugin tolerates; the log agent does not tolerate it.
			name:       "GPU DaemonSet on a GPU template",
			daemonSets: []*appsv1.DaemonSet{nvidia, daemonSet("log-agent", requests("cpu", "100m"))},
			node:       template(kv("nvidia.com/gpu.present", "true", "node.kubernetes.io/instance-type", "p5.48xlarge"), gpuTaint),
			want: map[string]string{
				"gpu-operator/nvidia-device-plugin": "Lands",
				"default/log-agent":                 "Excluded UntoleratedTaint nvidia.com/gpu=true:NoSchedule",
			},
			wantPods:     1,
			wantRequests: list("cpu", "50m", "memory", "64Mi"),
		},
		{
			// util.AddOrUpdateDaemonPodTolerations: every daemon pod
			// tolerates not-ready and unreachable NoExecute and the
			// pressure and unschedulable NoSchedule taints, host-network
			// pods also network-unavailable. Karpenter's template fallback
			// (a pod built from the template when none exists) lacks them.
			name: "daemon pods' default tolerations",
			daemonSets: []*appsv1.DaemonSet{
				daemonSet("cni", hostNetwork, requests("cpu", "50m")),
				daemonSet("log-agent", requests("cpu", "100m")),
			},
			node: template(nil,
				taint(corev1.TaintNodeNotReady, "", NoExecute),
				taint(corev1.TaintNodeUnschedulable, "", NoSchedule),
				taint(corev1.TaintNodeNetworkUnavailable, "", NoSchedule)),
			want: map[string]string{
				"default/cni":       "Lands",
				"default/log-agent": "Excluded UntoleratedTaint node.kubernetes.io/network-unavailable:NoSchedule",
			},
			wantPods:     1,
			wantRequests: list("cpu", "50m"),
		},
		{
			// nodeShouldRunDaemonPod checks NoSchedule and NoExecute taints
			// only: PreferNoSchedule never keeps a daemon pod away.
			name:         "PreferNoSchedule is ignored",
			daemonSets:   []*appsv1.DaemonSet{daemonSet("log-agent", requests("cpu", "100m"))},
			node:         template(nil, taint("spot", "true", PreferNoSchedule)),
			want:         map[string]string{"default/log-agent": "Lands"},
			wantPods:     1,
			wantRequests: list("cpu", "100m"),
		},
		{
			// An untolerated NoExecute taint is reported before a
			// NoSchedule one listed earlier; neither lands.
			name:       "NoExecute before NoSchedule",
			daemonSets: []*appsv1.DaemonSet{daemonSet("log-agent", tolerate(corev1.Toleration{Key: "a", Operator: corev1.TolerationOpExists, Effect: NoExecute}))},
			node:       template(nil, taint("a", "", NoSchedule), taint("b", "", NoExecute)),
			want:       map[string]string{"default/log-agent": "Excluded UntoleratedNoExecuteTaint b:NoExecute"},
		},
		{
			// A template is a node whose name no DaemonSet mentions (see the
			// package documentation): matchFields In fails, NotIn holds,
			// spec.nodeName never matches.
			name: "DaemonSets pinned to named nodes",
			daemonSets: []*appsv1.DaemonSet{
				daemonSet("only-node-a", affinity(fields(req(metav1.ObjectNameField, In, "node-a")))),
				daemonSet("not-node-a", affinity(fields(req(metav1.ObjectNameField, NotIn, "node-a")))),
				daemonSet("node-name", func(ds *appsv1.DaemonSet) { ds.Spec.Template.Spec.NodeName = "node-a" }),
				daemonSet("label-or-node-a", affinity(fields(req(metav1.ObjectNameField, In, "node-a")), exprs(req("role", In, "edge")))),
			},
			node: template(kv("role", "edge")),
			want: map[string]string{
				"default/only-node-a":     "Excluded NodeAffinityMismatch",
				"default/not-node-a":      "Lands",
				"default/node-name":       "Excluded NodeNameMismatch",
				"default/label-or-node-a": "Lands",
			},
			wantPods: 2,
		},
		{
			// syncDaemonSet returns before managing a DaemonSet that
			// selects every pod or is being deleted.
			name: "DaemonSets KCM ignores",
			daemonSets: []*appsv1.DaemonSet{
				daemonSet("deleting", requests("cpu", "1"), func(ds *appsv1.DaemonSet) { ds.DeletionTimestamp = &metav1.Time{Time: dstest.Epoch} }),
				daemonSet("select-all", requests("cpu", "1"), func(ds *appsv1.DaemonSet) { ds.Spec.Selector = &metav1.LabelSelector{} }),
				daemonSet("bad-selector", requests("cpu", "1"), func(ds *appsv1.DaemonSet) {
					ds.Spec.Selector = &metav1.LabelSelector{MatchExpressions: []metav1.LabelSelectorRequirement{{Key: "app", Operator: "Bad"}}}
				}),
				daemonSet("log-agent", requests("cpu", "100m")),
			},
			node: template(nil),
			want: map[string]string{
				"default/deleting":     "Ignored",
				"default/select-all":   "Ignored",
				"default/bad-selector": "Ignored",
				"default/log-agent":    "Lands",
			},
			wantPods:     1,
			wantRequests: list("cpu", "100m"),
		},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			r := overhead.New(tc.daemonSets, overhead.Options{}).Template(tc.node)
			if diff := cmp.Diff(tc.want, outcomes(r)); diff != "" {
				t.Errorf("Template() outcomes mismatch (-want +got):\n%s", diff)
			}
			if r.Pods != tc.wantPods {
				t.Errorf("Template().Pods = %d, want %d", r.Pods, tc.wantPods)
			}
			if diff := cmp.Diff(tc.wantRequests, r.Requests); diff != "" {
				t.Errorf("Template().Requests mismatch (-want +got):\n%s", diff)
			}
			if !r.Template || r.Node != "" {
				t.Errorf("Template() = {Template: %v, Node: %q}, want {true, \"\"}", r.Template, r.Node)
			}
		})
	}
}

// TestRequests checks what each DaemonSet's pod requests and the host
// ports it takes, computed once by New.
func TestRequests(t *testing.T) {
	sidecar := corev1.ContainerRestartPolicyAlways
	initContainers := func(cs ...corev1.Container) func(*appsv1.DaemonSet) {
		return func(ds *appsv1.DaemonSet) { ds.Spec.Template.Spec.InitContainers = cs }
	}
	containers := func(cs ...corev1.Container) func(*appsv1.DaemonSet) {
		return func(ds *appsv1.DaemonSet) { ds.Spec.Template.Spec.Containers = cs }
	}
	container := func(name string, req corev1.ResourceList, ports ...corev1.ContainerPort) corev1.Container {
		return corev1.Container{Name: name, Image: "example.com/" + name, Resources: corev1.ResourceRequirements{Requests: req}, Ports: ports}
	}
	runtimeClass := func(name string) func(*appsv1.DaemonSet) {
		return func(ds *appsv1.DaemonSet) { ds.Spec.Template.Spec.RuntimeClassName = &name }
	}
	gvisor := &nodev1.RuntimeClass{ObjectMeta: metav1.ObjectMeta{Name: "gvisor"}, Handler: "runsc", Overhead: &nodev1.Overhead{PodFixed: list("cpu", "250m", "memory", "120Mi")}}
	tests := []struct {
		name      string
		ds        *appsv1.DaemonSet
		classes   []*nodev1.RuntimeClass
		want      corev1.ResourceList
		wantPorts []overhead.HostPort
		wantWarn  []string
	}{
		{name: "nothing requested", ds: daemonSet("a"), want: corev1.ResourceList{}},
		{
			// SetDefaults_Pod: requests default to limits in the created
			// pod (aws/karpenter-provider-aws#1573 missed DaemonSets with
			// limits only).
			name: "limits only",
			ds:   daemonSet("a", limits("cpu", "200m", "memory", "200Mi")),
			want: list("cpu", "200m", "memory", "200Mi"),
		},
		{
			name: "limits and a request",
			ds:   daemonSet("a", requests("cpu", "50m"), limits("cpu", "200m", "memory", "200Mi")),
			want: list("cpu", "50m", "memory", "200Mi"),
		},
		{
			// PodRequests: max(sum of containers, each init container).
			name: "init containers' maximum",
			ds: daemonSet("a",
				initContainers(container("init-big", list("cpu", "2", "memory", "64Mi")), container("init-small", list("memory", "1Gi"))),
				containers(container("c1", list("cpu", "100m", "memory", "128Mi")), container("c2", list("cpu", "100m", "memory", "128Mi")))),
			want: list("cpu", "2", "memory", "1Gi"),
		},
		{
			// PodRequests: restartable init containers (sidecars) run
			// beside the containers and add to them, and to every init
			// container after them.
			name: "sidecar",
			ds: daemonSet("a", initContainers(
				func() corev1.Container {
					c := container("proxy", list("cpu", "100m", "memory", "50Mi"))
					c.RestartPolicy = &sidecar
					return c
				}(),
				container("init", list("cpu", "1")),
			), containers(container("main", list("cpu", "200m", "memory", "100Mi")))),
			want: list("cpu", "1100m", "memory", "150Mi"),
		},
		{
			// PodRequests: pod-level requests replace the containers' sum
			// for cpu and memory; the pod-level memory request is
			// defaulted from the containers (PrepareForCreate).
			name: "pod-level resources",
			ds: daemonSet("a", requests("cpu", "100m", "memory", "100Mi", "example.com/foo", "1"), func(ds *appsv1.DaemonSet) {
				ds.Spec.Template.Spec.Resources = &corev1.ResourceRequirements{Requests: list("cpu", "1")}
			}),
			want: list("cpu", "1", "memory", "100Mi", "example.com/foo", "1"),
		},
		{
			// The RuntimeClass admission plugin sets spec.overhead from
			// the RuntimeClass; PodRequests adds it.
			name:    "RuntimeClass overhead",
			ds:      daemonSet("a", requests("cpu", "100m"), runtimeClass("gvisor")),
			classes: []*nodev1.RuntimeClass{gvisor},
			want:    list("cpu", "350m", "memory", "120Mi"),
		},
		{
			name:     "RuntimeClass not given",
			ds:       daemonSet("a", requests("cpu", "100m"), runtimeClass("gvisor")),
			want:     list("cpu", "100m"),
			wantWarn: []string{`spec.template.spec.runtimeClassName: RuntimeClass "gvisor" not given (Options.RuntimeClasses): its pod overhead is not counted`},
		},
		{
			name:     "RuntimeClass not found",
			ds:       daemonSet("a", requests("cpu", "100m"), runtimeClass("kata")),
			classes:  []*nodev1.RuntimeClass{gvisor},
			want:     list("cpu", "100m"),
			wantWarn: []string{`spec.template.spec.runtimeClassName: RuntimeClass "kata" not found: the RuntimeClass admission plugin rejects the pod`},
		},
		{
			name: "overhead without RuntimeClass",
			ds: daemonSet("a", requests("cpu", "100m"), func(ds *appsv1.DaemonSet) {
				ds.Spec.Template.Spec.Overhead = list("cpu", "10m")
			}),
			want:     list("cpu", "110m"),
			wantWarn: []string{"spec.template.spec.overhead: set without a RuntimeClass: the RuntimeClass admission plugin rejects the pod (counted as set)"},
		},
		{
			// NodePorts: ports with hostPort > 0 of containers and
			// sidecars; an init container's port is free again when the
			// pod runs. HostIP "" is 0.0.0.0, protocol "" TCP.
			name: "host ports",
			ds: daemonSet("a", initContainers(
				corev1.Container{Name: "init", Ports: []corev1.ContainerPort{{ContainerPort: 1, HostPort: 1000}}},
				corev1.Container{Name: "proxy", RestartPolicy: &sidecar, Ports: []corev1.ContainerPort{{ContainerPort: 15001, HostPort: 15001}}},
			), containers(
				container("dns", nil, corev1.ContainerPort{ContainerPort: 53, HostPort: 53, Protocol: corev1.ProtocolUDP}, corev1.ContainerPort{ContainerPort: 53, HostPort: 53}),
				container("metrics", nil, corev1.ContainerPort{ContainerPort: 9100, HostPort: 9100, HostIP: "10.0.0.1"}, corev1.ContainerPort{ContainerPort: 8080}),
			)),
			want: corev1.ResourceList{},
			wantPorts: []overhead.HostPort{
				{Port: 53, Protocol: corev1.ProtocolTCP, HostIP: "0.0.0.0"},
				{Port: 53, Protocol: corev1.ProtocolUDP, HostIP: "0.0.0.0"},
				{Port: 9100, Protocol: corev1.ProtocolTCP, HostIP: "10.0.0.1"},
				{Port: 15001, Protocol: corev1.ProtocolTCP, HostIP: "0.0.0.0"},
			},
		},
		{
			// SetDefaults_Pod: with hostNetwork, hostPort defaults to
			// containerPort in the created pod.
			name:      "hostNetwork ports",
			ds:        daemonSet("a", hostNetwork, containers(container("exporter", nil, corev1.ContainerPort{ContainerPort: 9100, Protocol: corev1.ProtocolTCP}))),
			want:      corev1.ResourceList{},
			wantPorts: []overhead.HostPort{{Port: 9100, Protocol: corev1.ProtocolTCP, HostIP: "0.0.0.0"}},
		},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			set := overhead.New([]*appsv1.DaemonSet{tc.ds}, overhead.Options{RuntimeClasses: tc.classes})
			d := set.DaemonSets()[0]
			if diff := cmp.Diff(tc.want, d.Requests); diff != "" {
				t.Errorf("Requests mismatch (-want +got):\n%s", diff)
			}
			if diff := cmp.Diff(tc.wantPorts, d.HostPorts); diff != "" {
				t.Errorf("HostPorts mismatch (-want +got):\n%s", diff)
			}
			var warnings []string
			for _, w := range d.Warnings {
				warnings = append(warnings, w.String())
			}
			if diff := cmp.Diff(tc.wantWarn, warnings); diff != "" {
				t.Errorf("Warnings mismatch (-want +got):\n%s", diff)
			}
			// A template where it lands counts the same.
			r := set.Template(template(nil))
			if diff := cmp.Diff(tc.want, r.Requests, cmpEmpty); diff != "" {
				t.Errorf("Template().Requests mismatch (-want +got):\n%s", diff)
			}
			if diff := cmp.Diff(tc.wantPorts, r.HostPorts); diff != "" {
				t.Errorf("Template().HostPorts mismatch (-want +got):\n%s", diff)
			}
		})
	}
}

// cmpEmpty equates an empty ResourceList with nil.
var cmpEmpty = cmp.FilterValues(func(a, b corev1.ResourceList) bool { return len(a) == 0 && len(b) == 0 }, cmp.Ignore())

func TestResultSums(t *testing.T) {
	set := overhead.New([]*appsv1.DaemonSet{
		daemonSet("a", requests("cpu", "100m", "memory", "1Gi"), hostNetwork, func(ds *appsv1.DaemonSet) {
			ds.Spec.Template.Spec.Containers[0].Ports = []corev1.ContainerPort{{ContainerPort: 53, Protocol: corev1.ProtocolUDP}}
		}),
		daemonSet("b", requests("cpu", "1.5", "memory", "512Mi", "example.com/dev", "2"), func(ds *appsv1.DaemonSet) {
			ds.Spec.Template.Spec.Containers[0].Ports = []corev1.ContainerPort{{ContainerPort: 53, HostPort: 53, Protocol: corev1.ProtocolUDP}, {ContainerPort: 80, HostPort: 80, Protocol: corev1.ProtocolTCP}}
		}),
		daemonSet("c", requests("cpu", "1"), nodeSelector("role", "edge")),
	}, overhead.Options{})
	r := set.Template(template(nil))
	if diff := cmp.Diff(list("cpu", "1600m", "memory", "1536Mi", "example.com/dev", "2"), r.Requests); diff != "" {
		t.Errorf("Requests mismatch (-want +got):\n%s", diff)
	}
	// Two DaemonSets want UDP 53: the port is listed once.
	wantPorts := []overhead.HostPort{{Port: 53, Protocol: corev1.ProtocolUDP, HostIP: "0.0.0.0"}, {Port: 80, Protocol: corev1.ProtocolTCP, HostIP: "0.0.0.0"}}
	if diff := cmp.Diff(wantPorts, r.HostPorts); diff != "" {
		t.Errorf("HostPorts mismatch (-want +got):\n%s", diff)
	}
	if r.Pods != 2 {
		t.Errorf("Pods = %d, want 2", r.Pods)
	}
	// The Result's list is its own: changing it changes no other.
	r.Requests[corev1.ResourceCPU] = resource.MustParse("9")
	r.HostPorts[0].Port = 1
	again := set.Template(template(nil))
	if got := again.Requests[corev1.ResourceCPU]; got.String() != "1600m" {
		t.Errorf("after modifying a Result, Requests[cpu] = %s, want 1600m", got.String())
	}
	if again.HostPorts[0].Port != 53 {
		t.Errorf("after modifying a Result, HostPorts[0] = %v", again.HostPorts[0])
	}
	if got := set.DaemonSets()[0].HostPorts[0].Port; got != 53 {
		t.Errorf("after modifying a Result, DaemonSet a's port = %d, want 53", got)
	}
}

func TestNothingLands(t *testing.T) {
	set := overhead.New([]*appsv1.DaemonSet{daemonSet("a", requests("cpu", "1"), nodeSelector("role", "edge"))}, overhead.Options{})
	r := set.Template(template(nil))
	if r.Pods != 0 || r.Requests != nil || r.HostPorts != nil {
		t.Errorf("Template() = {Pods: %d, Requests: %v, HostPorts: %v}, want zero values", r.Pods, r.Requests, r.HostPorts)
	}
	empty := overhead.New(nil, overhead.Options{})
	if r := empty.Template(template(nil)); r.Len() != 0 || r.Pods != 0 || r.Requests != nil {
		t.Errorf("empty Set: Template() = %+v, want no entries", r)
	}
}

// TestTemplateIgnoresName: a template's name, if it has one, plays no
// part; a DaemonSet that mentions the placeholder name does not make it
// land.
func TestTemplateIgnoresName(t *testing.T) {
	set := overhead.New([]*appsv1.DaemonSet{
		daemonSet("only-node-a", affinity(fields(req(metav1.ObjectNameField, In, "node-a")))),
		daemonSet("only-template", affinity(fields(req(metav1.ObjectNameField, In, "<template>", "<template>-1")))),
		daemonSet("named-template", func(ds *appsv1.DaemonSet) { ds.Spec.Template.Spec.NodeName = "<template>-2" }),
	}, overhead.Options{})
	named := template(nil)
	named.Name = "node-a"
	for _, n := range []*corev1.Node{template(nil), named} {
		r := set.Template(n)
		want := map[string]string{
			"default/only-node-a":    "Excluded NodeAffinityMismatch",
			"default/only-template":  "Excluded NodeAffinityMismatch",
			"default/named-template": "Excluded NodeNameMismatch",
		}
		if diff := cmp.Diff(want, outcomes(r)); diff != "" {
			t.Errorf("Template(%q) outcomes mismatch (-want +got):\n%s", n.Name, diff)
		}
	}
}

func TestNode(t *testing.T) {
	set := overhead.New([]*appsv1.DaemonSet{
		daemonSet("only-node-a", affinity(fields(req(metav1.ObjectNameField, In, "node-a"))), requests("cpu", "1")),
		daemonSet("not-node-a", affinity(fields(req(metav1.ObjectNameField, NotIn, "node-a"))), requests("cpu", "2")),
		daemonSet("edge", nodeSelector("role", "edge"), requests("cpu", "4")),
	}, overhead.Options{})
	tests := []struct {
		name         string
		node         *corev1.Node
		want         map[string]string
		wantNode     string
		wantTemplate bool
		wantRequests corev1.ResourceList
	}{
		{
			name: "named node",
			node: dstest.Node("node-a", dstest.Labels("role", "edge")),
			want: map[string]string{
				"default/only-node-a": "Lands",
				"default/not-node-a":  "Excluded NodeAffinityMismatch",
				"default/edge":        "Lands",
			},
			wantNode:     "node-a",
			wantRequests: list("cpu", "5"),
		},
		{
			name: "other node",
			node: dstest.Node("node-b"),
			want: map[string]string{
				"default/only-node-a": "Excluded NodeAffinityMismatch",
				"default/not-node-a":  "Lands",
				"default/edge":        "Excluded NodeSelectorMismatch",
			},
			wantNode:     "node-b",
			wantRequests: list("cpu", "2"),
		},
		{
			// A node without a name cannot exist: it is a template.
			name: "no name",
			node: template(kv("role", "edge")),
			want: map[string]string{
				"default/only-node-a": "Excluded NodeAffinityMismatch",
				"default/not-node-a":  "Lands",
				"default/edge":        "Lands",
			},
			wantTemplate: true,
			wantRequests: list("cpu", "6"),
		},
		{
			// placement's zero Decision: nothing runs on no node.
			name: "nil node",
			node: nil,
			want: map[string]string{
				"default/only-node-a": "Excluded NotEvaluated",
				"default/not-node-a":  "Excluded NotEvaluated",
				"default/edge":        "Excluded NotEvaluated",
			},
		},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			r := set.Node(tc.node)
			if diff := cmp.Diff(tc.want, outcomes(r)); diff != "" {
				t.Errorf("Node() outcomes mismatch (-want +got):\n%s", diff)
			}
			if diff := cmp.Diff(tc.wantRequests, r.Requests); diff != "" {
				t.Errorf("Node().Requests mismatch (-want +got):\n%s", diff)
			}
			if r.Template != tc.wantTemplate {
				t.Errorf("Node().Template = %v, want %v", r.Template, tc.wantTemplate)
			}
			if r.Node != tc.wantNode {
				t.Errorf("Node().Node = %q, want %q", r.Node, tc.wantNode)
			}
		})
	}
}

func TestMissing(t *testing.T) {
	agent := daemonSet("agent", requests("cpu", "100m"))
	exporter := daemonSet("exporter", namespace("monitoring"), requests("memory", "50Mi"))
	edge := daemonSet("edge", nodeSelector("role", "edge"), requests("cpu", "1"))
	set := overhead.New([]*appsv1.DaemonSet{agent, exporter, edge}, overhead.Options{})
	node := dstest.Node("node-a")
	orphan := func(p *corev1.Pod) { p.OwnerReferences = nil }
	tests := []struct {
		name         string
		pods         []*corev1.Pod
		want         map[string]string
		wantRequests corev1.ResourceList
	}{
		{
			name: "no pods",
			want: map[string]string{"default/agent": "Lands", "monitoring/exporter": "Lands", "default/edge": "Excluded NodeSelectorMismatch"},
			// The two missing pods.
			wantRequests: list("cpu", "100m", "memory", "50Mi"),
		},
		{
			name:         "a controlled pod on the node",
			pods:         []*corev1.Pod{dstest.Pod(agent, "agent-x", "node-a", "")},
			want:         map[string]string{"default/agent": "Present", "monitoring/exporter": "Lands", "default/edge": "Excluded NodeSelectorMismatch"},
			wantRequests: list("memory", "50Mi"),
		},
		{
			// getNodesToDaemonPods: a pending pod targets the node its
			// matchFields affinity pins.
			name:         "an unscheduled pod pinned to the node",
			pods:         []*corev1.Pod{dstest.Pod(agent, "agent-x", "", "", dstest.Unscheduled("node-a"))},
			want:         map[string]string{"default/agent": "Present", "monitoring/exporter": "Lands", "default/edge": "Excluded NodeSelectorMismatch"},
			wantRequests: list("memory", "50Mi"),
		},
		{
			name: "pods elsewhere",
			pods: []*corev1.Pod{
				dstest.Pod(agent, "agent-x", "node-b", ""),
				dstest.Pod(agent, "agent-y", "", "", dstest.Unscheduled("node-b")),
				// The exporter's pod in another namespace is not its pod.
				dstest.Pod(exporter, "exporter-x", "node-a", "", func(p *corev1.Pod) { p.Namespace = "default" }),
			},
			want:         map[string]string{"default/agent": "Lands", "monitoring/exporter": "Lands", "default/edge": "Excluded NodeSelectorMismatch"},
			wantRequests: list("cpu", "100m", "memory", "50Mi"),
		},
		{
			// ClaimPods adopts an orphan that matches the selector.
			name:         "an orphan the DaemonSet adopts",
			pods:         []*corev1.Pod{dstest.Pod(agent, "agent-x", "node-a", "", orphan)},
			want:         map[string]string{"default/agent": "Present", "monitoring/exporter": "Lands", "default/edge": "Excluded NodeSelectorMismatch"},
			wantRequests: list("memory", "50Mi"),
		},
		{
			// Not adopted: a deleting orphan; a pod another controller
			// (another UID) owns; a controlled pod that no longer matches
			// the selector (released).
			name: "pods the DaemonSet does not claim",
			pods: []*corev1.Pod{
				dstest.Pod(agent, "agent-x", "node-a", "", orphan, dstest.Deleting),
				dstest.Pod(agent, "agent-y", "node-a", "", func(p *corev1.Pod) { p.OwnerReferences[0].UID = "other" }),
				dstest.Pod(agent, "agent-z", "node-a", "", func(p *corev1.Pod) { p.Labels = map[string]string{"app": "other"} }),
			},
			want:         map[string]string{"default/agent": "Lands", "monitoring/exporter": "Lands", "default/edge": "Excluded NodeSelectorMismatch"},
			wantRequests: list("cpu", "100m", "memory", "50Mi"),
		},
		{
			// getNodesToDaemonPods leaves out terminal pods being deleted;
			// a failed pod still counts until it is deleted.
			name: "terminal pods",
			pods: []*corev1.Pod{
				dstest.Pod(agent, "agent-x", "node-a", "", dstest.Phase(corev1.PodSucceeded), dstest.Deleting),
				dstest.Pod(exporter, "exporter-x", "node-a", "", dstest.Phase(corev1.PodFailed)),
			},
			want:         map[string]string{"default/agent": "Lands", "monitoring/exporter": "Present", "default/edge": "Excluded NodeSelectorMismatch"},
			wantRequests: list("cpu", "100m"),
		},
		{
			name:         "nil pods",
			pods:         []*corev1.Pod{nil, dstest.Pod(agent, "agent-x", "node-a", ""), nil},
			want:         map[string]string{"default/agent": "Present", "monitoring/exporter": "Lands", "default/edge": "Excluded NodeSelectorMismatch"},
			wantRequests: list("memory", "50Mi"),
		},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			r, err := set.Missing(node, tc.pods)
			if err != nil {
				t.Fatalf("Missing() error: %v", err)
			}
			if diff := cmp.Diff(tc.want, outcomes(r)); diff != "" {
				t.Errorf("Missing() outcomes mismatch (-want +got):\n%s", diff)
			}
			if diff := cmp.Diff(tc.wantRequests, r.Requests); diff != "" {
				t.Errorf("Missing().Requests mismatch (-want +got):\n%s", diff)
			}
			if r.Node != "node-a" || r.Template {
				t.Errorf("Missing() = {Node: %q, Template: %v}, want {node-a, false}", r.Node, r.Template)
			}
		})
	}
}

func TestMissingErrors(t *testing.T) {
	noUID := daemonSet("no-uid", func(ds *appsv1.DaemonSet) { ds.UID = "" })
	tests := []struct {
		name       string
		daemonSets []*appsv1.DaemonSet
		node       *corev1.Node
		want       error
		wantText   string
	}{
		{name: "nil node", daemonSets: []*appsv1.DaemonSet{daemonSet("a")}, node: nil, want: overhead.ErrNoNode},
		{name: "node without name", daemonSets: []*appsv1.DaemonSet{daemonSet("a")}, node: template(nil), want: overhead.ErrNoNode},
		{
			name:       "DaemonSet without UID",
			daemonSets: []*appsv1.DaemonSet{daemonSet("a"), noUID},
			node:       dstest.Node("node-a"),
			want:       placement.ErrNoIdentity,
			wantText:   "DaemonSet default/no-uid: " + placement.ErrNoIdentity.Error(),
		},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			r, err := overhead.New(tc.daemonSets, overhead.Options{}).Missing(tc.node, nil)
			if !errors.Is(err, tc.want) {
				t.Fatalf("Missing() error = %v, want one wrapping %v", err, tc.want)
			}
			if tc.wantText != "" && err.Error() != tc.wantText {
				t.Errorf("Missing() error = %q, want %q", err, tc.wantText)
			}
			if r.Len() != 0 || r.Node != "" || r.Requests != nil {
				t.Errorf("Missing() with error = %+v, want the zero Result", r)
			}
		})
	}
	// A DaemonSet without UID that does not run on the node needs no
	// claiming.
	set := overhead.New([]*appsv1.DaemonSet{daemonSet("no-uid", func(ds *appsv1.DaemonSet) { ds.UID = "" }, nodeSelector("role", "edge"))}, overhead.Options{})
	if _, err := set.Missing(dstest.Node("node-a"), nil); err != nil {
		t.Errorf("Missing() error = %v, want nil for a DaemonSet that does not run there", err)
	}
}

func TestNewOrderAndWarnings(t *testing.T) {
	first := daemonSet("agent", requests("cpu", "1"))
	repeat := daemonSet("agent", requests("cpu", "2"))
	in := []*appsv1.DaemonSet{
		daemonSet("zeta", namespace("a")),
		nil,
		first,
		daemonSet("alpha", namespace("z")),
		repeat,
		daemonSet("beta"),
		nil,
	}
	set := overhead.New(in, overhead.Options{})
	var got []string
	for _, d := range set.DaemonSets() {
		got = append(got, d.String())
	}
	if diff := cmp.Diff([]string{"a/zeta", "default/agent", "default/beta", "z/alpha"}, got); diff != "" {
		t.Errorf("DaemonSets() order mismatch (-want +got):\n%s", diff)
	}
	if set.Len() != 4 {
		t.Errorf("Len() = %d, want 4", set.Len())
	}
	wantWarnings := []placement.Warning{
		{Field: "DaemonSets[1]", Message: "nil entry ignored"},
		{Field: "DaemonSets[4]", Message: "DaemonSet default/agent listed more than once, later entries ignored"},
		{Field: "DaemonSets[6]", Message: "nil entry ignored"},
	}
	if diff := cmp.Diff(wantWarnings, set.Warnings()); diff != "" {
		t.Errorf("Warnings() mismatch (-want +got):\n%s", diff)
	}
	// The first of two DaemonSets with one name counts.
	if got := set.DaemonSets()[1].Requests.Cpu().String(); got != "1" {
		t.Errorf("repeated DaemonSet: requests cpu %s, want the first's (1)", got)
	}
	// The warnings are the caller's.
	set.Warnings()[0].Message = "changed"
	if set.Warnings()[0].Message != "nil entry ignored" {
		t.Errorf("Warnings() returns shared memory")
	}
}

func TestInvalidAndWarnings(t *testing.T) {
	ds := daemonSet("a", func(ds *appsv1.DaemonSet) {
		ds.Spec.Template.Labels = map[string]string{"app": "other"}
		ds.Spec.Template.Spec.Tolerations = []corev1.Toleration{{Key: "k", Operator: "Bad"}}
	})
	d := overhead.New([]*appsv1.DaemonSet{ds}, overhead.Options{}).DaemonSets()[0]
	var invalid []string
	for _, e := range d.Invalid {
		invalid = append(invalid, e.Field)
	}
	if diff := cmp.Diff([]string{"spec.template.metadata.labels", "spec.template.spec.tolerations[0].operator"}, invalid); diff != "" {
		t.Errorf("Invalid fields mismatch (-want +got):\n%s", diff)
	}
	if len(d.Warnings) != 1 || !strings.Contains(d.Warnings[0].Message, "tolerates nothing") {
		t.Errorf("Warnings = %v, want the toleration's", d.Warnings)
	}
}

// TestTemplatesIsTemplate: over several blocks of templates, and with
// DaemonSets that name nodes, Templates returns what Template returns for
// each node.
func TestTemplatesIsTemplate(t *testing.T) {
	dss := append(benchDaemonSets(30),
		daemonSet("pinned", affinity(fields(req(metav1.ObjectNameField, NotIn, "node-a")), exprs(req("kubernetes.io/arch", In, "arm64")))),
		daemonSet("node-name", func(ds *appsv1.DaemonSet) { ds.Spec.Template.Spec.NodeName = "node-a" }),
	)
	set := overhead.New(dss, overhead.Options{})
	nodes := benchTemplates(700)
	nodes[3], nodes[400] = nil, nil
	nodes[5].Name = "node-a"
	results := set.Templates(nodes)
	if len(results) != len(nodes) {
		t.Fatalf("Templates() = %d results, want %d", len(results), len(nodes))
	}
	for i, r := range results {
		if diff := cmp.Diff(view(set.Template(nodes[i])), view(r)); diff != "" {
			t.Fatalf("Templates()[%d] is not Template() (-Template +Templates):\n%s", i, diff)
		}
	}
	if got := set.Templates(nil); got != nil {
		t.Errorf("Templates(nil) = %v, want nil", got)
	}
}

func TestStrings(t *testing.T) {
	tests := []struct {
		name string
		got  string
		want string
	}{
		{name: "IPv4 port", got: overhead.HostPort{Port: 53, Protocol: corev1.ProtocolUDP, HostIP: "0.0.0.0"}.String(), want: "0.0.0.0:53/UDP"},
		{name: "IPv6 port", got: overhead.HostPort{Port: 9100, Protocol: corev1.ProtocolTCP, HostIP: "::1"}.String(), want: "[::1]:9100/TCP"},
		{name: "outcome", got: overhead.Present.String(), want: "Present"},
		{name: "unknown outcome", got: overhead.Outcome(9).String(), want: "Outcome(9)"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			if tc.got != tc.want {
				t.Errorf("String() = %q, want %q", tc.got, tc.want)
			}
		})
	}
}

func TestEntryString(t *testing.T) {
	set := overhead.New([]*appsv1.DaemonSet{
		daemonSet("a"),
		daemonSet("b", nodeSelector("role", "edge")),
		daemonSet("c", func(ds *appsv1.DaemonSet) { ds.DeletionTimestamp = &metav1.Time{Time: dstest.Epoch} }),
	}, overhead.Options{})
	r, err := set.Missing(dstest.Node("node-a"), []*corev1.Pod{dstest.Pod(daemonSet("a"), "a-x", "node-a", "")})
	if err != nil {
		t.Fatalf("Missing() error: %v", err)
	}
	var got []string
	for _, e := range r.Entries() {
		got = append(got, e.String())
	}
	want := []string{
		"default/a: Present: a pod of the DaemonSet targets the node",
		"default/b: Excluded: no pod: node labels do not match spec.template.spec.nodeSelector",
		"default/c: Ignored: the DaemonSet is being deleted: kube-controller-manager creates no pods for it",
	}
	if diff := cmp.Diff(want, got); diff != "" {
		t.Errorf("Entry.String() mismatch (-want +got):\n%s", diff)
	}
	if got := (overhead.Entry{DaemonSet: set.DaemonSets()[0], Outcome: overhead.Lands}).String(); got != "default/a: Lands" {
		t.Errorf("Entry.String() = %q, want %q", got, "default/a: Lands")
	}
	if got, want := (overhead.Entry{Outcome: overhead.Ignored}).String(), "<nil>: Ignored"; got != want {
		t.Errorf("Entry{}.String() = %q, want %q", got, want)
	}
}

// TestTemplateAllocations: evaluating a template allocates its Result (the
// entries, the request list, the host ports) and the working memory of
// its totals, whatever the number of DaemonSets; the placement
// evaluations allocate nothing.
func TestTemplateAllocations(t *testing.T) {
	for _, n := range []int{10, 100} {
		set := overhead.New(benchDaemonSets(n), overhead.Options{})
		node := benchTemplates(1)[0]
		if got := testing.AllocsPerRun(20, func() { set.Template(node) }); got > 8 {
			t.Errorf("%d DaemonSets: Template() makes %v allocations, want at most 8", n, got)
		}
	}
}
