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
	"slices"
	"strconv"
	"strings"
	"testing"
	"time"

	appsv1 "k8s.io/api/apps/v1"
	corev1 "k8s.io/api/core/v1"
	"pgregory.net/rapid"

	"github.com/dsplan/dsplan/internal/dstest"
	"github.com/dsplan/dsplan/internal/model"
	"github.com/dsplan/dsplan/placement"
	"github.com/dsplan/dsplan/plan"
	"github.com/dsplan/dsplan/revision"
	"github.com/dsplan/dsplan/rollout"
)

// brokenPlanner is a deliberately wrong planner and the invariant that
// catches it ("Pure" for invariant 5, "Convergence" for the convergence
// property).
type brokenPlanner struct {
	name      string
	pl        planFunc
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
func checksFor(name string) checkSet {
	switch name {
	case "Pure":
		return checkSet{pure: true}
	case "Convergence":
		return checkSet{converge: true}
	}
	return checkSet{invariants: []invariant{invariantNamed(name)}}
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
		if !isLive(pod) || pod.Labels[appsv1.DefaultDaemonSetUniqueLabelKey] == hash {
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
		if c.Reason == rollout.CreateMissing {
			return false
		}
	}
	for _, d := range p.Deletes {
		switch d.Reason {
		case rollout.DeleteReplace, rollout.DeleteReplaceUnavailable, rollout.DeleteSurgeReplaced, rollout.DeleteSurgeIneligible, rollout.DeleteSurgeSunset:
		default:
			return false
		}
	}
	return true
}

func hasSurge(ds *appsv1.DaemonSet, desired int) bool {
	s, _ := rollingBudgets(ds, desired)
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
				p.Deletes = append(p.Deletes, plan.Delete{Pod: pod.Name, Node: node, Reason: rollout.DeleteReplace})
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
		if !isLive(pod) || pod.Labels[appsv1.DefaultDaemonSetUniqueLabelKey] != p.Hash {
			continue
		}
		node, _ := placement.TargetNodeName(pod)
		for _, o := range old[node] {
			if !deleted[o.Name] {
				deleted[o.Name] = true
				p.Deletes = append(p.Deletes, plan.Delete{Pod: o.Name, Node: node, Reason: rollout.DeleteSurgeNewAvailable})
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
		if d.Reason != rollout.DeleteReplace {
			kept = append(kept, d)
			continue
		}
		p.Creates = append(p.Creates, plan.Create{Node: d.Node, Reason: rollout.CreateSurge, Pod: eval.NewPod(d.Node, p.Hash)})
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
		if isLive(pod) && pod.Labels[appsv1.DefaultDaemonSetUniqueLabelKey] == p.Hash {
			node, _ := placement.TargetNodeName(pod)
			hasNew[node] = true
		}
	}
	for _, n := range s.Nodes {
		if len(oldPods(s, p.Hash)[n.Name]) == 1 && !hasNew[n.Name] && !created[n.Name] && eval.Evaluate(n).ShouldRun() {
			p.Creates = append(p.Creates, plan.Create{Node: n.Name, Reason: rollout.CreateSurge, Pod: eval.NewPod(n.Name, p.Hash)})
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
			p.Creates = append(p.Creates, plan.Create{Node: n.Name, Reason: rollout.CreateMissing, Pod: eval.NewPod(n.Name, p.Hash)})
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
		if d.Reason == rollout.DeleteReplace {
			replaced++
		}
	}
	if replaced == 0 {
		return p
	}
	// The candidates: desired nodes whose only pod not being deleted is an
	// available old pod.
	v := newView(s, opts, p)
	p.Deletes = slices.DeleteFunc(p.Deletes, func(d plan.Delete) bool { return d.Reason == rollout.DeleteReplace })
	for _, n := range s.Nodes {
		var pods []*corev1.Pod
		for _, pod := range v.pods[n.Name] {
			if pod.DeletionTimestamp == nil {
				pods = append(pods, pod)
			}
		}
		if replaced > 0 && len(pods) == 1 && !v.isNew(pods[0]) && v.available(pods[0]) {
			p.Deletes = append(p.Deletes, plan.Delete{Pod: pods[0].Name, Node: n.Name, Reason: rollout.DeleteReplace})
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
		return d.Reason == rollout.DeleteReplace || d.Reason == rollout.DeleteSurgeReplaced || d.Reason == rollout.DeleteSurgeNewAvailable
	})
	p.Creates = slices.DeleteFunc(p.Creates, func(c plan.Create) bool { return c.Reason == rollout.CreateSurge })
	return p
}

var brokenShrinkTime = flag.Duration("invariants.shrinktime", time.Second,
	"rapid shrink time for each broken planner in TestInvariantBrokenPlanners")

// TestInvariantBrokenPlanners runs the state machine against every broken
// planner, with only the invariant meant to catch it, and expects rapid to
// find a counterexample; it logs the shrunk one. Each search runs up to
// 1000 checks (more with a larger -rapid.checks; it stops at the first
// failure, usually within a few dozen), and shrinking is limited to
// -invariants.shrinktime per planner.
func TestInvariantBrokenPlanners(t *testing.T) {
	t.Chdir(t.TempDir()) // rapid writes fail files under ./testdata
	dstest.SetFlag(t, "rapid.shrinktime", brokenShrinkTime.String())
	if checks, _ := strconv.Atoi(flag.Lookup("rapid.checks").Value.String()); checks < 1000 {
		dstest.SetFlag(t, "rapid.checks", "1000")
	}
	for _, b := range brokenPlanners {
		t.Run(b.name, func(t *testing.T) {
			r := dstest.NewRecorder(t.Name())
			rapid.Check(r, stateMachine(b.pl, checksFor(b.invariant)))
			out := r.Output()
			if !r.Failed() {
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

// reversedOrder is the permutation that reverses a list.
func reversedOrder(n int, _ string) []int {
	order := make([]int, n)
	for i := range order {
		order[i] = n - 1 - i
	}
	return order
}

// verifyInvariant checks one invariant (or "Pure", or "Convergence") for the plan
// pl makes for s; invariant 5 compares s with its reversal, convergence
// starts a model cluster from s.
func verifyInvariant(pl planFunc, name string, s plan.Snapshot, opts plan.Options) error {
	switch name {
	case "Pure":
		_, err := checkPure(pl, s, permuted(s, reversedOrder(len(s.Nodes), ""), reversedOrder(len(s.Pods), ""),
			reversedOrder(len(s.Revisions), "")), opts)
		return err
	case "Convergence":
		m := &machine{pl: pl, opts: opts, c: model.FromSnapshot(s), checks: checkSet{converge: true}, reorder: reversedOrder}
		_, err := m.converge()
		return err
	}
	return checksFor(name).run(s, opts, pl(deepCopySnapshot(s), opts))
}

// verifyEverything checks everything for plan.New: every invariant, invariant 5
// and convergence (with every check on the way).
func verifyEverything(s plan.Snapshot, opts plan.Options) error {
	if err := allChecks.run(s, opts, plan.New(s, opts)); err != nil {
		return err
	}
	if err := verifyInvariant(plan.New, "Pure", s, opts); err != nil {
		return err
	}
	m := &machine{pl: plan.New, opts: opts, c: model.FromSnapshot(s), checks: allChecks, reorder: reversedOrder}
	_, err := m.converge()
	return err
}

// The counterexamples below are the shrunk ones TestInvariantBrokenPlanners
// found (with -invariants.shrinktime=30s), as the snapshot of the failing
// step; the DaemonSet is model's "agent" with the given strategy, just
// changed from LOG_LEVEL info to debug.

const oldTemplateHash = "7bccf7fbdd" // the hash of the template with LOG_LEVEL info

func agentDS(strategy string, mods ...func(*appsv1.DaemonSet)) *appsv1.DaemonSet {
	d := model.DaemonSetDesc{
		Template:             model.TemplateDesc{Tag: "v1", LogLevel: "debug"},
		RevisionHistoryLimit: 10,
	}
	if mu, ms, ok := strings.Cut(strategy, "/"); ok {
		d.Strategy = model.StrategyDesc{Type: string(appsv1.RollingUpdateDaemonSetStrategyType), MaxUnavailable: mu, MaxSurge: ms}
	} else {
		d.Strategy = model.StrategyDesc{Type: strategy}
	}
	ds := d.DaemonSet()
	for _, mod := range mods {
		mod(ds)
	}
	return ds
}

func templateHash(ds *appsv1.DaemonSet) string { return revision.Hash(&ds.Spec.Template, nil) }

// runningPod is a pod of ds on node with hash, created and ready since at.
func runningPod(ds *appsv1.DaemonSet, name, node, hash string, at time.Time) *corev1.Pod {
	return dstest.Pod(ds, name, node, hash, dstest.Created(at), dstest.ReadySince(at))
}

// pendingPod is a pod of ds on node with hash, just created at.
func pendingPod(ds *appsv1.DaemonSet, name, node, hash string, at time.Time) *corev1.Pod {
	return dstest.Pod(ds, name, node, hash, dstest.Created(at), dstest.ReadySince(at), dstest.Phase(corev1.PodPending), dstest.NotReady)
}

func plainNode(name string, taints ...string) *corev1.Node {
	return model.NodeDesc{Name: name, Taints: taints}.Node()
}

// counterexample is a snapshot on which a broken planner fails its
// invariant and plan.New passes everything.
type counterexample struct {
	name   string
	broken string // brokenPlanners name
	snap   func() plan.Snapshot
}

// TestInvariantCounterexamples checks each broken planner's shrunk
// counterexample: plan.New passes every invariant, invariant 5 and
// convergence on it; the broken planner fails its invariant.
func TestInvariantCounterexamples(t *testing.T) {
	t0 := dstest.Epoch
	at := func(s int) time.Time { return t0.Add(time.Duration(s) * time.Second) }
	linuxOnly := dstest.NodeSelector(map[string]string{corev1.LabelOSStable: "linux"})
	minReady30 := dstest.MinReadySeconds(30)
	tests := []counterexample{{
		// After a template change, both nodes run an available old pod;
		// maxUnavailable 1 allows replacing one at a time.
		name:   "TwoOldAvailablePodsBudgetOne",
		broken: "IgnoreMaxUnavailable",
		snap: func() plan.Snapshot {
			ds := agentDS("1/0")
			return plan.Snapshot{DaemonSet: ds, Now: at(2),
				Nodes: []*corev1.Node{plainNode("cp-0"), plainNode("node-1")},
				Pods: []*corev1.Pod{runningPod(ds, "agent-575sk", "cp-0", oldTemplateHash, at(1)),
					runningPod(ds, "agent-9wwpm", "node-1", oldTemplateHash, at(1))}}
		},
	}, {
		// With maxSurge 1 the node runs its available old pod and a new pod
		// that is still pending: the old pod must stay.
		name:   "SurgedNodeWithPendingNewPod",
		broken: "DeleteOldBeforeNewAvailable",
		snap: func() plan.Snapshot {
			ds := agentDS("1/1")
			return plan.Snapshot{DaemonSet: ds, Now: at(2),
				Nodes: []*corev1.Node{plainNode("cp-0")},
				Pods: []*corev1.Pod{runningPod(ds, "agent-xgcxh", "cp-0", oldTemplateHash, at(1)),
					pendingPod(ds, "agent-9wwpm", "cp-0", templateHash(ds), at(2))}}
		},
	}, {
		// Without surge an old pod is replaced by deleting it first.
		name:   "OneOldReadyPodWithoutSurge",
		broken: "CreateNextToOldWithoutSurge",
		snap: func() plan.Snapshot {
			ds := agentDS("1/0")
			return plan.Snapshot{DaemonSet: ds, Now: at(0),
				Nodes: []*corev1.Node{plainNode("cp-0")},
				Pods:  []*corev1.Pod{runningPod(ds, "agent-xgcxh", "cp-0", oldTemplateHash, at(0))}}
		},
	}, {
		// maxSurge 1 allows one surge at a time over two available old pods.
		name:   "TwoOldAvailablePodsSurgeOne",
		broken: "IgnoreMaxSurge",
		snap: func() plan.Snapshot {
			ds := agentDS("1/1")
			return plan.Snapshot{DaemonSet: ds, Now: at(2),
				Nodes: []*corev1.Node{plainNode("cp-0"), plainNode("node-1")},
				Pods: []*corev1.Pod{runningPod(ds, "agent-575sk", "cp-0", oldTemplateHash, at(1)),
					runningPod(ds, "agent-9wwpm", "node-1", oldTemplateHash, at(1))}}
		},
	}, {
		// The node has no kubernetes.io/os label, the template selects linux.
		name:   "NodeWithoutOSLabel",
		broken: "CreateWherePlacementForbids",
		snap: func() plan.Snapshot {
			return plan.Snapshot{DaemonSet: agentDS("OnDelete", linuxOnly), Now: at(0), Nodes: []*corev1.Node{plainNode("cp-0")}}
		},
	}, {
		// node-5 was re-registered without labels and not ready: its pod no
		// longer matches the node selector and must go.
		name:   "NotReadyNodeOutOfSelector",
		broken: "SkipDeletesOnTaintedNodes",
		snap: func() plan.Snapshot {
			ds := agentDS("1/0", linuxOnly)
			return plan.Snapshot{DaemonSet: ds, Now: at(2),
				Nodes: []*corev1.Node{plainNode("cp-0"), plainNode("node-5", "node.kubernetes.io/not-ready:NoExecute")},
				Pods:  []*corev1.Pod{runningPod(ds, "agent-575sk", "node-5", "56fd976fbb", at(1))}}
		},
	}, {
		// minReadySeconds 30 was just set: ready pods are not available yet
		// (one more pod runs on the vanished node cp-0).
		name:   "ReadyPodsWithinMinReadySeconds",
		broken: "AvailableCountsReady",
		snap: func() plan.Snapshot {
			ds := agentDS("1/0", minReady30)
			return plan.Snapshot{DaemonSet: ds, Now: at(1),
				Nodes: []*corev1.Node{plainNode("node-1"), plainNode("node-2"), plainNode("node-4")},
				Pods: []*corev1.Pod{runningPod(ds, "agent-9wwpm", "cp-0", oldTemplateHash, at(0)),
					runningPod(ds, "agent-fpqlp", "node-1", oldTemplateHash, at(0)),
					runningPod(ds, "agent-kgkhr", "node-2", oldTemplateHash, at(0))}}
		},
	}, {
		// Two replacement candidates, budget one: which one goes must not
		// depend on the order of the node list.
		name:   "TwoCandidatesBudgetOne",
		broken: "ReplaceInInputOrder",
		snap: func() plan.Snapshot {
			ds := agentDS("1/0")
			return plan.Snapshot{DaemonSet: ds, Now: at(5),
				Nodes: []*corev1.Node{plainNode("node-1"), plainNode("node-2")},
				Pods: []*corev1.Pod{runningPod(ds, "agent-gwdr7", "node-1", oldTemplateHash, at(3)),
					runningPod(ds, "agent-znx5x", "node-2", oldTemplateHash, at(3))}}
		},
	}, {
		// The pod list is not in name order; planning must leave it so.
		name:   "PodsNotInNameOrder",
		broken: "SortsInputInPlace",
		snap: func() plan.Snapshot {
			ds := agentDS("1/0")
			h := templateHash(ds)
			return plan.Snapshot{DaemonSet: ds, Now: at(1),
				Nodes: []*corev1.Node{plainNode("cp-0"), plainNode("node-1")},
				Pods: []*corev1.Pod{runningPod(ds, "agent-9wwpm", "node-1", h, at(0)),
					runningPod(ds, "agent-575sk", "cp-0", h, at(0))}}
		},
	}, {
		// One available old pod after a template change: the rollout must
		// replace it to finish.
		name:   "OneOldPodAfterTemplateChange",
		broken: "NeverReplaceAvailable",
		snap: func() plan.Snapshot {
			ds := agentDS("1/0")
			return plan.Snapshot{DaemonSet: ds, Now: at(1),
				Nodes: []*corev1.Node{plainNode("cp-0")},
				Pods:  []*corev1.Pod{runningPod(ds, "agent-xgcxh", "cp-0", oldTemplateHash, at(0))}}
		},
	}}
	if h := templateHash(agentDS("OnDelete")); h == oldTemplateHash {
		t.Fatalf("the template's hash is oldTemplateHash %s", h)
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			var b brokenPlanner
			for _, x := range brokenPlanners {
				if x.name == tc.broken {
					b = x
				}
			}
			if b.pl == nil {
				t.Fatalf("no broken planner %q", tc.broken)
			}
			if err := verifyEverything(tc.snap(), plan.Options{}); err != nil {
				t.Errorf("plan.New fails:\n%v", err)
			}
			err := verifyInvariant(b.pl, b.invariant, tc.snap(), plan.Options{})
			if err == nil {
				t.Errorf("%s passes %s, want it caught", b.name, b.invariant)
			} else {
				t.Logf("%s caught by %s: %v", b.name, b.invariant, err)
			}
		})
	}
	// Every broken planner has a counterexample.
	for _, b := range brokenPlanners {
		if !slices.ContainsFunc(tests, func(tc counterexample) bool { return tc.broken == b.name }) {
			t.Errorf("broken planner %s has no counterexample case", b.name)
		}
	}
}
