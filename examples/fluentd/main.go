// Command fluentd shows where kube-controller-manager runs the
// fluentd-elasticsearch DaemonSet of the Kubernetes documentation, and why,
// on a small cluster: a control-plane node and three workers, one NotReady,
// one with a custom NoSchedule taint. It then limits the DaemonSet to nodes
// labelled app=logging-node.
//
//	go run ./examples/fluentd
package main

import (
	"fmt"
	"io"
	"os"

	"github.com/dsplan/dsplan/placement"
	appsv1 "k8s.io/api/apps/v1"
	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/util/intstr"
)

func main() {
	run(os.Stdout)
}

// run prints the walkthrough to w.
func run(w io.Writer) {
	ds := fluentdDaemonSet()
	nodes := cluster()

	fmt.Fprintln(w, "fluentd-elasticsearch on every node:")
	place(w, ds, nodes)

	fmt.Fprintln(w, "\nlimited to nodes labelled app=logging-node:")
	ds.Spec.Template.Spec.NodeSelector = map[string]string{"app": "logging-node"}
	place(w, ds, nodes)

	fmt.Fprintln(w, "\nthe controller's syncs, step by step (plan, apply, repeat):")
	walkthrough(w)
}

// place prints, per node, whether a daemon pod runs there and why.
func place(w io.Writer, ds *appsv1.DaemonSet, nodes []*corev1.Node) {
	for _, err := range placement.Validate(ds) {
		fmt.Fprintln(w, "  invalid:", err)
	}
	e := placement.New(ds, placement.Options{})
	for _, warning := range e.Warnings() {
		fmt.Fprintln(w, "  warning:", warning)
	}
	for _, n := range nodes {
		fmt.Fprintf(w, "  %-13s %v\n", n.Name, e.Evaluate(n))
	}
}

// fluentdDaemonSet is the DaemonSet of the Kubernetes documentation
// (https://kubernetes.io/docs/concepts/workloads/controllers/daemonset/),
// with its update strategy as the API server defaults it.
func fluentdDaemonSet() *appsv1.DaemonSet {
	labels := map[string]string{"name": "fluentd-elasticsearch"}
	return &appsv1.DaemonSet{
		ObjectMeta: metav1.ObjectMeta{
			Name:      "fluentd-elasticsearch",
			Namespace: "kube-system",
			UID:       "6f1c2a8e-3d4b-4c5a-9e7f-0a1b2c3d4e5f",
			Labels:    map[string]string{"k8s-app": "fluentd-logging"},
		},
		Spec: appsv1.DaemonSetSpec{
			Selector: &metav1.LabelSelector{MatchLabels: labels},
			Template: corev1.PodTemplateSpec{
				ObjectMeta: metav1.ObjectMeta{Labels: labels},
				Spec: corev1.PodSpec{
					// These tolerations let the DaemonSet run on control-plane
					// nodes; remove them if those should not run the pods.
					Tolerations: []corev1.Toleration{
						{Key: "node-role.kubernetes.io/control-plane", Operator: corev1.TolerationOpExists, Effect: corev1.TaintEffectNoSchedule},
						{Key: "node-role.kubernetes.io/master", Operator: corev1.TolerationOpExists, Effect: corev1.TaintEffectNoSchedule},
					},
					Containers: []corev1.Container{{
						Name:  "fluentd-elasticsearch",
						Image: "quay.io/fluentd_elasticsearch/fluentd:v2.5.2",
						VolumeMounts: []corev1.VolumeMount{
							{Name: "varlog", MountPath: "/var/log"},
							{Name: "varlibdockercontainers", MountPath: "/var/lib/docker/containers", ReadOnly: true},
						},
					}},
					TerminationGracePeriodSeconds: new(int64(30)),
					Volumes: []corev1.Volume{
						{Name: "varlog", VolumeSource: corev1.VolumeSource{HostPath: &corev1.HostPathVolumeSource{Path: "/var/log"}}},
						{Name: "varlibdockercontainers", VolumeSource: corev1.VolumeSource{HostPath: &corev1.HostPathVolumeSource{Path: "/var/lib/docker/containers"}}},
					},
				},
			},
			UpdateStrategy: appsv1.DaemonSetUpdateStrategy{
				Type: appsv1.RollingUpdateDaemonSetStrategyType,
				RollingUpdate: &appsv1.RollingUpdateDaemonSet{
					MaxUnavailable: new(intstr.FromInt32(1)),
					MaxSurge:       new(intstr.FromInt32(0)),
				},
			},
			RevisionHistoryLimit: new(int32(10)),
		},
	}
}

// cluster returns the nodes: a control-plane node, a ready worker, a NotReady
// worker (tainted by the node lifecycle controller) and a worker reserved
// for GPU jobs. Two workers are labelled app=logging-node.
func cluster() []*corev1.Node {
	node := func(name string, labels map[string]string, ready bool, taints ...corev1.Taint) *corev1.Node {
		status := corev1.ConditionTrue
		if !ready {
			status = corev1.ConditionFalse
		}
		labels["kubernetes.io/hostname"] = name
		return &corev1.Node{
			ObjectMeta: metav1.ObjectMeta{Name: name, Labels: labels},
			Spec:       corev1.NodeSpec{Taints: taints},
			Status:     corev1.NodeStatus{Conditions: []corev1.NodeCondition{{Type: corev1.NodeReady, Status: status}}},
		}
	}
	return []*corev1.Node{
		node("control-plane", map[string]string{"node-role.kubernetes.io/control-plane": ""}, true,
			corev1.Taint{Key: "node-role.kubernetes.io/control-plane", Effect: corev1.TaintEffectNoSchedule}),
		node("worker-1", map[string]string{"app": "logging-node"}, true),
		node("worker-2", map[string]string{}, false,
			corev1.Taint{Key: corev1.TaintNodeNotReady, Effect: corev1.TaintEffectNoExecute}),
		node("worker-3", map[string]string{"app": "logging-node"}, true,
			corev1.Taint{Key: "dedicated", Value: "gpu", Effect: corev1.TaintEffectNoSchedule}),
	}
}
