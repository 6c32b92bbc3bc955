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
	creates := map[string]rollout.CreateReason{}
	for _, c := range p.Creates {
		creates[c.Node] = c.Reason
	}
	deletes := map[string][]Delete{}
	for _, d := range p.Deletes {
		deletes[d.Node] = append(deletes[d.Node], d)
	}
	waiting := map[string]rollout.Wait{}
	for _, w := range x.waiting {
		waiting[w.Node] = w
	}
	eval := g.Evaluator()
	p.Nodes = make([]NodeReport, 0, g.Len())
	for _, n := range g.All() {
		if n.Name() == "" {
			continue // a nil or repeated node
		}
		r := NodeReport{Node: n.Name(), Exists: n.Exists(), Create: creates[n.Name()], Deletes: deletes[n.Name()]}
		if n.Exists() {
			r.Placement = eval.Explain(n.Node())
		} else {
			r.Placement = placement.Explanation{Detail: "the node does not exist"}
		}
		anyOld, allAvailable := false, true
		for _, pod := range n.Pods() {
			r.Pods = append(r.Pods, PodReport{Name: pod.Name(), Revision: pod.Object().Labels[appsv1.DefaultDaemonSetUniqueLabelKey],
				Updated: pod.Updated(), Ready: pod.Ready(), Available: pod.Available(), Deleting: pod.Deleting(), Phase: pod.Object().Status.Phase})
			if !pod.Deleting() {
				anyOld = anyOld || !pod.Updated()
				allAvailable = allAvailable && pod.Available()
			}
		}
		d := r.Placement.Decision
		switch {
		case len(r.Deletes) > 0:
			r.State = StateToDelete
		case r.Create != "":
			r.State = StateToCreate
		case !n.Exists():
			r.State = StateGone
		case len(r.Pods) > 0 && !d.ShouldRun():
			r.State = StateMisscheduled
		case !d.ShouldRun():
			r.State = StateIneligible
		case len(r.Pods) == 0:
			r.State = StateMissing
		case anyOld:
			r.State = StateOld
		case !allAvailable:
			r.State = StateUnavailable
		default:
			r.State = StateUpToDate
		}
		if r.State == StateOld || r.State == StateMissing {
			r.Wait = p.waitFor(ds, n, s, x, waiting)
		}
		p.Nodes = append(p.Nodes, r)
	}
	slices.SortFunc(p.Nodes, func(a, b NodeReport) int { return strings.Compare(a.Node, b.Node) })
}

// waitFor says why the plan leaves node n's old or missing pod as it is.
func (p *Plan) waitFor(ds *appsv1.DaemonSet, n placement.NodePods, s *Snapshot, x *passes, waiting map[string]rollout.Wait) *rollout.Wait {
	w := rollout.Wait{Node: n.Name()}
	for _, pod := range n.Pods() {
		if !pod.Updated() && !pod.Deleting() {
			w.Pod = pod.Name()
		}
	}
	switch {
	case s.PendingExpectations:
		w.Reason, w.Detail = rollout.WaitExpectations, "an earlier sync's creates or deletes are not observed yet"
	case p.Err != nil:
		w.Reason, w.Detail = rollout.WaitManage, "the sync failed: "+p.Err.Error()
	case x.decided[n.Name()]:
		w.Reason, w.Detail = rollout.WaitBurst, fmt.Sprintf("over %d creates or deletes in one sync", max(len(p.Creates), len(p.Deletes)))
	case n.Len() == 0:
		// A missing pod the manage pass did not create: it had no reason
		// to (its node is in the failed-pod backoff, or it was planned).
		return nil
	case x.managed:
		w.Reason, w.Detail = rollout.WaitManage, fmt.Sprintf("%d creates and %d deletes first", len(p.Creates), len(p.Deletes))
	case ds.Spec.UpdateStrategy.Type == appsv1.OnDeleteDaemonSetStrategyType:
		w.Reason, w.Detail = rollout.WaitOnDelete, "delete the pod to update it"
	default:
		rw, ok := waiting[n.Name()]
		if !ok {
			return nil
		}
		w.Reason, w.Detail = rw.Reason, rw.Detail
	}
	return &w
}
