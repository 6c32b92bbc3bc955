package revision

import (
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
	appsv1 "k8s.io/api/apps/v1"
	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/util/intstr"
)

// history returns the revisions of images, numbered 1, 2, ..., each with
// change cause "set <image>".
func history(t *testing.T, images ...string) []*appsv1.ControllerRevision {
	t.Helper()
	var out []*appsv1.ControllerRevision
	for i, img := range images {
		r := newRev(t, img, int64(i+1))
		r.Annotations = map[string]string{ChangeCauseAnnotation: "set " + img}
		out = append(out, r)
	}
	return out
}

func withData(r *appsv1.ControllerRevision, data string) *appsv1.ControllerRevision {
	r = r.DeepCopy()
	r.Data.Raw = []byte(data)
	return r
}

func TestRolloutHistory(t *testing.T) {
	revs := history(t, "fluentd:v1", "fluentd:v2")
	uncontrolled := orphaned(newRev(t, "fluentd:v3", 3))
	unselected := newRev(t, "fluentd:v4", 4)
	unselected.Labels["app"] = "other"
	elsewhere := newRev(t, "fluentd:v5", 5)
	elsewhere.Namespace = "kube-system"
	dupLow := withName(revs[1], "fluentd-000")
	dupLow.Annotations = map[string]string{ChangeCauseAnnotation: "shadowed"}
	noCause := newRev(t, "fluentd:v6", 6)
	tests := []struct {
		name      string
		revisions []*appsv1.ControllerRevision
		want      []Entry
	}{
		{name: "no revisions", want: []Entry{}},
		{name: "by number with change cause", revisions: []*appsv1.ControllerRevision{revs[1], revs[0]}, want: []Entry{
			{1, "fluentd-" + hashOf("fluentd:v1"), "set fluentd:v1"},
			{2, "fluentd-" + hashOf("fluentd:v2"), "set fluentd:v2"},
		}},
		{name: "uncontrolled, unselected and other namespaces are not history",
			revisions: []*appsv1.ControllerRevision{revs[0], uncontrolled, unselected, elsewhere},
			want:      []Entry{{1, "fluentd-" + hashOf("fluentd:v1"), "set fluentd:v1"}}},
		{name: "shared number shows the greatest name", revisions: []*appsv1.ControllerRevision{revs[1], dupLow},
			want: []Entry{{2, "fluentd-" + hashOf("fluentd:v2"), "set fluentd:v2"}}},
		{name: "no change cause", revisions: []*appsv1.ControllerRevision{noCause},
			want: []Entry{{6, "fluentd-" + hashOf("fluentd:v6"), ""}}},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			got, err := RolloutHistory(newDS("fluentd:v2"), tc.revisions)
			if err != nil {
				t.Fatal(err)
			}
			if diff := cmp.Diff(tc.want, got); diff != "" {
				t.Errorf("RolloutHistory (-want +got):\n%s", diff)
			}
		})
	}
}

func TestRolloutHistoryErrors(t *testing.T) {
	bad := newDS("fluentd:v1")
	bad.Spec.Selector.MatchExpressions = []metav1.LabelSelectorRequirement{{Key: "x", Operator: "Bogus"}}
	tests := []struct {
		name    string
		ds      *appsv1.DaemonSet
		wantErr string
	}{
		{name: "nil DaemonSet", wantErr: "revision: no DaemonSet"},
		{name: "selector does not parse", ds: bad, wantErr: `failed to create selector for DaemonSet fluentd: "Bogus" is not a valid label selector operator`},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			got, err := RolloutHistory(tc.ds, nil)
			if err == nil || err.Error() != tc.wantErr {
				t.Errorf("RolloutHistory = %v, %v; want error %q", got, err, tc.wantErr)
			}
		})
	}
}

func TestFormatHistory(t *testing.T) {
	tests := []struct {
		name    string
		entries []Entry
		want    string
	}{
		{name: "empty", want: "No rollout history found."},
		{name: "table", entries: []Entry{{1, "a", "kubectl apply"}, {12, "b", ""}},
			want: "REVISION  CHANGE-CAUSE\n1         kubectl apply\n12        <none>\n"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			if got := FormatHistory(tc.entries); got != tc.want {
				t.Errorf("FormatHistory = %q, want %q", got, tc.want)
			}
		})
	}
}

