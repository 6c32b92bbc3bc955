package revision

import (
	"fmt"
	"slices"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
	appsv1 "k8s.io/api/apps/v1"
	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"pgregory.net/rapid"

	"github.com/dsplan/dsplan/internal/target"
	"github.com/dsplan/dsplan/placement"
)

// propImages are the templates generated DaemonSets and revisions use; few
// enough that duplicates, returns of old templates and collisions of names
// are frequent.
var propImages = []string{"fluentd:v1", "fluentd:v2", "fluentd:v3"}

// input is one generated call of the package's functions.
type input struct {
	ds        *appsv1.DaemonSet
	revisions []*appsv1.ControllerRevision
	pods      []*corev1.Pod
}

func (in input) deepCopy() input {
	out := input{ds: in.ds.DeepCopy()}
	for _, r := range in.revisions {
		out.revisions = append(out.revisions, r.DeepCopy())
	}
	for _, p := range in.pods {
		out.pods = append(out.pods, p.DeepCopy())
	}
	return out
}

// genInput draws a DaemonSet with revisions in every state Reconcile knows
// (current, old, duplicated, unlabelled, orphaned, released, foreign, other
// namespace, colliding names, odd data) and pods with assorted hashes.
func genInput(t *rapid.T) input {
	ds := newDS(rapid.SampledFrom(propImages).Draw(t, "image"))
	if rapid.Bool().Draw(t, "hasCollisionCount") {
		ds.Status.CollisionCount = ptr(rapid.Int32Range(0, 2).Draw(t, "collisionCount"))
	}
	if rapid.Bool().Draw(t, "hasLimit") {
		ds.Spec.RevisionHistoryLimit = ptr(rapid.Int32Range(0, 3).Draw(t, "limit"))
	} else {
		ds.Spec.RevisionHistoryLimit = nil
	}
	if rapid.Bool().Draw(t, "changeCause") {
		ds.Annotations = map[string]string{ChangeCauseAnnotation: "cause"}
	}
	in := input{ds: ds}
	names := map[string]bool{}
	for i := range rapid.IntRange(0, 7).Draw(t, "revisions") {
		img := rapid.SampledFrom(propImages).Draw(t, "revImage")
		src := newDS(img)
		if rapid.Bool().Draw(t, "revCollisionCount") {
			src.Status.CollisionCount = ptr(rapid.Int32Range(0, 2).Draw(t, "revCC"))
		}
		r, err := New(src, rapid.Int64Range(0, 5).Draw(t, "number"))
		if err != nil {
			t.Fatal(err)
		}
		switch rapid.IntRange(0, 9).Draw(t, "nameKind") {
		case 0:
			// Another template under this template's name: a collision.
			r.Name = "fluentd-" + hashOf(rapid.SampledFrom(propImages).Draw(t, "collideWith"))
		case 1:
			r.Name = fmt.Sprintf("fluentd-copy-%d", i)
		}
		if names[r.Name] {
			r.Name = fmt.Sprintf("%s-%d", r.Name, i)
		}
		names[r.Name] = true
		switch rapid.IntRange(0, 9).Draw(t, "owner") {
		case 0:
			r.OwnerReferences = nil
		case 1:
			r.OwnerReferences[0].UID = "other"
		}
		switch rapid.IntRange(0, 9).Draw(t, "labels") {
		case 0:
			delete(r.Labels, LabelKey)
		case 1:
			r.Labels["app"] = "other"
		}
		switch rapid.IntRange(0, 19).Draw(t, "data") {
		case 0:
			r.Data.Raw = nil
		case 1:
			r.Data.Raw = []byte(rapid.SampledFrom([]string{`{}`, `null`, `{"spec":{"template":1}}`, `{"spec":{"minReadySeconds":3}}`, `[`}).Draw(t, "raw"))
		}
		if rapid.IntRange(0, 19).Draw(t, "namespace") == 0 {
			r.Namespace = "other"
		}
		in.revisions = append(in.revisions, r)
	}
	hashes := []string{"", "stray"}
	for _, img := range propImages {
		hashes = append(hashes, hashOf(img))
	}
	for i := range rapid.IntRange(0, 5).Draw(t, "pods") {
		node := rapid.SampledFrom([]string{"", "n1", "n2"}).Draw(t, "node")
		in.pods = append(in.pods, newPod(fmt.Sprintf("pod-%d", i), node, rapid.SampledFrom(hashes).Draw(t, "podHash")))
	}
	return in
}

// shuffled returns in with revisions and pods in a drawn order.
func shuffled(t *rapid.T, in input) input {
	out := in
	out.revisions = rapid.Permutation(in.revisions).Draw(t, "revisionOrder")
	out.pods = rapid.Permutation(in.pods).Draw(t, "podOrder")
	return out
}

