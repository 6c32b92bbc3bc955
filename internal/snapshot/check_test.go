package snapshot

import (
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"
	appsv1 "k8s.io/api/apps/v1"
	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/runtime"
)

func TestCompactRevisionData(t *testing.T) {
	tests := []struct {
		name string
		data string
		want string
	}{
		{name: "kubectl -o json indentation", data: "{\n    \"spec\": {\n        \"template\": {\"$patch\": \"replace\"}\n    }\n}", want: `{"spec":{"template":{"$patch":"replace"}}}`},
		{name: "already compact", data: `{"spec":{}}`, want: `{"spec":{}}`},
		{name: "key order kept", data: `{ "b": 1, "a": 2 }`, want: `{"b":1,"a":2}`},
		{name: "empty", data: "", want: ""},
		{name: "not JSON is left alone", data: "{ not json", want: "{ not json"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			in := &appsv1.ControllerRevision{ObjectMeta: metav1.ObjectMeta{Name: "r"}, Data: runtime.RawExtension{Raw: []byte(tc.data)}}
			if tc.data == "" {
				in.Data.Raw = nil
			}
			got := CompactRevisionData([]*appsv1.ControllerRevision{in, nil})
			if got[1] != nil {
				t.Errorf("nil entry became %v", got[1])
			}
			if string(got[0].Data.Raw) != tc.want {
				t.Errorf("data = %q, want %q", got[0].Data.Raw, tc.want)
			}
			if string(in.Data.Raw) != tc.data {
				t.Errorf("input modified: %q", in.Data.Raw)
			}
			if (got[0] == in) != (tc.data == tc.want) {
				t.Errorf("copied = %v, want a copy only when the data changes", got[0] != in)
			}
		})
	}
	if CompactRevisionData(nil) != nil {
		t.Error("CompactRevisionData(nil) != nil")
	}
}

// TestCompactRevisionDataFromKubectlJSON decodes a revision as `kubectl get
// -o json` prints it and gets the compact data back.
func TestCompactRevisionDataFromKubectlJSON(t *testing.T) {
	in := `{"apiVersion": "apps/v1", "kind": "DaemonSet", "metadata": {"name": "d"}}
{
    "apiVersion": "apps/v1",
    "kind": "ControllerRevision",
    "metadata": {"name": "d-1"},
    "data": {
        "spec": {
            "template": {
                "$patch": "replace",
                "spec": {"containers": [{"image": "x", "name": "c"}]}
            }
        }
    },
    "revision": 1
}`
	objs, err := Decode([]byte(in))
	if err != nil {
		t.Fatal(err)
	}
	got := CompactRevisionData(objs.Revisions)
	want := `{"spec":{"template":{"$patch":"replace","spec":{"containers":[{"image":"x","name":"c"}]}}}}`
	if string(got[0].Data.Raw) != want {
		t.Errorf("data = %s, want %s", got[0].Data.Raw, want)
	}
}

func TestCheckNames(t *testing.T) {
	pod := func(ns, name, generateName, node string) *corev1.Pod {
		return &corev1.Pod{ObjectMeta: metav1.ObjectMeta{Namespace: ns, Name: name, GenerateName: generateName}, Spec: corev1.PodSpec{NodeName: node}}
	}
	node := func(name string) *corev1.Node { return &corev1.Node{ObjectMeta: metav1.ObjectMeta{Name: name}} }
	ds := func(ns, name string) *appsv1.DaemonSet {
		return &appsv1.DaemonSet{ObjectMeta: metav1.ObjectMeta{Namespace: ns, Name: name}}
	}
	rev := func(ns, name string) *appsv1.ControllerRevision {
		return &appsv1.ControllerRevision{ObjectMeta: metav1.ObjectMeta{Namespace: ns, Name: name}}
	}
	tests := []struct {
		name string
		objs Objects
		want []string
	}{
		{name: "empty", objs: Objects{}},
		{
			name: "distinct names, same pod name in two namespaces",
			objs: Objects{DaemonSet: ds("a", "x"), Nodes: []*corev1.Node{node("n1"), node("n2")},
				Pods: []*corev1.Pod{pod("a", "p", "", ""), pod("b", "p", "", "")}},
		},
		{
			name: "node listed twice",
			objs: Objects{Nodes: []*corev1.Node{node("n1"), node("n2"), node("n1")}},
			want: []string{`Node "n1" is listed 2 times`},
		},
		{
			name: "pod listed three times",
			objs: Objects{Pods: []*corev1.Pod{pod("a", "p", "", ""), pod("a", "p", "", ""), pod("a", "p", "", "")}},
			want: []string{`Pod "a/p" is listed 3 times`},
		},
		{
			name: "nameless pod",
			objs: Objects{Pods: []*corev1.Pod{pod("a", "p", "", ""), pod("kube-system", "", "fluentd-", "node-a")}},
			want: []string{`Pod #2 (namespace "kube-system", generateName "fluentd-", node "node-a") has no metadata.name`},
		},
		{
			name: "nameless node with a label",
			objs: Objects{Nodes: []*corev1.Node{{ObjectMeta: metav1.ObjectMeta{Labels: map[string]string{"zone": "a", "arch": "arm64"}}}}},
			want: []string{`Node #1 (label arch=arm64) has no metadata.name`},
		},
		{
			name: "DaemonSets of Decode and DecodeAll, revisions, in kind order",
			objs: Objects{DaemonSet: ds("a", "x"), DaemonSets: []*appsv1.DaemonSet{ds("a", "x"), ds("b", "")},
				Revisions: []*appsv1.ControllerRevision{rev("a", "r"), rev("a", "r")}, Nodes: []*corev1.Node{node("")}},
			want: []string{
				`DaemonSet #3 (namespace "b") has no metadata.name`,
				`DaemonSet "a/x" is listed 2 times`,
				`Node #1 has no metadata.name`,
				`ControllerRevision "a/r" is listed 2 times`,
			},
		},
		{name: "nil entries are skipped", objs: Objects{Nodes: []*corev1.Node{nil, node("n")}, Pods: []*corev1.Pod{nil}}},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			var got []string
			if err := CheckNames(tc.objs); err != nil {
				got = strings.Split(err.Error(), "\n")
			}
			if diff := cmp.Diff(tc.want, got); diff != "" {
				t.Errorf("CheckNames() mismatch (-want +got):\n%s", diff)
			}
		})
	}
}
