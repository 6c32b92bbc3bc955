package placement

import (
	"fmt"
	"testing"

	"github.com/google/go-cmp/cmp"
	appsv1 "k8s.io/api/apps/v1"
	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/util/intstr"
)

// Test builders.

// fluentd returns the seed DaemonSet: fluentd-elasticsearch in kube-system,
// API-defaulted update strategy, tolerating control-plane nodes.
func fluentd() *appsv1.DaemonSet {
	sel := map[string]string{"name": "fluentd-elasticsearch"}
	return &appsv1.DaemonSet{
		ObjectMeta: metav1.ObjectMeta{
			Name: "fluentd-elasticsearch", Namespace: "kube-system", UID: "uid-fluentd",
			Labels: map[string]string{"k8s-app": "fluentd-logging"},
		},
		Spec: appsv1.DaemonSetSpec{
			Selector: &metav1.LabelSelector{MatchLabels: sel},
			Template: corev1.PodTemplateSpec{
				ObjectMeta: metav1.ObjectMeta{Labels: map[string]string{"name": "fluentd-elasticsearch"}},
				Spec: corev1.PodSpec{
					Tolerations: []corev1.Toleration{
						{Key: "node-role.kubernetes.io/control-plane", Operator: corev1.TolerationOpExists, Effect: corev1.TaintEffectNoSchedule},
						{Key: "node-role.kubernetes.io/master", Operator: corev1.TolerationOpExists, Effect: corev1.TaintEffectNoSchedule},
					},
					Containers: []corev1.Container{{
						Name:  "fluentd-elasticsearch",
						Image: "quay.io/fluentd_elasticsearch/fluentd:v2.5.2",
						VolumeMounts: []corev1.VolumeMount{
							{Name: "varlog", MountPath: "/var/log"},
							{Name: "varlibdockercontainers", MountPath: "/var/lib/docker/containers", ReadOnly: true},
						},
					}},
					TerminationGracePeriodSeconds: new(int64(30)),
					Volumes: []corev1.Volume{
						{Name: "varlog", VolumeSource: corev1.VolumeSource{HostPath: &corev1.HostPathVolumeSource{Path: "/var/log"}}},
						{Name: "varlibdockercontainers", VolumeSource: corev1.VolumeSource{HostPath: &corev1.HostPathVolumeSource{Path: "/var/lib/docker/containers"}}},
					},
				},
			},
			UpdateStrategy: appsv1.DaemonSetUpdateStrategy{
				Type: appsv1.RollingUpdateDaemonSetStrategyType,
				RollingUpdate: &appsv1.RollingUpdateDaemonSet{
					MaxUnavailable: new(intstr.FromInt32(1)),
					MaxSurge:       new(intstr.FromInt32(0)),
				},
			},
			RevisionHistoryLimit: new(int32(10)),
		},
	}
}

// withSpec returns fluentd() with f applied to its pod template's spec.
func withSpec(f func(*corev1.PodSpec)) *appsv1.DaemonSet {
	ds := fluentd()
	f(&ds.Spec.Template.Spec)
	return ds
}

func node(name string, labels map[string]string, taints ...corev1.Taint) *corev1.Node {
	return &corev1.Node{
		ObjectMeta: metav1.ObjectMeta{Name: name, Labels: labels},
		Spec:       corev1.NodeSpec{Taints: taints},
	}
}

func taint(key, value string, effect corev1.TaintEffect) corev1.Taint {
	return corev1.Taint{Key: key, Value: value, Effect: effect}
}

func required(terms ...corev1.NodeSelectorTerm) *corev1.Affinity {
	return &corev1.Affinity{NodeAffinity: &corev1.NodeAffinity{
		RequiredDuringSchedulingIgnoredDuringExecution: &corev1.NodeSelector{NodeSelectorTerms: terms},
	}}
}

func exprs(reqs ...corev1.NodeSelectorRequirement) corev1.NodeSelectorTerm {
	return corev1.NodeSelectorTerm{MatchExpressions: reqs}
}

func req(key string, op corev1.NodeSelectorOperator, values ...string) corev1.NodeSelectorRequirement {
	return corev1.NodeSelectorRequirement{Key: key, Operator: op, Values: values}
}

func nameIs(op corev1.NodeSelectorOperator, values ...string) corev1.NodeSelectorTerm {
	return corev1.NodeSelectorTerm{MatchFields: []corev1.NodeSelectorRequirement{req(metav1.ObjectNameField, op, values...)}}
}

// sixNotIn is the one-term, six-NotIn affinity of upstream's
// BenchmarkUpdateDaemonSetStatus (exclusionNodeAffinity).
func sixNotIn() *corev1.Affinity {
	return required(exprs(
		req("example.com/papaya", corev1.NodeSelectorOpNotIn, "true"),
		req("example.com/kumquat", corev1.NodeSelectorOpNotIn, "true"),
		req("quince", corev1.NodeSelectorOpNotIn, "dragonfruit"),
		req("lychee", corev1.NodeSelectorOpNotIn, "rambutan"),
		req("example.com/durian", corev1.NodeSelectorOpNotIn, "mangosteen", "tamarind", "persimmon"),
		req("example.com/guava", corev1.NodeSelectorOpNotIn, "starfruit"),
	))
}

var (
	eligible   = Decision{Reason: Eligible}
	noName     = Decision{Reason: NodeNameMismatch}
	noSelector = Decision{Reason: NodeSelectorMismatch}
	noAffinity = Decision{Reason: NodeAffinityMismatch}
)

func noSchedule(t corev1.Taint) Decision {
	return Decision{Reason: UntoleratedTaint, Taint: &t}
}

func noExecute(t corev1.Taint) Decision {
	return Decision{Reason: UntoleratedNoExecuteTaint, Taint: &t}
}

