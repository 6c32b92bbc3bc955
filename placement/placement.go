package placement

import (
	"cmp"
	"errors"
	"slices"
	"strconv"
	"strings"

	appsv1 "k8s.io/api/apps/v1"
	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/fields"
	"k8s.io/apimachinery/pkg/labels"
	"k8s.io/apimachinery/pkg/selection"
	utilerrors "k8s.io/apimachinery/pkg/util/errors"
	"k8s.io/apimachinery/pkg/util/validation/field"
	corev1helpers "k8s.io/component-helpers/scheduling/corev1"
	"k8s.io/component-helpers/scheduling/corev1/nodeaffinity"
	"k8s.io/klog/v2"

	"github.com/dsplan/dsplan/internal/labelmatch"
)

// Options holds the inputs of a placement decision that do not come from the
// DaemonSet or the node. The zero Options are kube-controller-manager
// v1.37.2's defaults.
type Options struct {
	// TaintTolerationComparisonOperators mirrors the alpha feature gate of
	// the same name (off in kube-controller-manager v1.37.2): when false,
	// tolerations with operator Lt or Gt tolerate nothing; when true, they
	// compare the taint's and the toleration's values as decimal integers.
	TaintTolerationComparisonOperators bool
}

// Reason says why a [Decision] came out as it did. The zero Reason is
// [NotEvaluated].
type Reason uint8

// Reasons, in the order kube-controller-manager checks them: the first rule
// a node fails decides the reason.
const (
	// NotEvaluated: no node was evaluated, as for a nil node or a node name
	// that pods target but no Node object exists for; nothing may run.
	NotEvaluated Reason = iota
	// Eligible: the node passes every rule; a daemon pod should run there.
	Eligible
	// NodeNameMismatch: the pod template's spec.nodeName names another node.
	NodeNameMismatch
	// NodeSelectorMismatch: the node's labels do not match the pod
	// template's spec.nodeSelector.
	NodeSelectorMismatch
	// NodeAffinityMismatch: the node matches no term of the pod template's
	// required node affinity (terms that do not parse match no node).
	NodeAffinityMismatch
	// UntoleratedTaint: the node has an untolerated NoSchedule taint (and
	// no untolerated NoExecute one). No new pod is created; an existing pod
	// continues to run.
	UntoleratedTaint
	// UntoleratedNoExecuteTaint: the node has an untolerated NoExecute
	// taint. No new pod is created and an existing pod is deleted.
	UntoleratedNoExecuteTaint
)

var reasonNames = [...]string{
	NotEvaluated:              "NotEvaluated",
	Eligible:                  "Eligible",
	NodeNameMismatch:          "NodeNameMismatch",
	NodeSelectorMismatch:      "NodeSelectorMismatch",
	NodeAffinityMismatch:      "NodeAffinityMismatch",
	UntoleratedTaint:          "UntoleratedTaint",
	UntoleratedNoExecuteTaint: "UntoleratedNoExecuteTaint",
}

// String returns the constant's name, e.g. "NodeAffinityMismatch", or
// "Reason(N)" for a value that is not one of the constants.
func (r Reason) String() string {
	if int(r) < len(reasonNames) {
		return reasonNames[r]
	}
	return "Reason(" + strconv.Itoa(int(r)) + ")"
}

// Decision is the placement of one DaemonSet on one node: the first rule the
// node failed (or [Eligible]) and, for a taint rule, the offending taint.
// kube-controller-manager's two answers, shouldRun and
// shouldContinueRunning, follow from the reason alone and are its methods,
// so a Decision cannot contradict itself.
//
// The zero Decision, Reason [NotEvaluated], means no pod may run or
// continue on the node; it is what [Evaluator.Evaluate] returns for a nil
// node.
type Decision struct {
	// Reason is the first rule the node failed, or [Eligible].
	Reason Reason
	// Taint is the offending taint for [UntoleratedTaint] and
	// [UntoleratedNoExecuteTaint], nil otherwise. It points into the
	// evaluated node's spec.taints: the first untolerated NoExecute taint if
	// there is one, else the first untolerated NoSchedule taint.
	Taint *corev1.Taint
}

