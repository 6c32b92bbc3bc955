package plan

import (
	"maps"
	"slices"
	"strings"

	corev1 "k8s.io/api/core/v1"

	"github.com/dsplan/dsplan/placement"
	"github.com/dsplan/dsplan/rollout"
)

// Cluster is a node list prepared once for planning many DaemonSets
// against it, as a controller does when it resyncs every DaemonSet of a
// cluster: the nodes' index by name, which New builds for every plan, is
// built once, and so are their labels by column, from which node selectors
// and affinities read without a map lookup (see placement.NodeSet). Plans
// from a Cluster equal those of New.
//
// A Cluster is immutable and safe for concurrent use by any number of
// goroutines. It keeps the nodes, not copies: they must not be modified
// while the Cluster is in use; build a new Cluster when the node list
// changes.
type Cluster struct {
	set *placement.NodeSet
}

// NewCluster prepares nodes for planning, in O(len(nodes) + their labels)
// time: at 100,000 nodes about as long as two or three steady-state plans
// (see placement.NewNodeSet), which the Cluster then saves on every plan
// of a DaemonSet with a node selector or affinity. Of nodes that share a
// name, the first counts, as in New.
func NewCluster(nodes []*corev1.Node) *Cluster {
	return &Cluster{set: placement.NewNodeSet(nodes)}
}

// Plan is New(s, opts) with s.Nodes replaced by the cluster's nodes.
func (c *Cluster) Plan(s Snapshot, opts Options) Plan {
	s.Nodes = c.set.Nodes()
	return newPlan(s, opts, c.set)
}

// Unavailable returns the nodes where s's DaemonSet should run a pod and
// runs none that is available and not being deleted: the nodes where it
// is unavailable, or about to be. The revision does not matter. It is the
// DaemonSet's share of a group's budget (see PlanGroup); an error when the
// snapshot cannot be grouped (no DaemonSet, a selector that does not
// parse, no identity).
func (c *Cluster) Unavailable(s Snapshot, opts Options) (map[string]bool, error) {
	if s.DaemonSet == nil {
		return nil, placement.ErrNoDaemonSet
	}
	g, err := placement.Group(placement.GroupInput{Evaluator: placement.New(s.DaemonSet, opts.Placement), Now: s.Now, NodeSet: c.set, Pods: s.Pods})
	if err != nil {
		return nil, err
	}
	out := map[string]bool{}
	for i := range g.Existing() {
		n := g.At(i)
		if !n.Exists() || !n.Decision().ShouldRun() {
			continue
		}
		available := false
		for _, p := range n.Pods() {
			available = available || p.Available() && !p.Deleting()
		}
		if !available {
			out[n.Name()] = true
		}
	}
	return out, nil
}

// PlanGroup plans the DaemonSets of snaps, a group that shares a budget of
// one unavailable DaemonSet per node (CNI and CSI agents, say): none of
// them starts a replacement on a node where another of the group is
// unavailable or starts one in the same round (rollout.Options.Held). The
// DaemonSets are planned one after the other in namespace/name order, each
// holding the nodes the others are unavailable on plus those the ones
// before it replace on; the plans come back in the order of snaps. Apart
// from that, each plan is Plan(s, opts). A snapshot that cannot be grouped
// holds no nodes (its own plan reports the error).
func (c *Cluster) PlanGroup(snaps []Snapshot, opts Options) []Plan {
	unavailable := make([]map[string]bool, len(snaps))
	for i, s := range snaps {
		unavailable[i], _ = c.Unavailable(s, opts)
	}
	order := make([]int, len(snaps))
	for i := range order {
		order[i] = i
	}
	key := func(i int) string {
		if ds := snaps[i].DaemonSet; ds != nil {
			return ds.Namespace + "/" + ds.Name
		}
		return ""
	}
	slices.SortStableFunc(order, func(a, b int) int { return strings.Compare(key(a), key(b)) })
	replacing := map[string]bool{}
	plans := make([]Plan, len(snaps))
	for _, i := range order {
		held := maps.Clone(replacing)
		for j, u := range unavailable {
			if j == i {
				continue
			}
			if held == nil {
				held = map[string]bool{}
			}
			maps.Copy(held, u)
		}
		o := opts
		o.Rollout.Held = held
		plans[i] = c.Plan(snaps[i], o)
		for _, d := range plans[i].Deletes {
			if d.Reason == rollout.DeleteReplace || d.Reason == rollout.DeleteReplaceUnavailable {
				replacing[d.Node] = true
			}
		}
	}
	return plans
}
