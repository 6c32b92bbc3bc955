package placement

import (
	"strconv"
	"strings"
	"time"

	appsv1 "k8s.io/api/apps/v1"
	corev1 "k8s.io/api/core/v1"
)

// PodState is what the DaemonSet controller reads of one daemon pod, as a
// set of bits. A [PodClassifier] computes it; [NodePods.States] can carry
// it, so that packages rollout and status need not read the pods again.
type PodState uint8

// The bits of a PodState.
const (
	// PodDeleting: metadata.deletionTimestamp is set.
	PodDeleting PodState = 1 << iota
	// PodFailed: status.phase is Failed.
	PodFailed
	// PodSucceeded: status.phase is Succeeded.
	PodSucceeded
	// PodReady: the Ready condition is True ([IsPodReady]).
	PodReady
	// PodAvailable: ready for the DaemonSet's minReadySeconds at the
	// classifier's time ([IsPodAvailable]).
	PodAvailable
	// PodUpdated: the pod belongs to the classifier's revision hash or
	// template generation ([IsPodUpdated]).
	PodUpdated
)

// podStateNames are the bits' names, lowest bit first.
var podStateNames = [...]string{"Deleting", "Failed", "Succeeded", "Ready", "Available", "Updated"}

// String lists the bits of s, lowest first, joined by "|"; "0" when none
// is set.
func (s PodState) String() string {
	var b strings.Builder
	for i, name := range podStateNames {
		if s&(1<<i) == 0 {
			continue
		}
		if b.Len() > 0 {
			b.WriteByte('|')
		}
		b.WriteString(name)
	}
	if rest := s &^ (1<<len(podStateNames) - 1); rest != 0 {
		if b.Len() > 0 {
			b.WriteByte('|')
		}
		b.WriteString("0x" + strconv.FormatUint(uint64(rest), 16))
	}
	if b.Len() == 0 {
		return "0"
	}
	return b.String()
}

// Terminal reports whether s has PodFailed or PodSucceeded.
func (s PodState) Terminal() bool { return s&(PodFailed|PodSucceeded) != 0 }

// PodClassifier computes the [PodState] of a DaemonSet's pods, judged
// against one revision hash and one time. Build it with
// [NewPodClassifier]; it is a small value, safe for concurrent use, and
// State does not allocate.
type PodClassifier struct {
	hash string
	// generation[:generationLen] is the decimal template generation of the
	// deprecated annotation, as IsPodUpdated formats it; empty when there
	// is none. An array, so that building a classifier does not allocate.
	generation      [20]byte
	generationLen   uint8
	minReadySeconds int32
	now             time.Time
}

// NewPodClassifier returns the classifier for ds's pods: updated means the
// pod carries hash (or, when hash is empty or differs, the template
// generation of ds's deprecated annotation, which is ignored when it does
// not parse, as upstream); available means ready for
// ds.Spec.MinReadySeconds at now. A nil ds has no template generation and
// minReadySeconds 0. NewPodClassifier allocates only for the error of an
// annotation that does not parse.
func NewPodClassifier(ds *appsv1.DaemonSet, hash string, now time.Time) PodClassifier {
	c := PodClassifier{hash: hash, now: now}
	if ds == nil {
		return c
	}
	c.minReadySeconds = ds.Spec.MinReadySeconds
	if g, ok, _ := templateGeneration(ds); ok {
		c.generationLen = uint8(len(strconv.AppendInt(c.generation[:0], g, 10)))
	}
	return c
}

// State returns pod's state. A nil pod has the zero state. For a pod p,
// State(p) has PodReady exactly when IsPodReady(p), PodAvailable when
// IsPodAvailable(p, minReadySeconds, now), PodUpdated when
// IsPodUpdated(p, hash, generation).
func (c *PodClassifier) State(pod *corev1.Pod) PodState {
	if pod == nil {
		return 0
	}
	var s PodState
	if pod.DeletionTimestamp != nil {
		s |= PodDeleting
	}
	switch pod.Status.Phase {
	case corev1.PodFailed:
		s |= PodFailed
	case corev1.PodSucceeded:
		s |= PodSucceeded
	}
	if cond := readyCondition(pod); cond != nil && cond.Status == corev1.ConditionTrue {
		s |= PodReady
		if isAvailable(cond, c.minReadySeconds, c.now) {
			s |= PodAvailable
		}
	}
	if c.updated(pod.Labels) {
		s |= PodUpdated
	}
	return s
}

// updated is IsPodUpdated on a pod's labels.
func (c *PodClassifier) updated(podLabels map[string]string) bool {
	if c.hash != "" && podLabels[appsv1.DefaultDaemonSetUniqueLabelKey] == c.hash {
		return true
	}
	if c.generationLen == 0 {
		return false
	}
	v, ok := podLabels[templateGenerationLabel]
	return ok && v == string(c.generation[:c.generationLen])
}

// StateAt returns the state of n.Pods[k]: n.States[k] when n.States has
// one entry per pod, else c.State(n.Pods[k]). k must be an index of
// n.Pods.
func (n *NodePods) StateAt(k int, c *PodClassifier) PodState {
	if len(n.States) == len(n.Pods) {
		return n.States[k]
	}
	return c.State(n.Pods[k])
}
