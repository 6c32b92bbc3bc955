package rollout

import (
	"errors"
	"fmt"
	"math"
	"slices"
	"strings"

	appsv1 "k8s.io/api/apps/v1"
	corev1 "k8s.io/api/core/v1"
	"k8s.io/apimachinery/pkg/util/intstr"

	"github.com/dsplan/dsplan/internal/smallest"
	"github.com/dsplan/dsplan/placement"
)

// Budget is the rolling update's allowance for one sync.
type Budget struct {
	// Desired is the number of nodes that should run a daemon pod.
	Desired int
	// MaxSurge is spec.updateStrategy.rollingUpdate.maxSurge scaled to
	// Desired (percentages round up). Zero disables surge.
	MaxSurge int
	// MaxUnavailable is maxUnavailable scaled to Desired (rounded up), or 1
	// when both budgets are zero and Desired > 0 (see Fallback).
	MaxUnavailable int
	// Fallback is true when maxSurge and maxUnavailable both scaled to zero
	// and kube-controller-manager silently allowed one unavailable pod.
	Fallback bool
}

// Budgets computes the rolling update budget of ds for desired eligible
// nodes, as kube-controller-manager's updatedDesiredNodeCounts does.
//
// Budgets does not apply API defaults; it reads the strategy as upstream's
// UnavailableCount and SurgeCount do:
//
//  1. a strategy other than RollingUpdate, or a nil ds, has no budget (the
//     zero Budget but for Desired);
//  2. a nil rollingUpdate, or a nil maxSurge, means zero surge, and a nil
//     rollingUpdate zero maxUnavailable;
//  3. a nil maxUnavailable under a non-nil rollingUpdate is an error, as
//     upstream (the API server always defaults it to 1);
//  4. when both scale to zero and desired > 0, maxUnavailable is 1
//     (Fallback), also for a nil rollingUpdate.
//
// The error wraps the intstr parse error and names the field.
func Budgets(ds *appsv1.DaemonSet, desired int) (Budget, error) {
	b := Budget{Desired: desired}
	if ds == nil || ds.Spec.UpdateStrategy.Type != appsv1.RollingUpdateDaemonSetStrategyType {
		return b, nil
	}
	var err error
	if ru := ds.Spec.UpdateStrategy.RollingUpdate; ru != nil {
		b.MaxUnavailable, err = intstr.GetScaledValueFromIntOrPercent(ru.MaxUnavailable, desired, true)
		if err != nil {
			return Budget{}, fmt.Errorf("invalid value for MaxUnavailable: %w", err)
		}
	}
	b.MaxSurge, err = SurgeCount(ds, desired)
	if err != nil {
		return Budget{}, err
	}
	if desired > 0 && b.MaxUnavailable == 0 && b.MaxSurge == 0 {
		b.MaxUnavailable = 1
		b.Fallback = true
	}
	return b, nil
}

// SurgeCount returns maxSurge scaled to desired (rounded up), or 0 when the
// strategy is not RollingUpdate, maxSurge is unset or ds is nil.
func SurgeCount(ds *appsv1.DaemonSet, desired int) (int, error) {
	if ds == nil {
		return 0, nil
	}
	strategy := ds.Spec.UpdateStrategy
	if strategy.Type != appsv1.RollingUpdateDaemonSetStrategyType || strategy.RollingUpdate == nil ||
		strategy.RollingUpdate.MaxSurge == nil {
		return 0, nil
	}
	n, err := intstr.GetScaledValueFromIntOrPercent(strategy.RollingUpdate.MaxSurge, desired, true)
	if err != nil {
		return 0, fmt.Errorf("invalid value for MaxSurge: %w", err)
	}
	return n, nil
}

// AllowsSurge reports whether ds may run two pods on a node during an
// update: a RollingUpdate whose maxSurge, scaled to one node, is positive.
// An unparsable maxSurge allows no surge, as upstream.
func AllowsSurge(ds *appsv1.DaemonSet) bool {
	n, err := SurgeCount(ds, 1)
	return err == nil && n > 0
}

// CreateReason says why a daemon pod is created. Package plan's manage pass
// and the rolling update share this one vocabulary.
type CreateReason string

