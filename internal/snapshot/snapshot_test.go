package snapshot

import (
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"
	appsv1 "k8s.io/api/apps/v1"
	corev1 "k8s.io/api/core/v1"
	"k8s.io/apimachinery/pkg/api/resource"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
)

const dsYAML = `apiVersion: apps/v1
kind: DaemonSet
metadata:
  name: fluentd
  namespace: kube-system
spec:
  selector:
    matchLabels: {name: fluentd}
  template:
    metadata:
      labels: {name: fluentd}
    spec:
      containers:
      - name: fluentd
        image: fluentd:v2
        args: []
`

// summary is what the decode tests compare: kinds and names in order.
type summary struct {
	DaemonSet string
	Nodes     []string
	Pods      []string
	Revisions []string
	Warnings  []string
}

func summarize(o Objects) summary {
	var s summary
	if o.DaemonSet != nil {
		s.DaemonSet = o.DaemonSet.Namespace + "/" + o.DaemonSet.Name
	}
	for _, n := range o.Nodes {
		s.Nodes = append(s.Nodes, n.Name)
	}
	for _, p := range o.Pods {
		s.Pods = append(s.Pods, p.Name)
	}
	for _, r := range o.Revisions {
		s.Revisions = append(s.Revisions, r.Name)
	}
	s.Warnings = o.Warnings
	return s
}

func indent(s string, n int) string {
	pad := strings.Repeat(" ", n)
	lines := strings.Split(strings.TrimRight(s, "\n"), "\n")
	for i := range lines {
		lines[i] = pad + lines[i]
	}
	return strings.Join(lines, "\n") + "\n"
}

func listYAML(items ...string) string {
	var b strings.Builder
	b.WriteString("apiVersion: v1\nkind: List\nmetadata:\n  resourceVersion: \"\"\nitems:\n")
	for _, it := range items {
		in := indent(it, 2)
		b.WriteString("- " + in[2:])
	}
	return b.String()
}

const (
	nodeA = "apiVersion: v1\nkind: Node\nmetadata:\n  name: a\n"
	nodeB = "apiVersion: v1\nkind: Node\nmetadata:\n  name: b\n"
	podX  = "apiVersion: v1\nkind: Pod\nmetadata:\n  name: x\n  namespace: kube-system\nspec:\n  nodeName: a\n"
	revR  = "apiVersion: apps/v1\nkind: ControllerRevision\nmetadata:\n  name: fluentd-1\nrevision: 1\n"
	svc   = "apiVersion: v1\nkind: Service\nmetadata:\n  name: web\n"
)

func TestDecode(t *testing.T) {
	full := summary{
		DaemonSet: "kube-system/fluentd",
		Nodes:     []string{"a", "b"},
		Pods:      []string{"x"},
		Revisions: []string{"fluentd-1"},
	}
	tests := []struct {
		name  string
		input string
		want  summary
	}{
		{name: "kubectl List", input: listYAML(dsYAML, nodeA, nodeB, podX, revR), want: full},
		{name: "documents", input: dsYAML + "---\n" + nodeA + "---\n" + nodeB + "---\n" + podX + "---\n" + revR, want: full},
		{
			name:  "typed lists",
			input: dsYAML + "---\n" + strings.Replace(listYAML(nodeA, nodeB), "kind: List", "kind: NodeList", 1) + "---\n" + listYAML(podX, revR),
			want:  full,
		},
		{
			name:  "JSON List",
			input: `{"apiVersion":"v1","kind":"List","items":[` + jsonDS + `,{"apiVersion":"v1","kind":"Node","metadata":{"name":"a"}},{"apiVersion":"v1","kind":"Node","metadata":{"name":"b"}},{"apiVersion":"v1","kind":"Pod","metadata":{"name":"x"}},{"apiVersion":"apps/v1","kind":"ControllerRevision","metadata":{"name":"fluentd-1"}}]}`,
			want:  full,
		},
		{
			name:  "JSON stream",
			input: jsonDS + "\n" + `{"apiVersion":"v1","kind":"Node","metadata":{"name":"a"}}{"apiVersion":"v1","kind":"Node","metadata":{"name":"b"}}` + "\n" + `{"apiVersion":"v1","kind":"List","items":[{"apiVersion":"v1","kind":"Pod","metadata":{"name":"x"}},{"apiVersion":"apps/v1","kind":"ControllerRevision","metadata":{"name":"fluentd-1"}}]}`,
			want:  full,
		},
		{
			name:  "nested list and null items",
			input: `{"apiVersion":"v1","kind":"List","items":[null,{"apiVersion":"v1","kind":"List","items":[` + jsonDS + `]}]}`,
			want:  summary{DaemonSet: "kube-system/fluentd"},
		},
		{
			name:  "empty documents are skipped",
			input: "---\n---\n" + dsYAML + "---\n",
			want:  summary{DaemonSet: "kube-system/fluentd"},
		},
		{
			name:  "unknown kinds are skipped with a warning",
			input: listYAML(svc, dsYAML, "apiVersion: apps/v1\nkind: Deployment\nmetadata:\n  name: web\n"),
			want: summary{DaemonSet: "kube-system/fluentd", Warnings: []string{
				`items[0] (Service "web"): skipped: dsplan reads no v1 Service`,
				`items[2] (Deployment "web"): skipped: dsplan reads no apps/v1 Deployment`,
			}},
		},
		{
			name:  "warning in a stream names the document",
			input: dsYAML + "---\n" + svc,
			want:  summary{DaemonSet: "kube-system/fluentd", Warnings: []string{`document 1 (Service "web"): skipped: dsplan reads no v1 Service`}},
		},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			got, err := Decode([]byte(tc.input))
			if err != nil {
				t.Fatalf("Decode() error: %v", err)
			}
			if diff := cmp.Diff(tc.want, summarize(got)); diff != "" {
				t.Errorf("Decode() mismatch (-want +got):\n%s", diff)
			}
		})
	}
}

