package rollout

import (
	"fmt"
	"slices"
	"strings"

	"k8s.io/apimachinery/pkg/labels"
	"k8s.io/apimachinery/pkg/util/intstr"

	"github.com/dsplan/dsplan/placement"
)

// WaitReason says why the rolling update leaves a node's old pod in place
// in this sync.
type WaitReason string

// Why a node waits. The first group comes from Update, the second from the
// planner around it (package plan).
const (
	// WaitBudget: maxUnavailable (maxSurge 0) or maxSurge is spent, on
	// nodes earlier in the update order.
	WaitBudget WaitReason = "BudgetSpent"
	// WaitZoneBudget: the zone being updated has spent its ZoneBudget.
	WaitZoneBudget WaitReason = "ZoneBudgetSpent"
	// WaitLaterZone: the node's zone comes after the zone being updated.
	WaitLaterZone WaitReason = "LaterZone"
	// WaitPartition: the node is among the last Partition nodes in order,
	// kept on the old revision.
	WaitPartition WaitReason = "PartitionReached"
	// WaitPaused: the rollout is paused.
	WaitPaused WaitReason = "Paused"
	// WaitOutsideSelector: the node does not match Options.Selector.
	WaitOutsideSelector WaitReason = "OutsideSelector"
	// WaitHeld: another DaemonSet of the group is unavailable or being
	// replaced on the node (Options.Held).
	WaitHeld WaitReason = "GroupBudgetSpent"
	// WaitNewPodUnavailable: with surge, the node's new pod is not
	// available yet; its old pod goes once it is.
	WaitNewPodUnavailable WaitReason = "NewPodNotAvailable"
	// WaitUnsettled: the node runs more than one pod (an old and a new one
	// without surge, or several of a kind): the manage pass settles it
	// before the rolling update touches it.
	WaitUnsettled WaitReason = "NodeNotSettled"
	// WaitSunset: with surge, an old available pod on a node the DaemonSet
	// no longer schedules to stays while no more pods are available than
	// desired.
	WaitSunset WaitReason = "SunsetWaitsForAvailability"

	// WaitManage: the manage pass has creates or deletes to make first; the
	// rolling update runs in a later sync.
	WaitManage WaitReason = "ManagePassFirst"
	// WaitExpectations: the writes of an earlier sync are not observed yet;
	// this sync only refreshes the status.
	WaitExpectations WaitReason = "PendingExpectations"
	// WaitOnDelete: the OnDelete strategy replaces a pod only after it is
	// deleted by someone else.
	WaitOnDelete WaitReason = "OnDelete"
	// WaitBurst: the sync has more than its burst of creates or deletes;
	// this one waits for a later sync.
	WaitBurst WaitReason = "BurstLimit"
)

// Wait is a node whose old pod a sync leaves in place, and why.
type Wait struct {
	Node   string
	Pod    string
	Reason WaitReason
	// Detail completes Reason in words, e.g. "maxUnavailable 2: 2 desired
	// nodes unavailable".
	Detail string
}

// String is "node: reason (detail)".
func (w Wait) String() string {
	if w.Detail == "" {
		return w.Node + ": " + string(w.Reason)
	}
	return w.Node + ": " + string(w.Reason) + " (" + w.Detail + ")"
}