// Reasons for creates.
const (
	// CreateMissing: the node should run a daemon pod and has none (the
	// manage pass).
	CreateMissing CreateReason = "Missing"
	// CreateSurgeUnavailable: rolling update with surge, next to an old pod
	// that is not available; it costs no surge budget.
	CreateSurgeUnavailable CreateReason = "SurgeUnavailable"
	// CreateSurge: rolling update with surge, next to an available old pod,
	// within maxSurge.
	CreateSurge CreateReason = "Surge"
)

// DeleteReason says why a daemon pod is deleted. Package plan's manage pass
// and the rolling update share this one vocabulary.
type DeleteReason string

// Reasons for deletes by the manage pass (package plan).
const (
	// DeleteFailed: the pod failed; a later sync creates a new one.
	DeleteFailed DeleteReason = "Failed"
	// DeleteSucceeded: the pod exited; daemon pods must keep running.
	DeleteSucceeded DeleteReason = "Succeeded"
	// DeleteExcess: the node runs more daemon pods than allowed; the oldest
	// (scheduled first, then creation time, then name) is kept.
	DeleteExcess DeleteReason = "Excess"
	// DeleteSurgeOldNotReady: with surge, the old pod is not ready while a
	// new pod runs on the node.
	DeleteSurgeOldNotReady DeleteReason = "SurgeOldNotReady"
	// DeleteSurgeNewAvailable: with surge, the new pod on the node is
	// available, so the old one goes.
	DeleteSurgeNewAvailable DeleteReason = "SurgeNewAvailable"
	// DeleteNodeIneligible: the node no longer matches nodeName, the node
	// selector or the required node affinity.
	DeleteNodeIneligible DeleteReason = "NodeIneligible"
	// DeleteEvicted: the node has a NoExecute taint the pod does not
	// tolerate.
	DeleteEvicted DeleteReason = "Evicted"
	// DeleteNodeGone: an unscheduled pod targets a node that does not exist;
	// the pod garbage collector never deletes those.
	DeleteNodeGone DeleteReason = "NodeGone"
)

// Reasons for deletes by the rolling update ([Update]).
const (
	// DeleteReplaceUnavailable: an old pod that is not available is deleted
	// so that the manage pass recreates it; it costs no budget (maxSurge 0).
	DeleteReplaceUnavailable DeleteReason = "ReplaceUnavailable"
	// DeleteReplace: an available old pod is deleted within maxUnavailable
	// (maxSurge 0).
	DeleteReplace DeleteReason = "Replace"
	// DeleteSurgeReplaced: the node's new pod is available, so its old pod
	// goes.
	DeleteSurgeReplaced DeleteReason = "SurgeReplaced"
	// DeleteSurgeIneligible: an old, unavailable pod on a node the DaemonSet
	// no longer schedules to is deleted without a replacement.
	DeleteSurgeIneligible DeleteReason = "SurgeIneligible"
	// DeleteSurgeSunset: an old, available pod on a node the DaemonSet no
	// longer schedules to is deleted because more pods are available than
	// desired.
	DeleteSurgeSunset DeleteReason = "SurgeSunset"
)

// Delete is an old pod the rolling update removes.
type Delete struct {
	Pod    *corev1.Pod
	Node   string
	Reason DeleteReason
}

// Create is a node that gets a new pod next to its old one (surge only).
type Create struct {
	Node   string
	Reason CreateReason
}

// Plan is what one rolling-update pass does. The zero Plan does nothing.
type Plan struct {
	Budget Budget
	// Partition is Options.Partition scaled to the desired nodes (0 for
	// none).
	Partition int
	// Waiting, with Options.Explain, lists the nodes whose old pod this
	// pass leaves in place, by node name, and why.
	Waiting []Wait
	// Deletes are sorted by node name, then pod name.
	Deletes []Delete
	// Creates are sorted by node name.
	Creates []Create
}

// ErrNodeNotFound is wrapped by Update's error when a surge candidate's
// node does not exist: kube-controller-manager fails the whole rolling
// update then (a pod bound to a deleted node blocks a surge rollout until
// the pod garbage collector removes it).
var ErrNodeNotFound = errors.New("not found")

