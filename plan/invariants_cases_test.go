package plan_test

// Deliberately broken planners show that every invariant can fail: each
// wraps plan.New and breaks one promise. TestInvariantBrokenPlanners runs
// the state machine against each and expects the invariant to catch it;
// the shrunk counterexamples it found are the named table cases of
// TestInvariantCounterexamples, which check that plan.New passes them and
// the broken planner does not.

import (
	"cmp"
	"flag"
	"fmt"
	"slices"
	"strings"
	"testing"
	"time"

	appsv1 "k8s.io/api/apps/v1"
	corev1 "k8s.io/api/core/v1"
	"pgregory.net/rapid"

	"github.com/dsplan/dsplan/placement"
	"github.com/dsplan/dsplan/plan"
)

// brokenPlanner is a deliberately wrong planner and the invariant that
// catches it ("Pure" for invariant 5, "Convergence" for the convergence
// property).
type brokenPlanner struct {
	name      string
	pl        planner
	invariant string
}

var brokenPlanners = []brokenPlanner{
	{"IgnoreMaxUnavailable", ignoreMaxUnavailable, "Unavailability"},
	{"DeleteOldBeforeNewAvailable", deleteOldBeforeNewAvailable, "Unavailability"},
	{"CreateNextToOldWithoutSurge", createNextToOldWithoutSurge, "PodsPerNode"},
	{"IgnoreMaxSurge", ignoreMaxSurge, "PodsPerNode"},
	{"CreateWherePlacementForbids", createWherePlacementForbids, "Placement"},
	{"SkipDeletesOnTaintedNodes", skipDeletesOnTaintedNodes, "Placement"},
	{"AvailableCountsReady", availableCountsReady, "StatusArithmetic"},
	{"ReplaceInInputOrder", replaceInInputOrder, "Pure"},
	{"SortsInputInPlace", sortsInputInPlace, "Pure"},
	{"NeverReplaceAvailable", neverReplaceAvailable, "Convergence"},
}

// checksFor returns the checks that isolate one invariant (the others
// would catch some broken planners first).
func checksFor(name string) checks {
	switch name {
	case "Pure":
		return checks{pure: true}
	case "Convergence":
		return checks{converge: true}
	}
	return checks{invariants: []invariant{invariantNamed(name)}}
}

// oldPods returns the live claimed pods of s on existing nodes that do not
// carry hash, by node name.
func oldPods(s plan.Snapshot, hash string) map[string][]*corev1.Pod {
	exists := map[string]bool{}
	for _, n := range s.Nodes {
		exists[n.Name] = true
	}
	out := map[string][]*corev1.Pod{}
	for _, pod := range claimedPods(s) {
		if !live(pod) || pod.Labels[appsv1.DefaultDaemonSetUniqueLabelKey] == hash {
			continue
		}
		if node, err := placement.TargetNodeName(pod); err == nil && exists[node] {
			out[node] = append(out[node], pod)
		}
	}
	return out
}

func sortPlan(p *plan.Plan) {
	slices.SortFunc(p.Creates, func(a, b plan.Create) int { return strings.Compare(a.Node, b.Node) })
	slices.SortFunc(p.Deletes, func(a, b plan.Delete) int { return strings.Compare(a.Pod, b.Pod) })
}

// rollingOnly reports whether p's pod actions all come from the rolling
// update (the manage pass had nothing to do).
func rollingOnly(p plan.Plan) bool {
	for _, c := range p.Creates {
		if c.Reason == plan.CreateMissing {
			return false
		}
	}
	for _, d := range p.Deletes {
		switch d.Reason {
		case plan.DeleteReplace, plan.DeleteReplaceUnavailable, plan.DeleteSurgeReplaced, plan.DeleteSurgeIneligible, plan.DeleteSurgeSunset:
		default:
			return false
		}
	}
	return true
}

func hasSurge(ds *appsv1.DaemonSet, desired int) bool {
	s, _ := budgets(ds, desired)
	return s > 0
}

func rolling(ds *appsv1.DaemonSet) bool {
	return ds.Spec.UpdateStrategy.Type == appsv1.RollingUpdateDaemonSetStrategyType
}

// ignoreMaxUnavailable deletes every old pod at once when the rolling
// update (without surge) runs.
func ignoreMaxUnavailable(s plan.Snapshot, opts plan.Options) plan.Plan {
	p := plan.New(s, opts)
	if !rolling(s.DaemonSet) || hasSurge(s.DaemonSet, 1) || p.Hash == "" || !rollingOnly(p) {
		return p
	}
	deleted := map[string]bool{}
	for _, d := range p.Deletes {
		deleted[d.Pod] = true
	}
	for node, pods := range oldPods(s, p.Hash) {
		for _, pod := range pods {
			if !deleted[pod.Name] {
				p.Deletes = append(p.Deletes, plan.Delete{Pod: pod.Name, Node: node, Reason: plan.DeleteReplace})
			}
		}
	}
	sortPlan(&p)
	return p
}

