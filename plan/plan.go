package plan

import (
	"errors"
	"fmt"
	"slices"
	"strings"
	"time"

	appsv1 "k8s.io/api/apps/v1"
	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/labels"

	"github.com/dsplan/dsplan/internal/claim"
	"github.com/dsplan/dsplan/internal/labelmatch"
	"github.com/dsplan/dsplan/placement"
	"github.com/dsplan/dsplan/revision"
	"github.com/dsplan/dsplan/rollout"
	"github.com/dsplan/dsplan/status"
)

// DefaultBurstReplicas is kube-controller-manager's cap on the pods one
// DaemonSet sync creates, and separately deletes.
const DefaultBurstReplicas = 250

// Snapshot is everything one sync of a DaemonSet reads.
type Snapshot struct {
	// DaemonSet is the object as the API server stores it (defaulted; see
	// Default). Required.
	DaemonSet *appsv1.DaemonSet
	// Nodes are all the cluster's nodes.
	Nodes []*corev1.Node
	// Pods are the pods of the DaemonSet's namespace; others are ignored.
	// Pods controlled by other owners are ignored; orphans matching the
	// selector are adopted, owned pods that no longer match are released.
	Pods []*corev1.Pod
	// Revisions are the ControllerRevisions of the DaemonSet's namespace.
	Revisions []*appsv1.ControllerRevision
	// Now is the time pod availability (minReadySeconds) is judged at.
	Now time.Time
	// FailedPodBackoff holds the nodes where deleting a failed daemon pod is
	// still backing off, with the delay left. kube-controller-manager keeps
	// this in memory (1s doubling to 15m); here it is an input.
	FailedPodBackoff map[string]time.Duration
	// PendingExpectations is true when creations or deletions from an
	// earlier sync have not been observed yet: kube-controller-manager then
	// only refreshes the status and does not raise observedGeneration.
	PendingExpectations bool
}

// Options tunes planning. The zero value is kube-controller-manager v1.37.2.
type Options struct {
	Placement placement.Options
	Rollout   rollout.Options
	// BurstReplicas caps creates and deletes per plan; 0 means
	// DefaultBurstReplicas.
	BurstReplicas int
}

// Reason says why a pod is created or deleted.
type Reason string

// Reasons for creates.
const (
	// CreateMissing: the node should run a daemon pod and has none.
	CreateMissing Reason = "Missing"
	// CreateSurgeUnavailable: rolling update with surge, next to an old pod
	// that is not available.
	CreateSurgeUnavailable Reason = Reason(rollout.SurgeUnavailable)
	// CreateSurge: rolling update with surge, within maxSurge.
	CreateSurge Reason = Reason(rollout.Surge)
)

// Reasons for deletes.
const (
	// DeleteFailed: the pod failed; it is recreated by a later sync.
	DeleteFailed Reason = "Failed"
	// DeleteSucceeded: the pod exited; daemon pods must keep running.
	DeleteSucceeded Reason = "Succeeded"
	// DeleteExcess: the node runs more daemon pods than allowed; the oldest
	// (scheduled first, then creation time, then name) is kept.
	DeleteExcess Reason = "Excess"
	// DeleteSurgeOldNotReady: with surge, the old pod is not ready while a
	// new pod exists on the node.
	DeleteSurgeOldNotReady Reason = "SurgeOldNotReady"
	// DeleteSurgeNewAvailable: with surge, the new pod on the node is
	// available, so the old one goes.
	DeleteSurgeNewAvailable Reason = "SurgeNewAvailable"
	// DeleteNodeIneligible: the node no longer matches nodeName, the node
	// selector or the required node affinity.
	DeleteNodeIneligible Reason = "NodeIneligible"
	// DeleteEvicted: the node has a NoExecute taint the pod does not tolerate.
	DeleteEvicted Reason = "Evicted"
	// DeleteNodeGone: an unscheduled pod targets a node that does not exist;
	// the pod garbage collector never deletes those.
	DeleteNodeGone Reason = "NodeGone"
	// The rolling update's reasons, see package rollout.
	DeleteReplaceUnavailable Reason = Reason(rollout.ReplaceUnavailable)
	DeleteReplace            Reason = Reason(rollout.Replace)
	DeleteSurgeReplaced      Reason = Reason(rollout.SurgeReplaced)
	DeleteSurgeIneligible    Reason = Reason(rollout.SurgeIneligible)
	DeleteSurgeSunset        Reason = Reason(rollout.SurgeSunset)
)

// Create is a pod to create.
type Create struct {
	Node   string
	Reason Reason
	// Pod is the full pod kube-controller-manager creates: the template with
	// the daemon tolerations, revision labels, node affinity pinned to Node,
	// owner reference, namespace and generateName.
	Pod *corev1.Pod
}

