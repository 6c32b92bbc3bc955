package revision

import (
	"bytes"
	"cmp"
	"encoding/json"
	"errors"
	"fmt"
	"iter"
	"slices"

	appsv1 "k8s.io/api/apps/v1"
	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/labels"

	"github.com/dsplan/dsplan/internal/target"
	"github.com/dsplan/dsplan/placement"
)

// DefaultHistoryLimit is the revisionHistoryLimit the API server gives a
// DaemonSet that sets none. [Cleanup] uses it when the field is nil.
const DefaultHistoryLimit = 10

// ErrNoLabels is wrapped by the error [Reconcile] returns when a revision the
// DaemonSet controls has no labels at all. kube-controller-manager v1.37.2
// panics on it: it adds the missing [LabelKey] to the revision's label map,
// which is nil once the object has gone through protobuf (an empty map
// becomes nil). Such a revision can only be controlled when the selector
// matches an empty label set (for example a lone DoesNotExist expression).
var ErrNoLabels = errors.New("controlled ControllerRevision has no labels (kube-controller-manager v1.37.2 panics on it)")

// PodPatch is one pod relabelling of the de-duplication of equal current
// revisions: kube-controller-manager sends Patch, a JSON merge patch that sets
// Labels (the [LabelKey] of the revision kept), to pod Pod in the DaemonSet's
// namespace.
type PodPatch struct {
	Pod    string
	Labels map[string]string
	Patch  string
}

// History is what [Reconcile] decided: the current revision and the API
// writes kube-controller-manager would send to reach it. The zero value means
// "no revisions and nothing to do"; Reconcile never returns it without error.
//
// A revision can be in both Update and Delete: KCM first adds the missing
// [LabelKey] to every controlled revision, then deletes duplicates.
type History struct {
	// Hash is the [LabelKey] value of the current revision: the value new
	// pods get and the one pods are compared with. It is usually
	// <Hash of the template> but is the revision's name when KCM added the
	// missing label itself, and "" when KCM reused an existing revision
	// without that label. "" on collision.
	Hash string
	// Current is the current revision as it is after the writes below
	// (label added, renumbered, or the revision to create). nil on collision.
	Current *appsv1.ControllerRevision
	// Old holds the controlled revisions that do not match the template,
	// after the label fix, oldest first (by Revision, then name). It is the
	// input of [Cleanup].
	Old []*appsv1.ControllerRevision
	// Create holds the revision to create (at most one).
	Create []*appsv1.ControllerRevision
	// Update holds the revision updates in the order KCM sends them, each
	// with the content written; a revision whose missing label is added and
	// which is then renumbered appears twice (label fix, then renumbering).
	// Sorted by name, then revision number.
	Update []*appsv1.ControllerRevision
	// Delete names the duplicate current revisions to delete, sorted.
	Delete []string
	// Claims are the adopt and release patches of revisions, sorted by
	// name.
	Claims []placement.Claim
	// Collision is set when the name <ds>-<hash> is held by a revision with
	// other data. KCM then writes CollisionCount to status.collisionCount and
	// the sync fails with [History.Err]; nothing after the revisions runs.
	Collision bool
	// CollisionCount is the status.collisionCount KCM writes on collision
	// (the DaemonSet's count plus one; nil counts as 0). nil otherwise.
	CollisionCount *int32
	// CollisionName is the name held by the colliding revision, "" otherwise.
	CollisionName string
	// Reused is set when Current is a revision KCM tried to create and found
	// existing with the same data (its create fails with AlreadyExists and it
	// uses that revision, which it may not control).
	Reused bool
}

// Err returns the error kube-controller-manager's constructHistory returns
// for this outcome: the API server's AlreadyExists error for CollisionName on
// collision, nil otherwise. syncDaemonSet wraps it as
// "failed to construct revisions of DaemonSet: <Err>".
func (h History) Err() error {
	if !h.Collision {
		return nil
	}
	return fmt.Errorf("controllerrevisions.apps %q already exists", h.CollisionName)
}