func TestTemplateAt(t *testing.T) {
	revs := history(t, "fluentd:v1", "fluentd:v2")
	revs = append(revs, withData(newRev(t, "fluentd:v3", 3), `{"spec":{"template":7}}`))
	ds := newDS("fluentd:v2")
	tests := []struct {
		name    string
		number  int64
		want    *corev1.PodTemplateSpec
		wantErr string
	}{
		{name: "old revision", number: 1, want: &newDS("fluentd:v1").Spec.Template},
		{name: "current revision", number: 2, want: &newDS("fluentd:v2").Spec.Template},
		{name: "unknown number", number: 9, wantErr: "unable to find the specified revision"},
		{name: "zero", number: 0, wantErr: "unable to find the specified revision"},
		{name: "negative", number: -1, wantErr: "revision must be a positive integer: -1"},
		{name: "data that does not apply", number: 3, wantErr: "unable to parse history fluentd-" + hashOf("fluentd:v3")},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			got, err := TemplateAt(ds, revs, tc.number)
			if tc.wantErr != "" {
				if err == nil || err.Error() != tc.wantErr {
					t.Errorf("TemplateAt(%d) = %v, %v; want error %q", tc.number, got, err, tc.wantErr)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			if diff := cmp.Diff(tc.want, got); diff != "" {
				t.Errorf("TemplateAt(%d) (-want +got):\n%s", tc.number, diff)
			}
		})
	}
}

func TestUndo(t *testing.T) {
	three := history(t, "fluentd:v1", "fluentd:v2", "fluentd:v3")
	withTemplate := func(ds *appsv1.DaemonSet, image string) *appsv1.DaemonSet {
		ds = ds.DeepCopy()
		ds.Spec.Template = newDS(image).Spec.Template
		return ds
	}
	annotated := newDS("fluentd:v3")
	annotated.Annotations = map[string]string{"keep": "me"}
	annotated.Finalizers = []string{"f"}
	tests := []struct {
		name        string
		ds          *appsv1.DaemonSet
		revisions   []*appsv1.ControllerRevision
		to          int64
		want        *appsv1.DaemonSet
		wantRev     string
		wantSkipped bool
		wantMessage string
	}{
		{name: "0 goes to the previous number", ds: newDS("fluentd:v3"), revisions: three, to: 0,
			want: newDS("fluentd:v2"), wantRev: "fluentd-" + hashOf("fluentd:v2"), wantMessage: "rolled back"},
		{name: "explicit number", ds: newDS("fluentd:v3"), revisions: three, to: 1,
			want: newDS("fluentd:v1"), wantRev: "fluentd-" + hashOf("fluentd:v1"), wantMessage: "rolled back"},
		{name: "only the template changes", ds: annotated, revisions: three, to: 1,
			want: withTemplate(annotated, "fluentd:v1"), wantRev: "fluentd-" + hashOf("fluentd:v1"), wantMessage: "rolled back"},
		{name: "already matching: skipped", ds: newDS("fluentd:v3"), revisions: three, to: 3,
			want: newDS("fluentd:v3"), wantRev: "fluentd-" + hashOf("fluentd:v3"), wantSkipped: true,
			wantMessage: "skipped rollback (current template already matches revision 3)"},
		{name: "0 when the template is the second highest: skipped as revision 0",
			ds: newDS("fluentd:v2"), revisions: three, to: 0, want: newDS("fluentd:v2"),
			wantRev: "fluentd-" + hashOf("fluentd:v2"), wantSkipped: true,
			wantMessage: "skipped rollback (current template already matches revision 0)"},
		{name: "generic merge patch data is applied", ds: newDS("fluentd:v3"), to: 1,
			revisions: []*appsv1.ControllerRevision{withData(three[0], `{"spec":{"minReadySeconds":5,"selector":{"matchExpressions":[{"key":"x","operator":"Exists"}]}}}`), three[2]},
			want: func() *appsv1.DaemonSet {
				ds := newDS("fluentd:v3")
				ds.Spec.MinReadySeconds = 5
				ds.Spec.Selector.MatchExpressions = []metav1.LabelSelectorRequirement{{Key: "x", Operator: metav1.LabelSelectorOpExists}}
				return ds
			}(),
			wantRev: "fluentd-" + hashOf("fluentd:v1"), wantMessage: "rolled back"},
		{name: "$patch delete empties the template", ds: newDS("fluentd:v3"), to: 1,
			revisions: []*appsv1.ControllerRevision{withData(three[0], `{"spec":{"template":{"$patch":"delete"}}}`), three[2]},
			want: func() *appsv1.DaemonSet {
				ds := newDS("fluentd:v3")
				ds.Spec.Template = corev1.PodTemplateSpec{}
				return ds
			}(),
			wantRev: "fluentd-" + hashOf("fluentd:v1"), wantMessage: "rolled back"},
		{name: "new keys lose nested nulls and directives, null deletes", ds: newDS("fluentd:v3"), to: 1,
			revisions: []*appsv1.ControllerRevision{withData(three[0],
				`{"metadata":{"labels":{"x":"y","gone":{"$patch":"replace"}},"annotations":null},"spec":{"updateStrategy":{"rollingUpdate":{"maxSurge":null,"maxUnavailable":2}}}}`), three[2]},
			want: func() *appsv1.DaemonSet {
				ds := newDS("fluentd:v3")
				ds.Labels = map[string]string{"x": "y"}
				two := intstr.FromInt32(2)
				ds.Spec.UpdateStrategy.RollingUpdate = &appsv1.RollingUpdateDaemonSet{MaxUnavailable: &two}
				return ds
			}(),
			wantRev: "fluentd-" + hashOf("fluentd:v1"), wantMessage: "rolled back"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			got, err := Undo(tc.ds, tc.revisions, tc.to)
			if err != nil {
				t.Fatalf("Undo: %v", err)
			}
			if diff := cmp.Diff(tc.want, got.DaemonSet); diff != "" {
				t.Errorf("Undo DaemonSet (-want +got):\n%s", diff)
			}
			if got.Revision == nil || got.Revision.Name != tc.wantRev {
				t.Errorf("Undo Revision = %v, want %s", got.Revision, tc.wantRev)
			}
			if got.Skipped != tc.wantSkipped || got.ToRevision != tc.to {
				t.Errorf("Undo Skipped, ToRevision = %v, %d; want %v, %d", got.Skipped, got.ToRevision, tc.wantSkipped, tc.to)
			}
			if msg := got.Message(); msg != tc.wantMessage {
				t.Errorf("Message() = %q, want %q", msg, tc.wantMessage)
			}
		})
	}
}