// ShouldRun reports whether a daemon pod should run on the node if none is
// there yet (kube-controller-manager's shouldRun): the node is [Eligible].
func (d Decision) ShouldRun() bool { return d.Reason == Eligible }

// ShouldContinueRunning reports whether a daemon pod already on the node may
// stay (kube-controller-manager's shouldContinueRunning): the node is
// [Eligible], or only an untolerated NoSchedule taint ([UntoleratedTaint])
// keeps new pods away.
func (d Decision) ShouldContinueRunning() bool {
	return d.Reason == Eligible || d.Reason == UntoleratedTaint
}

// String explains the decision in one line, e.g.
// "no new pod; a pod already there may stay: untolerated taint dedicated=logging:NoSchedule".
func (d Decision) String() string {
	verdict := d.verdict()
	var why string
	switch d.Reason {
	case NotEvaluated:
		why = "not evaluated"
	case Eligible:
		why = "node is eligible"
	case NodeNameMismatch:
		why = "spec.template.spec.nodeName names another node"
	case NodeSelectorMismatch:
		why = "node labels do not match spec.template.spec.nodeSelector"
	case NodeAffinityMismatch:
		why = "node matches no term of the required node affinity"
	case UntoleratedTaint, UntoleratedNoExecuteTaint:
		why = "untolerated taint"
		if d.Taint != nil {
			why += " " + d.Taint.ToString()
		}
	default:
		why = d.Reason.String()
	}
	return verdict + ": " + why
}

// verdict is the first part of String: what may run on the node.
func (d Decision) verdict() string {
	switch {
	case d.ShouldRun():
		return "run"
	case d.ShouldContinueRunning():
		return "no new pod; a pod already there may stay"
	}
	return "no pod"
}

// Warning reports an input that kube-controller-manager silently treats in a
// way the user may not expect: an affinity term that does not parse (it
// matches no node), a toleration that tolerates nothing, an unparsable
// template-generation annotation (ignored). Evaluation follows
// kube-controller-manager; the warning only says so.
type Warning struct {
	// Field is the field path of the offending input, e.g.
	// "spec.template.spec.tolerations[2].operator"; empty when the warning
	// is about the whole DaemonSet.
	Field string
	// Message says what is wrong and how kube-controller-manager treats it.
	Message string
}

// String returns "Field: Message", or Message alone when Field is empty.
func (w Warning) String() string {
	if w.Field == "" {
		return w.Message
	}
	return w.Field + ": " + w.Message
}

// Evaluator decides, node by node, where one DaemonSet's pods run. Build it
// with [New]; the zero Evaluator is not usable. An Evaluator is immutable and
// safe for concurrent use.
type Evaluator struct {
	// nodeName is the template's spec.nodeName ("" for any node).
	nodeName string
	// nodeSelector is the template's spec.nodeSelector, as component-helpers
	// parses it (no affinity: the match does not allocate).
	nodeSelector nodeaffinity.RequiredNodeAffinity
	// hasNodeSelector is false when spec.nodeSelector is empty, which every
	// node matches: Evaluate then skips the call.
	hasNodeSelector bool
	// required is set when the template has a required node affinity; terms
	// then holds its usable terms (see compileTerms).
	required bool
	terms    []selectorTerm
	// tolerations are the template's tolerations plus the daemon defaults.
	tolerations []corev1.Toleration
	// tolerate is tolerations without the Lt and Gt ones that tolerate
	// nothing (all of them with the gate off, those with a value that is not
	// a decimal integer with it on); tolerateText is tolerate without any Lt
	// or Gt, for taints whose value is not a decimal integer. Evaluating
	// those lists instead gives the same result without k8s.io/api building
	// log messages (allocations) for unparsable values.
	tolerate, tolerateText []corev1.Toleration
	// comparisonOps mirrors Options.TaintTolerationComparisonOperators.
	comparisonOps bool
	warnings      []Warning

	// Inputs of NewPod, copied from the DaemonSet.
	template     *corev1.PodTemplateSpec
	namespace    string
	generateName string
	controller   metav1.OwnerReference
	generation   *int64

	// Inputs of Group, copied from the DaemonSet: the identity claiming
	// needs (name, namespace, UID, deletionTimestamp), the selector, parsed
	// once (selectorErr when it does not parse) and compiled for matching
	// many pods, and minReadySeconds.
	owner           appsv1.DaemonSet
	selector        labels.Selector
	selectorErr     error
	podSelector     podSelector
	minReadySeconds int32
}

