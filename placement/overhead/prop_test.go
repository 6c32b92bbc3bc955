package overhead_test

import (
	"cmp"
	"slices"
	"strings"
	"testing"

	gocmp "github.com/google/go-cmp/cmp"
	appsv1 "k8s.io/api/apps/v1"
	corev1 "k8s.io/api/core/v1"
	"k8s.io/apimachinery/pkg/api/resource"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/labels"
	"k8s.io/apimachinery/pkg/types"
	"pgregory.net/rapid"

	"github.com/dsplan/dsplan/internal/dstest"
	"github.com/dsplan/dsplan/placement"
	"github.com/dsplan/dsplan/placement/overhead"
)

// Generators: small alphabets, so that names, labels and taints often meet.
// Node names include the placeholder templates are evaluated under, so
// that a DaemonSet may mention it.

var (
	genNodeName  = rapid.SampledFrom([]string{"", "n1", "n2", "<template>"})
	genLabelKey  = rapid.SampledFrom([]string{"a", "b", "example.com/c"})
	genLabelVal  = rapid.SampledFrom([]string{"x", "y", "1", "10"})
	genTaintKey  = rapid.SampledFrom([]string{"a", "b", "", corev1.TaintNodeNotReady, corev1.TaintNodeUnschedulable, corev1.TaintNodeNetworkUnavailable})
	genEffect    = rapid.SampledFrom([]corev1.TaintEffect{corev1.TaintEffectNoSchedule, corev1.TaintEffectNoExecute, corev1.TaintEffectPreferNoSchedule, ""})
	genSelOp     = rapid.SampledFrom([]corev1.NodeSelectorOperator{In, NotIn, Exists, corev1.NodeSelectorOpDoesNotExist, Gt, Lt, "Bad"})
	genTolOp     = rapid.SampledFrom([]corev1.TolerationOperator{"", corev1.TolerationOpEqual, corev1.TolerationOpExists, "Bad"})
	genResource  = rapid.SampledFrom([]string{"cpu", "memory", "example.com/dev", "hugepages-2Mi"})
	genQuantity  = rapid.SampledFrom([]string{"0", "100m", "1", "1.5", "64Mi", "1Gi"})
	genProtocol  = rapid.SampledFrom([]corev1.Protocol{"", corev1.ProtocolTCP, corev1.ProtocolUDP})
	genHostIP    = rapid.SampledFrom([]string{"", "0.0.0.0", "10.0.0.1"})
	genNamespace = rapid.SampledFrom([]string{"default", "kube-system"})
	genDSName    = rapid.SampledFrom([]string{"a", "b", "c", "d"})
)

func genLabels(t *rapid.T, label string) map[string]string {
	if rapid.Bool().Draw(t, label+"Nil") {
		return nil
	}
	return rapid.MapOfN(genLabelKey, genLabelVal, 0, 3).Draw(t, label)
}

var genResourceList = rapid.Custom(func(t *rapid.T) corev1.ResourceList {
	if rapid.Bool().Draw(t, "nil") {
		return nil
	}
	m := rapid.MapOfN(genResource, genQuantity, 0, 3).Draw(t, "resources")
	l := corev1.ResourceList{}
	for k, v := range m {
		l[corev1.ResourceName(k)] = resource.MustParse(v)
	}
	return l
})

var genPort = rapid.Custom(func(t *rapid.T) corev1.ContainerPort {
	return corev1.ContainerPort{
		ContainerPort: rapid.Int32Range(1, 3).Draw(t, "containerPort"),
		HostPort:      rapid.Int32Range(-1, 3).Draw(t, "hostPort"),
		Protocol:      genProtocol.Draw(t, "protocol"),
		HostIP:        genHostIP.Draw(t, "hostIP"),
	}
})

var genContainer = rapid.Custom(func(t *rapid.T) corev1.Container {
	c := corev1.Container{Name: "c", Image: "example.com/c"}
	c.Resources.Requests = genResourceList.Draw(t, "requests")
	c.Resources.Limits = genResourceList.Draw(t, "limits")
	c.Ports = rapid.SliceOfN(genPort, 0, 2).Draw(t, "ports")
	if rapid.Bool().Draw(t, "sidecar") {
		c.RestartPolicy = new(corev1.ContainerRestartPolicyAlways)
	}
	return c
})

