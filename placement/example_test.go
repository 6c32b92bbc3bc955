package placement_test

import (
	"fmt"
	"maps"
	"slices"
	"time"

	"github.com/dsplan/dsplan/placement"
	appsv1 "k8s.io/api/apps/v1"
	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/util/intstr"
)

// logAgent returns a small log-shipping DaemonSet that tolerates
// control-plane nodes.
func logAgent() *appsv1.DaemonSet {
	labels := map[string]string{"name": "log-agent"}
	return &appsv1.DaemonSet{
		ObjectMeta: metav1.ObjectMeta{Name: "log-agent", Namespace: "kube-system", UID: "3f6c0a52"},
		Spec: appsv1.DaemonSetSpec{
			Selector: &metav1.LabelSelector{MatchLabels: labels},
			Template: corev1.PodTemplateSpec{
				ObjectMeta: metav1.ObjectMeta{Labels: labels},
				Spec: corev1.PodSpec{
					Tolerations: []corev1.Toleration{{
						Key: "node-role.kubernetes.io/control-plane", Operator: corev1.TolerationOpExists, Effect: corev1.TaintEffectNoSchedule,
					}},
					Containers: []corev1.Container{{Name: "agent", Image: "example.com/agent:1.0"}},
				},
			},
			UpdateStrategy: appsv1.DaemonSetUpdateStrategy{
				Type:          appsv1.RollingUpdateDaemonSetStrategyType,
				RollingUpdate: &appsv1.RollingUpdateDaemonSet{MaxUnavailable: new(intstr.FromInt32(1))},
			},
		},
	}
}

func newNode(name string, taints ...corev1.Taint) *corev1.Node {
	return &corev1.Node{ObjectMeta: metav1.ObjectMeta{Name: name}, Spec: corev1.NodeSpec{Taints: taints}}
}

func ExampleNew() {
	e := placement.New(logAgent(), placement.Options{})
	nodes := []*corev1.Node{
		newNode("control-plane", corev1.Taint{Key: "node-role.kubernetes.io/control-plane", Effect: corev1.TaintEffectNoSchedule}),
		newNode("worker-1"),
		newNode("worker-2", corev1.Taint{Key: "node.kubernetes.io/not-ready", Effect: corev1.TaintEffectNoExecute}),
		newNode("worker-3", corev1.Taint{Key: "dedicated", Value: "db", Effect: corev1.TaintEffectNoSchedule}),
		newNode("worker-4", corev1.Taint{Key: "dedicated", Value: "db", Effect: corev1.TaintEffectNoExecute}),
	}
	for _, n := range nodes {
		d := e.Evaluate(n)
		fmt.Printf("%-13s run=%-5v stay=%-5v %v\n", n.Name, d.ShouldRun(), d.ShouldContinueRunning(), d.Reason)
	}
	// Output:
	// control-plane run=true  stay=true  Eligible
	// worker-1      run=true  stay=true  Eligible
	// worker-2      run=true  stay=true  Eligible
	// worker-3      run=false stay=true  UntoleratedTaint
	// worker-4      run=false stay=false UntoleratedNoExecuteTaint
}

func ExampleDecision_String() {
	ds := logAgent()
	ds.Spec.Template.Spec.NodeSelector = map[string]string{"app": "logging-node"}
	e := placement.New(ds, placement.Options{})

	labelled := newNode("worker-1")
	labelled.Labels = map[string]string{"app": "logging-node"}
	fmt.Println(e.Evaluate(labelled))
	fmt.Println(e.Evaluate(newNode("worker-2")))
	tainted := newNode("worker-3", corev1.Taint{Key: "dedicated", Value: "db", Effect: corev1.TaintEffectNoSchedule})
	tainted.Labels = labelled.Labels
	fmt.Println(e.Evaluate(tainted))
	// Output:
	// run: node is eligible
	// no pod: node labels do not match spec.template.spec.nodeSelector
	// no new pod; a pod already there may stay: untolerated taint dedicated=db:NoSchedule
}

