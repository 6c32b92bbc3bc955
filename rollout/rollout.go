package rollout

import (
	"errors"
	"fmt"
	"iter"
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
	if opts.active() || opts.Explain {
		return u.controlled(budget.MaxSurge > 0)
	}
	return decide(budget, tallyOf(g, budget))
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

// NodeKind is what the rolling update makes of one node ([Classify]):
// whether it looks at the node at all, and what the node then is to it.
// The kinds of the two branches of [Update] differ: without surge
// (maxSurge scaled to 0) a node is one of NodeUnavailable to NodeUpdated,
// with surge one of NodeSurging to NodeSurgeReplaced. The zero NodeKind is
// NodeIgnored.
type NodeKind uint8

// Node kinds. Each names what [Update] does with such a node.
const (
	// NodeIgnored: the rolling update does not look at the node: it has no
	// pods, and it does not exist or the DaemonSet should not run there.
	NodeIgnored NodeKind = iota

	// NodeUnavailable (without surge): counted unavailable, nothing to
	// replace: the node has no live pod, more than one, or a new pod that
	// is not available.
	NodeUnavailable
	// NodeReplaceUnavailable (without surge): the node's only live pod is
	// old and not available; it is deleted (DeleteReplaceUnavailable)
	// without spending budget, and the node counts unavailable.
	NodeReplaceUnavailable
	// NodeReplaceCandidate (without surge): the node's only live pod is old
	// and available; it is deleted (DeleteReplace) while maxUnavailable
	// allows, the first candidates in node-name order first.
	NodeReplaceCandidate
	// NodeUpdated (without surge): the node's only live pod is new and
	// available.
	NodeUpdated

	// NodeSurging (with surge): counted against maxSurge: the node has more
	// than one live new or old pod, or an old pod next to a new one that is
	// not available yet.
	NodeSurging
	// NodeNoOld (with surge): no live old pod, nothing to replace.
	NodeNoOld
	// NodeMissing (with surge): an old pod and no new one on a node that
	// does not exist: the rolling update fails ([ErrNodeNotFound]).
	NodeMissing
	// NodeSurgeIneligible (with surge): an old pod that is not available,
	// no new one, on a node the DaemonSet should not run on: the old pod is
	// deleted (DeleteSurgeIneligible).
	NodeSurgeIneligible
	// NodeSurgeUnavailable (with surge): an old pod that is not available,
	// no new one: a new pod is created next to it (CreateSurgeUnavailable)
	// without spending budget.
	NodeSurgeUnavailable
	// NodeSunset (with surge): an available old pod, no new one, on a node
	// the DaemonSet should not run on: deleted (DeleteSurgeSunset) while
	// more nodes are available than desired, the first in node-name order
	// first.
	NodeSunset
	// NodeSurgeCandidate (with surge): an available old pod, no new one: a
	// new pod is created next to it (CreateSurge) while maxSurge allows,
	// the first candidates in node-name order first.
	NodeSurgeCandidate
	// NodeSurgeReplaced (with surge): the new pod next to the old one is
	// available: the old one is deleted (DeleteSurgeReplaced).
	NodeSurgeReplaced

	numKinds
)

// Acts reports whether the rolling update may act on a node of kind k:
// create or delete there, or fail on it. [Decide] reads the nodes of these
// kinds ([Nodes.First]); of the others it only counts them.
func (k NodeKind) Acts() bool {
	switch k {
	case NodeReplaceUnavailable, NodeReplaceCandidate, NodeMissing, NodeSurgeIneligible,
		NodeSurgeUnavailable, NodeSunset, NodeSurgeCandidate, NodeSurgeReplaced:
		return true
	}
	return false
}

// NodeClass is the rolling update's reading of one node ([Classify]).
type NodeClass struct {
	Kind NodeKind
	// Old is the node's live old pod, nil when it has none or the node is
	// NodeIgnored, NodeUnavailable with more than one live pod of a kind,
	// or NodeSurging with more than one.
	Old *corev1.Pod
	// Available (with surge): the node counts toward the available nodes
	// that decide sunsets: its old pod is available, or it has no old pod
	// and its new pod is.
	Available bool
}

// Classify is the rolling update's reading of one entry of a Grouping:
// the step of [Update] that looks at one node, without surge (surge false,
// maxSurge scaled to 0) or with it. Update classifies every entry of the
// Grouping and decides from the classes alone (see [Decide]); a caller
// that keeps the classes of a DaemonSet's nodes up to date node by node
// (package plan/incremental) calls it for each node that changes.
func Classify(n placement.NodePods, surge bool) NodeClass {
	if !relevant(n) {
		return NodeClass{}
	}
	newPod, oldPod, ok := split(n)
	c := NodeClass{}
	if ok && oldPod.ok {
		c.Old = oldPod.Object()
	}
	if !surge {
		switch {
		case !ok, !newPod.ok && !oldPod.ok, newPod.ok && oldPod.ok:
			// The manage pass creates or prunes here; count it unavailable.
			c.Kind = NodeUnavailable
		case newPod.ok && !newPod.Available():
			c.Kind = NodeUnavailable
		case newPod.ok:
			c.Kind = NodeUpdated
		case !oldPod.Available():
			c.Kind = NodeReplaceUnavailable
		default:
			c.Kind = NodeReplaceCandidate
		}
		return c
	}
	if !ok {
		c.Kind = NodeSurging
		return c
	}
	c.Available = availability(newPod, oldPod) == 1
	switch {
	case !oldPod.ok:
		// Nothing to replace; the manage pass creates where needed.
		c.Kind = NodeNoOld
	case !newPod.ok:
		switch {
		case !n.Exists():
			c.Kind = NodeMissing
		case !oldPod.Available() && !n.Decision().ShouldRun():
			c.Kind = NodeSurgeIneligible
		case !oldPod.Available():
			c.Kind = NodeSurgeUnavailable
		case !n.Decision().ShouldRun():
			c.Kind = NodeSunset
		default:
			c.Kind = NodeSurgeCandidate
		}
	case !newPod.Available():
		c.Kind = NodeSurging
	default:
		c.Kind = NodeSurgeReplaced
	}
	return c
}

// Nodes is a DaemonSet's nodes as the rolling update decides from them
// ([Decide]): how many there are of each [NodeKind], how many count as
// available, and the first of a kind in node-name order. [Update] tallies
// them from a Grouping in one pass; package plan/incremental keeps them up
// to date between events.
type Nodes interface {
	// Count returns the number of nodes of kind k.
	Count(k NodeKind) int
	// Available returns the number of nodes whose NodeClass.Available is
	// set.
	Available() int
	// First yields up to n nodes of kind k, each as its name and its old
	// pod (NodeClass.Old): when n < Count(k), the first n in node-name
	// order; otherwise all of them, in any order. n <= 0 yields nothing.
	// Decide calls it only for kinds that act ([NodeKind.Acts]).
	First(k NodeKind, n int) iter.Seq2[string, *corev1.Pod]
}

// Decide is [Update] with the zero Options over nodes instead of a
// Grouping, for callers that keep the classes of a DaemonSet's nodes
// themselves: nodes must hold the classes of every entry of the Grouping
// Update would read, each [Classify](n, b.MaxSurge > 0) where b is
// [Budgets](ds, desired), and desired is that Grouping's Desired. The
// result is then Update's. A nil ds or nodes returns an error wrapping
// [placement.ErrNoDaemonSet].
func Decide(ds *appsv1.DaemonSet, desired int, nodes Nodes) (Plan, error) {
	if ds == nil || nodes == nil {
		return Plan{}, fmt.Errorf("rollout: %w", placement.ErrNoDaemonSet)
	}
	if ds.Spec.UpdateStrategy.Type != appsv1.RollingUpdateDaemonSetStrategyType {
		return Plan{}, nil
	}
	budget, err := Budgets(ds, desired)
	if err != nil {
		return Plan{}, fmt.Errorf("couldn't get unavailable numbers: %w", err)
	}
	return decide(budget, nodes)
}

// decide is the rolling update without controls, from the nodes' classes.
//
// Without surge (maxSurge 0): delete unavailable old pods freely, and
// available old pods while fewer than maxUnavailable nodes are
// unavailable. Upstream only collects candidates while the running count
// is below the budget; the number it uses is the same either way.
//
// With surge: create a new pod next to old ones (freely where the old pod
// is unavailable, up to maxSurge otherwise), delete old pods once their
// replacement is available, and delete pods on nodes that no longer fit
// only while more pods are available than desired.
func decide(b Budget, nodes Nodes) (Plan, error) {
	plan := Plan{Budget: b}
	all := func(k NodeKind) iter.Seq2[string, *corev1.Pod] { return nodes.First(k, nodes.Count(k)) }
	del := func(node string, pod *corev1.Pod, reason DeleteReason) {
		plan.Deletes = append(plan.Deletes, Delete{Pod: pod, Node: node, Reason: reason})
	}
	create := func(node string, reason CreateReason) {
		plan.Creates = append(plan.Creates, Create{Node: node, Reason: reason})
	}
	if b.MaxSurge == 0 {
		for node, pod := range all(NodeReplaceUnavailable) {
			del(node, pod, DeleteReplaceUnavailable)
		}
		unavailable := nodes.Count(NodeUnavailable) + nodes.Count(NodeReplaceUnavailable)
		for node, pod := range nodes.First(NodeReplaceCandidate, b.MaxUnavailable-unavailable) {
			del(node, pod, DeleteReplace)
		}
		sortDeletes(plan.Deletes)
		return plan, nil
	}
	// A surge candidate on a vanished node fails the update. (A vanished
	// node named "" — a pod pinned to metadata.name "" — has always been
	// passed over here, though upstream's node lister would fail on it
	// too; the first other name is reported.)
	for node := range nodes.First(NodeMissing, 2) {
		if node != "" {
			return Plan{}, nodeNotFound(node)
		}
	}
	for node, pod := range all(NodeSurgeIneligible) {
		del(node, pod, DeleteSurgeIneligible)
	}
	for node := range all(NodeSurgeUnavailable) {
		create(node, CreateSurgeUnavailable)
	}
	for node, pod := range all(NodeSurgeReplaced) {
		del(node, pod, DeleteSurgeReplaced)
	}
	if extra := nodes.Available() - b.Desired; extra > 0 {
		for node, pod := range nodes.First(NodeSunset, extra) {
			del(node, pod, DeleteSurgeSunset)
		}
	}
	for node := range nodes.First(NodeSurgeCandidate, b.MaxSurge-nodes.Count(NodeSurging)) {
		create(node, CreateSurge)
	}
	sortDeletes(plan.Deletes)
	sortCreates(plan.Creates)
	return plan, nil
}

// pick is a node of a tally's kind with its old pod.
type pick struct {
	node string
	pod  *corev1.Pod
}

func comparePicks(a, b pick) int { return strings.Compare(a.node, b.node) }

// tally is Nodes counted over a Grouping in one pass (see tallyOf).
type tally struct {
	count     [numKinds]int
	available int
	// listed holds every node of the kinds decide takes whole; firsts the
	// first nodes, in name order, of the kinds it takes a budget of (as
	// many as the budget can take).
	listed [numKinds][]pick
	firsts [numKinds]*smallest.Set[pick]
}

// tallyOf classifies every entry of g for the branch of b. The room left
// for candidates never exceeds maxUnavailable (maxSurge with surge), so
// only that many of the smallest are kept.
func tallyOf(g *placement.Grouping, b Budget) *tally {
	t := &tally{}
	surge := b.MaxSurge > 0
	if surge {
		candidates := smallest.New(b.MaxSurge, g.Len(), comparePicks)
		sunset := smallest.New(math.MaxInt, 0, comparePicks)
		missing := smallest.New(2, 0, comparePicks)
		t.firsts[NodeSurgeCandidate], t.firsts[NodeSunset], t.firsts[NodeMissing] = &candidates, &sunset, &missing
	} else {
		candidates := smallest.New(b.MaxUnavailable, g.Len(), comparePicks)
		t.firsts[NodeReplaceCandidate] = &candidates
	}
	for _, n := range g.All() {
		c := Classify(n, surge)
		t.count[c.Kind]++
		if c.Available {
			t.available++
		}
		switch {
		case t.firsts[c.Kind] != nil:
			t.firsts[c.Kind].Add(pick{n.Name(), c.Old})
		case c.Kind.Acts():
			t.listed[c.Kind] = append(t.listed[c.Kind], pick{n.Name(), c.Old})
		}
	}
	return t
}

func (t *tally) Count(k NodeKind) int { return t.count[k] }

func (t *tally) Available() int { return t.available }

// First takes each kind once: the kept firsts are consumed.
func (t *tally) First(k NodeKind, n int) iter.Seq2[string, *corev1.Pod] {
	var picks []pick
	if s := t.firsts[k]; s != nil {
		picks = s.First(n)
	} else {
		picks = t.listed[k]
		if n < len(picks) {
			slices.SortFunc(picks, comparePicks)
			picks = picks[:max(0, n)]
		}
	}
	return func(yield func(string, *corev1.Pod) bool) {
		for _, p := range picks {
			if !yield(p.node, p.pod) {
				return
			}
		}
	}
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
