package model

import (
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
	appsv1 "k8s.io/api/apps/v1"
	corev1 "k8s.io/api/core/v1"

	"github.com/dsplan/dsplan/internal/dstest"
	"github.com/dsplan/dsplan/placement"
	"github.com/dsplan/dsplan/plan"
	"github.com/dsplan/dsplan/rollout"
)

func newCluster(t *testing.T, nodes ...string) *Cluster {
	t.Helper()
	c := New(DaemonSetDesc{Strategy: StrategyDesc{Type: "RollingUpdate", MaxUnavailable: "1", MaxSurge: "0"}, RevisionHistoryLimit: 10,
		Template: TemplateDesc{Tag: "v1", LogLevel: "info"}}.DaemonSet(), dstest.Epoch)
	for _, n := range nodes {
		c.AddNode(NodeDesc{Name: n}.Node())
	}
	return c
}

func podSummary(c *Cluster) []string {
	var out []string
	for _, p := range c.Pods {
		out = append(out, PodString(p, c.Now))
	}
	return out
}

func TestApply(t *testing.T) {
	tests := []struct {
		name      string
		ok        func(Op) bool
		schedDown bool
		wantOps   []Op
		wantPods  []string
		wantRevs  int
		wantDS    bool // status written
	}{{
		name: "Whole",
		wantOps: []Op{{OpCreateRevision, "agent-7bccf7fbdd"}, {OpCreatePod, "node-a"}, {OpCreatePod, "node-b"},
			{OpWriteStatus, "agent"}},
		wantPods: []string{"agent-575sk hash=7bccf7fbdd Pending ready=False/0s created=0s",
			"agent-9wwpm hash=7bccf7fbdd Pending ready=False/0s created=0s"},
		wantRevs: 1, wantDS: true,
	}, {
		name:     "OnlyPodsSucceed",
		ok:       func(o Op) bool { return o.Kind == OpCreatePod },
		wantOps:  []Op{{OpCreatePod, "node-a"}, {OpCreatePod, "node-b"}},
		wantPods: []string{"agent-xgcxh hash=7bccf7fbdd Pending ready=False/0s created=0s", "agent-575sk hash=7bccf7fbdd Pending ready=False/0s created=0s"},
	}, {
		name:      "SchedulerDown",
		schedDown: true,
		ok:        func(o Op) bool { return o.Kind == OpCreatePod && o.Name == "node-b" },
		wantOps:   []Op{{OpCreatePod, "node-b"}},
		wantPods:  []string{"agent-xgcxh hash=7bccf7fbdd Pending ready=False/0s created=0s unscheduled"},
	}}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			c := newCluster(t, "node-a", "node-b")
			c.SchedulerDown = tc.schedDown
			p := plan.New(c.Snapshot(), plan.Options{})
			got := c.Apply(p, tc.ok)
			if diff := cmp.Diff(tc.wantOps, got); diff != "" {
				t.Errorf("Apply ops (-want +got):\n%s", diff)
			}
			if diff := cmp.Diff(tc.wantPods, podSummary(c)); diff != "" {
				t.Errorf("pods (-want +got):\n%s", diff)
			}
			if len(c.Revisions) != tc.wantRevs {
				t.Errorf("%d revisions, want %d", len(c.Revisions), tc.wantRevs)
			}
			if got := c.DaemonSet.Status.ObservedGeneration == 1; got != tc.wantDS {
				t.Errorf("status written = %v, want %v", got, tc.wantDS)
			}
			for _, pod := range c.Pods {
				if node, err := placement.TargetNodeName(pod); err != nil || (pod.Spec.NodeName != "" && pod.Spec.NodeName != node) {
					t.Errorf("pod %s bound to %q, targets %q (%v)", pod.Name, pod.Spec.NodeName, node, err)
				}
			}
		})
	}
}

func TestPodLifecycle(t *testing.T) {
	c := newCluster(t, "node-a")
	c.Apply(plan.New(c.Snapshot(), plan.Options{}), nil)
	name := c.Pods[0].Name
	c.Advance(5 * time.Second)
	if !c.SetReady(name, true) {
		t.Fatal("SetReady(true) = false")
	}
	c.Advance(3 * time.Second)
	c.SetReady(name, true) // no transition: the time stays
	if got, want := PodString(c.Pods[0], c.Now), name+" hash=7bccf7fbdd Running ready=True/3s created=8s"; got != want {
		t.Errorf("after ready: %q, want %q", got, want)
	}
	if !c.StartDeleting(name) || c.StartDeleting(name) {
		t.Errorf("StartDeleting twice = true, second must be false")
	}
	c.FinishAllDeletions()
	if len(c.Pods) != 0 {
		t.Errorf("pods after FinishAllDeletions: %v", podSummary(c))
	}
}

func TestUpdateSpecBumpsGeneration(t *testing.T) {
	c := newCluster(t)
	if c.UpdateSpec(func(s *appsv1.DaemonSetSpec) {}) {
		t.Error("UpdateSpec(no change) = true")
	}
	if !c.UpdateSpec(func(s *appsv1.DaemonSetSpec) { s.MinReadySeconds = 5 }) {
		t.Error("UpdateSpec(change) = false")
	}
	if c.DaemonSet.Generation != 2 {
		t.Errorf("generation %d, want 2", c.DaemonSet.Generation)
	}
}

func TestFailedPodBackoff(t *testing.T) {
	c := newCluster(t, "node-a")
	fail := plan.Plan{Deletes: []plan.Delete{{Pod: "x", Node: "node-a", Reason: rollout.DeleteFailed}}}
	var got []time.Duration
	for range 3 {
		c.Apply(fail, nil)
		got = append(got, c.Snapshot().FailedPodBackoff["node-a"])
		c.Advance(c.BackoffLeft())
	}
	if diff := cmp.Diff([]time.Duration{time.Second, 2 * time.Second, 4 * time.Second}, got); diff != "" {
		t.Errorf("backoff (-want +got):\n%s", diff)
	}
	c.Advance(2*BackoffMax + time.Second)
	c.Apply(fail, nil)
	if got := c.Snapshot().FailedPodBackoff["node-a"]; got != time.Second {
		t.Errorf("backoff after expiry %s, want 1s", got)
	}
}

func TestSettleAndGC(t *testing.T) {
	c := newCluster(t, "node-a", "node-b")
	c.Apply(plan.New(c.Snapshot(), plan.Options{}), nil)
	c.RemoveNode("node-b")
	c.Settle()
	if len(c.Pods) != 1 || c.Pods[0].Spec.NodeName != "node-a" {
		t.Fatalf("pods after Settle: %v", podSummary(c))
	}
	if !placement.IsPodAvailable(c.Pods[0], c.DaemonSet.Spec.MinReadySeconds, c.Now) {
		t.Errorf("pod not available after Settle: %s", PodString(c.Pods[0], c.Now))
	}
}

func TestVocabularyParses(t *testing.T) {
	for _, s := range TaintVocabulary {
		if tt := ParseTaint(s); tt.ToString() != s {
			t.Errorf("ParseTaint(%q).ToString() = %q", s, tt.ToString())
		}
	}
	for _, s := range TolerationVocabulary {
		tol := ParseToleration(s)
		if tol.Operator != corev1.TolerationOpExists && tol.Value == "" {
			t.Errorf("ParseToleration(%q) = %+v: no value", s, tol)
		}
	}
}
