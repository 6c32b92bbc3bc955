package plan

import (
	"fmt"
	"slices"
	"strings"

	appsv1 "k8s.io/api/apps/v1"
	corev1 "k8s.io/api/core/v1"

	"github.com/dsplan/dsplan/placement"
	"github.com/dsplan/dsplan/rollout"
)

// NodeState is where a node stands for the DaemonSet after this plan.
type NodeState string

// Node states, in the order NodeReport picks them (the first that applies).
const (
	// StateToDelete: the plan deletes a pod there.
	StateToDelete NodeState = "ToDelete"
	// StateToCreate: the plan creates a pod there.
	StateToCreate NodeState = "ToCreate"
	// StateGone: pods target a node that does not exist.
	StateGone NodeState = "Gone"
	// StateMisscheduled: the node runs a pod but should not get a new one
	// (status.numberMisscheduled counts it).
	StateMisscheduled NodeState = "Misscheduled"
	// StateIneligible: the DaemonSet does not run there.
	StateIneligible NodeState = "Ineligible"
	// StateMissing: a pod should run there and none does, and none is
	// created in this sync (see the node's Wait).
	StateMissing NodeState = "Missing"
	// StateOld: the node's pod is of an older revision.
	StateOld NodeState = "Old"
	// StateUnavailable: the pod is of the current revision but not
	// available (not ready, or not for minReadySeconds).
	StateUnavailable NodeState = "Unavailable"
	// StateUpToDate: the pod is of the current revision and available.
	StateUpToDate NodeState = "UpToDate"
)

// PodReport is what a plan read of one daemon pod.
type PodReport struct {
	Name string
	// Revision is the pod's controller-revision-hash label.
	Revision  string
	Updated   bool
	Ready     bool
	Available bool
	Deleting  bool
	Phase     corev1.PodPhase
}

// NodeReport explains one node of a plan (Options.Explain): its placement
// with the exact cause, the DaemonSet's pods there, what the plan does
// there, and, when the plan leaves an old pod or a missing one as it is,
// why.
type NodeReport struct {
	Node   string
	Exists bool
	// Placement is the node's decision with its cause; for a node that does
	// not exist, NotEvaluated.
	Placement placement.Explanation
	// Pods are the DaemonSet's pods targeting the node, oldest first.
	Pods  []PodReport
	State NodeState
	// Create is the reason of the plan's create there, "" for none.
	Create rollout.CreateReason
	// Deletes are the plan's deletes there.
	Deletes []Delete
	// Wait, when not nil, says why an old pod stays or a missing pod is
	// not created in this sync.
	Wait *rollout.Wait
}

// String explains the node in one line, e.g.
// "node-3: Old: pod agent-x7 (revision 5d4b) waits: BudgetSpent (maxUnavailable 1: 1 nodes in flight)".
func (r NodeReport) String() string {
	var b strings.Builder
	b.WriteString(r.Node + ": " + string(r.State))
	switch r.State {
	case StateToDelete:
		for i, d := range r.Deletes {
			sep := ", "
			if i == 0 {
				sep = ": "
			}
			fmt.Fprintf(&b, "%sdelete %s (%s)", sep, d.Pod, d.Reason)
		}
		if r.Create != "" {
			fmt.Fprintf(&b, ", create (%s)", r.Create)
		}
		if !r.Placement.ShouldContinueRunning() && r.Exists {
			b.WriteString("; " + r.Placement.String())
		}
	case StateToCreate:
		fmt.Fprintf(&b, ": create (%s)", r.Create)
	case StateIneligible, StateMisscheduled:
		b.WriteString(": " + r.Placement.String())
	case StateGone:
		b.WriteString(": the node does not exist")
	}
	if len(r.Pods) > 0 && r.State != StateToDelete {
		b.WriteString("; pods")
		for _, p := range r.Pods {
			b.WriteString(" " + p.Name)
			if p.Revision != "" {
				b.WriteString(" (revision " + p.Revision + ")")
			}
		}
	}
	if r.Wait != nil {
		b.WriteString("; waits: " + string(r.Wait.Reason))
		if r.Wait.Detail != "" {
			b.WriteString(" (" + r.Wait.Detail + ")")
		}
	}
	return b.String()
}

