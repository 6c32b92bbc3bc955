package placement

import (
	"maps"
	"slices"
	"strconv"
	"strings"

	appsv1 "k8s.io/api/apps/v1"
	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	metav1validation "k8s.io/apimachinery/pkg/apis/meta/v1/validation"
	"k8s.io/apimachinery/pkg/labels"
	"k8s.io/apimachinery/pkg/util/intstr"
	"k8s.io/apimachinery/pkg/util/validation"
	"k8s.io/apimachinery/pkg/util/validation/field"
	"k8s.io/component-helpers/scheduling/corev1/nodeaffinity"
)

// Validate returns every problem in ds that matters to planning, with field
// paths, or nil. Decisions never require a valid DaemonSet (they follow
// kube-controller-manager, which copes with all of these); Validate is for
// telling users what is wrong. It does not apply API defaults: it checks ds as
// given, as the API server checks an object after defaulting, and fields the
// API server would default but that are missing are reported when
// kube-controller-manager cannot do without them.
//
// The rules (the API server's, from
// k8s.io/kubernetes/pkg/apis/apps/validation v1.37.2, unless noted):
//
//  1. spec.selector: required; a valid label selector; not empty ({} selects
//     every pod); it must match spec.template.metadata.labels.
//  2. spec.template.spec.nodeSelector: valid label keys and values (others
//     can never match a node's labels).
//  3. spec.template.spec.affinity.nodeAffinity.requiredDuringSchedulingIgnoredDuringExecution:
//     at least one term; every term parses (component-helpers' nodeaffinity
//     reports the errors, with their paths; kube-controller-manager lets a
//     term that does not parse match no node); matchFields keys must be
//     metadata.name.
//  4. spec.template.spec.tolerations: a valid key; an empty key only with
//     operator Exists; Equal values valid label values; Exists without a
//     value; Lt and Gt values decimal integers that fit an int64; operators
//     Equal, Exists, Lt or Gt; effects NoSchedule, PreferNoSchedule or
//     NoExecute; tolerationSeconds only with NoExecute. Whether Lt and Gt are
//     allowed at all depends on the TaintTolerationComparisonOperators gate,
//     which Validate does not know: see [Evaluator.Warnings].
//  5. spec.minReadySeconds and spec.revisionHistoryLimit not negative.
//  6. spec.updateStrategy.type OnDelete or RollingUpdate. For RollingUpdate:
//     rollingUpdate is required; rollingUpdate.maxUnavailable is required
//     (not an API rule: the API server defaults it to 1, and
//     kube-controller-manager fails the rolling update without it; a nil
//     maxSurge means 0); each of maxUnavailable and maxSurge is a
//     non-negative integer or a percentage "N%" of at most 100%; exactly one
//     of them is non-zero (a string that is not a valid percentage counts as
//     its integer value, 0 if none, as the API server does).
//  7. metadata.annotations[deprecated.daemonset.template.generation], when
//     present, is a base-10 int64 (not an API rule: kube-controller-manager
//     silently ignores it otherwise).
//
// Errors come in the order of the rules above. A nil ds gives a single
// Required error with a nil path.
func Validate(ds *appsv1.DaemonSet) field.ErrorList {
	if ds == nil {
		return field.ErrorList{field.Required(nil, "a DaemonSet is required")}
	}
	var errs field.ErrorList
	specPath := field.NewPath("spec")
	errs = append(errs, validateSelector(ds.Spec.Selector, ds.Spec.Template.Labels, specPath)...)
	spec := &ds.Spec.Template.Spec
	errs = append(errs, validateLabels(spec.NodeSelector, templateSpecPath.Child("nodeSelector"))...)
	if a := spec.Affinity; a != nil && a.NodeAffinity != nil && a.NodeAffinity.RequiredDuringSchedulingIgnoredDuringExecution != nil {
		errs = append(errs, validateRequiredAffinity(a.NodeAffinity.RequiredDuringSchedulingIgnoredDuringExecution)...)
	}
	errs = append(errs, validateTolerations(spec.Tolerations, tolerationsPath)...)
	if ds.Spec.MinReadySeconds < 0 {
		errs = append(errs, field.Invalid(specPath.Child("minReadySeconds"), ds.Spec.MinReadySeconds, "must be greater than or equal to 0"))
	}
	if l := ds.Spec.RevisionHistoryLimit; l != nil && *l < 0 {
		errs = append(errs, field.Invalid(specPath.Child("revisionHistoryLimit"), *l, "must be greater than or equal to 0"))
	}
	errs = append(errs, validateUpdateStrategy(&ds.Spec.UpdateStrategy, specPath.Child("updateStrategy"))...)
	if _, _, err := templateGeneration(ds); err != nil {
		errs = append(errs, field.Invalid(generationPath, ds.Annotations[appsv1.DeprecatedTemplateGeneration], "must be a base-10 64-bit integer"))
	}
	return errs
}