var genTerm = rapid.Custom(func(t *rapid.T) corev1.NodeSelectorTerm {
	var term corev1.NodeSelectorTerm
	for range rapid.IntRange(0, 1).Draw(t, "exprs") {
		term.MatchExpressions = append(term.MatchExpressions, req(genLabelKey.Draw(t, "key"), genSelOp.Draw(t, "op"), rapid.SliceOfN(genLabelVal, 0, 2).Draw(t, "values")...))
	}
	// Terms with matchFields are what tells a template from a node.
	if rapid.IntRange(0, 2).Draw(t, "fields") > 0 {
		op := rapid.SampledFrom([]corev1.NodeSelectorOperator{In, NotIn}).Draw(t, "fieldOp")
		term.MatchFields = append(term.MatchFields, req(metav1.ObjectNameField, op, genNodeName.Draw(t, "fieldValue")))
	}
	return term
})

var genDaemonSet = rapid.Custom(func(t *rapid.T) *appsv1.DaemonSet {
	name := genDSName.Draw(t, "name")
	ds := dstest.DaemonSet(name)
	ds.Namespace = genNamespace.Draw(t, "namespace")
	ds.UID = types.UID(ds.Namespace + "-" + name)
	switch rapid.IntRange(0, 9).Draw(t, "selectorShape") {
	case 0:
		ds.Spec.Selector = &metav1.LabelSelector{}
	case 1:
		ds.Spec.Selector = &metav1.LabelSelector{MatchExpressions: []metav1.LabelSelectorRequirement{{Key: "app", Operator: "Bad"}}}
	case 2:
		ds.UID = ""
	}
	if rapid.IntRange(0, 9).Draw(t, "deleting") == 0 {
		ds.DeletionTimestamp = &metav1.Time{Time: dstest.Epoch}
	}
	spec := &ds.Spec.Template.Spec
	if rapid.IntRange(0, 4).Draw(t, "hasNodeName") == 0 {
		spec.NodeName = genNodeName.Draw(t, "nodeName")
	}
	if rapid.IntRange(0, 3).Draw(t, "hasNodeSelector") == 0 {
		spec.NodeSelector = genLabels(t, "nodeSelector")
	}
	if rapid.Bool().Draw(t, "hasAffinity") {
		affinity(rapid.SliceOfN(genTerm, 0, 2).Draw(t, "terms")...)(ds)
	}
	if rapid.Bool().Draw(t, "toleratesAll") {
		spec.Tolerations = append(spec.Tolerations, corev1.Toleration{Operator: corev1.TolerationOpExists})
	}
	for range rapid.IntRange(0, 2).Draw(t, "tolerations") {
		spec.Tolerations = append(spec.Tolerations, corev1.Toleration{
			Key: genTaintKey.Draw(t, "tolKey"), Operator: genTolOp.Draw(t, "tolOp"), Value: genLabelVal.Draw(t, "tolValue"), Effect: genEffect.Draw(t, "tolEffect"),
		})
	}
	spec.HostNetwork = rapid.Bool().Draw(t, "hostNetwork")
	spec.Containers = rapid.SliceOfN(genContainer, 1, 2).Draw(t, "containers")
	spec.InitContainers = rapid.SliceOfN(genContainer, 0, 2).Draw(t, "initContainers")
	if rapid.IntRange(0, 3).Draw(t, "hasOverhead") == 0 {
		spec.Overhead = genResourceList.Draw(t, "overhead")
	}
	if rapid.IntRange(0, 3).Draw(t, "hasPodResources") == 0 {
		spec.Resources = &corev1.ResourceRequirements{Requests: genResourceList.Draw(t, "podRequests"), Limits: genResourceList.Draw(t, "podLimits")}
	}
	return ds
})

