package forecast

import (
	"fmt"
	"slices"
	"strings"

	corev1 "k8s.io/api/core/v1"
	"k8s.io/apimachinery/pkg/labels"

	"github.com/dsplan/dsplan/plan"
	"github.com/dsplan/dsplan/rollout"
)

// StallReason names why a rollout makes no progress, or slow progress.
type StallReason string

// Why a rollout stalls.
const (
	// StallNewPodsUnavailable: pods of the new revision that are not
	// available take the whole maxUnavailable (or maxSurge) budget.
	StallNewPodsUnavailable StallReason = "NewPodsUnavailable"
	// StallNewPodsFailing: pods of the new revision crash or fail, so the
	// rollout spends its budget on pods that never become available.
	StallNewPodsFailing StallReason = "NewPodsFailing"
	// StallIneligibleUnavailable: unavailable old pods on nodes the
	// DaemonSet no longer schedules to.
	StallIneligibleUnavailable StallReason = "UnavailableOnIneligibleNodes"
	// StallHostPortConflict: a surge pod cannot be scheduled next to the
	// old pod because both take the same host port; it stays Pending.
	StallHostPortConflict StallReason = "HostPortConflict"
	// StallVanishedNodes: pods target nodes that do not exist; with surge
	// the rolling update fails until they are gone.
	StallVanishedNodes StallReason = "PodsOnVanishedNodes"
	// StallPartition: the partition keeps the remaining old pods.
	StallPartition StallReason = "PartitionReached"
	// StallPaused: the rollout is paused.
	StallPaused StallReason = "Paused"
	// StallSelectorMatchesNothing: the rollout's node selector, or the
	// DaemonSet's placement, matches no node that runs an old pod.
	StallSelectorMatchesNothing StallReason = "SelectorMatchesNoNode"
	// StallOnDelete: the OnDelete strategy replaces pods only when they are
	// deleted by hand.
	StallOnDelete StallReason = "OnDelete"
)

// Stall is one reason a rollout does not progress, with the nodes and pods
// involved (sorted).
type Stall struct {
	Reason StallReason
	Nodes  []string
	Pods   []string
	Detail string
}

// String is "Reason: detail (nodes)".
func (s Stall) String() string {
	out := string(s.Reason)
	if s.Detail != "" {
		out += ": " + s.Detail
	}
	if len(s.Nodes) > 0 {
		shown := s.Nodes[:min(len(s.Nodes), 5)]
		out += fmt.Sprintf(" (nodes %v", shown)
		if len(s.Nodes) > len(shown) {
			out += fmt.Sprintf(" and %d more", len(s.Nodes)-len(shown))
		}
		out += ")"
	}
	return out
}