func TestEvaluate(t *testing.T) {
	const (
		NoSchedule       = corev1.TaintEffectNoSchedule
		PreferNoSchedule = corev1.TaintEffectPreferNoSchedule
		NoExecute        = corev1.TaintEffectNoExecute
		In               = corev1.NodeSelectorOpIn
		NotIn            = corev1.NodeSelectorOpNotIn
		Exists           = corev1.NodeSelectorOpExists
		DoesNotExist     = corev1.NodeSelectorOpDoesNotExist
		Gt               = corev1.NodeSelectorOpGt
		Lt               = corev1.NodeSelectorOpLt
	)
	tolerate := func(tols ...corev1.Toleration) *appsv1.DaemonSet {
		return withSpec(func(s *corev1.PodSpec) { s.Tolerations = tols })
	}
	gpu := map[string]string{"gpu": "true", "zone": "a", "rank": "5"}
	for _, tc := range []struct {
		name string
		ds   *appsv1.DaemonSet
		opts Options
		node *corev1.Node
		want Decision
	}{
		{name: "plain node", ds: fluentd(), node: node("n1", nil), want: eligible},
		{name: "nil node", ds: fluentd(), node: nil, want: Decision{}},
		{name: "node without name", ds: fluentd(), node: node("", nil), want: eligible},

		// spec.nodeName
		{name: "nodeName matches", ds: withSpec(func(s *corev1.PodSpec) { s.NodeName = "n1" }), node: node("n1", nil), want: eligible},
		{name: "nodeName differs", ds: withSpec(func(s *corev1.PodSpec) { s.NodeName = "n2" }), node: node("n1", nil), want: noName},
		{name: "nodeName mismatch before taints", ds: withSpec(func(s *corev1.PodSpec) { s.NodeName = "n2" }),
			node: node("n1", nil, taint("k", "", NoExecute)), want: noName},
		{name: "nodeName mismatch before selector", ds: withSpec(func(s *corev1.PodSpec) { s.NodeName = "n2"; s.NodeSelector = map[string]string{"x": "y"} }),
			node: node("n1", nil), want: noName},

		// spec.nodeSelector
		{name: "nil nodeSelector", ds: withSpec(func(s *corev1.PodSpec) { s.NodeSelector = nil }), node: node("n1", gpu), want: eligible},
		{name: "empty nodeSelector", ds: withSpec(func(s *corev1.PodSpec) { s.NodeSelector = map[string]string{} }), node: node("n1", nil), want: eligible},
		{name: "nodeSelector matches", ds: withSpec(func(s *corev1.PodSpec) { s.NodeSelector = map[string]string{"gpu": "true", "zone": "a"} }),
			node: node("n1", gpu), want: eligible},
		{name: "nodeSelector value differs", ds: withSpec(func(s *corev1.PodSpec) { s.NodeSelector = map[string]string{"gpu": "false"} }),
			node: node("n1", gpu), want: noSelector},
		{name: "nodeSelector label missing", ds: withSpec(func(s *corev1.PodSpec) { s.NodeSelector = map[string]string{"gpu": "true"} }),
			node: node("n1", nil), want: noSelector},
		{name: "nodeSelector empty value needs the label", ds: withSpec(func(s *corev1.PodSpec) { s.NodeSelector = map[string]string{"gpu": ""} }),
			node: node("n1", nil), want: noSelector},
		{name: "nodeSelector invalid key compared literally", ds: withSpec(func(s *corev1.PodSpec) { s.NodeSelector = map[string]string{"bad key": "v v"} }),
			node: node("n1", map[string]string{"bad key": "v v"}), want: eligible},
		{name: "nodeSelector mismatch before affinity", ds: withSpec(func(s *corev1.PodSpec) {
			s.NodeSelector = map[string]string{"gpu": "false"}
			s.Affinity = required()
		}), node: node("n1", gpu), want: noSelector},

		// required node affinity: nil and empty shapes
		{name: "empty affinity", ds: withSpec(func(s *corev1.PodSpec) { s.Affinity = &corev1.Affinity{} }), node: node("n1", nil), want: eligible},
		{name: "empty node affinity", ds: withSpec(func(s *corev1.PodSpec) { s.Affinity = &corev1.Affinity{NodeAffinity: &corev1.NodeAffinity{}} }),
			node: node("n1", nil), want: eligible},
		{name: "only preferred affinity", ds: withSpec(func(s *corev1.PodSpec) {
			s.Affinity = &corev1.Affinity{NodeAffinity: &corev1.NodeAffinity{PreferredDuringSchedulingIgnoredDuringExecution: []corev1.PreferredSchedulingTerm{
				{Weight: 1, Preference: exprs(req("gpu", In, "false"))},
			}}}
		}), node: node("n1", gpu), want: eligible},
		{name: "zero terms match no node", ds: withSpec(func(s *corev1.PodSpec) { s.Affinity = required() }), node: node("n1", gpu), want: noAffinity},
		{name: "empty term matches no node", ds: withSpec(func(s *corev1.PodSpec) { s.Affinity = required(corev1.NodeSelectorTerm{}) }),
			node: node("n1", gpu), want: noAffinity},
		{name: "term with empty lists matches no node", ds: withSpec(func(s *corev1.PodSpec) {
			s.Affinity = required(corev1.NodeSelectorTerm{MatchExpressions: []corev1.NodeSelectorRequirement{}, MatchFields: []corev1.NodeSelectorRequirement{}})
		}), node: node("n1", gpu), want: noAffinity},
		{name: "empty term ORed with matching term", ds: withSpec(func(s *corev1.PodSpec) {
			s.Affinity = required(corev1.NodeSelectorTerm{}, exprs(req("gpu", In, "true")))
		}), node: node("n1", gpu), want: eligible},

		// required node affinity: operators
		{name: "In matches", ds: withSpec(func(s *corev1.PodSpec) { s.Affinity = required(exprs(req("zone", In, "b", "a"))) }), node: node("n1", gpu), want: eligible},
		{name: "In misses", ds: withSpec(func(s *corev1.PodSpec) { s.Affinity = required(exprs(req("zone", In, "b"))) }), node: node("n1", gpu), want: noAffinity},
		{name: "In without label", ds: withSpec(func(s *corev1.PodSpec) { s.Affinity = required(exprs(req("zone", In, "a"))) }), node: node("n1", nil), want: noAffinity},
		{name: "NotIn matches", ds: withSpec(func(s *corev1.PodSpec) { s.Affinity = required(exprs(req("zone", NotIn, "b"))) }), node: node("n1", gpu), want: eligible},
		{name: "NotIn without label matches", ds: withSpec(func(s *corev1.PodSpec) { s.Affinity = required(exprs(req("zone", NotIn, "a"))) }), node: node("n1", nil), want: eligible},
		{name: "NotIn misses", ds: withSpec(func(s *corev1.PodSpec) { s.Affinity = required(exprs(req("zone", NotIn, "a"))) }), node: node("n1", gpu), want: noAffinity},
		{name: "Exists", ds: withSpec(func(s *corev1.PodSpec) { s.Affinity = required(exprs(req("gpu", Exists))) }), node: node("n1", gpu), want: eligible},
		{name: "Exists misses", ds: withSpec(func(s *corev1.PodSpec) { s.Affinity = required(exprs(req("gpu", Exists))) }), node: node("n1", nil), want: noAffinity},
		{name: "DoesNotExist", ds: withSpec(func(s *corev1.PodSpec) { s.Affinity = required(exprs(req("gpu", DoesNotExist))) }), node: node("n1", nil), want: eligible},
		{name: "DoesNotExist misses", ds: withSpec(func(s *corev1.PodSpec) { s.Affinity = required(exprs(req("gpu", DoesNotExist))) }), node: node("n1", gpu), want: noAffinity},
		{name: "Gt", ds: withSpec(func(s *corev1.PodSpec) { s.Affinity = required(exprs(req("rank", Gt, "4"))) }), node: node("n1", gpu), want: eligible},
		{name: "Gt equal misses", ds: withSpec(func(s *corev1.PodSpec) { s.Affinity = required(exprs(req("rank", Gt, "5"))) }), node: node("n1", gpu), want: noAffinity},
		{name: "Lt", ds: withSpec(func(s *corev1.PodSpec) { s.Affinity = required(exprs(req("rank", Lt, "6"))) }), node: node("n1", gpu), want: eligible},
		{name: "Lt on non-integer label misses", ds: withSpec(func(s *corev1.PodSpec) { s.Affinity = required(exprs(req("zone", Lt, "6"))) }), node: node("n1", gpu), want: noAffinity},
		{name: "expressions are ANDed", ds: withSpec(func(s *corev1.PodSpec) { s.Affinity = required(exprs(req("gpu", Exists), req("zone", In, "b"))) }),
			node: node("n1", gpu), want: noAffinity},
		{name: "terms are ORed", ds: withSpec(func(s *corev1.PodSpec) {
			s.Affinity = required(exprs(req("zone", In, "b")), exprs(req("zone", In, "a")))
		}),
			node: node("n1", gpu), want: eligible},

		// required node affinity: matchFields
		{name: "matchFields In name", ds: withSpec(func(s *corev1.PodSpec) { s.Affinity = required(nameIs(In, "n1")) }), node: node("n1", nil), want: eligible},
		{name: "matchFields In other name", ds: withSpec(func(s *corev1.PodSpec) { s.Affinity = required(nameIs(In, "n2")) }), node: node("n1", nil), want: noAffinity},
		{name: "matchFields NotIn name", ds: withSpec(func(s *corev1.PodSpec) { s.Affinity = required(nameIs(NotIn, "n1")) }), node: node("n1", nil), want: noAffinity},
		{name: "matchFields NotIn other name", ds: withSpec(func(s *corev1.PodSpec) { s.Affinity = required(nameIs(NotIn, "n2")) }), node: node("n1", nil), want: eligible},
		{name: "matchFields ignored for node without name", ds: withSpec(func(s *corev1.PodSpec) { s.Affinity = required(nameIs(In, "n2")) }), node: node("", nil), want: eligible},
		{name: "matchFields unknown field In", ds: withSpec(func(s *corev1.PodSpec) {
			s.Affinity = required(corev1.NodeSelectorTerm{MatchFields: []corev1.NodeSelectorRequirement{req("metadata.uid", In, "n1")}})
		}), node: node("n1", nil), want: noAffinity},
		{name: "matchFields unknown field NotIn", ds: withSpec(func(s *corev1.PodSpec) {
			s.Affinity = required(corev1.NodeSelectorTerm{MatchFields: []corev1.NodeSelectorRequirement{req("metadata.uid", NotIn, "n1")}})
		}), node: node("n1", nil), want: eligible},
		{name: "matchFields ANDed with expressions", ds: withSpec(func(s *corev1.PodSpec) {
			term := nameIs(In, "n1")
			term.MatchExpressions = []corev1.NodeSelectorRequirement{req("gpu", Exists)}
			s.Affinity = required(term)
		}), node: node("n1", nil), want: noAffinity},

		// required node affinity: terms that do not parse match no node
		{name: "unknown operator", ds: withSpec(func(s *corev1.PodSpec) { s.Affinity = required(exprs(req("gpu", "Maybe"))) }), node: node("n1", gpu), want: noAffinity},
		{name: "In without values", ds: withSpec(func(s *corev1.PodSpec) { s.Affinity = required(exprs(req("gpu", In))) }), node: node("n1", gpu), want: noAffinity},
		{name: "NotIn without values", ds: withSpec(func(s *corev1.PodSpec) { s.Affinity = required(exprs(req("gpu", NotIn))) }), node: node("n1", gpu), want: noAffinity},
		{name: "Exists with values", ds: withSpec(func(s *corev1.PodSpec) { s.Affinity = required(exprs(req("gpu", Exists, "true"))) }), node: node("n1", gpu), want: noAffinity},
		{name: "Gt non-integer", ds: withSpec(func(s *corev1.PodSpec) { s.Affinity = required(exprs(req("rank", Gt, "four"))) }), node: node("n1", gpu), want: noAffinity},
		{name: "Gt negative value is not a label value", ds: withSpec(func(s *corev1.PodSpec) { s.Affinity = required(exprs(req("rank", Gt, "-1"))) }),
			node: node("n1", gpu), want: noAffinity},
		{name: "invalid key", ds: withSpec(func(s *corev1.PodSpec) { s.Affinity = required(exprs(req("bad key", DoesNotExist))) }), node: node("n1", gpu), want: noAffinity},
		{name: "matchFields two values", ds: withSpec(func(s *corev1.PodSpec) { s.Affinity = required(nameIs(In, "n1", "n2")) }), node: node("n1", nil), want: noAffinity},
		{name: "matchFields Exists", ds: withSpec(func(s *corev1.PodSpec) { s.Affinity = required(nameIs(Exists)) }), node: node("n1", nil), want: noAffinity},
		{name: "broken term ORed with matching term", ds: withSpec(func(s *corev1.PodSpec) {
			s.Affinity = required(exprs(req("gpu", "Maybe")), exprs(req("gpu", In, "true")))
		}), node: node("n1", gpu), want: eligible},
		{name: "broken expression spoils its term", ds: withSpec(func(s *corev1.PodSpec) {
			s.Affinity = required(exprs(req("gpu", In, "true"), req("gpu", "Maybe")))
		}), node: node("n1", gpu), want: noAffinity},
		{name: "affinity mismatch before taints", ds: withSpec(func(s *corev1.PodSpec) { s.Affinity = required(exprs(req("gpu", Exists))) }),
			node: node("n1", nil, taint("k", "", NoExecute)), want: noAffinity},

		// taints
		{name: "PreferNoSchedule ignored", ds: fluentd(), node: node("n1", nil, taint("k", "v", PreferNoSchedule)), want: eligible},
		{name: "unknown effect ignored", ds: fluentd(), node: node("n1", nil, taint("k", "v", "Sometimes")), want: eligible},
		{name: "empty effect ignored", ds: fluentd(), node: node("n1", nil, taint("k", "v", "")), want: eligible},
		{name: "NoSchedule", ds: fluentd(), node: node("n1", nil, taint("k", "v", NoSchedule)), want: noSchedule(taint("k", "v", NoSchedule))},
		{name: "NoExecute", ds: fluentd(), node: node("n1", nil, taint("k", "v", NoExecute)), want: noExecute(taint("k", "v", NoExecute))},
		{name: "first NoSchedule reported", ds: fluentd(),
			node: node("n1", nil, taint("a", "", PreferNoSchedule), taint("b", "", NoSchedule), taint("c", "", NoSchedule)),
			want: noSchedule(taint("b", "", NoSchedule))},
		{name: "NoExecute wins over earlier NoSchedule", ds: fluentd(),
			node: node("n1", nil, taint("b", "", NoSchedule), taint("c", "", NoExecute), taint("d", "", NoExecute)),
			want: noExecute(taint("c", "", NoExecute))},
		{name: "tolerated NoExecute, untolerated NoSchedule", ds: tolerate(corev1.Toleration{Key: "c", Operator: corev1.TolerationOpExists, Effect: NoExecute}),
			node: node("n1", nil, taint("c", "", NoExecute), taint("b", "", NoSchedule)), want: noSchedule(taint("b", "", NoSchedule))},
		{name: "control-plane tolerated by fluentd", ds: fluentd(), node: node("cp", nil, taint("node-role.kubernetes.io/control-plane", "", NoSchedule)), want: eligible},
		{name: "control-plane NoExecute not tolerated by fluentd", ds: fluentd(),
			node: node("cp", nil, taint("node-role.kubernetes.io/control-plane", "", NoExecute)), want: noExecute(taint("node-role.kubernetes.io/control-plane", "", NoExecute))},

		// daemon tolerations
		{name: "not-ready NoExecute", ds: tolerate(), node: node("n1", nil, taint(corev1.TaintNodeNotReady, "", NoExecute)), want: eligible},
		{name: "unreachable NoExecute", ds: tolerate(), node: node("n1", nil, taint(corev1.TaintNodeUnreachable, "", NoExecute)), want: eligible},
		{name: "disk-pressure NoSchedule", ds: tolerate(), node: node("n1", nil, taint(corev1.TaintNodeDiskPressure, "", NoSchedule)), want: eligible},
		{name: "memory-pressure NoSchedule", ds: tolerate(), node: node("n1", nil, taint(corev1.TaintNodeMemoryPressure, "", NoSchedule)), want: eligible},
		{name: "pid-pressure NoSchedule", ds: tolerate(), node: node("n1", nil, taint(corev1.TaintNodePIDPressure, "", NoSchedule)), want: eligible},
		{name: "unschedulable NoSchedule", ds: tolerate(), node: node("n1", nil, taint(corev1.TaintNodeUnschedulable, "", NoSchedule)), want: eligible},
		{name: "daemon defaults tolerate any value", ds: tolerate(), node: node("n1", nil, taint(corev1.TaintNodeNotReady, "x", NoExecute)), want: eligible},
		{name: "not-ready NoSchedule is not a default", ds: tolerate(),
			node: node("n1", nil, taint(corev1.TaintNodeNotReady, "", NoSchedule)), want: noSchedule(taint(corev1.TaintNodeNotReady, "", NoSchedule))},
		{name: "disk-pressure NoExecute is not a default", ds: tolerate(),
			node: node("n1", nil, taint(corev1.TaintNodeDiskPressure, "", NoExecute)), want: noExecute(taint(corev1.TaintNodeDiskPressure, "", NoExecute))},
		{name: "out-of-service is not a default", ds: tolerate(),
			node: node("n1", nil, taint(corev1.TaintNodeOutOfService, "nodeshutdown", NoExecute)), want: noExecute(taint(corev1.TaintNodeOutOfService, "nodeshutdown", NoExecute))},
		{name: "network-unavailable without hostNetwork", ds: tolerate(),
			node: node("n1", nil, taint(corev1.TaintNodeNetworkUnavailable, "", NoSchedule)), want: noSchedule(taint(corev1.TaintNodeNetworkUnavailable, "", NoSchedule))},
		{name: "network-unavailable with hostNetwork", ds: withSpec(func(s *corev1.PodSpec) { s.HostNetwork = true }),
			node: node("n1", nil, taint(corev1.TaintNodeNetworkUnavailable, "", NoSchedule)), want: eligible},
		{name: "not-ready with tolerationSeconds still tolerated", ds: tolerate(corev1.Toleration{
			Key: corev1.TaintNodeNotReady, Operator: corev1.TolerationOpExists, Effect: NoExecute, TolerationSeconds: new(int64(0))}),
			node: node("n1", nil, taint(corev1.TaintNodeNotReady, "", NoExecute)), want: eligible},

		// toleration operators
		{name: "Equal matches value", ds: tolerate(corev1.Toleration{Key: "k", Operator: corev1.TolerationOpEqual, Value: "v", Effect: NoSchedule}),
			node: node("n1", nil, taint("k", "v", NoSchedule)), want: eligible},
		{name: "empty operator means Equal", ds: tolerate(corev1.Toleration{Key: "k", Value: "v", Effect: NoSchedule}),
			node: node("n1", nil, taint("k", "v", NoSchedule)), want: eligible},
		{name: "Equal other value", ds: tolerate(corev1.Toleration{Key: "k", Operator: corev1.TolerationOpEqual, Value: "w", Effect: NoSchedule}),
			node: node("n1", nil, taint("k", "v", NoSchedule)), want: noSchedule(taint("k", "v", NoSchedule))},
		{name: "Equal with empty key matches any key", ds: tolerate(corev1.Toleration{Operator: corev1.TolerationOpEqual, Value: "v"}),
			node: node("n1", nil, taint("k", "v", NoExecute)), want: eligible},
		{name: "Exists with key", ds: tolerate(corev1.Toleration{Key: "k", Operator: corev1.TolerationOpExists}),
			node: node("n1", nil, taint("k", "v", NoExecute), taint("k", "w", NoSchedule)), want: eligible},
		{name: "Exists with empty key tolerates everything", ds: tolerate(corev1.Toleration{Operator: corev1.TolerationOpExists}),
			node: node("n1", nil, taint("a", "1", NoExecute), taint("b", "", NoSchedule)), want: eligible},
		{name: "Exists with empty key and effect", ds: tolerate(corev1.Toleration{Operator: corev1.TolerationOpExists, Effect: NoSchedule}),
			node: node("n1", nil, taint("a", "1", NoExecute), taint("b", "", NoSchedule)), want: noExecute(taint("a", "1", NoExecute))},
		{name: "effect must match", ds: tolerate(corev1.Toleration{Key: "k", Operator: corev1.TolerationOpExists, Effect: NoSchedule}),
			node: node("n1", nil, taint("k", "", NoExecute)), want: noExecute(taint("k", "", NoExecute))},
		{name: "unknown operator tolerates nothing", ds: tolerate(corev1.Toleration{Key: "k", Operator: "Like", Value: "v"}),
			node: node("n1", nil, taint("k", "v", NoSchedule)), want: noSchedule(taint("k", "v", NoSchedule))},
		{name: "Lt with gate off tolerates nothing", ds: tolerate(corev1.Toleration{Key: "k", Operator: corev1.TolerationOpLt, Value: "10"}),
			node: node("n1", nil, taint("k", "5", NoSchedule)), want: noSchedule(taint("k", "5", NoSchedule))},
		{name: "Gt with gate off tolerates nothing", ds: tolerate(corev1.Toleration{Key: "k", Operator: corev1.TolerationOpGt, Value: "1"}),
			node: node("n1", nil, taint("k", "5", NoExecute)), want: noExecute(taint("k", "5", NoExecute))},
		{name: "Lt with gate on", opts: Options{TaintTolerationComparisonOperators: true},
			ds:   tolerate(corev1.Toleration{Key: "k", Operator: corev1.TolerationOpLt, Value: "10"}),
			node: node("n1", nil, taint("k", "5", NoSchedule)), want: eligible},
		{name: "Lt with gate on, taint not less", opts: Options{TaintTolerationComparisonOperators: true},
			ds:   tolerate(corev1.Toleration{Key: "k", Operator: corev1.TolerationOpLt, Value: "5"}),
			node: node("n1", nil, taint("k", "5", NoSchedule)), want: noSchedule(taint("k", "5", NoSchedule))},
		{name: "Gt with gate on", opts: Options{TaintTolerationComparisonOperators: true},
			ds:   tolerate(corev1.Toleration{Key: "k", Operator: corev1.TolerationOpGt, Value: "-3"}),
			node: node("n1", nil, taint("k", "0", NoExecute)), want: eligible},
		{name: "Gt with gate on, unparsable toleration value", opts: Options{TaintTolerationComparisonOperators: true},
			ds:   tolerate(corev1.Toleration{Key: "k", Operator: corev1.TolerationOpGt, Value: "one"}),
			node: node("n1", nil, taint("k", "5", NoExecute)), want: noExecute(taint("k", "5", NoExecute))},
		{name: "Gt with gate on, leading zero not an integer", opts: Options{TaintTolerationComparisonOperators: true},
			ds:   tolerate(corev1.Toleration{Key: "k", Operator: corev1.TolerationOpGt, Value: "01"}),
			node: node("n1", nil, taint("k", "5", NoExecute)), want: noExecute(taint("k", "5", NoExecute))},
		{name: "Gt with gate on, unparsable taint value", opts: Options{TaintTolerationComparisonOperators: true},
			ds:   tolerate(corev1.Toleration{Key: "k", Operator: corev1.TolerationOpGt, Value: "1"}),
			node: node("n1", nil, taint("k", "five", NoSchedule)), want: noSchedule(taint("k", "five", NoSchedule))},
	} {
		t.Run(tc.name, func(t *testing.T) {
			got := New(tc.ds, tc.opts).Evaluate(tc.node)
			if diff := cmp.Diff(tc.want, got); diff != "" {
				t.Errorf("Evaluate() mismatch (-want +got):\n%s", diff)
			}
			if got.Taint != nil && !pointsInto(got.Taint, tc.node.Spec.Taints) {
				t.Errorf("Evaluate().Taint = %p, want a pointer into node.Spec.Taints", got.Taint)
			}
			if tc.node != nil {
				wantRun, wantContinue := upstreamShouldRun(tc.ds, tc.node, tc.opts)
				if got.ShouldRun() != wantRun || got.ShouldContinueRunning() != wantContinue {
					t.Errorf("Evaluate() = (%v, %v), upstream semantics give (%v, %v)", got.ShouldRun(), got.ShouldContinueRunning(), wantRun, wantContinue)
				}
			}
		})
	}
}