// deleteOldBeforeNewAvailable, with surge, deletes the old pod as soon as
// its node has a new pod, available or not.
func deleteOldBeforeNewAvailable(s plan.Snapshot, opts plan.Options) plan.Plan {
	p := plan.New(s, opts)
	if !hasSurge(s.DaemonSet, 1) || p.Hash == "" {
		return p
	}
	deleted := map[string]bool{}
	for _, d := range p.Deletes {
		deleted[d.Pod] = true
	}
	old := oldPods(s, p.Hash)
	for _, pod := range claimedPods(s) {
		if !live(pod) || pod.Labels[appsv1.DefaultDaemonSetUniqueLabelKey] != p.Hash {
			continue
		}
		node, _ := placement.TargetNodeName(pod)
		for _, o := range old[node] {
			if !deleted[o.Name] {
				deleted[o.Name] = true
				p.Deletes = append(p.Deletes, plan.Delete{Pod: o.Name, Node: node, Reason: plan.DeleteSurgeNewAvailable})
			}
		}
	}
	sortPlan(&p)
	return p
}

// createNextToOldWithoutSurge replaces old pods by surging even though
// maxSurge is 0: instead of deleting an old pod, it creates a new one next
// to it.
func createNextToOldWithoutSurge(s plan.Snapshot, opts plan.Options) plan.Plan {
	p := plan.New(s, opts)
	if !rolling(s.DaemonSet) || hasSurge(s.DaemonSet, 1) {
		return p
	}
	eval := placement.New(s.DaemonSet, opts.Placement)
	kept := p.Deletes[:0:0]
	for _, d := range p.Deletes {
		if d.Reason != plan.DeleteReplace {
			kept = append(kept, d)
			continue
		}
		p.Creates = append(p.Creates, plan.Create{Node: d.Node, Reason: plan.CreateSurge, Pod: eval.NewPod(d.Node, p.Hash)})
	}
	p.Deletes = kept
	sortPlan(&p)
	return p
}

// ignoreMaxSurge surges onto every node with an old pod at once.
func ignoreMaxSurge(s plan.Snapshot, opts plan.Options) plan.Plan {
	p := plan.New(s, opts)
	if !rolling(s.DaemonSet) || !hasSurge(s.DaemonSet, 1) || p.Hash == "" || !rollingOnly(p) {
		return p
	}
	eval := placement.New(s.DaemonSet, opts.Placement)
	created := map[string]bool{}
	for _, c := range p.Creates {
		created[c.Node] = true
	}
	hasNew := map[string]bool{}
	for _, pod := range claimedPods(s) {
		if live(pod) && pod.Labels[appsv1.DefaultDaemonSetUniqueLabelKey] == p.Hash {
			node, _ := placement.TargetNodeName(pod)
			hasNew[node] = true
		}
	}
	for _, n := range s.Nodes {
		if len(oldPods(s, p.Hash)[n.Name]) == 1 && !hasNew[n.Name] && !created[n.Name] && eval.Evaluate(n).ShouldRun {
			p.Creates = append(p.Creates, plan.Create{Node: n.Name, Reason: plan.CreateSurge, Pod: eval.NewPod(n.Name, p.Hash)})
		}
	}
	sortPlan(&p)
	return p
}

// createWherePlacementForbids creates a pod on every node without daemon
// pods, whatever its labels and taints.
func createWherePlacementForbids(s plan.Snapshot, opts plan.Options) plan.Plan {
	p := plan.New(s, opts)
	if p.Hash == "" || s.PendingExpectations {
		return p
	}
	v := newView(s, opts, p)
	eval := placement.New(s.DaemonSet, opts.Placement)
	for _, n := range s.Nodes {
		if len(v.pods[n.Name]) == 0 && v.created[n.Name] == 0 {
			p.Creates = append(p.Creates, plan.Create{Node: n.Name, Reason: plan.CreateMissing, Pod: eval.NewPod(n.Name, p.Hash)})
		}
	}
	sortPlan(&p)
	return p
}

// skipDeletesOnTaintedNodes forgets to delete pods on nodes with a NoExecute
// taint.
func skipDeletesOnTaintedNodes(s plan.Snapshot, opts plan.Options) plan.Plan {
	p := plan.New(s, opts)
	tainted := map[string]bool{}
	for _, n := range s.Nodes {
		for _, t := range n.Spec.Taints {
			if t.Effect == corev1.TaintEffectNoExecute {
				tainted[n.Name] = true
			}
		}
	}
	p.Deletes = slices.DeleteFunc(p.Deletes, func(d plan.Delete) bool { return tainted[d.Node] })
	return p
}

// availableCountsReady forgets minReadySeconds when counting available
// pods in the status.
func availableCountsReady(s plan.Snapshot, opts plan.Options) plan.Plan {
	p := plan.New(s, opts)
	p.Status.NumberAvailable = p.Status.NumberReady
	return p
}

