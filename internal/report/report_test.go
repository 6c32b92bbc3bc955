package report

import (
	"bytes"
	"encoding/xml"
	"errors"
	"strings"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
	appsv1 "k8s.io/api/apps/v1"
	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/runtime"
	"k8s.io/apimachinery/pkg/util/intstr"
	"k8s.io/apimachinery/pkg/util/validation/field"

	"github.com/dsplan/dsplan/internal/snapshot"
	"github.com/dsplan/dsplan/placement"
	"github.com/dsplan/dsplan/plan"
	"github.com/dsplan/dsplan/rollout"
)

var now = time.Date(2026, 12, 5, 21, 5, 0, 0, time.UTC)

func ds(ns, name string) *appsv1.DaemonSet {
	labels := map[string]string{"app": name}
	one := intstr.FromInt32(1)
	return &appsv1.DaemonSet{
		ObjectMeta: metav1.ObjectMeta{Namespace: ns, Name: name, UID: "uid-" + "name", Generation: 1},
		Spec: appsv1.DaemonSetSpec{
			Selector: &metav1.LabelSelector{MatchLabels: labels},
			Template: corev1.PodTemplateSpec{
				ObjectMeta: metav1.ObjectMeta{Labels: labels},
				Spec:       corev1.PodSpec{Containers: []corev1.Container{{Name: "c", Image: "i"}}},
			},
			UpdateStrategy: appsv1.DaemonSetUpdateStrategy{Type: appsv1.RollingUpdateDaemonSetStrategyType,
				RollingUpdate: &appsv1.RollingUpdateDaemonSet{MaxUnavailable: &one}},
		},
	}
}

func TestSelect(t *testing.T) {
	in := Input{DaemonSets: []*appsv1.DaemonSet{ds("a", "x"), ds("a", "y"), ds("b", "x")}}
	tests := []struct {
		name, ns, ds string
		want         []string
		others       int
		err          string
	}{
		{name: "all", want: []string{"a/x", "a/y", "b/x"}},
		{name: "namespace", ns: "a", want: []string{"a/x", "a/y"}, others: 1},
		{name: "name in every namespace", ds: "x", want: []string{"a/x", "b/x"}, others: 1},
		{name: "one", ns: "b", ds: "x", want: []string{"b/x"}, others: 2},
		{name: "absent", ns: "c", ds: "x", err: `no DaemonSet "c/x" in the input; it has a/x, a/y, b/x`},
		{name: "absent namespace", ns: "c", err: `no DaemonSet in namespace c in the input`},
		{name: "absent name", ds: "z", err: `no DaemonSet "z" in the input`},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			got, err := Select(in, tc.ns, tc.ds)
			if tc.err != "" {
				if err == nil || !strings.Contains(err.Error(), tc.err) {
					t.Errorf("Select() error = %v, want %q", err, tc.err)
				}
				return
			}
			var keys []string
			for _, d := range got.DaemonSets {
				keys = append(keys, Key(d))
			}
			if diff := cmp.Diff(tc.want, keys); diff != "" || len(got.Others) != tc.others {
				t.Errorf("Select() = %v with %d others, want %v with %d (-want +got):\n%s", keys, len(got.Others), tc.want, tc.others, diff)
			}
		})
	}
}

func TestExitCode(t *testing.T) {
	quiet := Section{DaemonSet: ds("a", "x")}
	writes := Section{DaemonSet: ds("a", "x"), Plan: plan.Plan{StatusChanged: true}}
	failed := Section{DaemonSet: ds("a", "x"), Plan: plan.Plan{Err: errors.New("boom")}}
	invalid := Section{DaemonSet: ds("a", "x"), Invalid: field.ErrorList{field.Required(field.NewPath("spec"), "")}}
	tests := []struct {
		name     string
		sections []Section
		want     int
	}{
		{name: "none", want: 0},
		{name: "nothing to do", sections: []Section{quiet, quiet}, want: 0},
		{name: "writes", sections: []Section{quiet, writes}, want: 2},
		{name: "sync error beats writes", sections: []Section{writes, failed}, want: 1},
		{name: "invalid", sections: []Section{invalid, quiet}, want: 1},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			if got := ExitCode(tc.sections); got != tc.want {
				t.Errorf("ExitCode() = %d, want %d", got, tc.want)
			}
		})
	}
}

