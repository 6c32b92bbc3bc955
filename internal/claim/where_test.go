package claim

import (
	"slices"
	"testing"

	"github.com/google/go-cmp/cmp"
	appsv1 "k8s.io/api/apps/v1"
	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/types"
	"pgregory.net/rapid"
)

// TestObjectsWhereIsObjectsOverFiltered checks that ObjectsWhere claims
// exactly what Objects claims over the candidates, and that it returns objs
// itself, not a copy, when every object is claimed.
func TestObjectsWhereIsObjectsOverFiltered(t *testing.T) {
	rapid.Check(t, func(t *rapid.T) {
		ds := testDaemonSet()
		if rapid.Bool().Draw(t, "dsDeleting") {
			ts := metav1.Unix(1, 0)
			ds.DeletionTimestamp = &ts
		}
		owners := []types.UID{"", "ds-uid", "other-uid"}
		objs := rapid.SliceOfN(rapid.Custom(func(t *rapid.T) *corev1.Pod {
			p := pod(rapid.StringMatching(`[a-c]{1,2}`).Draw(t, "name"), rapid.Bool().Draw(t, "match"),
				rapid.SampledFrom(owners).Draw(t, "owner"))
			if rapid.Bool().Draw(t, "otherNamespace") {
				p.Namespace = "other"
			}
			if rapid.Bool().Draw(t, "deleting") {
				ts := metav1.Unix(2, 0)
				p.DeletionTimestamp = &ts
			}
			return p
		}), 0, 8).Draw(t, "objs")
		excluded := rapid.SliceOfN(rapid.Bool(), len(objs), len(objs)).Draw(t, "excluded")
		at := map[*corev1.Pod]int{}
		for i, o := range objs {
			at[o] = i
		}
		candidate := func(p *corev1.Pod, ref *metav1.OwnerReference) bool {
			if want := metav1.GetControllerOfNoCopy(p); ref != want {
				t.Fatalf("candidate got ref %p, want %p", ref, want)
			}
			return !excluded[at[p]]
		}
		var filtered []*corev1.Pod
		for i, o := range objs {
			if !excluded[i] {
				filtered = append(filtered, o)
			}
		}
		wantClaimed, wantPatches := Objects(ds, filtered, matches)
		gotClaimed, gotPatches := ObjectsWhere(ds, objs, candidate, matches)
		if !slices.Equal(gotClaimed, wantClaimed) {
			t.Fatalf("claimed: got %d objects, want %d", len(gotClaimed), len(wantClaimed))
		}
		if diff := cmp.Diff(wantPatches, gotPatches); diff != "" {
			t.Fatalf("patches (-want +got):\n%s", diff)
		}
		if len(objs) > 0 && len(gotClaimed) == len(objs) && &gotClaimed[0] != &objs[0] {
			t.Fatalf("every object claimed, but the result is a copy")
		}
	})
}

func TestObjectsWhereDoesNotModify(t *testing.T) {
	ds := &appsv1.DaemonSet{ObjectMeta: metav1.ObjectMeta{Name: "ds", Namespace: "ns", UID: "ds-uid"}}
	objs := []*corev1.Pod{pod("a", true, "ds-uid"), pod("b", false, ""), pod("c", true, "")}
	before := []*corev1.Pod{objs[0].DeepCopy(), objs[1].DeepCopy(), objs[2].DeepCopy()}
	order := slices.Clone(objs)
	claimed, _ := ObjectsWhere(ds, objs, func(*corev1.Pod, *metav1.OwnerReference) bool { return true }, matches)
	if want := []*corev1.Pod{objs[0], objs[2]}; !slices.Equal(claimed, want) {
		t.Errorf("claimed %v, want a and c", claimed)
	}
	if !slices.Equal(objs, order) {
		t.Errorf("objs reordered")
	}
	for i := range objs {
		if diff := cmp.Diff(before[i], objs[i]); diff != "" {
			t.Errorf("objs[%d] modified (-before +after):\n%s", i, diff)
		}
	}
}
