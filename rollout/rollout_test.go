package rollout_test

import (
	"errors"
	"fmt"
	"strings"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
	appsv1 "k8s.io/api/apps/v1"
	corev1 "k8s.io/api/core/v1"
	"k8s.io/apimachinery/pkg/util/intstr"

	"github.com/dsplan/dsplan/internal/dstest"
	"github.com/dsplan/dsplan/placement"
	"github.com/dsplan/dsplan/rollout"
)

func ptr[T any](v T) *T { return &v }

func TestBudgets(t *testing.T) {
	tests := []struct {
		name     string
		strategy appsv1.DaemonSetUpdateStrategy
		desired  int
		want     rollout.Budget
	}{
		{
			name:     "ints",
			strategy: rolling(ptr(intstr.FromInt32(2)), ptr(intstr.FromInt32(3))),
			desired:  10,
			want:     rollout.Budget{Desired: 10, MaxUnavailable: 2, MaxSurge: 3},
		},
		{
			name:     "percent rounds up: 90% of 95 is 86",
			strategy: rolling(ptr(intstr.FromString("90%")), nil),
			desired:  95,
			want:     rollout.Budget{Desired: 95, MaxUnavailable: 86},
		},
		{
			name:     "surge percent rounds up: 10% of 11 is 2",
			strategy: rolling(ptr(intstr.FromInt32(0)), ptr(intstr.FromString("10%"))),
			desired:  11,
			want:     rollout.Budget{Desired: 11, MaxSurge: 2},
		},
		{
			name:     "both zero fall back to maxUnavailable 1",
			strategy: rolling(ptr(intstr.FromInt32(0)), ptr(intstr.FromInt32(0))),
			desired:  3,
			want:     rollout.Budget{Desired: 3, MaxUnavailable: 1, Fallback: true},
		},
		{
			name:     "both zero with nothing desired stay zero",
			strategy: rolling(ptr(intstr.FromInt32(0)), ptr(intstr.FromInt32(0))),
			desired:  0,
			want:     rollout.Budget{},
		},
		{
			name:     "0% of a small fleet falls back too",
			strategy: rolling(ptr(intstr.FromString("0%")), nil),
			desired:  4,
			want:     rollout.Budget{Desired: 4, MaxUnavailable: 1, Fallback: true},
		},
		{
			name:     "nil maxSurge means no surge",
			strategy: rolling(ptr(intstr.FromInt32(1)), nil),
			desired:  2,
			want:     rollout.Budget{Desired: 2, MaxUnavailable: 1},
		},
		{
			name:     "nil rollingUpdate falls back to maxUnavailable 1, as upstream",
			strategy: appsv1.DaemonSetUpdateStrategy{Type: appsv1.RollingUpdateDaemonSetStrategyType},
			desired:  2,
			want:     rollout.Budget{Desired: 2, MaxUnavailable: 1, Fallback: true},
		},
		{
			name:     "nil rollingUpdate with nothing desired has no budget",
			strategy: appsv1.DaemonSetUpdateStrategy{Type: appsv1.RollingUpdateDaemonSetStrategyType},
			desired:  0,
			want:     rollout.Budget{},
		},
		{
			name:     "OnDelete has no budget",
			strategy: appsv1.DaemonSetUpdateStrategy{Type: appsv1.OnDeleteDaemonSetStrategyType},
			desired:  2,
			want:     rollout.Budget{Desired: 2},
		},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			ds := dstest.DaemonSet("agent")
			ds.Spec.UpdateStrategy = tc.strategy
			got, err := rollout.Budgets(ds, tc.desired)
			if err != nil {
				t.Fatalf("Budgets() error = %v", err)
			}
			if got != tc.want {
				t.Errorf("Budgets() = %+v, want %+v", got, tc.want)
			}
		})
	}
}

func TestBudgetsErrors(t *testing.T) {
	tests := []struct {
		name     string
		strategy appsv1.DaemonSetUpdateStrategy
		want     string
	}{
		{name: "nil maxUnavailable, as upstream", strategy: rolling(nil, nil), want: "MaxUnavailable"},
		{name: "unparsable maxUnavailable", strategy: rolling(ptr(intstr.FromString("ten")), nil), want: "MaxUnavailable"},
		{name: "unparsable maxSurge", strategy: rolling(ptr(intstr.FromInt32(1)), ptr(intstr.FromString("1x%"))), want: "MaxSurge"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			ds := dstest.DaemonSet("agent")
			ds.Spec.UpdateStrategy = tc.strategy
			got, err := rollout.Budgets(ds, 5)
			if err == nil || !contains(err.Error(), tc.want) {
				t.Errorf("Budgets() = %+v, %v; want an error naming %s", got, err, tc.want)
			}
			if got != (rollout.Budget{}) {
				t.Errorf("Budgets() = %+v with an error, want the zero Budget", got)
			}
		})
	}
}