var genNode = rapid.Custom(func(t *rapid.T) *corev1.Node {
	n := &corev1.Node{ObjectMeta: metav1.ObjectMeta{Name: genNodeName.Draw(t, "name"), Labels: genLabels(t, "labels")}}
	for range rapid.IntRange(0, 2).Draw(t, "taints") {
		n.Spec.Taints = append(n.Spec.Taints, taint(genTaintKey.Draw(t, "taintKey"), genLabelVal.Draw(t, "taintValue"), genEffect.Draw(t, "taintEffect")))
	}
	return n
})

// genPods draws pods of the DaemonSets (controlled, orphaned or owned by
// others) on the nodes, in any state.
func genPods(t *rapid.T, dss []*appsv1.DaemonSet, nodes []*corev1.Node) []*corev1.Pod {
	var pods []*corev1.Pod
	for i := range rapid.IntRange(0, 6).Draw(t, "pods") {
		if len(dss) == 0 || len(nodes) == 0 {
			break
		}
		ds := rapid.SampledFrom(dss).Draw(t, "podOf")
		if ds == nil {
			pods = append(pods, nil)
			continue
		}
		node := rapid.SampledFrom(nodes).Draw(t, "podNode").Name
		p := dstest.Pod(ds, "p"+string(rune('0'+i)), node, "")
		switch rapid.IntRange(0, 5).Draw(t, "podShape") {
		case 0:
			p.OwnerReferences = nil
		case 1:
			p.OwnerReferences[0].UID = "other"
		case 2:
			dstest.Unscheduled(node)(p)
		case 3:
			dstest.Phase(rapid.SampledFrom([]corev1.PodPhase{corev1.PodFailed, corev1.PodSucceeded}).Draw(t, "phase"))(p)
			if rapid.Bool().Draw(t, "deleting") {
				dstest.Deleting(p)
			}
		}
		pods = append(pods, p)
	}
	return pods
}

// hasPod restates when a pod of ds targets node after claiming (for a
// DaemonSet that is not being deleted), for the kinds of pods genPods
// draws.
func hasPod(ds *appsv1.DaemonSet, node string, pods []*corev1.Pod) bool {
	sel, err := metav1.LabelSelectorAsSelector(ds.Spec.Selector)
	if err != nil {
		return false
	}
	for _, p := range pods {
		if p == nil || p.Namespace != ds.Namespace || !sel.Matches(labels.Set(p.Labels)) {
			continue
		}
		ref := metav1.GetControllerOf(p)
		switch {
		case ref == nil && p.DeletionTimestamp != nil: // not adopted
			continue
		case ref != nil && (ref.UID != ds.UID || ref.Name != ds.Name || ref.Kind != "DaemonSet"):
			continue
		}
		if target, err := placement.TargetNodeName(p); err != nil || target != node {
			continue
		}
		terminal := p.Status.Phase == corev1.PodFailed || p.Status.Phase == corev1.PodSucceeded
		if terminal && p.DeletionTimestamp != nil {
			continue
		}
		return true
	}
	return false
}

// ignored restates when kube-controller-manager ignores a DaemonSet.
func ignored(ds *appsv1.DaemonSet) bool {
	sel := ds.Spec.Selector
	if sel != nil && len(sel.MatchLabels) == 0 && len(sel.MatchExpressions) == 0 || ds.DeletionTimestamp != nil {
		return true
	}
	_, err := metav1.LabelSelectorAsSelector(sel)
	return err != nil
}

// firstOf returns, for each namespace/name, the first DaemonSet of dss.
func firstOf(dss []*appsv1.DaemonSet) map[string]*appsv1.DaemonSet {
	m := map[string]*appsv1.DaemonSet{}
	for _, ds := range dss {
		if ds == nil {
			continue
		}
		if k := ds.Namespace + "/" + ds.Name; m[k] == nil {
			m[k] = ds
		}
	}
	return m
}