func ExampleEvaluator_Warnings() {
	ds := logAgent()
	ds.Spec.Template.Spec.Affinity = &corev1.Affinity{NodeAffinity: &corev1.NodeAffinity{
		RequiredDuringSchedulingIgnoredDuringExecution: &corev1.NodeSelector{NodeSelectorTerms: []corev1.NodeSelectorTerm{{
			MatchExpressions: []corev1.NodeSelectorRequirement{{Key: "zone", Operator: "Equals", Values: []string{"a"}}},
		}}},
	}}
	ds.Spec.Template.Spec.Tolerations = append(ds.Spec.Template.Spec.Tolerations,
		corev1.Toleration{Key: "rank", Operator: corev1.TolerationOpLt, Value: "5"})
	e := placement.New(ds, placement.Options{})
	for _, w := range e.Warnings() {
		fmt.Println(w)
	}
	fmt.Println(e.Evaluate(newNode("worker-1")))
	// Output:
	// spec.template.spec.affinity.nodeAffinity.requiredDuringSchedulingIgnoredDuringExecution.nodeSelectorTerms[0].matchExpressions[0].operator: Unsupported value: "Equals": supported values: "In", "NotIn", "Exists", "DoesNotExist", "Gt", "Lt": the term matches no node
	// spec.template.spec.tolerations[1].operator: operator Lt tolerates nothing while TaintTolerationComparisonOperators is off
	// no pod: node matches no term of the required node affinity
}

func ExampleEvaluator_NewPod() {
	ds := logAgent()
	ds.Annotations = map[string]string{appsv1.DeprecatedTemplateGeneration: "4"}
	pod := placement.New(ds, placement.Options{}).NewPod("worker-1", "7c9d5f8b6")

	fmt.Println("generateName:", pod.GenerateName, "namespace:", pod.Namespace)
	for _, k := range slices.Sorted(maps.Keys(pod.Labels)) {
		fmt.Printf("label %s=%s\n", k, pod.Labels[k])
	}
	ref := pod.OwnerReferences[0]
	fmt.Printf("owner %s %s %s controller=%v\n", ref.APIVersion, ref.Kind, ref.Name, *ref.Controller)
	for _, t := range pod.Spec.Tolerations {
		fmt.Printf("toleration %s %s %s\n", t.Key, t.Operator, t.Effect)
	}
	term := pod.Spec.Affinity.NodeAffinity.RequiredDuringSchedulingIgnoredDuringExecution.NodeSelectorTerms[0]
	fmt.Printf("matchFields %s %s %v\n", term.MatchFields[0].Key, term.MatchFields[0].Operator, term.MatchFields[0].Values)
	// Output:
	// generateName: log-agent- namespace: kube-system
	// label controller-revision-hash=7c9d5f8b6
	// label name=log-agent
	// label pod-template-generation=4
	// owner apps/v1 DaemonSet log-agent controller=true
	// toleration node-role.kubernetes.io/control-plane Exists NoSchedule
	// toleration node.kubernetes.io/not-ready Exists NoExecute
	// toleration node.kubernetes.io/unreachable Exists NoExecute
	// toleration node.kubernetes.io/disk-pressure Exists NoSchedule
	// toleration node.kubernetes.io/memory-pressure Exists NoSchedule
	// toleration node.kubernetes.io/pid-pressure Exists NoSchedule
	// toleration node.kubernetes.io/unschedulable Exists NoSchedule
	// matchFields metadata.name In [worker-1]
}

func ExampleTargetNodeName() {
	pending := placement.New(logAgent(), placement.Options{}).NewPod("worker-1", "")
	name, err := placement.TargetNodeName(pending)
	fmt.Println(name, err)

	pending.Spec.NodeName = "worker-2" // bound by the scheduler
	name, err = placement.TargetNodeName(pending)
	fmt.Println(name, err)

	_, err = placement.TargetNodeName(&corev1.Pod{ObjectMeta: metav1.ObjectMeta{Namespace: "kube-system", Name: "stray"}})
	fmt.Println(err)
	// Output:
	// worker-1 <nil>
	// worker-2 <nil>
	// no spec.affinity.nodeAffinity.requiredDuringSchedulingIgnoredDuringExecution for pod kube-system/stray
}

func ExampleIsPodUpdated() {
	pod := &corev1.Pod{ObjectMeta: metav1.ObjectMeta{Labels: map[string]string{
		"controller-revision-hash": "old",
		"pod-template-generation":  "4",
	}}}
	fmt.Println(placement.IsPodUpdated(pod, "new", nil))
	fmt.Println(placement.IsPodUpdated(pod, "old", nil))
	fmt.Println(placement.IsPodUpdated(pod, "new", new(int64(4))))
	// Output:
	// false
	// true
	// true
}