const jsonDS = `{"apiVersion":"apps/v1","kind":"DaemonSet","metadata":{"name":"fluentd","namespace":"kube-system"}}`

func TestDecodeFields(t *testing.T) {
	got, err := Decode([]byte(listYAML(dsYAML, podX)))
	if err != nil {
		t.Fatalf("Decode() error: %v", err)
	}
	if got.DaemonSet.Spec.Template.Spec.Containers[0].Args == nil {
		t.Errorf("Decode() args = nil, want the explicit empty list (Normalize drops it, Decode must not)")
	}
	if got, want := got.Pods[0].Spec.NodeName, "a"; got != want {
		t.Errorf("Decode() pod nodeName = %q, want %q", got, want)
	}
	if got, want := got.DaemonSet.Spec.Selector.MatchLabels["name"], "fluentd"; got != want {
		t.Errorf("Decode() selector = %q, want %q", got, want)
	}
}

func TestDecodeErrors(t *testing.T) {
	tests := []struct {
		name  string
		input string
		want  string // the error message
	}{
		{name: "empty", input: "", want: "no apps/v1 DaemonSet in the input"},
		{name: "no DaemonSet", input: listYAML(nodeA), want: "no apps/v1 DaemonSet in the input"},
		{
			name:  "two DaemonSets",
			input: listYAML(dsYAML, nodeA, strings.Replace(dsYAML, "name: fluentd\n  namespace", "name: other\n  namespace", 1)),
			want:  `2 DaemonSets in the input (items[0] (DaemonSet "fluentd"), items[2] (DaemonSet "other")), want exactly one`,
		},
		{
			name:  "wrong field type",
			input: listYAML(dsYAML, nodeA, nodeB, "apiVersion: v1\nkind: Pod\nmetadata:\n  name: x\nspec:\n  nodeName: [a]\n"),
			want:  `items[3] (Pod "x"): json: cannot unmarshal array into Go struct field PodSpec.spec.nodeName of type string`,
		},
		{
			name:  "wrong field type in a stream",
			input: dsYAML + "---\napiVersion: v1\nkind: Node\nmetadata:\n  name: node1\n  labels: 3\n",
			want:  `document 1 (Node "node1"): json: cannot unmarshal number into Go struct field ObjectMeta.metadata.labels of type map[string]string`,
		},
		{
			name:  "wrong apiVersion",
			input: listYAML(strings.Replace(dsYAML, "apps/v1", "extensions/v1beta1", 1)),
			want:  `items[0] (DaemonSet "fluentd"): apiVersion "extensions/v1beta1", want "apps/v1" for kind DaemonSet`,
		},
		{
			name:  "missing apiVersion",
			input: listYAML(dsYAML, "kind: Node\nmetadata:\n  name: a\n"),
			want:  `items[1] (Node "a"): apiVersion "", want "v1" for kind Node`,
		},
		{name: "no kind", input: listYAML(dsYAML, "metadata:\n  name: a\n"), want: `items[1] ("a"): no kind: not a Kubernetes object or List`},
		{name: "kind not a string", input: "kind: 3\n", want: "document 0: json: cannot unmarshal number into Go struct field header.kind of type string"},
		{name: "scalar", input: "hello\n", want: "document 0: not a Kubernetes object or List: json: cannot unmarshal string into Go value of type map[string]json.RawMessage"},
		{name: "array", input: "[1, 2]", want: "document 0: not a Kubernetes object or List: json: cannot unmarshal array into Go value of type map[string]json.RawMessage"},
		{name: "items not a list", input: "apiVersion: v1\nkind: List\nitems: 3\n", want: "document 0 (List): items: json: cannot unmarshal number into Go value of type []json.RawMessage"},
		{name: "YAML syntax", input: "a: [\n", want: "document 0: error converting YAML to JSON: yaml: line 1: did not find expected node content"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			got, err := Decode([]byte(tc.input))
			if err == nil {
				t.Fatalf("Decode() = %+v, want error %q", summarize(got), tc.want)
			}
			if err.Error() != tc.want {
				t.Errorf("Decode() error:\n got %s\nwant %s", err, tc.want)
			}
			if diff := cmp.Diff(summary{}, summarize(got)); diff != "" {
				t.Errorf("Decode() with error returned objects (-want +got):\n%s", diff)
			}
		})
	}
}