// Reconcile mirrors kube-controller-manager v1.37.2's constructHistory for ds
// (pkg/controller/daemon/update.go, with controlledHistories,
// dedupCurHistories and snapshot). selector is ds's spec.selector parsed
// (see placement.Evaluator.Selector); nil parses it here. revisions are
// the ControllerRevisions of the cluster (others than ds's namespace are
// ignored, as by KCM's namespaced lister). The pod relabels of step 5
// depend on ds's claimed pods, which the history does not: see
// [History.Relabel].
//
// Steps:
//  1. Claim: revisions controlled by ds that match its selector are kept;
//     controlled ones that do not match are released; matching orphans that
//     are not being deleted are adopted (unless ds is being deleted); others
//     are ignored. See [Claim].
//  2. Label fix: a kept revision without [LabelKey] gets it, with the
//     revision's name as value (an Update). A kept revision without any label
//     is an error wrapping [ErrNoLabels].
//  3. The kept revisions whose data [Match]es ds are current, the others old.
//     next = 1 + the highest Revision among old ones (1 with none).
//  4. No current revision: the name <ds.Name>-<hash> (hash with
//     ds.Status.CollisionCount) is looked up among all revisions of the
//     namespace. Free: [New](ds, next) is created. Held by a revision whose
//     data matches ds: that revision is current as it is (KCM's create fails
//     with AlreadyExists and it reuses the revision, even one it does not
//     control). Held by other data: collision (see [History]).
//  5. Current revisions: the one with the highest Revision is kept (ties: the
//     greatest name, which is what KCM keeps when its lister lists by name;
//     its real lister order is random). With more than one, the claimed
//     pods are relabelled to the kept one ([History.Relabel]) and the other
//     current revisions are deleted. The kept revision is renumbered to
//     next if its number is lower.
//
// The result does not depend on the order of revisions, and shares
// no memory with the inputs, which are not modified (its fields may share
// objects with each other: an updated revision is also Current or in Old).
// Each Update holds what KCM sends: the revision as listed plus the change,
// so a revision adopted in the same call is updated without the new owner
// reference (a real API server rejects that update as a conflict; the next
// sync succeeds). The error reports
// input KCM cannot process: a nil ds, a selector that does not parse, two
// revisions with the same name, [ErrNoLabels]. A DaemonSet being deleted or
// with an empty selector never reaches constructHistory in KCM; Reconcile
// does not check for it.
func Reconcile(ds *appsv1.DaemonSet, selector labels.Selector, revisions []*appsv1.ControllerRevision) (History, error) {
	if ds == nil {
		return History{}, errNilDaemonSet
	}
	if selector == nil {
		var err error
		if selector, err = metav1.LabelSelectorAsSelector(ds.Spec.Selector); err != nil {
			return History{}, err
		}
	}
	patch, err := Patch(ds)
	if err != nil {
		return History{}, err
	}

	// KCM lists the namespace's revisions; names are unique there.
	var inNamespace []*appsv1.ControllerRevision
	byName := make(map[string]*appsv1.ControllerRevision)
	for _, r := range revisions {
		if r == nil || r.Namespace != ds.Namespace {
			continue
		}
		if _, dup := byName[r.Name]; dup {
			return History{}, fmt.Errorf("revision: two ControllerRevisions named %s/%s", r.Namespace, r.Name)
		}
		byName[r.Name] = r
		inNamespace = append(inNamespace, r)
	}

	var h History
	claimed, claims := placement.ClaimObjects(ds, placement.ClaimRevision, inNamespace, func(r *appsv1.ControllerRevision) bool {
		return selector.Matches(labels.Set(r.Labels))
	})
	h.Claims = claims
	released := make(map[string]bool)
	for _, c := range claims {
		if c.Type == placement.Release {
			released[c.Name] = true
		}
	}

	updates := make(map[string]*appsv1.ControllerRevision)
	var relabelled []*appsv1.ControllerRevision // label fixes followed by a renumbering
	var current []*appsv1.ControllerRevision
	for _, r := range claimed {
		if _, ok := r.Labels[LabelKey]; !ok {
			if len(r.Labels) == 0 {
				return History{}, fmt.Errorf("revision %s/%s: %w", r.Namespace, r.Name, ErrNoLabels)
			}
			r = r.DeepCopy()
			r.Labels[LabelKey] = r.Name
			updates[r.Name] = r
		}
		if bytes.Equal(patch, r.Data.Raw) {
			current = append(current, r)
		} else {
			h.Old = append(h.Old, r)
		}
	}
	next := int64(1)
	for _, r := range h.Old {
		next = max(next, r.Revision+1)
	}

	if len(current) == 0 {
		hash := Hash(&ds.Spec.Template, ds.Status.CollisionCount)
		name := ds.Name + "-" + hash
		switch held, ok := byName[name]; {
		case !ok:
			cr := newRevision(ds, hash, patch, next)
			h.Create = []*appsv1.ControllerRevision{cr}
			h.Current = cr
		case bytes.Equal(patch, held.Data.Raw):
			// A matching revision is never claimed here (it would be
			// current), so only a release may have changed it.
			cur := held.DeepCopy()
			if released[cur.Name] {
				cur.OwnerReferences = slices.DeleteFunc(cur.OwnerReferences, func(o metav1.OwnerReference) bool { return o.UID == ds.UID })
			}
			h.Current = cur
			h.Reused = true
		default:
			h.Collision = true
			h.CollisionName = name
			count := int32(1)
			if ds.Status.CollisionCount != nil {
				count = *ds.Status.CollisionCount + 1
			}
			h.CollisionCount = &count
		}
	} else {
		keep := current[0]
		for _, r := range current[1:] {
			if r.Revision > keep.Revision || r.Revision == keep.Revision && r.Name > keep.Name {
				keep = r
			}
		}
		if len(current) > 1 {
			for _, r := range current {
				if r != keep {
					h.Delete = append(h.Delete, r.Name)
				}
			}
		}
		if keep.Revision < next {
			// KCM renumbers with a second update, after the label fix if
			// there was one: both writes are reported.
			if fixed, ok := updates[keep.Name]; ok {
				relabelled = append(relabelled, fixed)
			}
			keep = keep.DeepCopy()
			keep.Revision = next
			updates[keep.Name] = keep
		}
		h.Current = keep
	}
	if h.Current != nil {
		h.Hash = h.Current.Labels[LabelKey]
		if _, shared := updates[h.Current.Name]; !shared && h.Create == nil {
			h.Current = h.Current.DeepCopy()
		}
	}

	for i, r := range h.Old {
		if _, copied := updates[r.Name]; !copied {
			h.Old[i] = r.DeepCopy()
		}
	}
	slices.SortFunc(h.Old, byRevisionThenName)
	for _, r := range updates {
		h.Update = append(h.Update, r)
	}
	h.Update = append(h.Update, relabelled...)
	// By name; a revision updated twice lists its writes in order
	// (lower revision number first).
	slices.SortFunc(h.Update, func(a, b *appsv1.ControllerRevision) int {
		if c := cmp.Compare(a.Name, b.Name); c != 0 {
			return c
		}
		return cmp.Compare(a.Revision, b.Revision)
	})
	slices.Sort(h.Delete)
	return h, nil
}

