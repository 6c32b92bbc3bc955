package plan_test

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
	appsv1 "k8s.io/api/apps/v1"
	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/util/intstr"

	"github.com/dsplan/dsplan/internal/dstest"
	"github.com/dsplan/dsplan/placement"
	"github.com/dsplan/dsplan/plan"
	"github.com/dsplan/dsplan/revision"
	"github.com/dsplan/dsplan/rollout"
)

// hashOf is the current revision hash of ds.
func hashOf(ds *appsv1.DaemonSet) string {
	return revision.Hash(&ds.Spec.Template, ds.Status.CollisionCount)
}

// currentRevision is ds's current ControllerRevision, numbered n.
func currentRevision(t interface {
	Helper()
	Fatalf(string, ...any)
}, ds *appsv1.DaemonSet, n int64) *appsv1.ControllerRevision {
	t.Helper()
	rev, err := revision.New(ds, n)
	if err != nil {
		t.Fatalf("revision.New: %v", err)
	}
	return rev
}

// actions renders a plan's creates and deletes as "create node (Reason)"
// and "delete pod (Reason)", in the plan's order.
func actions(p plan.Plan) []string {
	var out []string
	for _, c := range p.Creates {
		out = append(out, fmt.Sprintf("create %s (%s)", c.Node, c.Reason))
	}
	for _, d := range p.Deletes {
		out = append(out, fmt.Sprintf("delete %s (%s)", d.Pod, d.Reason))
	}
	return out
}