// Update decides which old pods to delete and, with maxSurge, which nodes
// get a new pod, as kube-controller-manager v1.37.2's rollingUpdate does.
// g is ds's pods grouped for ds's current revision ([placement.Group]).
// Update runs only when the manage pass has nothing to do; the caller
// checks that. OnDelete and other strategies return the zero Plan; a nil
// ds or g returns an error wrapping [placement.ErrNoDaemonSet].
//
// Where upstream walks a Go map and so picks candidates at random when the
// budget is smaller than the candidates, Update picks by node name: the
// set of pods deleted (or nodes surged) is then the first ones in name
// order among the candidates, and the number of picks is always upstream's.
func Update(ds *appsv1.DaemonSet, g *placement.Grouping, opts Options) (Plan, error) {
	if ds == nil || g == nil {
		return Plan{}, fmt.Errorf("rollout: %w", placement.ErrNoDaemonSet)
	}
	if ds.Spec.UpdateStrategy.Type != appsv1.RollingUpdateDaemonSetStrategyType {
		return Plan{}, nil
	}
	budget, err := Budgets(ds, g.Desired())
	if err != nil {
		return Plan{}, fmt.Errorf("couldn't get unavailable numbers: %w", err)
	}
	u := updater{g: g, budget: budget, opts: &opts}
	if opts.Partition != nil {
		// Round down: a partition keeps at most the share asked for.
		if u.partition, err = intstr.GetScaledValueFromIntOrPercent(opts.Partition, budget.Desired, false); err != nil {
			return Plan{}, fmt.Errorf("invalid value for partition: %w", err)
		}
		u.partition = max(0, u.partition)
	}
	if budget.MaxSurge == 0 {
		return u.replace()
	}
	return u.surge()
}

type updater struct {
	g         *placement.Grouping
	budget    Budget
	opts      *Options
	partition int
}

// relevant reports whether rollingUpdate looks at this node: it walks the
// nodes with pods plus the existing nodes that should run one.
func relevant(n placement.NodePods) bool {
	return n.Len() > 0 || (n.Exists() && n.Decision().ShouldRun())
}

// livePod is a pod not being deleted, or ok false for none.
type livePod struct {
	placement.Pod
	ok bool
}

// split returns the node's live new and old pod, or ok false when the node
// has more than one of either (the manage pass cleans it up first).
func split(n placement.NodePods) (newPod, oldPod livePod, ok bool) {
	for _, p := range n.Pods() {
		if p.Deleting() {
			continue
		}
		if p.Updated() {
			if newPod.ok {
				return livePod{}, livePod{}, false
			}
			newPod = livePod{p, true}
		} else {
			if oldPod.ok {
				return livePod{}, livePod{}, false
			}
			oldPod = livePod{p, true}
		}
	}
	return newPod, oldPod, true
}

// candidate is a node whose old pod the update may replace.
type candidate struct {
	node placement.NodePods
	pod  placement.Pod // the old pod
	// free: the old pod is unavailable, so replacing it costs no budget.
	free bool
	key  orderKey
}

// replace is the maxSurge == 0 branch: delete unavailable old pods freely,
// and available old pods while fewer than maxUnavailable desired nodes are
// unavailable.
func (u *updater) replace() (Plan, error) {
	if u.opts.active() || u.opts.Explain {
		return u.controlled(false)
	}
	plan := Plan{Budget: u.budget}
	unavailable := 0
	// The room left for candidates never exceeds maxUnavailable, so only
	// that many of the smallest are kept.
	candidates := smallest.New(u.budget.MaxUnavailable, u.g.Len(), compareDeletes)
	for _, n := range u.g.All() {
		if !relevant(n) {
			continue
		}
		newPod, oldPod, ok := split(n)
		switch {
		case !ok, !newPod.ok && !oldPod.ok, newPod.ok && oldPod.ok:
			// The manage pass creates or prunes here; count it unavailable.
			unavailable++
		case newPod.ok:
			if !newPod.Available() {
				unavailable++
			}
		case !oldPod.Available():
			plan.Deletes = append(plan.Deletes, Delete{Pod: oldPod.Object(), Node: n.Name(), Reason: DeleteReplaceUnavailable})
			unavailable++
		default:
			candidates.Add(Delete{Pod: oldPod.Object(), Node: n.Name(), Reason: DeleteReplace})
		}
	}
	// Upstream only collects candidates while the running count is below the
	// budget; the number it uses is the same either way.
	plan.Deletes = append(plan.Deletes, candidates.First(u.budget.MaxUnavailable-unavailable)...)
	sortDeletes(plan.Deletes)
	return plan, nil
}

