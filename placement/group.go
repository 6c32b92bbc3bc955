package placement

import (
	"cmp"
	"errors"
	"fmt"
	"iter"
	"slices"
	"strings"
	"time"

	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/labels"

	"github.com/dsplan/dsplan/internal/labelmatch"
)

// GroupInput is what [Group] reads: one DaemonSet's compiled placement, the
// revision it is judged against, the time, the cluster's nodes and the pods
// of the DaemonSet's namespace.
type GroupInput struct {
	// Evaluator is the DaemonSet's placement, compiled by [New]. Required.
	Evaluator *Evaluator
	// Hash is the controller-revision-hash of the current revision (package
	// revision): pods carrying it are updated.
	Hash string
	// Now is the time pod availability (minReadySeconds) is judged at.
	Now time.Time
	// Nodes are the cluster's nodes, in any order. Ignored when NodeSet is
	// set.
	Nodes []*corev1.Node
	// NodeSet, when not nil, holds the cluster's nodes prepared once for
	// many DaemonSets (see [NewNodeSet]); the result is the same as with
	// its nodes in Nodes, faster.
	NodeSet *NodeSet
	// Pods are the pods of the DaemonSet's namespace, in any order; pods of
	// other namespaces and pods controlled by other owners are ignored.
	Pods []*corev1.Pod
}

// Grouping is one DaemonSet's pods claimed and grouped by the node they
// target, next to each node's placement [Decision]: the view of the
// cluster that kube-controller-manager's getNodesToDaemonPods gives its
// manage pass, rolling update and status, and that package rollout's Update
// and package status's Compute take. Build one with [Group] (or a
// [Grouper], which reuses memory).
//
// A Grouping is immutable: it is read through methods, and shares the
// nodes and pods (not copies) with its input, which must not be modified
// while it is in use. It is safe for concurrent reads.
//
// Its entries are, in this order:
//
//  1. the existing nodes, in input order ([Grouping.Existing] of them);
//     each node evaluated once ([Evaluator.Evaluate]); a nil node, or a
//     node whose name an earlier node has, is kept as an entry without
//     name, node or pods (and reported by [Grouping.Warnings]);
//  2. the nodes pods target that do not exist (vanished or never there),
//     sorted by name, with the zero Decision.
//
// Each entry's pods are the DaemonSet's pods that target the node, oldest
// first ([ComparePods]), without terminal (Failed or Succeeded) pods
// being deleted, which kube-controller-manager leaves out of these lists.
type Grouping struct {
	eval     *Evaluator
	hash     string
	now      time.Time
	nodes    []nodeEntry
	existing int
	desired  int
	// pods and states are every node's pods and their states, a range of
	// them per node.
	pods   []*corev1.Pod
	states []podState
	// claimed are the DaemonSet's pods after claiming, in input order;
	// targeting those of them with a target node, including terminal pods
	// being deleted.
	claimed, targeting []*corev1.Pod
	claims             []Claim
	warnings           []Warning
}

// nodeEntry is one node of a Grouping.
type nodeEntry struct {
	name     string
	node     *corev1.Node
	decision Decision
	// from and to delimit the node's pods in Grouping.pods.
	from, to int32
}

// NodePods is one entry of a [Grouping]: a node (existing or not), its
// decision and the daemon pods targeting it. It is a small read-only view;
// the zero NodePods is not usable.
type NodePods struct {
	g *Grouping
	e *nodeEntry
}

// Name is the node name the pods target; "" for a nil or repeated node.
func (n NodePods) Name() string { return n.e.name }

// Node is the Node object, nil when the node does not exist.
func (n NodePods) Node() *corev1.Node { return n.e.node }

// Exists reports whether the node exists (Node is not nil).
func (n NodePods) Exists() bool { return n.e.node != nil }

// Decision is the node's placement decision; the zero Decision (nothing may
// run) for a node that does not exist.
func (n NodePods) Decision() Decision { return n.e.decision }

// Len is the number of the DaemonSet's pods that target the node.
func (n NodePods) Len() int { return int(n.e.to - n.e.from) }

// Pod returns the k-th pod, oldest first; k must be in [0, Len()).
func (n NodePods) Pod(k int) Pod {
	i := int(n.e.from) + k
	if k < 0 || i >= int(n.e.to) {
		panic(fmt.Sprintf("placement: NodePods.Pod(%d) out of range [0, %d)", k, n.Len()))
	}
	return Pod{n.g.pods[i], n.g.states[i]}
}

