package revision_test

import (
	"fmt"
	"slices"
	"time"

	appsv1 "k8s.io/api/apps/v1"
	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"

	"github.com/dsplan/dsplan/revision"
)

// daemonSet returns a DaemonSet "agent" running image, as the API server
// stores it (defaulted fields left out for brevity: the hash of a real
// DaemonSet includes them).
func daemonSet(image string) *appsv1.DaemonSet {
	return &appsv1.DaemonSet{
		ObjectMeta: metav1.ObjectMeta{Name: "agent", Namespace: "kube-system", UID: "6b1e"},
		Spec: appsv1.DaemonSetSpec{
			Selector: &metav1.LabelSelector{MatchLabels: map[string]string{"app": "agent"}},
			Template: corev1.PodTemplateSpec{
				ObjectMeta: metav1.ObjectMeta{Labels: map[string]string{"app": "agent"}},
				Spec:       corev1.PodSpec{Containers: []corev1.Container{{Name: "agent", Image: image}}},
			},
		},
	}
}

// pod returns a pod of the DaemonSet on node with revision hash hash.
func pod(name, node, hash string) *corev1.Pod {
	return &corev1.Pod{
		ObjectMeta: metav1.ObjectMeta{Name: name, Namespace: "kube-system",
			Labels: map[string]string{"app": "agent", revision.LabelKey: hash}},
		Spec: corev1.PodSpec{NodeName: node},
	}
}

// mustNew is revision.New for examples.
func mustNew(ds *appsv1.DaemonSet, number int64) *appsv1.ControllerRevision {
	r, err := revision.New(ds, number)
	if err != nil {
		panic(err)
	}
	return r
}

func ExampleHash() {
	ds := daemonSet("agent:1.0")
	fmt.Println(revision.Hash(&ds.Spec.Template, nil))
	one := int32(1)
	fmt.Println(revision.Hash(&ds.Spec.Template, &one))
	// Output:
	// 7685895558
	// 58555f94d7
}

func ExamplePatch() {
	patch, err := revision.Patch(daemonSet("agent:1.0"))
	if err != nil {
		panic(err)
	}
	fmt.Println(string(patch))
	// Output:
	// {"spec":{"template":{"$patch":"replace","metadata":{"labels":{"app":"agent"}},"spec":{"containers":[{"image":"agent:1.0","name":"agent","resources":{}}]}}}}
}

func ExampleMatch() {
	r := mustNew(daemonSet("agent:1.0"), 1)
	for _, image := range []string{"agent:1.0", "agent:2.0"} {
		ok, err := revision.Match(daemonSet(image), r)
		if err != nil {
			panic(err)
		}
		fmt.Println(image, ok)
	}
	// Output:
	// agent:1.0 true
	// agent:2.0 false
}

func ExampleNew() {
	r := mustNew(daemonSet("agent:1.0"), 3)
	fmt.Println(r.Name, r.Revision)
	fmt.Println(r.Labels)
	fmt.Println(r.OwnerReferences[0].Kind, r.OwnerReferences[0].Name, *r.OwnerReferences[0].Controller)
	// Output:
	// agent-7685895558 3
	// map[app:agent controller-revision-hash:7685895558]
	// DaemonSet agent true
}

func ExampleReconcile() {
	ds := daemonSet("agent:2.0")
	v1 := mustNew(daemonSet("agent:1.0"), 1)
	v2 := mustNew(ds, 3)
	copyOfV2 := mustNew(ds, 2) // the same template stored twice
	copyOfV2.Name = "agent-copy"
	copyOfV2.Labels[revision.LabelKey] = "copy"
	pods := []*corev1.Pod{
		pod("agent-a", "node-1", v1.Labels[revision.LabelKey]),
		pod("agent-b", "node-2", "copy"),
		pod("agent-c", "node-3", v2.Labels[revision.LabelKey]),
	}

	h, err := revision.Reconcile(ds, nil, []*appsv1.ControllerRevision{copyOfV2, v1, v2})
	if err != nil {
		panic(err)
	}
	fmt.Println("hash:", h.Hash, "current:", h.Current.Name, h.Current.Revision)
	for _, r := range h.Old {
		fmt.Println("old:", r.Name, r.Revision)
	}
	fmt.Println("delete:", h.Delete)
	// KCM relabels every pod that does not carry the kept hash, even pods
	// of older templates.
	for _, p := range h.Relabel(slices.Values(pods)) {
		fmt.Println("patch pod:", p.Pod, p.Patch)
	}
	// Output:
	// hash: 6957957c87 current: agent-6957957c87 3
	// old: agent-7685895558 1
	// delete: [agent-copy]
	// patch pod: agent-a {"metadata":{"labels":{"controller-revision-hash":"6957957c87"}}}
	// patch pod: agent-b {"metadata":{"labels":{"controller-revision-hash":"6957957c87"}}}
}

