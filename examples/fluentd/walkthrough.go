package main

import (
	"fmt"
	"io"
	"slices"
	"strings"
	"time"

	appsv1 "k8s.io/api/apps/v1"
	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/types"

	"github.com/dsplan/dsplan/plan"
	"github.com/dsplan/dsplan/status"
)

// world is an in-memory cluster that plans are applied to: what the API
// server, the scheduler and the kubelets would do with the controller's
// writes, reduced to what the walkthrough needs.
type world struct {
	ds        *appsv1.DaemonSet
	nodes     []*corev1.Node
	pods      []*corev1.Pod
	revisions []*appsv1.ControllerRevision
	now       time.Time
	created   int // pods created so far, for their names
}

// plan runs one controller sync over the world.
func (w *world) plan() plan.Plan {
	return plan.New(plan.Snapshot{
		DaemonSet: w.ds, Nodes: w.nodes, Pods: w.pods, Revisions: w.revisions, Now: w.now,
	}, plan.Options{})
}

// apply carries out p: revision and pod writes, and the status. New pods
// are bound to their node at once and start Pending.
func (w *world) apply(p plan.Plan) {
	for _, r := range p.Revisions.Create {
		w.revisions = append(w.revisions, r.DeepCopy())
	}
	for _, r := range p.Revisions.Update {
		for i := range w.revisions {
			if w.revisions[i].Name == r.Name {
				w.revisions[i] = r.DeepCopy()
			}
		}
	}
	w.revisions = slices.DeleteFunc(w.revisions, func(r *appsv1.ControllerRevision) bool {
		return slices.Contains(p.Revisions.Delete, r.Name)
	})
	w.pods = slices.DeleteFunc(w.pods, func(pod *corev1.Pod) bool {
		return slices.ContainsFunc(p.Deletes, func(d plan.Delete) bool { return d.Pod == pod.Name })
	})
	for _, c := range p.Creates {
		w.created++
		pod := c.Pod.DeepCopy()
		pod.Name = fmt.Sprintf("%s%05d", pod.GenerateName, w.created)
		pod.UID = types.UID("uid-" + pod.Name)
		pod.Spec.NodeName = c.Node
		pod.CreationTimestamp = metav1.NewTime(w.now)
		pod.Status.Phase = corev1.PodPending
		w.pods = append(w.pods, pod)
	}
	w.ds.Status = p.Status
}

// startPods lets every pending pod on a ready node run and become ready.
func (w *world) startPods() {
	for _, pod := range w.pods {
		if pod.Status.Phase != corev1.PodPending || !w.nodeReady(pod.Spec.NodeName) {
			continue
		}
		pod.Status.Phase = corev1.PodRunning
		pod.Status.Conditions = []corev1.PodCondition{{
			Type: corev1.PodReady, Status: corev1.ConditionTrue, LastTransitionTime: metav1.NewTime(w.now),
		}}
	}
}

func (w *world) nodeReady(name string) bool {
	for _, n := range w.nodes {
		if n.Name == name {
			for _, c := range n.Status.Conditions {
				if c.Type == corev1.NodeReady {
					return c.Status == corev1.ConditionTrue
				}
			}
		}
	}
	return false
}

// tick advances the clock.
func (w *world) tick() { w.now = w.now.Add(10 * time.Second) }

// step plans, prints and applies one sync; it returns the plan.
func (w *world) step(out io.Writer) plan.Plan {
	p := w.plan()
	printPlan(out, p)
	w.apply(p)
	return p
}

func printPlan(out io.Writer, p plan.Plan) {
	for _, r := range p.Revisions.Create {
		fmt.Fprintf(out, "    create revision %d %s\n", r.Revision, r.Name)
	}
	for _, c := range p.Creates {
		fmt.Fprintf(out, "    create pod on %-13s %s\n", c.Node, c.Reason)
	}
	for _, d := range p.Deletes {
		fmt.Fprintf(out, "    delete %-20s %s on %s\n", d.Pod, d.Reason, d.Node)
	}
	if len(p.Creates) == 0 && len(p.Deletes) == 0 {
		fmt.Fprintln(out, "    no pod to create or delete")
	}
}

