package rollout

import (
	"errors"
	"fmt"
	"math"
	"slices"
	"strings"
	"time"

	appsv1 "k8s.io/api/apps/v1"
	corev1 "k8s.io/api/core/v1"
	"k8s.io/apimachinery/pkg/util/intstr"

	"github.com/dsplan/dsplan/internal/smallest"
	"github.com/dsplan/dsplan/placement"
)

// Options tunes the rolling update. The zero value is kube-controller-manager's
// behaviour; the struct exists so that partitioned, paused or prioritised
// rollouts can be added without changing Update's signature.
type Options struct{}

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
// Budgets does not apply API defaults: a RollingUpdate strategy with a nil
// rollingUpdate or nil maxSurge means zero surge, but a nil maxUnavailable
// under a non-nil rollingUpdate is an error, exactly as upstream (the API
// server always defaults it to 1). Other strategy types, and a nil ds, have
// no budget.
// The error wraps the intstr parse error and names the field.
func Budgets(ds *appsv1.DaemonSet, desired int) (Budget, error) {
	b := Budget{Desired: desired}
	if ds == nil {
		return b, nil
	}
	strategy := ds.Spec.UpdateStrategy
	if strategy.Type != appsv1.RollingUpdateDaemonSetStrategyType || strategy.RollingUpdate == nil {
		return b, nil
	}
	var err error
	b.MaxUnavailable, err = intstr.GetScaledValueFromIntOrPercent(strategy.RollingUpdate.MaxUnavailable, desired, true)
	if err != nil {
		return Budget{}, fmt.Errorf("invalid value for MaxUnavailable: %w", err)
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

// Reason says why the rolling update deletes a pod or creates one.
type Reason string

const (
	// ReplaceUnavailable: an old pod that is not available is deleted so the
	// manage pass recreates it; it costs no budget (maxSurge 0).
	ReplaceUnavailable Reason = "ReplaceUnavailable"
	// Replace: an available old pod is deleted within maxUnavailable (maxSurge 0).
	Replace Reason = "Replace"
	// SurgeReplaced: the node's new pod is available, so its old pod goes.
	SurgeReplaced Reason = "SurgeReplaced"
	// SurgeIneligible: an old, unavailable pod on a node the DaemonSet no
	// longer schedules to is deleted without a replacement.
	SurgeIneligible Reason = "SurgeIneligible"
	// SurgeSunset: an old, available pod on a node the DaemonSet no longer
	// schedules to is deleted because more pods are available than desired.
	SurgeSunset Reason = "SurgeSunset"
	// SurgeUnavailable: a new pod is created next to an old pod that is not
	// available; it costs no surge budget.
	SurgeUnavailable Reason = "SurgeUnavailable"
	// Surge: a new pod is created next to an available old pod within maxSurge.
	Surge Reason = "Surge"
)

// Delete is an old pod the rolling update removes.
type Delete struct {
	Pod    *corev1.Pod
	Node   string
	Reason Reason
}

// Create is a node that gets a new pod next to its old one (surge only).
type Create struct {
	Node   string
	Reason Reason
}

// Plan is what one rolling-update pass does. The zero Plan does nothing.
type Plan struct {
	Budget Budget
	// Deletes are sorted by node name, then pod name.
	Deletes []Delete
	// Creates are sorted by node name.
	Creates []Create
}

// Input is the state the rolling update reads.
type Input struct {
	DaemonSet *appsv1.DaemonSet
	// Hash is the controller-revision-hash of the current revision.
	Hash string
	// Nodes holds every node that has daemon pods (including nodes that no
	// longer exist, with Node nil) and every existing node, each with its
	// placement decision, in any order. Pods exclude terminal pods being
	// deleted, as kube-controller-manager's getNodesToDaemonPods(false).
	// Whether a pod is updated, being deleted or available is its
	// placement.PodState as placement.NewPodClassifier(DaemonSet, Hash, Now)
	// computes it, read from a node's States when they are set.
	Nodes []placement.NodePods
	// Now is the time availability (minReadySeconds) is judged at.
	Now time.Time
}

// ErrNoDaemonSet is Update's error for an Input without a DaemonSet.
var ErrNoDaemonSet = errors.New("rollout: no DaemonSet")

// ErrNodeNotFound is wrapped by Update's error when a surge candidate's
// node does not exist: kube-controller-manager fails the whole rolling
// update then (a pod bound to a deleted node blocks a surge rollout until
// the pod garbage collector removes it).
var ErrNodeNotFound = errors.New("node not found")

// Update decides which old pods to delete and, with maxSurge, which nodes
// get a new pod, as kube-controller-manager v1.37.2's rollingUpdate does.
// It runs only when the manage pass has nothing to do; the caller checks
// that. OnDelete and other strategies return the zero Plan; an Input
// without a DaemonSet returns ErrNoDaemonSet.
//
// Where upstream walks a Go map and so picks candidates at random when the
// budget is smaller than the candidates, Update picks by node name: the
// set of pods deleted (or nodes surged) is then the first ones in name
// order among the candidates, and the number of picks is always upstream's.
func Update(in Input, _ Options) (Plan, error) {
	ds := in.DaemonSet
	if ds == nil {
		return Plan{}, ErrNoDaemonSet
	}
	if ds.Spec.UpdateStrategy.Type != appsv1.RollingUpdateDaemonSetStrategyType {
		return Plan{}, nil
	}
	desired := 0
	for i := range in.Nodes {
		if in.Nodes[i].Node != nil && in.Nodes[i].Decision.ShouldRun {
			desired++
		}
	}
	budget, err := Budgets(ds, desired)
	if err != nil {
		return Plan{}, fmt.Errorf("couldn't get unavailable numbers: %w", err)
	}
	u := updater{in: in, budget: budget, classifier: placement.NewPodClassifier(ds, in.Hash, in.Now)}
	if budget.MaxSurge == 0 {
		return u.replace(), nil
	}
	return u.surge()
}

type updater struct {
	in         Input
	budget     Budget
	classifier placement.PodClassifier
}

// relevant reports whether rollingUpdate looks at this node: it walks the
// nodes with pods plus the existing nodes that should run one.
func relevant(n *placement.NodePods) bool {
	return len(n.Pods) > 0 || (n.Node != nil && n.Decision.ShouldRun)
}

// livePod is a pod not being deleted, with its state.
type livePod struct {
	pod   *corev1.Pod // nil for none
	state placement.PodState
}

func (p livePod) available() bool { return p.state&placement.PodAvailable != 0 }

// split returns the node's live new and old pod, or ok false when the node
// has more than one of either (the manage pass cleans it up first).
func (u *updater) split(n *placement.NodePods) (newPod, oldPod livePod, ok bool) {
	for k, pod := range n.Pods {
		if pod == nil {
			continue
		}
		s := n.StateAt(k, &u.classifier)
		if s&placement.PodDeleting != 0 {
			continue
		}
		if s&placement.PodUpdated != 0 {
			if newPod.pod != nil {
				return livePod{}, livePod{}, false
			}
			newPod = livePod{pod, s}
		} else {
			if oldPod.pod != nil {
				return livePod{}, livePod{}, false
			}
			oldPod = livePod{pod, s}
		}
	}
	return newPod, oldPod, true
}

// replace is the maxSurge == 0 branch: delete unavailable old pods freely,
// and available old pods while fewer than maxUnavailable desired nodes are
// unavailable.
func (u *updater) replace() Plan {
	plan := Plan{Budget: u.budget}
	unavailable := 0
	// The room left for candidates never exceeds maxUnavailable, so only
	// that many of the smallest are kept.
	candidates := smallest.New(u.budget.MaxUnavailable, len(u.in.Nodes), compareDeletes)
	for i := range u.in.Nodes {
		n := &u.in.Nodes[i]
		if !relevant(n) {
			continue
		}
		newPod, oldPod, ok := u.split(n)
		switch {
		case !ok, newPod.pod == nil && oldPod.pod == nil, newPod.pod != nil && oldPod.pod != nil:
			// The manage pass creates or prunes here; count it unavailable.
			unavailable++
		case newPod.pod != nil:
			if !newPod.available() {
				unavailable++
			}
		case !oldPod.available():
			plan.Deletes = append(plan.Deletes, Delete{Pod: oldPod.pod, Node: n.Name, Reason: ReplaceUnavailable})
			unavailable++
		default:
			candidates.Add(Delete{Pod: oldPod.pod, Node: n.Name, Reason: Replace})
		}
	}
	// Upstream only collects candidates while the running count is below the
	// budget; the number it uses is the same either way.
	plan.Deletes = append(plan.Deletes, candidates.First(u.budget.MaxUnavailable-unavailable)...)
	sortDeletes(plan.Deletes)
	return plan
}

// surge is the maxSurge > 0 branch: create a new pod next to old ones
// (freely where the old pod is unavailable, up to maxSurge otherwise),
// delete old pods once their replacement is available, and delete pods on
// nodes that no longer fit only while more pods are available than desired.
func (u *updater) surge() (Plan, error) {
	plan := Plan{Budget: u.budget}
	surged, availableCount := 0, 0
	// As in replace, at most maxSurge candidates are surged.
	candidates := smallest.New(u.budget.MaxSurge, len(u.in.Nodes), compareCreates)
	sunset := smallest.New(math.MaxInt, 0, compareDeletes)
	var missing string // smallest name of a surge candidate's vanished node
	for i := range u.in.Nodes {
		n := &u.in.Nodes[i]
		if !relevant(n) {
			continue
		}
		newPod, oldPod, ok := u.split(n)
		if !ok {
			surged++
			continue
		}
		switch {
		case oldPod.pod != nil:
			if oldPod.available() {
				availableCount++
			}
		case newPod.pod != nil:
			if newPod.available() {
				availableCount++
			}
		}
		switch {
		case oldPod.pod == nil:
			// Nothing to replace; the manage pass creates where needed.
		case newPod.pod == nil:
			if n.Node == nil {
				if missing == "" || n.Name < missing {
					missing = n.Name
				}
				continue
			}
			switch {
			case !oldPod.available() && !n.Decision.ShouldRun:
				plan.Deletes = append(plan.Deletes, Delete{Pod: oldPod.pod, Node: n.Name, Reason: SurgeIneligible})
			case !oldPod.available():
				plan.Creates = append(plan.Creates, Create{Node: n.Name, Reason: SurgeUnavailable})
			case !n.Decision.ShouldRun:
				sunset.Add(Delete{Pod: oldPod.pod, Node: n.Name, Reason: SurgeSunset})
			default:
				candidates.Add(Create{Node: n.Name, Reason: Surge})
			}
		case !newPod.available():
			surged++
		default:
			plan.Deletes = append(plan.Deletes, Delete{Pod: oldPod.pod, Node: n.Name, Reason: SurgeReplaced})
		}
	}
	if missing != "" {
		// Upstream returns at the first such node it meets; report the first by name.
		return Plan{}, fmt.Errorf("couldn't get node for nodeName %q: %w", missing, ErrNodeNotFound)
	}
	if extra := availableCount - u.budget.Desired; extra > 0 {
		plan.Deletes = append(plan.Deletes, sunset.First(extra)...)
	}
	plan.Creates = append(plan.Creates, candidates.First(u.budget.MaxSurge-surged)...)
	sortDeletes(plan.Deletes)
	sortCreates(plan.Creates)
	return plan, nil
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
