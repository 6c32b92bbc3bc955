package placement

import (
	"time"

	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"

	"github.com/dsplan/dsplan/internal/target"
)

// PodJudge decides, for one DaemonSet and pod by pod, what [Group] decides
// of each pod it reads: whether the DaemonSet claims the pod (and the
// [Claim] that claiming sends), the node the pod targets, whether the pod
// is listed on that node, and its state ([Pod]) judged against one
// revision hash and one time. Group judges every pod with a PodJudge; a
// caller that keeps its own index of pods between events (package
// plan/incremental) judges each pod as it changes, with the same result.
//
// Build one with [NewPodJudge]; the zero PodJudge judges nothing (every
// verdict is the zero PodVerdict). A PodJudge is a small value, immutable
// and safe for concurrent use; Judge does not allocate unless the pod is
// adopted or released (the claim's patch).
type PodJudge struct {
	e *Evaluator
	c classifier
	// ok is false when the Evaluator cannot claim pods (no DaemonSet, a
	// selector that does not parse, no identity): Group fails then.
	ok bool
}

// NewPodJudge returns the judge of e's DaemonSet's pods for the revision
// hash and the time now (see [GroupInput]: the same Hash and Now). A nil
// e, or one whose DaemonSet Group refuses (its selector does not parse, or
// it has no namespace, name or UID), gives a judge that claims no pod.
func NewPodJudge(e *Evaluator, hash string, now time.Time) PodJudge {
	if e == nil {
		return PodJudge{}
	}
	ok := e.selectorErr == nil && e.owner.Namespace != "" && e.owner.Name != "" && e.owner.UID != ""
	return PodJudge{e: e, c: newClassifier(e, hash, now), ok: ok}
}

// PodVerdict is what [PodJudge.Judge] decides of one pod.
type PodVerdict struct {
	// Claimed: the DaemonSet controls the pod after claiming (the pod is
	// among [Grouping.ClaimedPods]).
	Claimed bool
	// Claim is the adopt or release patch claiming sends for the pod, the
	// zero Claim for none (among [Grouping.Claims]).
	Claim Claim
	// Targeting: the pod is claimed and targets a node, Node ([TargetNodeName]);
	// it is then among [Grouping.TargetingPods].
	Targeting bool
	Node      string
	// Listed: the pod is in Node's entry of the Grouping: targeting, and not
	// a terminal (Failed or Succeeded) pod being deleted.
	Listed bool
	// Pod is the pod with its state, set when Targeting.
	Pod Pod
}

// Judge decides pod as [Group] does (its rules 1 to 3): a candidate (a pod
// of the DaemonSet's namespace, an orphan or controlled by the DaemonSet)
// is claimed by [ClaimObjects]' rules with the DaemonSet's selector; a
// claimed pod targets spec.nodeName or the node its required node affinity
// pins; a targeting pod is listed unless it is terminal and being deleted.
// A nil pod gets the zero PodVerdict.
func (j *PodJudge) Judge(pod *corev1.Pod) PodVerdict {
	var v PodVerdict
	if pod == nil || !j.ok {
		return v
	}
	ref := metav1.GetControllerOfNoCopy(pod)
	if !isCandidate(j.e, pod, ref) {
		return v
	}
	v.Claimed, v.Claim = decideClaim(&j.e.owner, ClaimPod, pod, ref, j.e.podSelector.matchesPod)
	if !v.Claimed {
		return v
	}
	name, failure := target.NodeName(pod)
	if failure != target.OK {
		return v
	}
	v.Targeting, v.Node = true, name
	v.Pod = Pod{pod, j.c.state(pod)}
	v.Listed = v.Pod.state&podDeleting == 0 || !v.Pod.state.terminal()
	return v
}

// AvailableAt tells when pod's availability changes with the time: it
// returns the instant at and true when pod is ready, the DaemonSet's
// minReadySeconds is not 0 and the Ready condition's lastTransitionTime is
// set; the pod is then available ([Pod.Available], [IsPodAvailable]) at
// every time not before at, and not available before it. Otherwise it
// returns false: whether the pod is available does not depend on the time.
// A caller that keeps pods judged at one time (package plan/incremental)
// judges again, at a later time, the pods whose at has passed.
func (j *PodJudge) AvailableAt(pod *corev1.Pod) (time.Time, bool) {
	if j.e == nil {
		return time.Time{}, false
	}
	c := readyCondition(pod)
	if c == nil || c.Status != corev1.ConditionTrue {
		return time.Time{}, false
	}
	return availableAt(c, j.e.minReadySeconds)
}

// NodeBuilder builds the [NodePods] view of one node whose pods a caller
// keeps itself, outside a [Grouping] — an index kept up to date between
// events, as package plan/incremental keeps — so that the stages that
// read a Grouping node by node (rollout.Classify, status.NodeCounts,
// plan.Manages) read it as they read a Grouping's entry. The zero
// NodeBuilder is ready to use. A view is valid until the builder's next
// View; a NodeBuilder must not be used by two goroutines at once.
type NodeBuilder struct {
	g Grouping
}

// View returns the entry of the node named name: node is the Node object,
// nil for a node that does not exist (its decision should then be the zero
// Decision); d is its decision; pods are the node's listed pods
// ([PodVerdict.Listed]) oldest first ([ComparePods]), each judged by one
// [PodJudge] — what Group lists for the node. View copies pods (not the
// objects) and does not allocate once its memory has grown.
func (b *NodeBuilder) View(name string, node *corev1.Node, d Decision, pods []Pod) NodePods {
	g := &b.g
	g.nodes = append(g.nodes[:0], nodeEntry{name: name, node: node, decision: d, to: int32(len(pods))})
	g.pods, g.states = g.pods[:0], g.states[:0]
	for _, p := range pods {
		g.pods = append(g.pods, p.pod)
		g.states = append(g.states, p.state)
	}
	return NodePods{g, &g.nodes[0]}
}