func ExampleCleanup() {
	limit := int32(1)
	ds := daemonSet("agent:3.0")
	ds.Spec.RevisionHistoryLimit = &limit
	old := []*appsv1.ControllerRevision{
		mustNew(daemonSet("agent:2.0"), 2),
		mustNew(daemonSet("agent:1.0"), 1),
		mustNew(daemonSet("agent:0.9"), 0),
	}
	// A pod still runs agent:1.0: its revision stays.
	pods := []*corev1.Pod{pod("agent-a", "node-1", revision.Hash(&daemonSet("agent:1.0").Spec.Template, nil))}
	fmt.Println(revision.Cleanup(ds, old, slices.Values(pods)))
	// Output:
	// [agent-56c7b97ffd agent-6957957c87]
}

func ExampleRolloutHistory() {
	r1 := mustNew(daemonSet("agent:1.0"), 1)
	ds := daemonSet("agent:2.0")
	ds.Annotations = map[string]string{revision.ChangeCauseAnnotation: "upgrade to 2.0"}
	r2 := mustNew(ds, 2) // inherits the DaemonSet's change cause
	entries, err := revision.RolloutHistory(ds, []*appsv1.ControllerRevision{r2, r1})
	if err != nil {
		panic(err)
	}
	for _, e := range entries {
		fmt.Printf("%d %s %q\n", e.Revision, e.Name, e.ChangeCause)
	}
	// Output:
	// 1 agent-7685895558 ""
	// 2 agent-6957957c87 "upgrade to 2.0"
}

func ExampleFormatHistory() {
	fmt.Print(revision.FormatHistory([]revision.Entry{
		{Revision: 1, Name: "agent-7685895558"},
		{Revision: 2, Name: "agent-6957957c87", ChangeCause: "upgrade to 2.0"},
	}))
	// Output:
	// REVISION  CHANGE-CAUSE
	// 1         <none>
	// 2         upgrade to 2.0
}

func ExampleTemplateAt() {
	revs := []*appsv1.ControllerRevision{mustNew(daemonSet("agent:1.0"), 1), mustNew(daemonSet("agent:2.0"), 2)}
	t, err := revision.TemplateAt(daemonSet("agent:2.0"), revs, 1)
	if err != nil {
		panic(err)
	}
	fmt.Println(t.Spec.Containers[0].Image)
	_, err = revision.TemplateAt(daemonSet("agent:2.0"), revs, 5)
	fmt.Println(err)
	// Output:
	// agent:1.0
	// unable to find the specified revision
}

func ExampleUndo() {
	revs := []*appsv1.ControllerRevision{mustNew(daemonSet("agent:1.0"), 1), mustNew(daemonSet("agent:2.0"), 2)}
	res, err := revision.Undo(daemonSet("agent:2.0"), revs, 0)
	if err != nil {
		panic(err)
	}
	fmt.Println(res.Message(), "to", res.Revision.Name, "image", res.DaemonSet.Spec.Template.Spec.Containers[0].Image)

	res, err = revision.Undo(daemonSet("agent:2.0"), revs, 2)
	if err != nil {
		panic(err)
	}
	fmt.Println(res.Message())

	_, err = revision.Undo(daemonSet("agent:2.0"), revs, 7)
	fmt.Println(err)
	// Output:
	// rolled back to agent-7685895558 image agent:1.0
	// skipped rollback (current template already matches revision 2)
	// unable to find specified revision 7 in history
}

