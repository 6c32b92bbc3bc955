package revision

import (
	"errors"
	"fmt"
	"slices"
	"testing"

	"github.com/dsplan/dsplan/placement"
	"github.com/google/go-cmp/cmp"
	appsv1 "k8s.io/api/apps/v1"
	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
)

// summary is the part of a History the table tests state: names and numbers
// instead of whole objects.
type summary struct {
	Hash           string
	Current        string // name
	CurrentNumber  int64
	Old            []string
	Create         []string
	Update         []string // "name@number label=value", in History order
	Delete         []string
	PodPatches     map[string]string // pod -> hash
	Claims         map[string]placement.ClaimType
	Collision      bool
	CollisionCount *int32
	Reused         bool
}

func summarize(h History, pods []*corev1.Pod) summary {
	s := summary{Hash: h.Hash, Delete: h.Delete, Collision: h.Collision, CollisionCount: h.CollisionCount, Reused: h.Reused}
	if h.Current != nil {
		s.Current, s.CurrentNumber = h.Current.Name, h.Current.Revision
	}
	for _, r := range h.Old {
		s.Old = append(s.Old, r.Name)
	}
	for _, r := range h.Create {
		s.Create = append(s.Create, r.Name)
	}
	for _, r := range h.Update {
		s.Update = append(s.Update, fmt.Sprintf("%s@%d label=%s", r.Name, r.Revision, r.Labels[LabelKey]))
	}
	for _, p := range h.Relabel(slices.Values(pods)) {
		if s.PodPatches == nil {
			s.PodPatches = map[string]string{}
		}
		s.PodPatches[p.Pod] = p.Labels[LabelKey]
	}
	for _, c := range h.Claims {
		if s.Claims == nil {
			s.Claims = map[string]placement.ClaimType{}
		}
		s.Claims[c.Name] = c.Type
	}
	return s
}