func pointsInto(p *corev1.Taint, taints []corev1.Taint) bool {
	for i := range taints {
		if p == &taints[i] {
			return true
		}
	}
	return false
}

func TestEvaluateDoesNotAllocate(t *testing.T) {
	nodes := []*corev1.Node{
		node("n1", nil),
		node("n2", map[string]string{"gpu": "true", "quince": "dragonfruit", "kubernetes.io/hostname": "n2"}),
		node("n3", map[string]string{"gpu": "true"}, taint("k", "v", corev1.TaintEffectNoSchedule), taint("k2", "", corev1.TaintEffectNoExecute)),
		node("", map[string]string{"gpu": "true"}),
	}
	for _, tc := range []struct {
		name string
		ds   *appsv1.DaemonSet
		opts Options
	}{
		{name: "seed", ds: fluentd()},
		{name: "sixNotIn", ds: withSpec(func(s *corev1.PodSpec) { s.Affinity = sixNotIn() })},
		{name: "nodeSelector", ds: withSpec(func(s *corev1.PodSpec) { s.NodeSelector = map[string]string{"gpu": "true"} })},
		{name: "matchFields", ds: withSpec(func(s *corev1.PodSpec) {
			s.Affinity = required(nameIs(corev1.NodeSelectorOpNotIn, "n1"), nameIs(corev1.NodeSelectorOpIn, "n3"))
		})},
		{name: "mixed terms", ds: withSpec(func(s *corev1.PodSpec) {
			term := nameIs(corev1.NodeSelectorOpIn, "n3")
			term.MatchExpressions = []corev1.NodeSelectorRequirement{req("gpu", corev1.NodeSelectorOpExists)}
			s.Affinity = required(exprs(req("gpu", "Bad")), term, corev1.NodeSelectorTerm{})
		})},
		{name: "zero terms", ds: withSpec(func(s *corev1.PodSpec) { s.Affinity = required() })},
		{name: "Gt on non-integer labels", ds: withSpec(func(s *corev1.PodSpec) {
			s.Affinity = required(exprs(req("gpu", corev1.NodeSelectorOpGt, "3")), exprs(req("quince", corev1.NodeSelectorOpLt, "3")))
		})},
		{name: "comparison tolerations", opts: Options{TaintTolerationComparisonOperators: true}, ds: withSpec(func(s *corev1.PodSpec) {
			s.Tolerations = append(s.Tolerations, corev1.Toleration{Key: "k", Operator: corev1.TolerationOpGt, Value: "3"})
		})},
	} {
		t.Run(tc.name, func(t *testing.T) {
			e := New(tc.ds, tc.opts)
			for _, n := range nodes {
				if got := testing.AllocsPerRun(100, func() { e.Evaluate(n) }); got != 0 {
					t.Errorf("Evaluate(%q) allocates %v times, want 0", n.Name, got)
				}
			}
		})
	}
}