// Pods yields the node's pods, oldest first.
func (n NodePods) Pods() iter.Seq2[int, Pod] {
	return func(yield func(int, Pod) bool) {
		for i := n.e.from; i < n.e.to; i++ {
			if !yield(int(i-n.e.from), Pod{n.g.pods[i], n.g.states[i]}) {
				return
			}
		}
	}
}

// Pod is one daemon pod of a [Grouping], with what the DaemonSet
// controller reads of it, judged against the Grouping's revision hash and
// time.
type Pod struct {
	pod   *corev1.Pod
	state podState
}

// Object returns the pod (shared with the Grouping's input: do not modify).
func (p Pod) Object() *corev1.Pod { return p.pod }

// Name is the pod's name.
func (p Pod) Name() string { return p.pod.Name }

// Deleting reports whether the pod has a deletionTimestamp.
func (p Pod) Deleting() bool { return p.state&podDeleting != 0 }

// Failed reports whether the pod's phase is Failed.
func (p Pod) Failed() bool { return p.state&podFailed != 0 }

// Succeeded reports whether the pod's phase is Succeeded.
func (p Pod) Succeeded() bool { return p.state&podSucceeded != 0 }

// Ready reports whether the pod's Ready condition is True ([IsPodReady]).
func (p Pod) Ready() bool { return p.state&podReady != 0 }

// Available reports whether the pod has been ready for the DaemonSet's
// minReadySeconds at the Grouping's time ([IsPodAvailable]).
func (p Pod) Available() bool { return p.state&podAvailable != 0 }

// Updated reports whether the pod belongs to the Grouping's revision
// ([IsPodUpdated] with its hash and the DaemonSet's template generation).
func (p Pod) Updated() bool { return p.state&podUpdated != 0 }

// Len is the number of entries: existing nodes, then nodes that do not
// exist but have pods.
func (g *Grouping) Len() int { return len(g.nodes) }

// Existing is the number of existing-node entries, which come first.
func (g *Grouping) Existing() int { return g.existing }

// At returns entry i; i must be in [0, Len()).
func (g *Grouping) At(i int) NodePods { return NodePods{g, &g.nodes[i]} }

// All yields every entry, in order.
func (g *Grouping) All() iter.Seq2[int, NodePods] {
	return func(yield func(int, NodePods) bool) {
		for i := range g.nodes {
			if !yield(i, NodePods{g, &g.nodes[i]}) {
				return
			}
		}
	}
}

// Lookup returns the entry of the node named name, existing or not, and
// whether there is one. It costs O(Len()).
func (g *Grouping) Lookup(name string) (NodePods, bool) {
	if name == "" {
		return NodePods{}, false
	}
	for i := range g.nodes {
		if g.nodes[i].name == name {
			return NodePods{g, &g.nodes[i]}, true
		}
	}
	return NodePods{}, false
}

// Desired is the number of existing nodes whose Decision.ShouldRun holds:
// status.desiredNumberScheduled, and what the rolling update's budgets
// scale against.
func (g *Grouping) Desired() int { return g.desired }

// Hash is the revision hash the pods were judged against.
func (g *Grouping) Hash() string { return g.hash }

// Now is the time the pods were judged at.
func (g *Grouping) Now() time.Time { return g.now }

// Evaluator is the placement the nodes were evaluated with.
func (g *Grouping) Evaluator() *Evaluator { return g.eval }

// Claims returns the adopt and release patches claiming the pods sends,
// sorted ([SortClaims]), without repeats. The slice is the caller's.
func (g *Grouping) Claims() []Claim {
	if len(g.claims) == 0 {
		return nil
	}
	return slices.Clone(g.claims)
}

// ClaimedPods yields the DaemonSet's pods after claiming (what
// kube-controller-manager's getDaemonPods returns), in input order.
func (g *Grouping) ClaimedPods() iter.Seq[*corev1.Pod] { return slices.Values(g.claimed) }

// TargetingPods yields the claimed pods that target a node (existing or
// not), including terminal pods being deleted: the pods whose revision
// hashes keep ControllerRevisions from being cleaned up
// (getNodesToDaemonPods with includeDeletedTerminal), in input order.
func (g *Grouping) TargetingPods() iter.Seq[*corev1.Pod] { return slices.Values(g.targeting) }

// Warnings reports the input Group skipped: nil nodes and pods, and nodes
// and pods listed twice (the later entry is dropped). The slice is the
// caller's.
func (g *Grouping) Warnings() []Warning { return slices.Clone(g.warnings) }