func TestReconcile(t *testing.T) {
	v1, v2, v3 := hashOf("fluentd:v1"), hashOf("fluentd:v2"), hashOf("fluentd:v3")
	noLabel := func(r *appsv1.ControllerRevision) *appsv1.ControllerRevision {
		r = r.DeepCopy()
		delete(r.Labels, LabelKey)
		return r
	}
	otherOwner := func(r *appsv1.ControllerRevision) *appsv1.ControllerRevision {
		r = r.DeepCopy()
		r.OwnerReferences[0].UID = "other-uid"
		return r
	}
	relabel := func(r *appsv1.ControllerRevision, app string) *appsv1.ControllerRevision {
		r = r.DeepCopy()
		r.Labels["app"] = app
		return r
	}
	inNamespace := func(r *appsv1.ControllerRevision, ns string) *appsv1.ControllerRevision {
		r = r.DeepCopy()
		r.Namespace = ns
		return r
	}
	withCollisionCount := func(ds *appsv1.DaemonSet, n int32) *appsv1.DaemonSet {
		ds = ds.DeepCopy()
		ds.Status.CollisionCount = &n
		return ds
	}
	tests := []struct {
		name      string
		ds        *appsv1.DaemonSet
		revisions []*appsv1.ControllerRevision
		pods      []*corev1.Pod
		want      summary
	}{{
		name: "first revision is created with number 1",
		ds:   newDS("fluentd:v1"),
		want: summary{Hash: v1, Current: "fluentd-" + v1, CurrentNumber: 1, Create: []string{"fluentd-" + v1}},
	}, {
		name:      "current revision with the highest number: nothing to do",
		ds:        newDS("fluentd:v2"),
		revisions: []*appsv1.ControllerRevision{newRev(t, "fluentd:v1", 1), newRev(t, "fluentd:v2", 2)},
		want:      summary{Hash: v2, Current: "fluentd-" + v2, CurrentNumber: 2, Old: []string{"fluentd-" + v1}},
	}, {
		name:      "new template gets max old number plus one",
		ds:        newDS("fluentd:v3"),
		revisions: []*appsv1.ControllerRevision{newRev(t, "fluentd:v2", 7), newRev(t, "fluentd:v1", 4)},
		want: summary{Hash: v3, Current: "fluentd-" + v3, CurrentNumber: 8, Create: []string{"fluentd-" + v3},
			Old: []string{"fluentd-" + v1, "fluentd-" + v2}},
	}, {
		name:      "old template coming back is renumbered",
		ds:        newDS("fluentd:v1"),
		revisions: []*appsv1.ControllerRevision{newRev(t, "fluentd:v1", 1), newRev(t, "fluentd:v2", 2)},
		want: summary{Hash: v1, Current: "fluentd-" + v1, CurrentNumber: 3, Old: []string{"fluentd-" + v2},
			Update: []string{"fluentd-" + v1 + "@3 label=" + v1}},
	}, {
		name:      "missing hash label is set to the revision name",
		ds:        newDS("fluentd:v2"),
		revisions: []*appsv1.ControllerRevision{noLabel(newRev(t, "fluentd:v1", 1)), newRev(t, "fluentd:v2", 2)},
		want: summary{Hash: v2, Current: "fluentd-" + v2, CurrentNumber: 2, Old: []string{"fluentd-" + v1},
			Update: []string{"fluentd-" + v1 + "@1 label=fluentd-" + v1}},
	}, {
		name:      "current revision without label: hash is its name, label fix then renumbering",
		ds:        newDS("fluentd:v1"),
		revisions: []*appsv1.ControllerRevision{noLabel(newRev(t, "fluentd:v1", 1)), newRev(t, "fluentd:v2", 2)},
		want: summary{Hash: "fluentd-" + v1, Current: "fluentd-" + v1, CurrentNumber: 3, Old: []string{"fluentd-" + v2},
			Update: []string{"fluentd-" + v1 + "@1 label=fluentd-" + v1, "fluentd-" + v1 + "@3 label=fluentd-" + v1}},
	}, {
		name: "duplicates: the highest number is kept, pods relabelled, the rest deleted",
		ds:   newDS("fluentd:v1"),
		revisions: []*appsv1.ControllerRevision{
			withName(newRev(t, "fluentd:v1", 2), "fluentd-dup"), newRev(t, "fluentd:v1", 3), newRev(t, "fluentd:v2", 1),
		},
		pods: []*corev1.Pod{newPod("p-b", "n1", "dup"), newPod("p-a", "n2", v1), newPod("p-c", "n3", "")},
		want: summary{Hash: v1, Current: "fluentd-" + v1, CurrentNumber: 3, Old: []string{"fluentd-" + v2},
			Delete: []string{"fluentd-dup"}, PodPatches: map[string]string{"p-b": v1, "p-c": v1}},
	}, {
		name: "duplicates with equal numbers: the greatest name is kept",
		ds:   newDS("fluentd:v1"),
		revisions: []*appsv1.ControllerRevision{
			withName(newRev(t, "fluentd:v1", 2), "fluentd-zzz"), newRev(t, "fluentd:v1", 2),
		},
		pods: []*corev1.Pod{newPod("p", "n1", v1), newPod("q", "n2", "old")},
		want: summary{Hash: v1, Current: "fluentd-zzz", CurrentNumber: 2,
			Delete: []string{"fluentd-" + v1}, PodPatches: map[string]string{"q": v1}},
	}, {
		name: "duplicates below an old number: the kept one is renumbered",
		ds:   newDS("fluentd:v1"),
		revisions: []*appsv1.ControllerRevision{
			withName(newRev(t, "fluentd:v1", 1), "fluentd-a"), newRev(t, "fluentd:v1", 2), newRev(t, "fluentd:v2", 5),
		},
		want: summary{Hash: v1, Current: "fluentd-" + v1, CurrentNumber: 6, Old: []string{"fluentd-" + v2},
			Delete: []string{"fluentd-a"}, Update: []string{"fluentd-" + v1 + "@6 label=" + v1}},
	}, {
		name:      "matching orphan is adopted and counts",
		ds:        newDS("fluentd:v2"),
		revisions: []*appsv1.ControllerRevision{orphaned(newRev(t, "fluentd:v1", 4))},
		want: summary{Hash: v2, Current: "fluentd-" + v2, CurrentNumber: 5, Create: []string{"fluentd-" + v2},
			Old: []string{"fluentd-" + v1}, Claims: map[string]placement.ClaimType{"fluentd-" + v1: placement.Adopt}},
	}, {
		name:      "owned revision no longer selected is released and ignored",
		ds:        newDS("fluentd:v2"),
		revisions: []*appsv1.ControllerRevision{relabel(newRev(t, "fluentd:v1", 4), "other")},
		want: summary{Hash: v2, Current: "fluentd-" + v2, CurrentNumber: 1, Create: []string{"fluentd-" + v2},
			Claims: map[string]placement.ClaimType{"fluentd-" + v1: placement.Release}},
	}, {
		name:      "revision of another owner is ignored",
		ds:        newDS("fluentd:v2"),
		revisions: []*appsv1.ControllerRevision{otherOwner(newRev(t, "fluentd:v1", 4))},
		want:      summary{Hash: v2, Current: "fluentd-" + v2, CurrentNumber: 1, Create: []string{"fluentd-" + v2}},
	}, {
		name:      "revision in another namespace is ignored",
		ds:        newDS("fluentd:v2"),
		revisions: []*appsv1.ControllerRevision{inNamespace(newRev(t, "fluentd:v2", 4), "kube-system")},
		want:      summary{Hash: v2, Current: "fluentd-" + v2, CurrentNumber: 1, Create: []string{"fluentd-" + v2}},
	}, {
		name:      "name held by an uncontrolled revision with the same data: reused as current",
		ds:        newDS("fluentd:v2"),
		revisions: []*appsv1.ControllerRevision{otherOwner(newRev(t, "fluentd:v2", 9)), newRev(t, "fluentd:v1", 1)},
		want:      summary{Hash: v2, Current: "fluentd-" + v2, CurrentNumber: 9, Old: []string{"fluentd-" + v1}, Reused: true},
	}, {
		name:      "reused revision without hash label: hash is empty",
		ds:        newDS("fluentd:v2"),
		revisions: []*appsv1.ControllerRevision{otherOwner(noLabel(newRev(t, "fluentd:v2", 2)))},
		want:      summary{Hash: "", Current: "fluentd-" + v2, CurrentNumber: 2, Reused: true},
	}, {
		name:      "name held by a released revision with the same data: reused",
		ds:        newDS("fluentd:v2"),
		revisions: []*appsv1.ControllerRevision{relabel(newRev(t, "fluentd:v2", 3), "other")},
		want: summary{Hash: v2, Current: "fluentd-" + v2, CurrentNumber: 3, Reused: true,
			Claims: map[string]placement.ClaimType{"fluentd-" + v2: placement.Release}},
	}, {
		name:      "name held by other data: collision, count 1",
		ds:        newDS("fluentd:v2"),
		revisions: []*appsv1.ControllerRevision{withName(newRev(t, "fluentd:v1", 1), "fluentd-"+v2)},
		want:      summary{Old: []string{"fluentd-" + v2}, Collision: true, CollisionCount: ptr(int32(1))},
	}, {
		name:      "collision bumps an existing count",
		ds:        withCollisionCount(newDS("fluentd:v2"), 4),
		revisions: []*appsv1.ControllerRevision{withName(newRev(t, "fluentd:v1", 1), "fluentd-"+Hash(&newDS("fluentd:v2").Spec.Template, ptr(int32(4))))},
		want: summary{Old: []string{"fluentd-" + Hash(&newDS("fluentd:v2").Spec.Template, ptr(int32(4)))},
			Collision: true, CollisionCount: ptr(int32(5))},
	}, {
		name: "collision count changes the hash",
		ds:   withCollisionCount(newDS("fluentd:v2"), 1),
		want: summary{Hash: Hash(&newDS("fluentd:v2").Spec.Template, ptr(int32(1))),
			Current: "fluentd-" + Hash(&newDS("fluentd:v2").Spec.Template, ptr(int32(1))), CurrentNumber: 1,
			Create: []string{"fluentd-" + Hash(&newDS("fluentd:v2").Spec.Template, ptr(int32(1)))}},
	}}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			h, err := Reconcile(tc.ds, nil, tc.revisions)
			if err != nil {
				t.Fatalf("Reconcile: %v", err)
			}
			if diff := cmp.Diff(tc.want, summarize(h, tc.pods), cmpEmpty); diff != "" {
				t.Errorf("Reconcile (-want +got):\n%s", diff)
			}
			if h.Collision != (h.Err() != nil) {
				t.Errorf("Collision = %v but Err() = %v", h.Collision, h.Err())
			}
		})
	}
}