func TestDecisionString(t *testing.T) {
	nsTaint := taint("dedicated", "logging", corev1.TaintEffectNoSchedule)
	neTaint := taint(corev1.TaintNodeOutOfService, "", corev1.TaintEffectNoExecute)
	for _, tc := range []struct {
		name string
		d    Decision
		want string
	}{
		{name: "eligible", d: eligible, want: "run: node is eligible"},
		{name: "zero", d: Decision{}, want: "no pod: not evaluated"},
		{name: "node name", d: noName, want: "no pod: spec.template.spec.nodeName names another node"},
		{name: "node selector", d: noSelector, want: "no pod: node labels do not match spec.template.spec.nodeSelector"},
		{name: "affinity", d: noAffinity, want: "no pod: node matches no term of the required node affinity"},
		{name: "NoSchedule", d: noSchedule(nsTaint), want: "no new pod; a pod already there may stay: untolerated taint dedicated=logging:NoSchedule"},
		{name: "NoExecute", d: noExecute(neTaint), want: "no pod: untolerated taint node.kubernetes.io/out-of-service:NoExecute"},
		{name: "taint reason without taint", d: Decision{Reason: UntoleratedTaint}, want: "no new pod; a pod already there may stay: untolerated taint"},
		{name: "unknown reason", d: Decision{Reason: 42}, want: "no pod: Reason(42)"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			if got := tc.d.String(); got != tc.want {
				t.Errorf("Decision.String() = %q, want %q", got, tc.want)
			}
		})
	}
}

