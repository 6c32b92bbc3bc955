package report

import (
	"fmt"
	"strings"

	appsv1 "k8s.io/api/apps/v1"

	"github.com/dsplan/dsplan/placement"
	"github.com/dsplan/dsplan/plan"
	"github.com/dsplan/dsplan/rollout"
)

// This file puts plans into words: the reason of each node's state and
// action, naming the label, taint, budget or pod behind it.

// Reason explains node r's state in one line: the typed reason first
// (placement.Reason, rollout.CreateReason, rollout.DeleteReason or
// rollout.WaitReason), then what it is about, e.g.
// "NodeSelectorMismatch: nodeSelector wants kubernetes.io/os=linux, node
// has kubernetes.io/os=windows".
func (s *Section) Reason(r plan.NodeReport) string {
	switch r.State {
	case plan.StateToDelete:
		var parts []string
		for _, d := range r.Deletes {
			parts = append(parts, string(d.Reason)+": "+s.deleteWords(d, r))
		}
		if r.Create != "" {
			parts = append(parts, string(r.Create)+": "+s.createWords(r))
		}
		return strings.Join(parts, "; ")
	case plan.StateToCreate:
		return string(r.Create) + ": " + s.createWords(r)
	case plan.StateGone:
		verb := " targets"
		if len(r.Pods) > 1 {
			verb = " target"
		}
		return "the node does not exist; " + podList(r.Pods) + verb + " it (the pod garbage collector removes bound pods)"
	case plan.StateMisscheduled:
		return placementWords(r.Placement) + "; " + podList(r.Pods) + " stays, counted in numberMisscheduled"
	case plan.StateIneligible:
		return placementWords(r.Placement)
	case plan.StateMissing:
		if r.Wait != nil {
			return "no pod yet: " + waitWords(r.Wait)
		}
		return "no pod yet, none created in this sync (failed-pod backoff)"
	case plan.StateOld:
		pod := oldPod(r)
		text := fmt.Sprintf("pod %s runs old revision %s", pod.Name, s.revisionShort(pod.Revision))
		switch {
		case !pod.Ready:
			text += " and is not ready"
		case !pod.Available:
			text += " and is not yet available"
		}
		if r.Wait != nil {
			text += "; waits: " + waitWords(r.Wait)
		}
		return text
	case plan.StateUnavailable:
		return s.unavailableWords(r)
	case plan.StateUpToDate:
		return fmt.Sprintf("pod %s: current revision, available", livePods(r.Pods))
	}
	return string(r.State)
}

// Action is what the plan does on node r, as in the table's ACTION column:
// "delete pod/NAME", "create pod", "wait" or "-".
func Action(r plan.NodeReport) string {
	var parts []string
	for _, d := range r.Deletes {
		parts = append(parts, "delete pod/"+d.Pod)
	}
	if r.Create != "" {
		parts = append(parts, "create pod")
	}
	if len(parts) == 0 && r.Wait != nil {
		return "wait"
	}
	if len(parts) == 0 {
		return "-"
	}
	return strings.Join(parts, ", ")
}

// placementWords is the placement reason and its exact cause.
func placementWords(x placement.Explanation) string {
	detail := x.Detail
	if detail == "" {
		detail = x.Decision.String()
	}
	return x.Reason.String() + ": " + detail
}

// Verdict says what may run on a node with decision d, given whether pods
// run there.
func Verdict(d placement.Decision, hasPods bool) string {
	switch {
	case d.ShouldRun():
		return "a daemon pod should run here"
	case d.ShouldContinueRunning() && hasPods:
		return "no new pod; the running pod may stay"
	case d.ShouldContinueRunning():
		return "no new pod (a running pod would be allowed to stay)"
	}
	return "no daemon pod may run here"
}

func waitWords(w *rollout.Wait) string {
	if w.Detail == "" {
		return string(w.Reason)
	}
	return string(w.Reason) + " (" + w.Detail + ")"
}

// oldPod returns the node's pod of an older revision (the last one).
func oldPod(r plan.NodeReport) plan.PodReport {
	var out plan.PodReport
	for _, p := range r.Pods {
		if !p.Updated && !p.Deleting {
			out = p
		}
	}
	if out.Name == "" && len(r.Pods) > 0 {
		out = r.Pods[len(r.Pods)-1]
	}
	return out
}

// podList names pods: "pod a" or "pods a, b".
func podList(pods []plan.PodReport) string {
	if len(pods) == 1 {
		return "pod " + pods[0].Name
	}
	var names []string
	for _, p := range pods {
		names = append(names, p.Name)
	}
	return "pods " + strings.Join(names, ", ")
}

// livePods names the pods not being deleted.
func livePods(pods []plan.PodReport) string {
	var names []string
	for _, p := range pods {
		if !p.Deleting {
			names = append(names, p.Name)
		}
	}
	return strings.Join(names, ", ")
}

// revisionText is "2 (6dc64ff4fc)", or the hash alone when its number is
// unknown, or "none" without a hash.
func (s *Section) revisionText(hash string) string {
	if hash == "" {
		return "none (no controller-revision-hash label)"
	}
	if n := s.numbers[hash]; n > 0 {
		return fmt.Sprintf("%d (%s)", n, hash)
	}
	return hash
}

