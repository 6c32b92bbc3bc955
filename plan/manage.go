package plan

import (
	"cmp"
	"hash/maphash"
	"slices"
	"strings"
	"sync"
	"time"

	appsv1 "k8s.io/api/apps/v1"
	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"

	"github.com/dsplan/dsplan/internal/claim"
	"github.com/dsplan/dsplan/internal/smallest"
	"github.com/dsplan/dsplan/placement"
	"github.com/dsplan/dsplan/rollout"

	"github.com/dsplan/dsplan/internal/target"
)

// initialFailedPodBackoff is the delay kube-controller-manager's failed-pod
// backoff starts with, and so the delay after it deletes one failed pod.
const initialFailedPodBackoff = time.Second

// grouping is the snapshot indexed by node, built once per plan.
type grouping struct {
	// nodes holds the existing nodes (input order) and then, sorted by
	// name, the nodes that do not exist but have daemon pods.
	nodes []placement.NodePods
	// existing is the number of existing nodes at the front of nodes.
	existing int
	// nilNodes and nilPods count the nil entries of the snapshot's lists,
	// which are skipped.
	nilNodes, nilPods int
	// claimed are the DaemonSet's pods after claiming, in input order, and
	// patches the claim patches, sorted.
	claimed []*corev1.Pod
	patches []claim.Patch
	// history holds the claimed pods that have a target node, including
	// terminal pods being deleted: the pods whose hashes keep revisions.
	history []*corev1.Pod
}

// scratch is the working memory of group. A plan returns none of it, so it
// is recycled through scratchPool: at 100,000 nodes it is about 10 MB, and
// allocating that afresh for every plan (page faults, then the garbage
// collector's work) cost more than the planning itself. sync.Pool keeps
// this safe for concurrent plans.
type scratch struct {
	nodes  []placement.NodePods
	slots  []uint64 // nodeIndex
	slot   []int32
	pflags []placement.PodState
	names  []string
	count  []int32
	flat   []*corev1.Pod
	flags  []placement.PodState
	pairs  []podState // sortPods
	// memoryOrder
	order, order2 []int32
	keys, keys2   []uint64
	marks         []uint8
}

var scratchPool = sync.Pool{New: func() any { return new(scratch) }}

// release clears sc's references to the snapshot's objects (so that the
// pool does not keep them alive; group also relies on sc.nodes being all
// zeros) and returns it to the pool. g is the grouping built from sc, which
// must not be used afterwards.
func (sc *scratch) release(g grouping) {
	sc.nodes = g.nodes[:0]
	clear(g.nodes)
	clear(sc.flat)
	scratchPool.Put(sc)
}

// Marks of a pod in group's first pass.
const (
	markClaimed = 1 << iota // claimed by the DaemonSet
	markHistory             // claimed, with a target node
)

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

