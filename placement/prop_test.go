package placement

import (
	"slices"
	"strconv"
	"testing"

	"github.com/google/go-cmp/cmp"
	appsv1 "k8s.io/api/apps/v1"
	corev1 "k8s.io/api/core/v1"
	"k8s.io/apimachinery/pkg/api/equality"
	"k8s.io/apimachinery/pkg/api/validate/content"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/types"
	"k8s.io/apimachinery/pkg/util/intstr"
	corev1helpers "k8s.io/component-helpers/scheduling/corev1"
	"k8s.io/component-helpers/scheduling/corev1/nodeaffinity"
	"k8s.io/klog/v2"
	"pgregory.net/rapid"
)

// Reference semantics: kube-controller-manager v1.37.2's
// nodeShouldRunDaemonPod restated with the component-helpers calls it makes.

// upstreamShouldRun returns (shouldRun, shouldContinueRunning) as KCM
// computes them: NewRequiredNodeAffinity + FindMatchingUntoleratedTaint.
func upstreamShouldRun(ds *appsv1.DaemonSet, node *corev1.Node, opts Options) (bool, bool) {
	if ds == nil {
		ds = &appsv1.DaemonSet{}
	}
	spec := &ds.Spec.Template.Spec
	if spec.NodeName != "" && spec.NodeName != node.Name {
		return false, false
	}
	if ok, _ := nodeaffinity.NewRequiredNodeAffinity(spec.NodeSelector, spec.Affinity).Match(node); !ok {
		return false, false
	}
	_, untolerated := upstreamUntolerated(ds, node, opts, corev1.TaintEffectNoSchedule, corev1.TaintEffectNoExecute)
	if !untolerated {
		return true, true
	}
	_, untoleratedNoExecute := upstreamUntolerated(ds, node, opts, corev1.TaintEffectNoExecute)
	return false, !untoleratedNoExecute
}

// upstreamUntolerated is FindMatchingUntoleratedTaint over the taints with
// the given effects and the daemon pod's tolerations.
func upstreamUntolerated(ds *appsv1.DaemonSet, node *corev1.Node, opts Options, effects ...corev1.TaintEffect) (corev1.Taint, bool) {
	spec := &ds.Spec.Template.Spec
	tolerations := upstreamDaemonTolerations(spec.Tolerations, spec.HostNetwork)
	return corev1helpers.FindMatchingUntoleratedTaint(klog.Logger{}, node.Spec.Taints, tolerations, func(t *corev1.Taint) bool {
		return slices.Contains(effects, t.Effect)
	}, opts.TaintTolerationComparisonOperators)
}

// upstreamDaemonTolerations restates the algorithm of upstream's
// AddOrUpdateTolerationInPodSpec, applied for each daemon default: if some
// matching toleration is Semantic.DeepEqual to the default, nothing changes;
// otherwise every matching toleration becomes the default, or the default is
// appended. The DeepEqual compares a *Toleration with a Toleration, as
// upstream does, which is never equal.
func upstreamDaemonTolerations(in []corev1.Toleration, hostNetwork bool) []corev1.Toleration {
	cur := cloneTolerations(in)
	defaults := slices.Clone(daemonTolerations)
	if hostNetwork {
		defaults = append(defaults, hostNetworkToleration)
	}
	for _, d := range defaults {
		unchanged := slices.ContainsFunc(cur, func(t corev1.Toleration) bool {
			return d.MatchToleration(&t) && equality.Semantic.DeepEqual(&d, t)
		})
		if unchanged {
			continue
		}
		var next []corev1.Toleration
		replaced := false
		for _, t := range cur {
			if d.MatchToleration(&t) {
				t, replaced = d, true
			}
			next = append(next, t)
		}
		if !replaced {
			next = append(next, d)
		}
		cur = next
	}
	return cur
}

// Generators: small alphabets, so that keys, values and names often meet.

