package plan

import (
	"hash/maphash"
	"slices"
	"strings"
	"sync"
	"time"

	appsv1 "k8s.io/api/apps/v1"
	corev1 "k8s.io/api/core/v1"

	"github.com/dsplan/dsplan/placement"
	"github.com/dsplan/dsplan/rollout"
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
	nodes []placement.NodePods
	slots []uint64 // nodeIndex
	slot  []int32
	count []int32
	flat  []*corev1.Pod
}

var scratchPool = sync.Pool{New: func() any { return new(scratch) }}

// release clears sc's references to the snapshot's objects (so that the
// pool does not keep them alive) and returns it to the pool. g is the
// grouping built from sc, which must not be used afterwards.
func (sc *scratch) release(g grouping) {
	sc.nodes = g.nodes[:0]
	clear(g.nodes)
	clear(sc.flat)
	scratchPool.Put(sc)
}

// resize returns s with length n, reusing its memory when it is large
// enough; the contents are not cleared.
func resize[T any](s []T, n int) []T {
	if cap(s) < n {
		return make([]T, n, n+n/8+1)
	}
	return s[:n]
}

// group evaluates every node once and indexes the claimed pods by the node
// they target, as kube-controller-manager's getNodesToDaemonPods: pods
// without a resolvable target are left out, and terminal pods being deleted
// are left out of the per-node lists. Cost: O(nodes + pods), in sc's
// memory.
func group(sc *scratch, eval *placement.Evaluator, nodes []*corev1.Node, pods []*corev1.Pod) grouping {
	g := grouping{nodes: resize(sc.nodes, len(nodes)), existing: len(nodes)}
	index := newNodeIndex(sc, len(nodes))
	for i, node := range nodes {
		g.nodes[i] = placement.NodePods{Name: node.Name, Node: node, Decision: eval.Evaluate(node)}
		index.insert(g.nodes, i)
	}

	// First pass: resolve each pod's node, counting pods per node. slot[i]
	// is the position of pods[i]'s node in g.nodes, -1 for a pod left out.
	slot := resize(sc.slot, len(pods))
	count := resize(sc.count, len(g.nodes))
	clear(count)
	g.history = pods
	var vanished map[string]int32
	for i, pod := range pods {
		slot[i] = -1
		name, ok := targetNodeName(pod)
		if !ok {
			if len(g.history) == len(pods) {
				// The first pod without a target: from here on, history
				// is a copy without such pods.
				g.history = append(make([]*corev1.Pod, 0, len(pods)-1), pods[:i]...)
			}
			continue
		}
		if len(g.history) != len(pods) {
			g.history = append(g.history, pod)
		}
		if pod.DeletionTimestamp != nil && (pod.Status.Phase == corev1.PodFailed || pod.Status.Phase == corev1.PodSucceeded) {
			continue
		}
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
	for i := len(pods) - 1; i >= 0; i-- {
		if at := slot[i]; at >= 0 {
			end[at]--
			flat[end[at]] = pods[i]
		}
	}
	for i := range g.nodes {
		if from, to := end[i], end[i+1]; to > from {
			ps := flat[from:to:to]
			if to-from > 1 {
				slices.SortFunc(ps, placement.ComparePods)
			}
			g.nodes[i].Pods = ps
		}
	}
	if len(vanished) > 1 {
		tail := g.nodes[g.existing:]
		slices.SortFunc(tail, func(a, b placement.NodePods) int { return strings.Compare(a.Name, b.Name) })
	}
	sc.slot, sc.count, sc.flat = slot, end, flat
	return g
}

// targetNodeName is placement.TargetNodeName without building an error for
// pods that have none.
func targetNodeName(pod *corev1.Pod) (string, bool) {
	if pod.Spec.NodeName != "" {
		return pod.Spec.NodeName, true
	}
	name, err := placement.TargetNodeName(pod)
	return name, err == nil
}

// nodeIndex finds a node's position in a node list by name: an
// open-addressing hash table of positions, built once per plan. At 100,000
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

// newNodeIndex returns an empty index for n nodes, in sc's memory.
func newNodeIndex(sc *scratch, n int) nodeIndex {
	size := 16
	for size < 2*n {
		size *= 2
	}
	sc.slots = resize(sc.slots, size)
	clear(sc.slots)
	return nodeIndex{seed: maphash.MakeSeed(), slots: sc.slots, mask: uint64(size - 1)}
}

// insert adds nodes[i]; of two nodes with one name, the first inserted
// stays (kube-controller-manager's node-to-pods map is keyed by name).
func (x *nodeIndex) insert(nodes []placement.NodePods, i int) {
	name := nodes[i].Name
	h := maphash.String(x.seed, name)
	tag := h >> 32 << 32
	for j := h & x.mask; ; j = (j + 1) & x.mask {
		s := x.slots[j]
		if s == 0 {
			x.slots[j] = tag | uint64(i+1)
			return
		}
		if s>>32<<32 == tag && nodes[uint32(s)-1].Name == name {
			return
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
func (p *Plan) manageAndUpdate(ds *appsv1.DaemonSet, eval *placement.Evaluator, g grouping, s Snapshot, opts Options) {
	var creates []Create
	var deletes []Delete
	surge := rollout.AllowsSurge(ds)
	for i := range g.nodes[:g.existing] {
		c, d := p.podsShouldBeOnNode(ds, &g.nodes[i], surge, s)
		if c {
			creates = append(creates, Create{Node: g.nodes[i].Name, Reason: CreateMissing})
		}
		deletes = append(deletes, d...)
	}
	for _, n := range g.nodes[g.existing:] {
		for _, pod := range n.Pods {
			if pod.Spec.NodeName == "" {
				deletes = append(deletes, Delete{Pod: pod.Name, Node: n.Name, Reason: DeleteNodeGone})
			}
		}
	}

	if len(creates) == 0 && len(deletes) == 0 && ds.Spec.UpdateStrategy.Type == appsv1.RollingUpdateDaemonSetStrategyType {
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
			creates = append(creates, Create{Node: c.Node, Reason: Reason(c.Reason)})
		}
		for _, d := range rp.Deletes {
			deletes = append(deletes, Delete{Pod: d.Pod.Name, Node: d.Node, Reason: Reason(d.Reason)})
		}
	}

	burst := opts.BurstReplicas
	if burst <= 0 {
		burst = DefaultBurstReplicas
	}
	slices.SortFunc(creates, func(a, b Create) int { return strings.Compare(a.Node, b.Node) })
	slices.SortFunc(deletes, func(a, b Delete) int { return strings.Compare(a.Pod, b.Pod) })
	// Beyond the burst, kube-controller-manager leaves the rest to the syncs
	// that follow once these writes are observed; here the first ones in
	// sorted order go first.
	creates = creates[:min(len(creates), burst)]
	deletes = deletes[:min(len(deletes), burst)]
	for i := range creates {
		creates[i].Pod = eval.NewPod(creates[i].Node, p.Hash)
	}
	p.Creates, p.Deletes = creates, deletes
}

// podsShouldBeOnNode decides one node of the manage pass: whether it needs
// a new pod, and which of its pods go.
func (p *Plan) podsShouldBeOnNode(ds *appsv1.DaemonSet, n *placement.NodePods, surge bool, s Snapshot) (create bool, deletes []Delete) {
	d := n.Decision
	switch {
	case d.ShouldRun && len(n.Pods) == 0:
		return true, nil
	case d.ShouldContinueRunning:
		// Failed and succeeded pods go; at most one failed pod per node per
		// sync, since deleting one starts the node's backoff.
		var running []*corev1.Pod
		backoff, inBackoff := s.FailedPodBackoff[n.Name]
		for _, pod := range n.Pods {
			if pod.DeletionTimestamp != nil {
				continue
			}
			switch pod.Status.Phase {
			case corev1.PodFailed:
				if inBackoff {
					p.requeue(backoff)
					continue
				}
				inBackoff, backoff = true, initialFailedPodBackoff
				deletes = append(deletes, Delete{Pod: pod.Name, Node: n.Name, Reason: DeleteFailed})
			case corev1.PodSucceeded:
				deletes = append(deletes, Delete{Pod: pod.Name, Node: n.Name, Reason: DeleteSucceeded})
			default:
				running = append(running, pod)
			}
		}
		if !surge {
			// Keep the oldest running pod.
			for _, pod := range running[min(1, len(running)):] {
				deletes = append(deletes, Delete{Pod: pod.Name, Node: n.Name, Reason: DeleteExcess})
			}
			return false, deletes
		}
		if len(running) <= 1 {
			return len(running) == 0 && d.ShouldRun, deletes
		}
		return false, append(deletes, surgeExcess(ds, n.Name, running, p.Hash, s.Now)...)
	case len(n.Pods) > 0:
		reason := DeleteNodeIneligible
		if d.Reason == placement.UntoleratedNoExecuteTaint {
			reason = DeleteEvicted
		}
		for _, pod := range n.Pods {
			if pod.DeletionTimestamp == nil {
				deletes = append(deletes, Delete{Pod: pod.Name, Node: n.Name, Reason: reason})
			}
		}
	}
	return false, deletes
}

// surgeExcess prunes a surging node's running pods (oldest first): keep the
// oldest pod with the current hash and the oldest without; the old one also
// goes once it is not ready or the new one is available.
func surgeExcess(ds *appsv1.DaemonSet, node string, running []*corev1.Pod, hash string, now time.Time) []Delete {
	var deletes []Delete
	var oldestNew, oldestOld *corev1.Pod
	for _, pod := range running {
		isNew := pod.Labels[appsv1.DefaultDaemonSetUniqueLabelKey] == hash
		switch {
		case isNew && oldestNew == nil:
			oldestNew = pod
		case !isNew && oldestOld == nil:
			oldestOld = pod
		default:
			deletes = append(deletes, Delete{Pod: pod.Name, Node: node, Reason: DeleteExcess})
		}
	}
	if oldestNew != nil && oldestOld != nil {
		switch {
		case !placement.IsPodReady(oldestOld):
			deletes = append(deletes, Delete{Pod: oldestOld.Name, Node: node, Reason: DeleteSurgeOldNotReady})
		case placement.IsPodAvailable(oldestNew, ds.Spec.MinReadySeconds, now):
			deletes = append(deletes, Delete{Pod: oldestOld.Name, Node: node, Reason: DeleteSurgeNewAvailable})
		}
	}
	return deletes
}