// Field paths the evaluator reports warnings at.
var (
	templateSpecPath     = field.NewPath("spec", "template", "spec")
	requiredAffinityPath = templateSpecPath.Child("affinity", "nodeAffinity", "requiredDuringSchedulingIgnoredDuringExecution")
	tolerationsPath      = templateSpecPath.Child("tolerations")
	generationPath       = field.NewPath("metadata", "annotations").Key(appsv1.DeprecatedTemplateGeneration)
)

// New compiles the placement rules of ds. It never fails and never modifies
// ds; the Evaluator keeps copies of what it needs, so later changes to ds do
// not affect it. Inputs kube-controller-manager silently ignores or treats as
// matching nothing are listed by [Evaluator.Warnings]. A nil ds is evaluated
// as an empty DaemonSet (with a warning).
func New(ds *appsv1.DaemonSet, opts Options) *Evaluator {
	var warnings []Warning
	if ds == nil {
		ds = &appsv1.DaemonSet{}
		warnings = append(warnings, Warning{Message: "nil DaemonSet: evaluated as an empty one"})
	}
	// Everything below reads this copy: the Evaluator shares nothing with ds.
	template := ds.Spec.Template.DeepCopy()
	spec := &template.Spec
	e := &Evaluator{
		nodeName:        spec.NodeName,
		nodeSelector:    nodeaffinity.NewRequiredNodeAffinity(spec.NodeSelector, nil),
		hasNodeSelector: len(spec.NodeSelector) > 0,
		tolerations:     daemonPodTolerations(spec.Tolerations, spec.HostNetwork),
		comparisonOps:   opts.TaintTolerationComparisonOperators,
		template:        template,
		namespace:       ds.Namespace,
		generateName:    generateName(ds.Name),
		controller:      *metav1.NewControllerRef(ds, ControllerKind),
		minReadySeconds: ds.Spec.MinReadySeconds,
	}
	e.owner.Name, e.owner.Namespace, e.owner.UID = ds.Name, ds.Namespace, ds.UID
	e.owner.DeletionTimestamp = ds.DeletionTimestamp.DeepCopy()
	e.selector, e.selectorErr = metav1.LabelSelectorAsSelector(ds.Spec.Selector)
	if e.selectorErr == nil {
		e.podSelector = compileSelector(e.selector)
	}
	for _, t := range e.tolerations {
		comparison := t.Operator == corev1.TolerationOpLt || t.Operator == corev1.TolerationOpGt
		if !comparison {
			e.tolerateText = append(e.tolerateText, t)
		}
		if !comparison || opts.TaintTolerationComparisonOperators && isDecimalInt64(t.Value) {
			e.tolerate = append(e.tolerate, t)
		}
	}
	if a := spec.Affinity; a != nil && a.NodeAffinity != nil && a.NodeAffinity.RequiredDuringSchedulingIgnoredDuringExecution != nil {
		e.required = true
		var ws []Warning
		e.terms, ws = compileTerms(a.NodeAffinity.RequiredDuringSchedulingIgnoredDuringExecution)
		warnings = append(warnings, ws...)
	}
	warnings = append(warnings, tolerationWarnings(spec.Tolerations, opts)...)
	gen, err := TemplateGeneration(ds)
	if err != nil {
		warnings = append(warnings, Warning{
			Field:   generationPath.String(),
			Message: "not an integer: kube-controller-manager ignores it, new pods get no " + templateGenerationLabel + " label",
		})
	}
	e.generation = gen
	slices.SortFunc(warnings, func(a, b Warning) int {
		return cmp.Or(cmp.Compare(a.Field, b.Field), cmp.Compare(a.Message, b.Message))
	})
	e.warnings = warnings
	return e
}