// explain builds Plan.Nodes: a report per node of g (existing, then
// vanished), sorted by node name.
func (p *Plan) explain(ds *appsv1.DaemonSet, g *placement.Grouping, s *Snapshot, x *passes) {
	eval := g.Evaluator()
	p.Nodes = make([]NodeReport, 0, g.Len())
	// One array holds every node's pod reports.
	total := 0
	for _, n := range g.All() {
		total += n.Len()
	}
	podReports := make([]PodReport, 0, total)
	// The reports are made in name order: sorting them afterwards would
	// move every report several times.
	order := make([]int32, 0, g.Len())
	for i, n := range g.All() {
		if n.Name() != "" { // not a nil or repeated node
			order = append(order, int32(i))
		}
	}
	slices.SortFunc(order, func(a, b int32) int { return strings.Compare(g.At(int(a)).Name(), g.At(int(b)).Name()) })
	for _, i := range order {
		n := g.At(int(i))
		r := NodeReport{Node: n.Name(), Exists: n.Exists()}
		if n.Exists() {
			r.Placement = eval.Explain(n.Node())
		} else {
			r.Placement = placement.Explanation{Detail: "the node does not exist"}
		}
		from := len(podReports)
		for _, pod := range n.Pods() {
			podReports = append(podReports, PodReport{Name: pod.Name(), Revision: pod.Object().Labels[appsv1.DefaultDaemonSetUniqueLabelKey],
				Updated: pod.Updated(), Ready: pod.Ready(), Available: pod.Available(), Deleting: pod.Deleting(), Phase: pod.Object().Status.Phase})
		}
		if len(podReports) > from {
			r.Pods = podReports[from:len(podReports):len(podReports)]
		}
		p.Nodes = append(p.Nodes, r)
	}

	// The plan's actions, its creates sorted by node and its deletes by pod:
	// each joined with the reports by node name.
	for _, c := range p.Creates {
		if r := p.report(c.Node); r != nil {
			r.Create = c.Reason
		}
	}
	for _, d := range p.Deletes {
		if r := p.report(d.Node); r != nil {
			r.Deletes = append(r.Deletes, d)
		}
	}
	waits := make([]rollout.Wait, 0, len(p.Nodes))
	waiting := x.waiting // sorted by node, as p.Nodes
	for i := range p.Nodes {
		r := &p.Nodes[i]
		r.State = state(r)
		if r.State != StateOld && r.State != StateMissing {
			continue
		}
		for len(waiting) > 0 && waiting[0].Node < r.Node {
			waiting = waiting[1:]
		}
		var rw *rollout.Wait
		if len(waiting) > 0 && waiting[0].Node == r.Node {
			rw = &waiting[0]
		}
		if w, ok := p.waitFor(ds, r, s, x, rw); ok {
			waits = append(waits, w)
			r.Wait = &waits[len(waits)-1]
		}
	}
}

// report returns the report of node, or nil.
func (p *Plan) report(node string) *NodeReport {
	i, ok := slices.BinarySearchFunc(p.Nodes, node, func(r NodeReport, name string) int { return strings.Compare(r.Node, name) })
	if !ok {
		return nil
	}
	return &p.Nodes[i]
}

// state is where the node stands, by the first rule of NodeState that
// applies.
func state(r *NodeReport) NodeState {
	anyOld, allAvailable := false, true
	for _, pod := range r.Pods {
		if !pod.Deleting {
			anyOld = anyOld || !pod.Updated
			allAvailable = allAvailable && pod.Available
		}
	}
	d := r.Placement.Decision
	switch {
	case len(r.Deletes) > 0:
		return StateToDelete
	case r.Create != "":
		return StateToCreate
	case !r.Exists:
		return StateGone
	case len(r.Pods) > 0 && !d.ShouldRun():
		return StateMisscheduled
	case !d.ShouldRun():
		return StateIneligible
	case len(r.Pods) == 0:
		return StateMissing
	case anyOld:
		return StateOld
	case !allAvailable:
		return StateUnavailable
	}
	return StateUpToDate
}

// waitFor says why the plan leaves node r's old or missing pod as it is;
// rw is the rolling update's wait for the node, if any. False when there
// is nothing to say.
func (p *Plan) waitFor(ds *appsv1.DaemonSet, r *NodeReport, s *Snapshot, x *passes, rw *rollout.Wait) (rollout.Wait, bool) {
	w := rollout.Wait{Node: r.Node}
	for _, pod := range r.Pods {
		if !pod.Updated && !pod.Deleting {
			w.Pod = pod.Name
		}
	}
	switch {
	case s.PendingExpectations:
		w.Reason, w.Detail = rollout.WaitExpectations, "an earlier sync's creates or deletes are not observed yet"
	case p.Err != nil:
		w.Reason, w.Detail = rollout.WaitManage, "the sync failed: "+p.Err.Error()
	case x.decided[r.Node]:
		w.Reason, w.Detail = rollout.WaitBurst, fmt.Sprintf("over %d creates or deletes in one sync", max(len(p.Creates), len(p.Deletes)))
	case len(r.Pods) == 0:
		// A missing pod the manage pass did not create: it had no reason
		// to (its node is in the failed-pod backoff, or it was planned).
		return rollout.Wait{}, false
	case x.managed:
		w.Reason, w.Detail = rollout.WaitManage, fmt.Sprintf("%d creates and %d deletes first", len(p.Creates), len(p.Deletes))
	case ds.Spec.UpdateStrategy.Type == appsv1.OnDeleteDaemonSetStrategyType:
		w.Reason, w.Detail = rollout.WaitOnDelete, "delete the pod to update it"
	default:
		if rw == nil {
			return rollout.Wait{}, false
		}
		w.Reason, w.Detail = rw.Reason, rw.Detail
	}
	return w, true
}