var (
	genKey      = rapid.SampledFrom([]string{"a", "b", "example.com/c", "bad key", ""})
	genValue    = rapid.SampledFrom([]string{"", "x", "y", "1", "10", "-3", "01", "bad value!"})
	genName     = rapid.SampledFrom([]string{"", "n1", "n2"})
	genTaintKey = rapid.SampledFrom([]string{"a", "b", "", corev1.TaintNodeNotReady, corev1.TaintNodeUnreachable, corev1.TaintNodeDiskPressure, corev1.TaintNodeUnschedulable, corev1.TaintNodeNetworkUnavailable})
	genEffect   = rapid.SampledFrom([]corev1.TaintEffect{corev1.TaintEffectNoSchedule, corev1.TaintEffectNoExecute, corev1.TaintEffectPreferNoSchedule, "", "Odd"})
	genSelOp    = rapid.SampledFrom([]corev1.NodeSelectorOperator{corev1.NodeSelectorOpIn, corev1.NodeSelectorOpNotIn, corev1.NodeSelectorOpExists, corev1.NodeSelectorOpDoesNotExist, corev1.NodeSelectorOpGt, corev1.NodeSelectorOpLt, "Bad"})
	genFieldOp  = rapid.SampledFrom([]corev1.NodeSelectorOperator{corev1.NodeSelectorOpIn, corev1.NodeSelectorOpNotIn, corev1.NodeSelectorOpExists})
	genFieldKey = rapid.SampledFrom([]string{metav1.ObjectNameField, metav1.ObjectNameField, "metadata.uid", ""})
	genTolOp    = rapid.SampledFrom([]corev1.TolerationOperator{"", corev1.TolerationOpEqual, corev1.TolerationOpExists, corev1.TolerationOpLt, corev1.TolerationOpGt, "Bad"})
	genIntOrPct = rapid.SampledFrom([]intstr.IntOrString{intstr.FromInt32(-1), intstr.FromInt32(0), intstr.FromInt32(1), intstr.FromString("0%"), intstr.FromString("10%"), intstr.FromString("200%"), intstr.FromString("x"), intstr.FromString("5"), {Type: 7}})
)

// genLabels draws nil, an empty map or a small map.
func genLabels(t *rapid.T, label string) map[string]string {
	switch rapid.IntRange(0, 3).Draw(t, label+"Shape") {
	case 0:
		return nil
	case 1:
		return map[string]string{}
	}
	return rapid.MapOfN(genKey, genValue, 1, 4).Draw(t, label)
}

var genRequirement = rapid.Custom(func(t *rapid.T) corev1.NodeSelectorRequirement {
	return corev1.NodeSelectorRequirement{
		Key:      genKey.Draw(t, "key"),
		Operator: genSelOp.Draw(t, "operator"),
		Values:   rapid.SliceOfN(genValue, 0, 2).Draw(t, "values"),
	}
})

var genFieldRequirement = rapid.Custom(func(t *rapid.T) corev1.NodeSelectorRequirement {
	return corev1.NodeSelectorRequirement{
		Key:      genFieldKey.Draw(t, "key"),
		Operator: genFieldOp.Draw(t, "operator"),
		Values:   rapid.SliceOfN(genName, 0, 2).Draw(t, "values"),
	}
})

var genTerm = rapid.Custom(func(t *rapid.T) corev1.NodeSelectorTerm {
	return corev1.NodeSelectorTerm{
		MatchExpressions: rapid.SliceOfN(genRequirement, 0, 3).Draw(t, "matchExpressions"),
		MatchFields:      rapid.SliceOfN(genFieldRequirement, 0, 2).Draw(t, "matchFields"),
	}
})

var genAffinity = rapid.Custom(func(t *rapid.T) *corev1.Affinity {
	switch rapid.IntRange(0, 5).Draw(t, "affinityShape") {
	case 0:
		return nil
	case 1:
		return &corev1.Affinity{}
	case 2:
		return &corev1.Affinity{NodeAffinity: &corev1.NodeAffinity{}}
	}
	return required(rapid.SliceOfN(genTerm, 0, 3).Draw(t, "terms")...)
})

var genToleration = rapid.Custom(func(t *rapid.T) corev1.Toleration {
	tol := corev1.Toleration{
		Key:      genTaintKey.Draw(t, "key"),
		Operator: genTolOp.Draw(t, "operator"),
		Value:    genValue.Draw(t, "value"),
		Effect:   genEffect.Draw(t, "effect"),
	}
	if rapid.Bool().Draw(t, "hasSeconds") {
		tol.TolerationSeconds = new(rapid.Int64Range(-1, 300).Draw(t, "seconds"))
	}
	return tol
})

var genTaint = rapid.Custom(func(t *rapid.T) corev1.Taint {
	return corev1.Taint{Key: genTaintKey.Draw(t, "key"), Value: genValue.Draw(t, "value"), Effect: genEffect.Draw(t, "effect")}
})

var genNode = rapid.Custom(func(t *rapid.T) *corev1.Node {
	n := node(genName.Draw(t, "name"), genLabels(t, "labels"))
	n.Spec.Taints = rapid.SliceOfN(genTaint, 0, 3).Draw(t, "taints")
	return n
})

