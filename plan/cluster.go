package plan

import (
	corev1 "k8s.io/api/core/v1"

	"github.com/dsplan/dsplan/placement"
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