// Relabel returns the pod relabels of dedupCurHistories: when several
// current revisions were found (Delete names the duplicates), every pod
// whose [LabelKey] differs from Hash is relabelled to Hash, pods of older
// templates included (they then look up to date: kube-controller-manager
// does this); otherwise none. pods are the DaemonSet's claimed pods (what
// kube-controller-manager's getDaemonPods returns, for example
// placement.Grouping.ClaimedPods); nil pods are skipped. The result is
// sorted by pod name.
func (h History) Relabel(pods iter.Seq[*corev1.Pod]) []PodPatch {
	if len(h.Delete) == 0 || pods == nil {
		return nil
	}
	var out []PodPatch
	for pod := range pods {
		if pod == nil || pod.Labels[LabelKey] == h.Hash {
			continue
		}
		out = append(out, newPodPatch(pod.Name, h.Hash))
	}
	slices.SortStableFunc(out, func(a, b PodPatch) int { return cmp.Compare(a.Pod, b.Pod) })
	return out
}

// newPodPatch builds the relabel patch of dedupCurHistories: a JSON merge
// patch of the pod's [LabelKey], encoded as KCM encodes it.
func newPodPatch(pod, hash string) PodPatch {
	body, _ := json.Marshal(map[string]any{"metadata": map[string]any{"labels": map[string]any{LabelKey: hash}}})
	return PodPatch{Pod: pod, Labels: map[string]string{LabelKey: hash}, Patch: string(body)}
}

// byRevisionThenName orders revisions oldest first, ties by name.
func byRevisionThenName(a, b *appsv1.ControllerRevision) int {
	if c := cmp.Compare(a.Revision, b.Revision); c != 0 {
		return c
	}
	return cmp.Compare(a.Name, b.Name)
}

// Cleanup mirrors kube-controller-manager v1.37.2's cleanupHistory: it
// returns the names of the old revisions to delete, in deletion order.
// old is [History.Old]; pods are ds's claimed pods with a target node,
// including deleted terminal ones (KCM's getNodesToDaemonPods with
// includeDeletedTerminal; placement.Grouping.TargetingPods), read only when
// there are more old revisions than the limit.
//
// Rules:
//  1. limit is *ds.Spec.RevisionHistoryLimit, or [DefaultHistoryLimit] when
//     nil (KCM would dereference nil; the API server always sets it). Nothing
//     is deleted when len(old) <= limit; otherwise up to len(old)-limit
//     revisions are (a negative limit deletes all it may).
//  2. A revision whose [LabelKey] value is carried by a live pod is kept.
//     Live pods are those whose target node is known: spec.nodeName, or a
//     required node affinity term with matchFields metadata.name In [one
//     value] (KCM's GetTargetNodeName; other pods are not counted).
//  3. Revisions are considered oldest first: by Revision, then by name
//     (KCM's sort is not stable; its order among equal numbers is random).
//
// nil entries are ignored. Inputs are not modified.
func Cleanup(ds *appsv1.DaemonSet, old []*appsv1.ControllerRevision, pods iter.Seq[*corev1.Pod]) []string {
	limit := DefaultHistoryLimit
	if ds != nil && ds.Spec.RevisionHistoryLimit != nil {
		limit = int(*ds.Spec.RevisionHistoryLimit)
	}
	candidates := slices.DeleteFunc(slices.Clone(old), func(r *appsv1.ControllerRevision) bool { return r == nil })
	toKill := len(candidates) - limit
	if toKill <= 0 {
		return nil
	}
	live := make(map[string]bool)
	if pods == nil {
		pods = func(func(*corev1.Pod) bool) {}
	}
	for pod := range pods {
		if pod == nil {
			continue
		}
		if _, failure := target.NodeName(pod); failure != target.OK {
			continue
		}
		if hash := pod.Labels[LabelKey]; hash != "" {
			live[hash] = true
		}
	}
	slices.SortFunc(candidates, byRevisionThenName)
	var out []string
	for _, r := range candidates {
		if toKill <= 0 {
			break
		}
		if live[r.Labels[LabelKey]] {
			continue
		}
		out = append(out, r.Name)
		toKill--
	}
	return out
}
