package incremental_test

import (
	"fmt"
	"time"

	appsv1 "k8s.io/api/apps/v1"
	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"

	"github.com/dsplan/dsplan/plan"
	"github.com/dsplan/dsplan/plan/control"
	"github.com/dsplan/dsplan/plan/incremental"
)

// ExamplePlanner follows a DaemonSet through events as a controller's
// informers deliver them: the first sync, its pods becoming ready, a pod
// turning unready, and a node relabelled into the DaemonSet's node
// selector. Each plan is plan.New's for what the Planner holds, made from
// its index.
func ExamplePlanner() {
	ds, _ := plan.Default(&appsv1.DaemonSet{
		ObjectMeta: metav1.ObjectMeta{Name: "node-exporter", Namespace: "monitoring", UID: "6a1c2d5e-0000-4000-8000-000000000001", Generation: 1},
		Spec: appsv1.DaemonSetSpec{
			Selector: &metav1.LabelSelector{MatchLabels: map[string]string{"app": "node-exporter"}},
			Template: corev1.PodTemplateSpec{
				ObjectMeta: metav1.ObjectMeta{Labels: map[string]string{"app": "node-exporter"}},
				Spec: corev1.PodSpec{
					NodeSelector: map[string]string{corev1.LabelOSStable: "linux"},
					Containers:   []corev1.Container{{Name: "node-exporter", Image: "quay.io/prometheus/node-exporter:v1.8.2"}},
				},
			},
		},
	})
	node := func(name, os string) *corev1.Node {
		return &corev1.Node{ObjectMeta: metav1.ObjectMeta{Name: name, Labels: map[string]string{corev1.LabelOSStable: os}}}
	}
	now := time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC)
	key := control.Key(ds)

	var p incremental.Planner
	p.SetDaemonSet(ds)
	p.SetNode(node("worker-1", "linux"))
	p.SetNode(node("worker-2", "linux"))
	p.SetNode(node("worker-3", "windows"))

	// sync plans the DaemonSet, prints the plan and carries it out as the
	// API server, the scheduler and the kubelets would: revisions are
	// created, pods bound and ready.
	sync := func(what string) {
		pl := p.Plan(key, now, false, nil, plan.Options{})
		fmt.Printf("%s: %d creates, %d deletes; ready %d of %d\n", what, len(pl.Creates), len(pl.Deletes),
			pl.Status.NumberReady, pl.Status.DesiredNumberScheduled)
		for _, r := range pl.Revisions.Create {
			p.SetRevision(r)
		}
		for _, c := range pl.Creates {
			pod := c.Pod.DeepCopy()
			pod.Name, pod.Spec.NodeName = pod.GenerateName+c.Node, c.Node
			pod.Status = corev1.PodStatus{Phase: corev1.PodRunning, Conditions: []corev1.PodCondition{
				{Type: corev1.PodReady, Status: corev1.ConditionTrue, LastTransitionTime: metav1.NewTime(now)}}}
			p.SetPod(pod)
		}
		if pl.StatusChanged {
			ds = ds.DeepCopy()
			ds.Status = pl.Status
			p.SetDaemonSet(ds)
		}
	}

	sync("first sync")
	sync("pods ready")

	// The kubelet reports worker-1's pod unready: a new object.
	snap, _ := p.Snapshot(key, now)
	for _, pod := range snap.Pods {
		if pod.Spec.NodeName == "worker-1" {
			unready := pod.DeepCopy()
			unready.Status.Conditions[0].Status = corev1.ConditionFalse
			p.SetPod(unready)
		}
	}
	sync("pod unready")

	p.SetNode(node("worker-3", "linux"))
	sync("worker-3 relabelled")

	st := p.Stats()
	fmt.Printf("%d plans, %d index built, %d full plans\n", st.Plans, st.Builds, st.FullPlans)
	// Output:
	// first sync: 2 creates, 0 deletes; ready 0 of 2
	// pods ready: 0 creates, 0 deletes; ready 2 of 2
	// pod unready: 0 creates, 0 deletes; ready 1 of 2
	// worker-3 relabelled: 1 creates, 0 deletes; ready 1 of 3
	// 4 plans, 1 index built, 0 full plans
}
