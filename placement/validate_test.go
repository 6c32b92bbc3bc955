package placement

import (
	"testing"

	appsv1 "k8s.io/api/apps/v1"
	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/util/intstr"
	"k8s.io/apimachinery/pkg/util/validation/field"
)

var errorMatcher = field.ErrorMatcher{}.ByType().ByField()

// withDS returns fluentd() with f applied.
func withDS(f func(*appsv1.DaemonSet)) *appsv1.DaemonSet {
	ds := fluentd()
	f(ds)
	return ds
}

func rolling(maxUnavailable, maxSurge *intstr.IntOrString) func(*appsv1.DaemonSet) {
	return func(ds *appsv1.DaemonSet) {
		ds.Spec.UpdateStrategy = appsv1.DaemonSetUpdateStrategy{
			Type:          appsv1.RollingUpdateDaemonSetStrategyType,
			RollingUpdate: &appsv1.RollingUpdateDaemonSet{MaxUnavailable: maxUnavailable, MaxSurge: maxSurge},
		}
	}
}

func intOrStr(v intstr.IntOrString) *intstr.IntOrString { return &v }

func TestValidateValid(t *testing.T) {
	for _, tc := range []struct {
		name string
		ds   *appsv1.DaemonSet
	}{
		{name: "seed", ds: fluentd()},
		{name: "OnDelete", ds: withDS(func(ds *appsv1.DaemonSet) {
			ds.Spec.UpdateStrategy = appsv1.DaemonSetUpdateStrategy{Type: appsv1.OnDeleteDaemonSetStrategyType}
		})},
		{name: "OnDelete ignores rollingUpdate", ds: withDS(func(ds *appsv1.DaemonSet) {
			rolling(intOrStr(intstr.FromInt32(-1)), nil)(ds)
			ds.Spec.UpdateStrategy.Type = appsv1.OnDeleteDaemonSetStrategyType
		})},
		{name: "surge only", ds: withDS(rolling(intOrStr(intstr.FromInt32(0)), intOrStr(intstr.FromString("25%"))))},
		{name: "percent unavailable, nil surge", ds: withDS(rolling(intOrStr(intstr.FromString("100%")), nil))},
		{name: "string zero surge", ds: withDS(rolling(intOrStr(intstr.FromInt32(2)), intOrStr(intstr.FromString("0%"))))},
		{name: "selector with expressions", ds: withDS(func(ds *appsv1.DaemonSet) {
			ds.Spec.Selector = &metav1.LabelSelector{MatchExpressions: []metav1.LabelSelectorRequirement{
				{Key: "name", Operator: metav1.LabelSelectorOpIn, Values: []string{"fluentd-elasticsearch"}},
			}}
		})},
		{name: "nodeSelector", ds: withSpec(func(s *corev1.PodSpec) {
			s.NodeSelector = map[string]string{"app": "logging-node", "example.com/x": ""}
		})},
		{name: "affinity", ds: withSpec(func(s *corev1.PodSpec) {
			s.Affinity = sixNotIn()
			s.Affinity.NodeAffinity.RequiredDuringSchedulingIgnoredDuringExecution.NodeSelectorTerms = append(
				s.Affinity.NodeAffinity.RequiredDuringSchedulingIgnoredDuringExecution.NodeSelectorTerms,
				nameIs(corev1.NodeSelectorOpNotIn, "n1"), exprs(req("rank", corev1.NodeSelectorOpGt, "3")))
		})},
		{name: "empty affinity", ds: withSpec(func(s *corev1.PodSpec) { s.Affinity = &corev1.Affinity{NodeAffinity: &corev1.NodeAffinity{}} })},
		{name: "tolerations", ds: withSpec(func(s *corev1.PodSpec) {
			s.Tolerations = []corev1.Toleration{
				{Operator: corev1.TolerationOpExists},
				{Key: "k", Value: "v"},
				{Key: "k", Operator: corev1.TolerationOpEqual, Value: "", Effect: corev1.TaintEffectPreferNoSchedule},
				{Key: "k", Operator: corev1.TolerationOpLt, Value: "-9223372036854775808"},
				{Key: "k", Operator: corev1.TolerationOpGt, Value: "0", Effect: corev1.TaintEffectNoExecute, TolerationSeconds: new(int64(5))},
			}
		})},
		{name: "zero minReadySeconds and revisionHistoryLimit", ds: withDS(func(ds *appsv1.DaemonSet) {
			ds.Spec.MinReadySeconds = 0
			ds.Spec.RevisionHistoryLimit = new(int32(0))
		})},
		{name: "nil revisionHistoryLimit", ds: withDS(func(ds *appsv1.DaemonSet) { ds.Spec.RevisionHistoryLimit = nil })},
		{name: "template generation", ds: withDS(func(ds *appsv1.DaemonSet) {
			ds.Annotations = map[string]string{appsv1.DeprecatedTemplateGeneration: "3"}
		})},
	} {
		t.Run(tc.name, func(t *testing.T) {
			if got := Validate(tc.ds); len(got) != 0 {
				t.Errorf("Validate() = %v, want no errors", got)
			}
		})
	}
}

