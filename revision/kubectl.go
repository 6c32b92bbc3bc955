package revision

import (
	"bytes"
	"cmp"
	"encoding/json"
	"errors"
	"fmt"
	"slices"
	"text/tabwriter"
	"time"

	appsv1 "k8s.io/api/apps/v1"
	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/labels"
	"k8s.io/apimachinery/pkg/util/strategicpatch"
)

// ChangeCauseAnnotation is the annotation kubectl shows as CHANGE-CAUSE in
// `kubectl rollout history`. Revisions inherit it from the DaemonSet's
// annotations when kube-controller-manager creates them (see [New]).
const ChangeCauseAnnotation = "kubernetes.io/change-cause"

// RestartedAtAnnotation is the pod template annotation `kubectl rollout
// restart` sets (see [Restart]).
const RestartedAtAnnotation = "kubectl.kubernetes.io/restartedAt"

// Entry is one line of `kubectl rollout history daemonset/NAME`.
type Entry struct {
	// Revision is the ControllerRevision's revision number.
	Revision int64
	// Name is the ControllerRevision shown for that number.
	Name string
	// ChangeCause is the revision's [ChangeCauseAnnotation]; "" when it has
	// none (kubectl prints "<none>").
	ChangeCause string
}

// controlled returns the revisions kubectl v0.37.2 lists as ds's history
// (daemonSetHistory): those in ds's namespace that match ds's selector and
// whose controller reference has ds's UID, in the API server's list order
// (by name). kube-controller-manager's claiming does not matter here: kubectl
// only reads.
func controlled(ds *appsv1.DaemonSet, revisions []*appsv1.ControllerRevision) ([]*appsv1.ControllerRevision, error) {
	if ds == nil {
		return nil, errNilDaemonSet
	}
	selector, err := metav1.LabelSelectorAsSelector(ds.Spec.Selector)
	if err != nil {
		return nil, fmt.Errorf("failed to create selector for DaemonSet %s: %v", ds.Name, err)
	}
	var out []*appsv1.ControllerRevision
	for _, r := range revisions {
		if r == nil || r.Namespace != ds.Namespace || !selector.Matches(labels.Set(r.Labels)) || !metav1.IsControlledBy(r, ds) {
			continue
		}
		out = append(out, r)
	}
	slices.SortStableFunc(out, func(a, b *appsv1.ControllerRevision) int { return cmp.Compare(a.Name, b.Name) })
	return out, nil
}

// byNumber mirrors kubectl's printHistory map: revision number to the last
// revision in list order with that number (so the greatest name wins ties).
func byNumber(history []*appsv1.ControllerRevision) map[int64]*appsv1.ControllerRevision {
	m := make(map[int64]*appsv1.ControllerRevision, len(history))
	for _, r := range history {
		m[r.Revision] = r
	}
	return m
}

// RolloutHistory returns what `kubectl rollout history daemonset/NAME`
// (kubectl v0.37.2) lists for ds, one [Entry] per revision number, by
// number:
//
//  1. the history is the revisions in ds's namespace that match ds's
//     selector and are controlled by ds (controller reference with ds's UID);
//  2. revisions sharing a number show once, as the one with the greatest
//     name (kubectl keeps the last in list order; the API lists by name);
//  3. the change cause is that revision's [ChangeCauseAnnotation].
//
// No history gives an empty list ([FormatHistory] prints kubectl's "No
// rollout history found."). The error is kubectl's for a selector that does
// not parse. Inputs are not modified.
func RolloutHistory(ds *appsv1.DaemonSet, revisions []*appsv1.ControllerRevision) ([]Entry, error) {
	history, err := controlled(ds, revisions)
	if err != nil {
		return nil, err
	}
	entries := []Entry{}
	for n, r := range byNumber(history) {
		entries = append(entries, Entry{Revision: n, Name: r.Name, ChangeCause: r.Annotations[ChangeCauseAnnotation]})
	}
	slices.SortFunc(entries, func(a, b Entry) int { return cmp.Compare(a.Revision, b.Revision) })
	return entries, nil
}