// replaceInInputOrder picks the old pods the rolling update replaces (when
// the budget is smaller than the candidates) in the order of the input
// node list, as upstream's map iteration picks them at random.
func replaceInInputOrder(s plan.Snapshot, opts plan.Options) plan.Plan {
	p := plan.New(s, opts)
	var replaced int
	for _, d := range p.Deletes {
		if d.Reason == plan.DeleteReplace {
			replaced++
		}
	}
	if replaced == 0 {
		return p
	}
	// The candidates: desired nodes whose only pod not being deleted is an
	// available old pod.
	v := newView(s, opts, p)
	p.Deletes = slices.DeleteFunc(p.Deletes, func(d plan.Delete) bool { return d.Reason == plan.DeleteReplace })
	for _, n := range s.Nodes {
		var pods []*corev1.Pod
		for _, pod := range v.pods[n.Name] {
			if pod.DeletionTimestamp == nil {
				pods = append(pods, pod)
			}
		}
		if replaced > 0 && len(pods) == 1 && !v.isNew(pods[0]) && v.available(pods[0]) {
			p.Deletes = append(p.Deletes, plan.Delete{Pod: pods[0].Name, Node: n.Name, Reason: plan.DeleteReplace})
			replaced--
		}
	}
	sortPlan(&p)
	return p
}

// sortsInputInPlace sorts the caller's pod list by name before planning.
func sortsInputInPlace(s plan.Snapshot, opts plan.Options) plan.Plan {
	slices.SortFunc(s.Pods, func(a, b *corev1.Pod) int { return cmp.Compare(a.Name, b.Name) })
	return plan.New(s, opts)
}

// neverReplaceAvailable never replaces an available old pod (the rolling
// update only replaces unavailable ones), so a rollout never completes.
func neverReplaceAvailable(s plan.Snapshot, opts plan.Options) plan.Plan {
	p := plan.New(s, opts)
	p.Deletes = slices.DeleteFunc(p.Deletes, func(d plan.Delete) bool {
		return d.Reason == plan.DeleteReplace || d.Reason == plan.DeleteSurgeReplaced || d.Reason == plan.DeleteSurgeNewAvailable
	})
	p.Creates = slices.DeleteFunc(p.Creates, func(c plan.Create) bool { return c.Reason == plan.CreateSurge })
	return p
}

// recorder is a rapid.TB that records a failing check instead of failing
// the test, so a test can expect rapid to find a counterexample.
type recorder struct {
	name   string
	failed bool
	out    strings.Builder
}

func (r *recorder) Helper()                    {}
func (r *recorder) Name() string               { return r.name }
func (r *recorder) Logf(f string, args ...any) { fmt.Fprintf(&r.out, f+"\n", args...) }
func (r *recorder) Log(args ...any)            { fmt.Fprintln(&r.out, args...) }
func (r *recorder) Skipf(f string, args ...any) {
	r.Logf(f, args...)
}
func (r *recorder) Skip(args ...any)             { r.Log(args...) }
func (r *recorder) SkipNow()                     {}
func (r *recorder) Errorf(f string, args ...any) { r.failed = true; r.Logf(f, args...) }
func (r *recorder) Error(args ...any)            { r.failed = true; r.Log(args...) }
func (r *recorder) Fatalf(f string, args ...any) { r.Errorf(f, args...) }
func (r *recorder) Fatal(args ...any)            { r.Error(args...) }
func (r *recorder) FailNow()                     { r.failed = true }
func (r *recorder) Fail()                        { r.failed = true }
func (r *recorder) Failed() bool                 { return r.failed }

var brokenShrinkTime = flag.Duration("invariants.shrinktime", 2*time.Second,
	"rapid shrink time for each broken planner in TestInvariantBrokenPlanners")

// TestInvariantBrokenPlanners runs the state machine against every broken
// planner, with only the invariant meant to catch it, and expects rapid to
// find a counterexample; it logs the shrunk one. Shrinking is limited to
// -invariants.shrinktime per planner.
func TestInvariantBrokenPlanners(t *testing.T) {
	t.Chdir(t.TempDir()) // rapid writes fail files under ./testdata
	shrink := flag.Lookup("rapid.shrinktime")
	old := shrink.Value.String()
	if err := shrink.Value.Set(brokenShrinkTime.String()); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = shrink.Value.Set(old) })
	for _, b := range brokenPlanners {
		t.Run(b.name, func(t *testing.T) {
			r := &recorder{name: t.Name()}
			rapid.Check(r, stateMachine(b.pl, checksFor(b.invariant)))
			out := r.out.String()
			if !r.failed {
				t.Fatalf("the state machine did not catch %s:\n%s", b.name, out)
			}
			want := "invariant " + b.invariant + ":"
			if b.invariant == "Convergence" {
				want = "convergence:"
			}
			if !strings.Contains(out, want) {
				t.Errorf("%s failed, but not with %q:\n%s", b.name, want, out)
			}
			t.Logf("counterexample for %s:\n%s", b.name, out)
		})
	}
}
