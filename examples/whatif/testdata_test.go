package main

import (
	"bytes"
	"encoding/json"
	"flag"
	"fmt"
	"hash/fnv"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	appsv1 "k8s.io/api/apps/v1"
	corev1 "k8s.io/api/core/v1"
	"k8s.io/apimachinery/pkg/api/resource"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/types"
	"k8s.io/apimachinery/pkg/util/intstr"
	"sigs.k8s.io/yaml"

	"github.com/dsplan/dsplan/placement"
	"github.com/dsplan/dsplan/plan"
	"github.com/dsplan/dsplan/revision"
)

var update = flag.Bool("update", false, "rewrite testdata/cluster.yaml and testdata/cluster.json from clusterObjects")

// The example cluster of the package documentation and the README, as
// `kubectl get -n kube-system daemonset/fluentd nodes pods
// controllerrevisions -o yaml` (and -o json) prints it: six nodes and a
// fluentd DaemonSet in the middle of a rolling update from
// fluent/fluentd:v1.16.5 to v1.17.1 (maxUnavailable 1):
//
//   - cp-1: control-plane node, NoSchedule taint fluentd does not tolerate;
//   - node-1: already runs the new pod, ready;
//   - node-2: old pod, ready;
//   - node-3: old pod, not ready (crash-looping);
//   - db-1: NoSchedule taint dedicated=db added after the old pod landed;
//   - win-1: a Windows node, outside the nodeSelector kubernetes.io/os=linux.
//
// The DaemonSet's status is the one kube-controller-manager wrote at its
// last sync (plan.New's).
var clusterStart = time.Date(2026, 11, 20, 9, 0, 0, 0, time.UTC)

// clusterRollout is when revision 2 was made (kubectl set image).
var clusterRollout = time.Date(2026, 12, 5, 21, 0, 0, 0, time.UTC)

func fluentdDS(generation int64, image string) *appsv1.DaemonSet {
	labels := map[string]string{"app.kubernetes.io/name": "fluentd"}
	one := intstr.FromInt32(1)
	zero := intstr.FromInt32(0)
	ds := &appsv1.DaemonSet{
		TypeMeta: metav1.TypeMeta{APIVersion: "apps/v1", Kind: "DaemonSet"},
		ObjectMeta: metav1.ObjectMeta{
			Name: "fluentd", Namespace: "kube-system", UID: "6f1c2a7e-3b4d-4e8f-9a0b-1c2d3e4f5a6b",
			Generation: generation, ResourceVersion: "48213", CreationTimestamp: metav1.NewTime(clusterStart),
			Labels:      labels,
			Annotations: map[string]string{"deprecated.daemonset.template.generation": fmt.Sprint(generation)},
		},
		Spec: appsv1.DaemonSetSpec{
			Selector: &metav1.LabelSelector{MatchLabels: labels},
			Template: corev1.PodTemplateSpec{
				ObjectMeta: metav1.ObjectMeta{Labels: labels},
				Spec: corev1.PodSpec{
					ServiceAccountName: "fluentd",
					NodeSelector:       map[string]string{"kubernetes.io/os": "linux"},
					Containers: []corev1.Container{{
						Name: "fluentd", Image: image,
						Resources: corev1.ResourceRequirements{
							Requests: corev1.ResourceList{corev1.ResourceCPU: resource.MustParse("100m"), corev1.ResourceMemory: resource.MustParse("200Mi")},
							Limits:   corev1.ResourceList{corev1.ResourceMemory: resource.MustParse("500Mi")},
						},
						VolumeMounts: []corev1.VolumeMount{{Name: "varlog", MountPath: "/var/log", ReadOnly: true}},
					}},
					Volumes: []corev1.Volume{{Name: "varlog", VolumeSource: corev1.VolumeSource{HostPath: &corev1.HostPathVolumeSource{Path: "/var/log"}}}},
				},
			},
			UpdateStrategy: appsv1.DaemonSetUpdateStrategy{
				Type:          appsv1.RollingUpdateDaemonSetStrategyType,
				RollingUpdate: &appsv1.RollingUpdateDaemonSet{MaxUnavailable: &one, MaxSurge: &zero},
			},
		},
	}
	out, _ := plan.Default(ds)
	out.TypeMeta = ds.TypeMeta
	return out
}

// hostIPs are the example nodes' addresses.
var hostIPs = map[string]string{"cp-1": "10.0.0.10", "db-1": "10.0.0.21", "node-1": "10.0.0.31", "node-2": "10.0.0.32", "node-3": "10.0.0.33", "win-1": "10.0.0.41"}

// exampleUID is a stable UUID-shaped UID for key.
func exampleUID(key string) types.UID {
	h := fnv.New128a()
	h.Write([]byte(key))
	b := h.Sum(nil)
	b[6] = b[6]&0x0f | 0x40
	b[8] = b[8]&0x3f | 0x80
	return types.UID(fmt.Sprintf("%x-%x-%x-%x-%x", b[0:4], b[4:6], b[6:8], b[8:10], b[10:16]))
}

