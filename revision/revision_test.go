package revision

import (
	"encoding/json"
	"fmt"
	"os"
	"slices"
	"testing"

	"github.com/google/go-cmp/cmp"
	appsv1 "k8s.io/api/apps/v1"
	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/runtime"
)

// hashVector is one entry of testdata/hashvec.json, written by
// `oracle hashvec` (see testdata/regen.sh).
type hashVector struct {
	Template       corev1.PodTemplateSpec `json:"template"`
	CollisionCount *int32                 `json:"collisionCount"`
	Hash           string                 `json:"hash"`
	RevisionData   string                 `json:"revisionData"`
	Sum32          uint32                 `json:"sum32"`
}

func TestHashVectors(t *testing.T) {
	b, err := os.ReadFile("testdata/hashvec.json")
	if err != nil {
		t.Fatal(err)
	}
	var vectors []hashVector
	if err := json.Unmarshal(b, &vectors); err != nil {
		t.Fatal(err)
	}
	hashes, data := 0, 0
	for i, v := range vectors {
		tmpl := normalizeTemplate(t, &v.Template)
		if got := Hash(tmpl, v.CollisionCount); got != v.Hash {
			t.Errorf("vector %d: Hash = %q, want %q", i, got, v.Hash)
		} else {
			hashes++
		}
		ds := &appsv1.DaemonSet{Spec: appsv1.DaemonSetSpec{Template: *tmpl}}
		got, err := Patch(ds)
		if err != nil {
			t.Errorf("vector %d: Patch: %v", i, err)
			continue
		}
		if string(got) != v.RevisionData {
			t.Errorf("vector %d: Patch =\n%s\nwant\n%s", i, got, v.RevisionData)
		} else {
			data++
		}
	}
	t.Logf("hash vectors: %d/%d hashes and %d/%d Data.Raw match", hashes, len(vectors), data, len(vectors))
	if len(vectors) != 500 {
		t.Errorf("got %d vectors, want 500", len(vectors))
	}
}

// normalizeTemplate returns t after a protobuf round trip, which is how
// kube-controller-manager receives objects (empty lists and maps become nil).
func normalizeTemplate(t *testing.T, tmpl *corev1.PodTemplateSpec) *corev1.PodTemplateSpec {
	t.Helper()
	b, err := tmpl.Marshal()
	if err != nil {
		t.Fatal(err)
	}
	out := &corev1.PodTemplateSpec{}
	if err := out.Unmarshal(b); err != nil {
		t.Fatal(err)
	}
	return out
}

func BenchmarkHash(b *testing.B) {
	for _, cc := range []*int32{nil, ptr(int32(3))} {
		name := "collisionCount=nil"
		if cc != nil {
			name = "collisionCount=3"
		}
		b.Run(name, func(b *testing.B) {
			tmpl := &newDS("fluentd:v1").Spec.Template
			b.ReportAllocs()
			for b.Loop() {
				Hash(tmpl, cc)
			}
		})
	}
}

func BenchmarkReconcile(b *testing.B) {
	for _, n := range []int{1, 10, 100} {
		b.Run(fmt.Sprintf("revisions=%d/pods=%d", n, 10*n), func(b *testing.B) {
			ds := newDS("fluentd:current")
			var revs []*appsv1.ControllerRevision
			var pods []*corev1.Pod
			for i := range n {
				revs = append(revs, newRev(b, fmt.Sprintf("fluentd:v%d", i), int64(i+1)))
			}
			for i := range 10 * n {
				pods = append(pods, newPod(fmt.Sprintf("pod-%d", i), fmt.Sprintf("node-%d", i), revs[i%n].Labels[LabelKey]))
			}
			b.ReportAllocs()
			for b.Loop() {
				if h, err := Reconcile(ds, nil, revs); err != nil || len(h.Relabel(slices.Values(pods))) != 0 {
					b.Fatal(err)
				}
			}
		})
	}
}

func TestHashNilTemplate(t *testing.T) {
	if got, want := Hash(nil, nil), Hash(&corev1.PodTemplateSpec{}, nil); got != want {
		t.Errorf("Hash(nil) = %q, want the zero template's %q", got, want)
	}
}

func TestNilArguments(t *testing.T) {
	if _, err := Patch(nil); err == nil {
		t.Error("Patch(nil) did not fail")
	}
	if _, err := New(nil, 1); err == nil {
		t.Error("New(nil) did not fail")
	}
	if _, err := Match(nil, newRev(t, "fluentd:v1", 1)); err == nil {
		t.Error("Match(nil, rev) did not fail")
	}
	if _, err := Match(newDS("fluentd:v1"), nil); err == nil {
		t.Error("Match(ds, nil) did not fail")
	}
}

func TestNew(t *testing.T) {
	ds := newDS("fluentd:v1")
	ds.Annotations = map[string]string{"a": "b"}
	ds.Status.CollisionCount = ptr(int32(2))
	before := ds.DeepCopy()
	got, err := New(ds, 4)
	if err != nil {
		t.Fatal(err)
	}
	hash := Hash(&ds.Spec.Template, ds.Status.CollisionCount)
	data, _ := Patch(ds)
	want := &appsv1.ControllerRevision{
		ObjectMeta: metav1.ObjectMeta{
			Name: "fluentd-" + hash, Namespace: testNS,
			Labels:      map[string]string{"app": "fluentd", LabelKey: hash},
			Annotations: map[string]string{"a": "b"},
			OwnerReferences: []metav1.OwnerReference{{APIVersion: "apps/v1", Kind: "DaemonSet", Name: "fluentd", UID: testUID,
				Controller: ptr(true), BlockOwnerDeletion: ptr(true)}},
		},
		Data:     runtime.RawExtension{Raw: data},
		Revision: 4,
	}
	if diff := cmp.Diff(want, got); diff != "" {
		t.Errorf("New (-want +got):\n%s", diff)
	}
	got.Labels["x"], got.Annotations["x"] = "y", "y"
	if diff := cmp.Diff(before, ds); diff != "" {
		t.Errorf("New shares maps with or modified its input (-before +after):\n%s", diff)
	}
	if ok, err := Match(ds, got); !ok || err != nil {
		t.Errorf("Match(ds, New(ds)) = %v, %v; want true", ok, err)
	}
}