func TestReconcileCreate(t *testing.T) {
	ds := newDS("fluentd:v1")
	ds.Annotations = map[string]string{ChangeCauseAnnotation: "kubectl set image"}
	h, err := Reconcile(ds, nil, nil)
	if err != nil {
		t.Fatal(err)
	}
	want, err := New(ds, 1)
	if err != nil {
		t.Fatal(err)
	}
	if diff := cmp.Diff([]*appsv1.ControllerRevision{want}, h.Create); diff != "" {
		t.Errorf("Create (-want +got):\n%s", diff)
	}
	if diff := cmp.Diff(want, h.Current); diff != "" {
		t.Errorf("Current (-want +got):\n%s", diff)
	}
}

func TestReconcileReleasedCurrentLosesOwner(t *testing.T) {
	ds := newDS("fluentd:v2")
	r := newRev(t, "fluentd:v2", 3)
	r.Labels["app"] = "other"
	h, err := Reconcile(ds, nil, []*appsv1.ControllerRevision{r})
	if err != nil {
		t.Fatal(err)
	}
	if h.Current == nil || len(h.Current.OwnerReferences) != 0 {
		t.Errorf("Current = %v, want the released revision without owner references", h.Current)
	}
}

func TestReconcileErrors(t *testing.T) {
	badSelector := newDS("fluentd:v1")
	badSelector.Spec.Selector = &metav1.LabelSelector{MatchExpressions: []metav1.LabelSelectorRequirement{{Key: "app", Operator: "Bogus"}}}
	noLabelsSelector := newDS("fluentd:v1")
	noLabelsSelector.Spec.Selector = &metav1.LabelSelector{MatchExpressions: []metav1.LabelSelectorRequirement{{Key: "skip", Operator: metav1.LabelSelectorOpDoesNotExist}}}
	bare := newRev(t, "fluentd:v1", 1)
	bare.Labels = nil
	tests := []struct {
		name      string
		ds        *appsv1.DaemonSet
		revisions []*appsv1.ControllerRevision
		is        error
	}{
		{name: "nil DaemonSet"},
		{name: "selector does not parse", ds: badSelector},
		{name: "two revisions with one name", ds: newDS("fluentd:v1"), revisions: []*appsv1.ControllerRevision{newRev(t, "fluentd:v1", 1), newRev(t, "fluentd:v1", 2)}},
		{name: "controlled revision without labels", ds: noLabelsSelector, revisions: []*appsv1.ControllerRevision{bare}, is: ErrNoLabels},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			h, err := Reconcile(tc.ds, nil, tc.revisions)
			if err == nil {
				t.Fatalf("Reconcile = %+v, want error", h)
			}
			if tc.is != nil && !errors.Is(err, tc.is) {
				t.Errorf("Reconcile error = %v, want one wrapping %v", err, tc.is)
			}
			if diff := cmp.Diff(History{}, h); diff != "" {
				t.Errorf("Reconcile on error (-want zero +got):\n%s", diff)
			}
		})
	}
}