func exampleNode(name string, labels map[string]string, taints ...corev1.Taint) *corev1.Node {
	l := map[string]string{"kubernetes.io/hostname": name, "kubernetes.io/arch": "amd64", "kubernetes.io/os": "linux"}
	for k, v := range labels {
		l[k] = v
	}
	n := &corev1.Node{
		TypeMeta: metav1.TypeMeta{APIVersion: "v1", Kind: "Node"},
		ObjectMeta: metav1.ObjectMeta{
			Name: name, UID: exampleUID("node/" + name),
			ResourceVersion: "47990", CreationTimestamp: metav1.NewTime(clusterStart.Add(-72 * time.Hour)), Labels: l,
		},
		Spec: corev1.NodeSpec{Taints: taints, PodCIDR: strings.Replace(hostIPs[name], "10.0.0.", "10.244.", 1) + ".0/24"},
	}
	n.Status = corev1.NodeStatus{
		Addresses:   []corev1.NodeAddress{{Type: corev1.NodeInternalIP, Address: hostIPs[name]}, {Type: corev1.NodeHostName, Address: name}},
		Capacity:    corev1.ResourceList{corev1.ResourceCPU: resource.MustParse("4"), corev1.ResourceMemory: resource.MustParse("16374624Ki"), corev1.ResourcePods: resource.MustParse("110")},
		Allocatable: corev1.ResourceList{corev1.ResourceCPU: resource.MustParse("4"), corev1.ResourceMemory: resource.MustParse("16272224Ki"), corev1.ResourcePods: resource.MustParse("110")},
		Conditions: []corev1.NodeCondition{{
			Type: corev1.NodeReady, Status: corev1.ConditionTrue, Reason: "KubeletReady", Message: "kubelet is posting ready status",
			LastHeartbeatTime: metav1.NewTime(clusterRollout.Add(4 * time.Minute)), LastTransitionTime: metav1.NewTime(clusterStart.Add(-72 * time.Hour)),
		}},
		DaemonEndpoints: corev1.NodeDaemonEndpoints{KubeletEndpoint: corev1.DaemonEndpoint{Port: 10250}},
		NodeInfo: corev1.NodeSystemInfo{
			KubeletVersion: "v1.37.2", OperatingSystem: l["kubernetes.io/os"], Architecture: "amd64", ContainerRuntimeVersion: "containerd://2.1.4",
			KernelVersion: "6.12.48-1.el9.x86_64", OSImage: "Rocky Linux 9.6 (Blue Onyx)", BootID: string(exampleUID("boot/" + name)),
			MachineID: strings.ReplaceAll(string(exampleUID("machine/"+name)), "-", ""), SystemUUID: string(exampleUID("system/" + name)),
		},
	}
	if l["kubernetes.io/os"] == "windows" {
		n.Status.NodeInfo.KernelVersion, n.Status.NodeInfo.OSImage = "10.0.26100.4946", "Windows Server 2025 Datacenter"
	}
	return n
}

// examplePod is the pod kube-controller-manager created for ds on node,
// scheduled and started at created.
func examplePod(ds *appsv1.DaemonSet, node, suffix string, created time.Time, ready bool) *corev1.Pod {
	hash := revision.Hash(&ds.Spec.Template, nil)
	p := placement.New(ds, placement.Options{}).NewPod(node, hash)
	p.TypeMeta = metav1.TypeMeta{APIVersion: "v1", Kind: "Pod"}
	p.Name = p.GenerateName + suffix
	p.UID = exampleUID("pod/" + p.Name)
	p.ResourceVersion = "48190"
	p.CreationTimestamp = metav1.NewTime(created)
	p.Spec.NodeName = node
	p.Spec.ServiceAccountName = "fluentd"
	prio := int32(0)
	p.Spec.Priority = &prio
	status, restarts := corev1.ConditionTrue, int32(0)
	var waiting *corev1.ContainerStateWaiting
	if !ready {
		status, restarts = corev1.ConditionFalse, 7
		waiting = &corev1.ContainerStateWaiting{Reason: "CrashLoopBackOff", Message: "back-off 5m0s restarting failed container=fluentd"}
	}
	started := metav1.NewTime(created.Add(3 * time.Second))
	p.Status = corev1.PodStatus{
		Phase: corev1.PodRunning, HostIP: hostIPs[node], PodIP: strings.Replace(hostIPs[node], "10.0.0.", "10.244.", 1) + ".17", StartTime: &started,
		QOSClass: corev1.PodQOSBurstable,
		Conditions: []corev1.PodCondition{
			{Type: corev1.PodScheduled, Status: corev1.ConditionTrue, LastTransitionTime: metav1.NewTime(created)},
			{Type: corev1.PodInitialized, Status: corev1.ConditionTrue, LastTransitionTime: started},
			{Type: corev1.ContainersReady, Status: status, LastTransitionTime: started},
			{Type: corev1.PodReady, Status: status, LastTransitionTime: started},
		},
	}
	cs := corev1.ContainerStatus{Name: "fluentd", Image: ds.Spec.Template.Spec.Containers[0].Image, Ready: ready, RestartCount: restarts}
	if waiting != nil {
		cs.State.Waiting = waiting
	} else {
		cs.State.Running = &corev1.ContainerStateRunning{StartedAt: started}
	}
	p.Status.ContainerStatuses = []corev1.ContainerStatus{cs}
	return p
}