// TestReason: every state's reason leads with its typed constant and names
// the label, taint, pod or budget behind it.
func TestReason(t *testing.T) {
	s := &Section{DaemonSet: ds("a", "x"), numbers: map[string]int64{"old": 1, "new": 2},
		Budget: rollout.Budget{Desired: 5, MaxUnavailable: 2}, Plan: plan.Plan{Hash: "new"}}
	taint := &corev1.Taint{Key: "dedicated", Value: "db", Effect: corev1.TaintEffectNoSchedule}
	eligible := placement.Explanation{Decision: placement.Decision{Reason: placement.Eligible}}
	tainted := placement.Explanation{Decision: placement.Decision{Reason: placement.UntoleratedTaint, Taint: taint},
		Field: "spec.template.spec.tolerations", Detail: "untolerated taint dedicated=db:NoSchedule"}
	selector := placement.Explanation{Decision: placement.Decision{Reason: placement.NodeSelectorMismatch},
		Field: "spec.template.spec.nodeSelector[disk]", Detail: "nodeSelector wants disk=ssd, node has no disk label"}
	oldPod := plan.PodReport{Name: "x-old", Revision: "old", Ready: true, Available: true, Phase: corev1.PodRunning}
	newPod := plan.PodReport{Name: "x-new", Revision: "new", Updated: true, Ready: true, Available: true, Phase: corev1.PodRunning}
	tests := []struct {
		name   string
		report plan.NodeReport
		action string
		reason string
	}{
		{name: "up to date", report: plan.NodeReport{State: plan.StateUpToDate, Placement: eligible, Pods: []plan.PodReport{newPod}},
			action: "-", reason: "pod x-new: current revision, available"},
		{name: "tainted without a pod", report: plan.NodeReport{State: plan.StateIneligible, Placement: tainted},
			action: "-", reason: "UntoleratedTaint: untolerated taint dedicated=db:NoSchedule"},
		{name: "selector", report: plan.NodeReport{State: plan.StateIneligible, Placement: selector},
			action: "-", reason: "NodeSelectorMismatch: nodeSelector wants disk=ssd, node has no disk label"},
		{name: "misscheduled", report: plan.NodeReport{State: plan.StateMisscheduled, Placement: tainted, Pods: []plan.PodReport{oldPod}},
			action: "-", reason: "UntoleratedTaint: untolerated taint dedicated=db:NoSchedule; pod x-old stays, counted in numberMisscheduled"},
		{name: "replace", report: plan.NodeReport{State: plan.StateToDelete, Placement: eligible, Pods: []plan.PodReport{oldPod},
			Deletes: []plan.Delete{{Pod: "x-old", Reason: rollout.DeleteReplace}}},
			action: "delete pod/x-old", reason: "Replace: pod of old revision 1 is replaced within the budget (maxUnavailable 2 of 5 desired nodes)"},
		{name: "evicted", report: plan.NodeReport{State: plan.StateToDelete, Pods: []plan.PodReport{oldPod},
			Placement: placement.Explanation{Decision: placement.Decision{Reason: placement.UntoleratedNoExecuteTaint}, Detail: "untolerated taint k=v:NoExecute"},
			Deletes:   []plan.Delete{{Pod: "x-old", Reason: rollout.DeleteEvicted}}},
			action: "delete pod/x-old", reason: "Evicted: UntoleratedNoExecuteTaint: untolerated taint k=v:NoExecute"},
		{name: "create", report: plan.NodeReport{State: plan.StateToCreate, Placement: eligible, Create: rollout.CreateMissing},
			action: "create pod", reason: "Missing: the node is eligible and runs no pod of a/x"},
		{name: "old waiting", report: plan.NodeReport{State: plan.StateOld, Placement: eligible, Pods: []plan.PodReport{oldPod},
			Wait: &rollout.Wait{Reason: rollout.WaitBudget, Detail: "maxUnavailable 2: 2 nodes in flight"}},
			action: "wait", reason: "pod x-old runs old revision 1; waits: BudgetSpent (maxUnavailable 2: 2 nodes in flight)"},
		{name: "missing, backoff", report: plan.NodeReport{State: plan.StateMissing, Placement: eligible},
			action: "-", reason: "no pod yet, none created in this sync (failed-pod backoff)"},
		{name: "unavailable", report: plan.NodeReport{State: plan.StateUnavailable, Placement: eligible,
			Pods: []plan.PodReport{{Name: "x-new", Revision: "new", Updated: true, Ready: true, Phase: corev1.PodRunning}}},
			action: "-", reason: "pod x-new is ready but not yet available (minReadySeconds 0)"},
		{name: "gone", report: plan.NodeReport{State: plan.StateGone, Pods: []plan.PodReport{oldPod}},
			action: "-", reason: "the node does not exist; pod x-old targets it (the pod garbage collector removes bound pods)"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			if got := Action(tc.report); got != tc.action {
				t.Errorf("Action() = %q, want %q", got, tc.action)
			}
			if got := s.Reason(tc.report); got != tc.reason {
				t.Errorf("Reason() = %q, want %q", got, tc.reason)
			}
		})
	}
}