func TestAllowsSurge(t *testing.T) {
	tests := []struct {
		name     string
		strategy appsv1.DaemonSetUpdateStrategy
		want     bool
	}{
		{name: "maxSurge 1", strategy: rolling(ptr(intstr.FromInt32(0)), ptr(intstr.FromInt32(1))), want: true},
		{name: "maxSurge 1% rounds up on one node", strategy: rolling(ptr(intstr.FromInt32(0)), ptr(intstr.FromString("1%"))), want: true},
		{name: "maxSurge 0", strategy: rolling(ptr(intstr.FromInt32(1)), ptr(intstr.FromInt32(0)))},
		{name: "unparsable maxSurge allows none", strategy: rolling(ptr(intstr.FromInt32(1)), ptr(intstr.FromString("x")))},
		{name: "OnDelete", strategy: appsv1.DaemonSetUpdateStrategy{Type: appsv1.OnDeleteDaemonSetStrategyType}},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			ds := dstest.DaemonSet("agent")
			ds.Spec.UpdateStrategy = tc.strategy
			if got := rollout.AllowsSurge(ds); got != tc.want {
				t.Errorf("AllowsSurge() = %v, want %v", got, tc.want)
			}
		})
	}
}

// nodeState describes one node of an Update table case.
type nodeState struct {
	gone       bool // the node object does not exist
	ineligible bool // the DaemonSet should no longer run there (an untolerated NoSchedule taint)
	pods       []string
}

// hash is the current revision of the table cases.
const hash = "cur"

// buildInput groups the nodes of a table case. Pods are written "old",
// "old-unready", "new", "new-unready", "old-deleting".
func buildInput(t *testing.T, ds *appsv1.DaemonSet, states []nodeState) *placement.Grouping {
	t.Helper()
	var nodes []*corev1.Node
	var pods []*corev1.Pod
	for i, ns := range states {
		name := fmt.Sprintf("node-%d", i)
		if !ns.gone {
			node := dstest.Node(name)
			if ns.ineligible {
				dstest.Taint("dedicated", "other", corev1.TaintEffectNoSchedule)(node)
			}
			nodes = append(nodes, node)
		}
		for j, kind := range ns.pods {
			h := "old"
			var mods []func(*corev1.Pod)
			switch kind {
			case "new", "new-unready":
				h = hash
			}
			switch kind {
			case "old-unready", "new-unready":
				mods = append(mods, dstest.NotReady)
			case "old-deleting":
				mods = append(mods, dstest.Deleting)
			case "old", "new":
			default:
				t.Fatalf("unknown pod kind %q", kind)
			}
			pods = append(pods, dstest.Pod(ds, fmt.Sprintf("%s-%s-%d", name, kind, j), name, h, mods...))
		}
	}
	return dstest.Group(ds, hash, dstest.Epoch.Add(time.Hour), nodes, pods)
}

func summary(p rollout.Plan) []string {
	var out []string
	for _, d := range p.Deletes {
		out = append(out, fmt.Sprintf("delete %s (%s)", d.Pod.Name, d.Reason))
	}
	for _, c := range p.Creates {
		out = append(out, fmt.Sprintf("create %s (%s)", c.Node, c.Reason))
	}
	return out
}

