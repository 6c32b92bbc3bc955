package rollout_test

import (
	"fmt"

	corev1 "k8s.io/api/core/v1"
	"k8s.io/apimachinery/pkg/util/intstr"

	"github.com/dsplan/dsplan/internal/dstest"
	"github.com/dsplan/dsplan/placement"
	"github.com/dsplan/dsplan/rollout"
)

// ExampleBudgets scales the budgets of a DaemonSet to 95 nodes.
func ExampleBudgets() {
	ds := dstest.DaemonSet("agent", dstest.RollingUpdate(intstr.FromString("90%"), intstr.FromInt32(0)))
	b, err := rollout.Budgets(ds, 95)
	fmt.Printf("%+v %v\n", b, err)

	ds = dstest.DaemonSet("agent", dstest.RollingUpdate(intstr.FromInt32(0), intstr.FromInt32(0)))
	b, _ = rollout.Budgets(ds, 95)
	fmt.Printf("%+v\n", b)
	// Output:
	// {Desired:95 MaxSurge:0 MaxUnavailable:86 Fallback:false} <nil>
	// {Desired:95 MaxSurge:0 MaxUnavailable:1 Fallback:true}
}

// ExampleUpdate replaces old pods on three nodes with maxUnavailable 1:
// the first candidate by node name goes.
func ExampleUpdate() {
	ds := dstest.DaemonSet("agent")
	nodes := dstest.Nodes(3)
	var pods []*corev1.Pod
	for _, node := range nodes {
		pods = append(pods, dstest.Pod(ds, "old-"+node.Name, node.Name, "old-hash"))
	}
	g, err := placement.Group(placement.GroupInput{Evaluator: placement.New(ds, placement.Options{}), Hash: "new-hash", Now: dstest.Epoch, Nodes: nodes, Pods: pods})
	if err != nil {
		panic(err)
	}
	p, err := rollout.Update(ds, g, rollout.Options{})
	if err != nil {
		panic(err)
	}
	for _, d := range p.Deletes {
		fmt.Println("delete", d.Pod.Name, "on", d.Node, "because", d.Reason)
	}
	// Output:
	// delete old-node-0000 on node-0000 because Replace
}

// ExampleAllowsSurge shows that any positive maxSurge percentage allows a
// second pod on a node: scaled to one node, it rounds up to 1.
func ExampleAllowsSurge() {
	ds := dstest.DaemonSet("agent", dstest.RollingUpdate(intstr.FromInt32(0), intstr.FromString("1%")))
	n, _ := rollout.SurgeCount(ds, 250)
	fmt.Println(rollout.AllowsSurge(ds), n)
	// Output: true 3
}
