package placement

import (
	"testing"
	"time"

	appsv1 "k8s.io/api/apps/v1"
	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"pgregory.net/rapid"
)

var stateEpoch = time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC)

// statePod builds a pod for the PodClassifier tests.
func statePod(labels map[string]string, phase corev1.PodPhase, conditions ...corev1.PodCondition) *corev1.Pod {
	return &corev1.Pod{
		ObjectMeta: metav1.ObjectMeta{Name: "p", Labels: labels},
		Status:     corev1.PodStatus{Phase: phase, Conditions: conditions},
	}
}

func readySince(t time.Time) corev1.PodCondition {
	return corev1.PodCondition{Type: corev1.PodReady, Status: corev1.ConditionTrue, LastTransitionTime: metav1.NewTime(t)}
}

// classifierDaemonSet has minReadySeconds and, unless generation is "", the
// deprecated template generation annotation.
func classifierDaemonSet(minReady int32, generation string) *appsv1.DaemonSet {
	ds := &appsv1.DaemonSet{Spec: appsv1.DaemonSetSpec{MinReadySeconds: minReady}}
	if generation != "" {
		ds.Annotations = map[string]string{appsv1.DeprecatedTemplateGeneration: generation}
	}
	return ds
}

func TestPodClassifierState(t *testing.T) {
	hashed := map[string]string{"controller-revision-hash": "h"}
	deleting := statePod(hashed, corev1.PodRunning, readySince(stateEpoch))
	deleting.DeletionTimestamp = new(metav1.NewTime(stateEpoch))
	for _, tc := range []struct {
		name string
		ds   *appsv1.DaemonSet
		hash string
		now  time.Time
		pod  *corev1.Pod
		want podState
	}{
		{name: "nil pod", ds: classifierDaemonSet(0, ""), hash: "h", pod: nil, want: 0},
		{name: "running, ready, current", ds: classifierDaemonSet(0, ""), hash: "h",
			pod: statePod(hashed, corev1.PodRunning, readySince(stateEpoch)), want: podReady | podAvailable | podUpdated},
		{name: "no conditions", ds: classifierDaemonSet(0, ""), hash: "h",
			pod: statePod(hashed, corev1.PodPending), want: podUpdated},
		{name: "ready false", ds: classifierDaemonSet(0, ""), hash: "h",
			pod: statePod(hashed, corev1.PodRunning, corev1.PodCondition{Type: corev1.PodReady, Status: corev1.ConditionFalse}), want: podUpdated},
		{name: "first ready condition counts", ds: classifierDaemonSet(0, ""), hash: "h",
			pod: statePod(hashed, corev1.PodRunning, corev1.PodCondition{Type: corev1.PodReady, Status: corev1.ConditionUnknown}, readySince(stateEpoch)), want: podUpdated},
		{name: "ready, minReadySeconds not yet", ds: classifierDaemonSet(30, ""), hash: "h", now: stateEpoch.Add(29 * time.Second),
			pod: statePod(hashed, corev1.PodRunning, readySince(stateEpoch)), want: podReady | podUpdated},
		{name: "ready, minReadySeconds reached", ds: classifierDaemonSet(30, ""), hash: "h", now: stateEpoch.Add(30 * time.Second),
			pod: statePod(hashed, corev1.PodRunning, readySince(stateEpoch)), want: podReady | podAvailable | podUpdated},
		{name: "ready without transition time", ds: classifierDaemonSet(30, ""), hash: "h", now: stateEpoch.Add(time.Hour),
			pod: statePod(hashed, corev1.PodRunning, corev1.PodCondition{Type: corev1.PodReady, Status: corev1.ConditionTrue}), want: podReady | podUpdated},
		{name: "old hash", ds: classifierDaemonSet(0, ""), hash: "g",
			pod: statePod(hashed, corev1.PodRunning, readySince(stateEpoch)), want: podReady | podAvailable},
		{name: "empty hash matches nothing", ds: classifierDaemonSet(0, ""), hash: "",
			pod: statePod(map[string]string{"controller-revision-hash": ""}, corev1.PodRunning), want: 0},
		{name: "template generation", ds: classifierDaemonSet(0, "3"), hash: "g",
			pod: statePod(map[string]string{"pod-template-generation": "3"}, corev1.PodRunning), want: podUpdated},
		{name: "template generation compared as text", ds: classifierDaemonSet(0, "3"), hash: "g",
			pod: statePod(map[string]string{"pod-template-generation": "03"}, corev1.PodRunning), want: 0},
		{name: "template generation normalised", ds: classifierDaemonSet(0, "+3"), hash: "g",
			pod: statePod(map[string]string{"pod-template-generation": "3"}, corev1.PodRunning), want: podUpdated},
		{name: "unparsable template generation is ignored", ds: classifierDaemonSet(0, "x"), hash: "g",
			pod: statePod(map[string]string{"pod-template-generation": "x"}, corev1.PodRunning), want: 0},
		{name: "failed", ds: classifierDaemonSet(0, ""), hash: "h", pod: statePod(hashed, corev1.PodFailed), want: podFailed | podUpdated},
		{name: "succeeded", ds: classifierDaemonSet(0, ""), hash: "h", pod: statePod(hashed, corev1.PodSucceeded), want: podSucceeded | podUpdated},
		{name: "deleting", ds: classifierDaemonSet(0, ""), hash: "h", pod: deleting, want: podDeleting | podReady | podAvailable | podUpdated},
		{name: "nil DaemonSet", ds: nil, hash: "h",
			pod: statePod(hashed, corev1.PodRunning, readySince(stateEpoch)), want: podReady | podAvailable | podUpdated},
	} {
		t.Run(tc.name, func(t *testing.T) {
			c := newClassifier(New(tc.ds, Options{}), tc.hash, tc.now)
			if got := c.state(tc.pod); got != tc.want {
				t.Errorf("State() = %v, want %v", got, tc.want)
			}
		})
	}
}