func TestReasonString(t *testing.T) {
	for r, want := range map[Reason]string{
		NotEvaluated:                  "NotEvaluated",
		Eligible:                      "Eligible",
		NodeNameMismatch:              "NodeNameMismatch",
		NodeSelectorMismatch:          "NodeSelectorMismatch",
		NodeAffinityMismatch:          "NodeAffinityMismatch",
		UntoleratedTaint:              "UntoleratedTaint",
		UntoleratedNoExecuteTaint:     "UntoleratedNoExecuteTaint",
		UntoleratedNoExecuteTaint + 1: "Reason(7)",
	} {
		if got := r.String(); got != want {
			t.Errorf("Reason(%d).String() = %q, want %q", uint8(r), got, want)
		}
	}
}

func TestWarnings(t *testing.T) {
	const aff = "spec.template.spec.affinity.nodeAffinity.requiredDuringSchedulingIgnoredDuringExecution.nodeSelectorTerms"
	for _, tc := range []struct {
		name string
		ds   *appsv1.DaemonSet
		opts Options
		want []string // Warning.String()
	}{
		{name: "seed", ds: fluentd(), want: nil},
		{name: "nil DaemonSet", ds: nil, want: []string{"nil DaemonSet: evaluated as an empty one"}},
		{name: "zero terms", ds: withSpec(func(s *corev1.PodSpec) { s.Affinity = required() }),
			want: []string{aff + ": no terms: the required node affinity matches no node"}},
		{name: "broken and empty terms", ds: withSpec(func(s *corev1.PodSpec) {
			s.Affinity = required(
				exprs(req("gpu", corev1.NodeSelectorOpIn, "true")),
				exprs(req("gpu", "Maybe"), req("rank", corev1.NodeSelectorOpGt, "x")),
				corev1.NodeSelectorTerm{},
				nameIs(corev1.NodeSelectorOpIn, "a", "b"),
			)
		}), want: []string{
			aff + `[1].matchExpressions[0].operator: Unsupported value: "Maybe": supported values: "In", "NotIn", "Exists", "DoesNotExist", "Gt", "Lt": the term matches no node`,
			aff + `[1].matchExpressions[1].values[0]: Invalid value: "x": for 'Gt', 'Lt' operators, the value must be an integer: the term matches no node`,
			aff + "[2]: empty term: matches no node",
			aff + `[3].matchFields[0].values: Invalid value: ["a","b"]: must have one element: the term matches no node`,
		}},
		{name: "toleration operators, gate off", ds: withSpec(func(s *corev1.PodSpec) {
			s.Tolerations = []corev1.Toleration{
				{Key: "a", Operator: corev1.TolerationOpLt, Value: "3"},
				{Key: "b", Operator: "Like"},
				{Key: "c", Operator: corev1.TolerationOpGt, Value: "x"},
				{Key: "d", Operator: corev1.TolerationOpExists},
			}
		}), want: []string{
			"spec.template.spec.tolerations[0].operator: operator Lt tolerates nothing while TaintTolerationComparisonOperators is off",
			`spec.template.spec.tolerations[1].operator: unknown operator "Like": the toleration tolerates nothing`,
			"spec.template.spec.tolerations[2].operator: operator Gt tolerates nothing while TaintTolerationComparisonOperators is off",
		}},
		{name: "toleration operators, gate on", opts: Options{TaintTolerationComparisonOperators: true}, ds: withSpec(func(s *corev1.PodSpec) {
			s.Tolerations = []corev1.Toleration{
				{Key: "a", Operator: corev1.TolerationOpLt, Value: "3"},
				{Key: "c", Operator: corev1.TolerationOpGt, Value: "x"},
				{Key: "c", Operator: corev1.TolerationOpGt, Value: "99999999999999999999"},
			}
		}), want: []string{
			`spec.template.spec.tolerations[1].value: "x" is not a decimal integer that fits an int64: the toleration tolerates nothing`,
			`spec.template.spec.tolerations[2].value: "99999999999999999999" is not a decimal integer that fits an int64: the toleration tolerates nothing`,
		}},
		{name: "template generation", ds: func() *appsv1.DaemonSet {
			ds := fluentd()
			ds.Annotations = map[string]string{appsv1.DeprecatedTemplateGeneration: "two"}
			return ds
		}(), want: []string{"metadata.annotations[deprecated.daemonset.template.generation]: not an integer: kube-controller-manager ignores it, new pods get no pod-template-generation label"}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			var got []string
			for _, w := range New(tc.ds, tc.opts).Warnings() {
				got = append(got, w.String())
			}
			if diff := cmp.Diff(tc.want, got); diff != "" {
				t.Errorf("Warnings() mismatch (-want +got):\n%s", diff)
			}
		})
	}
}