// Selector returns the DaemonSet's spec.selector, parsed once by New
// (metav1.LabelSelectorAsSelector: a nil selector selects nothing), or
// the parse error.
func (e *Evaluator) Selector() (labels.Selector, error) {
	return e.selector, e.selectorErr
}

// Warnings returns what New found that kube-controller-manager silently
// ignores or treats as matching nothing, sorted by field, then message. The
// result is nil when there is nothing to report; it is a copy the caller may
// modify.
func (e *Evaluator) Warnings() []Warning {
	return slices.Clone(e.warnings)
}

// Evaluate decides whether the DaemonSet's pod should run on node, and
// whether a pod already there may stay, exactly as kube-controller-manager
// v1.37.2's NodeShouldRunDaemonPod. The rules, in order:
//
//  1. If the template's spec.nodeName is set and differs from node's name:
//     [NodeNameMismatch], no pod.
//  2. If node's labels do not match the template's spec.nodeSelector (nil or
//     empty matches every node): [NodeSelectorMismatch], no pod.
//  3. If the template has a required node affinity and node matches none of
//     its terms: [NodeAffinityMismatch], no pod. Within a term, the
//     matchExpressions and matchFields are ANDed; the terms are ORed. A term
//     that does not parse, or is empty, matches no node; zero terms match no
//     node. A nil requiredDuringSchedulingIgnoredDuringExecution matches
//     every node. matchFields are ignored for a node without a name.
//  4. Taints with effect NoSchedule or NoExecute must be tolerated by the
//     pod's tolerations: the template's plus the daemon defaults (see
//     [Evaluator.NewPod]). Other effects (PreferNoSchedule) are ignored. An
//     untolerated NoExecute taint: [UntoleratedNoExecuteTaint], no pod. Else
//     an untolerated NoSchedule taint: [UntoleratedTaint], no new pod but an
//     existing one stays.
//  5. Otherwise [Eligible]: run.
//
// A nil node yields the zero Decision. Evaluate does not allocate; the
// returned Decision's Taint points into node.
func (e *Evaluator) Evaluate(node *corev1.Node) Decision {
	if node == nil {
		return Decision{}
	}
	if e.nodeName != "" && e.nodeName != node.Name {
		return Decision{Reason: NodeNameMismatch}
	}
	// Without an affinity, component-helpers' RequiredNodeAffinity only
	// matches the nodeSelector labels and does not allocate.
	if e.hasNodeSelector {
		if ok, _ := e.nodeSelector.Match(node); !ok {
			return Decision{Reason: NodeSelectorMismatch}
		}
	}
	if e.required && !e.matchesTerms(node) {
		return Decision{Reason: NodeAffinityMismatch}
	}
	return e.taintDecision(node)
}

// taintDecision is Evaluate's last two rules, for a node that passed the
// others.
func (e *Evaluator) taintDecision(node *corev1.Node) Decision {
	var noSchedule *corev1.Taint
	for i := range node.Spec.Taints {
		t := &node.Spec.Taints[i]
		if t.Effect != corev1.TaintEffectNoSchedule && t.Effect != corev1.TaintEffectNoExecute {
			continue
		}
		tolerations := e.tolerate
		if len(e.tolerateText) != len(tolerations) && !isDecimalInt64(t.Value) {
			tolerations = e.tolerateText // no Lt or Gt toleration tolerates t
		}
		// The zero klog.Logger discards anything ToleratesTaint logs.
		if corev1helpers.TolerationsTolerateTaint(klog.Logger{}, tolerations, t, e.comparisonOps) {
			continue
		}
		if t.Effect == corev1.TaintEffectNoExecute {
			return Decision{Reason: UntoleratedNoExecuteTaint, Taint: t}
		}
		if noSchedule == nil {
			noSchedule = t
		}
	}
	if noSchedule != nil {
		return Decision{Reason: UntoleratedTaint, Taint: noSchedule}
	}
	return Decision{Reason: Eligible}
}