// sumOf adds the requests and host ports of the entries with outcome o.
func sumOf(r overhead.Result, o overhead.Outcome) (corev1.ResourceList, []overhead.HostPort, int) {
	var sum corev1.ResourceList
	var ports []overhead.HostPort
	n := 0
	for _, e := range r.Entries() {
		if e.Outcome != o {
			continue
		}
		n++
		for name, q := range e.DaemonSet.Requests {
			if sum == nil {
				sum = corev1.ResourceList{}
			}
			s := sum[name]
			s.Add(q)
			sum[name] = s
		}
		ports = append(ports, e.DaemonSet.HostPorts...)
	}
	slices.SortFunc(ports, func(a, b overhead.HostPort) int {
		return cmp.Or(cmp.Compare(a.Port, b.Port), strings.Compare(string(a.Protocol), string(b.Protocol)), strings.Compare(a.HostIP, b.HostIP))
	})
	return sum, slices.Compact(ports), n
}

// checkResult checks r against placement evaluating each DaemonSet on
// evaluated (the node as placement should see it).
func checkResult(t *rapid.T, what string, r overhead.Result, byName map[string]*appsv1.DaemonSet, opts overhead.Options, evaluated *corev1.Node) {
	if r.Len() != len(byName) {
		t.Fatalf("%s: %d entries, want %d", what, r.Len(), len(byName))
	}
	for i, e := range r.Entries() {
		if i > 0 {
			prev := r.Entry(i - 1).DaemonSet
			if cmp.Or(strings.Compare(prev.Namespace, e.DaemonSet.Namespace), strings.Compare(prev.Name, e.DaemonSet.Name)) >= 0 {
				t.Fatalf("%s: entries out of order: %s after %s", what, e.DaemonSet, prev)
			}
		}
		ds := byName[e.DaemonSet.String()]
		if ignored(ds) {
			if e.Outcome != overhead.Ignored || e.Decision != (placement.Decision{}) {
				t.Fatalf("%s: %s = %v, want Ignored", what, e.DaemonSet, e)
			}
			continue
		}
		want := placement.New(ds, opts.Placement).Evaluate(evaluated)
		if diff := gocmp.Diff(want, e.Decision); diff != "" {
			t.Fatalf("%s: %s Decision mismatch with placement (-want +got):\n%s", what, e.DaemonSet, diff)
		}
		if lands := e.Outcome == overhead.Lands || e.Outcome == overhead.Present; lands != want.ShouldRun() {
			t.Fatalf("%s: %s = %v, placement's ShouldRun = %v", what, e.DaemonSet, e.Outcome, want.ShouldRun())
		}
	}
	sum, ports, n := sumOf(r, overhead.Lands)
	if r.Pods != n {
		t.Fatalf("%s: Pods = %d, %d entries land", what, r.Pods, n)
	}
	if diff := gocmp.Diff(sum, r.Requests); diff != "" {
		t.Fatalf("%s: Requests is not the sum of those that land (-want +got):\n%s", what, diff)
	}
	if diff := gocmp.Diff(ports, r.HostPorts); diff != "" {
		t.Fatalf("%s: HostPorts is not the union of those that land (-want +got):\n%s", what, diff)
	}
}