func validateSelector(sel *metav1.LabelSelector, templateLabels map[string]string, specPath *field.Path) field.ErrorList {
	p := specPath.Child("selector")
	if sel == nil {
		return field.ErrorList{field.Required(p, "")}
	}
	errs := metav1validation.ValidateLabelSelector(sel, metav1validation.LabelSelectorValidationOptions{}, p)
	if len(sel.MatchLabels)+len(sel.MatchExpressions) == 0 {
		errs = append(errs, field.Invalid(p, sel, "empty selector is invalid for daemonset"))
	}
	if s, err := metav1.LabelSelectorAsSelector(sel); err == nil && !s.Matches(labels.Set(templateLabels)) {
		errs = append(errs, field.Invalid(specPath.Child("template", "metadata", "labels"), templateLabels, "`selector` does not match template `labels`"))
	}
	return errs
}

// validateLabels checks keys and values in key order (apimachinery's
// ValidateLabels reports in map order).
func validateLabels(m map[string]string, p *field.Path) field.ErrorList {
	var errs field.ErrorList
	for _, k := range slices.Sorted(maps.Keys(m)) {
		errs = append(errs, metav1validation.ValidateLabelName(k, p.Key(k))...)
		for _, msg := range validation.IsValidLabelValue(m[k]) {
			errs = append(errs, field.Invalid(p.Key(k), m[k], msg))
		}
	}
	return errs
}

func validateRequiredAffinity(ns *corev1.NodeSelector) field.ErrorList {
	termsPath := requiredAffinityPath.Child("nodeSelectorTerms")
	if len(ns.NodeSelectorTerms) == 0 {
		return field.ErrorList{field.Required(termsPath, "must have at least one node selector term")}
	}
	var errs field.ErrorList
	if _, err := nodeaffinity.NewNodeSelector(ns, field.WithPath(requiredAffinityPath)); err != nil {
		errs = append(errs, fieldErrors(err, requiredAffinityPath)...)
	}
	for i, term := range ns.NodeSelectorTerms {
		for j, req := range term.MatchFields {
			if req.Key != metav1.ObjectNameField {
				errs = append(errs, field.Invalid(termsPath.Index(i).Child("matchFields").Index(j).Child("key"), req.Key, "not a valid field selector key"))
			}
		}
	}
	return errs
}

var (
	tolerationOperators = []corev1.TolerationOperator{corev1.TolerationOpEqual, corev1.TolerationOpExists, corev1.TolerationOpLt, corev1.TolerationOpGt}
	taintEffects        = []corev1.TaintEffect{corev1.TaintEffectNoSchedule, corev1.TaintEffectPreferNoSchedule, corev1.TaintEffectNoExecute}
)

func validateTolerations(tolerations []corev1.Toleration, p *field.Path) field.ErrorList {
	var errs field.ErrorList
	for i, t := range tolerations {
		tp := p.Index(i)
		if t.Key != "" {
			errs = append(errs, metav1validation.ValidateLabelName(t.Key, tp.Child("key"))...)
		} else if t.Operator != corev1.TolerationOpExists {
			errs = append(errs, field.Invalid(tp.Child("operator"), t.Operator, "operator must be Exists when `key` is empty, which means \"match all values and all keys\""))
		}
		if t.TolerationSeconds != nil && t.Effect != corev1.TaintEffectNoExecute {
			errs = append(errs, field.Invalid(tp.Child("effect"), t.Effect, "effect must be 'NoExecute' when `tolerationSeconds` is set"))
		}
		switch t.Operator {
		case "", corev1.TolerationOpEqual:
			if msgs := validation.IsValidLabelValue(t.Value); len(msgs) != 0 {
				errs = append(errs, field.Invalid(tp.Child("value"), t.Value, strings.Join(msgs, "; ")))
			}
		case corev1.TolerationOpExists:
			if t.Value != "" {
				errs = append(errs, field.Invalid(tp.Child("value"), t.Value, "value must be empty when `operator` is 'Exists'"))
			}
		case corev1.TolerationOpLt, corev1.TolerationOpGt:
			if !isDecimalInt64(t.Value) {
				errs = append(errs, field.Invalid(tp.Child("value"), t.Value, "must be a decimal integer that fits an int64 when `operator` is 'Lt' or 'Gt'"))
			}
		default:
			errs = append(errs, field.NotSupported(tp.Child("operator"), t.Operator, tolerationOperators))
		}
		if t.Effect != "" && !slices.Contains(taintEffects, t.Effect) {
			errs = append(errs, field.NotSupported(tp.Child("effect"), t.Effect, taintEffects))
		}
	}
	return errs
}

