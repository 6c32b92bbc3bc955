//go:build unix

package e2e

import (
	"strconv"
	"strings"
	"testing"

	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/util/intstr"
)

// TestRecorderRelistOrder replays what a relist after a kube-apiserver
// restart delivered: the controller's second delete (pod b, on n2) before
// the replacement on n1 turning ready, which happened earlier. The state
// is over maxUnavailable only in the recorder's view, and must not be a
// violation; the same events with the replacement ready after the second
// delete (a controller that really took two nodes down) must be. It runs
// without a cluster.
func TestRecorderRelistOrder(t *testing.T) {
	for _, tc := range []struct {
		name      string
		readyRV   int // resourceVersion of the replacement turning ready
		violation bool
	}{
		{"ready before the second delete, delivered after", 23, false},
		{"ready after the second delete", 25, true},
	} {
		t.Run(tc.name, func(t *testing.T) {
			r := newRecorder("ns", 0)
			ds := newDS("ds")
			ds.Namespace, ds.UID, ds.ResourceVersion = "ns", "ds-uid", "5"
			ds.Spec.UpdateStrategy = rollingUpdate(intstr.FromInt32(1), intstr.FromInt32(0))
			for i, n := range []string{"n1", "n2", "n3"} {
				r.onNode(nil, &corev1.Node{ObjectMeta: metav1.ObjectMeta{Name: n, ResourceVersion: strconv.Itoa(i + 1)}})
			}
			r.onDaemonSet(nil, ds)
			pod := func(name, node string, rv int, ready, deleting bool) *corev1.Pod {
				p := &corev1.Pod{
					ObjectMeta: metav1.ObjectMeta{Name: name, Namespace: "ns", ResourceVersion: strconv.Itoa(rv),
						OwnerReferences: []metav1.OwnerReference{{APIVersion: "apps/v1", Kind: "DaemonSet", Name: "ds", UID: ds.UID, Controller: new(true)}}},
					Spec:   corev1.PodSpec{NodeName: node},
					Status: corev1.PodStatus{Phase: corev1.PodRunning},
				}
				status := corev1.ConditionFalse
				if ready {
					status = corev1.ConditionTrue
				}
				p.Status.Conditions = []corev1.PodCondition{{Type: corev1.PodReady, Status: status}}
				if deleting {
					p.DeletionTimestamp = &metav1.Time{}
				}
				return p
			}
			r.onPod(nil, pod("a", "n1", 10, true, false), false)
			r.onPod(nil, pod("b", "n2", 11, true, false), false)
			r.onPod(nil, pod("c", "n3", 12, true, false), false)
			r.onPod(nil, pod("a", "n1", 20, true, true), false) // the rollout's first delete
			r.onPod(nil, pod("a2", "n1", 21, false, false), false)
			r.onPod(pod("a", "n1", 22, true, true), nil, false)
			// The relist: b's delete (24) first, then a2 ready.
			r.onPod(nil, pod("b", "n2", 24, true, true), false)
			r.onPod(nil, pod("a2", "n1", tc.readyRV, true, false), false)
			r.mu.Lock()
			r.judgePending()
			r.mu.Unlock()
			err := r.err()
			if got := err != nil; got != tc.violation {
				t.Errorf("violation %v, want %v (err %v; %s)", got, tc.violation, err, r.summary())
			}
			if err != nil && !strings.Contains(err.Error(), "max-unavailable") {
				t.Errorf("err %v, want a max-unavailable violation", err)
			}
		})
	}
}