// FormatHistory renders entries as `kubectl rollout history` prints them: a
// REVISION / CHANGE-CAUSE table aligned with two spaces of padding, "<none>"
// for an empty cause, or "No rollout history found." without entries.
func FormatHistory(entries []Entry) string {
	if len(entries) == 0 {
		return "No rollout history found."
	}
	var buf bytes.Buffer
	w := tabwriter.NewWriter(&buf, 0, 8, 2, ' ', 0)
	fmt.Fprintf(w, "REVISION\tCHANGE-CAUSE\n")
	for _, e := range entries {
		cause := e.ChangeCause
		if cause == "" {
			cause = "<none>"
		}
		fmt.Fprintf(w, "%d\t%s\n", e.Revision, cause)
	}
	w.Flush()
	return buf.String()
}

// TemplateAt returns the pod template of revision number of ds's history, as
// `kubectl rollout history daemonset/NAME --revision=number` shows it: the
// revision (chosen as in [RolloutHistory]) applied to ds (see [Undo] for how),
// and that DaemonSet's template.
//
// Errors, worded as kubectl's: "revision must be a positive integer: N" for
// a negative number; "unable to find the specified revision" when no
// revision has that number (0 included: kubectl then prints the overview);
// "unable to parse history NAME" when the revision's data cannot be applied.
func TemplateAt(ds *appsv1.DaemonSet, revisions []*appsv1.ControllerRevision, number int64) (*corev1.PodTemplateSpec, error) {
	if number < 0 {
		return nil, fmt.Errorf("revision must be a positive integer: %v", number)
	}
	history, err := controlled(ds, revisions)
	if err != nil {
		return nil, err
	}
	r, ok := byNumber(history)[number]
	if !ok || number == 0 {
		return nil, errors.New("unable to find the specified revision")
	}
	applied, err := apply(ds, r)
	if err != nil {
		return nil, fmt.Errorf("unable to parse history %s", r.Name)
	}
	return &applied.Spec.Template, nil
}

// UndoResult is the outcome of [Undo].
type UndoResult struct {
	// DaemonSet is ds after the rollback: its spec.template replaced by the
	// revision's (a copy of ds when Skipped). It is what the patch kubectl
	// sends makes of ds, before the API server's defaulting and generation
	// bump.
	DaemonSet *appsv1.DaemonSet
	// Revision is the revision rolled back to.
	Revision *appsv1.ControllerRevision
	// ToRevision is the number asked for (0: the previous revision).
	ToRevision int64
	// Skipped is set when ds's template already matches the revision
	// ([Match]): kubectl sends nothing.
	Skipped bool
}

// Message returns what kubectl prints after the resource name: "rolled back",
// or "skipped rollback (current template already matches revision N)" with N
// the number asked for (0 stays 0, as in kubectl).
func (r UndoResult) Message() string {
	if r.Skipped {
		return fmt.Sprintf("skipped rollback (current template already matches revision %d)", r.ToRevision)
	}
	return "rolled back"
}