func TestNewManageRules(t *testing.T) {
	ds := dstest.DaemonSet("agent")
	hash := hashOf(ds)
	now := dstest.Epoch.Add(time.Hour)
	older := dstest.Created(dstest.Epoch.Add(-time.Minute))
	tests := []struct {
		name    string
		ds      *appsv1.DaemonSet
		nodes   []*corev1.Node
		pods    []*corev1.Pod
		backoff map[string]time.Duration
		want    []string
		requeue time.Duration
	}{
		{
			name:  "creates on every eligible node without a pod",
			nodes: dstest.Nodes(2),
			want:  []string{"create node-0000 (Missing)", "create node-0001 (Missing)"},
		},
		{
			name:  "nothing to do when every node runs a current pod",
			nodes: dstest.Nodes(1),
			pods:  []*corev1.Pod{dstest.Pod(ds, "a", "node-0000", hash)},
		},
		{
			name:  "failed pod is deleted",
			nodes: dstest.Nodes(1),
			pods:  []*corev1.Pod{dstest.Pod(ds, "a", "node-0000", hash, dstest.Phase(corev1.PodFailed))},
			want:  []string{"delete a (Failed)"},
		},
		{
			name:  "second failed pod on a node waits for the backoff",
			nodes: dstest.Nodes(1),
			pods: []*corev1.Pod{
				dstest.Pod(ds, "b", "node-0000", hash, dstest.Phase(corev1.PodFailed)),
				dstest.Pod(ds, "a", "node-0000", hash, dstest.Phase(corev1.PodFailed), older),
			},
			want:    []string{"delete a (Failed)"},
			requeue: time.Second,
		},
		{
			name:    "failed pod on a node in backoff stays",
			nodes:   dstest.Nodes(1),
			pods:    []*corev1.Pod{dstest.Pod(ds, "a", "node-0000", hash, dstest.Phase(corev1.PodFailed))},
			backoff: map[string]time.Duration{"node-0000": 8 * time.Second},
			requeue: 8 * time.Second,
		},
		{
			name:  "succeeded pod is deleted",
			nodes: dstest.Nodes(1),
			pods:  []*corev1.Pod{dstest.Pod(ds, "a", "node-0000", hash, dstest.Phase(corev1.PodSucceeded))},
			want:  []string{"delete a (Succeeded)"},
		},
		{
			name:  "excess pods go, the oldest stays",
			nodes: dstest.Nodes(1),
			pods: []*corev1.Pod{
				dstest.Pod(ds, "a", "node-0000", hash),
				dstest.Pod(ds, "b", "node-0000", hash, older),
				dstest.Pod(ds, "c", "node-0000", hash),
			},
			want: []string{"delete a (Excess)", "delete c (Excess)"},
		},
		{
			name:  "scheduled pod is kept over an older pending one",
			nodes: dstest.Nodes(1),
			pods: []*corev1.Pod{
				dstest.Pod(ds, "pending", "", hash, older, dstest.Unscheduled("node-0000")),
				dstest.Pod(ds, "running", "node-0000", hash),
			},
			want: []string{"delete pending (Excess)"},
		},
		{
			name:  "pods being deleted are ignored and block a create",
			nodes: dstest.Nodes(1),
			pods:  []*corev1.Pod{dstest.Pod(ds, "a", "node-0000", hash, dstest.Deleting)},
		},
		{
			name:  "node no longer selected: its pods go",
			ds:    dstest.DaemonSet("agent", dstest.NodeSelector(map[string]string{"role": "logging"})),
			nodes: dstest.Nodes(1),
			pods:  []*corev1.Pod{dstest.Pod(ds, "a", "node-0000", hash)},
			want:  []string{"delete a (NodeIneligible)"},
		},
		{
			name:  "untolerated NoExecute taint evicts",
			nodes: dstest.Nodes(1, dstest.Taint("dedicated", "db", corev1.TaintEffectNoExecute)),
			pods:  []*corev1.Pod{dstest.Pod(ds, "a", "node-0000", hash)},
			want:  []string{"delete a (Evicted)"},
		},
		{
			name:  "untolerated NoSchedule taint: existing pod stays, no create",
			nodes: append(dstest.Nodes(1, dstest.Taint("dedicated", "db", corev1.TaintEffectNoSchedule)), dstest.Node("other", dstest.Taint("dedicated", "db", corev1.TaintEffectNoSchedule))),
			pods:  []*corev1.Pod{dstest.Pod(ds, "a", "node-0000", hash)},
		},
		{
			name:  "unscheduled pod of a vanished node is deleted",
			pods:  []*corev1.Pod{dstest.Pod(ds, "a", "", hash, dstest.Unscheduled("gone"))},
			want:  []string{"delete a (NodeGone)"},
			nodes: nil,
		},
		{
			name: "scheduled pod of a vanished node is left to the pod garbage collector",
			pods: []*corev1.Pod{dstest.Pod(ds, "a", "gone", hash)},
		},
		{
			name:  "pods of other owners are ignored",
			nodes: dstest.Nodes(1),
			pods: []*corev1.Pod{func() *corev1.Pod {
				p := dstest.Pod(ds, "a", "node-0000", hash)
				p.OwnerReferences[0].UID = "someone-else"
				return p
			}()},
			want: []string{"create node-0000 (Missing)"},
		},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			d := ds
			if tc.ds != nil {
				d = tc.ds
			}
			s := plan.Snapshot{
				DaemonSet: d, Nodes: tc.nodes, Pods: tc.pods, Now: now, FailedPodBackoff: tc.backoff,
				Revisions: []*appsv1.ControllerRevision{currentRevision(t, d, 1)},
			}
			p := plan.New(s, plan.Options{})
			if p.Err != nil {
				t.Fatalf("New().Err = %v", p.Err)
			}
			if diff := cmp.Diff(tc.want, actions(p)); diff != "" {
				t.Errorf("actions (-want +got):\n%s", diff)
			}
			if p.RequeueAfter != tc.requeue {
				t.Errorf("RequeueAfter = %v, want %v", p.RequeueAfter, tc.requeue)
			}
		})
	}
}

