// Package dstest builds DaemonSets, Nodes and Pods for dsplan's tests,
// and holds what several test packages check with (Recorder, SetFlag,
// PlanCmp).
//
// Builders return objects as the API server would store them (defaulted
// DaemonSet with namespace, UID and selector) so tests state only what they
// are about. Options are plain functions that modify the object.
package dstest

import (
	"fmt"
	"time"

	"github.com/dsplan/dsplan/placement"
	appsv1 "k8s.io/api/apps/v1"
	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/types"
	"k8s.io/apimachinery/pkg/util/intstr"
)

// Epoch is the creation time of objects the builders make, and a
// convenient "now" base for tests.
var Epoch = time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC)

// DaemonSet returns a defaulted DaemonSet "name" in namespace "default"
// selecting app=name, with RollingUpdate maxUnavailable 1, maxSurge 0 and
// revisionHistoryLimit 10, then applies mods.
func DaemonSet(name string, mods ...func(*appsv1.DaemonSet)) *appsv1.DaemonSet {
	one, zero := intstr.FromInt32(1), intstr.FromInt32(0)
	limit := int32(10)
	grace := int64(30)
	ds := &appsv1.DaemonSet{
		ObjectMeta: metav1.ObjectMeta{
			Name: name, Namespace: "default", UID: types.UID(name + "-uid"), Generation: 1,
			CreationTimestamp: metav1.NewTime(Epoch.Add(-time.Hour)),
		},
		Spec: appsv1.DaemonSetSpec{
			Selector: &metav1.LabelSelector{MatchLabels: map[string]string{"app": name}},
			Template: corev1.PodTemplateSpec{
				ObjectMeta: metav1.ObjectMeta{Labels: map[string]string{"app": name}},
				Spec: corev1.PodSpec{
					Containers: []corev1.Container{{
						Name: name, Image: "registry.example.com/" + name + ":v1",
						TerminationMessagePath: "/dev/termination-log", TerminationMessagePolicy: corev1.TerminationMessageReadFile,
						ImagePullPolicy: corev1.PullIfNotPresent,
					}},
					RestartPolicy: corev1.RestartPolicyAlways, TerminationGracePeriodSeconds: &grace,
					DNSPolicy: corev1.DNSClusterFirst, SecurityContext: &corev1.PodSecurityContext{},
					SchedulerName: corev1.DefaultSchedulerName,
				},
			},
			UpdateStrategy: appsv1.DaemonSetUpdateStrategy{
				Type:          appsv1.RollingUpdateDaemonSetStrategyType,
				RollingUpdate: &appsv1.RollingUpdateDaemonSet{MaxUnavailable: &one, MaxSurge: &zero},
			},
			RevisionHistoryLimit: &limit,
		},
	}
	for _, mod := range mods {
		mod(ds)
	}
	return ds
}

// Image sets the first container's image.
func Image(image string) func(*appsv1.DaemonSet) {
	return func(ds *appsv1.DaemonSet) { ds.Spec.Template.Spec.Containers[0].Image = image }
}

// RollingUpdate sets the RollingUpdate budgets.
func RollingUpdate(maxUnavailable, maxSurge intstr.IntOrString) func(*appsv1.DaemonSet) {
	return func(ds *appsv1.DaemonSet) {
		ds.Spec.UpdateStrategy = appsv1.DaemonSetUpdateStrategy{
			Type:          appsv1.RollingUpdateDaemonSetStrategyType,
			RollingUpdate: &appsv1.RollingUpdateDaemonSet{MaxUnavailable: &maxUnavailable, MaxSurge: &maxSurge},
		}
	}
}

// OnDelete sets the OnDelete strategy.
func OnDelete(ds *appsv1.DaemonSet) {
	ds.Spec.UpdateStrategy = appsv1.DaemonSetUpdateStrategy{Type: appsv1.OnDeleteDaemonSetStrategyType}
}

// NodeSelector sets the template's nodeSelector.
func NodeSelector(sel map[string]string) func(*appsv1.DaemonSet) {
	return func(ds *appsv1.DaemonSet) { ds.Spec.Template.Spec.NodeSelector = sel }
}

// Tolerate adds a toleration to the template.
func Tolerate(t corev1.Toleration) func(*appsv1.DaemonSet) {
	return func(ds *appsv1.DaemonSet) {
		ds.Spec.Template.Spec.Tolerations = append(ds.Spec.Template.Spec.Tolerations, t)
	}
}

// MinReadySeconds sets spec.minReadySeconds.
func MinReadySeconds(s int32) func(*appsv1.DaemonSet) {
	return func(ds *appsv1.DaemonSet) { ds.Spec.MinReadySeconds = s }
}

