package plan_test

import (
	"fmt"
	"time"

	corev1 "k8s.io/api/core/v1"
	"k8s.io/apimachinery/pkg/types"

	"github.com/dsplan/dsplan/plan"
)

// cluster is a small cluster as `kubectl get -o yaml` prints it: a
// hand-written DaemonSet (not yet defaulted), two workers and a
// control-plane node the DaemonSet does not tolerate.
const cluster = `
apiVersion: v1
kind: List
items:
- apiVersion: apps/v1
  kind: DaemonSet
  metadata: {name: node-exporter, namespace: monitoring, uid: 6a1c2d5e-0000-4000-8000-000000000001, generation: 1}
  spec:
    selector: {matchLabels: {app: node-exporter}}
    template:
      metadata: {labels: {app: node-exporter}}
      spec:
        containers:
        - {name: node-exporter, image: quay.io/prometheus/node-exporter:v1.8.2}
- apiVersion: v1
  kind: Node
  metadata: {name: worker-1}
- apiVersion: v1
  kind: Node
  metadata: {name: worker-2}
- apiVersion: v1
  kind: Node
  metadata: {name: control-plane}
  spec:
    taints: [{key: node-role.kubernetes.io/control-plane, effect: NoSchedule}]
`

// ExampleNew plans the first sync of a new DaemonSet: its first revision,
// and a pod on each node it tolerates.
func ExampleNew() {
	s, _, err := plan.Decode([]byte(cluster))
	if err != nil {
		panic(err)
	}
	s.DaemonSet, _ = plan.Default(s.DaemonSet)
	s.Now = time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC)

	p := plan.New(s, plan.Options{})
	for _, r := range p.Revisions.Create {
		fmt.Printf("create revision %d (%s)\n", r.Revision, r.Name)
	}
	for _, c := range p.Creates {
		fmt.Printf("create pod on %s (%s), pinned by %s\n", c.Node, c.Reason,
			c.Pod.Spec.Affinity.NodeAffinity.RequiredDuringSchedulingIgnoredDuringExecution.NodeSelectorTerms[0].MatchFields[0].Values[0])
	}
	fmt.Printf("status: desired %d, current %d\n", p.Status.DesiredNumberScheduled, p.Status.CurrentNumberScheduled)
	// Output:
	// create revision 1 (node-exporter-794b6f9ddf)
	// create pod on worker-1 (Missing), pinned by worker-1
	// create pod on worker-2 (Missing), pinned by worker-2
	// status: desired 2, current 0
}

// ExampleDecode reads a snapshot and reports what it holds.
func ExampleDecode() {
	s, warnings, err := plan.Decode([]byte(cluster + `
- apiVersion: v1
  kind: Service
  metadata: {name: ignored}
`))
	if err != nil {
		panic(err)
	}
	fmt.Println(s.DaemonSet.Name, len(s.Nodes), "nodes")
	fmt.Println(warnings)

	_, _, err = plan.Decode([]byte("apiVersion: v1\nkind: Node\nmetadata: {name: node-a}\n"))
	fmt.Println(err)
	// Output:
	// node-exporter 3 nodes
	// [items[4] (Service "ignored"): skipped: dsplan reads no v1 Service]
	// no apps/v1 DaemonSet in the input
}

// ExampleDefault shows the API server defaults a hand-written DaemonSet
// gets; they change its revision hash.
func ExampleDefault() {
	s, _, err := plan.Decode([]byte(cluster))
	if err != nil {
		panic(err)
	}
	ds, paths := plan.Default(s.DaemonSet)
	for _, p := range paths {
		fmt.Println(p)
	}
	fmt.Println(ds.Spec.UpdateStrategy.Type, ds.Spec.Template.Spec.Containers[0].ImagePullPolicy == corev1.PullIfNotPresent)
	// Output:
	// spec.revisionHistoryLimit
	// spec.template.spec.containers[0].imagePullPolicy
	// spec.template.spec.containers[0].terminationMessagePath
	// spec.template.spec.containers[0].terminationMessagePolicy
	// spec.template.spec.dnsPolicy
	// spec.template.spec.restartPolicy
	// spec.template.spec.schedulerName
	// spec.template.spec.securityContext
	// spec.template.spec.terminationGracePeriodSeconds
	// spec.updateStrategy.rollingUpdate
	// spec.updateStrategy.type
	// RollingUpdate true
}

// ExamplePlan_Writes carries out plans the way a controller would until the
// DaemonSet has converged: then the plan writes nothing.
func ExamplePlan_Writes() {
	s, _, err := plan.Decode([]byte(cluster))
	if err != nil {
		panic(err)
	}
	s.DaemonSet, _ = plan.Default(s.DaemonSet)
	s.Now = time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC)
	for round := 1; ; round++ {
		p := plan.New(s, plan.Options{})
		if !p.Writes() {
			fmt.Printf("round %d: nothing to write (%d pods up to date)\n", round, p.Status.UpdatedNumberScheduled)
			break
		}
		fmt.Printf("round %d: %d revisions, %d pods to create, status write %v\n",
			round, len(p.Revisions.Create), len(p.Creates), p.StatusChanged)
		// Carry the plan out: the API server stores the revision, the
		// scheduler and kubelet start the pods, the status is written.
		s.Revisions = append(s.Revisions, p.Revisions.Create...)
		for _, c := range p.Creates {
			pod := c.Pod.DeepCopy()
			pod.Name, pod.UID = pod.GenerateName+c.Node, types.UID("uid-"+c.Node)
			pod.Spec.NodeName = c.Node
			pod.Status.Phase = corev1.PodRunning
			pod.Status.Conditions = []corev1.PodCondition{{Type: corev1.PodReady, Status: corev1.ConditionTrue}}
			s.Pods = append(s.Pods, pod)
		}
		ds := s.DaemonSet.DeepCopy()
		ds.Status = p.Status
		s.DaemonSet = ds
	}
	// Output:
	// round 1: 1 revisions, 2 pods to create, status write true
	// round 2: 0 revisions, 0 pods to create, status write true
	// round 3: nothing to write (2 pods up to date)
}

// ExampleCluster_Plan plans two DaemonSets against one node list indexed
// once, as a controller's resync does.
func ExampleCluster_Plan() {
	s, _, err := plan.Decode([]byte(cluster))
	if err != nil {
		panic(err)
	}
	c := plan.NewCluster(s.Nodes)
	for _, name := range []string{"node-exporter", "log-shipper"} {
		ds, _ := plan.Default(s.DaemonSet)
		ds.Name = name
		p := c.Plan(plan.Snapshot{DaemonSet: ds, Now: time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC)}, plan.Options{})
		fmt.Println(name, len(p.Creates), "creates")
	}
	// Output:
	// node-exporter 2 creates
	// log-shipper 2 creates
}