// Errors of Group.
var (
	// ErrNoIdentity is wrapped by Group's error for a DaemonSet without a
	// namespace, name or UID: its pods cannot be claimed.
	ErrNoIdentity = errors.New("DaemonSet has no namespace, name or uid")
)

// Group claims the DaemonSet's pods and groups them by the node they
// target, as kube-controller-manager v1.37.2's getNodesToDaemonPods does:
//
//  1. candidates are the pods of the DaemonSet's namespace that are
//     orphans or whose controller reference names the DaemonSet (kind,
//     name and UID); they are claimed as [ClaimObjects] rules, with the
//     DaemonSet's selector;
//  2. a claimed pod targets spec.nodeName, or else the node its required
//     node affinity pins ([TargetNodeName]); pods without a target are
//     left out of the per-node lists;
//  3. terminal pods being deleted are left out of the per-node lists (but
//     not of [Grouping.TargetingPods]);
//  4. a node's pods are sorted oldest first ([ComparePods]); a pod listed
//     twice on one node (same namespace and name) counts once.
//
// The error wraps [ErrNoDaemonSet] for a nil Evaluator, [ErrNoIdentity],
// or the selector's parse error; the Grouping is then nil. Group reads
// each node and pod once, O(nodes + pods); it allocates the result's
// memory, which a [Grouper] reuses instead.
func Group(in GroupInput) (*Grouping, error) {
	var gr Grouper
	return gr.Group(in)
}

// Grouper holds the working memory of [Group] for reuse, so that grouping
// 100,000 nodes again allocates nothing: the Grouping it returns stays
// valid until the Grouper's next Group or Reset. The zero Grouper is ready
// to use; a Grouper must not be used by two goroutines at once.
type Grouper struct {
	g Grouping

	index  nodeIndex
	slot   []int32
	states []podState
	names  []string
	count  []int32
	pos    []int32   // the input position of each laid-out pod
	pairs  []podPair // sortPods
	// memoryOrder
	order, order2 []int32
	keys, keys2   []uint64
	marks         []uint8
}

// Reset drops the Grouper's references to the last input's nodes and pods,
// so that keeping the Grouper does not keep them alive, and invalidates
// the last Grouping. Its memory stays for reuse.
func (gr *Grouper) Reset() {
	g := &gr.g
	clear(gr.index.names)
	gr.index.names, gr.index.repeats = gr.index.names[:0], gr.index.repeats[:0]
	clear(g.nodes)
	clear(g.pods)
	*g = Grouping{nodes: g.nodes[:0], pods: g.pods[:0], states: g.states[:0], claims: g.claims[:0]}
}

// Marks of a pod in Group's first pass.
const (
	markClaimed   = 1 << iota // claimed by the DaemonSet
	markTargeting             // claimed, with a target node
	markDuplicate             // listed twice: the later copy is dropped
)

