package plan

import (
	"iter"

	appsv1 "k8s.io/api/apps/v1"
	corev1 "k8s.io/api/core/v1"

	"github.com/dsplan/dsplan/placement"
	"github.com/dsplan/dsplan/revision"
	"github.com/dsplan/dsplan/rollout"
	"github.com/dsplan/dsplan/status"
)

// Index is one DaemonSet's revision history, nodes and pods as the stages
// of a plan after grouping read them (steps 3 to 9 of [New]): New builds
// one from a snapshot for every plan ([placement.Group] over every node and
// pod); package plan/incremental keeps one per DaemonSet up to date between
// events, so that a plan reads only what it needs. [FromIndex] plans from
// an Index.
//
// Each method is the answer of a Grouping of the DaemonSet's snapshot, as
// documented; FromIndex equals New on that snapshot when every method
// holds to it.
type Index interface {
	// Evaluator is the DaemonSet's placement compiled by placement.New with
	// the plan's Options.Placement.
	Evaluator() *placement.Evaluator
	// History is revision.Reconcile of the DaemonSet with its selector over
	// the revisions of its namespace, or the selector's parse error. The
	// History's slices and objects become the plan's: they must not be
	// shared with earlier plans.
	History() (revision.History, error)
	// Claims is placement.Grouping.Claims: the pod claims, sorted, the
	// slice the caller's.
	Claims() []placement.Claim
	// Warnings is placement.Grouping.Warnings.
	Warnings() []placement.Warning
	// ClaimedPods is placement.Grouping.ClaimedPods, in any order; read
	// only when the history has duplicate current revisions.
	ClaimedPods() iter.Seq[*corev1.Pod]
	// TargetingPods is placement.Grouping.TargetingPods, in any order; read
	// only when there are more old revisions than the history limit.
	TargetingPods() iter.Seq[*corev1.Pod]
	// Managed yields entries of the Grouping, in any order: at least every
	// entry the manage pass acts on ([Manages] with the history's hash and
	// rollout.AllowsSurge of the DaemonSet). Yielding more changes nothing
	// but the time the plan takes. Each view needs to stay valid only until
	// the next is yielded.
	Managed() iter.Seq[placement.NodePods]
	// Update is rollout.Update(ds, g, opts) on the Grouping g.
	Update(ds *appsv1.DaemonSet, opts rollout.Options) (rollout.Plan, error)
	// Status is status.Compute(ds, g, opts) on the Grouping g.
	Status(ds *appsv1.DaemonSet, opts status.Options) status.Result
}

// FromIndex plans one sync of s.DaemonSet as [New] does, reading the
// DaemonSet's revisions, nodes and pods from idx instead of s (s.Nodes,
// s.Pods and s.Revisions are ignored; s.Now, s.FailedPodBackoff and
// s.PendingExpectations are read). The plan is New's for the snapshot idx
// was built from, with two exceptions: Options.Explain is ignored
// (Plan.Nodes stays empty; New explains), and the Grouping's errors (no
// identity) are not reported, since an Index has no Grouping. Steps 1 and
// 2 of New (a DaemonSet selecting everything or being deleted, a history
// that fails) do not read the nodes and pods; then neither does FromIndex.
func FromIndex(s Snapshot, idx Index, opts Options) Plan {
	ds := s.DaemonSet
	p, ok := begin(ds)
	if !ok {
		return p
	}
	hist, err := idx.History()
	if !p.history(hist, err) {
		return p
	}
	p.finish(ds, hist, idx, nil, &s, opts)
	return p
}

// groupIndex is the Index of a Grouping.
type groupIndex struct{ g *placement.Grouping }

func (x groupIndex) Evaluator() *placement.Evaluator { return x.g.Evaluator() }

// History is not read: New reconciles the history before it groups.
func (x groupIndex) History() (revision.History, error) { panic("plan: groupIndex.History") }

func (x groupIndex) Claims() []placement.Claim            { return x.g.Claims() }
func (x groupIndex) Warnings() []placement.Warning        { return x.g.Warnings() }
func (x groupIndex) ClaimedPods() iter.Seq[*corev1.Pod]   { return x.g.ClaimedPods() }
func (x groupIndex) TargetingPods() iter.Seq[*corev1.Pod] { return x.g.TargetingPods() }

func (x groupIndex) Managed() iter.Seq[placement.NodePods] {
	return func(yield func(placement.NodePods) bool) {
		for _, n := range x.g.All() {
			if !yield(n) {
				return
			}
		}
	}
}

func (x groupIndex) Update(ds *appsv1.DaemonSet, opts rollout.Options) (rollout.Plan, error) {
	return rollout.Update(ds, x.g, opts)
}

func (x groupIndex) Status(ds *appsv1.DaemonSet, opts status.Options) status.Result {
	return status.Compute(ds, x.g, opts)
}
