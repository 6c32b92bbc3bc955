package snapshot

import (
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
)

const rcGVisor = "apiVersion: node.k8s.io/v1\nkind: RuntimeClass\nmetadata:\n  name: gvisor\nhandler: runsc\noverhead:\n  podFixed: {cpu: 250m, memory: 120Mi}\n"

// allSummary is what the DecodeAll tests compare: kinds and names in order.
type allSummary struct {
	DaemonSet      string
	DaemonSets     []string
	Nodes          []string
	Pods           []string
	Revisions      []string
	RuntimeClasses []string
	Warnings       []string
}

func summarizeAll(o Objects) allSummary {
	s := summarize(o)
	out := allSummary{DaemonSet: s.DaemonSet, Nodes: s.Nodes, Pods: s.Pods, Revisions: s.Revisions, Warnings: s.Warnings}
	for _, ds := range o.DaemonSets {
		out.DaemonSets = append(out.DaemonSets, ds.Namespace+"/"+ds.Name)
	}
	for _, rc := range o.RuntimeClasses {
		out.RuntimeClasses = append(out.RuntimeClasses, rc.Name)
	}
	return out
}

func TestDecodeAll(t *testing.T) {
	other := strings.Replace(dsYAML, "name: fluentd\n  namespace", "name: other\n  namespace", 1)
	tests := []struct {
		name  string
		input string
		want  allSummary
	}{
		{name: "empty", input: "", want: allSummary{}},
		{name: "no DaemonSet", input: listYAML(nodeA), want: allSummary{Nodes: []string{"a"}}},
		{name: "one DaemonSet", input: listYAML(dsYAML, nodeA), want: allSummary{DaemonSets: []string{"kube-system/fluentd"}, Nodes: []string{"a"}}},
		{
			name:  "DaemonSets in input order",
			input: listYAML(other, nodeA, dsYAML, podX, revR),
			want: allSummary{
				DaemonSets: []string{"kube-system/other", "kube-system/fluentd"},
				Nodes:      []string{"a"}, Pods: []string{"x"}, Revisions: []string{"fluentd-1"},
			},
		},
		{
			name:  "documents and typed lists",
			input: dsYAML + "---\n" + strings.Replace(listYAML(other, dsYAML), "kind: List", "kind: DaemonSetList", 1) + "---\n" + nodeB,
			want:  allSummary{DaemonSets: []string{"kube-system/fluentd", "kube-system/other", "kube-system/fluentd"}, Nodes: []string{"b"}},
		},
		{
			name:  "RuntimeClasses and skipped kinds",
			input: listYAML(rcGVisor, dsYAML, svc),
			want: allSummary{
				DaemonSets: []string{"kube-system/fluentd"}, RuntimeClasses: []string{"gvisor"},
				Warnings: []string{`items[2] (Service "web"): skipped: dsplan reads no v1 Service`},
			},
		},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			got, err := DecodeAll([]byte(tc.input))
			if err != nil {
				t.Fatalf("DecodeAll() error: %v", err)
			}
			if diff := cmp.Diff(tc.want, summarizeAll(got)); diff != "" {
				t.Errorf("DecodeAll() mismatch (-want +got):\n%s", diff)
			}
		})
	}
}

func TestDecodeAllRuntimeClassFields(t *testing.T) {
	got, err := DecodeAll([]byte(listYAML(rcGVisor)))
	if err != nil {
		t.Fatalf("DecodeAll() error: %v", err)
	}
	rc := got.RuntimeClasses[0]
	if rc.Handler != "runsc" || rc.Overhead == nil || rc.Overhead.PodFixed.Cpu().String() != "250m" {
		t.Errorf("DecodeAll() RuntimeClass = %+v, want handler runsc and overhead cpu 250m", rc)
	}
}

// TestDecodeSkipsRuntimeClasses: Decode keeps its rules, RuntimeClasses
// are one of the kinds it skips.
func TestDecodeSkipsRuntimeClasses(t *testing.T) {
	got, err := Decode([]byte(listYAML(dsYAML, rcGVisor)))
	if err != nil {
		t.Fatalf("Decode() error: %v", err)
	}
	want := allSummary{
		DaemonSet: "kube-system/fluentd",
		Warnings:  []string{`items[1] (RuntimeClass "gvisor"): skipped: dsplan reads no node.k8s.io/v1 RuntimeClass`},
	}
	if diff := cmp.Diff(want, summarizeAll(got)); diff != "" {
		t.Errorf("Decode() mismatch (-want +got):\n%s", diff)
	}
}

func TestDecodeAllErrors(t *testing.T) {
	tests := []struct {
		name  string
		input string
		want  string
	}{
		{
			name:  "wrong RuntimeClass apiVersion",
			input: listYAML(strings.Replace(rcGVisor, "node.k8s.io/v1", "node.k8s.io/v1beta1", 1)),
			want:  `items[0] (RuntimeClass "gvisor"): apiVersion "node.k8s.io/v1beta1", want "node.k8s.io/v1" for kind RuntimeClass`,
		},
		{
			name:  "wrong field type in the second DaemonSet",
			input: listYAML(dsYAML, "apiVersion: apps/v1\nkind: DaemonSet\nmetadata:\n  name: b\nspec: 3\n"),
			want:  `items[1] (DaemonSet "b"): json: cannot unmarshal number into Go struct field DaemonSet.spec of type v1.DaemonSetSpec`,
		},
		{name: "YAML syntax", input: "a: [\n", want: "document 0: error converting YAML to JSON: yaml: line 1: did not find expected node content"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			got, err := DecodeAll([]byte(tc.input))
			if err == nil {
				t.Fatalf("DecodeAll() = %+v, want error %q", summarizeAll(got), tc.want)
			}
			if err.Error() != tc.want {
				t.Errorf("DecodeAll() error:\n got %s\nwant %s", err, tc.want)
			}
			if diff := cmp.Diff(allSummary{}, summarizeAll(got)); diff != "" {
				t.Errorf("DecodeAll() with error returned objects (-want +got):\n%s", diff)
			}
		})
	}
}

func TestNormalizeDecodeAll(t *testing.T) {
	objs, err := DecodeAll([]byte(listYAML(dsYAML, rcGVisor, dsYAML)))
	if err != nil {
		t.Fatalf("DecodeAll() error: %v", err)
	}
	got := mustNormalize(t, objs)
	if len(got.DaemonSets) != 2 || len(got.RuntimeClasses) != 1 {
		t.Fatalf("Normalize() = %+v, want 2 DaemonSets and 1 RuntimeClass", summarizeAll(got))
	}
	for i, ds := range got.DaemonSets {
		if ds == objs.DaemonSets[i] {
			t.Errorf("Normalize() DaemonSets[%d] is its input, want a new object", i)
		}
		if args := ds.Spec.Template.Spec.Containers[0].Args; args != nil {
			t.Errorf("Normalize() DaemonSets[%d] args = %#v, want nil", i, args)
		}
	}
	if objs.DaemonSets[0].Spec.Template.Spec.Containers[0].Args == nil {
		t.Errorf("Normalize() mutated its input")
	}
	want := objs.RuntimeClasses[0].DeepCopy()
	want.TypeMeta = metav1.TypeMeta{}
	if diff := cmp.Diff(want, got.RuntimeClasses[0]); diff != "" {
		t.Errorf("Normalize() RuntimeClass mismatch (-want +got):\n%s", diff)
	}
}