// Group is [Group] in gr's memory.
func (gr *Grouper) Group(in GroupInput) (*Grouping, error) {
	gr.Reset()
	e := in.Evaluator
	if e == nil {
		return nil, ErrNoDaemonSet
	}
	if e.selectorErr != nil {
		return nil, e.selectorErr
	}
	if e.owner.Namespace == "" || e.owner.Name == "" || e.owner.UID == "" {
		return nil, ErrNoIdentity
	}
	g := &gr.g
	g.eval, g.hash, g.now = e, in.Hash, in.Now
	nodes := in.Nodes
	var index *nodeIndex
	var set *setEvaluator
	if in.NodeSet != nil {
		nodes, index, set = in.NodeSet.nodes, &in.NodeSet.index, e.on(in.NodeSet)
	}
	g.nodes = resize(g.nodes, len(nodes))
	g.existing = len(nodes)
	// One pass over the nodes reads each node once: its name, and what
	// its decision needs. The index is then built from the names alone
	// (reading every node twice cost a cache miss per node: 9 ms at
	// 100,000 nodes), and a node whose name an earlier node has is
	// dropped afterwards.
	var names []string
	var repeats []int
	if index == nil {
		slots := resize(gr.index.slots, indexSize(len(nodes)))
		clear(slots)
		gr.index = newNodeIndex(slots, gr.index.names)
		index = &gr.index
		names = resize(index.names, len(nodes))
	} else {
		repeats = index.repeats
	}
	// g.nodes is all zeros here (Reset clears it, and what lies beyond its
	// length was cleared when it was in use): only the fields set are
	// written; writing whole entries cost a tenth of a fresh plan.
	nilNodes := 0
	var repeated []string
	for i, node := range nodes {
		n := &g.nodes[i]
		switch {
		case node == nil:
			nilNodes++
			if names != nil {
				names[i] = ""
			}
		case len(repeats) > 0 && repeats[0] == i:
			// Of two nodes with one name the first counts
			// (kube-controller-manager's maps are keyed by name).
			repeats = repeats[1:]
			repeated = append(repeated, node.Name)
		default:
			n.name, n.node = node.Name, node
			if names != nil {
				names[i] = n.name
			}
			if set != nil {
				n.decision = set.evaluate(i)
			} else {
				n.decision = e.Evaluate(node)
			}
			if n.decision.ShouldRun() {
				g.desired++
			}
		}
	}
	if names != nil {
		index.insertNames(names)
		for _, i := range index.repeats {
			n := &g.nodes[i]
			if n.decision.ShouldRun() {
				g.desired--
			}
			repeated = append(repeated, n.name)
			*n = nodeEntry{}
		}
	}
	if nilNodes > 0 {
		g.warnings = append(g.warnings, Warning{Field: "Nodes", Message: fmt.Sprintf("%d nil entries ignored", nilNodes)})
	}
	if len(repeated) > 0 {
		g.warnings = append(g.warnings, Warning{Field: "Nodes", Message: "listed more than once, later entries ignored: " + strings.Join(repeated, ", ")})
	}
	gr.groupPods(e, index, in.Pods)
	SortClaims(g.claims)
	g.claims = slices.Compact(g.claims)
	return g, nil
}

// groupPods is Group's pass over the pods. It reads each pod once, in
// memory order (see memoryOrder): at 100,000 nodes, walking the pods'
// memory is what grouping costs.
func (gr *Grouper) groupPods(e *Evaluator, index *nodeIndex, pods []*corev1.Pod) {
	g := &gr.g
	judge := NewPodJudge(e, g.hash, g.now)
	// First pass, in memory order: claim each pod and classify it. marks[i]
	// records what the claimed and targeting lists need of pods[i], which
	// keep list order and are built afterwards; slot[i] becomes the
	// position of pods[i]'s node in g.nodes, -1 for a pod left out.
	slot := resize(gr.slot, len(pods))
	states := resize(gr.states, len(pods))
	names := resize(gr.names, len(pods))
	marks := resize(gr.marks, len(pods))
	gr.slot, gr.states, gr.names, gr.marks = slot, states, names, marks
	nilPods := 0
	order := memoryOrder(gr, pods)
	for _, i32 := range order {
		i := int(i32)
		pod := pods[i]
		slot[i], marks[i] = -1, 0
		if pod == nil {
			nilPods++
			continue
		}
		v := judge.Judge(pod)
		if v.Claim.Type != "" {
			g.claims = append(g.claims, v.Claim)
		}
		if !v.Claimed {
			continue
		}
		marks[i] = markClaimed
		if !v.Targeting {
			continue
		}
		marks[i] |= markTargeting
		if !v.Listed {
			continue
		}
		names[i], slot[i], states[i] = v.Node, 0, v.Pod.state
	}
	if nilPods > 0 {
		g.warnings = append(g.warnings, Warning{Field: "Pods", Message: fmt.Sprintf("%d nil entries ignored", nilPods)})
	}

	// Resolving the names, which counts pods per node, is a loop of its
	// own: the index's table accesses are cache misses, which a short loop
	// overlaps.
	count := resize(gr.count, len(g.nodes))
	clear(count)
	var vanished map[string]int32
	for _, i := range order {
		if slot[i] < 0 {
			continue
		}
		name := names[i]
		at, ok := index.lookup(name)
		if !ok {
			if at, ok = vanished[name]; !ok {
				if vanished == nil {
					vanished = make(map[string]int32)
				}
				at = int32(len(g.nodes))
				vanished[name] = at
				g.nodes = append(g.nodes, nodeEntry{name: name})
				count = append(count, 0)
			}
		}
		slot[i] = at
		count[at]++
	}
	clear(names)

	// Second pass: lay the pods out in one array, a range per node in input
	// order; from, filled backwards, becomes where each node's pods start.
	total := int32(0)
	for i, c := range count {
		total += c
		count[i] = total
	}
	g.pods = resize(g.pods, int(total))
	g.states = resize(g.states, int(total))
	pos := resize(gr.pos, int(total))
	for i := len(pods) - 1; i >= 0; i-- {
		if at := slot[i]; at >= 0 {
			count[at]--
			g.pods[count[at]], g.states[count[at]], pos[count[at]] = pods[i], states[i], int32(i)
		}
	}
	gr.count, gr.pos = count, pos
	for i := range g.nodes {
		n := &g.nodes[i]
		n.from = count[i]
		if i+1 < len(count) {
			n.to = count[i+1]
		} else {
			n.to = total
		}
		if n.to-n.from > 1 {
			gr.sortPods(n)
		}
	}
	if len(vanished) > 1 {
		slices.SortFunc(g.nodes[g.existing:], func(a, b nodeEntry) int { return strings.Compare(a.name, b.name) })
	}

	claimed := sublist[*corev1.Pod]{list: pods}
	targeting := sublist[*corev1.Pod]{list: pods}
	for i, m := range marks {
		claimed.add(i, m&markClaimed != 0 && m&markDuplicate == 0)
		targeting.add(i, m&markTargeting != 0 && m&markDuplicate == 0)
	}
	g.claimed, g.targeting = claimed.result(), targeting.result()
}