// group evaluates every node once, claims the pods (the candidates of
// isCandidate, decided by claim.Decide) and indexes the claimed pods by
// the node they target, as
// kube-controller-manager's getNodesToDaemonPods: pods without a
// resolvable target are left out, and terminal pods being deleted are left
// out of the per-node lists. It reads each node and each pod once, the
// pods in memory order (see memoryOrder): at 100,000 nodes, walking the
// pods' memory is what planning costs. Cost: O(nodes + pods), in sc's
// memory.
//
// cluster, when not nil, holds nodes prepared: their index by name and
// their labels by column; otherwise group indexes them, and evaluates
// each node on its own.
func group(sc *scratch, ds *appsv1.DaemonSet, eval *placement.Evaluator, sel *podSelector, classify *placement.PodClassifier, nodes []*corev1.Node, cluster *Cluster, pods []*corev1.Pod) grouping {
	g := grouping{nodes: resize(sc.nodes, len(nodes)), existing: len(nodes)}
	var index *nodeIndex
	var onSet *placement.SetEvaluator
	if cluster != nil {
		index, onSet = &cluster.index, eval.On(cluster.set)
	}
	// sc.nodes is all zeros between plans (see release), so only these
	// fields are written: a whole NodePods, with its empty Pods and States,
	// costs a third more here.
	for i, node := range nodes {
		if node == nil {
			g.nilNodes++ // its entry stays empty: no name, no node, no pods
			continue
		}
		n := &g.nodes[i]
		n.Name, n.Node = node.Name, node
		if onSet != nil {
			n.Decision = onSet.Evaluate(i)
		} else {
			n.Decision = eval.Evaluate(node)
		}
	}
	if index == nil {
		sc.slots = resize(sc.slots, indexSize(len(nodes)))
		clear(sc.slots)
		index = &nodeIndex{seed: maphash.MakeSeed(), slots: sc.slots, mask: uint64(len(sc.slots) - 1)}
		insertAll(index, nodesPods(g.nodes), len(g.nodes))
	}

	// First pass, in memory order: claim each pod and classify it. marks[i]
	// records what the claimed and history lists need of pods[i], which
	// keep list order and are built afterwards; slot[i] becomes the
	// position of pods[i]'s node in g.nodes, -1 for a pod left out.
	slot := resize(sc.slot, len(pods))
	pflags := resize(sc.pflags, len(pods))
	names := resize(sc.names, len(pods))
	count := resize(sc.count, len(g.nodes))
	clear(count)
	claimed := sublist[*corev1.Pod]{list: pods}
	history := sublist[*corev1.Pod]{list: pods}
	var vanished map[string]int32
	marks := resize(sc.marks, len(pods))
	sc.marks = marks
	order := memoryOrder(sc, pods)
	for _, i32 := range order {
		i := int(i32)
		pod := pods[i]
		slot[i] = -1
		ok := false
		if pod == nil {
			g.nilPods++
		} else if ref := controllerOf(pod); isCandidate(ds, pod, ref) {
			var patch claim.Patch
			if ok, patch = claim.Decide(ds, pod, ref, sel.matchesPod); patch.Type != "" {
				g.patches = append(g.patches, patch)
			}
		}
		marks[i] = 0
		if !ok {
			continue
		}
		marks[i] = markClaimed
		name, failure := target.NodeName(pod)
		if failure != target.OK {
			continue
		}
		marks[i] |= markHistory
		f := classify.State(pod)
		if f&placement.PodDeleting != 0 && f.Terminal() {
			continue
		}
		names[i], slot[i], pflags[i] = name, 0, f
	}
	for i, m := range marks {
		claimed.add(i, m&markClaimed != 0)
		history.add(i, m&markHistory != 0)
	}
	claim.SortPatches(g.patches)
	g.claimed, g.history = claimed.result(), history.result()
	// Resolving the names, which counts pods per node, is a loop of its
	// own, for the same reason as inserting them.
	for _, i := range order {
		if slot[i] < 0 {
			continue
		}
		name := names[i]
		at, ok := index.lookup(g.nodes, name)
		if !ok {
			if at, ok = vanished[name]; !ok {
				if vanished == nil {
					vanished = make(map[string]int32)
				}
				at = int32(len(g.nodes))
				vanished[name] = at
				g.nodes = append(g.nodes, placement.NodePods{Name: name})
				count = append(count, 0)
			}
		}
		slot[i] = at
		count[at]++
	}
	clear(names)

	// Second pass: lay the pods out in one array, a sub-slice per node in
	// input order. end[i] is first where node i's pods end, then, filling
	// backwards, where they start.
	end := count
	total := int32(0)
	for i, c := range count {
		total += c
		end[i] = total
	}
	end = append(end, total)
	flat := resize(sc.flat, int(total))
	flags := resize(sc.flags, int(total))
	for i := len(pods) - 1; i >= 0; i-- {
		if at := slot[i]; at >= 0 {
			end[at]--
			flat[end[at]], flags[end[at]] = pods[i], pflags[i]
		}
	}
	// Each node's States are the pods' states, in the order of its Pods:
	// the later passes read them instead of the pods, whose memory at
	// 100,000 pods costs more to visit than the states do.
	for i := range g.nodes {
		if from, to := end[i], end[i+1]; to > from {
			ps, fs := flat[from:to:to], flags[from:to:to]
			if to-from > 1 {
				sc.pairs = sortPods(sc.pairs, ps, fs)
			}
			g.nodes[i].Pods, g.nodes[i].States = ps, fs
		}
	}
	if len(vanished) > 1 {
		tail := g.nodes[g.existing:]
		slices.SortFunc(tail, func(a, b placement.NodePods) int { return strings.Compare(a.Name, b.Name) })
	}
	sc.slot, sc.pflags, sc.names, sc.count, sc.flat, sc.flags = slot, pflags, names, end, flat, flags
	return g
}