func TestValidateInvalid(t *testing.T) {
	var (
		spec     = field.NewPath("spec")
		selector = spec.Child("selector")
		tmplSpec = spec.Child("template", "spec")
		terms    = tmplSpec.Child("affinity", "nodeAffinity", "requiredDuringSchedulingIgnoredDuringExecution", "nodeSelectorTerms")
		tols     = tmplSpec.Child("tolerations")
		strategy = spec.Child("updateStrategy")
		ru       = strategy.Child("rollingUpdate")
	)
	for _, tc := range []struct {
		name string
		ds   *appsv1.DaemonSet
		want field.ErrorList
	}{
		{name: "nil DaemonSet", ds: nil, want: field.ErrorList{field.Required(nil, "")}},

		// selector
		{name: "no selector", ds: withDS(func(ds *appsv1.DaemonSet) { ds.Spec.Selector = nil }),
			want: field.ErrorList{field.Required(selector, "")}},
		{name: "empty selector", ds: withDS(func(ds *appsv1.DaemonSet) { ds.Spec.Selector = &metav1.LabelSelector{} }),
			want: field.ErrorList{field.Invalid(selector, nil, "")}},
		{name: "selector does not match template", ds: withDS(func(ds *appsv1.DaemonSet) {
			ds.Spec.Selector.MatchLabels = map[string]string{"name": "other"}
		}), want: field.ErrorList{field.Invalid(spec.Child("template", "metadata", "labels"), nil, "")}},
		{name: "template without labels", ds: withDS(func(ds *appsv1.DaemonSet) { ds.Spec.Template.Labels = nil }),
			want: field.ErrorList{field.Invalid(spec.Child("template", "metadata", "labels"), nil, "")}},
		{name: "invalid selector", ds: withDS(func(ds *appsv1.DaemonSet) {
			ds.Spec.Selector.MatchExpressions = []metav1.LabelSelectorRequirement{
				{Key: "name", Operator: "Like"},
				{Key: "bad key", Operator: metav1.LabelSelectorOpExists},
				{Key: "x", Operator: metav1.LabelSelectorOpIn},
			}
		}), want: field.ErrorList{
			field.Invalid(selector.Child("matchExpressions").Index(0).Child("operator"), nil, ""),
			field.Invalid(selector.Child("matchExpressions").Index(1).Child("key"), nil, ""),
			field.Required(selector.Child("matchExpressions").Index(2).Child("values"), ""),
		}},

		// nodeSelector
		{name: "invalid nodeSelector", ds: withSpec(func(s *corev1.PodSpec) { s.NodeSelector = map[string]string{"bad key": "ok", "ok": "bad value!"} }),
			want: field.ErrorList{
				field.Invalid(tmplSpec.Child("nodeSelector").Key("bad key"), nil, ""),
				field.Invalid(tmplSpec.Child("nodeSelector").Key("ok"), nil, ""),
			}},

		// required node affinity
		{name: "zero terms", ds: withSpec(func(s *corev1.PodSpec) { s.Affinity = required() }),
			want: field.ErrorList{field.Required(terms, "")}},
		{name: "unparsable terms", ds: withSpec(func(s *corev1.PodSpec) {
			s.Affinity = required(
				exprs(req("ok", corev1.NodeSelectorOpIn, "v")),
				exprs(req("a", "Maybe"), req("b", corev1.NodeSelectorOpIn), req("c", corev1.NodeSelectorOpExists, "v")),
				exprs(req("bad key", corev1.NodeSelectorOpExists), req("d", corev1.NodeSelectorOpGt, "x"), req("e", corev1.NodeSelectorOpLt, "1", "2")),
				nameIs(corev1.NodeSelectorOpIn, "n1", "n2"),
				nameIs(corev1.NodeSelectorOpExists),
				corev1.NodeSelectorTerm{MatchFields: []corev1.NodeSelectorRequirement{req("metadata.uid", corev1.NodeSelectorOpIn, "u")}},
			)
		}), want: field.ErrorList{
			field.NotSupported(terms.Index(1).Child("matchExpressions").Index(0).Child("operator"), "", []string(nil)),
			field.Invalid(terms.Index(1).Child("matchExpressions").Index(1).Child("values"), nil, ""),
			field.Invalid(terms.Index(1).Child("matchExpressions").Index(2).Child("values"), nil, ""),
			field.Invalid(terms.Index(2).Child("matchExpressions").Index(0).Child("key"), nil, ""),
			field.Invalid(terms.Index(2).Child("matchExpressions").Index(1).Child("values").Index(0), nil, ""),
			field.Invalid(terms.Index(2).Child("matchExpressions").Index(2).Child("values"), nil, ""),
			field.Invalid(terms.Index(3).Child("matchFields").Index(0).Child("values"), nil, ""),
			field.NotSupported(terms.Index(4).Child("matchFields").Index(0).Child("operator"), "", []string(nil)),
			field.Invalid(terms.Index(5).Child("matchFields").Index(0).Child("key"), nil, ""),
		}},

		// tolerations
		{name: "tolerations", ds: withSpec(func(s *corev1.PodSpec) {
			s.Tolerations = []corev1.Toleration{
				{Key: "bad key", Operator: corev1.TolerationOpExists},
				{Operator: corev1.TolerationOpEqual, Value: "v"},
				{Key: "k", Operator: corev1.TolerationOpExists, Effect: corev1.TaintEffectNoSchedule, TolerationSeconds: new(int64(1))},
				{Key: "k", Value: "bad value!"},
				{Key: "k", Operator: corev1.TolerationOpExists, Value: "v"},
				{Key: "k", Operator: corev1.TolerationOpLt, Value: "ten"},
				{Key: "k", Operator: corev1.TolerationOpGt, Value: "010"},
				{Key: "k", Operator: corev1.TolerationOpGt, Value: "9223372036854775808"},
				{Key: "k", Operator: corev1.TolerationOpGt},
				{Key: "k", Operator: "Like"},
				{Key: "k", Operator: corev1.TolerationOpExists, Effect: "Sometimes"},
			}
		}), want: field.ErrorList{
			field.Invalid(tols.Index(0).Child("key"), nil, ""),
			field.Invalid(tols.Index(1).Child("operator"), nil, ""),
			field.Invalid(tols.Index(2).Child("effect"), nil, ""),
			field.Invalid(tols.Index(3).Child("value"), nil, ""),
			field.Invalid(tols.Index(4).Child("value"), nil, ""),
			field.Invalid(tols.Index(5).Child("value"), nil, ""),
			field.Invalid(tols.Index(6).Child("value"), nil, ""),
			field.Invalid(tols.Index(7).Child("value"), nil, ""),
			field.Invalid(tols.Index(8).Child("value"), nil, ""),
			field.NotSupported(tols.Index(9).Child("operator"), "", []string(nil)),
			field.NotSupported(tols.Index(10).Child("effect"), "", []string(nil)),
		}},

		// counts
		{name: "negative minReadySeconds", ds: withDS(func(ds *appsv1.DaemonSet) { ds.Spec.MinReadySeconds = -1 }),
			want: field.ErrorList{field.Invalid(spec.Child("minReadySeconds"), nil, "")}},
		{name: "negative revisionHistoryLimit", ds: withDS(func(ds *appsv1.DaemonSet) { ds.Spec.RevisionHistoryLimit = new(int32(-1)) }),
			want: field.ErrorList{field.Invalid(spec.Child("revisionHistoryLimit"), nil, "")}},

		// update strategy
		{name: "empty strategy type", ds: withDS(func(ds *appsv1.DaemonSet) { ds.Spec.UpdateStrategy.Type = "" }),
			want: field.ErrorList{field.NotSupported(strategy.Child("type"), "", []string(nil))}},
		{name: "unknown strategy type", ds: withDS(func(ds *appsv1.DaemonSet) { ds.Spec.UpdateStrategy.Type = "Recreate" }),
			want: field.ErrorList{field.NotSupported(strategy.Child("type"), "", []string(nil))}},
		{name: "no rollingUpdate", ds: withDS(func(ds *appsv1.DaemonSet) { ds.Spec.UpdateStrategy.RollingUpdate = nil }),
			want: field.ErrorList{field.Required(ru, "")}},
		{name: "nil maxUnavailable", ds: withDS(rolling(nil, intOrStr(intstr.FromInt32(1)))),
			want: field.ErrorList{field.Required(ru.Child("maxUnavailable"), "")}},
		{name: "nil maxUnavailable and maxSurge", ds: withDS(rolling(nil, nil)),
			want: field.ErrorList{field.Required(ru.Child("maxUnavailable"), "")}},
		{name: "both zero", ds: withDS(rolling(intOrStr(intstr.FromInt32(0)), intOrStr(intstr.FromInt32(0)))),
			want: field.ErrorList{field.Required(ru.Child("maxUnavailable"), "")}},
		{name: "zero and nil surge", ds: withDS(rolling(intOrStr(intstr.FromString("0%")), nil)),
			want: field.ErrorList{field.Required(ru.Child("maxUnavailable"), "")}},
		{name: "both non-zero", ds: withDS(rolling(intOrStr(intstr.FromInt32(1)), intOrStr(intstr.FromString("10%")))),
			want: field.ErrorList{field.Invalid(ru.Child("maxSurge"), nil, "")}},
		{name: "negative maxUnavailable", ds: withDS(rolling(intOrStr(intstr.FromInt32(-1)), nil)),
			want: field.ErrorList{field.Invalid(ru.Child("maxUnavailable"), nil, "")}},
		{name: "negative maxSurge", ds: withDS(rolling(intOrStr(intstr.FromInt32(0)), intOrStr(intstr.FromInt32(-2)))),
			want: field.ErrorList{field.Invalid(ru.Child("maxSurge"), nil, "")}},
		{name: "over 100 percent", ds: withDS(rolling(intOrStr(intstr.FromString("101%")), nil)),
			want: field.ErrorList{field.Invalid(ru.Child("maxUnavailable"), nil, "")}},
		{name: "invalid percent", ds: withDS(rolling(intOrStr(intstr.FromString("ten%")), intOrStr(intstr.FromString("-5%")))),
			want: field.ErrorList{
				field.Invalid(ru.Child("maxUnavailable"), nil, ""),
				field.Invalid(ru.Child("maxSurge"), nil, ""),
				field.Required(ru.Child("maxUnavailable"), ""), // both count as 0
			}},
		{name: "integer as string", ds: withDS(rolling(intOrStr(intstr.FromString("5")), intOrStr(intstr.FromInt32(0)))),
			want: field.ErrorList{field.Invalid(ru.Child("maxUnavailable"), nil, "")}},
		{name: "integer strings count as their value", ds: withDS(rolling(intOrStr(intstr.FromString("5")), intOrStr(intstr.FromString("3")))),
			want: field.ErrorList{
				field.Invalid(ru.Child("maxUnavailable"), nil, ""),
				field.Invalid(ru.Child("maxSurge"), nil, ""),
				field.Invalid(ru.Child("maxSurge"), nil, ""), // both non-zero
			}},
		{name: "unknown IntOrString type", ds: withDS(rolling(&intstr.IntOrString{Type: 2, IntVal: 1}, nil)),
			want: field.ErrorList{field.Invalid(ru.Child("maxUnavailable"), nil, "")}},

		// annotations
		{name: "unparsable template generation", ds: withDS(func(ds *appsv1.DaemonSet) {
			ds.Annotations = map[string]string{appsv1.DeprecatedTemplateGeneration: "1.5"}
		}), want: field.ErrorList{field.Invalid(field.NewPath("metadata", "annotations").Key(appsv1.DeprecatedTemplateGeneration), nil, "")}},

		// several at once
		{name: "every problem reported", ds: withDS(func(ds *appsv1.DaemonSet) {
			ds.Spec.Selector = &metav1.LabelSelector{}
			ds.Spec.MinReadySeconds = -5
			ds.Spec.Template.Spec.Affinity = required(exprs(req("a", "Maybe")))
			rolling(intOrStr(intstr.FromInt32(0)), intOrStr(intstr.FromInt32(0)))(ds)
		}), want: field.ErrorList{
			field.Invalid(selector, nil, ""),
			field.NotSupported(terms.Index(0).Child("matchExpressions").Index(0).Child("operator"), "", []string(nil)),
			field.Invalid(spec.Child("minReadySeconds"), nil, ""),
			field.Required(ru.Child("maxUnavailable"), ""),
		}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			errorMatcher.Test(t, tc.want, Validate(tc.ds))
		})
	}
}