// Delete is a pod to delete.
type Delete struct {
	Pod    string
	Node   string
	Reason Reason
}

// Revisions are the ControllerRevision writes of the plan.
type Revisions struct {
	Create []*appsv1.ControllerRevision
	Update []*appsv1.ControllerRevision
	// Delete names revisions, sorted.
	Delete []string
}

// ClaimKind names the kind of object a claim patch applies to.
type ClaimKind string

// Claim kinds.
const (
	ClaimPod      ClaimKind = "Pod"
	ClaimRevision ClaimKind = "ControllerRevision"
)

// Claim is an ownership change: adopting an orphan that matches the
// selector, or releasing an owned object that no longer matches.
type Claim struct {
	Kind ClaimKind
	Name string
	// Adopt is true for an adoption, false for a release.
	Adopt bool
	// Patch is the exact strategic merge patch body kube-controller-manager
	// sends.
	Patch string
}

// Plan is what one kube-controller-manager sync of the DaemonSet does. The
// zero Plan does nothing. Every slice is sorted: creates by node, deletes
// and patches by pod name, claims by kind and name.
type Plan struct {
	// Hash is the controller-revision-hash of the current revision, "" when
	// the sync stopped before finding it.
	Hash       string
	Creates    []Create
	Deletes    []Delete
	PodPatches []revision.PodPatch
	Claims     []Claim
	Revisions  Revisions
	// Status is the DaemonSet status after the sync; StatusChanged says
	// whether kube-controller-manager writes it.
	Status        appsv1.DaemonSetStatus
	StatusChanged bool
	// RequeueAfter is when kube-controller-manager syncs the DaemonSet again
	// (minReadySeconds pending, failed-pod backoff), 0 for no timed resync.
	RequeueAfter time.Duration
	// Warnings report fallbacks kube-controller-manager applies silently.
	Warnings []placement.Warning
	// Err is the error kube-controller-manager's sync returns; the actions
	// above are still the ones it takes.
	Err error
}

// IsZero reports whether the plan does nothing.
func (p *Plan) IsZero() bool {
	return p.Hash == "" && len(p.Creates) == 0 && len(p.Deletes) == 0 && len(p.PodPatches) == 0 &&
		len(p.Claims) == 0 && len(p.Revisions.Create) == 0 && len(p.Revisions.Update) == 0 &&
		len(p.Revisions.Delete) == 0 && !p.StatusChanged && p.RequeueAfter == 0 && len(p.Warnings) == 0 &&
		p.Err == nil
}

// Errors of New that are not kube-controller-manager's.
var (
	ErrNoDaemonSet = errors.New("snapshot has no DaemonSet")
)

// New plans one sync of s.DaemonSet over the snapshot, as
// kube-controller-manager v1.37.2's syncDaemonSet does:
//
//  1. a DaemonSet selecting everything or being deleted gets nothing, not
//     even a status update;
//  2. the revision history is reconciled (package revision) and gives the
//     current hash; a hash collision ends the sync with Err;
//  3. with PendingExpectations only the status is refreshed;
//  4. the manage pass creates missing pods and deletes failed, succeeded,
//     excess and misplaced pods, and unscheduled pods of vanished nodes;
//  5. only when the manage pass has nothing to do, the rolling update runs
//     (package rollout);
//  6. old revisions beyond revisionHistoryLimit are deleted, unless a
//     step before failed;
//  7. the status is computed (package status).
//
// New never mutates s and never panics; the result does not depend on the
// order of s's lists.
func New(s Snapshot, opts Options) Plan {
	return newPlan(s, opts, nil)
}