func TestWarningsReturnsCopy(t *testing.T) {
	e := New(withSpec(func(s *corev1.PodSpec) { s.Affinity = required() }), Options{})
	e.Warnings()[0].Message = "changed"
	if got := e.Warnings()[0].Message; got == "changed" {
		t.Errorf("Warnings() shares its slice with the Evaluator")
	}
}

func TestNewKeepsNoReferenceToDaemonSet(t *testing.T) {
	ds := withSpec(func(s *corev1.PodSpec) {
		s.Affinity = required(exprs(req("gpu", corev1.NodeSelectorOpExists)))
		s.Tolerations[0].Effect = corev1.TaintEffectNoExecute
		s.Tolerations[0].TolerationSeconds = new(int64(5))
	})
	e := New(ds, Options{})
	want := e.NewPod("n1", "h")
	ds.Name = "other"
	ds.Spec.Template.Labels["name"] = "other"
	ds.Spec.Template.Spec.Tolerations[0].Key = "other"
	*ds.Spec.Template.Spec.Tolerations[0].TolerationSeconds = 7
	ds.Spec.Template.Spec.Affinity.NodeAffinity.RequiredDuringSchedulingIgnoredDuringExecution.NodeSelectorTerms[0].MatchExpressions[0].Key = "other"
	ds.Spec.Template.Spec.Containers[0].Image = "other"
	ds.Spec.Template.Spec.Tolerations = append(ds.Spec.Template.Spec.Tolerations, corev1.Toleration{})
	*ds.Spec.Template.Spec.TerminationGracePeriodSeconds = 1
	if diff := cmp.Diff(want, e.NewPod("n1", "h")); diff != "" {
		t.Errorf("NewPod() changed after the DaemonSet changed (-before +after):\n%s", diff)
	}
	if got := e.Evaluate(node("n1", map[string]string{"gpu": "1"})); got != eligible {
		t.Errorf("Evaluate() = %v after the DaemonSet changed, want %v", got, eligible)
	}
}