func TestNewRollingUpdate(t *testing.T) {
	oldDS := dstest.DaemonSet("agent")
	oldHash := hashOf(oldDS)
	now := dstest.Epoch.Add(time.Hour)
	oldPods := func(n int, mods ...func(*corev1.Pod)) []*corev1.Pod {
		var pods []*corev1.Pod
		for i := range n {
			pods = append(pods, dstest.Pod(oldDS, fmt.Sprintf("old-%d", i), fmt.Sprintf("node-%04d", i), oldHash, mods...))
		}
		return pods
	}
	tests := []struct {
		name     string
		strategy func(*appsv1.DaemonSet)
		nodes    []*corev1.Node
		pods     func(newHash string, newDS *appsv1.DaemonSet) []*corev1.Pod
		want     []string
		warning  bool
		wantErr  error
	}{
		{
			name:  "maxUnavailable 1 replaces one available old pod, first by node name",
			nodes: dstest.Nodes(3),
			pods:  func(string, *appsv1.DaemonSet) []*corev1.Pod { return oldPods(3) },
			want:  []string{"delete old-0 (Replace)"},
		},
		{
			name:     "maxUnavailable 2 replaces two",
			strategy: dstest.RollingUpdate(intstr.FromInt32(2), intstr.FromInt32(0)),
			nodes:    dstest.Nodes(3),
			pods:     func(string, *appsv1.DaemonSet) []*corev1.Pod { return oldPods(3) },
			want:     []string{"delete old-0 (Replace)", "delete old-1 (Replace)"},
		},
		{
			name:     "maxUnavailable 50% of 3 rounds up to 2",
			strategy: dstest.RollingUpdate(intstr.FromString("50%"), intstr.FromInt32(0)),
			nodes:    dstest.Nodes(3),
			pods:     func(string, *appsv1.DaemonSet) []*corev1.Pod { return oldPods(3) },
			want:     []string{"delete old-0 (Replace)", "delete old-1 (Replace)"},
		},
		{
			name:  "unavailable old pods are replaced without budget",
			nodes: dstest.Nodes(3),
			pods:  func(string, *appsv1.DaemonSet) []*corev1.Pod { return oldPods(3, dstest.NotReady) },
			want:  []string{"delete old-0 (ReplaceUnavailable)", "delete old-1 (ReplaceUnavailable)", "delete old-2 (ReplaceUnavailable)"},
		},
		{
			name:  "an unavailable new pod uses the budget",
			nodes: dstest.Nodes(3),
			pods: func(h string, ds *appsv1.DaemonSet) []*corev1.Pod {
				return append(oldPods(2), dstest.Pod(ds, "new-2", "node-0002", h, dstest.NotReady))
			},
		},
		{
			name:     "both budgets zero fall back to maxUnavailable 1 with a warning",
			strategy: dstest.RollingUpdate(intstr.FromInt32(0), intstr.FromInt32(0)),
			nodes:    dstest.Nodes(2),
			pods:     func(string, *appsv1.DaemonSet) []*corev1.Pod { return oldPods(2) },
			want:     []string{"delete old-0 (Replace)"},
			warning:  true,
		},
		{
			name:     "OnDelete replaces nothing",
			strategy: dstest.OnDelete,
			nodes:    dstest.Nodes(2),
			pods:     func(string, *appsv1.DaemonSet) []*corev1.Pod { return oldPods(2) },
		},
		{
			name:  "no rolling update while the manage pass acts",
			nodes: dstest.Nodes(3),
			pods:  func(string, *appsv1.DaemonSet) []*corev1.Pod { return oldPods(2) },
			want:  []string{"create node-0002 (Missing)"},
		},
		{
			name:     "surge creates up to maxSurge next to available old pods",
			strategy: dstest.RollingUpdate(intstr.FromInt32(0), intstr.FromInt32(2)),
			nodes:    dstest.Nodes(3),
			pods:     func(string, *appsv1.DaemonSet) []*corev1.Pod { return oldPods(3) },
			want:     []string{"create node-0000 (Surge)", "create node-0001 (Surge)"},
		},
		{
			name:     "surge creates next to unavailable old pods without budget",
			strategy: dstest.RollingUpdate(intstr.FromInt32(0), intstr.FromInt32(1)),
			nodes:    dstest.Nodes(2),
			pods:     func(string, *appsv1.DaemonSet) []*corev1.Pod { return oldPods(2, dstest.NotReady) },
			want:     []string{"create node-0000 (SurgeUnavailable)", "create node-0001 (SurgeUnavailable)"},
		},
		{
			name:     "surge: the old pod goes once the new one is available",
			strategy: dstest.RollingUpdate(intstr.FromInt32(0), intstr.FromInt32(1)),
			nodes:    dstest.Nodes(1),
			pods: func(h string, ds *appsv1.DaemonSet) []*corev1.Pod {
				return append(oldPods(1, dstest.Created(dstest.Epoch.Add(-time.Hour))), dstest.Pod(ds, "new-0", "node-0000", h))
			},
			want: []string{"delete old-0 (SurgeNewAvailable)"},
		},
		{
			name:     "surge: a waiting new pod uses the budget",
			strategy: dstest.RollingUpdate(intstr.FromInt32(0), intstr.FromInt32(1)),
			nodes:    dstest.Nodes(2),
			pods: func(h string, ds *appsv1.DaemonSet) []*corev1.Pod {
				return append(oldPods(2, dstest.Created(dstest.Epoch.Add(-time.Hour))), dstest.Pod(ds, "new-0", "node-0000", h, dstest.NotReady))
			},
		},
		{
			name:     "surge fails on an old pod bound to a vanished node, as upstream",
			strategy: dstest.RollingUpdate(intstr.FromInt32(0), intstr.FromInt32(1)),
			nodes:    dstest.Nodes(1),
			pods: func(string, *appsv1.DaemonSet) []*corev1.Pod {
				return append(oldPods(1), dstest.Pod(oldDS, "stranded", "gone", oldHash))
			},
			wantErr: rollout.ErrNodeNotFound,
		},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			mods := []func(*appsv1.DaemonSet){dstest.Image("registry.example.com/agent:v2")}
			if tc.strategy != nil {
				mods = append(mods, tc.strategy)
			}
			ds := dstest.DaemonSet("agent", mods...)
			old := oldDS.DeepCopy()
			old.Spec.UpdateStrategy = ds.Spec.UpdateStrategy
			s := plan.Snapshot{
				DaemonSet: ds, Nodes: tc.nodes, Pods: tc.pods(hashOf(ds), ds), Now: now,
				Revisions: []*appsv1.ControllerRevision{currentRevision(t, old, 1), currentRevision(t, ds, 2)},
			}
			p := plan.New(s, plan.Options{})
			if !errors.Is(p.Err, tc.wantErr) {
				t.Fatalf("New().Err = %v, want %v", p.Err, tc.wantErr)
			}
			if diff := cmp.Diff(tc.want, actions(p)); diff != "" {
				t.Errorf("actions (-want +got):\n%s", diff)
			}
			gotWarning := slices.ContainsFunc(p.Warnings, func(w placement.Warning) bool {
				return strings.Contains(w.Message, "both 0")
			})
			if gotWarning != tc.warning {
				t.Errorf("fallback warning = %v, want %v (warnings %v)", gotWarning, tc.warning, p.Warnings)
			}
		})
	}
}