// newPlan is New; cluster, when not nil, holds s.Nodes prepared (see
// Cluster).
func newPlan(s Snapshot, opts Options, cluster *Cluster) Plan {
	ds := s.DaemonSet
	if ds == nil {
		return Plan{Err: ErrNoDaemonSet}
	}
	p := Plan{Status: ds.Status}
	// Empty and nil lists are the same here: kube-controller-manager receives
	// objects through protobuf, which cannot tell them apart.
	if sel := ds.Spec.Selector; sel != nil && len(sel.MatchLabels) == 0 && len(sel.MatchExpressions) == 0 {
		p.Warnings = append(p.Warnings, placement.Warning{Field: "spec.selector",
			Message: "This daemon set is selecting all pods. A non-empty selector is required."})
		return p
	}
	if ds.DeletionTimestamp != nil {
		return p
	}
	selector, err := metav1.LabelSelectorAsSelector(ds.Spec.Selector)
	if err != nil {
		p.Err = fmt.Errorf("failed to construct revisions of DaemonSet: %w", err)
		return p
	}

	hist, err := revision.Reconcile(ds, s.Revisions, nil)
	if err == nil {
		err = hist.Err()
	}
	p.Hash = hist.Hash
	p.Revisions = Revisions{Create: hist.Create, Update: hist.Update, Delete: hist.Delete}
	for _, c := range hist.Claims {
		p.Claims = append(p.Claims, Claim{Kind: ClaimRevision, Name: c.Name, Adopt: c.Type == revision.Adopt, Patch: c.Patch})
	}
	if err != nil {
		p.Err = fmt.Errorf("failed to construct revisions of DaemonSet: %w", err)
		if hist.Collision {
			p.Status.CollisionCount = hist.CollisionCount
			p.StatusChanged = true
		}
		return p
	}

	// Every node and pod is read once, here, with what the later passes
	// need of them; see group.
	eval := placement.New(ds, opts.Placement)
	sel := compileSelector(selector)
	classifier := placement.NewPodClassifier(ds, p.Hash, s.Now)
	sc := scratchPool.Get().(*scratch)
	g := group(sc, ds, eval, &sel, &classifier, s.Nodes, cluster, s.Pods)
	defer sc.release(g)
	if len(hist.Delete) > 0 {
		// Reconcile deletes revisions only when several match the
		// template, and then relabels the claimed pods, which it now gets.
		// The hash and the revision writes do not depend on the pods.
		hist, _ = revision.Reconcile(ds, s.Revisions, g.claimed)
	}
	p.PodPatches = hist.PodPatches
	if ds.Namespace == "" || ds.Name == "" || ds.UID == "" {
		p.Err = fmt.Errorf("couldn't get node to daemon pod mapping for daemon set %q: DaemonSet has no namespace, name or uid", ds.Name)
		return p
	}
	for _, c := range g.patches {
		p.Claims = append(p.Claims, Claim{Kind: ClaimPod, Name: c.Name, Adopt: c.Type == claim.Adopt, Patch: c.Patch})
	}

	p.Warnings = append(p.Warnings, eval.Warnings()...)
	if g.nilNodes > 0 {
		p.Warnings = append(p.Warnings, placement.Warning{Field: "Snapshot.Nodes", Message: fmt.Sprintf("%d nil entries ignored", g.nilNodes)})
	}
	if g.nilPods > 0 {
		p.Warnings = append(p.Warnings, placement.Warning{Field: "Snapshot.Pods", Message: fmt.Sprintf("%d nil entries ignored", g.nilPods)})
	}
	processed := !s.PendingExpectations
	if processed {
		p.manageAndUpdate(ds, eval, &g, &s, opts)
		if p.Err == nil {
			if ds.Spec.RevisionHistoryLimit == nil {
				p.Warnings = append(p.Warnings, placement.Warning{Field: "spec.revisionHistoryLimit",
					Message: "unset: kube-controller-manager would crash cleaning up history; keeping 10 revisions, the API server's default"})
			}
			p.Revisions.Delete = append(p.Revisions.Delete, revision.Cleanup(ds, hist.Old, g.history)...)
			slices.Sort(p.Revisions.Delete)
		}
	}
	p.Status = status.Compute(ds, p.Hash, g.nodes, s.Now, status.Options{StatusOnly: !processed})
	p.StatusChanged = status.NeedsUpdate(ds, p.Status)
	if d := status.RequeueAfter(ds, p.Status); d > 0 {
		p.requeue(d)
	}
	p.Warnings = sortWarnings(p.Warnings)
	return p
}

func (p *Plan) requeue(d time.Duration) {
	if p.RequeueAfter == 0 || d < p.RequeueAfter {
		p.RequeueAfter = d
	}
}

// podSelector is a labels.Selector compiled for matching many pods: the
// same result as its Matches (see package labelmatch).
type podSelector struct {
	nothing bool // matches no labels (labels.Nothing)
	reqs    []labelmatch.Requirement
}

func compileSelector(selector labels.Selector) podSelector {
	reqs, selectable := selector.Requirements()
	if !selectable {
		return podSelector{nothing: true}
	}
	s := podSelector{reqs: make([]labelmatch.Requirement, len(reqs))}
	for i := range reqs {
		s.reqs[i] = labelmatch.Compile(&reqs[i])
	}
	return s
}

// matchesPod reports whether the selector matches the pod's labels.
func (s *podSelector) matchesPod(pod *corev1.Pod) bool { return s.matches(pod.Labels) }

// matches has the semantics of labels.Selector.Matches(labels.Set(l)).
func (s *podSelector) matches(l map[string]string) bool {
	return !s.nothing && labelmatch.Matches(s.reqs, l)
}

// sortWarnings sorts ws by field and message and drops repeats.
func sortWarnings(ws []placement.Warning) []placement.Warning {
	slices.SortFunc(ws, func(a, b placement.Warning) int {
		if c := strings.Compare(a.Field, b.Field); c != 0 {
			return c
		}
		return strings.Compare(a.Message, b.Message)
	})
	return slices.Compact(ws)
}