func validateUpdateStrategy(s *appsv1.DaemonSetUpdateStrategy, p *field.Path) field.ErrorList {
	switch s.Type {
	case appsv1.OnDeleteDaemonSetStrategyType:
		return nil
	case appsv1.RollingUpdateDaemonSetStrategyType:
	default:
		return field.ErrorList{field.NotSupported(p.Child("type"), s.Type,
			[]appsv1.DaemonSetUpdateStrategyType{appsv1.RollingUpdateDaemonSetStrategyType, appsv1.OnDeleteDaemonSetStrategyType})}
	}
	ru := s.RollingUpdate
	rp := p.Child("rollingUpdate")
	if ru == nil {
		return field.ErrorList{field.Required(rp, "")}
	}
	var errs field.ErrorList
	unavailablePath, surgePath := rp.Child("maxUnavailable"), rp.Child("maxSurge")
	var unavailable, surge intstr.IntOrString // nil maxSurge means 0
	if ru.MaxUnavailable == nil {
		errs = append(errs, field.Required(unavailablePath, "kube-controller-manager cannot run a rolling update without it (the API server defaults it to 1)"))
	} else {
		unavailable = *ru.MaxUnavailable
		errs = append(errs, validateIntOrPercent(unavailable, unavailablePath)...)
	}
	if ru.MaxSurge != nil {
		surge = *ru.MaxSurge
		errs = append(errs, validateIntOrPercent(surge, surgePath)...)
	}
	if ru.MaxUnavailable == nil {
		return errs
	}
	hasUnavailable, hasSurge := intOrPercentValue(unavailable) != 0, intOrPercentValue(surge) != 0
	switch {
	case hasUnavailable && hasSurge:
		errs = append(errs, field.Invalid(surgePath, surge, "may not be set when maxUnavailable is non-zero"))
	case !hasUnavailable && !hasSurge:
		errs = append(errs, field.Required(unavailablePath, "cannot be 0 when maxSurge is 0"))
	}
	return errs
}

// validateIntOrPercent: a non-negative integer or a valid percentage of at
// most 100%.
func validateIntOrPercent(v intstr.IntOrString, p *field.Path) field.ErrorList {
	var errs field.ErrorList
	switch v.Type {
	case intstr.String:
		msgs := validation.IsValidPercent(v.StrVal)
		for _, msg := range msgs {
			errs = append(errs, field.Invalid(p, v, msg))
		}
		if pct, ok := percentValue(v); ok && pct > 100 {
			errs = append(errs, field.Invalid(p, v, "must not be greater than 100%"))
		}
	case intstr.Int:
		if v.IntVal < 0 {
			errs = append(errs, field.Invalid(p, v, "must be greater than or equal to 0"))
		}
	default:
		errs = append(errs, field.Invalid(p, v, "must be an integer or percentage (e.g '5%')"))
	}
	return errs
}

// percentValue returns N for a valid percentage "N%".
func percentValue(v intstr.IntOrString) (int, bool) {
	if v.Type != intstr.String || len(validation.IsValidPercent(v.StrVal)) != 0 {
		return 0, false
	}
	n, err := strconv.Atoi(strings.TrimSuffix(v.StrVal, "%"))
	return n, err == nil
}

// intOrPercentValue is the number the API server uses to tell zero from
// non-zero: N for a valid "N%", else the IntOrString's IntValue (a string
// that does not parse as an integer counts 0).
func intOrPercentValue(v intstr.IntOrString) int {
	if n, ok := percentValue(v); ok {
		return n
	}
	return v.IntValue()
}