// surge is the maxSurge > 0 branch: create a new pod next to old ones
// (freely where the old pod is unavailable, up to maxSurge otherwise),
// delete old pods once their replacement is available, and delete pods on
// nodes that no longer fit only while more pods are available than desired.
func (u *updater) surge() (Plan, error) {
	if u.opts.active() || u.opts.Explain {
		return u.controlled(true)
	}
	plan := Plan{Budget: u.budget}
	surged, availableCount := 0, 0
	// As in replace, at most maxSurge candidates are surged.
	candidates := smallest.New(u.budget.MaxSurge, u.g.Len(), compareCreates)
	sunset := smallest.New(math.MaxInt, 0, compareDeletes)
	var missing string // smallest name of a surge candidate's vanished node
	for _, n := range u.g.All() {
		if !relevant(n) {
			continue
		}
		newPod, oldPod, ok := split(n)
		if !ok {
			surged++
			continue
		}
		availableCount += availability(newPod, oldPod)
		switch {
		case !oldPod.ok:
			// Nothing to replace; the manage pass creates where needed.
		case !newPod.ok:
			if !n.Exists() {
				if missing == "" || n.Name() < missing {
					missing = n.Name()
				}
				continue
			}
			switch {
			case !oldPod.Available() && !n.Decision().ShouldRun():
				plan.Deletes = append(plan.Deletes, Delete{Pod: oldPod.Object(), Node: n.Name(), Reason: DeleteSurgeIneligible})
			case !oldPod.Available():
				plan.Creates = append(plan.Creates, Create{Node: n.Name(), Reason: CreateSurgeUnavailable})
			case !n.Decision().ShouldRun():
				sunset.Add(Delete{Pod: oldPod.Object(), Node: n.Name(), Reason: DeleteSurgeSunset})
			default:
				candidates.Add(Create{Node: n.Name(), Reason: CreateSurge})
			}
		case !newPod.Available():
			surged++
		default:
			plan.Deletes = append(plan.Deletes, Delete{Pod: oldPod.Object(), Node: n.Name(), Reason: DeleteSurgeReplaced})
		}
	}
	if missing != "" {
		return Plan{}, nodeNotFound(missing)
	}
	if extra := availableCount - u.budget.Desired; extra > 0 {
		plan.Deletes = append(plan.Deletes, sunset.First(extra)...)
	}
	plan.Creates = append(plan.Creates, candidates.First(u.budget.MaxSurge-surged)...)
	sortDeletes(plan.Deletes)
	sortCreates(plan.Creates)
	return plan, nil
}

// availability is 1 when the node's pod that counts for availability in
// the surge branch (the old one if any, else the new one) is available.
func availability(newPod, oldPod livePod) int {
	switch {
	case oldPod.ok && oldPod.Available(), !oldPod.ok && newPod.ok && newPod.Available():
		return 1
	}
	return 0
}

// nodeNotFound is the surge branch's error for a candidate on a vanished
// node, worded as upstream's: the node lister's NotFound error wrapped.
func nodeNotFound(name string) error {
	return fmt.Errorf("couldn't get node for nodeName %q: node %q %w", name, name, ErrNodeNotFound)
}

func compareDeletes(a, b Delete) int {
	if c := strings.Compare(a.Node, b.Node); c != 0 {
		return c
	}
	return strings.Compare(a.Pod.Name, b.Pod.Name)
}

func compareCreates(a, b Create) int { return strings.Compare(a.Node, b.Node) }

func sortDeletes(ds []Delete) { slices.SortFunc(ds, compareDeletes) }

func sortCreates(cs []Create) { slices.SortFunc(cs, compareCreates) }
