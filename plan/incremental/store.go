package incremental

import (
	corev1 "k8s.io/api/core/v1"
	"k8s.io/apimachinery/pkg/types"
)

// podRec is a stored pod with what the DaemonSets' indexes hold of it.
type podRec struct {
	pod   *corev1.Pod
	owner types.UID
	// at is the record's position in its owner's podList.
	at int32
	// first is the first DaemonSet's part (first.d nil: none), more the
	// others': two DaemonSets hold a pod only when both select an orphan.
	first member
	more  []member
}

// member is what one DaemonSet's index holds of a pod.
type member struct {
	d *daemonSet
	// slot is where the pod is listed, -1 for nowhere.
	slot      int32
	claimed   bool
	targeting bool
}

// member returns d's part of the pod, nil for none.
func (r *podRec) member(d *daemonSet) *member {
	if r.first.d == d {
		return &r.first
	}
	for i := range r.more {
		if r.more[i].d == d {
			return &r.more[i]
		}
	}
	return nil
}

// hold adds m, whose DaemonSet has no part yet.
func (r *podRec) hold(m member) {
	if r.first.d == nil {
		r.first = m
	} else {
		r.more = append(r.more, m)
	}
}

// drop removes d's part and returns it.
func (r *podRec) drop(d *daemonSet) (member, bool) {
	if r.first.d == d && d != nil {
		m := r.first
		r.first = member{}
		if n := len(r.more); n > 0 {
			r.first, r.more[n-1] = r.more[n-1], member{}
			r.more = r.more[:n-1]
		}
		return m, true
	}
	for i := range r.more {
		if r.more[i].d == d {
			m := r.more[i]
			n := len(r.more)
			r.more[i], r.more[n-1] = r.more[n-1], member{}
			r.more = r.more[:n-1]
			return m, true
		}
	}
	return member{}, false
}

// holders appends the DaemonSets with a part in the pod to ds.
func (r *podRec) holders(ds []*daemonSet) []*daemonSet {
	if r.first.d != nil {
		ds = append(ds, r.first.d)
	}
	for _, m := range r.more {
		ds = append(ds, m.d)
	}
	return ds
}

// podList is a list of pod records, each knowing its position: adding and
// removing cost O(1), where a map by name costs a hash and a probe.
type podList struct {
	recs []*podRec
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