// podState is a pod with its state, as sortPods moves them.
type podState struct {
	pod   *corev1.Pod
	state placement.PodState
}

// sortPods sorts a node's pods as placement.ComparePods orders them, oldest
// first, moving each pod's state along; buf is working memory, returned
// for reuse.
func sortPods(buf []podState, pods []*corev1.Pod, states []placement.PodState) []podState {
	buf = buf[:0]
	for k := range pods {
		buf = append(buf, podState{pods[k], states[k]})
	}
	slices.SortFunc(buf, func(a, b podState) int { return placement.ComparePods(a.pod, b.pod) })
	for k, p := range buf {
		pods[k], states[k] = p.pod, p.state
	}
	clear(buf) // the pool keeps no pods
	return buf
}

// controllerOf is metav1.GetControllerOfNoCopy(pod) without the interface
// call.
func controllerOf(pod *corev1.Pod) *metav1.OwnerReference {
	refs := pod.OwnerReferences
	for i := range refs {
		if refs[i].Controller != nil && *refs[i].Controller {
			return &refs[i]
		}
	}
	return nil
}

// isCandidate reports whether kube-controller-manager's pod index returns
// pod for ds: pods in its namespace that are orphans or whose controller
// reference (ref) names this DaemonSet (kind, name and uid).
func isCandidate(ds *appsv1.DaemonSet, pod *corev1.Pod, ref *metav1.OwnerReference) bool {
	return pod.Namespace == ds.Namespace &&
		(ref == nil || ref.Kind == "DaemonSet" && ref.Name == ds.Name && ref.UID == ds.UID)
}

// nodeIndex finds a node's position in a node list by name: an
// open-addressing hash table of positions, built once per plan or once per
// Cluster. At 100,000
// nodes a map[string]int cost more than the rest of group (setting up its
// table, then an insert and a lookup per node); this table is one
// allocation, and a 32-bit tag from the hash next to each position spares
// most string comparisons.
type nodeIndex struct {
	seed maphash.Seed
	// slots hold tag<<32 | position+1, 0 when empty.
	slots []uint64
	mask  uint64
}

// indexSize is the number of slots of a nodeIndex for n nodes: a power of
// two, at most half full.
func indexSize(n int) int {
	size := 16
	for size < 2*n {
		size *= 2
	}
	return size
}

// namedNodes is a node list as the index reads it: the name of the i-th
// node, false for a nil node.
type namedNodes interface{ nameAt(i int) (string, bool) }

// nodesPods and nodeList are the node lists of a plan and of a Cluster.
type (
	nodesPods []placement.NodePods
	nodeList  []*corev1.Node
)

func (l nodesPods) nameAt(i int) (string, bool) { return l[i].Name, l[i].Node != nil }

func (l nodeList) nameAt(i int) (string, bool) {
	if l[i] == nil {
		return "", false
	}
	return l[i].Name, true
}