func TestUndoErrors(t *testing.T) {
	three := history(t, "fluentd:v1", "fluentd:v2", "fluentd:v3")
	ds := newDS("fluentd:v3")
	ds.Finalizers = []string{"a"}
	bad := func(data string) []*appsv1.ControllerRevision {
		return []*appsv1.ControllerRevision{withData(three[0], data), three[2]}
	}
	unselected := three[0].DeepCopy()
	unselected.Labels["app"] = "other"
	tests := []struct {
		name      string
		revisions []*appsv1.ControllerRevision
		to        int64
		wantErr   string
	}{
		{name: "negative number", revisions: three, to: -1, wantErr: "unable to find specified revision -1 in history"},
		{name: "unknown number", revisions: three, to: 7, wantErr: "unable to find specified revision 7 in history"},
		{name: "no history", to: 0, wantErr: "no last revision to roll back to"},
		{name: "one revision", revisions: three[2:], to: 0, wantErr: "no last revision to roll back to"},
		{name: "uncontrolled revisions do not count", revisions: []*appsv1.ControllerRevision{orphaned(three[0]), unselected, three[2]}, to: 0,
			wantErr: "no last revision to roll back to"},
		{name: "number of an unselected revision", revisions: []*appsv1.ControllerRevision{unselected, three[2]}, to: 1,
			wantErr: "unable to find specified revision 1 in history"},
		{name: "data not JSON", revisions: bad(`{`), to: 1, wantErr: "failed restoring revision 1: invalid JSON document"},
		{name: "data of the wrong type", revisions: bad(`{"spec":{"template":7}}`), to: 1,
			wantErr: "failed restoring revision 1: json: cannot unmarshal number into Go struct field DaemonSetSpec.spec.template of type v1.PodTemplateSpec"},
		{name: "unknown patch directive", revisions: bad(`{"spec":{"$patch":"merge"}}`), to: 1,
			wantErr: "failed restoring revision 1: unknown patch type: merge in map: map[$patch:merge]"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			got, err := Undo(ds, tc.revisions, tc.to)
			if err == nil || err.Error() != tc.wantErr {
				t.Errorf("Undo(%d) = %+v, %v; want error %q", tc.to, got, err, tc.wantErr)
			}
			if diff := cmp.Diff(UndoResult{}, got); diff != "" {
				t.Errorf("Undo on error (-want zero +got):\n%s", diff)
			}
		})
	}
}

