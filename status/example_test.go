package status_test

import (
	"fmt"
	"os"
	"time"

	appsv1 "k8s.io/api/apps/v1"
	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"

	"github.com/dsplan/dsplan/placement"
	"github.com/dsplan/dsplan/status"
)

// A DaemonSet mid-rollout on three nodes: node-a runs the new revision,
// node-b still the old one (with its replacement starting next to it),
// node-c has no pod yet. A fourth node no longer fits the DaemonSet (it
// is reserved for other workloads).
func ExampleCompute() {
	now := time.Date(2026, 1, 1, 12, 0, 0, 0, time.UTC)
	labels := map[string]string{"app": "fluentd"}
	ds := &appsv1.DaemonSet{
		ObjectMeta: metav1.ObjectMeta{Name: "fluentd", Namespace: "logging", UID: "9b1f", Generation: 2},
		Spec: appsv1.DaemonSetSpec{
			Selector:        &metav1.LabelSelector{MatchLabels: labels},
			Template:        corev1.PodTemplateSpec{ObjectMeta: metav1.ObjectMeta{Labels: labels}},
			MinReadySeconds: 10,
		},
		Status: appsv1.DaemonSetStatus{ObservedGeneration: 1},
	}
	pod := func(name, node, hash string, created, readySince time.Time) *corev1.Pod {
		p := &corev1.Pod{
			ObjectMeta: metav1.ObjectMeta{
				Name: name, Namespace: "logging", CreationTimestamp: metav1.NewTime(created),
				Labels:          map[string]string{"app": "fluentd", appsv1.DefaultDaemonSetUniqueLabelKey: hash},
				OwnerReferences: []metav1.OwnerReference{*metav1.NewControllerRef(ds, placement.ControllerKind)},
			},
			Spec: corev1.PodSpec{NodeName: node},
		}
		if !readySince.IsZero() {
			p.Status.Conditions = []corev1.PodCondition{{
				Type: corev1.PodReady, Status: corev1.ConditionTrue, LastTransitionTime: metav1.NewTime(readySince),
			}}
		}
		return p
	}
	node := func(name string, taints ...corev1.Taint) *corev1.Node {
		return &corev1.Node{ObjectMeta: metav1.ObjectMeta{Name: name}, Spec: corev1.NodeSpec{Taints: taints}}
	}
	g, err := placement.Group(placement.GroupInput{
		Evaluator: placement.New(ds, placement.Options{}),
		Hash:      "v2",
		Now:       now,
		Nodes: []*corev1.Node{node("node-a"), node("node-b"), node("node-c"),
			node("node-d", corev1.Taint{Key: "dedicated", Value: "db", Effect: corev1.TaintEffectNoExecute})},
		Pods: []*corev1.Pod{
			// Ready for 5s only: ready, not yet available.
			pod("fluentd-a", "node-a", "v2", now.Add(-time.Minute), now.Add(-5*time.Second)),
			// The oldest pod counts: ready and available, but not updated.
			pod("fluentd-b1", "node-b", "v1", now.Add(-time.Hour), now.Add(-time.Hour)),
			pod("fluentd-b2", "node-b", "v2", now.Add(-time.Minute), time.Time{}),
			pod("fluentd-d", "node-d", "v1", now.Add(-time.Hour), now.Add(-time.Hour)),
		},
	})
	if err != nil {
		panic(err)
	}

	r := status.Compute(ds, g, status.Options{})
	st := r.Status
	fmt.Printf("desired=%d current=%d misscheduled=%d ready=%d updated=%d available=%d unavailable=%d observedGeneration=%d\n",
		st.DesiredNumberScheduled, st.CurrentNumberScheduled, st.NumberMisscheduled, st.NumberReady,
		st.UpdatedNumberScheduled, st.NumberAvailable, st.NumberUnavailable, st.ObservedGeneration)
	fmt.Println("write status:", r.Changed)
	fmt.Println("sync again after:", r.RequeueAfter)
	// Output:
	// desired=3 current=2 misscheduled=1 ready=2 updated=1 available=1 unavailable=2 observedGeneration=2
	// write status: true
	// sync again after: 10s
}