// TestPodClassifierAgreesWithHelpers checks each bit against the function
// that defines it, on random pods.
func TestPodClassifierAgreesWithHelpers(t *testing.T) {
	values := rapid.SampledFrom([]string{"h", "g", "", "3", "03", "-1", "x"})
	rapid.Check(t, func(t *rapid.T) {
		ds := classifierDaemonSet(int32(rapid.IntRange(0, 60).Draw(t, "minReady")), values.Draw(t, "generation"))
		hash := values.Draw(t, "hash")
		now := stateEpoch.Add(time.Duration(rapid.IntRange(-10, 90).Draw(t, "now")) * time.Second)
		c := newClassifier(New(ds, Options{}), hash, now)
		labels := rapid.MapOfN(rapid.SampledFrom([]string{"controller-revision-hash", "pod-template-generation", "app"}), values, 0, 3).Draw(t, "labels")
		var conditions []corev1.PodCondition
		for range rapid.IntRange(0, 2).Draw(t, "conditions") {
			cond := corev1.PodCondition{
				Type:   rapid.SampledFrom([]corev1.PodConditionType{corev1.PodReady, corev1.ContainersReady}).Draw(t, "type"),
				Status: rapid.SampledFrom([]corev1.ConditionStatus{corev1.ConditionTrue, corev1.ConditionFalse}).Draw(t, "status"),
			}
			if rapid.Bool().Draw(t, "transition") {
				cond.LastTransitionTime = metav1.NewTime(stateEpoch)
			}
			conditions = append(conditions, cond)
		}
		pod := statePod(labels, rapid.SampledFrom([]corev1.PodPhase{corev1.PodRunning, corev1.PodFailed, corev1.PodSucceeded}).Draw(t, "phase"), conditions...)
		if rapid.Bool().Draw(t, "deleting") {
			pod.DeletionTimestamp = new(metav1.NewTime(stateEpoch))
		}
		generation, err := TemplateGeneration(ds)
		if err != nil {
			generation = nil // upstream ignores the parse error
		}
		s := c.state(pod)
		for _, check := range []struct {
			bit  podState
			want bool
		}{
			{podDeleting, pod.DeletionTimestamp != nil},
			{podFailed, pod.Status.Phase == corev1.PodFailed},
			{podSucceeded, pod.Status.Phase == corev1.PodSucceeded},
			{podReady, IsPodReady(pod)},
			{podAvailable, IsPodAvailable(pod, ds.Spec.MinReadySeconds, now)},
			{podUpdated, IsPodUpdated(pod, hash, generation)},
		} {
			if got := s&check.bit != 0; got != check.want {
				t.Fatalf("State() = %v: %v is %v, want %v", s, check.bit, got, check.want)
			}
		}
	})
}

func TestPodClassifierDoesNotAllocate(t *testing.T) {
	ds := classifierDaemonSet(10, "12345")
	pod := statePod(map[string]string{"pod-template-generation": "12345"}, corev1.PodRunning, readySince(stateEpoch))
	var s podState
	e := New(ds, Options{})
	if n := testing.AllocsPerRun(100, func() {
		c := newClassifier(e, "h", stateEpoch)
		s = c.state(pod)
	}); n != 0 {
		t.Errorf("newClassifier + state: %v allocations, want 0", n)
	}
	if s != podReady|podUpdated {
		t.Errorf("State() = %v", s)
	}
}

func TestPodStateString(t *testing.T) {
	for _, tc := range []struct {
		s    podState
		want string
	}{
		{0, "0"},
		{podReady, "Ready"},
		{podDeleting | podFailed | podUpdated, "Deleting|Failed|Updated"},
		{podAvailable | 1<<7, "Available|0x80"},
		{1 << 6, "0x40"},
	} {
		if got := tc.s.String(); got != tc.want {
			t.Errorf("podState(%#x).String() = %q, want %q", uint8(tc.s), got, tc.want)
		}
	}
	if !(podFailed | podReady).terminal() || !podSucceeded.terminal() || (podReady | podDeleting).terminal() {
		t.Error("Terminal() is wrong")
	}
}

// TestNilPods: the pod helpers take nil pods without panicking; a nil pod
// is neither ready nor available and sorts last.
func TestNilPods(t *testing.T) {
	if IsPodReady(nil) || IsPodAvailable(nil, 0, stateEpoch) {
		t.Error("a nil pod is ready or available")
	}
	pod := statePod(nil, corev1.PodRunning)
	for _, tc := range []struct {
		a, b *corev1.Pod
		want int
	}{
		{nil, nil, 0},
		{nil, pod, 1},
		{pod, nil, -1},
	} {
		if got := ComparePods(tc.a, tc.b); got != tc.want {
			t.Errorf("ComparePods(%v, %v) = %d, want %d", tc.a != nil, tc.b != nil, got, tc.want)
		}
	}
}