// checkReconcile is the property of Reconcile and Cleanup: inputs are not
// modified, order does not matter, and the outcome is consistent.
func checkReconcile(t *rapid.T) {
	in := genInput(t)
	before := in.deepCopy()
	h, err := Reconcile(in.ds, nil, in.revisions)
	if diff := cmp.Diff(before, in, cmp.AllowUnexported(input{})); diff != "" {
		t.Fatalf("Reconcile modified its input (-before +after):\n%s", diff)
	}
	other := shuffled(t, in)
	h2, err2 := Reconcile(other.ds, nil, other.revisions)
	if (err == nil) != (err2 == nil) {
		t.Fatalf("Reconcile error depends on order: %v vs %v", err, err2)
	}
	if err != nil {
		return
	}
	if diff := cmp.Diff(h, h2); diff != "" {
		t.Fatalf("Reconcile depends on input order (-first +shuffled):\n%s", diff)
	}
	relabels := h.Relabel(slices.Values(in.pods))
	if diff := cmp.Diff(relabels, h.Relabel(slices.Values(other.pods))); diff != "" {
		t.Fatalf("Relabel depends on pod order (-first +shuffled):\n%s", diff)
	}
	for _, p := range relabels {
		if len(h.Delete) == 0 || p.Labels[LabelKey] != h.Hash {
			t.Fatalf("relabel %+v with duplicates %v, hash %q", p, h.Delete, h.Hash)
		}
	}

	if h.Collision {
		if h.Current != nil || h.Hash != "" || h.CollisionCount == nil || h.Err() == nil {
			t.Fatalf("inconsistent collision: %+v", h)
		}
	} else {
		if h.Current == nil || h.Hash != h.Current.Labels[LabelKey] {
			t.Fatalf("Current %v does not carry Hash %q", h.Current, h.Hash)
		}
		ok, err := Match(in.ds, h.Current)
		if err != nil || !ok {
			t.Fatalf("Current does not match the DaemonSet: %v %v", ok, err)
		}
		if !h.Reused {
			for _, r := range h.Old {
				if r.Revision >= h.Current.Revision {
					t.Fatalf("old revision %s has number %d >= current %d", r.Name, r.Revision, h.Current.Revision)
				}
			}
		}
	}
	if len(h.Create) > 1 || !slices.IsSortedFunc(h.Old, byRevisionThenName) || !slices.IsSorted(h.Delete) ||
		!slices.IsSortedFunc(relabels, func(a, b PodPatch) int { return compareStrings(a.Pod, b.Pod) }) ||
		!slices.IsSortedFunc(h.Claims, func(a, b placement.Claim) int { return compareStrings(a.Name, b.Name) }) ||
		!slices.IsSortedFunc(h.Update, func(a, b *appsv1.ControllerRevision) int { return compareStrings(a.Name, b.Name) }) {
		t.Fatalf("History not sorted: %+v", h)
	}
	for _, r := range append(slices.Clone(h.Old), h.Update...) {
		if _, ok := r.Labels[LabelKey]; !ok {
			t.Fatalf("revision %s left without %s", r.Name, LabelKey)
		}
	}

	before = in.deepCopy()
	oldBefore := make([]*appsv1.ControllerRevision, len(h.Old))
	for i, r := range h.Old {
		oldBefore[i] = r.DeepCopy()
	}
	deleted := Cleanup(in.ds, h.Old, slices.Values(in.pods))
	if diff := cmp.Diff(before, in, cmp.AllowUnexported(input{})); diff != "" {
		t.Fatalf("Cleanup modified its input (-before +after):\n%s", diff)
	}
	if diff := cmp.Diff(oldBefore, h.Old, cmpEmpty); diff != "" {
		t.Fatalf("Cleanup modified old (-before +after):\n%s", diff)
	}
	if again := Cleanup(in.ds, rapid.Permutation(h.Old).Draw(t, "oldOrder"), slices.Values(other.pods)); !slices.Equal(deleted, again) {
		t.Fatalf("Cleanup depends on order: %v vs %v", deleted, again)
	}
	limit := DefaultHistoryLimit
	if in.ds.Spec.RevisionHistoryLimit != nil {
		limit = int(*in.ds.Spec.RevisionHistoryLimit)
	}
	if len(deleted) > max(0, len(h.Old)-limit) {
		t.Fatalf("Cleanup deletes %d of %d with limit %d", len(deleted), len(h.Old), limit)
	}
	live := map[string]bool{}
	for _, p := range in.pods {
		if _, f := target.NodeName(p); f == target.OK && p.Labels[LabelKey] != "" {
			live[p.Labels[LabelKey]] = true
		}
	}
	for _, name := range deleted {
		i := slices.IndexFunc(h.Old, func(r *appsv1.ControllerRevision) bool { return r.Name == name })
		if i < 0 || live[h.Old[i].Labels[LabelKey]] {
			t.Fatalf("Cleanup deletes %s, not old or live", name)
		}
	}
}

