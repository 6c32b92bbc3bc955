package revision

import (
	"testing"

	"github.com/google/go-cmp/cmp/cmpopts"
	appsv1 "k8s.io/api/apps/v1"
	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/types"
)

// cmpEmpty treats nil and empty slices and maps alike.
var cmpEmpty = cmpopts.EquateEmpty()

const (
	testNS  = "default"
	testUID = types.UID("ds-uid")
)

// newDS returns a defaulted-looking DaemonSet "fluentd" running image.
func newDS(image string) *appsv1.DaemonSet {
	limit := int32(DefaultHistoryLimit)
	return &appsv1.DaemonSet{
		ObjectMeta: metav1.ObjectMeta{Name: "fluentd", Namespace: testNS, UID: testUID},
		Spec: appsv1.DaemonSetSpec{
			Selector: &metav1.LabelSelector{MatchLabels: map[string]string{"app": "fluentd"}},
			Template: corev1.PodTemplateSpec{
				ObjectMeta: metav1.ObjectMeta{Labels: map[string]string{"app": "fluentd"}},
				Spec:       corev1.PodSpec{Containers: []corev1.Container{{Name: "fluentd", Image: image}}},
			},
			RevisionHistoryLimit: &limit,
		},
	}
}

// newRev returns the revision KCM creates for a DaemonSet running image,
// numbered number.
func newRev(t testing.TB, image string, number int64) *appsv1.ControllerRevision {
	t.Helper()
	r, err := New(newDS(image), number)
	if err != nil {
		t.Fatal(err)
	}
	return r
}

// hashOf is the hash of newDS(image)'s template without collision count.
func hashOf(image string) string {
	return Hash(&newDS(image).Spec.Template, nil)
}

// withName renames r (label untouched).
func withName(r *appsv1.ControllerRevision, name string) *appsv1.ControllerRevision {
	r = r.DeepCopy()
	r.Name = name
	return r
}

// orphaned removes r's owner references.
func orphaned(r *appsv1.ControllerRevision) *appsv1.ControllerRevision {
	r = r.DeepCopy()
	r.OwnerReferences = nil
	return r
}

// newPod returns a pod of the DaemonSet on node with the given hash label
// ("" for none).
func newPod(name, node, hash string) *corev1.Pod {
	labels := map[string]string{"app": "fluentd"}
	if hash != "" {
		labels[LabelKey] = hash
	}
	return &corev1.Pod{
		ObjectMeta: metav1.ObjectMeta{Name: name, Namespace: testNS, Labels: labels},
		Spec:       corev1.PodSpec{NodeName: node},
	}
}

func ptr[T any](v T) *T { return &v }