func TestHistoryErr(t *testing.T) {
	h := History{Collision: true, CollisionName: "fluentd-abc", CollisionCount: ptr(int32(1))}
	if got, want := h.Err().Error(), `controllerrevisions.apps "fluentd-abc" already exists`; got != want {
		t.Errorf("Err() = %q, want %q", got, want)
	}
	if err := (History{}).Err(); err != nil {
		t.Errorf("zero History Err() = %v, want nil", err)
	}
}

func TestCleanup(t *testing.T) {
	old := func(names ...string) []*appsv1.ControllerRevision {
		var out []*appsv1.ControllerRevision
		for i, n := range names {
			r := newRev(t, "fluentd:"+n, int64(i+1))
			r.Name = n
			out = append(out, r)
		}
		return out
	}
	limit := func(n int32) *appsv1.DaemonSet {
		ds := newDS("fluentd:cur")
		ds.Spec.RevisionHistoryLimit = &n
		return ds
	}
	hashOfOld := func(n string) string { return hashOf("fluentd:" + n) }
	pending := newPod("pending", "", hashOfOld("a"))
	pending.Spec.Affinity = &corev1.Affinity{NodeAffinity: &corev1.NodeAffinity{RequiredDuringSchedulingIgnoredDuringExecution: &corev1.NodeSelector{
		NodeSelectorTerms: []corev1.NodeSelectorTerm{{MatchFields: []corev1.NodeSelectorRequirement{{Key: "metadata.name", Operator: corev1.NodeSelectorOpIn, Values: []string{"n1"}}}}},
	}}}
	ambiguous := pending.DeepCopy()
	ambiguous.Spec.Affinity.NodeAffinity.RequiredDuringSchedulingIgnoredDuringExecution.NodeSelectorTerms[0].MatchFields[0].Values = []string{"n1", "n2"}
	tied := old("b", "a")
	tied[0].Revision, tied[1].Revision = 1, 1
	tests := []struct {
		name string
		ds   *appsv1.DaemonSet
		old  []*appsv1.ControllerRevision
		pods []*corev1.Pod
		want []string
	}{
		{name: "within the limit", ds: limit(3), old: old("a", "b", "c")},
		{name: "oldest beyond the limit", ds: limit(1), old: old("a", "b", "c"), want: []string{"a", "b"}},
		{name: "limit 0 deletes all", ds: limit(0), old: old("a", "b"), want: []string{"a", "b"}},
		{name: "negative limit deletes all", ds: limit(-2), old: old("a", "b"), want: []string{"a", "b"}},
		{name: "nil limit is 10", ds: func() *appsv1.DaemonSet { ds := newDS("x"); ds.Spec.RevisionHistoryLimit = nil; return ds }(),
			old: old("a", "b", "c", "d", "e", "f", "g", "h", "i", "j", "k"), want: []string{"a"}},
		{name: "hash of a live pod is kept, newer ones go instead", ds: limit(1), old: old("a", "b", "c"),
			pods: []*corev1.Pod{newPod("p", "n1", hashOfOld("a"))}, want: []string{"b", "c"}},
		{name: "live pods can keep more than the limit", ds: limit(0), old: old("a", "b"),
			pods: []*corev1.Pod{newPod("p", "n1", hashOfOld("a")), newPod("q", "n2", hashOfOld("b"))}},
		{name: "pending pod with matchFields node counts", ds: limit(1), old: old("a", "b"),
			pods: []*corev1.Pod{pending}, want: []string{"b"}},
		{name: "pod without a known node does not count", ds: limit(1), old: old("a", "b"),
			pods: []*corev1.Pod{newPod("p", "", hashOfOld("a"))}, want: []string{"a"}},
		{name: "pod with several matchFields nodes does not count", ds: limit(1), old: old("a", "b"),
			pods: []*corev1.Pod{ambiguous}, want: []string{"a"}},
		{name: "equal numbers: by name", ds: limit(1), old: tied, want: []string{"a"}},
		{name: "nil entries ignored", ds: limit(1), old: append(old("a", "b"), nil), want: []string{"a"}},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			got := Cleanup(tc.ds, tc.old, slices.Values(tc.pods))
			if diff := cmp.Diff(tc.want, got, cmpEmpty); diff != "" {
				t.Errorf("Cleanup (-want +got):\n%s", diff)
			}
		})
	}
}