func (e *Evaluator) matchesTerms(node *corev1.Node) bool {
	for i := range e.terms {
		if e.terms[i].matches(node) {
			return true
		}
	}
	return false
}

// selectorTerm is one usable node selector term, compiled by compileTerm.
//
// Why not nodeaffinity's own Match: LazyErrorNodeSelector.Match builds a
// fields.Set for every node it matches (two allocations per node, measured),
// even for terms without matchFields; and labels.Requirement.Matches reaches
// the node's labels through two interface calls and a string switch per
// requirement, about twice the cost of the map lookup itself. The daemon
// controller evaluates every node of the cluster in each sync, so:
//
//   - component-helpers' parse of the whole selector reports the terms that
//     do not parse (compileTerms), and compileTerm drops the same ones;
//   - requirements are built with labels.NewRequirement and
//     fields.OneTermEqualSelector / OneTermNotEqualSelector, as nodeaffinity
//     builds them;
//   - In, NotIn, Exists and DoesNotExist, the set operators, are matched here
//     with a direct map lookup; Gt and Lt are left to
//     labels.Requirement.Matches once the node's label is known to be an
//     integer (otherwise it does not match, and Matches would allocate to
//     log that);
//   - matchFields read the node's name through nodeFields instead of a map.
//
// TestTermsMatchLikeNodeAffinity, TestMatchesUpstream and FuzzPlacement
// compare the result with nodeaffinity's RequiredNodeAffinity on random
// selectors and nodes.
type selectorTerm struct {
	labels []labelmatch.Requirement // ANDed; empty when the term has no matchExpressions
	fields fields.Selector          // nil when the term has no matchFields
}

func (t *selectorTerm) matches(node *corev1.Node) bool {
	return labelmatch.Matches(t.labels, node.Labels) && t.fieldsMatch(node)
}

// fieldsMatch reports whether node satisfies t's matchFields. As
// nodeaffinity: a node without a name has no fields, and then matchFields
// are not checked at all.
func (t *selectorTerm) fieldsMatch(node *corev1.Node) bool {
	return t.fields == nil || node.Name == "" || t.fields.Matches((*nodeFields)(node))
}

// nodeFields exposes a node's fields (only metadata.name, as nodeaffinity)
// as fields.Fields. Being a pointer, it converts to the interface without
// allocating.
type nodeFields corev1.Node

func (n *nodeFields) Has(f string) bool { return f == metav1.ObjectNameField && n.Name != "" }

func (n *nodeFields) Get(f string) string {
	if f == metav1.ObjectNameField {
		return n.Name
	}
	return ""
}

// nodeSelectorOperators maps node selector operators to label selector
// operators, as nodeaffinity does for matchExpressions.
var nodeSelectorOperators = map[corev1.NodeSelectorOperator]selection.Operator{
	corev1.NodeSelectorOpIn:           selection.In,
	corev1.NodeSelectorOpNotIn:        selection.NotIn,
	corev1.NodeSelectorOpExists:       selection.Exists,
	corev1.NodeSelectorOpDoesNotExist: selection.DoesNotExist,
	corev1.NodeSelectorOpGt:           selection.GreaterThan,
	corev1.NodeSelectorOpLt:           selection.LessThan,
}