// checkOverhead is the property: on every node, the overhead API agrees
// with placement.Evaluator; a template agrees with Evaluate on the same
// node under a fresh name; Missing lands a subset of Node; no input
// changes.
func checkOverhead(t *rapid.T) {
	dss := rapid.SliceOfN(rapid.OneOf(genDaemonSet, rapid.Just[*appsv1.DaemonSet](nil)), 0, 5).Draw(t, "daemonSets")
	nodes := rapid.SliceOfN(genNode, 1, 4).Draw(t, "nodes")
	pods := genPods(t, dss, nodes)
	opts := overhead.Options{Placement: placement.Options{TaintTolerationComparisonOperators: rapid.Bool().Draw(t, "comparisonOperators")}}
	var dssBefore []*appsv1.DaemonSet
	for _, ds := range dss {
		dssBefore = append(dssBefore, ds.DeepCopy())
	}
	nodesBefore, podsBefore := copyNodes(nodes), copyPods(pods)

	set := overhead.New(dss, opts)
	byName := firstOf(dss)
	for _, n := range nodes {
		// A template is evaluated as the node under a name no DaemonSet
		// mentions; "fresh-node" is not in the generators' alphabet.
		fresh := n.DeepCopy()
		fresh.Name = "fresh-node"
		tr := set.Template(n)
		checkResult(t, "Template", tr, byName, opts, fresh)
		if !tr.Template || tr.Node != "" {
			t.Fatalf("Template() = {Template: %v, Node: %q}", tr.Template, tr.Node)
		}
		if diff := gocmp.Diff(view(set.Node(fresh)).Entries, view(tr).Entries); diff != "" {
			t.Fatalf("Template(n) and Node(n under a fresh name) differ (-Node +Template):\n%s", diff)
		}
		if n.Name == "" {
			if diff := gocmp.Diff(view(tr), view(set.Node(n))); diff != "" {
				t.Fatalf("Node(unnamed) is not Template (-Template +Node):\n%s", diff)
			}
			continue
		}
		nr := set.Node(n)
		checkResult(t, "Node", nr, byName, opts, n)
		mr, err := set.Missing(n, pods)
		if err != nil {
			if !strings.Contains(err.Error(), placement.ErrNoIdentity.Error()) {
				t.Fatalf("Missing() error: %v", err)
			}
			continue
		}
		checkResult(t, "Missing", mr, byName, opts, n)
		for i, e := range mr.Entries() {
			want := nr.Entry(i).Outcome
			if want == overhead.Lands && hasPod(byName[e.DaemonSet.String()], n.Name, pods) {
				want = overhead.Present
			}
			if e.Outcome != want {
				t.Fatalf("Missing: %s = %v, want %v", e.DaemonSet, e.Outcome, want)
			}
		}
	}
	// Templates is Template on each node, nil nodes included.
	batch := append([]*corev1.Node{nil}, nodes...)
	for i, r := range set.Templates(batch) {
		if diff := gocmp.Diff(view(set.Template(batch[i])), view(r)); diff != "" {
			t.Fatalf("Templates()[%d] is not Template() (-Template +Templates):\n%s", i, diff)
		}
	}
	for i := range dss {
		if diff := gocmp.Diff(dssBefore[i], dss[i]); diff != "" {
			t.Fatalf("DaemonSet %d changed (-before +after):\n%s", i, diff)
		}
	}
	if diff := gocmp.Diff(nodesBefore, nodes); diff != "" {
		t.Fatalf("the nodes changed (-before +after):\n%s", diff)
	}
	if diff := gocmp.Diff(podsBefore, pods); diff != "" {
		t.Fatalf("the pods changed (-before +after):\n%s", diff)
	}
}

func copyNodes(nodes []*corev1.Node) []*corev1.Node {
	out := make([]*corev1.Node, len(nodes))
	for i, n := range nodes {
		out[i] = n.DeepCopy()
	}
	return out
}

func copyPods(pods []*corev1.Pod) []*corev1.Pod {
	if pods == nil {
		return nil
	}
	out := make([]*corev1.Pod, len(pods))
	for i, p := range pods {
		out[i] = p.DeepCopy()
	}
	return out
}

func TestAgreesWithPlacement(t *testing.T) {
	rapid.Check(t, checkOverhead)
}

func FuzzOverhead(f *testing.F) {
	f.Fuzz(rapid.MakeFuzz(checkOverhead))
}

// TestInputOrder: the order of the DaemonSets (with distinct names) does
// not change the Set or its results.
func TestInputOrder(t *testing.T) {
	rapid.Check(t, func(t *rapid.T) {
		byName := firstOf(rapid.SliceOfN(genDaemonSet, 0, 5).Draw(t, "daemonSets"))
		var dss []*appsv1.DaemonSet
		for _, ds := range byName {
			dss = append(dss, ds)
		}
		shuffled := rapid.Permutation(dss).Draw(t, "shuffled")
		node := genNode.Draw(t, "node")
		a, b := overhead.New(dss, overhead.Options{}), overhead.New(shuffled, overhead.Options{})
		if diff := gocmp.Diff(a.DaemonSets(), b.DaemonSets()); diff != "" {
			t.Fatalf("DaemonSets() depends on input order (-a +b):\n%s", diff)
		}
		if diff := gocmp.Diff(view(a.Template(node)), view(b.Template(node))); diff != "" {
			t.Fatalf("Template() depends on input order (-a +b):\n%s", diff)
		}
	})
}
