package plan

import (
	"cmp"
	"slices"
	"strings"
	"time"

	appsv1 "k8s.io/api/apps/v1"

	"github.com/dsplan/dsplan/internal/smallest"
	"github.com/dsplan/dsplan/placement"
	"github.com/dsplan/dsplan/rollout"
)

// initialFailedPodBackoff is the delay kube-controller-manager's failed-pod
// backoff starts with, and so the delay after it deletes one failed pod.
const initialFailedPodBackoff = time.Second

// passes is what the manage pass and the rolling update decided, beyond
// the plan's actions, for explanations.
type passes struct {
	// managed is set when the manage pass had creates or deletes (the
	// rolling update then waits for a later sync); updated when the
	// rolling update ran.
	managed, updated bool
	// waiting are the rolling update's waiting nodes (rollout.Plan.Waiting).
	waiting []rollout.Wait
	// decided are the nodes with an action decided, also beyond the burst.
	decided map[string]bool
}

// manageAndUpdate runs the manage pass and, when it has nothing to do, the
// rolling update, and records their creates and deletes. With x, it also
// records what explanations need.
func (p *Plan) manageAndUpdate(ds *appsv1.DaemonSet, idx Index, s *Snapshot, opts Options, x *passes) {
	burst := opts.BurstReplicas
	if burst <= 0 {
		burst = DefaultBurstReplicas
	}
	// Beyond the burst, kube-controller-manager leaves the rest to the syncs
	// that follow once these writes are observed: it acts on the first
	// entries of its lists, whose order is that of burstOrder. Only those
	// are kept: a fresh DaemonSet on 100,000 nodes has 100,000 creates, of
	// which a plan holds 250.
	creates := createQueue{set: smallest.New(burst, 0, compareQueuedCreates)} // grows only with creates
	deletes := deleteQueue{set: smallest.New(burst, 0, compareQueuedDeletes)}
	if x != nil {
		x.decided = map[string]bool{}
		creates.decided, deletes.decided = x.decided, x.decided
	}
	m := manager{p: p, hash: p.Hash, surge: rollout.AllowsSurge(ds), backoff: s.FailedPodBackoff, creates: &creates, deletes: &deletes}
	for n := range idx.Managed() {
		m.node(n)
	}

	managed := creates.set.Added() > 0 || deletes.set.Added() > 0
	if x != nil {
		x.managed = managed
	}
	if !managed && ds.Spec.UpdateStrategy.Type == appsv1.RollingUpdateDaemonSetStrategyType {
		ro := opts.Rollout
		ro.Explain = ro.Explain || x != nil
		rp, err := idx.Update(ds, ro)
		if x != nil {
			x.updated, x.waiting = true, rp.Waiting
		}
		if err != nil {
			p.Err = err
			return
		}
		if rp.Budget.Fallback {
			p.Warnings = append(p.Warnings, placement.Warning{Field: "spec.updateStrategy.rollingUpdate",
				Message: "maxSurge and maxUnavailable are both 0; kube-controller-manager uses maxUnavailable 1"})
		}
		for _, c := range rp.Creates {
			creates.Add(Create{Node: c.Node, Reason: c.Reason})
		}
		for _, d := range rp.Deletes {
			deletes.Add(Delete{Pod: d.Pod.Name, Node: d.Node, Reason: d.Reason})
		}
	}

	slices.Sort(p.FailedPodBackoff)
	p.Creates = creates.set.Sorted()
	slices.SortFunc(p.Creates, func(a, b Create) int { return strings.Compare(a.Node, b.Node) })
	eval := idx.Evaluator()
	for i := range p.Creates {
		p.Creates[i].Pod = eval.NewPod(p.Creates[i].Node, p.Hash)
	}
	for _, d := range deletes.set.Sorted() {
		p.Deletes = append(p.Deletes, d.Delete)
	}
	slices.SortFunc(p.Deletes, compareDeletes)
}

