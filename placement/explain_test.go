package placement

import (
	"testing"

	corev1 "k8s.io/api/core/v1"
	"pgregory.net/rapid"
)

func TestExplain(t *testing.T) {
	for _, tc := range []struct {
		name  string
		ds    func(*corev1.PodSpec)
		node  *corev1.Node
		field string
		want  string
	}{
		{name: "eligible", node: node("n", nil), want: "run: node is eligible"},
		{name: "nil node", want: "no pod: the node does not exist"},
		{name: "node name", ds: func(s *corev1.PodSpec) { s.NodeName = "other" }, node: node("n", nil),
			field: "spec.template.spec.nodeName", want: `no pod: the template's nodeName is "other"`},
		{name: "selector value", ds: func(s *corev1.PodSpec) { s.NodeSelector = map[string]string{"b": "1", "a": "x"} }, node: node("n", map[string]string{"a": "y"}),
			field: "spec.template.spec.nodeSelector[a]", want: "no pod: nodeSelector wants a=x, node has a=y"},
		{name: "selector key missing", ds: func(s *corev1.PodSpec) { s.NodeSelector = map[string]string{"b": "1", "a": "x"} }, node: node("n", map[string]string{"a": "x"}),
			field: "spec.template.spec.nodeSelector[b]", want: "no pod: nodeSelector wants b=1, node has no b label"},
		{name: "affinity terms", ds: func(s *corev1.PodSpec) {
			s.Affinity = required(exprs(req("zone", corev1.NodeSelectorOpIn, "a", "b")), exprs(req("gpu", corev1.NodeSelectorOpExists), req("zone", corev1.NodeSelectorOpIn, "c")),
				nameIs(corev1.NodeSelectorOpIn, "other"), exprs(req("k", "Bogus")), corev1.NodeSelectorTerm{})
		}, node: node("n", map[string]string{"zone": "c"}),
			field: "spec.template.spec.affinity.nodeAffinity.requiredDuringSchedulingIgnoredDuringExecution.nodeSelectorTerms",
			want: `no pod: required node affinity: term 0: zone In [a b] fails (matchExpressions[0]), node has zone=c; ` +
				`term 1: gpu Exists [] fails (matchExpressions[0]), node has no gpu label; ` +
				`term 2: metadata.name In [other] fails (matchFields[0]), node is "n"; term 3: does not parse, matches no node; term 4: empty, matches no node`},
		{name: "NoSchedule", node: node("n", nil, taint("dedicated", "db", corev1.TaintEffectNoSchedule)),
			field: "spec.template.spec.tolerations", want: "no new pod; a pod already there may stay: untolerated taint dedicated=db:NoSchedule"},
		{name: "NoExecute", node: node("n", nil, taint("dedicated", "db", corev1.TaintEffectNoExecute)),
			field: "spec.template.spec.tolerations", want: "no pod: untolerated taint dedicated=db:NoExecute"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			ds := fluentd()
			if tc.ds != nil {
				tc.ds(&ds.Spec.Template.Spec)
			}
			x := New(ds, Options{}).Explain(tc.node)
			if got := x.String(); got != tc.want {
				t.Errorf("Explain().String() = %q\nwant %q", got, tc.want)
			}
			if x.Field != tc.field {
				t.Errorf("Explain().Field = %q, want %q", x.Field, tc.field)
			}
		})
	}
}

// TestExplainIsEvaluate: Explain's decision is Evaluate's, and it names a
// rule exactly when the node is not eligible.
func TestExplainIsEvaluate(t *testing.T) {
	rapid.Check(t, func(t *rapid.T) {
		ds := genDaemonSet.Draw(t, "ds")
		e := New(ds, genOptions.Draw(t, "opts"))
		n := genNode.Draw(t, "node")
		x := e.Explain(n)
		if x.Decision != e.Evaluate(n) {
			t.Fatalf("Explain = %+v, Evaluate = %+v", x.Decision, e.Evaluate(n))
		}
		if (x.Field == "") != (x.Reason == Eligible) || (x.Detail == "") != (x.Reason == Eligible) {
			t.Fatalf("Explain = %+v: a rule and detail must be named exactly for an ineligible node", x)
		}
	})
}