func TestNewSyncPaths(t *testing.T) {
	ds := dstest.DaemonSet("agent", dstest.MinReadySeconds(30))
	hash := hashOf(ds)
	deleted := metav1.NewTime(dstest.Epoch)
	tests := []struct {
		name  string
		edit  func(*plan.Snapshot)
		check func(t *testing.T, p plan.Plan)
	}{
		{
			name: "a DaemonSet being deleted gets nothing, not even status",
			edit: func(s *plan.Snapshot) { s.DaemonSet.DeletionTimestamp = &deleted },
			check: func(t *testing.T, p plan.Plan) {
				if p.Hash != "" || len(p.Creates) != 0 || p.StatusChanged {
					t.Errorf("plan = %+v, want only the old status", p)
				}
			},
		},
		{
			name: "an empty selector only warns",
			edit: func(s *plan.Snapshot) { s.DaemonSet.Spec.Selector = &metav1.LabelSelector{} },
			check: func(t *testing.T, p plan.Plan) {
				if len(p.Creates) != 0 || len(p.Warnings) != 1 || p.Warnings[0].Field != "spec.selector" {
					t.Errorf("plan = %+v, want one spec.selector warning and nothing else", p)
				}
			},
		},
		{
			name: "pending expectations refresh status only and keep observedGeneration",
			edit: func(s *plan.Snapshot) {
				s.PendingExpectations = true
				s.DaemonSet.Generation = 2
				s.DaemonSet.Status.ObservedGeneration = 1
			},
			check: func(t *testing.T, p plan.Plan) {
				if len(p.Creates) != 0 {
					t.Errorf("Creates = %v, want none", p.Creates)
				}
				if p.Status.DesiredNumberScheduled != 2 || p.Status.ObservedGeneration != 1 {
					t.Errorf("Status = %+v, want desired 2, observedGeneration 1", p.Status)
				}
			},
		},
		{
			name: "a fresh DaemonSet creates its revision and a pod per node",
			edit: func(s *plan.Snapshot) { s.Revisions = nil },
			check: func(t *testing.T, p plan.Plan) {
				if len(p.Revisions.Create) != 1 || p.Revisions.Create[0].Name != "agent-"+hash {
					t.Errorf("Revisions.Create = %v, want agent-%s", p.Revisions.Create, hash)
				}
				if len(p.Creates) != 2 || p.Hash != hash {
					t.Errorf("Creates = %d, Hash = %q; want 2 and %q", len(p.Creates), p.Hash, hash)
				}
				pod := p.Creates[0].Pod
				if pod.Labels[appsv1.DefaultDaemonSetUniqueLabelKey] != hash || pod.GenerateName != "agent-" || pod.Namespace != "default" {
					t.Errorf("created pod meta = %+v", pod.ObjectMeta)
				}
				if !p.StatusChanged || p.Status.ObservedGeneration != 1 {
					t.Errorf("Status = %+v changed %v, want written with observedGeneration 1", p.Status, p.StatusChanged)
				}
			},
		},
		{
			name: "an orphan matching the selector is adopted and counted",
			edit: func(s *plan.Snapshot) {
				orphan := dstest.Pod(s.DaemonSet, "orphan", "node-0000", hash)
				orphan.OwnerReferences = nil
				s.Pods = []*corev1.Pod{orphan}
			},
			check: func(t *testing.T, p plan.Plan) {
				if len(p.Claims) != 1 || p.Claims[0].Type != placement.Adopt || p.Claims[0].Name != "orphan" || p.Claims[0].Kind != placement.ClaimPod {
					t.Errorf("Claims = %+v, want adoption of orphan", p.Claims)
				}
				if diff := cmp.Diff([]string{"create node-0001 (Missing)"}, actions(p)); diff != "" {
					t.Errorf("actions (-want +got):\n%s", diff)
				}
			},
		},
		{
			name: "an owned pod that no longer matches is released and replaced",
			edit: func(s *plan.Snapshot) {
				stray := dstest.Pod(s.DaemonSet, "stray", "node-0000", hash)
				stray.Labels = map[string]string{"app": "other"}
				s.Pods = []*corev1.Pod{stray, dstest.Pod(s.DaemonSet, "b", "node-0001", hash)}
			},
			check: func(t *testing.T, p plan.Plan) {
				if len(p.Claims) != 1 || p.Claims[0].Type == placement.Adopt || p.Claims[0].Name != "stray" {
					t.Errorf("Claims = %+v, want release of stray", p.Claims)
				}
				if diff := cmp.Diff([]string{"create node-0000 (Missing)"}, actions(p)); diff != "" {
					t.Errorf("actions (-want +got):\n%s", diff)
				}
			},
		},
		{
			name: "ready but not yet available pods requeue after minReadySeconds",
			edit: func(s *plan.Snapshot) {
				s.Pods = []*corev1.Pod{
					dstest.Pod(s.DaemonSet, "a", "node-0000", hash, dstest.ReadySince(s.Now.Add(-10*time.Second))),
					dstest.Pod(s.DaemonSet, "b", "node-0001", hash),
				}
			},
			check: func(t *testing.T, p plan.Plan) {
				if p.RequeueAfter != 30*time.Second {
					t.Errorf("RequeueAfter = %v, want 30s", p.RequeueAfter)
				}
				if p.Status.NumberReady != 2 || p.Status.NumberAvailable != 1 || p.Status.NumberUnavailable != 1 {
					t.Errorf("Status = %+v, want ready 2, available 1, unavailable 1", p.Status)
				}
			},
		},
		{
			name: "burst limit keeps the first creates by node name",
			edit: func(s *plan.Snapshot) { s.Nodes = dstest.Nodes(5) },
			check: func(t *testing.T, p plan.Plan) {
				if len(p.Creates) != 2 || p.Creates[1].Node != "node-0001" {
					t.Errorf("Creates = %v, want node-0000 and node-0001", actions(p))
				}
			},
		},
		{
			name: "a hash collision bumps collisionCount and fails the sync",
			edit: func(s *plan.Snapshot) {
				other := currentRevision(t, dstest.DaemonSet("agent", dstest.Image("x")), 1)
				other.Name = "agent-" + hash
				s.Revisions = []*appsv1.ControllerRevision{other}
				s.Revisions[0].OwnerReferences = nil
				s.Revisions[0].Labels = map[string]string{"unrelated": "yes"}
			},
			check: func(t *testing.T, p plan.Plan) {
				if p.Err == nil || p.Status.CollisionCount == nil || *p.Status.CollisionCount != 1 || !p.StatusChanged {
					t.Errorf("Err = %v, CollisionCount = %v, StatusChanged = %v; want error, 1, true", p.Err, p.Status.CollisionCount, p.StatusChanged)
				}
				if len(p.Creates) != 0 || p.Hash != "" {
					t.Errorf("plan goes on after a collision: %v hash %q", actions(p), p.Hash)
				}
			},
		},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			s := plan.Snapshot{
				DaemonSet: ds.DeepCopy(), Nodes: dstest.Nodes(2), Now: dstest.Epoch.Add(time.Hour),
				Revisions: []*appsv1.ControllerRevision{currentRevision(t, ds, 1)},
			}
			tc.edit(&s)
			opts := plan.Options{}
			if strings.HasPrefix(tc.name, "burst") {
				opts.BurstReplicas = 2
			}
			tc.check(t, plan.New(s, opts))
		})
	}
}

