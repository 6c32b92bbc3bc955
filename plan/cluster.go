package plan

import (
	"hash/maphash"
	"slices"

	corev1 "k8s.io/api/core/v1"

	"github.com/dsplan/dsplan/placement"
)

// Cluster is a node list prepared once for planning many DaemonSets
// against it, as a controller does when it resyncs every DaemonSet of a
// cluster: the index of the nodes by name, which New builds for every
// plan, is built once, and so is a placement.NodeSet, from which node
// selectors and affinities read labels without a map lookup. Plans from a
// Cluster equal those of New.
//
// A Cluster is immutable and safe for concurrent use by any number of
// goroutines. It keeps the nodes, not copies: they must not be modified
// while the Cluster is in use; build a new Cluster when the node list
// changes.
type Cluster struct {
	nodes []*corev1.Node
	index nodeIndex
	// set holds the nodes' labels by column (see placement.NodeSet).
	set *placement.NodeSet
}

// NewCluster prepares nodes for planning, in O(len(nodes) + their labels)
// time: at 100,000 nodes about as long as two or three steady-state plans
// (see placement.NewNodeSet), which the Cluster then saves on every plan
// of a DaemonSet with a node selector or affinity. Of nodes
// that share a name, the first counts for pods, as in New.
func NewCluster(nodes []*corev1.Node) *Cluster {
	c := &Cluster{nodes: slices.Clone(nodes), set: placement.NewNodeSet(nodes)}
	slots := make([]uint64, indexSize(len(nodes)))
	c.index = nodeIndex{seed: maphash.MakeSeed(), slots: slots, mask: uint64(len(slots) - 1)}
	insertAll(&c.index, nodeList(c.nodes), len(c.nodes))
	return c
}

// Plan is New(s, opts) with s.Nodes replaced by the cluster's nodes.
func (c *Cluster) Plan(s Snapshot, opts Options) Plan {
	s.Nodes = c.nodes
	return newPlan(s, opts, c)
}