func (w *world) printRow(out io.Writer) {
	var b strings.Builder
	if err := status.Table(&b, []*appsv1.DaemonSet{w.ds}, w.now); err != nil {
		fmt.Fprintln(out, "    table:", err)
		return
	}
	for _, line := range strings.Split(strings.TrimRight(b.String(), "\n"), "\n") {
		fmt.Fprintln(out, "    "+line)
	}
}

// walkthrough drives the seed's story through the planner.
func walkthrough(out io.Writer) {
	ds, _ := plan.Default(fluentdDaemonSet())
	ds.Generation = 1
	ds.CreationTimestamp = metav1.NewTime(time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC))
	w := &world{ds: ds, nodes: cluster(), now: ds.CreationTimestamp.Add(time.Minute)}
	// worker-2 recovers: the node lifecycle controller removes its taint.
	w.nodes[2].Spec.Taints = nil
	w.nodes[2].Status.Conditions[0].Status = corev1.ConditionTrue

	fmt.Fprintln(out, "\n1. create the DaemonSet:")
	w.step(out)
	w.printRow(out)

	fmt.Fprintln(out, "\n2. the pods start; the next sync records it:")
	w.tick()
	w.startPods()
	w.step(out)
	w.printRow(out)

	fmt.Fprintln(out, "\n3. add worker-4:")
	w.nodes = append(w.nodes, &corev1.Node{
		ObjectMeta: metav1.ObjectMeta{Name: "worker-4", Labels: map[string]string{"kubernetes.io/hostname": "worker-4"}},
		Status:     corev1.NodeStatus{Conditions: []corev1.NodeCondition{{Type: corev1.NodeReady, Status: corev1.ConditionTrue}}},
	})
	w.step(out)
	w.tick()
	w.startPods()
	w.step(out)
	w.printRow(out)

	fmt.Fprintln(out, "\n4. taint worker-1 with maintenance=true:NoExecute:")
	w.nodes[1].Spec.Taints = []corev1.Taint{{Key: "maintenance", Value: "true", Effect: corev1.TaintEffectNoExecute}}
	w.step(out)
	w.step(out)
	w.printRow(out)

	fmt.Fprintln(out, "\n5. update the image to v2.6.0 (RollingUpdate, maxUnavailable 1):")
	w.ds.Spec.Template.Spec.Containers[0].Image = "quay.io/fluentd_elasticsearch/fluentd:v2.6.0"
	w.ds.Generation++
	for round := 1; round <= 10; round++ {
		fmt.Fprintf(out, "  sync %d:\n", round)
		p := w.step(out)
		rs, err := status.Rollout(w.ds)
		if err != nil {
			fmt.Fprintln(out, "    rollout status:", err)
			return
		}
		fmt.Fprintf(out, "    rollout status: %s", rs.Message)
		if rs.Done && len(p.Creates) == 0 && len(p.Deletes) == 0 {
			break
		}
		w.tick()
		w.startPods()
	}
	w.printRow(out)

	fmt.Fprintln(out, "\n6. switch to OnDelete and update the image to v2.7.0:")
	w.ds.Spec.UpdateStrategy = appsv1.DaemonSetUpdateStrategy{Type: appsv1.OnDeleteDaemonSetStrategyType}
	w.ds.Spec.Template.Spec.Containers[0].Image = "quay.io/fluentd_elasticsearch/fluentd:v2.7.0"
	w.ds.Generation++
	w.step(out)
	w.printRow(out)
	fmt.Fprintln(out, "  delete the pod on control-plane by hand; the next sync replaces it with v2.7.0:")
	w.pods = slices.DeleteFunc(w.pods, func(p *corev1.Pod) bool { return p.Spec.NodeName == "control-plane" })
	p := w.step(out)
	for _, c := range p.Creates {
		fmt.Fprintf(out, "    new pod image %s, revision hash %s\n", c.Pod.Spec.Containers[0].Image, c.Pod.Labels[appsv1.DefaultDaemonSetUniqueLabelKey])
	}
}