func TestNewNilDaemonSet(t *testing.T) {
	p := plan.New(plan.Snapshot{}, plan.Options{})
	if !errors.Is(p.Err, placement.ErrNoDaemonSet) {
		t.Errorf("New(empty).Err = %v, want ErrNoDaemonSet", p.Err)
	}
}

func TestWrites(t *testing.T) {
	for _, tc := range []struct {
		name string
		p    plan.Plan
		want bool
	}{
		{name: "zero", p: plan.Plan{}},
		{name: "hash, status and requeue are not writes", p: plan.Plan{Hash: "h", Status: appsv1.DaemonSetStatus{NumberReady: 3}, RequeueAfter: time.Second,
			Warnings: []placement.Warning{{Message: "w"}}}},
		{name: "create", p: plan.Plan{Creates: []plan.Create{{Node: "n"}}}, want: true},
		{name: "delete", p: plan.Plan{Deletes: []plan.Delete{{Pod: "a"}}}, want: true},
		{name: "pod patch", p: plan.Plan{PodPatches: []revision.PodPatch{{Pod: "a"}}}, want: true},
		{name: "claim", p: plan.Plan{Claims: []placement.Claim{{Name: "a"}}}, want: true},
		{name: "revision create", p: plan.Plan{Revisions: plan.Revisions{Create: []*appsv1.ControllerRevision{{}}}}, want: true},
		{name: "revision update", p: plan.Plan{Revisions: plan.Revisions{Update: []*appsv1.ControllerRevision{{}}}}, want: true},
		{name: "revision delete", p: plan.Plan{Revisions: plan.Revisions{Delete: []string{"r"}}}, want: true},
		{name: "status", p: plan.Plan{StatusChanged: true}, want: true},
	} {
		t.Run(tc.name, func(t *testing.T) {
			if got := tc.p.Writes(); got != tc.want {
				t.Errorf("Writes() = %v, want %v", got, tc.want)
			}
		})
	}
}