// Undo mirrors `kubectl rollout undo daemonset/NAME --to-revision=toRevision`
// (kubectl v0.37.2 DaemonSetRollbacker):
//
//  1. toRevision < 0: error "unable to find specified revision N in history";
//  2. the history is as in [RolloutHistory] (controlled by ds, selected);
//  3. toRevision 0 with at most one revision in the history: error
//     "no last revision to roll back to";
//  4. toRevision 0 picks the revision with the second highest number (ties
//     ordered by name, as kubectl's sort does on a name-ordered list of up
//     to 12 revisions), whatever the current one is; another toRevision
//     picks the first revision by name with that number; none: error
//     "unable to find specified revision N in history";
//  5. if ds's template already matches that revision ([Match], byte
//     equality of the stored data), nothing changes: Skipped;
//  6. otherwise the revision's data is applied to ds as the strategic merge
//     patch it is, with apimachinery's strategicpatch and the DaemonSet
//     schema, as the API server applies kubectl's patch
//     ({"spec":{"template":{..., "$patch":"replace"}}} replaces the template
//     as a whole; maps merge key by key, lists by their merge keys, null
//     deletes, every directive is honoured). Data a strategic merge patch
//     cannot apply gives the error "failed restoring revision N: <reason>".
//
// On error the result is the zero UndoResult. Inputs are not modified.
func Undo(ds *appsv1.DaemonSet, revisions []*appsv1.ControllerRevision, toRevision int64) (UndoResult, error) {
	if toRevision < 0 {
		return UndoResult{}, revisionNotFound(toRevision)
	}
	history, err := controlled(ds, revisions)
	if err != nil {
		return UndoResult{}, err
	}
	if toRevision == 0 && len(history) <= 1 {
		return UndoResult{}, errors.New("no last revision to roll back to")
	}
	var to *appsv1.ControllerRevision
	if toRevision == 0 {
		sorted := slices.Clone(history)
		slices.SortStableFunc(sorted, func(a, b *appsv1.ControllerRevision) int { return cmp.Compare(a.Revision, b.Revision) })
		to = sorted[len(sorted)-2]
	} else if i := slices.IndexFunc(history, func(r *appsv1.ControllerRevision) bool { return r.Revision == toRevision }); i >= 0 {
		to = history[i]
	}
	if to == nil {
		return UndoResult{}, revisionNotFound(toRevision)
	}
	done, err := Match(ds, to)
	if err != nil {
		return UndoResult{}, err
	}
	if done {
		return UndoResult{DaemonSet: ds.DeepCopy(), Revision: to.DeepCopy(), ToRevision: toRevision, Skipped: true}, nil
	}
	applied, err := apply(ds, to)
	if err != nil {
		return UndoResult{}, fmt.Errorf("failed restoring revision %d: %v", toRevision, err)
	}
	return UndoResult{DaemonSet: applied, Revision: to.DeepCopy(), ToRevision: toRevision}, nil
}

func revisionNotFound(n int64) error {
	return fmt.Errorf("unable to find specified revision %v in history", n)
}

// Restart mirrors `kubectl rollout restart daemonset/NAME` at time at: a copy
// of ds whose pod template has [RestartedAtAnnotation] set to
// at.Format(time.RFC3339) (kubectl uses its local clock and zone; pass the
// time you want shown). A changed template means a new revision and a
// rollout.
//
// When the annotation already has that value, the patch would be empty and
// kubectl fails with "failed to create patch for NAME: if restart has already
// been triggered within the past second, please wait before attempting to
// trigger another"; Restart returns that error and a nil DaemonSet.
func Restart(ds *appsv1.DaemonSet, at time.Time) (*appsv1.DaemonSet, error) {
	if ds == nil {
		return nil, errNilDaemonSet
	}
	value := at.Format(time.RFC3339)
	if v, ok := ds.Spec.Template.Annotations[RestartedAtAnnotation]; ok && v == value {
		return nil, fmt.Errorf("failed to create patch for %v: if restart has already been triggered within the past second, please wait before attempting to trigger another", ds.Name)
	}
	out := ds.DeepCopy()
	if out.Spec.Template.Annotations == nil {
		out.Spec.Template.Annotations = make(map[string]string)
	}
	out.Spec.Template.Annotations[RestartedAtAnnotation] = value
	return out, nil
}

// apply mirrors kubectl's applyDaemonSetHistory: ds encoded to JSON, the
// revision's data applied with apimachinery's strategic merge patch (the
// same function and schema, appsv1.DaemonSet, kubectl uses), the result
// decoded into a new DaemonSet (unknown fields dropped).
func apply(ds *appsv1.DaemonSet, r *appsv1.ControllerRevision) (*appsv1.DaemonSet, error) {
	dsJSON, err := json.Marshal(ds)
	if err != nil {
		return nil, err
	}
	raw := r.Data.Raw
	if raw == nil {
		raw = []byte("{}")
	}
	patched, err := strategicpatch.StrategicMergePatch(dsJSON, raw, &appsv1.DaemonSet{})
	if err != nil {
		return nil, err
	}
	out := &appsv1.DaemonSet{}
	if err := json.Unmarshal(patched, out); err != nil {
		return nil, err
	}
	return out, nil
}
