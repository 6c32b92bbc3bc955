package incremental

import (
	"time"

	corev1 "k8s.io/api/core/v1"
)

// timed is a pod that becomes available at a time (placement.PodJudge's
// AvailableAt) later than the time it was judged at.
type timed struct {
	at  time.Time
	pod *corev1.Pod // a later version of the pod makes the entry stale
}

// timeQueue is a binary min-heap of timed pods by time. Entries are not
// removed when their pod changes or goes; they are checked when they come
// out (stale entries are skipped).
type timeQueue []timed

func (q *timeQueue) push(e timed) {
	*q = append(*q, e)
	h := *q
	for i := len(h) - 1; i > 0; {
		parent := (i - 1) / 2
		if !h[i].at.Before(h[parent].at) {
			break
		}
		h[i], h[parent] = h[parent], h[i]
		i = parent
	}
}

// due reports whether the earliest entry's time has come at now.
func (q timeQueue) due(now time.Time) bool { return len(q) > 0 && !q[0].at.After(now) }

// pop removes and returns the earliest entry.
func (q *timeQueue) pop() timed {
	h := *q
	top := h[0]
	last := len(h) - 1
	h[0] = h[last]
	h[last] = timed{}
	h = h[:last]
	for i := 0; ; {
		l, r, m := 2*i+1, 2*i+2, i
		if l < len(h) && h[l].at.Before(h[m].at) {
			m = l
		}
		if r < len(h) && h[r].at.Before(h[m].at) {
			m = r
		}
		if m == i {
			break
		}
		h[i], h[m] = h[m], h[i]
		i = m
	}
	*q = h
	return top
}