// controlled is replace (surge false) or surge with the rollout controls of
// u.opts: the same accounting as upstream's, then the nodes upstream would
// update taken in update order through the controls' filters.
func (u *updater) controlled(surge bool) (Plan, error) {
	o := u.opts
	plan := Plan{Budget: u.budget, Partition: u.partition}
	var explicit map[string]int
	if len(o.Order.Nodes) > 0 {
		explicit = make(map[string]int, len(o.Order.Nodes))
		for i, name := range o.Order.Nodes {
			if _, dup := explicit[name]; !dup {
				explicit[name] = i
			}
		}
	}
	zoned := o.Order.TopologyKey != ""
	var (
		cands         []candidate
		inFlight      int // unavailable (maxSurge 0) or surging (surge) nodes
		zoneFlight    = map[string]int{}
		zoneDesired   = map[string]int{}
		activeZone    orderKey
		haveActive    bool
		availableSeen int
		missing       string
		sunset        []Delete
	)
	zoneOf := func(k orderKey) string {
		if k.noZone {
			return "\x00none"
		}
		return k.zone
	}
	// unfinished marks a node of the zone order that is not done: not
	// running exactly one live, available pod of the current revision.
	unfinished := func(k orderKey) {
		if zoned && (!haveActive || compareZones(k, activeZone) < 0) {
			activeZone, haveActive = k, true
		}
	}
	for _, n := range u.g.All() {
		if !relevant(n) {
			continue
		}
		var key orderKey
		if zoned || explicit != nil || len(o.Order.Weights) > 0 {
			key = o.Order.key(n.Node(), n.Name(), explicit)
		} else {
			key = orderKey{name: n.Name(), explicit: len(o.Order.Nodes)}
		}
		if n.Exists() && n.Decision().ShouldRun() {
			zoneDesired[zoneOf(key)]++
		}
		newPod, oldPod, ok := split(n)
		zone := zoneOf(key)
		flight := 0
		if !surge {
			switch {
			case !ok, !newPod.ok && !oldPod.ok, newPod.ok && oldPod.ok:
				flight = 1
				unfinished(key)
				if !ok || oldPod.ok {
					u.wait(&plan, n.Name(), oldPod.Pod, WaitUnsettled, "")
				}
			case newPod.ok:
				if !newPod.Available() {
					flight = 1
					unfinished(key)
				}
			case !oldPod.Available():
				flight = 1
				unfinished(key)
				cands = append(cands, candidate{n, oldPod.Pod, true, key})
			default:
				unfinished(key)
				cands = append(cands, candidate{n, oldPod.Pod, false, key})
			}
			if flight > 0 {
				inFlight++
				zoneFlight[zone]++
			}
			continue
		}
		if !ok {
			inFlight++
			zoneFlight[zone]++
			unfinished(key)
			u.wait(&plan, n.Name(), placement.Pod{}, WaitUnsettled, "")
			continue
		}
		availableSeen += availability(newPod, oldPod)
		switch {
		case !oldPod.ok:
			if !newPod.ok || !newPod.Available() {
				unfinished(key)
			}
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
			case !n.Decision().ShouldRun():
				sunset = append(sunset, Delete{Pod: oldPod.Object(), Node: n.Name(), Reason: DeleteSurgeSunset})
			default:
				unfinished(key)
				cands = append(cands, candidate{n, oldPod.Pod, !oldPod.Available(), key})
			}
		case !newPod.Available():
			inFlight++
			zoneFlight[zone]++
			unfinished(key)
			u.wait(&plan, n.Name(), oldPod.Pod, WaitNewPodUnavailable, "")
		default:
			// Completing a surge is not starting a replacement: it goes on
			// while paused, outside the selector and beyond the partition.
			plan.Deletes = append(plan.Deletes, Delete{Pod: oldPod.Object(), Node: n.Name(), Reason: DeleteSurgeReplaced})
		}
	}
	if missing != "" {
		return Plan{}, nodeNotFound(missing)
	}
	if surge {
		slices.SortFunc(sunset, compareDeletes)
		extra := max(0, availableSeen-u.budget.Desired)
		plan.Deletes = append(plan.Deletes, sunset[:min(extra, len(sunset))]...)
		for _, d := range sunset[min(extra, len(sunset)):] {
			u.wait(&plan, d.Node, placement.Pod{}, WaitSunset, "")
		}
	}

	// Sorted through pointers: a candidate is large to move.
	sorted := make([]*candidate, len(cands))
	for i := range cands {
		sorted[i] = &cands[i]
	}
	slices.SortFunc(sorted, func(a, b *candidate) int { return compareOrder(a.key, b.key) })
	limit, what := u.budget.MaxUnavailable, "maxUnavailable"
	if surge {
		limit, what = u.budget.MaxSurge, "maxSurge"
	}
	allowed := max(0, len(cands)-u.partition)
	var zoneLimit func(zone string) int
	if zb := o.Order.ZoneBudget; zoned && zb != nil {
		zoneLimit = func(zone string) int {
			n, err := intstr.GetScaledValueFromIntOrPercent(zb, zoneDesired[zone], true)
			if err != nil {
				return 0
			}
			return n
		}
	}
	// Nodes outside the selector keep their old pods and count toward the
	// partition: only selected nodes take the updates it allows. The
	// details of the waits repeat: they are made once each.
	taken := 0
	var selectorDetail, partitionDetail, zoneDetail, budgetDetail string
	detail := func(cached *string, make func() string) string {
		if *cached == "" && u.opts.Explain {
			*cached = make()
		}
		return *cached
	}
	for _, c := range sorted {
		name := c.node.Name()
		switch {
		case o.Paused:
			u.wait(&plan, name, c.pod, WaitPaused, "")
			continue
		case o.Selector != nil && !matches(o.Selector, c.node):
			u.wait(&plan, name, c.pod, WaitOutsideSelector, detail(&selectorDetail, o.Selector.String))
			continue
		case taken >= allowed:
			u.wait(&plan, name, c.pod, WaitPartition, detail(&partitionDetail, func() string { return fmt.Sprintf("partition %d", u.partition) }))
			continue
		case zoned && !sameZone(c.key, activeZone):
			u.wait(&plan, name, c.pod, WaitLaterZone, detail(&zoneDetail, func() string {
				return fmt.Sprintf("%s=%s is being updated", o.Order.TopologyKey, activeZone.zone)
			}))
			continue
		}
		if c.free {
			// Replacing an unavailable pod costs no budget: upstream
			// replaces every such pod at once.
			taken++
			if surge {
				plan.Creates = append(plan.Creates, Create{Node: name, Reason: CreateSurgeUnavailable})
			} else {
				plan.Deletes = append(plan.Deletes, Delete{Pod: c.pod.Object(), Node: name, Reason: DeleteReplaceUnavailable})
			}
			continue
		}
		zone := zoneOf(c.key)
		switch {
		case !surge && o.Held[name]:
			u.wait(&plan, name, c.pod, WaitHeld, "")
			continue
		case inFlight >= limit:
			u.wait(&plan, name, c.pod, WaitBudget, detail(&budgetDetail, func() string {
				return fmt.Sprintf("%s %d: %s in flight", what, limit, nodes(inFlight))
			}))
			continue
		case zoneLimit != nil && zoneFlight[zone] >= zoneLimit(zone):
			u.wait(&plan, name, c.pod, WaitZoneBudget, fmt.Sprintf("zone budget %d: %s in flight", zoneLimit(zone), nodes(zoneFlight[zone])))
			continue
		}
		taken++
		inFlight++
		zoneFlight[zone]++
		if surge {
			plan.Creates = append(plan.Creates, Create{Node: name, Reason: CreateSurge})
		} else {
			plan.Deletes = append(plan.Deletes, Delete{Pod: c.pod.Object(), Node: name, Reason: DeleteReplace})
		}
	}
	sortDeletes(plan.Deletes)
	sortCreates(plan.Creates)
	slices.SortFunc(plan.Waiting, func(a, b Wait) int { return strings.Compare(a.Node, b.Node) })
	return plan, nil
}

// wait records, with Explain, that the node's old pod stays.
func (u *updater) wait(plan *Plan, node string, pod placement.Pod, reason WaitReason, detail string) {
	if !u.opts.Explain {
		return
	}
	w := Wait{Node: node, Reason: reason, Detail: detail}
	if pod.Object() != nil {
		w.Pod = pod.Name()
	}
	plan.Waiting = append(plan.Waiting, w)
}

// matches reports whether sel matches the node's labels; a node that does
// not exist matches nothing.
func matches(sel labels.Selector, n placement.NodePods) bool {
	node := n.Node()
	return node != nil && sel.Matches(labels.Set(node.Labels))
}

// compareZones orders two keys by zone only.
func compareZones(a, b orderKey) int {
	a.explicit, a.weight, a.name = 0, 0, ""
	b.explicit, b.weight, b.name = 0, 0, ""
	return compareOrder(a, b)
}

// nodes is "1 node" or "N nodes".
func nodes(n int) string {
	if n == 1 {
		return "1 node"
	}
	return fmt.Sprintf("%d nodes", n)
}