func TestDaemonPodTolerations(t *testing.T) {
	var (
		notReady      = corev1.Toleration{Key: corev1.TaintNodeNotReady, Operator: corev1.TolerationOpExists, Effect: corev1.TaintEffectNoExecute}
		unreachable   = corev1.Toleration{Key: corev1.TaintNodeUnreachable, Operator: corev1.TolerationOpExists, Effect: corev1.TaintEffectNoExecute}
		disk          = corev1.Toleration{Key: corev1.TaintNodeDiskPressure, Operator: corev1.TolerationOpExists, Effect: corev1.TaintEffectNoSchedule}
		memory        = corev1.Toleration{Key: corev1.TaintNodeMemoryPressure, Operator: corev1.TolerationOpExists, Effect: corev1.TaintEffectNoSchedule}
		pid           = corev1.Toleration{Key: corev1.TaintNodePIDPressure, Operator: corev1.TolerationOpExists, Effect: corev1.TaintEffectNoSchedule}
		unschedulable = corev1.Toleration{Key: corev1.TaintNodeUnschedulable, Operator: corev1.TolerationOpExists, Effect: corev1.TaintEffectNoSchedule}
		network       = corev1.Toleration{Key: corev1.TaintNodeNetworkUnavailable, Operator: corev1.TolerationOpExists, Effect: corev1.TaintEffectNoSchedule}
		custom        = corev1.Toleration{Key: "custom", Operator: corev1.TolerationOpEqual, Value: "v", Effect: corev1.TaintEffectNoSchedule}
		withSeconds   = func(tol corev1.Toleration, s int64) corev1.Toleration { tol.TolerationSeconds = &s; return tol }
		defaults      = []corev1.Toleration{notReady, unreachable, disk, memory, pid, unschedulable}
	)
	for _, tc := range []struct {
		name        string
		in          []corev1.Toleration
		hostNetwork bool
		want        []corev1.Toleration
	}{
		{name: "nil", in: nil, want: defaults},
		{name: "empty", in: []corev1.Toleration{}, want: defaults},
		{name: "hostNetwork", in: nil, hostNetwork: true, want: append(defaults[:6:6], network)},
		{name: "custom first", in: []corev1.Toleration{custom}, want: append([]corev1.Toleration{custom}, defaults...)},
		{name: "present default kept in place", in: []corev1.Toleration{custom, pid}, want: []corev1.Toleration{custom, pid, notReady, unreachable, disk, memory, unschedulable}},
		{name: "tolerationSeconds dropped", in: []corev1.Toleration{withSeconds(unreachable, 300), custom},
			want: []corev1.Toleration{unreachable, custom, notReady, disk, memory, pid, unschedulable}},
		{name: "duplicates all replaced", in: []corev1.Toleration{withSeconds(notReady, 300), notReady, withSeconds(notReady, 5)},
			want: []corev1.Toleration{notReady, notReady, notReady, unreachable, disk, memory, pid, unschedulable}},
		{name: "different operator is another toleration", in: []corev1.Toleration{{Key: corev1.TaintNodeNotReady, Effect: corev1.TaintEffectNoExecute}},
			want: append([]corev1.Toleration{{Key: corev1.TaintNodeNotReady, Effect: corev1.TaintEffectNoExecute}}, defaults...)},
		{name: "different effect is another toleration", in: []corev1.Toleration{{Key: corev1.TaintNodeNotReady, Operator: corev1.TolerationOpExists}},
			want: append([]corev1.Toleration{{Key: corev1.TaintNodeNotReady, Operator: corev1.TolerationOpExists}}, defaults...)},
		{name: "network-unavailable without hostNetwork kept", in: []corev1.Toleration{withSeconds(network, 1)},
			want: append([]corev1.Toleration{withSeconds(network, 1)}, defaults...)},
		{name: "network-unavailable with hostNetwork replaced", in: []corev1.Toleration{withSeconds(network, 1)}, hostNetwork: true,
			want: append([]corev1.Toleration{network}, defaults...)},
	} {
		t.Run(tc.name, func(t *testing.T) {
			in := cloneTolerations(tc.in)
			got := daemonPodTolerations(in, tc.hostNetwork)
			if diff := cmp.Diff(tc.want, got); diff != "" {
				t.Errorf("daemonPodTolerations() mismatch (-want +got):\n%s", diff)
			}
			if diff := cmp.Diff(tc.in, in); diff != "" {
				t.Errorf("daemonPodTolerations() modified its input (-before +after):\n%s", diff)
			}
			if diff := cmp.Diff(upstreamDaemonTolerations(tc.in, tc.hostNetwork), got); diff != "" {
				t.Errorf("daemonPodTolerations() differs from upstream's algorithm (-upstream +got):\n%s", diff)
			}
		})
	}
}