// TestUndoStrategicMerge: revision data kube-controller-manager never
// writes, but a strategic merge patch may hold, is applied as kubectl's
// rollback applies it (apimachinery's strategicpatch with the DaemonSet
// schema): lists merge by their merge keys, directives are honoured.
func TestUndoStrategicMerge(t *testing.T) {
	three := history(t, "fluentd:v1", "fluentd:v2", "fluentd:v3")
	ds := newDS("fluentd:v3")
	ds.Finalizers = []string{"a"}
	ds.Spec.Template.Spec.Containers[0].Args = []string{"--verbose"}
	revs := func(data string) []*appsv1.ControllerRevision {
		return []*appsv1.ControllerRevision{withData(three[0], data), three[2]}
	}
	for _, tc := range []struct {
		name  string
		data  string
		check func(*appsv1.DaemonSet) string
	}{
		{name: "finalizers merge", data: `{"metadata":{"finalizers":["b"]}}`, check: func(got *appsv1.DaemonSet) string {
			return cmp.Diff([]string{"b", "a"}, got.Finalizers)
		}},
		{name: "containers merge by name", data: `{"spec":{"template":{"spec":{"containers":[{"name":"fluentd","image":"fluentd:v9"}]}}}}`,
			check: func(got *appsv1.DaemonSet) string {
				c := got.Spec.Template.Spec.Containers
				return cmp.Diff([]string{"fluentd:v9", "--verbose"}, []string{c[0].Image, c[0].Args[0]})
			}},
		{name: "retainKeys", data: `{"spec":{"$retainKeys":["template"]}}`, check: func(got *appsv1.DaemonSet) string {
			// Every spec field but template is cleared.
			return cmp.Diff([]any{(*metav1.LabelSelector)(nil), (*int32)(nil), "fluentd:v3"},
				[]any{got.Spec.Selector, got.Spec.RevisionHistoryLimit, got.Spec.Template.Spec.Containers[0].Image})
		}},
		{name: "setElementOrder", data: `{"metadata":{"$setElementOrder/finalizers":["b","a"],"finalizers":["b"]}}`, check: func(got *appsv1.DaemonSet) string {
			return cmp.Diff([]string{"b", "a"}, got.Finalizers)
		}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			before := ds.DeepCopy()
			got, err := Undo(ds, revs(tc.data), 1)
			if err != nil {
				t.Fatalf("Undo: %v", err)
			}
			if diff := tc.check(got.DaemonSet); diff != "" {
				t.Errorf("Undo (-want +got):\n%s", diff)
			}
			if diff := cmp.Diff(before, ds); diff != "" {
				t.Errorf("Undo modified ds (-before +after):\n%s", diff)
			}
		})
	}
}

func TestRestart(t *testing.T) {
	at := time.Date(2026, 1, 2, 3, 4, 5, 0, time.UTC)
	annotated := newDS("fluentd:v1")
	annotated.Spec.Template.Annotations = map[string]string{"a": "b", RestartedAtAnnotation: "2025-01-01T00:00:00Z"}
	tests := []struct {
		name string
		ds   *appsv1.DaemonSet
		at   time.Time
		want map[string]string
	}{
		{name: "no annotations", ds: newDS("fluentd:v1"), at: at, want: map[string]string{RestartedAtAnnotation: "2026-01-02T03:04:05Z"}},
		{name: "earlier restart", ds: annotated, at: at, want: map[string]string{"a": "b", RestartedAtAnnotation: "2026-01-02T03:04:05Z"}},
		{name: "zone kept", ds: newDS("fluentd:v1"), at: at.In(time.FixedZone("CET", 3600)), want: map[string]string{RestartedAtAnnotation: "2026-01-02T04:04:05+01:00"}},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			got, err := Restart(tc.ds, tc.at)
			if err != nil {
				t.Fatal(err)
			}
			if diff := cmp.Diff(tc.want, got.Spec.Template.Annotations); diff != "" {
				t.Errorf("Restart annotations (-want +got):\n%s", diff)
			}
			if Hash(&got.Spec.Template, nil) == Hash(&tc.ds.Spec.Template, nil) {
				t.Errorf("Restart did not change the template hash")
			}
		})
	}
}

func TestRestartErrors(t *testing.T) {
	at := time.Date(2026, 1, 2, 3, 4, 5, 0, time.UTC)
	same := newDS("fluentd:v1")
	same.Spec.Template.Annotations = map[string]string{RestartedAtAnnotation: "2026-01-02T03:04:05Z"}
	tests := []struct {
		name    string
		ds      *appsv1.DaemonSet
		wantErr string
	}{
		{name: "nil DaemonSet", wantErr: "revision: no DaemonSet"},
		{name: "same second", ds: same, wantErr: "failed to create patch for fluentd: if restart has already been triggered within the past second, please wait before attempting to trigger another"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			got, err := Restart(tc.ds, at)
			if err == nil || err.Error() != tc.wantErr || got != nil {
				t.Errorf("Restart = %v, %v; want nil, %q", got, err, tc.wantErr)
			}
		})
	}
}