var genDaemonSet = rapid.Custom(func(t *rapid.T) *appsv1.DaemonSet {
	ds := fluentd()
	ds.Name = rapid.SampledFrom([]string{"ds", "", "Bad_Name", string(make([]byte, 300))}).Draw(t, "dsName")
	ds.UID = rapid.SampledFrom([]types.UID{"", "uid-1"}).Draw(t, "uid")
	if g := rapid.SampledFrom([]string{"", "3", "x"}).Draw(t, "generation"); g != "" {
		ds.Annotations = map[string]string{appsv1.DeprecatedTemplateGeneration: g}
	}
	ds.Spec.Template.Labels = genLabels(t, "templateLabels")
	if rapid.Bool().Draw(t, "nilSelector") {
		ds.Spec.Selector = nil
	} else {
		ds.Spec.Selector = &metav1.LabelSelector{MatchLabels: genLabels(t, "selector")}
	}
	spec := &ds.Spec.Template.Spec
	spec.NodeName = genName.Draw(t, "nodeName")
	spec.NodeSelector = genLabels(t, "nodeSelector")
	spec.Affinity = genAffinity.Draw(t, "affinity")
	spec.Tolerations = rapid.SliceOfN(genToleration, 0, 4).Draw(t, "tolerations")
	spec.HostNetwork = rapid.Bool().Draw(t, "hostNetwork")
	ds.Spec.MinReadySeconds = rapid.Int32Range(-1, 5).Draw(t, "minReadySeconds")
	ds.Spec.UpdateStrategy.Type = rapid.SampledFrom([]appsv1.DaemonSetUpdateStrategyType{"", appsv1.RollingUpdateDaemonSetStrategyType, appsv1.OnDeleteDaemonSetStrategyType, "Bad"}).Draw(t, "strategy")
	if rapid.Bool().Draw(t, "nilRollingUpdate") {
		ds.Spec.UpdateStrategy.RollingUpdate = nil
	} else {
		ds.Spec.UpdateStrategy.RollingUpdate = &appsv1.RollingUpdateDaemonSet{
			MaxUnavailable: rapid.Ptr(genIntOrPct, true).Draw(t, "maxUnavailable"),
			MaxSurge:       rapid.Ptr(genIntOrPct, true).Draw(t, "maxSurge"),
		}
	}
	return ds
})

var genOptions = rapid.Custom(func(t *rapid.T) Options {
	return Options{TaintTolerationComparisonOperators: rapid.Bool().Draw(t, "comparisonOperators")}
})

// checkEvaluate checks one decision against the reference semantics.
func checkEvaluate(t *rapid.T, ds *appsv1.DaemonSet, opts Options, n *corev1.Node, got Decision) {
	wantRun, wantContinue := upstreamShouldRun(ds, n, opts)
	if got.ShouldRun() != wantRun || got.ShouldContinueRunning() != wantContinue {
		t.Fatalf("Evaluate(%q) = %v, upstream semantics give (%v, %v)", n.Name, got, wantRun, wantContinue)
	}
	spec := &ds.Spec.Template.Spec
	if spec.NodeName == "" || spec.NodeName == n.Name {
		ok, _ := nodeaffinity.NewRequiredNodeAffinity(spec.NodeSelector, spec.Affinity).Match(n)
		if affinityFailed := got.Reason == NodeSelectorMismatch || got.Reason == NodeAffinityMismatch; affinityFailed == ok {
			t.Fatalf("Evaluate(%q).Reason = %v, nodeaffinity match = %v", n.Name, got.Reason, ok)
		}
	}
	var wantTaint *corev1.Taint
	switch got.Reason {
	case UntoleratedNoExecuteTaint:
		tt, _ := upstreamUntolerated(ds, n, opts, corev1.TaintEffectNoExecute)
		wantTaint = &tt
	case UntoleratedTaint:
		tt, _ := upstreamUntolerated(ds, n, opts, corev1.TaintEffectNoSchedule, corev1.TaintEffectNoExecute)
		wantTaint = &tt
	}
	if diff := cmp.Diff(wantTaint, got.Taint); diff != "" {
		t.Fatalf("Evaluate(%q).Taint mismatch (-want +got):\n%s", n.Name, diff)
	}
}

// checkNewPod checks the pod for nodeName against the helpers that read it.
func checkNewPod(t *rapid.T, e *Evaluator, ds *appsv1.DaemonSet, nodeName, hash string) {
	pod := e.NewPod(nodeName, hash)
	want := nodeName
	if ds.Spec.Template.Spec.NodeName != "" {
		want = ds.Spec.Template.Spec.NodeName
	}
	if got, err := TargetNodeName(pod); err != nil || got != want {
		t.Fatalf("TargetNodeName(NewPod(%q)) = %q, %v, want %q", nodeName, got, err, want)
	}
	gen, _ := TemplateGeneration(ds)
	if updated := IsPodUpdated(pod, hash, gen); updated != (hash != "" || gen != nil) {
		t.Fatalf("IsPodUpdated(NewPod(%q, %q)) = %v", nodeName, hash, updated)
	}
	if !IsControlledBy(pod, ds) {
		t.Fatalf("IsControlledBy(NewPod(%q), ds) = false", nodeName)
	}
	again := e.NewPod(nodeName, hash)
	if diff := cmp.Diff(pod, again); diff != "" {
		t.Fatalf("NewPod() not deterministic (-first +second):\n%s", diff)
	}
	// The pods share nothing: changing one leaves the other as it was.
	pod.Labels["x"] = "y"
	pod.Spec.Tolerations[0].Key = "x"
	pod.Spec.Affinity.NodeAffinity.RequiredDuringSchedulingIgnoredDuringExecution.NodeSelectorTerms[0].MatchFields[0].Values[0] = "x"
	*pod.OwnerReferences[0].Controller = false
	if diff := cmp.Diff(e.NewPod(nodeName, hash), again); diff != "" {
		t.Fatalf("NewPod() results share memory (-fresh +earlier):\n%s", diff)
	}
}

