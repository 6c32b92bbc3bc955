package claim

import (
	"testing"

	"github.com/google/go-cmp/cmp"
	appsv1 "k8s.io/api/apps/v1"
	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/types"
)

func testDaemonSet() *appsv1.DaemonSet {
	return &appsv1.DaemonSet{ObjectMeta: metav1.ObjectMeta{Name: "ds", Namespace: "ns", UID: "ds-uid"}}
}

func pod(name string, match bool, owner types.UID) *corev1.Pod {
	p := &corev1.Pod{ObjectMeta: metav1.ObjectMeta{Name: name, Namespace: "ns", UID: types.UID(name + "-uid")}}
	if match {
		p.Labels = map[string]string{"app": "x"}
	}
	if owner != "" {
		yes := true
		p.OwnerReferences = []metav1.OwnerReference{{APIVersion: "apps/v1", Kind: "DaemonSet", Name: "other", UID: owner, Controller: &yes}}
	}
	return p
}

func matches(p *corev1.Pod) bool { return p.Labels["app"] == "x" }

func TestObjects(t *testing.T) {
	deleting := metav1.Unix(1, 0)
	tests := []struct {
		name        string
		dsDeleting  bool
		pod         *corev1.Pod
		wantClaimed bool
		wantPatch   *Patch
	}{
		{name: "owned and matching", pod: pod("a", true, "ds-uid"), wantClaimed: true},
		{name: "owned by another", pod: pod("a", true, "other-uid")},
		{name: "owned not matching is released", pod: pod("a", false, "ds-uid"),
			wantPatch: &Patch{Name: "a", Type: Release, Patch: `{"metadata":{"uid":"a-uid","ownerReferences":[{"$patch":"delete","uid":"ds-uid"}]}}`}},
		{name: "owned not matching while deleting is kept", dsDeleting: true, pod: pod("a", false, "ds-uid")},
		{name: "orphan matching is adopted", pod: pod("a", true, ""), wantClaimed: true,
			wantPatch: &Patch{Name: "a", Type: Adopt, Patch: `{"metadata":{"ownerReferences":[{"apiVersion":"apps/v1","kind":"DaemonSet","name":"ds","uid":"ds-uid","controller":true,"blockOwnerDeletion":true}],"uid":"a-uid"}}`}},
		{name: "orphan not matching is ignored", pod: pod("a", false, "")},
		{name: "orphan while owner deleting is ignored", dsDeleting: true, pod: pod("a", true, "")},
		{name: "orphan being deleted is ignored", pod: func() *corev1.Pod { p := pod("a", true, ""); p.DeletionTimestamp = &deleting; return p }()},
		{name: "orphan in other namespace is ignored", pod: func() *corev1.Pod { p := pod("a", true, ""); p.Namespace = "x"; return p }()},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			ds := testDaemonSet()
			if tc.dsDeleting {
				ds.DeletionTimestamp = &deleting
			}
			before := tc.pod.DeepCopy()
			claimed, patches := Objects(ds, []*corev1.Pod{tc.pod}, matches)
			if got := len(claimed) == 1; got != tc.wantClaimed {
				t.Errorf("claimed = %v, want %v", got, tc.wantClaimed)
			}
			var want []Patch
			if tc.wantPatch != nil {
				want = []Patch{*tc.wantPatch}
			}
			if diff := cmp.Diff(want, patches); diff != "" {
				t.Errorf("patches (-want +got):\n%s", diff)
			}
			if diff := cmp.Diff(before, tc.pod); diff != "" {
				t.Errorf("input pod changed (-before +after):\n%s", diff)
			}
		})
	}
}

func TestObjectsSortsPatches(t *testing.T) {
	_, patches := Objects(testDaemonSet(), []*corev1.Pod{pod("b", true, ""), pod("a", false, "ds-uid"), pod("c", true, "")}, matches)
	var got []string
	for _, p := range patches {
		got = append(got, p.Name)
	}
	if diff := cmp.Diff([]string{"a", "b", "c"}, got); diff != "" {
		t.Errorf("patch order (-want +got):\n%s", diff)
	}
}
