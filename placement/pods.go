package placement

import (
	"strings"
	"time"

	corev1 "k8s.io/api/core/v1"
)

// ComparePods orders daemon pods as kube-controller-manager does when it
// picks the pod to keep on a node: scheduled pods (spec.nodeName set) first,
// then older creation timestamp first, then name. It returns a negative
// number when a sorts before b, zero when they are equal, positive otherwise;
// use it with slices.SortFunc. A nil pod sorts after every pod.
func ComparePods(a, b *corev1.Pod) int {
	if a == nil || b == nil {
		return cmpNil(a == nil, b == nil)
	}
	aScheduled, bScheduled := a.Spec.NodeName != "", b.Spec.NodeName != ""
	switch {
	case aScheduled && !bScheduled:
		return -1
	case !aScheduled && bScheduled:
		return 1
	}
	if c := a.CreationTimestamp.Compare(b.CreationTimestamp.Time); c != 0 {
		return c
	}
	return strings.Compare(a.Name, b.Name)
}

// IsPodReady reports whether the pod's Ready condition is True; false for a
// nil pod.
func IsPodReady(pod *corev1.Pod) bool {
	c := readyCondition(pod)
	return c != nil && c.Status == corev1.ConditionTrue
}

// IsPodAvailable reports whether the pod has been ready for at least
// minReadySeconds at now, with the semantics of kube-controller-manager's
// podutil.IsPodAvailable: with minReadySeconds 0 a ready pod is available;
// otherwise the Ready condition's lastTransitionTime must be set and at
// least minReadySeconds before now. A nil pod is not available.
func IsPodAvailable(pod *corev1.Pod, minReadySeconds int32, now time.Time) bool {
	c := readyCondition(pod)
	return c != nil && c.Status == corev1.ConditionTrue && isAvailable(c, minReadySeconds, now)
}

// isAvailable reports whether a true Ready condition c has held for
// minReadySeconds at now.
func isAvailable(c *corev1.PodCondition, minReadySeconds int32, now time.Time) bool {
	at, timed := availableAt(c, minReadySeconds)
	if !timed {
		return minReadySeconds == 0
	}
	return !at.After(now)
}

// availableAt returns when a pod whose Ready condition c is true becomes
// available, and true; or false when that does not depend on the time:
// with minReadySeconds 0 the pod is available, without a
// lastTransitionTime it never is.
func availableAt(c *corev1.PodCondition, minReadySeconds int32) (time.Time, bool) {
	if minReadySeconds == 0 || c.LastTransitionTime.IsZero() {
		return time.Time{}, false
	}
	return c.LastTransitionTime.Add(time.Duration(minReadySeconds) * time.Second), true
}

// cmpNil orders by nil-ness, nil last.
func cmpNil(aNil, bNil bool) int {
	switch {
	case aNil == bNil:
		return 0
	case aNil:
		return 1
	}
	return -1
}

// readyCondition returns the pod's first Ready condition, or nil (also for
// a nil pod).
func readyCondition(pod *corev1.Pod) *corev1.PodCondition {
	if pod == nil {
		return nil
	}
	for i := range pod.Status.Conditions {
		if pod.Status.Conditions[i].Type == corev1.PodReady {
			return &pod.Status.Conditions[i]
		}
	}
	return nil
}