// Node returns a Ready node, then applies mods.
func Node(name string, mods ...func(*corev1.Node)) *corev1.Node {
	n := &corev1.Node{
		ObjectMeta: metav1.ObjectMeta{Name: name, Labels: map[string]string{"kubernetes.io/hostname": name}},
		Status: corev1.NodeStatus{Conditions: []corev1.NodeCondition{{
			Type: corev1.NodeReady, Status: corev1.ConditionTrue,
		}}},
	}
	for _, mod := range mods {
		mod(n)
	}
	return n
}

// Labels adds labels to a node.
func Labels(kv ...string) func(*corev1.Node) {
	return func(n *corev1.Node) {
		for i := 0; i+1 < len(kv); i += 2 {
			n.Labels[kv[i]] = kv[i+1]
		}
	}
}

// Taint adds a taint to a node.
func Taint(key, value string, effect corev1.TaintEffect) func(*corev1.Node) {
	return func(n *corev1.Node) {
		n.Spec.Taints = append(n.Spec.Taints, corev1.Taint{Key: key, Value: value, Effect: effect})
	}
}

// Nodes returns n ready nodes named node-0000, node-0001, ...
func Nodes(n int, mods ...func(*corev1.Node)) []*corev1.Node {
	nodes := make([]*corev1.Node, n)
	for i := range nodes {
		nodes[i] = Node(fmt.Sprintf("node-%04d", i), mods...)
	}
	return nodes
}

// Pod returns a running, ready daemon pod of ds on node, carrying the
// controller-revision-hash label hash, created at Epoch and ready since
// Epoch, then applies mods.
func Pod(ds *appsv1.DaemonSet, name, node, hash string, mods ...func(*corev1.Pod)) *corev1.Pod {
	labels := map[string]string{}
	for k, v := range ds.Spec.Template.Labels {
		labels[k] = v
	}
	if hash != "" {
		labels[appsv1.DefaultDaemonSetUniqueLabelKey] = hash
	}
	yes := true
	p := &corev1.Pod{
		ObjectMeta: metav1.ObjectMeta{
			Name: name, Namespace: ds.Namespace, UID: types.UID(name + "-uid"), Labels: labels,
			CreationTimestamp: metav1.NewTime(Epoch),
			OwnerReferences: []metav1.OwnerReference{{
				APIVersion: "apps/v1", Kind: "DaemonSet", Name: ds.Name, UID: ds.UID,
				Controller: &yes, BlockOwnerDeletion: &yes,
			}},
		},
		Spec: corev1.PodSpec{NodeName: node},
		Status: corev1.PodStatus{
			Phase: corev1.PodRunning,
			Conditions: []corev1.PodCondition{{
				Type: corev1.PodReady, Status: corev1.ConditionTrue, LastTransitionTime: metav1.NewTime(Epoch),
			}},
		},
	}
	for _, mod := range mods {
		mod(p)
	}
	return p
}

// NotReady marks a pod not ready.
func NotReady(p *corev1.Pod) {
	p.Status.Conditions[0].Status = corev1.ConditionFalse
}

// ReadySince sets when the pod became ready.
func ReadySince(t time.Time) func(*corev1.Pod) {
	return func(p *corev1.Pod) { p.Status.Conditions[0].LastTransitionTime = metav1.NewTime(t) }
}

// Created sets the pod's creation time.
func Created(t time.Time) func(*corev1.Pod) {
	return func(p *corev1.Pod) { p.CreationTimestamp = metav1.NewTime(t) }
}

// Phase sets the pod's phase.
func Phase(phase corev1.PodPhase) func(*corev1.Pod) {
	return func(p *corev1.Pod) { p.Status.Phase = phase }
}

// Deleting marks the pod as being deleted.
func Deleting(p *corev1.Pod) {
	t := metav1.NewTime(Epoch)
	p.DeletionTimestamp = &t
}

// Unscheduled clears spec.nodeName and pins the pod to node through the
// matchFields affinity term, as a pending daemon pod.
func Unscheduled(node string) func(*corev1.Pod) {
	return func(p *corev1.Pod) {
		p.Spec.NodeName = ""
		p.Spec.Affinity = &corev1.Affinity{NodeAffinity: &corev1.NodeAffinity{
			RequiredDuringSchedulingIgnoredDuringExecution: &corev1.NodeSelector{NodeSelectorTerms: []corev1.NodeSelectorTerm{{
				MatchFields: []corev1.NodeSelectorRequirement{{Key: "metadata.name", Operator: corev1.NodeSelectorOpIn, Values: []string{node}}},
			}}},
		}}
	}
}

// Group groups pods for ds's revision hash at now (placement.Group) and
// panics on an error: for tests whose inputs are valid by construction.
func Group(ds *appsv1.DaemonSet, hash string, now time.Time, nodes []*corev1.Node, pods []*corev1.Pod) *placement.Grouping {
	g, err := placement.Group(placement.GroupInput{Evaluator: placement.New(ds, placement.Options{}), Hash: hash, Now: now, Nodes: nodes, Pods: pods})
	if err != nil {
		panic(err)
	}
	return g
}