func ExampleRestart() {
	ds := daemonSet("agent:1.0")
	restarted, err := revision.Restart(ds, time.Date(2026, 3, 1, 12, 0, 0, 0, time.UTC))
	if err != nil {
		panic(err)
	}
	fmt.Println(restarted.Spec.Template.Annotations)
	fmt.Println(revision.Hash(&ds.Spec.Template, nil), "->", revision.Hash(&restarted.Spec.Template, nil))
	// Output:
	// map[kubectl.kubernetes.io/restartedAt:2026-03-01T12:00:00Z]
	// 7685895558 -> 6c7d7d795d
}

// Example_historyThenUndo walks through what kube-controller-manager and
// kubectl do together: two rollouts, `kubectl rollout history`, `kubectl
// rollout undo`, and the renumbering KCM does when the old template comes
// back.
func Example_historyThenUndo() {
	var revisions []*appsv1.ControllerRevision
	// sync applies Reconcile's writes to the cluster state, as KCM would.
	sync := func(ds *appsv1.DaemonSet) {
		h, err := revision.Reconcile(ds, nil, revisions)
		if err != nil {
			panic(err)
		}
		for _, u := range h.Update {
			for i, r := range revisions {
				if r.Name == u.Name {
					revisions[i] = u
				}
			}
		}
		revisions = append(revisions, h.Create...)
		fmt.Println("sync: current", h.Current.Name, "revision", h.Current.Revision)
	}

	ds := daemonSet("agent:1.0")
	ds.Annotations = map[string]string{revision.ChangeCauseAnnotation: "install 1.0"}
	sync(ds)

	ds = daemonSet("agent:2.0")
	ds.Annotations = map[string]string{revision.ChangeCauseAnnotation: "upgrade to 2.0"}
	sync(ds)

	entries, err := revision.RolloutHistory(ds, revisions)
	if err != nil {
		panic(err)
	}
	fmt.Print(revision.FormatHistory(entries))

	// kubectl rollout undo daemonset/agent
	res, err := revision.Undo(ds, revisions, 0)
	if err != nil {
		panic(err)
	}
	fmt.Println("undo:", res.Message(), "to revision", res.Revision.Revision)
	ds = res.DaemonSet
	fmt.Println("image now", ds.Spec.Template.Spec.Containers[0].Image)

	// KCM finds revision 1 again and renumbers it.
	sync(ds)
	entries, err = revision.RolloutHistory(ds, revisions)
	if err != nil {
		panic(err)
	}
	fmt.Print(revision.FormatHistory(entries))

	// Undoing to the current revision changes nothing.
	res, err = revision.Undo(ds, revisions, 3)
	if err != nil {
		panic(err)
	}
	fmt.Println("undo:", res.Message())
	// Output:
	// sync: current agent-7685895558 revision 1
	// sync: current agent-6957957c87 revision 2
	// REVISION  CHANGE-CAUSE
	// 1         install 1.0
	// 2         upgrade to 2.0
	// undo: rolled back to revision 1
	// image now agent:1.0
	// sync: current agent-7685895558 revision 3
	// REVISION  CHANGE-CAUSE
	// 2         upgrade to 2.0
	// 3         install 1.0
	// undo: skipped rollback (current template already matches revision 3)
}

func ExampleHistory_Err() {
	ds := daemonSet("agent:2.0")
	// Another template already holds the name agent-<hash of agent:2.0>.
	squatter := mustNew(daemonSet("agent:1.0"), 1)
	squatter.Name = "agent-" + revision.Hash(&ds.Spec.Template, nil)

	h, err := revision.Reconcile(ds, nil, []*appsv1.ControllerRevision{squatter})
	if err != nil {
		panic(err)
	}
	fmt.Println(h.Collision, *h.CollisionCount)
	fmt.Println(h.Err())

	// With the bumped collision count the hash, and so the name, changes.
	ds.Status.CollisionCount = h.CollisionCount
	h, err = revision.Reconcile(ds, nil, []*appsv1.ControllerRevision{squatter})
	if err != nil {
		panic(err)
	}
	fmt.Println(h.Collision, h.Create[0].Name, h.Create[0].Revision)
	// Output:
	// true 1
	// controllerrevisions.apps "agent-6957957c87" already exists
	// false agent-84689bcd6 2
}
