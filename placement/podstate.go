package placement

import (
	"strconv"
	"strings"
	"time"

	appsv1 "k8s.io/api/apps/v1"
	corev1 "k8s.io/api/core/v1"
)

// podState is what the DaemonSet controller reads of one daemon pod, as a
// set of bits. A [classifier] computes it once per pod when [Group] reads
// the pods; the later stages read the byte, through [Pod]'s methods,
// instead of the pod: at 100,000 pods, walking the pods' memory is what
// planning costs.
type podState uint8

// The bits of a podState.
const (
	// podDeleting: metadata.deletionTimestamp is set.
	podDeleting podState = 1 << iota
	// podFailed: status.phase is Failed.
	podFailed
	// podSucceeded: status.phase is Succeeded.
	podSucceeded
	// podReady: the Ready condition is True ([IsPodReady]).
	podReady
	// podAvailable: ready for the DaemonSet's minReadySeconds at the
	// classifier's time ([IsPodAvailable]).
	podAvailable
	// podUpdated: the pod belongs to the classifier's revision hash or
	// template generation ([IsPodUpdated]).
	podUpdated
)

// podStateNames are the bits' names, lowest bit first.
var podStateNames = [...]string{"Deleting", "Failed", "Succeeded", "Ready", "Available", "Updated"}

// String lists the bits of s, lowest first, joined by "|"; "0" when none
// is set.
func (s podState) String() string {
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

// terminal reports whether s has podFailed or podSucceeded.
func (s podState) terminal() bool { return s&(podFailed|podSucceeded) != 0 }

// classifier computes the [podState] of a DaemonSet's pods, judged against
// one revision hash and one time. It is a small value; state does not
// allocate.
type classifier struct {
	hash string
	// generation[:generationLen] is the decimal template generation of the
	// deprecated annotation, as IsPodUpdated formats it; empty when there
	// is none. An array, so that building a classifier does not allocate.
	generation      [20]byte
	generationLen   uint8
	minReadySeconds int32
	now             time.Time
}

// newClassifier returns the classifier for the pods of the DaemonSet e was
// compiled from: updated means the pod carries hash (or, when hash is
// empty or differs, the template generation of the deprecated annotation,
// which is ignored when it does not parse, as upstream); available means
// ready for spec.minReadySeconds at now.
func newClassifier(e *Evaluator, hash string, now time.Time) classifier {
	c := classifier{hash: hash, now: now, minReadySeconds: e.minReadySeconds}
	if e.generation != nil {
		c.generationLen = uint8(len(strconv.AppendInt(c.generation[:0], *e.generation, 10)))
	}
	return c
}

// state returns pod's state. A nil pod has the zero state. For a pod p,
// state(p) has podReady exactly when IsPodReady(p), podAvailable when
// IsPodAvailable(p, minReadySeconds, now), podUpdated when
// IsPodUpdated(p, hash, generation).
func (c *classifier) state(pod *corev1.Pod) podState {
	if pod == nil {
		return 0
	}
	var s podState
	if pod.DeletionTimestamp != nil {
		s |= podDeleting
	}
	switch pod.Status.Phase {
	case corev1.PodFailed:
		s |= podFailed
	case corev1.PodSucceeded:
		s |= podSucceeded
	}
	if cond := readyCondition(pod); cond != nil && cond.Status == corev1.ConditionTrue {
		s |= podReady
		if isAvailable(cond, c.minReadySeconds, c.now) {
			s |= podAvailable
		}
	}
	if c.updated(pod.Labels) {
		s |= podUpdated
	}
	return s
}

// updated is IsPodUpdated on a pod's labels.
func (c *classifier) updated(podLabels map[string]string) bool {
	if c.hash != "" && podLabels[appsv1.DefaultDaemonSetUniqueLabelKey] == c.hash {
		return true
	}
	if c.generationLen == 0 {
		return false
	}
	v, ok := podLabels[templateGenerationLabel]
	return ok && v == string(c.generation[:c.generationLen])
}