func ExampleIsControlledBy() {
	ds := logAgent()
	pod := placement.New(ds, placement.Options{}).NewPod("worker-1", "")
	fmt.Println(placement.IsControlledBy(pod, ds))

	other := logAgent()
	other.UID = "9a1b2c3d"
	fmt.Println(placement.IsControlledBy(pod, other))
	// Output:
	// true
	// false
}

func ExampleTemplateGeneration() {
	ds := logAgent()
	g, err := placement.TemplateGeneration(ds)
	fmt.Println(g, err)

	ds.Annotations = map[string]string{appsv1.DeprecatedTemplateGeneration: "3"}
	g, err = placement.TemplateGeneration(ds)
	fmt.Println(*g, err)

	ds.Annotations[appsv1.DeprecatedTemplateGeneration] = "three"
	g, err = placement.TemplateGeneration(ds)
	fmt.Println(g, err)
	// Output:
	// <nil> <nil>
	// 3 <nil>
	// <nil> annotation deprecated.daemonset.template.generation: strconv.ParseInt: parsing "three": invalid syntax
}

func ExampleValidate() {
	ds := logAgent()
	ds.Spec.Selector.MatchLabels = map[string]string{"name": "log-shipper"}
	ds.Spec.MinReadySeconds = -10
	ds.Spec.UpdateStrategy.RollingUpdate = &appsv1.RollingUpdateDaemonSet{
		MaxUnavailable: new(intstr.FromString("150%")),
		MaxSurge:       new(intstr.FromInt32(1)),
	}
	for _, err := range placement.Validate(ds) {
		fmt.Println(err)
	}
	// Output:
	// spec.template.metadata.labels: Invalid value: {"name":"log-agent"}: `selector` does not match template `labels`
	// spec.minReadySeconds: Invalid value: -10: must be greater than or equal to 0
	// spec.updateStrategy.rollingUpdate.maxUnavailable: Invalid value: "150%": must not be greater than 100%
	// spec.updateStrategy.rollingUpdate.maxSurge: Invalid value: 1: may not be set when maxUnavailable is non-zero
}

// ExampleNewNodeSet groups several DaemonSets against one prepared node
// list, as a controller does between two changes of its nodes: the nodes
// are indexed and their labels numbered once.
func ExampleNewNodeSet() {
	labelled := func(name string, labels map[string]string) *corev1.Node {
		return &corev1.Node{ObjectMeta: metav1.ObjectMeta{Name: name, Labels: labels}}
	}
	set := placement.NewNodeSet([]*corev1.Node{
		labelled("gpu-1", map[string]string{"accelerator": "nvidia"}),
		labelled("cpu-1", map[string]string{"tier": "spot"}),
		labelled("cpu-2", nil),
	})
	gpuOnly := logAgent()
	gpuOnly.Spec.Template.Spec.NodeSelector = map[string]string{"accelerator": "nvidia"}
	noSpot := logAgent()
	noSpot.Spec.Template.Spec.Affinity = &corev1.Affinity{NodeAffinity: &corev1.NodeAffinity{
		RequiredDuringSchedulingIgnoredDuringExecution: &corev1.NodeSelector{NodeSelectorTerms: []corev1.NodeSelectorTerm{{
			MatchExpressions: []corev1.NodeSelectorRequirement{{Key: "tier", Operator: corev1.NodeSelectorOpNotIn, Values: []string{"spot"}}},
		}}},
	}}
	for _, ds := range []*appsv1.DaemonSet{gpuOnly, noSpot} {
		g, err := placement.Group(placement.GroupInput{Evaluator: placement.New(ds, placement.Options{}), NodeSet: set})
		if err != nil {
			panic(err)
		}
		var runs []string
		for _, n := range g.All() {
			if n.Decision().ShouldRun() {
				runs = append(runs, n.Name())
			}
		}
		fmt.Println(runs, g.Desired())
	}
	// Output:
	// [gpu-1] 1
	// [gpu-1 cpu-2] 2
}

