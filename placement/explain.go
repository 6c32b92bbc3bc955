package placement

import (
	"fmt"
	"maps"
	"slices"
	"strings"

	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/labels"
)

// Explanation is a [Decision] with its exact cause: the rule of the
// DaemonSet the node failed, as a field path, and what of the node failed
// it.
type Explanation struct {
	Decision
	// Field is the path of the DaemonSet's rule the node failed, e.g.
	// "spec.template.spec.nodeSelector[disktype]"; "" for an eligible node.
	Field string
	// Detail says, in words, the rule and what of the node fails it, e.g.
	// "nodeSelector wants disktype=ssd, node has disktype=hdd"; "" for an
	// eligible node.
	Detail string
}

// String is one line: the verdict and Detail, e.g. "no pod: nodeSelector
// wants disktype=ssd, node has disktype=hdd", or the Decision's String
// without a Detail.
func (x Explanation) String() string {
	if x.Detail == "" {
		return x.Decision.String()
	}
	return x.verdict() + ": " + x.Detail
}

// Explain is Evaluate with the cause spelt out: which nodeSelector key,
// which term of the required node affinity and which of its requirements,
// which taint. Where several rules fail, the one Evaluate reports is
// explained: for the nodeSelector the first failing key in key order; for
// the affinity every term, each with its first failing requirement. It
// allocates; call it for the nodes you explain, not in a hot loop.
func (e *Evaluator) Explain(node *corev1.Node) Explanation {
	d := e.Evaluate(node)
	x := Explanation{Decision: d}
	spec := &e.template.Spec
	switch d.Reason {
	case NotEvaluated:
		x.Detail = "the node does not exist"
	case NodeNameMismatch:
		x.Field = templateSpecPath.Child("nodeName").String()
		x.Detail = fmt.Sprintf("the template's nodeName is %q", spec.NodeName)
	case NodeSelectorMismatch:
		for _, k := range slices.Sorted(maps.Keys(spec.NodeSelector)) {
			want := spec.NodeSelector[k]
			got, ok := node.Labels[k]
			if ok && got == want {
				continue
			}
			x.Field = templateSpecPath.Child("nodeSelector").Key(k).String()
			if ok {
				x.Detail = fmt.Sprintf("nodeSelector wants %s=%s, node has %s=%s", k, want, k, got)
			} else {
				x.Detail = fmt.Sprintf("nodeSelector wants %s=%s, node has no %s label", k, want, k)
			}
			break
		}
	case NodeAffinityMismatch:
		x.Field = requiredAffinityPath.Child("nodeSelectorTerms").String()
		x.Detail = "required node affinity: " + e.explainTerms(node)
	case UntoleratedTaint, UntoleratedNoExecuteTaint:
		x.Field = tolerationsPath.String()
		if d.Taint != nil {
			x.Detail = "untolerated taint " + d.Taint.ToString()
		}
	}
	return x
}

// explainTerms says why node matches none of the required node affinity's
// terms: for each term, its first failing requirement.
func (e *Evaluator) explainTerms(node *corev1.Node) string {
	a := e.template.Spec.Affinity
	if a == nil || a.NodeAffinity == nil || a.NodeAffinity.RequiredDuringSchedulingIgnoredDuringExecution == nil {
		return ""
	}
	terms := a.NodeAffinity.RequiredDuringSchedulingIgnoredDuringExecution.NodeSelectorTerms
	if len(terms) == 0 {
		return "no terms, which match no node"
	}
	var parts []string
	for i, term := range terms {
		parts = append(parts, fmt.Sprintf("term %d: %s", i, explainTerm(&term, node)))
	}
	return strings.Join(parts, "; ")
}

// explainTerm names the first requirement of term node fails.
func explainTerm(term *corev1.NodeSelectorTerm, node *corev1.Node) string {
	if len(term.MatchExpressions) == 0 && len(term.MatchFields) == 0 {
		return "empty, matches no node"
	}
	if _, ok := compileTerm(term); !ok {
		return "does not parse, matches no node"
	}
	for j, expr := range term.MatchExpressions {
		r, err := labels.NewRequirement(expr.Key, nodeSelectorOperators[expr.Operator], expr.Values)
		if err != nil || r.Matches(labels.Set(node.Labels)) {
			continue
		}
		have := "no " + expr.Key + " label"
		if v, ok := node.Labels[expr.Key]; ok {
			have = expr.Key + "=" + v
		}
		return fmt.Sprintf("%s %s %v fails (matchExpressions[%d]), node has %s", expr.Key, expr.Operator, expr.Values, j, have)
	}
	for j, expr := range term.MatchFields {
		if node.Name == "" || expr.Key != metav1.ObjectNameField || len(expr.Values) != 1 {
			continue
		}
		in := node.Name == expr.Values[0]
		if in == (expr.Operator == corev1.NodeSelectorOpIn) {
			continue
		}
		return fmt.Sprintf("%s %s %v fails (matchFields[%d]), node is %q", expr.Key, expr.Operator, expr.Values, j, node.Name)
	}
	return "no requirement fails"
}