// Stalls classifies a snapshot mid-rollout: the reasons no progress is
// possible, or progress is slow, each with its nodes and pods, sorted by
// reason. None for a rollout that progresses freely or is done. It plans
// the snapshot once (with opts and Explain) and reads the pods.
func Stalls(s plan.Snapshot, opts plan.Options) []Stall {
	if s.DaemonSet == nil {
		return nil
	}
	opts.Explain = true
	p := plan.New(s, opts)
	byReason := map[StallReason]*Stall{}
	add := func(r StallReason, node, pod, detail string) {
		st, ok := byReason[r]
		if !ok {
			st = &Stall{Reason: r, Detail: detail}
			byReason[r] = st
		}
		if node != "" && !slices.Contains(st.Nodes, node) {
			st.Nodes = append(st.Nodes, node)
		}
		if pod != "" {
			st.Pods = append(st.Pods, pod)
		}
	}
	pods := map[string]*corev1.Pod{}
	for _, pod := range s.Pods {
		if pod != nil {
			pods[pod.Name] = pod
		}
	}
	old, newUnavailable := 0, 0
	for _, r := range p.Nodes {
		if r.Wait != nil {
			switch r.Wait.Reason {
			case rollout.WaitPartition:
				add(StallPartition, r.Node, r.Wait.Pod, r.Wait.Detail)
			case rollout.WaitPaused:
				add(StallPaused, r.Node, r.Wait.Pod, "")
			case rollout.WaitOnDelete:
				add(StallOnDelete, r.Node, r.Wait.Pod, "delete the old pods to replace them")
			}
		}
		if r.State == plan.StateOld {
			old++
		}
		for _, pr := range r.Pods {
			pod := pods[pr.Name]
			switch {
			case pr.Deleting:
			case !r.Exists:
				add(StallVanishedNodes, r.Node, pr.Name, "pods target nodes that do not exist")
			case pr.Updated && failing(pod):
				add(StallNewPodsFailing, r.Node, pr.Name, "pods of the new revision fail or crash")
			case pr.Updated && !pr.Available:
				newUnavailable++
				if pod != nil && pod.Spec.NodeName == "" && portConflict(pod, pods, r.Node) {
					add(StallHostPortConflict, r.Node, pr.Name, "the new pod and the old one take the same host port")
				}
			case !pr.Updated && !pr.Available && !r.Placement.ShouldRun() && r.Exists:
				add(StallIneligibleUnavailable, r.Node, pr.Name, "unavailable old pods on nodes the DaemonSet no longer schedules to")
			}
		}
	}
	if sel := opts.Rollout.Selector; sel != nil && old > 0 {
		matched := false
		for _, n := range s.Nodes {
			if n != nil && sel.Matches(labels.Set(n.Labels)) {
				matched = true
			}
		}
		if !matched {
			add(StallSelectorMatchesNothing, "", "", "the rollout selector "+sel.String()+" matches no node")
		}
	}
	if p.Status.DesiredNumberScheduled == 0 && len(s.Nodes) > 0 {
		add(StallSelectorMatchesNothing, "", "", "the DaemonSet's placement matches none of the cluster's nodes")
	}
	if budget, err := rollout.Budgets(s.DaemonSet, int(p.Status.DesiredNumberScheduled)); err == nil && old > 0 && newUnavailable > 0 {
		limit := budget.MaxUnavailable
		if budget.MaxSurge > 0 {
			limit = budget.MaxSurge
		}
		if newUnavailable >= limit {
			for _, r := range p.Nodes {
				for _, pr := range r.Pods {
					if pr.Updated && !pr.Available && !pr.Deleting && r.Exists {
						add(StallNewPodsUnavailable, r.Node, pr.Name, fmt.Sprintf("%d new pods not available take the budget of %d", newUnavailable, limit))
					}
				}
			}
		}
	}
	var out []Stall
	for _, st := range byReason {
		slices.Sort(st.Nodes)
		slices.Sort(st.Pods)
		out = append(out, *st)
	}
	slices.SortFunc(out, func(a, b Stall) int { return strings.Compare(string(a.Reason), string(b.Reason)) })
	return out
}

// failing reports whether a pod has failed or its containers restart.
func failing(pod *corev1.Pod) bool {
	if pod == nil {
		return false
	}
	if pod.Status.Phase == corev1.PodFailed {
		return true
	}
	for _, cs := range pod.Status.ContainerStatuses {
		if cs.RestartCount > 0 && !cs.Ready || cs.State.Waiting != nil && cs.State.Waiting.Reason == "CrashLoopBackOff" {
			return true
		}
	}
	return false
}

// portConflict reports whether an unscheduled pod for node wants a host
// port another pod bound to node takes.
func portConflict(pod *corev1.Pod, pods map[string]*corev1.Pod, node string) bool {
	want := hostPorts(pod)
	for _, other := range pods {
		if other == pod || other.Spec.NodeName != node {
			continue
		}
		for _, p := range hostPorts(other) {
			if slices.Contains(want, p) {
				return true
			}
		}
	}
	return false
}
