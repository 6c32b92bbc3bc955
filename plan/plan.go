package plan

import (
	"fmt"
	"slices"
	"strings"
	"sync"
	"time"

	appsv1 "k8s.io/api/apps/v1"
	corev1 "k8s.io/api/core/v1"
	"k8s.io/apimachinery/pkg/util/validation/field"

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
	// still backing off, with the node's current delay, which is what the
	// DaemonSet is resynced after. kube-controller-manager keeps this in
	// memory (1s doubling to 15m); here it is an input (see
	// control.Backoff).
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
	// Annotations applies the rollout controls of the DaemonSet's own
	// rollout.dsplan.io/ annotations (rollout.ParseAnnotations) over
	// Rollout: each annotation present replaces that control. A bad value
	// is reported in Plan.Warnings and leaves the control as it was.
	Annotations bool
	// Explain fills Plan.Nodes: a report per node with the exact cause of
	// its decision and of what the plan does or leaves there. Off, it
	// costs nothing.
	Explain bool
}

// Create is a pod to create.
type Create struct {
	Node   string
	Reason rollout.CreateReason
	// Pod is the full pod kube-controller-manager creates: the template with
	// the daemon tolerations, revision labels, node affinity pinned to Node,
	// owner reference, namespace and generateName.
	Pod *corev1.Pod
}

// Delete is a pod to delete.
type Delete struct {
	Pod string
	// Node is the node the pod targets.
	Node   string
	Reason rollout.DeleteReason
}

// Revisions are the ControllerRevision writes of the plan.
type Revisions struct {
	Create []*appsv1.ControllerRevision
	Update []*appsv1.ControllerRevision
	// Delete names revisions, sorted.
	Delete []string
}

// Plan is what one kube-controller-manager sync of the DaemonSet does. The
// zero Plan does nothing; [Plan.Writes] says whether a plan writes
// anything. Every slice is sorted: creates by node, deletes and patches by
// pod name, claims by kind and name ([placement.SortClaims]).
type Plan struct {
	// Hash is the controller-revision-hash of the current revision, "" when
	// the sync stopped before finding it.
	Hash    string
	Creates []Create
	Deletes []Delete
	// PodPatches relabel pods when duplicate current revisions are merged
	// (revision.History.Relabel).
	PodPatches []revision.PodPatch
	// Claims adopt and release ControllerRevisions and pods.
	Claims    []placement.Claim
	Revisions Revisions
	// Status is the DaemonSet status after the sync; StatusChanged says
	// whether kube-controller-manager writes it.
	Status        appsv1.DaemonSetStatus
	StatusChanged bool
	// FailedPodBackoff names the nodes, sorted, where this sync deletes a
	// failed pod, also beyond the burst limit: kube-controller-manager
	// starts or doubles their failed-pod backoff (see package control).
	FailedPodBackoff []string
	// RequeueAfter is when kube-controller-manager syncs the DaemonSet again
	// (minReadySeconds pending, failed-pod backoff), 0 for no timed resync.
	RequeueAfter time.Duration
	// Nodes, with Options.Explain, explain every node (existing, or
	// targeted by pods), sorted by name.
	Nodes []NodeReport
	// Warnings report fallbacks kube-controller-manager applies silently.
	Warnings []placement.Warning
	// Err is the error kube-controller-manager's sync returns; the actions
	// above are still the ones it takes.
	Err error
}

// Writes reports whether carrying out the plan writes anything to the API
// server: a pod create, delete or patch, a claim, a ControllerRevision
// write or the status. A converged DaemonSet's plan writes nothing (its
// Hash, Status and RequeueAfter may still be set: they are not writes).
func (p *Plan) Writes() bool {
	return len(p.Creates) > 0 || len(p.Deletes) > 0 || len(p.PodPatches) > 0 || len(p.Claims) > 0 ||
		len(p.Revisions.Create) > 0 || len(p.Revisions.Update) > 0 || len(p.Revisions.Delete) > 0 || p.StatusChanged
}