// podPair is a pod with its state and input position, as sortPods moves
// them.
type podPair struct {
	pod   *corev1.Pod
	state podState
	at    int32
}

// sortPods sorts node n's pods as ComparePods orders them, oldest first,
// moving each pod's state along, and drops a pod listed twice (the same
// namespace and name; the earlier in input order stays) by marking it a
// duplicate and shrinking the node's range.
func (gr *Grouper) sortPods(n *nodeEntry) {
	g := &gr.g
	buf := gr.pairs[:0]
	for k := n.from; k < n.to; k++ {
		buf = append(buf, podPair{g.pods[k], g.states[k], gr.pos[k]})
	}
	slices.SortFunc(buf, func(a, b podPair) int {
		return cmp.Or(strings.Compare(a.pod.Namespace, b.pod.Namespace), strings.Compare(a.pod.Name, b.pod.Name), cmp.Compare(a.at, b.at))
	})
	kept := buf[:1]
	for _, p := range buf[1:] {
		if last := kept[len(kept)-1].pod; p.pod.Name == last.Name && p.pod.Namespace == last.Namespace {
			gr.marks[p.at] |= markDuplicate
			g.warnings = append(g.warnings, Warning{Field: "Pods", Message: fmt.Sprintf("pod %s/%s listed more than once, later entries ignored", p.pod.Namespace, p.pod.Name)})
			continue
		}
		kept = append(kept, p)
	}
	slices.SortFunc(kept, func(a, b podPair) int { return cmp.Or(ComparePods(a.pod, b.pod), cmp.Compare(a.at, b.at)) })
	for k, p := range kept {
		g.pods[int(n.from)+k], g.states[int(n.from)+k] = p.pod, p.state
	}
	n.to = n.from + int32(len(kept))
	clear(buf) // keep no pods
	gr.pairs = buf
}

// isCandidate reports whether kube-controller-manager's pod index returns
// pod for the DaemonSet: pods in its namespace that are orphans or whose
// controller reference (ref) names this DaemonSet (kind, name and uid).
func isCandidate(e *Evaluator, pod *corev1.Pod, ref *metav1.OwnerReference) bool {
	return pod.Namespace == e.owner.Namespace &&
		(ref == nil || ref.Kind == ControllerKind.Kind && ref.Name == e.owner.Name && ref.UID == e.owner.UID)
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

// resize returns s with length n, reusing its memory when it is large
// enough; the contents are not cleared.
func resize[T any](s []T, n int) []T {
	if cap(s) < n {
		return make([]T, n, n+n/8+1)
	}
	return s[:n]
}

// sublist collects, in order, the elements of list that are kept; while
// every element so far is kept it copies nothing, and when all are kept
// the result is list itself.
type sublist[T any] struct {
	list    []T
	kept    []T
	copying bool
}

// add keeps or drops list[i]; add must be called for every i in order.
func (s *sublist[T]) add(i int, keep bool) {
	switch {
	case keep && s.copying:
		s.kept = append(s.kept, s.list[i])
	case !keep && !s.copying:
		s.copying = true
		s.kept = append(make([]T, 0, len(s.list)-1), s.list[:i]...)
	}
}

func (s *sublist[T]) result() []T {
	if s.copying {
		return s.kept
	}
	return s.list
}