// clusterObjects builds the example cluster: the DaemonSet (with the status
// of its last sync), nodes, pods and revisions, in kubectl's order.
func clusterObjects(t *testing.T) []any {
	t.Helper()
	v1 := fluentdDS(1, "fluent/fluentd:v1.16.5")
	v2 := fluentdDS(2, "fluent/fluentd:v1.17.1")
	v2.Annotations[revision.ChangeCauseAnnotation] = "kubectl set image daemonset/fluentd fluentd=fluent/fluentd:v1.17.1"
	nodes := []*corev1.Node{
		exampleNode("cp-1", map[string]string{"node-role.kubernetes.io/control-plane": "", "topology.kubernetes.io/zone": "eu-west-1a"},
			corev1.Taint{Key: "node-role.kubernetes.io/control-plane", Effect: corev1.TaintEffectNoSchedule}),
		exampleNode("db-1", map[string]string{"dedicated": "db", "topology.kubernetes.io/zone": "eu-west-1b"},
			corev1.Taint{Key: "dedicated", Value: "db", Effect: corev1.TaintEffectNoSchedule}),
		exampleNode("node-1", map[string]string{"topology.kubernetes.io/zone": "eu-west-1a"}),
		exampleNode("node-2", map[string]string{"topology.kubernetes.io/zone": "eu-west-1b"}),
		exampleNode("node-3", map[string]string{"topology.kubernetes.io/zone": "eu-west-1c"}),
		exampleNode("win-1", map[string]string{"kubernetes.io/os": "windows", "topology.kubernetes.io/zone": "eu-west-1a"}),
	}
	pods := []*corev1.Pod{
		examplePod(v1, "db-1", "4kq7z", clusterStart.Add(time.Minute), true),
		examplePod(v2, "node-1", "x8w2n", clusterRollout.Add(2*time.Minute), true),
		examplePod(v1, "node-2", "7bd5m", clusterStart.Add(time.Minute), true),
		examplePod(v1, "node-3", "tq9lc", clusterStart.Add(time.Minute), false),
	}
	var revs []*appsv1.ControllerRevision
	for i, ds := range []*appsv1.DaemonSet{v1, v2} {
		r, err := revision.New(ds, int64(i+1))
		if err != nil {
			t.Fatal(err)
		}
		r.TypeMeta = metav1.TypeMeta{APIVersion: "apps/v1", Kind: "ControllerRevision"}
		r.UID = exampleUID("controllerrevision/" + r.Name)
		r.ResourceVersion = fmt.Sprint(1200 + 46000*i)
		r.CreationTimestamp = metav1.NewTime(clusterStart)
		if i == 1 {
			r.CreationTimestamp = metav1.NewTime(clusterRollout)
		}
		revs = append(revs, r)
	}
	// The status kube-controller-manager wrote at its last sync.
	p := plan.New(plan.Snapshot{DaemonSet: v2, Nodes: nodes, Pods: pods, Revisions: revs, Now: clusterRollout.Add(5 * time.Minute)}, plan.Options{})
	if p.Err != nil {
		t.Fatal(p.Err)
	}
	v2.Status = p.Status
	objs := []any{v2}
	for _, n := range nodes {
		objs = append(objs, n)
	}
	for _, p := range pods {
		objs = append(objs, p)
	}
	for _, r := range revs {
		objs = append(objs, r)
	}
	return objs
}

// kubectlList is the v1 List kubectl prints for several objects.
type kubectlList struct {
	APIVersion string            `json:"apiVersion"`
	Items      []any             `json:"items"`
	Kind       string            `json:"kind"`
	Metadata   map[string]string `json:"metadata"`
}

// TestTestdataCluster checks testdata/cluster.yaml and cluster.json against
// clusterObjects (-update rewrites them).
func TestTestdataCluster(t *testing.T) {
	list := kubectlList{APIVersion: "v1", Kind: "List", Items: clusterObjects(t), Metadata: map[string]string{"resourceVersion": ""}}
	y, err := yaml.Marshal(list)
	if err != nil {
		t.Fatal(err)
	}
	// kubectl -o json indents by four spaces, revision data included.
	j, err := json.MarshalIndent(list, "", "    ")
	if err != nil {
		t.Fatal(err)
	}
	j = append(j, '\n')
	for name, want := range map[string][]byte{"cluster.yaml": y, "cluster.json": j} {
		path := filepath.Join("testdata", name)
		if *update {
			if err := os.WriteFile(path, want, 0o644); err != nil {
				t.Fatal(err)
			}
			continue
		}
		got, err := os.ReadFile(path)
		if err != nil {
			t.Fatal(err)
		}
		if !bytes.Equal(got, want) {
			t.Errorf("%s differs from clusterObjects: run go test ./examples/whatif -run TestTestdataCluster -update", path)
		}
	}
}