func TestNewWarnsOnUnsetHistoryLimit(t *testing.T) {
	ds := dstest.DaemonSet("agent")
	ds.Spec.RevisionHistoryLimit = nil
	p := plan.New(plan.Snapshot{DaemonSet: ds, Nodes: dstest.Nodes(1), Now: dstest.Epoch}, plan.Options{})
	if !slices.ContainsFunc(p.Warnings, func(w placement.Warning) bool { return w.Field == "spec.revisionHistoryLimit" }) {
		t.Errorf("Warnings = %v, want one for spec.revisionHistoryLimit", p.Warnings)
	}
	if p.Err != nil || len(p.Creates) != 1 {
		t.Errorf("plan = %v, err %v; want one create and no error", actions(p), p.Err)
	}
}

// TestNewIgnoresNilEntries: nil nodes, pods and revisions are skipped, with
// a warning for each list, through New and through a Cluster; the rest of
// the plan is the plan without them.
func TestNewIgnoresNilEntries(t *testing.T) {
	ds := dstest.DaemonSet("agent")
	nodes := dstest.Nodes(3)
	pods := []*corev1.Pod{dstest.Pod(ds, "agent-a", nodes[0].Name, ""), dstest.Pod(ds, "agent-b", "gone", "")}
	clean := plan.Snapshot{DaemonSet: ds, Nodes: nodes, Pods: pods, Now: dstest.Epoch}
	want := plan.New(clean, plan.Options{})

	withNils := clean
	withNils.Nodes = []*corev1.Node{nil, nodes[0], nodes[1], nil, nodes[2]}
	withNils.Pods = []*corev1.Pod{pods[0], nil, pods[1]}
	withNils.Revisions = []*appsv1.ControllerRevision{nil}
	wantWarnings := append(slices.Clone(want.Warnings),
		placement.Warning{Field: "Snapshot.Nodes", Message: "2 nil entries ignored"},
		placement.Warning{Field: "Snapshot.Pods", Message: "1 nil entries ignored"})
	for name, got := range map[string]plan.Plan{
		"New":     plan.New(withNils, plan.Options{}),
		"Cluster": plan.NewCluster(withNils.Nodes).Plan(withNils, plan.Options{}),
	} {
		if diff := cmp.Diff(wantWarnings, got.Warnings); diff != "" {
			t.Errorf("%s: warnings (-want +got):\n%s", name, diff)
		}
		got.Warnings = want.Warnings
		if diff := cmp.Diff(want, got, cmp.Comparer(errorsEqual)); diff != "" {
			t.Errorf("%s: plan differs from the plan without nil entries (-want +got):\n%s", name, diff)
		}
	}
}