// burstOrder ranks an action by where kube-controller-manager puts it in
// the lists syncNodes cuts at the burst limit (the first burstReplicas
// creates and deletes are carried out, the rest wait for a later sync):
//
//   - manage: every node's deletes, node after node, then the unscheduled
//     pods of vanished nodes (getUnscheduledPodsWithoutNode, appended
//     last); creates on the nodes needing a pod;
//   - rolling update without surge: the old pods that are not available
//     (replaced for free), then the available candidates;
//   - with surge: creates next to unavailable old pods, then the surge
//     candidates; deletes of old pods whose node has an available new pod
//     or that are unavailable on ineligible nodes, then the sunset pods of
//     ineligible nodes.
//
// The manage pass and the rolling update never plan in the same sync, so
// one rank per reason orders both. Within a rank upstream's order is
// lister or map order, random; dsplan takes node-name order, and a node's
// deletes together in the order they were decided.
func burstOrder[R rollout.CreateReason | rollout.DeleteReason](reason R) int {
	// The create and delete reasons' strings are distinct
	// (TestBurstOrderRanks): a switch on the string needs no interface
	// comparison, a third of a fresh plan's burst cost at 100,000 nodes.
	switch string(reason) {
	case string(rollout.DeleteNodeGone), string(rollout.DeleteReplace), string(rollout.DeleteSurgeSunset), string(rollout.CreateSurge):
		return 1
	}
	return 0
}

// queuedDelete is a delete with its place in burstOrder: its rank, then
// its node, then seq, the order deletes were decided in.
type queuedDelete struct {
	Delete
	rank int
	seq  int
}

// deleteQueue keeps the deletes that come first in burstOrder; decided,
// when not nil, collects the nodes of every delete.
type deleteQueue struct {
	set     smallest.Set[queuedDelete]
	seq     int
	decided map[string]bool
}

// Add queues d.
func (q *deleteQueue) Add(d Delete) {
	q.seq++
	q.set.Add(queuedDelete{Delete: d, rank: burstOrder(d.Reason), seq: q.seq})
	if q.decided != nil {
		q.decided[d.Node] = true
	}
}

// createQueue keeps the creates that come first in burstOrder; decided,
// when not nil, collects the nodes of every create.
type createQueue struct {
	set     smallest.Set[Create]
	decided map[string]bool
}

// Add queues c.
func (q *createQueue) Add(c Create) {
	q.set.Add(c)
	if q.decided != nil {
		q.decided[c.Node] = true
	}
}

func compareQueuedDeletes(a, b queuedDelete) int {
	return cmp.Or(cmp.Compare(a.rank, b.rank), strings.Compare(a.Node, b.Node), cmp.Compare(a.seq, b.seq))
}

// compareQueuedCreates orders creates in burstOrder; two creates for one
// node are the same create.
func compareQueuedCreates(a, b Create) int {
	return cmp.Or(cmp.Compare(burstOrder(a.Reason), burstOrder(b.Reason)), strings.Compare(a.Node, b.Node), strings.Compare(string(a.Reason), string(b.Reason)))
}

// compareDeletes orders deletes by pod name, then (for pods of one name,
// which a cluster does not have) by node and reason.
func compareDeletes(a, b Delete) int {
	return cmp.Or(strings.Compare(a.Pod, b.Pod), strings.Compare(a.Node, b.Node), strings.Compare(string(a.Reason), string(b.Reason)))
}

// Manages reports whether the manage pass (step 5 of [New]) acts on the
// entry n of a DaemonSet's Grouping: whether it creates a pod there or
// deletes one, or would with no failed-pod backoff running (a failed pod
// whose node is in backoff only shortens RequeueAfter). hash is the
// current revision's hash (Plan.Hash) and surge is
// rollout.AllowsSurge(ds). For an existing node it is
// kube-controller-manager's podsShouldBeOnNode with a create or a delete;
// for a node that does not exist, an unscheduled pod targeting it. An
// [Index] yields at least these entries from Managed.
func Manages(n placement.NodePods, hash string, surge bool) bool {
	m := manager{hash: hash, surge: surge}
	m.node(n)
	return m.acted
}

// manager is the manage pass over the nodes given to node: it adds the
// creates and deletes to the queues and records the failed-pod backoff in
// p, or, with p nil, only whether it acted.
type manager struct {
	p       *Plan
	hash    string
	surge   bool
	backoff map[string]time.Duration
	creates *createQueue
	deletes *deleteQueue
	acted   bool
}

func (m *manager) create(c Create) {
	m.acted = true
	if m.creates != nil {
		m.creates.Add(c)
	}
}