// compileTerms returns the usable terms of ns and warnings for the rest:
// empty terms and terms component-helpers cannot parse match no node, and are
// dropped.
func compileTerms(ns *corev1.NodeSelector) ([]selectorTerm, []Warning) {
	var warnings []Warning
	termsPath := requiredAffinityPath.Child("nodeSelectorTerms")
	if len(ns.NodeSelectorTerms) == 0 {
		warnings = append(warnings, Warning{Field: termsPath.String(), Message: "no terms: the required node affinity matches no node"})
	}
	// One strict parse of the whole selector gives every error with its
	// exact path; kube-controller-manager parses the same lazily and drops
	// the broken terms.
	if _, err := nodeaffinity.NewNodeSelector(ns, field.WithPath(requiredAffinityPath)); err != nil {
		for _, fe := range fieldErrors(err, requiredAffinityPath) {
			warnings = append(warnings, Warning{Field: fe.Field, Message: fe.ErrorBody() + ": the term matches no node"})
		}
	}
	var terms []selectorTerm
	for i := range ns.NodeSelectorTerms {
		term := &ns.NodeSelectorTerms[i]
		if len(term.MatchExpressions) == 0 && len(term.MatchFields) == 0 {
			warnings = append(warnings, Warning{Field: termsPath.Index(i).String(), Message: "empty term: matches no node"})
			continue
		}
		// A term that does not parse was reported above.
		if t, ok := compileTerm(term); ok {
			terms = append(terms, t)
		}
	}
	return terms, warnings
}

// compileTerm builds a term with the constructors and checks component-
// helpers' nodeaffinity uses (nodeSelectorRequirementsAsSelector and
// nodeSelectorRequirementsAsFieldSelector), so it fails exactly where that
// parse fails: such a term is dropped, which is what nodeaffinity does with
// a term it cannot parse. (TestTermsMatchLikeNodeAffinity and FuzzPlacement
// hold the two to the same answers on invalid keys, values and operators.)
func compileTerm(term *corev1.NodeSelectorTerm) (selectorTerm, bool) {
	var t selectorTerm
	for _, expr := range term.MatchExpressions {
		op, ok := nodeSelectorOperators[expr.Operator]
		if !ok {
			return selectorTerm{}, false
		}
		// The Evaluator's own copy of the template: the values can be shared.
		r, err := labels.NewRequirement(expr.Key, op, expr.Values)
		if err != nil {
			return selectorTerm{}, false
		}
		t.labels = append(t.labels, labelmatch.Compile(r))
	}
	if len(term.MatchFields) > 0 {
		sels := make([]fields.Selector, 0, len(term.MatchFields))
		for _, expr := range term.MatchFields {
			if len(expr.Values) != 1 {
				return selectorTerm{}, false
			}
			switch expr.Operator {
			case corev1.NodeSelectorOpIn:
				sels = append(sels, fields.OneTermEqualSelector(expr.Key, expr.Values[0]))
			case corev1.NodeSelectorOpNotIn:
				sels = append(sels, fields.OneTermNotEqualSelector(expr.Key, expr.Values[0]))
			default:
				return selectorTerm{}, false
			}
		}
		t.fields = fields.AndSelectors(sels...)
	}
	return t, true
}

// fieldErrors flattens an error from nodeaffinity or labels (documented as
// aggregates of *field.Error) into field errors. Anything else becomes an
// Invalid error at fallback.
func fieldErrors(err error, fallback *field.Path) field.ErrorList {
	var out field.ErrorList
	var walk func(error)
	walk = func(err error) {
		var agg utilerrors.Aggregate
		var fe *field.Error
		switch {
		case errors.As(err, &agg):
			for _, e := range agg.Errors() {
				walk(e)
			}
		case errors.As(err, &fe):
			out = append(out, fe)
		default:
			out = append(out, field.Invalid(fallback, nil, err.Error()))
		}
	}
	walk(err)
	return out
}