// checkAll is the property of the fuzz target and TestMatchesUpstream: every
// entry point works on any input, decisions equal the reference, pods read
// back, and no input changes.
func checkAll(t *rapid.T) {
	ds := genDaemonSet.Draw(t, "ds")
	opts := genOptions.Draw(t, "opts")
	nodes := rapid.SliceOfN(genNode, 1, 4).Draw(t, "nodes")
	hash := rapid.SampledFrom([]string{"", "5d4f8b7c9"}).Draw(t, "hash")
	dsBefore := ds.DeepCopy()
	nodesBefore := deepCopyNodes(nodes)

	e := New(ds, opts)
	_ = e.Warnings()
	_ = Validate(ds)
	for _, n := range nodes {
		checkEvaluate(t, ds, opts, n, e.Evaluate(n))
		checkNewPod(t, e, ds, n.Name, hash)
	}
	if diff := cmp.Diff(dsBefore, ds); diff != "" {
		t.Fatalf("the DaemonSet changed (-before +after):\n%s", diff)
	}
	if diff := cmp.Diff(nodesBefore, nodes); diff != "" {
		t.Fatalf("the nodes changed (-before +after):\n%s", diff)
	}
}

func deepCopyNodes(nodes []*corev1.Node) []*corev1.Node {
	out := make([]*corev1.Node, len(nodes))
	for i, n := range nodes {
		out[i] = n.DeepCopy()
	}
	return out
}

func TestMatchesUpstream(t *testing.T) {
	rapid.Check(t, checkAll)
}

func FuzzPlacement(f *testing.F) {
	f.Fuzz(rapid.MakeFuzz(checkAll))
}

// TestTermsMatchLikeNodeAffinity compares our compiled terms with
// nodeaffinity's RequiredNodeAffinity on affinities alone.
func TestTermsMatchLikeNodeAffinity(t *testing.T) {
	rapid.Check(t, func(t *rapid.T) {
		affinity := genAffinity.Draw(t, "affinity")
		ds := withSpec(func(s *corev1.PodSpec) { s.Affinity = affinity; s.Tolerations = nil })
		e := New(ds, Options{})
		for _, n := range rapid.SliceOfN(genNode, 1, 4).Draw(t, "nodes") {
			n.Spec.Taints = nil
			want, _ := nodeaffinity.NewRequiredNodeAffinity(nil, affinity).Match(n)
			if got := e.Evaluate(n).ShouldRun(); got != want {
				t.Fatalf("Evaluate(%q).ShouldRun() = %v, nodeaffinity matches: %v", n.Name, got, want)
			}
		}
	})
}

func TestIsDecimalInt64(t *testing.T) {
	for _, tc := range []struct {
		in   string
		want bool
	}{
		{"0", true}, {"7", true}, {"-7", true}, {"120", true},
		{"9223372036854775807", true}, {"-9223372036854775808", true},
		{"9223372036854775808", false}, {"-9223372036854775809", false}, {"10000000000000000000", false},
		{"", false}, {"-", false}, {"-0", false}, {"00", false}, {"07", false}, {"+7", false}, {"1e3", false}, {" 1", false}, {"0x1", false},
	} {
		if got := isDecimalInt64(tc.in); got != tc.want {
			t.Errorf("isDecimalInt64(%q) = %v, want %v", tc.in, got, tc.want)
		}
	}
	rapid.Check(t, func(t *rapid.T) {
		s := rapid.StringMatching(`[-+]?0{0,2}[0-9a_]{0,20}`).Draw(t, "s")
		_, err := strconv.ParseInt(s, 10, 64)
		want := len(content.IsDecimalInteger(s)) == 0 && err == nil
		if got := isDecimalInt64(s); got != want {
			t.Fatalf("isDecimalInt64(%q) = %v, IsDecimalInteger and ParseInt say %v", s, got, want)
		}
	})
}