func (m *manager) delete(d Delete) {
	m.acted = true
	if m.deletes != nil {
		m.deletes.Add(d)
	}
}

// node decides one entry: an existing node as podsShouldBeOnNode, a node
// that does not exist by deleting its unscheduled pods
// (getUnscheduledPodsWithoutNode: the pod garbage collector leaves them).
func (m *manager) node(n placement.NodePods) {
	if !n.Exists() {
		for _, pod := range n.Pods() {
			if pod.Object().Spec.NodeName == "" {
				m.delete(Delete{Pod: pod.Name(), Node: n.Name(), Reason: rollout.DeleteNodeGone})
			}
		}
		return
	}
	if m.podsShouldBeOnNode(n) {
		m.create(Create{Node: n.Name(), Reason: rollout.CreateMissing})
	}
}

// podsShouldBeOnNode decides one existing node of the manage pass: whether
// it needs a new pod (the result), and which of its pods go.
func (m *manager) podsShouldBeOnNode(n placement.NodePods) bool {
	d := n.Decision()
	switch {
	case d.ShouldRun() && n.Len() == 0:
		return true
	case d.ShouldContinueRunning():
		// Failed and succeeded pods go; at most one failed pod per node per
		// sync, since deleting one starts the node's backoff.
		var running []int // indexes in n's pods
		var backoff time.Duration
		inBackoff, backoffRead := false, false
		for k, pod := range n.Pods() {
			switch {
			case pod.Deleting():
				continue
			case pod.Failed():
				if !backoffRead {
					backoff, inBackoff = m.backoff[n.Name()]
					backoffRead = true
				}
				if inBackoff {
					if m.p != nil {
						m.p.requeue(backoff)
					}
					continue
				}
				inBackoff, backoff = true, initialFailedPodBackoff
				m.delete(Delete{Pod: pod.Name(), Node: n.Name(), Reason: rollout.DeleteFailed})
				if m.p != nil {
					m.p.FailedPodBackoff = append(m.p.FailedPodBackoff, n.Name())
				}
			case pod.Succeeded():
				m.delete(Delete{Pod: pod.Name(), Node: n.Name(), Reason: rollout.DeleteSucceeded})
			default:
				running = append(running, k)
			}
		}
		if !m.surge {
			// Keep the oldest running pod.
			for _, k := range running[min(1, len(running)):] {
				m.delete(Delete{Pod: n.Pod(k).Name(), Node: n.Name(), Reason: rollout.DeleteExcess})
			}
			return false
		}
		if len(running) <= 1 {
			return len(running) == 0 && d.ShouldRun()
		}
		m.surgeExcess(n, running)
	case n.Len() > 0:
		reason := rollout.DeleteNodeIneligible
		if d.Reason == placement.UntoleratedNoExecuteTaint {
			reason = rollout.DeleteEvicted
		}
		for _, pod := range n.Pods() {
			if !pod.Deleting() {
				m.delete(Delete{Pod: pod.Name(), Node: n.Name(), Reason: reason})
			}
		}
	}
	return false
}

// surgeExcess prunes a surging node's running pods, n.Pod(k) for k in
// running (oldest first): keep the oldest pod with the current hash and the
// oldest without; the old one also goes once it is not ready or the new
// one is available.
func (m *manager) surgeExcess(n placement.NodePods, running []int) {
	oldestNew, oldestOld := -1, -1
	for _, k := range running {
		isNew := n.Pod(k).Object().Labels[appsv1.DefaultDaemonSetUniqueLabelKey] == m.hash
		switch {
		case isNew && oldestNew < 0:
			oldestNew = k
		case !isNew && oldestOld < 0:
			oldestOld = k
		default:
			m.delete(Delete{Pod: n.Pod(k).Name(), Node: n.Name(), Reason: rollout.DeleteExcess})
		}
	}
	if oldestNew >= 0 && oldestOld >= 0 {
		switch {
		case !n.Pod(oldestOld).Ready():
			m.delete(Delete{Pod: n.Pod(oldestOld).Name(), Node: n.Name(), Reason: rollout.DeleteSurgeOldNotReady})
		case n.Pod(oldestNew).Available():
			m.delete(Delete{Pod: n.Pod(oldestOld).Name(), Node: n.Name(), Reason: rollout.DeleteSurgeNewAvailable})
		}
	}
}