// TestFromObjects: names are checked, revision data compacted, objects
// normalized.
func TestFromObjects(t *testing.T) {
	rev := &appsv1.ControllerRevision{ObjectMeta: metav1.ObjectMeta{Namespace: "a", Name: "x-1"}, Data: runtime.RawExtension{Raw: []byte("{\n  \"a\": 1\n}")}}
	d := ds("a", "x")
	d.Spec.Template.Spec.Containers[0].Args = []string{}
	in, err := FromObjects(snapshot.Objects{DaemonSet: d, Revisions: []*appsv1.ControllerRevision{rev}})
	if err != nil {
		t.Fatal(err)
	}
	if got := string(in.Revisions[0].Data.Raw); got != `{"a":1}` {
		t.Errorf("revision data = %q, want compact", got)
	}
	if in.DaemonSets[0].Spec.Template.Spec.Containers[0].Args != nil {
		t.Errorf("args not normalized to nil")
	}
	_, err = FromObjects(snapshot.Objects{DaemonSets: []*appsv1.DaemonSet{ds("a", "x"), ds("a", "x")}})
	if err == nil || !strings.Contains(err.Error(), `DaemonSet "a/x" is listed 2 times`) {
		t.Errorf("FromObjects() error = %v, want the repeated DaemonSet named", err)
	}
}

// TestPlanGroup: a DaemonSet of a rollout group is held on nodes where
// another of the group (planned or not) is unavailable.
func TestPlanGroup(t *testing.T) {
	a, b := ds("a", "cni"), ds("a", "csi")
	a.UID, b.UID = "uid-a", "uid-b"
	for _, d := range []*appsv1.DaemonSet{a, b} {
		d.Annotations = map[string]string{rollout.AnnotationGroup: "node-agents"}
	}
	node := &corev1.Node{ObjectMeta: metav1.ObjectMeta{Name: "n1"}}
	// cni runs an old, ready pod on n1; csi has no pod there.
	old := &corev1.Pod{
		ObjectMeta: metav1.ObjectMeta{Namespace: "a", Name: "cni-old", Labels: map[string]string{"app": "cni", appsv1.DefaultDaemonSetUniqueLabelKey: "old"},
			OwnerReferences: []metav1.OwnerReference{*metav1.NewControllerRef(a, appsv1.SchemeGroupVersion.WithKind("DaemonSet"))}},
		Spec: corev1.PodSpec{NodeName: "n1"},
		Status: corev1.PodStatus{Phase: corev1.PodRunning, Conditions: []corev1.PodCondition{
			{Type: corev1.PodReady, Status: corev1.ConditionTrue, LastTransitionTime: metav1.NewTime(now.Add(-time.Hour))}}},
	}
	in := Input{DaemonSets: []*appsv1.DaemonSet{a}, Others: []*appsv1.DaemonSet{b}, Nodes: []*corev1.Node{node}, Pods: []*corev1.Pod{old}}
	sections := Plan(in, now)
	if len(sections) != 1 {
		t.Fatalf("%d sections, want 1 (Others are not planned)", len(sections))
	}
	// csi is unavailable on n1, so cni's rollout is held there.
	r, ok := sections[0].Node("n1")
	if !ok || len(r.Deletes) != 0 || r.Wait == nil || r.Wait.Reason != rollout.WaitHeld {
		t.Errorf("n1 = %v, want the old pod held (%s)", r, rollout.WaitHeld)
	}
	// Without the group, the old pod is replaced.
	a.Annotations = nil
	if r, _ := Plan(in, now)[0].Node("n1"); len(r.Deletes) != 1 {
		t.Errorf("n1 without the group = %v, want the old pod replaced", r)
	}
}

// TestHTMLEscapes: text from the dump is escaped; the page stays
// well-formed XML.
func TestHTMLEscapes(t *testing.T) {
	d := ds("a", "x")
	d.Spec.Template.Spec.NodeSelector = map[string]string{"k": `<script>alert("x")</script>&`}
	node := &corev1.Node{ObjectMeta: metav1.ObjectMeta{Name: "n<1>", Labels: map[string]string{"k": "v'&\""}}}
	sections := Plan(Input{DaemonSets: []*appsv1.DaemonSet{d}, Nodes: []*corev1.Node{node}}, now)
	var b bytes.Buffer
	if err := HTML(&b, sections); err != nil {
		t.Fatal(err)
	}
	if strings.Contains(b.String(), "<script") {
		t.Errorf("page holds an unescaped script tag")
	}
	dec := xml.NewDecoder(&b)
	for {
		if _, err := dec.Token(); err != nil {
			if err.Error() != "EOF" {
				t.Errorf("page is not well-formed: %v", err)
			}
			break
		}
	}
}

func TestStatusChanges(t *testing.T) {
	one := int32(1)
	got := statusChanges(appsv1.DaemonSetStatus{NumberReady: 2, ObservedGeneration: 1},
		appsv1.DaemonSetStatus{NumberReady: 3, ObservedGeneration: 2, CollisionCount: &one})
	if want := "observedGeneration 1 → 2, numberReady 2 → 3, collisionCount 0 → 1"; got != want {
		t.Errorf("statusChanges() = %q, want %q", got, want)
	}
}