// TestDecodeCompactsRevisionData: `kubectl get -o json` re-indents a
// ControllerRevision's data; Decode compacts it back, so the current
// revision is matched and no collision is reported.
func TestDecodeCompactsRevisionData(t *testing.T) {
	ds := dstest.DaemonSet("agent")
	rev := currentRevision(t, ds, 1)
	var indented bytes.Buffer
	if err := json.Indent(&indented, rev.Data.Raw, "", "    "); err != nil {
		t.Fatal(err)
	}
	rev.Data.Raw = indented.Bytes()
	ds.TypeMeta = metav1.TypeMeta{APIVersion: "apps/v1", Kind: "DaemonSet"}
	rev.TypeMeta = metav1.TypeMeta{APIVersion: "apps/v1", Kind: "ControllerRevision"}
	list := map[string]any{"apiVersion": "v1", "kind": "List", "items": []any{ds, rev}}
	data, err := json.MarshalIndent(list, "", "    ")
	if err != nil {
		t.Fatal(err)
	}
	s, _, err := plan.Decode(data)
	if err != nil {
		t.Fatal(err)
	}
	s.Now = dstest.Epoch
	p := plan.New(s, plan.Options{})
	if p.Err != nil || len(p.Revisions.Create) > 0 || p.Hash != rev.Labels[appsv1.DefaultDaemonSetUniqueLabelKey] {
		t.Errorf("plan of a kubectl -o json dump: err %v, %d revisions created, hash %q; want the existing revision %s", p.Err, len(p.Revisions.Create), p.Hash, rev.Name)
	}
}