// New plans one sync of s.DaemonSet over the snapshot, as
// kube-controller-manager v1.37.2's syncDaemonSet does, in this order:
//
//  1. a DaemonSet selecting everything or being deleted gets nothing, not
//     even a status update;
//  2. the revision history is reconciled (revision.Reconcile) and gives the
//     current hash; a hash collision ends the sync with Err;
//  3. the pods are claimed and grouped by node (placement.Group);
//  4. with PendingExpectations only the status is refreshed;
//  5. the manage pass creates missing pods and deletes failed, succeeded,
//     excess and misplaced pods, and unscheduled pods of vanished nodes;
//  6. only when the manage pass has nothing to do, the rolling update runs
//     (rollout.Update);
//  7. creates and deletes beyond the burst limit are left to later syncs;
//  8. old revisions beyond revisionHistoryLimit are deleted, unless a
//     step before failed;
//  9. the status is computed (status.Compute).
//
// New never mutates s and never panics; the result does not depend on the
// order of s's lists. A nil s.DaemonSet gives a Plan whose Err is
// placement.ErrNoDaemonSet.
func New(s Snapshot, opts Options) Plan {
	return newPlan(s, opts, nil)
}

// grouperPool recycles Group's working memory between plans: at 100,000
// nodes it is about 10 MB, and allocating that afresh for every plan (page
// faults, then the garbage collector's work) cost more than the planning
// itself. A Grouper holds nothing between plans that a result could
// depend on (it is reset before it is put back).
var grouperPool = sync.Pool{New: func() any { return new(placement.Grouper) }}

// newPlan is New; set, when not nil, holds s.Nodes prepared (see Cluster).
func newPlan(s Snapshot, opts Options, set *placement.NodeSet) Plan {
	ds := s.DaemonSet
	p, ok := begin(ds)
	if !ok {
		return p
	}

	// History: the current revision and its hash.
	eval := placement.New(ds, opts.Placement)
	hist, err := reconcile(ds, eval, s.Revisions)
	if !p.history(hist, err) {
		return p
	}

	// Claims and grouping: every node and pod is read once, here.
	gr := grouperPool.Get().(*placement.Grouper)
	defer func() {
		gr.Reset()
		grouperPool.Put(gr)
	}()
	g, err := gr.Group(placement.GroupInput{Evaluator: eval, Hash: p.Hash, Now: s.Now, Nodes: s.Nodes, NodeSet: set, Pods: s.Pods})
	if err != nil {
		p.Err = fmt.Errorf("couldn't get node to daemon pod mapping for daemon set %q: %w", ds.Name, err)
		return p
	}
	p.finish(ds, hist, groupIndex{g}, g, &s, opts)
	return p
}

// begin starts the plan of ds: false when the sync ends before it reads
// anything else (step 1 of New).
func begin(ds *appsv1.DaemonSet) (Plan, bool) {
	if ds == nil {
		return Plan{Err: placement.ErrNoDaemonSet}, false
	}
	p := Plan{Status: ds.Status}
	// Empty and nil lists are the same here: kube-controller-manager receives
	// objects through protobuf, which cannot tell them apart.
	if sel := ds.Spec.Selector; sel != nil && len(sel.MatchLabels) == 0 && len(sel.MatchExpressions) == 0 {
		p.Warnings = append(p.Warnings, placement.Warning{Field: "spec.selector",
			Message: "This daemon set is selecting all pods. A non-empty selector is required."})
		return p, false
	}
	if ds.DeletionTimestamp != nil {
		return p, false
	}
	return p, true
}

// reconcile is revision.Reconcile with eval's selector, or the selector's
// parse error.
func reconcile(ds *appsv1.DaemonSet, eval *placement.Evaluator, revisions []*appsv1.ControllerRevision) (revision.History, error) {
	selector, err := eval.Selector()
	if err != nil {
		return revision.History{}, err
	}
	return revision.Reconcile(ds, selector, revisions)
}