// ExampleEvaluator_EvaluateNodeSet decides one DaemonSet on every node of
// a prepared node list at once.
func ExampleEvaluator_EvaluateNodeSet() {
	set := placement.NewNodeSet([]*corev1.Node{
		{ObjectMeta: metav1.ObjectMeta{Name: "gpu-1", Labels: map[string]string{"accelerator": "nvidia"}}},
		{ObjectMeta: metav1.ObjectMeta{Name: "cpu-1"}},
		{ObjectMeta: metav1.ObjectMeta{Name: "gpu-2", Labels: map[string]string{"accelerator": "nvidia"}},
			Spec: corev1.NodeSpec{Taints: []corev1.Taint{{Key: "dedicated", Value: "training", Effect: corev1.TaintEffectNoSchedule}}}},
	})
	ds := logAgent()
	ds.Spec.Template.Spec.NodeSelector = map[string]string{"accelerator": "nvidia"}
	decisions := placement.New(ds, placement.Options{}).EvaluateNodeSet(set, nil)
	for i, d := range decisions {
		fmt.Printf("%s: %v\n", set.Node(i).Name, d.Reason)
	}
	// Output:
	// gpu-1: Eligible
	// cpu-1: NodeSelectorMismatch
	// gpu-2: UntoleratedTaint
}

// ExampleGroup groups a DaemonSet's pods by node: one node runs an old pod,
// one a pod of the current revision that is not available yet, and a pod
// still targets a node that was deleted.
func ExampleGroup() {
	ds := logAgent()
	ds.Spec.MinReadySeconds = 30
	now := time.Date(2026, 1, 1, 12, 0, 0, 0, time.UTC)
	pod := func(name, node, hash string, readySince time.Time) *corev1.Pod {
		return &corev1.Pod{
			ObjectMeta: metav1.ObjectMeta{Name: name, Namespace: ds.Namespace,
				Labels:          map[string]string{"name": "log-agent", appsv1.DefaultDaemonSetUniqueLabelKey: hash},
				OwnerReferences: []metav1.OwnerReference{*metav1.NewControllerRef(ds, placement.ControllerKind)}},
			Spec: corev1.PodSpec{NodeName: node},
			Status: corev1.PodStatus{Phase: corev1.PodRunning, Conditions: []corev1.PodCondition{
				{Type: corev1.PodReady, Status: corev1.ConditionTrue, LastTransitionTime: metav1.NewTime(readySince)}}},
		}
	}
	g, err := placement.Group(placement.GroupInput{
		Evaluator: placement.New(ds, placement.Options{}),
		Hash:      "7c4f8d6b5",
		Now:       now,
		Nodes:     []*corev1.Node{newNode("node-a"), newNode("node-b")},
		Pods: []*corev1.Pod{
			pod("log-agent-x1", "node-a", "5d9b8c7f4", now.Add(-time.Hour)),
			pod("log-agent-y2", "node-b", "7c4f8d6b5", now.Add(-10*time.Second)),
			pod("log-agent-z3", "node-gone", "5d9b8c7f4", now.Add(-time.Hour)),
		},
	})
	if err != nil {
		panic(err)
	}
	for _, n := range g.All() {
		fmt.Printf("%s (exists %v, %s):", n.Name(), n.Exists(), n.Decision().Reason)
		for _, p := range n.Pods() {
			fmt.Printf(" %s updated=%v available=%v", p.Name(), p.Updated(), p.Available())
		}
		fmt.Println()
	}
	// Output:
	// node-a (exists true, Eligible): log-agent-x1 updated=false available=true
	// node-b (exists true, Eligible): log-agent-y2 updated=true available=false
	// node-gone (exists false, NotEvaluated): log-agent-z3 updated=false available=true
}

// ExampleEvaluator_Explain says why a node gets no pod, naming the rule and
// what of the node fails it.
func ExampleEvaluator_Explain() {
	ds := logAgent()
	ds.Spec.Template.Spec.NodeSelector = map[string]string{"disktype": "ssd", "kubernetes.io/os": "linux"}
	e := placement.New(ds, placement.Options{})
	hdd := &corev1.Node{ObjectMeta: metav1.ObjectMeta{Name: "worker-7", Labels: map[string]string{"disktype": "hdd", "kubernetes.io/os": "linux"}}}
	fmt.Println(e.Explain(hdd))
	tainted := &corev1.Node{ObjectMeta: metav1.ObjectMeta{Name: "db-1", Labels: map[string]string{"disktype": "ssd", "kubernetes.io/os": "linux"}},
		Spec: corev1.NodeSpec{Taints: []corev1.Taint{{Key: "dedicated", Value: "db", Effect: corev1.TaintEffectNoSchedule}}}}
	fmt.Println(e.Explain(tainted))
	// Output:
	// no pod: nodeSelector wants disktype=ssd, node has disktype=hdd
	// no new pod; a pod already there may stay: untolerated taint dedicated=db:NoSchedule
}