func compareStrings(a, b string) int {
	switch {
	case a < b:
		return -1
	case a > b:
		return 1
	}
	return 0
}

func TestReconcileProperties(t *testing.T) {
	rapid.Check(t, checkReconcile)
}

// checkKubectl is the property of the kubectl functions: no panics, inputs
// not modified, order does not matter, and undoing to a KCM-written revision
// gives a DaemonSet that matches it.
func checkKubectl(t *rapid.T) {
	in := genInput(t)
	before := in.deepCopy()
	other := shuffled(t, in)
	to := rapid.Int64Range(-1, 6).Draw(t, "to")

	entries, err := RolloutHistory(in.ds, in.revisions)
	entries2, err2 := RolloutHistory(other.ds, other.revisions)
	if diff := cmp.Diff(entries, entries2); diff != "" || (err == nil) != (err2 == nil) {
		t.Fatalf("RolloutHistory depends on order (-first +shuffled):\n%s", diff)
	}
	_ = FormatHistory(entries)

	tmpl, err := TemplateAt(in.ds, in.revisions, to)
	tmpl2, err2 := TemplateAt(other.ds, other.revisions, to)
	if diff := cmp.Diff(tmpl, tmpl2); diff != "" || (err == nil) != (err2 == nil) {
		t.Fatalf("TemplateAt depends on order (-first +shuffled):\n%s", diff)
	}

	res, err := Undo(in.ds, in.revisions, to)
	res2, err2 := Undo(other.ds, other.revisions, to)
	if diff := cmp.Diff(res, res2); diff != "" || (err == nil) != (err2 == nil) {
		t.Fatalf("Undo depends on order (-first +shuffled):\n%s", diff)
	}
	if err == nil {
		if ok, merr := Match(res.DaemonSet, res.Revision); isKCMData(res.Revision) && (merr != nil || !ok) {
			t.Fatalf("after Undo to %s the DaemonSet does not match it", res.Revision.Name)
		}
	}
	restarted, err := Restart(in.ds, time.Unix(rapid.Int64Range(0, 1<<32).Draw(t, "at"), 0).UTC())
	if err != nil || Hash(&restarted.Spec.Template, nil) == Hash(&in.ds.Spec.Template, nil) {
		t.Fatalf("Restart = %v, %v; want a new template", restarted, err)
	}
	if diff := cmp.Diff(before, in, cmp.AllowUnexported(input{})); diff != "" {
		t.Fatalf("kubectl functions modified their input (-before +after):\n%s", diff)
	}
}

// isKCMData reports whether r's data is what New writes for some template.
func isKCMData(r *appsv1.ControllerRevision) bool {
	for _, img := range propImages {
		if ok, _ := Match(newDS(img), r); ok {
			return true
		}
	}
	return false
}

func TestKubectlProperties(t *testing.T) {
	rapid.Check(t, checkKubectl)
}

// FuzzReconcile runs the Reconcile and Cleanup property on fuzzed draws:
// go test -fuzz FuzzReconcile ./revision
func FuzzReconcile(f *testing.F) {
	f.Fuzz(rapid.MakeFuzz(checkReconcile))
}

// FuzzKubectl runs the kubectl property (Undo, TemplateAt, history) on
// fuzzed draws.
func FuzzKubectl(f *testing.F) {
	f.Fuzz(rapid.MakeFuzz(checkKubectl))
}

// FuzzUndoData feeds arbitrary revision data to Undo and TemplateAt: they
// must return an error or a DaemonSet, never panic.
func FuzzUndoData(f *testing.F) {
	for _, seed := range []string{
		`{"spec":{"template":{"$patch":"replace","spec":{"containers":[{"name":"a"}]}}}}`,
		`{"spec":{"template":{"$patch":"delete"}}}`,
		`{"metadata":{"labels":null,"finalizers":["x"]},"spec":{"$retainKeys":[]}}`,
		`{"spec":{"selector":{"matchExpressions":[{"$patch":"delete"}]},"template":[1]}}`,
		`null`, `[]`, `{"a":{"b":{"$patch":"x"}}}`,
	} {
		f.Add([]byte(seed))
	}
	f.Fuzz(func(t *testing.T, data []byte) {
		ds := newDS("fluentd:v2")
		ds.Finalizers = []string{"keep"}
		ds.Spec.Selector.MatchExpressions = []metav1.LabelSelectorRequirement{{Key: "x", Operator: metav1.LabelSelectorOpDoesNotExist}}
		r := newRev(t, "fluentd:v1", 1)
		r.Data.Raw = data
		revs := []*appsv1.ControllerRevision{r, newRev(t, "fluentd:v2", 2)}
		res, err := Undo(ds, revs, 1)
		if err == nil && res.DaemonSet == nil {
			t.Fatal("Undo returned neither DaemonSet nor error")
		}
		_, _ = TemplateAt(ds, revs, 1)
	})
}