// history records the revision history, or the error of finding it, in p
// (step 2 of New): false when the sync ends there.
func (p *Plan) history(hist revision.History, err error) bool {
	if err == nil {
		err = hist.Err()
	}
	p.Hash = hist.Hash
	p.Revisions = Revisions{Create: hist.Create, Update: hist.Update, Delete: hist.Delete}
	p.Claims = hist.Claims
	if err != nil {
		p.Err = fmt.Errorf("failed to construct revisions of DaemonSet: %w", err)
		if hist.Collision {
			p.Status.CollisionCount = hist.CollisionCount
			p.StatusChanged = true
		}
		return false
	}
	return true
}

// finish is steps 3 to 9 of New on the DaemonSet's grouped nodes and pods;
// g, when not nil, is the Grouping behind idx, which explanations read
// (without it, Options.Explain is ignored).
func (p *Plan) finish(ds *appsv1.DaemonSet, hist revision.History, idx Index, g *placement.Grouping, s *Snapshot, opts Options) {
	p.PodPatches = hist.Relabel(idx.ClaimedPods())
	p.Claims = append(p.Claims, idx.Claims()...)
	placement.SortClaims(p.Claims)
	p.Warnings = append(p.Warnings, idx.Evaluator().Warnings()...)
	for _, w := range idx.Warnings() {
		w.Field = "Snapshot." + w.Field
		p.Warnings = append(p.Warnings, w)
	}

	if opts.Annotations {
		var errs field.ErrorList
		opts.Rollout, errs = withAnnotations(ds, opts.Rollout)
		for _, e := range errs {
			p.Warnings = append(p.Warnings, placement.Warning{Field: e.Field, Message: e.ErrorBody() + ": the control is ignored"})
		}
	}
	var x *passes
	if opts.Explain && g != nil {
		x = &passes{}
	}

	// Manage, or the rolling update, and the history's cleanup.
	if !s.PendingExpectations {
		p.manageAndUpdate(ds, idx, s, opts, x)
		if p.Err == nil {
			if ds.Spec.RevisionHistoryLimit == nil {
				p.Warnings = append(p.Warnings, placement.Warning{Field: "spec.revisionHistoryLimit",
					Message: "unset: kube-controller-manager would crash cleaning up history; keeping 10 revisions, the API server's default"})
			}
			p.Revisions.Delete = append(p.Revisions.Delete, revision.Cleanup(ds, hist.Old, idx.TargetingPods())...)
			slices.Sort(p.Revisions.Delete)
		}
	}

	// Status.
	st := idx.Status(ds, status.Options{StatusOnly: s.PendingExpectations})
	p.Status, p.StatusChanged = st.Status, st.Changed
	if st.RequeueAfter > 0 {
		p.requeue(st.RequeueAfter)
	}
	if x != nil {
		p.explain(ds, g, s, x)
	}
	p.Warnings = sortWarnings(p.Warnings)
}

// withAnnotations returns ro with the controls ds's annotations set.
func withAnnotations(ds *appsv1.DaemonSet, ro rollout.Options) (rollout.Options, field.ErrorList) {
	a, errs := rollout.ParseAnnotations(ds)
	has := func(k string) bool {
		_, ok := ds.Annotations[k]
		return ok && !slices.ContainsFunc(errs, func(e *field.Error) bool { return strings.HasSuffix(e.Field, "["+k+"]") })
	}
	if has(rollout.AnnotationPartition) {
		ro.Partition = a.Partition
	}
	if has(rollout.AnnotationPaused) {
		ro.Paused = a.Paused
	}
	if has(rollout.AnnotationSelector) {
		ro.Selector = a.Selector
	}
	if has(rollout.AnnotationOrderNodes) {
		ro.Order.Nodes = a.Order.Nodes
	}
	if has(rollout.AnnotationOrderWeights) {
		ro.Order.Weights = a.Order.Weights
	}
	if has(rollout.AnnotationZoneKey) {
		ro.Order.TopologyKey = a.Order.TopologyKey
	}
	if has(rollout.AnnotationZoneBudget) {
		ro.Order.ZoneBudget = a.Order.ZoneBudget
	}
	return ro, errs
}

func (p *Plan) requeue(d time.Duration) {
	if p.RequeueAfter == 0 || d < p.RequeueAfter {
		p.RequeueAfter = d
	}
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
