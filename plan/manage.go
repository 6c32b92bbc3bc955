package plan

import (
	"slices"
	"strings"
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

// group evaluates every node once and indexes the claimed pods by the node
// they target, as kube-controller-manager's getNodesToDaemonPods: pods
// without a resolvable target are left out, and terminal pods being deleted
// are left out of the per-node lists. Cost: O(nodes + pods), with a
// constant number of allocations.
func group(eval *placement.Evaluator, nodes []*corev1.Node, pods []*corev1.Pod) grouping {
	g := grouping{nodes: make([]placement.NodePods, len(nodes), len(nodes)+1)}
	index := make(map[string]int, len(nodes))
	for i, node := range nodes {
		g.nodes[i] = placement.NodePods{Name: node.Name, Node: node, Decision: eval.Evaluate(node)}
	}
	// Backwards, so that of two nodes with one name the first wins.
	for i := len(nodes) - 1; i >= 0; i-- {
		index[nodes[i].Name] = i
	}
	g.existing = len(nodes)

	// First pass: resolve each pod's node, counting pods per node.
	slot := make([]int32, len(pods))
	counts := make([]int32, len(g.nodes))
	g.history = make([]*corev1.Pod, 0, len(pods))
	var vanished []string
	for i, pod := range pods {
		slot[i] = -1
		name, err := placement.TargetNodeName(pod)
		if err != nil {
			continue
		}
		g.history = append(g.history, pod)
		if pod.DeletionTimestamp != nil && (pod.Status.Phase == corev1.PodFailed || pod.Status.Phase == corev1.PodSucceeded) {
			continue
		}
		at, ok := index[name]
		if !ok {
			at = len(g.nodes)
			index[name] = at
			g.nodes = append(g.nodes, placement.NodePods{Name: name})
			counts = append(counts, 0)
			vanished = append(vanished, name)
		}
		slot[i] = int32(at)
		counts[at]++
	}

	// Second pass: lay the pods out in one array, a sub-slice per node.
	start := make([]int32, len(g.nodes)+1)
	for i, c := range counts {
		start[i+1] = start[i] + c
	}
	flat := make([]*corev1.Pod, start[len(g.nodes)])
	fill := counts[:0:0]
	fill = append(fill, start[:len(g.nodes)]...)
	for i, pod := range pods {
		if at := slot[i]; at >= 0 {
			flat[fill[at]] = pod
			fill[at]++
		}
	}
	for i := range g.nodes {
		if n := start[i+1] - start[i]; n > 0 {
			ps := flat[start[i]:start[i+1]:start[i+1]]
			if n > 1 {
				slices.SortFunc(ps, placement.ComparePods)
			}
			g.nodes[i].Pods = ps
		}
	}
	if len(vanished) > 1 {
		tail := g.nodes[g.existing:]
		slices.SortFunc(tail, func(a, b placement.NodePods) int { return strings.Compare(a.Name, b.Name) })
	}
	return g
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