// insertAll adds the first n nodes to the empty index x. It is a loop of
// its own: the table accesses are cache misses, which a short loop
// overlaps. Of two nodes with one name, the first stays
// (kube-controller-manager's node-to-pods map is keyed by name).
func insertAll[L namedNodes](x *nodeIndex, nodes L, n int) {
	for i := range n {
		name, ok := nodes.nameAt(i)
		if !ok {
			continue
		}
		h := maphash.String(x.seed, name)
		tag := h >> 32 << 32
		for j := h & x.mask; ; j = (j + 1) & x.mask {
			s := x.slots[j]
			if s == 0 {
				x.slots[j] = tag | uint64(i+1)
				break
			}
			if other, _ := nodes.nameAt(int(uint32(s) - 1)); s>>32<<32 == tag && other == name {
				break
			}
		}
	}
}

// lookup returns the position in nodes of the node named name.
func (x *nodeIndex) lookup(nodes []placement.NodePods, name string) (int32, bool) {
	h := maphash.String(x.seed, name)
	tag := h >> 32 << 32
	for j := h & x.mask; ; j = (j + 1) & x.mask {
		s := x.slots[j]
		if s == 0 {
			return 0, false
		}
		if s>>32<<32 == tag && nodes[uint32(s)-1].Name == name {
			return int32(uint32(s) - 1), true
		}
	}
}

// manageAndUpdate runs the manage pass and, when it has nothing to do, the
// rolling update, and records their creates and deletes.
func (p *Plan) manageAndUpdate(ds *appsv1.DaemonSet, eval *placement.Evaluator, g *grouping, s *Snapshot, opts Options) {
	burst := opts.BurstReplicas
	if burst <= 0 {
		burst = DefaultBurstReplicas
	}
	// Beyond the burst, kube-controller-manager leaves the rest to the syncs
	// that follow once these writes are observed; here the first ones in
	// sorted order go first. Only those are kept: a fresh DaemonSet on
	// 100,000 nodes has 100,000 creates, of which a plan holds 250.
	creates := smallest.New(burst, 0, compareCreates) // grows only with creates
	deletes := smallest.New(burst, 0, compareDeletes)
	surge := rollout.AllowsSurge(ds)
	for i := range g.nodes[:g.existing] {
		if p.podsShouldBeOnNode(&g.nodes[i], &deletes, surge, s) {
			creates.Add(Create{Node: g.nodes[i].Name, Reason: CreateMissing})
		}
	}
	for _, n := range g.nodes[g.existing:] {
		for _, pod := range n.Pods {
			if pod.Spec.NodeName == "" {
				deletes.Add(Delete{Pod: pod.Name, Node: n.Name, Reason: DeleteNodeGone})
			}
		}
	}

	if creates.Added() == 0 && deletes.Added() == 0 && ds.Spec.UpdateStrategy.Type == appsv1.RollingUpdateDaemonSetStrategyType {
		rp, err := rollout.Update(rollout.Input{DaemonSet: ds, Hash: p.Hash, Nodes: g.nodes, Now: s.Now}, opts.Rollout)
		if err != nil {
			p.Err = err
			return
		}
		if rp.Budget.Fallback {
			p.Warnings = append(p.Warnings, placement.Warning{Field: "spec.updateStrategy.rollingUpdate",
				Message: "maxSurge and maxUnavailable are both 0; kube-controller-manager uses maxUnavailable 1"})
		}
		for _, c := range rp.Creates {
			creates.Add(Create{Node: c.Node, Reason: Reason(c.Reason)})
		}
		for _, d := range rp.Deletes {
			deletes.Add(Delete{Pod: d.Pod.Name, Node: d.Node, Reason: Reason(d.Reason)})
		}
	}

	p.Creates, p.Deletes = creates.Sorted(), deletes.Sorted()
	for i := range p.Creates {
		p.Creates[i].Pod = eval.NewPod(p.Creates[i].Node, p.Hash)
	}
}

// compareCreates orders creates by node; two creates for one node are
// the same create.
func compareCreates(a, b Create) int {
	return cmp.Or(strings.Compare(a.Node, b.Node), strings.Compare(string(a.Reason), string(b.Reason)))
}