func ExampleRollout() {
	ds := &appsv1.DaemonSet{
		ObjectMeta: metav1.ObjectMeta{Name: "fluentd", Generation: 3},
		Spec: appsv1.DaemonSetSpec{UpdateStrategy: appsv1.DaemonSetUpdateStrategy{
			Type: appsv1.RollingUpdateDaemonSetStrategyType,
		}},
		Status: appsv1.DaemonSetStatus{
			ObservedGeneration:     3,
			DesiredNumberScheduled: 4,
			UpdatedNumberScheduled: 4,
			NumberAvailable:        3,
		},
	}
	for _, available := range []int32{3, 4} {
		ds.Status.NumberAvailable = available
		v, err := status.Rollout(ds)
		if err != nil {
			fmt.Println(err)
			return
		}
		fmt.Printf("done=%v %s", v.Done, v.Message)
	}

	ds.Spec.UpdateStrategy.Type = appsv1.OnDeleteDaemonSetStrategyType
	_, err := status.Rollout(ds)
	fmt.Println(err)
	// Output:
	// done=false Waiting for daemon set "fluentd" rollout to finish: 3 of 4 updated pods are available...
	// done=true daemon set "fluentd" successfully rolled out
	// rollout status is only available for RollingUpdate strategy type
}

func ExampleRow() {
	now := time.Date(2026, 1, 1, 12, 0, 0, 0, time.UTC)
	ds := &appsv1.DaemonSet{
		ObjectMeta: metav1.ObjectMeta{Name: "fluentd", CreationTimestamp: metav1.NewTime(now.Add(-26 * time.Hour))},
		Status: appsv1.DaemonSetStatus{
			DesiredNumberScheduled: 3, CurrentNumberScheduled: 3, NumberReady: 2,
			UpdatedNumberScheduled: 1, NumberAvailable: 2,
		},
	}
	ds.Spec.Template.Spec.NodeSelector = map[string]string{"kubernetes.io/os": "linux"}
	fmt.Printf("%q\n", status.Header())
	fmt.Printf("%q\n", status.Row(ds, now))
	// Output:
	// ["NAME" "DESIRED" "CURRENT" "READY" "UP-TO-DATE" "AVAILABLE" "NODE SELECTOR" "AGE"]
	// ["fluentd" "3" "3" "2" "1" "2" "kubernetes.io/os=linux" "26h"]
}

func ExampleTable() {
	now := time.Date(2026, 1, 1, 12, 0, 0, 0, time.UTC)
	fluentd := &appsv1.DaemonSet{
		ObjectMeta: metav1.ObjectMeta{Name: "fluentd", CreationTimestamp: metav1.NewTime(now.Add(-5 * time.Minute))},
		Status: appsv1.DaemonSetStatus{
			DesiredNumberScheduled: 3, CurrentNumberScheduled: 3, NumberReady: 3,
			UpdatedNumberScheduled: 3, NumberAvailable: 3,
		},
	}
	fluentd.Spec.Template.Spec.NodeSelector = map[string]string{"kubernetes.io/os": "linux"}
	proxy := &appsv1.DaemonSet{
		ObjectMeta: metav1.ObjectMeta{Name: "kube-proxy", CreationTimestamp: metav1.NewTime(now.Add(-40 * 24 * time.Hour))},
		Status: appsv1.DaemonSetStatus{
			DesiredNumberScheduled: 120, CurrentNumberScheduled: 120, NumberReady: 119,
			UpdatedNumberScheduled: 120, NumberAvailable: 119,
		},
	}
	if err := status.Table(os.Stdout, []*appsv1.DaemonSet{fluentd, proxy}, now); err != nil {
		fmt.Println(err)
	}
	// Output:
	// NAME         DESIRED   CURRENT   READY   UP-TO-DATE   AVAILABLE   NODE SELECTOR            AGE
	// fluentd      3         3         3       3            3           kubernetes.io/os=linux   5m
	// kube-proxy   120       120       119     120          119         <none>                   40d
}