// tolerationWarnings reports template tolerations that tolerate nothing in
// kube-controller-manager although the user likely meant them to.
func tolerationWarnings(tolerations []corev1.Toleration, opts Options) []Warning {
	var warnings []Warning
	for i := range tolerations {
		t := &tolerations[i]
		p := tolerationsPath.Index(i)
		switch t.Operator {
		case "", corev1.TolerationOpEqual, corev1.TolerationOpExists:
		case corev1.TolerationOpLt, corev1.TolerationOpGt:
			if !opts.TaintTolerationComparisonOperators {
				warnings = append(warnings, Warning{
					Field:   p.Child("operator").String(),
					Message: "operator " + string(t.Operator) + " tolerates nothing while TaintTolerationComparisonOperators is off",
				})
			} else if !isDecimalInt64(t.Value) {
				warnings = append(warnings, Warning{
					Field:   p.Child("value").String(),
					Message: strconv.Quote(t.Value) + " is not a decimal integer that fits an int64: the toleration tolerates nothing",
				})
			}
		default:
			warnings = append(warnings, Warning{
				Field:   p.Child("operator").String(),
				Message: "unknown operator " + strconv.Quote(string(t.Operator)) + ": the toleration tolerates nothing",
			})
		}
	}
	return warnings
}

// daemonTolerations are the tolerations kube-controller-manager gives every
// daemon pod (util.AddOrUpdateDaemonPodTolerations), in its order: daemon
// pods survive node problems and cordoning.
var daemonTolerations = []corev1.Toleration{
	{Key: corev1.TaintNodeNotReady, Operator: corev1.TolerationOpExists, Effect: corev1.TaintEffectNoExecute},
	{Key: corev1.TaintNodeUnreachable, Operator: corev1.TolerationOpExists, Effect: corev1.TaintEffectNoExecute},
	{Key: corev1.TaintNodeDiskPressure, Operator: corev1.TolerationOpExists, Effect: corev1.TaintEffectNoSchedule},
	{Key: corev1.TaintNodeMemoryPressure, Operator: corev1.TolerationOpExists, Effect: corev1.TaintEffectNoSchedule},
	{Key: corev1.TaintNodePIDPressure, Operator: corev1.TolerationOpExists, Effect: corev1.TaintEffectNoSchedule},
	{Key: corev1.TaintNodeUnschedulable, Operator: corev1.TolerationOpExists, Effect: corev1.TaintEffectNoSchedule},
}

// hostNetworkToleration is added after daemonTolerations for pods on the
// host network, which do not need the node's pod network.
var hostNetworkToleration = corev1.Toleration{Key: corev1.TaintNodeNetworkUnavailable, Operator: corev1.TolerationOpExists, Effect: corev1.TaintEffectNoSchedule}

// daemonPodTolerations returns a new slice: tolerations with each daemon
// toleration added, as kube-controller-manager v1.37.2 does it. For each
// default in turn, every existing toleration with the same key, operator,
// value and effect (Toleration.MatchToleration) is replaced by the default in
// place, dropping its tolerationSeconds; if there is none, the default is
// appended. (Upstream's "already present, leave unchanged" shortcut compares
// a *Toleration with a Toleration and so never fires; replacing an identical
// toleration changes nothing, but duplicates are all replaced.) tolerations
// is not modified; TolerationSeconds pointers of kept entries are shared.
func daemonPodTolerations(tolerations []corev1.Toleration, hostNetwork bool) []corev1.Toleration {
	out := slices.Clone(tolerations)
	add := func(d corev1.Toleration) {
		replaced := false
		for i := range out {
			if d.MatchToleration(&out[i]) {
				out[i] = d
				replaced = true
			}
		}
		if !replaced {
			out = append(out, d)
		}
	}
	for _, d := range daemonTolerations {
		add(d)
	}
	if hostNetwork {
		add(hostNetworkToleration)
	}
	return out
}

// isDecimalInt64 reports whether s is what Toleration.ToleratesTaint accepts
// as an Lt or Gt operand: a decimal integer in canonical form
// (content.IsDecimalInteger: "0", or an optional "-" and digits without a
// leading zero) that strconv.ParseInt accepts as an int64. Unlike those two,
// it does not allocate when s is not one.
func isDecimalInt64(s string) bool {
	digits := strings.TrimPrefix(s, "-")
	switch {
	case digits == "" || digits[0] < '0' || digits[0] > '9':
		return false
	case digits[0] == '0':
		return s == "0"
	}
	return labelmatch.IsInt64(s)
}
