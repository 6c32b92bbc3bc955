package placement

import (
	"slices"
	"testing"
	"time"

	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"pgregory.net/rapid"
)

// TestPodJudgeAgreesWithGroup: what PodJudge decides of each pod is what
// Group decides (claimed, claim, targeting, the entry it is listed in and
// its state), and a NodeBuilder view of each entry reads as the entry.
func TestPodJudgeAgreesWithGroup(t *testing.T) {
	ds := fluentd()
	e := New(ds, Options{})
	now := time.Date(2026, 1, 1, 0, 0, 1, 0, time.UTC)
	rapid.Check(t, func(t *rapid.T) {
		nodes, pods := groupSnapshot(t, ds)
		// Unique pods: a pod listed twice counts once in Group.
		seen := map[[2]string]bool{}
		pods = slices.DeleteFunc(pods, func(p *corev1.Pod) bool {
			if p == nil {
				return true
			}
			k := [2]string{p.Namespace, p.Name}
			dup := seen[k]
			seen[k] = true
			return dup
		})
		g, err := Group(GroupInput{Evaluator: e, Hash: "h", Now: now, Nodes: nodes, Pods: pods})
		if err != nil {
			t.Fatal(err)
		}
		claimed, targeting := slices.Collect(g.ClaimedPods()), slices.Collect(g.TargetingPods())
		claims := g.Claims()
		judge := NewPodJudge(e, "h", now)
		for _, pod := range pods {
			v := judge.Judge(pod)
			if v.Claimed != slices.Contains(claimed, pod) || v.Targeting != slices.Contains(targeting, pod) {
				t.Fatalf("pod %s: claimed %v, targeting %v; Group: %v, %v", pod.Name, v.Claimed, v.Targeting,
					slices.Contains(claimed, pod), slices.Contains(targeting, pod))
			}
			var want Claim
			for _, c := range claims {
				if c.Name == pod.Name && pod.Namespace == ds.Namespace {
					want = c
				}
			}
			if v.Claim != want {
				t.Fatalf("pod %s: claim %+v, Group's %+v", pod.Name, v.Claim, want)
			}
			listed := false
			for _, n := range g.All() {
				for _, p := range n.Pods() {
					if p.Object() == pod {
						listed = true
						if n.Name() != v.Node || p != v.Pod {
							t.Fatalf("pod %s: listed on %q as %v, judged %q %v", pod.Name, n.Name(), p.state, v.Node, v.Pod.state)
						}
					}
				}
			}
			if listed != v.Listed {
				t.Fatalf("pod %s: listed %v, judged %v", pod.Name, listed, v.Listed)
			}
		}
		var b NodeBuilder
		for _, n := range g.All() {
			v := b.View(n.Name(), n.Node(), n.Decision(), slices.Collect(func(yield func(Pod) bool) {
				for _, p := range n.Pods() {
					if !yield(p) {
						return
					}
				}
			}))
			if v.Name() != n.Name() || v.Node() != n.Node() || v.Exists() != n.Exists() || v.Decision() != n.Decision() || v.Len() != n.Len() {
				t.Fatalf("view of %q differs from the entry", n.Name())
			}
			for k := range n.Len() {
				if v.Pod(k) != n.Pod(k) {
					t.Fatalf("view of %q: pod %d differs", n.Name(), k)
				}
			}
		}
	})
}

// TestPodJudgeClaimsNothingWithoutDaemonSet: the zero judge, a judge of no
// Evaluator and judges of DaemonSets Group refuses claim no pod.
func TestPodJudgeClaimsNothingWithoutDaemonSet(t *testing.T) {
	ds := fluentd()
	pod := &corev1.Pod{ObjectMeta: metav1.ObjectMeta{Name: "orphan", Namespace: ds.Namespace, Labels: map[string]string{"name": "fluentd-elasticsearch"}},
		Spec: corev1.PodSpec{NodeName: "n1"}}
	noUID := ds.DeepCopy()
	noUID.UID = ""
	badSelector := ds.DeepCopy()
	badSelector.Spec.Selector.MatchExpressions = []metav1.LabelSelectorRequirement{{Key: "k", Operator: "Bogus"}}
	for _, tc := range []struct {
		name  string
		judge PodJudge
	}{
		{"zero", PodJudge{}},
		{"nilEvaluator", NewPodJudge(nil, "h", time.Time{})},
		{"noUID", NewPodJudge(New(noUID, Options{}), "h", time.Time{})},
		{"badSelector", NewPodJudge(New(badSelector, Options{}), "h", time.Time{})},
	} {
		t.Run(tc.name, func(t *testing.T) {
			if v := tc.judge.Judge(pod); v != (PodVerdict{}) {
				t.Errorf("Judge = %+v, want the zero verdict", v)
			}
		})
	}
	j := NewPodJudge(New(ds, Options{}), "h", time.Time{})
	if v := j.Judge(pod); !v.Claimed || v.Claim.Type != Adopt || !v.Listed {
		t.Errorf("the orphan is not adopted and listed: %+v", v)
	}
}

// TestPodJudgeAvailableAt: when AvailableAt reports an instant, the pod is
// available exactly from it on; when it does not, availability does not
// depend on the time.
func TestPodJudgeAvailableAt(t *testing.T) {
	epoch := time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC)
	rapid.Check(t, func(t *rapid.T) {
		ds := fluentd()
		ds.Spec.MinReadySeconds = rapid.SampledFrom([]int32{0, 5, 30, -3}).Draw(t, "minReadySeconds")
		pod := &corev1.Pod{}
		if rapid.Bool().Draw(t, "hasReady") {
			c := corev1.PodCondition{Type: corev1.PodReady, Status: rapid.SampledFrom([]corev1.ConditionStatus{corev1.ConditionTrue, corev1.ConditionFalse}).Draw(t, "status")}
			if rapid.Bool().Draw(t, "transitioned") {
				c.LastTransitionTime = metav1.NewTime(epoch.Add(time.Duration(rapid.IntRange(-60, 60).Draw(t, "since")) * time.Second))
			}
			pod.Status.Conditions = []corev1.PodCondition{c}
		}
		j := NewPodJudge(New(ds, Options{}), "h", epoch)
		at, ok := j.AvailableAt(pod)
		available := func(now time.Time) bool { return IsPodAvailable(pod, ds.Spec.MinReadySeconds, now) }
		if ok {
			if available(at.Add(-time.Nanosecond)) || !available(at) || !available(at.Add(time.Hour)) {
				t.Fatalf("available at %v: before %v, at %v, after %v", at, available(at.Add(-time.Nanosecond)), available(at), available(at.Add(time.Hour)))
			}
			return
		}
		for _, now := range []time.Time{epoch.Add(-time.Hour), epoch, epoch.Add(time.Hour)} {
			if available(now) != available(epoch) {
				t.Fatalf("no instant reported, but availability changes at %v", now)
			}
		}
	})
}
