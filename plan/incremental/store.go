package incremental

import (
	corev1 "k8s.io/api/core/v1"
	"k8s.io/apimachinery/pkg/types"
)

// podRec is a stored pod. What the DaemonSets' indexes hold of it is found
// by judging it (see daemonSet.judgePod).
type podRec struct {
	pod   *corev1.Pod
	owner types.UID
	// at is the record's position in its owner's podList.
	at int32
}

// podList is a list of pod records, each knowing its position: adding and
// removing cost O(1), where a map by name costs a hash and a probe.
type podList struct {
	recs []*podRec
}

func (l *podList) len() int {
	if l == nil {
		return 0
	}
	return len(l.recs)
}

func (l *podList) add(r *podRec) {
	r.at = int32(len(l.recs))
	l.recs = append(l.recs, r)
}

func (l *podList) remove(r *podRec) {
	last := len(l.recs) - 1
	moved := l.recs[last]
	l.recs[r.at], moved.at = moved, r.at
	l.recs[last] = nil
	l.recs = l.recs[:last]
}