// revisionShort is the revision's number, or its hash when the number is
// unknown.
func (s *Section) revisionShort(hash string) string {
	if n := s.numbers[hash]; n > 0 {
		return fmt.Sprint(n)
	}
	if hash == "" {
		return "<none>"
	}
	return hash
}

func (s *Section) unavailableWords(r plan.NodeReport) string {
	for _, p := range r.Pods {
		if p.Deleting || p.Available {
			continue
		}
		switch {
		case p.Phase != "" && p.Phase != "Running":
			return fmt.Sprintf("pod %s is %s, not ready", p.Name, p.Phase)
		case !p.Ready:
			return fmt.Sprintf("pod %s is not ready", p.Name)
		default:
			return fmt.Sprintf("pod %s is ready but not yet available (minReadySeconds %d)", p.Name, s.DaemonSet.Spec.MinReadySeconds)
		}
	}
	return "pod " + livePods(r.Pods) + " is not available"
}

// budgetWords is the rolling update's budget, e.g. "maxUnavailable 1 of 3
// desired nodes".
func (s *Section) budgetWords() string {
	b := s.Budget
	switch {
	case b.Fallback:
		return fmt.Sprintf("maxUnavailable 1 of %d desired nodes (maxSurge and maxUnavailable both round to 0; kube-controller-manager then allows 1)", b.Desired)
	case b.MaxSurge > 0:
		return fmt.Sprintf("maxSurge %d of %d desired nodes", b.MaxSurge, b.Desired)
	}
	return fmt.Sprintf("maxUnavailable %d of %d desired nodes", b.MaxUnavailable, b.Desired)
}

func (s *Section) deleteWords(d plan.Delete, r plan.NodeReport) string {
	pod := podByName(r.Pods, d.Pod)
	switch d.Reason {
	case rollout.DeleteFailed:
		return "the pod failed; a later sync creates a new one (after the failed-pod backoff)"
	case rollout.DeleteSucceeded:
		return "the pod exited; daemon pods must keep running, a later sync creates a new one"
	case rollout.DeleteExcess:
		return fmt.Sprintf("%d pods on the node, one may run; the oldest stays", countLive(r.Pods))
	case rollout.DeleteSurgeOldNotReady:
		return "the old pod is not ready while the new pod runs"
	case rollout.DeleteSurgeNewAvailable, rollout.DeleteSurgeReplaced:
		return "the new pod is available, so the old pod of revision " + s.revisionShort(pod.Revision) + " goes"
	case rollout.DeleteNodeIneligible:
		return "the node no longer fits: " + placementWords(r.Placement)
	case rollout.DeleteEvicted:
		return placementWords(r.Placement)
	case rollout.DeleteNodeGone:
		return "the pod targets a node that does not exist"
	case rollout.DeleteReplaceUnavailable:
		return "pod of old revision " + s.revisionShort(pod.Revision) + " is not available, so it is replaced at once, outside the budget (" + s.budgetWords() + ")"
	case rollout.DeleteReplace:
		return "pod of old revision " + s.revisionShort(pod.Revision) + " is replaced within the budget (" + s.budgetWords() + ")"
	case rollout.DeleteSurgeIneligible:
		return "old, unavailable pod on a node that no longer fits (" + placementWords(r.Placement) + ")"
	case rollout.DeleteSurgeSunset:
		return "old pod on a node that no longer fits (" + placementWords(r.Placement) + "); more pods are available than desired"
	}
	return string(d.Reason)
}

func (s *Section) createWords(r plan.NodeReport) string {
	switch r.Create {
	case rollout.CreateMissing:
		return "the node is eligible and runs no pod of " + Key(s.DaemonSet)
	case rollout.CreateSurgeUnavailable:
		return "a pod of the current revision starts next to old pod " + oldPod(r).Name + ", which is not available (no surge budget used)"
	case rollout.CreateSurge:
		return "a pod of the current revision starts next to old pod " + oldPod(r).Name + ", within " + s.budgetWords()
	}
	return string(r.Create)
}

func podByName(pods []plan.PodReport, name string) plan.PodReport {
	for _, p := range pods {
		if p.Name == name {
			return p
		}
	}
	return plan.PodReport{Name: name}
}

func countLive(pods []plan.PodReport) int {
	n := 0
	for _, p := range pods {
		if !p.Deleting {
			n++
		}
	}
	return n
}

// Strategy describes the update strategy in a few words, e.g.
// "RollingUpdate (maxUnavailable 1, maxSurge 0)".
func Strategy(ds *appsv1.DaemonSet) string {
	st := ds.Spec.UpdateStrategy
	if st.Type != appsv1.RollingUpdateDaemonSetStrategyType || st.RollingUpdate == nil {
		return string(st.Type)
	}
	ru := st.RollingUpdate
	words := string(st.Type) + " ("
	if ru.MaxUnavailable != nil {
		words += "maxUnavailable " + ru.MaxUnavailable.String()
	}
	if ru.MaxSurge != nil {
		words += ", maxSurge " + ru.MaxSurge.String()
	}
	return words + ")"
}