func TestNormalizeObject(t *testing.T) {
	size := resource.MustParse("1Gi")
	tests := []struct {
		name string
		in   *corev1.Pod
		want *corev1.Pod
	}{
		{name: "nil", in: nil, want: nil},
		{
			name: "empty lists and maps become nil",
			in: &corev1.Pod{
				ObjectMeta: metav1.ObjectMeta{Name: "p", Labels: map[string]string{}, Finalizers: []string{}},
				Spec: corev1.PodSpec{
					Containers:  []corev1.Container{{Name: "c", Args: []string{}, Command: []string{"run"}}},
					Tolerations: []corev1.Toleration{},
				},
			},
			want: &corev1.Pod{
				ObjectMeta: metav1.ObjectMeta{Name: "p"},
				Spec:       corev1.PodSpec{Containers: []corev1.Container{{Name: "c", Command: []string{"run"}}}},
			},
		},
		{
			name: "quantities survive",
			in: &corev1.Pod{Spec: corev1.PodSpec{Volumes: []corev1.Volume{{
				Name: "v", VolumeSource: corev1.VolumeSource{EmptyDir: &corev1.EmptyDirVolumeSource{SizeLimit: &size}},
			}}}},
			want: &corev1.Pod{Spec: corev1.PodSpec{Volumes: []corev1.Volume{{
				Name: "v", VolumeSource: corev1.VolumeSource{EmptyDir: &corev1.EmptyDirVolumeSource{SizeLimit: &size}},
			}}}},
		},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			before := tc.in.DeepCopy()
			got, err := NormalizeObject(tc.in)
			if err != nil {
				t.Fatalf("NormalizeObject() error: %v", err)
			}
			if diff := cmp.Diff(tc.want, got); diff != "" {
				t.Errorf("NormalizeObject() mismatch (-want +got):\n%s", diff)
			}
			if diff := cmp.Diff(before, tc.in); diff != "" {
				t.Errorf("NormalizeObject() mutated its input (-before +after):\n%s", diff)
			}
			if got != nil && got == tc.in {
				t.Errorf("NormalizeObject() returned its input, want a new object")
			}
		})
	}
}

func TestNormalize(t *testing.T) {
	objs, err := Decode([]byte(listYAML(dsYAML, nodeA, podX, revR, svc)))
	if err != nil {
		t.Fatalf("Decode() error: %v", err)
	}
	before := Objects{
		DaemonSet: objs.DaemonSet.DeepCopy(),
		Nodes:     []*corev1.Node{objs.Nodes[0].DeepCopy()},
		Pods:      []*corev1.Pod{objs.Pods[0].DeepCopy()},
		Revisions: []*appsv1.ControllerRevision{objs.Revisions[0].DeepCopy()},
		Warnings:  append([]string(nil), objs.Warnings...),
	}
	got, err := Normalize(objs)
	if err != nil {
		t.Fatalf("Normalize() error: %v", err)
	}
	if diff := cmp.Diff(before, objs); diff != "" {
		t.Errorf("Normalize() mutated its input (-before +after):\n%s", diff)
	}
	if args := got.DaemonSet.Spec.Template.Spec.Containers[0].Args; args != nil {
		t.Errorf("Normalize() args = %#v, want nil", args)
	}
	// The protobuf encoding of an object has no apiVersion and kind, as
	// for objects kube-controller-manager's informers hand out.
	want := before
	want.DaemonSet.Spec.Template.Spec.Containers[0].Args = nil
	want.DaemonSet.TypeMeta = metav1.TypeMeta{}
	want.Nodes[0].TypeMeta = metav1.TypeMeta{}
	want.Pods[0].TypeMeta = metav1.TypeMeta{}
	want.Revisions[0].TypeMeta = metav1.TypeMeta{}
	if diff := cmp.Diff(want, got); diff != "" {
		t.Errorf("Normalize() mismatch (-want +got):\n%s", diff)
	}
	if got.Nodes[0] == objs.Nodes[0] || got.Pods[0] == objs.Pods[0] || got.Revisions[0] == objs.Revisions[0] {
		t.Errorf("Normalize() shares objects with its input")
	}
	if diff := cmp.Diff(Objects{}, mustNormalize(t, Objects{})); diff != "" {
		t.Errorf("Normalize(Objects{}) mismatch (-want +got):\n%s", diff)
	}
}

func mustNormalize(t *testing.T, o Objects) Objects {
	t.Helper()
	got, err := Normalize(o)
	if err != nil {
		t.Fatalf("Normalize() error: %v", err)
	}
	return got
}