func TestUpdate(t *testing.T) {
	old := nodeState{pods: []string{"old"}}
	tests := []struct {
		name           string
		maxUnavailable intstr.IntOrString
		maxSurge       intstr.IntOrString
		nodes          []nodeState
		want           []string
	}{
		{
			name: "replace within maxUnavailable in node-name order", maxUnavailable: intstr.FromInt32(2),
			nodes: []nodeState{old, old, old},
			want:  []string{"delete node-0-old-0 (Replace)", "delete node-1-old-0 (Replace)"},
		},
		{
			name: "an unavailable old pod is replaced for free", maxUnavailable: intstr.FromInt32(1),
			nodes: []nodeState{{pods: []string{"old-unready"}}, old},
			want:  []string{"delete node-0-old-unready-0 (ReplaceUnavailable)"},
		},
		{
			name: "an unavailable new pod blocks the budget", maxUnavailable: intstr.FromInt32(1),
			nodes: []nodeState{{pods: []string{"new-unready"}}, old},
		},
		{
			name: "a node without pods counts as unavailable", maxUnavailable: intstr.FromInt32(1),
			nodes: []nodeState{{}, old},
		},
		{
			name: "a node with old and new pods counts as unavailable", maxUnavailable: intstr.FromInt32(2),
			nodes: []nodeState{{pods: []string{"old", "new"}}, old, old},
			want:  []string{"delete node-1-old-0 (Replace)"},
		},
		{
			name: "deleting pods are ignored", maxUnavailable: intstr.FromInt32(1),
			nodes: []nodeState{{pods: []string{"old-deleting", "new"}}, old},
			want:  []string{"delete node-1-old-0 (Replace)"},
		},
		{
			name: "surge within maxSurge", maxSurge: intstr.FromInt32(1),
			nodes: []nodeState{old, old},
			want:  []string{"create node-0 (Surge)"},
		},
		{
			name: "surge next to an unavailable old pod is free", maxSurge: intstr.FromInt32(1),
			nodes: []nodeState{{pods: []string{"old-unready"}}, old},
			want:  []string{"create node-0 (SurgeUnavailable)", "create node-1 (Surge)"},
		},
		{
			name: "surge: an available new pod retires the old one", maxSurge: intstr.FromInt32(1),
			nodes: []nodeState{{pods: []string{"old", "new"}}, old},
			want:  []string{"delete node-0-old-0 (SurgeReplaced)", "create node-1 (Surge)"},
		},
		{
			name: "surge: an unavailable new pod uses the budget", maxSurge: intstr.FromInt32(1),
			nodes: []nodeState{{pods: []string{"old", "new-unready"}}, old},
		},
		{
			name: "surge: an unavailable old pod on an ineligible node goes", maxSurge: intstr.FromInt32(1),
			nodes: []nodeState{{ineligible: true, pods: []string{"old-unready"}}, {pods: []string{"new"}}},
			want:  []string{"delete node-0-old-unready-0 (SurgeIneligible)"},
		},
		{
			name: "surge: an available old pod on an ineligible node goes only while more are available than desired", maxSurge: intstr.FromInt32(1),
			nodes: []nodeState{{ineligible: true, pods: []string{"old"}}, {pods: []string{"new"}}},
			want:  []string{"delete node-0-old-0 (SurgeSunset)"},
		},
		{
			name: "surge: no sunset while availability would drop below desired", maxSurge: intstr.FromInt32(1),
			nodes: []nodeState{{ineligible: true, pods: []string{"old"}}, {pods: []string{"new-unready"}}},
		},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			ds := dstest.DaemonSet("agent", dstest.RollingUpdate(tc.maxUnavailable, tc.maxSurge))
			got, err := rollout.Update(ds, buildInput(t, ds, tc.nodes), rollout.Options{})
			if err != nil {
				t.Fatalf("Update() error = %v", err)
			}
			if diff := cmp.Diff(tc.want, summary(got)); diff != "" {
				t.Errorf("Update() (-want +got):\n%s", diff)
			}
		})
	}
}

func TestUpdateSurgeVanishedNode(t *testing.T) {
	ds := dstest.DaemonSet("agent", dstest.RollingUpdate(intstr.FromInt32(0), intstr.FromInt32(1)))
	_, err := rollout.Update(ds, buildInput(t, ds, []nodeState{{pods: []string{"old"}}, {gone: true, pods: []string{"old"}}}), rollout.Options{})
	if !errors.Is(err, rollout.ErrNodeNotFound) {
		t.Errorf("Update() error = %v, want ErrNodeNotFound", err)
	}
	// The message is upstream's.
	if want := `couldn't get node for nodeName "node-1": node "node-1" not found`; err == nil || err.Error() != want {
		t.Errorf("Update() error = %v, want %q", err, want)
	}
}

func TestUpdateOnDeleteDoesNothing(t *testing.T) {
	ds := dstest.DaemonSet("agent", dstest.OnDelete)
	got, err := rollout.Update(ds, buildInput(t, ds, []nodeState{{pods: []string{"old"}}}), rollout.Options{})
	if err != nil || len(got.Deletes)+len(got.Creates) != 0 {
		t.Errorf("Update(OnDelete) = %v, %v; want nothing", summary(got), err)
	}
}

func rolling(maxUnavailable, maxSurge *intstr.IntOrString) appsv1.DaemonSetUpdateStrategy {
	return appsv1.DaemonSetUpdateStrategy{
		Type:          appsv1.RollingUpdateDaemonSetStrategyType,
		RollingUpdate: &appsv1.RollingUpdateDaemonSet{MaxUnavailable: maxUnavailable, MaxSurge: maxSurge},
	}
}

func contains(s, sub string) bool { return strings.Contains(s, sub) }

// TestNilDaemonSet: the rollout functions take a nil DaemonSet without
// panicking.
func TestNilDaemonSet(t *testing.T) {
	if b, err := rollout.Budgets(nil, 3); err != nil || b != (rollout.Budget{Desired: 3}) {
		t.Errorf("Budgets(nil, 3) = %+v, %v; want no budget", b, err)
	}
	if n, err := rollout.SurgeCount(nil, 3); err != nil || n != 0 {
		t.Errorf("SurgeCount(nil, 3) = %d, %v; want 0", n, err)
	}
	if rollout.AllowsSurge(nil) {
		t.Error("AllowsSurge(nil) = true")
	}
	if _, err := rollout.Update(nil, nil, rollout.Options{}); !errors.Is(err, placement.ErrNoDaemonSet) {
		t.Errorf("Update(nil, nil) error = %v, want placement.ErrNoDaemonSet", err)
	}
}