func cloneTolerations(in []corev1.Toleration) []corev1.Toleration {
	if in == nil {
		return nil
	}
	out := make([]corev1.Toleration, len(in))
	for i := range in {
		in[i].DeepCopyInto(&out[i])
	}
	return out
}

func BenchmarkEvaluate(b *testing.B) {
	for _, tc := range []struct {
		name     string
		affinity *corev1.Affinity
	}{
		{name: "none", affinity: nil},
		{name: "sixNotIn", affinity: sixNotIn()},
	} {
		for _, n := range []int{1000, 10000} {
			b.Run(fmt.Sprintf("affinity=%s/nodes=%d", tc.name, n), func(b *testing.B) {
				benchmarkEvaluate(b, "Evaluate", tc.affinity, n)
			})
			b.Run(fmt.Sprintf("affinity=%s/nodes=%d/api=NodeSet", tc.name, n), func(b *testing.B) {
				benchmarkEvaluate(b, "NodeSet", tc.affinity, n)
			})
		}
	}
}

// benchmarkEvaluate evaluates n nodes with Evaluate, or (api "NodeSet")
// through an Evaluator bound to a NodeSet built outside the timing.
func benchmarkEvaluate(b *testing.B, api string, affinity *corev1.Affinity, n int) {
	ds := withSpec(func(s *corev1.PodSpec) { s.Affinity = affinity })
	nodes := benchNodes(n)
	e := New(ds, Options{})
	var set *setEvaluator
	if api == "NodeSet" {
		set = e.on(NewNodeSet(nodes))
	}
	b.ReportAllocs()
	var run int
	cpu := cpuTime()
	for b.Loop() {
		run = 0
		for i, node := range nodes {
			var d Decision
			if set != nil {
				d = set.evaluate(i)
			} else {
				d = e.Evaluate(node)
			}
			if d.ShouldRun() {
				run++
			}
		}
	}
	if run != n {
		b.Fatalf("%d of %d nodes should run", run, n)
	}
	b.ReportMetric(float64(b.Elapsed().Nanoseconds())/float64(b.N)/float64(n), "ns/node")
	// On a shared machine wall time includes waiting for a CPU; the
	// process's CPU time does not.
	b.ReportMetric(float64((cpuTime()-cpu).Nanoseconds())/float64(b.N)/float64(n), "cpu-ns/node")
}

// benchNodes returns n ready nodes as a kubelet registers them: a handful of
// well-known labels and, on every tenth node, the control-plane taint
// (which the seed DaemonSet tolerates).
func benchNodes(n int) []*corev1.Node {
	nodes := make([]*corev1.Node, n)
	for i := range nodes {
		name := fmt.Sprintf("node-%d", i)
		nodes[i] = node(name, map[string]string{
			"kubernetes.io/hostname":           name,
			"kubernetes.io/os":                 "linux",
			"kubernetes.io/arch":               "amd64",
			"topology.kubernetes.io/zone":      fmt.Sprintf("zone-%d", i%3),
			"node.kubernetes.io/instance-type": "m5.large",
		})
		if i%10 == 0 {
			nodes[i].Spec.Taints = []corev1.Taint{taint("node-role.kubernetes.io/control-plane", "", corev1.TaintEffectNoSchedule)}
		}
	}
	return nodes
}

// TestEvaluatorConcurrentUse is meant for -race: an Evaluator is shared by
// goroutines without locking.
func TestEvaluatorConcurrentUse(t *testing.T) {
	e := New(withSpec(func(s *corev1.PodSpec) { s.Affinity = sixNotIn() }), Options{})
	nodes := benchNodes(50)
	done := make(chan Decision)
	for range 4 {
		go func() {
			var last Decision
			for _, n := range nodes {
				last = e.Evaluate(n)
				_ = e.NewPod(n.Name, "h")
				_ = e.Warnings()
			}
			done <- last
		}()
	}
	for range 4 {
		if got := <-done; got != eligible {
			t.Errorf("Evaluate() = %v, want %v", got, eligible)
		}
	}
}