// compareDeletes orders deletes by pod name, then (for pods of one name,
// which a cluster does not have) by node and reason.
func compareDeletes(a, b Delete) int {
	return cmp.Or(strings.Compare(a.Pod, b.Pod), strings.Compare(a.Node, b.Node), strings.Compare(string(a.Reason), string(b.Reason)))
}

// podsShouldBeOnNode decides one node of the manage pass: whether it needs
// a new pod (the result), and which of its pods go (added to deletes). It
// reads the pods' states from n.States.
func (p *Plan) podsShouldBeOnNode(n *placement.NodePods, deletes *smallest.Set[Delete], surge bool, s *Snapshot) bool {
	d := n.Decision
	switch {
	case d.ShouldRun && len(n.Pods) == 0:
		return true
	case d.ShouldContinueRunning:
		// Failed and succeeded pods go; at most one failed pod per node per
		// sync, since deleting one starts the node's backoff.
		var running []int // indexes in n.Pods
		var backoff time.Duration
		inBackoff, backoffRead := false, false
		for k, pod := range n.Pods {
			f := n.States[k]
			switch {
			case f&placement.PodDeleting != 0:
				continue
			case f&placement.PodFailed != 0:
				if !backoffRead {
					backoff, inBackoff = s.FailedPodBackoff[n.Name]
					backoffRead = true
				}
				if inBackoff {
					p.requeue(backoff)
					continue
				}
				inBackoff, backoff = true, initialFailedPodBackoff
				deletes.Add(Delete{Pod: pod.Name, Node: n.Name, Reason: DeleteFailed})
			case f&placement.PodSucceeded != 0:
				deletes.Add(Delete{Pod: pod.Name, Node: n.Name, Reason: DeleteSucceeded})
			default:
				running = append(running, k)
			}
		}
		if !surge {
			// Keep the oldest running pod.
			for _, k := range running[min(1, len(running)):] {
				deletes.Add(Delete{Pod: n.Pods[k].Name, Node: n.Name, Reason: DeleteExcess})
			}
			return false
		}
		if len(running) <= 1 {
			return len(running) == 0 && d.ShouldRun
		}
		surgeExcess(n, running, p.Hash, deletes)
	case len(n.Pods) > 0:
		reason := DeleteNodeIneligible
		if d.Reason == placement.UntoleratedNoExecuteTaint {
			reason = DeleteEvicted
		}
		for k, pod := range n.Pods {
			if n.States[k]&placement.PodDeleting == 0 {
				deletes.Add(Delete{Pod: pod.Name, Node: n.Name, Reason: reason})
			}
		}
	}
	return false
}

// surgeExcess prunes a surging node's running pods, n.Pods[k] for k in
// running (oldest first): keep the oldest pod with the current hash and the
// oldest without; the old one also goes once it is not ready or the new
// one is available.
func surgeExcess(n *placement.NodePods, running []int, hash string, deletes *smallest.Set[Delete]) {
	oldestNew, oldestOld := -1, -1
	for _, k := range running {
		isNew := n.Pods[k].Labels[appsv1.DefaultDaemonSetUniqueLabelKey] == hash
		switch {
		case isNew && oldestNew < 0:
			oldestNew = k
		case !isNew && oldestOld < 0:
			oldestOld = k
		default:
			deletes.Add(Delete{Pod: n.Pods[k].Name, Node: n.Name, Reason: DeleteExcess})
		}
	}
	if oldestNew >= 0 && oldestOld >= 0 {
		switch {
		case n.States[oldestOld]&placement.PodReady == 0:
			deletes.Add(Delete{Pod: n.Pods[oldestOld].Name, Node: n.Name, Reason: DeleteSurgeOldNotReady})
		case n.States[oldestNew]&placement.PodAvailable != 0:
			deletes.Add(Delete{Pod: n.Pods[oldestOld].Name, Node: n.Name, Reason: DeleteSurgeNewAvailable})
		}
	}
}
