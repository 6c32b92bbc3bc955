package plan_test

// The invariants of issue 5: properties every plan must have, checked over
// whole histories of churn by a rapid state machine over the model cluster
// (internal/model), and a convergence property once churn stops.
//
// Each invariant is a named check function over a view (a snapshot, the
// options and the plan made for it) returning an error that says what is
// wrong, so table tests call them directly (invariants_cases_test.go).
// The checks do not use packages rollout or status (but for kubectl's
// rollout verdict at the fixpoint): they recompute what they need from
// package placement (the node decisions, pod readiness and availability)
// and from kube-controller-manager v1.37.2's rules, cited at each
// exception.

import (
	"errors"
	"fmt"
	"maps"
	"reflect"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
	"github.com/google/go-cmp/cmp/cmpopts"
	appsv1 "k8s.io/api/apps/v1"
	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/labels"
	"k8s.io/apimachinery/pkg/util/intstr"
	"pgregory.net/rapid"

	"github.com/dsplan/dsplan/internal/dstest"
	"github.com/dsplan/dsplan/internal/model"
	"github.com/dsplan/dsplan/placement"
	"github.com/dsplan/dsplan/plan"
	"github.com/dsplan/dsplan/revision"
	"github.com/dsplan/dsplan/rollout"
	"github.com/dsplan/dsplan/status"
)

// planFunc is plan.New or a deliberately broken variant of it.
type planFunc func(plan.Snapshot, plan.Options) plan.Plan

// view is one plan with the facts about its snapshot that the invariants
// need, computed without package plan.
type view struct {
	s    plan.Snapshot
	opts plan.Options
	p    plan.Plan
	ds   *appsv1.DaemonSet
	// exists maps the existing nodes' names to their placement decision.
	exists map[string]placement.Decision
	// nodes lists every node name that exists or has daemon pods, sorted.
	nodes []string
	// pods holds the DaemonSet's pods by target node as
	// getNodesToDaemonPods(false) groups them: claimed pods (orphans that
	// match the selector are adopted) without terminal pods being deleted,
	// in placement.ComparePods order.
	pods map[string][]*corev1.Pod
	// deleted and created are the plan's deletes by pod and creates by node.
	deleted map[string]plan.Delete
	created map[string]int
	// desired counts the existing nodes that should run a pod.
	desired int
	// maxSurge and maxUnavailable are the rolling update budgets for
	// desired (kube-controller-manager's updatedDesiredNodeCounts).
	maxSurge, maxUnavailable int
	// surge is util.AllowsSurge: the manage pass keeps one old and one new
	// pod per node.
	surge bool
	burst int
}

func newView(s plan.Snapshot, opts plan.Options, p plan.Plan) *view {
	ds := s.DaemonSet
	v := &view{
		s: s, opts: opts, p: p, ds: ds,
		exists:  map[string]placement.Decision{},
		pods:    map[string][]*corev1.Pod{},
		deleted: map[string]plan.Delete{},
		created: map[string]int{},
		burst:   opts.BurstReplicas,
	}
	if v.burst <= 0 {
		v.burst = plan.DefaultBurstReplicas
	}
	eval := placement.New(ds, opts.Placement)
	for _, n := range s.Nodes {
		d := eval.Evaluate(n)
		v.exists[n.Name] = d
		v.nodes = append(v.nodes, n.Name)
		if d.ShouldRun() {
			v.desired++
		}
	}
	for _, pod := range claimedPods(s) {
		if pod.DeletionTimestamp != nil && isTerminal(pod) {
			continue
		}
		node, err := placement.TargetNodeName(pod)
		if err != nil {
			continue
		}
		if _, ok := v.pods[node]; !ok {
			v.nodes = append(v.nodes, node)
		}
		v.pods[node] = append(v.pods[node], pod)
	}
	slices.Sort(v.nodes)
	v.nodes = slices.Compact(v.nodes)
	for _, pods := range v.pods {
		slices.SortFunc(pods, placement.ComparePods)
	}
	for _, d := range p.Deletes {
		v.deleted[d.Pod] = d
	}
	for _, c := range p.Creates {
		v.created[c.Node]++
	}
	v.maxSurge, v.maxUnavailable = rollingBudgets(ds, v.desired)
	surgeOne, _ := rollingBudgets(ds, 1)
	v.surge = surgeOne > 0
	return v
}

// claimedPods returns the pods the DaemonSet owns after claiming, as
// ControllerRefManager.ClaimObject decides: pods of its namespace matching
// its selector whose controller is the DaemonSet, or that have none and are
// not being deleted (those are adopted).
func claimedPods(s plan.Snapshot) []*corev1.Pod {
	ds := s.DaemonSet
	sel, err := metav1.LabelSelectorAsSelector(ds.Spec.Selector)
	if err != nil {
		return nil
	}
	var out []*corev1.Pod
	for _, pod := range s.Pods {
		if pod.Namespace != ds.Namespace || !sel.Matches(labels.Set(pod.Labels)) {
			continue
		}
		ref := metav1.GetControllerOf(pod)
		if ref != nil && (ref.Kind != "DaemonSet" || ref.Name != ds.Name || ref.UID != ds.UID) {
			continue // the pod index (FilterPodsByOwner) holds it under another owner
		}
		if ref == nil && pod.DeletionTimestamp != nil {
			continue // orphans being deleted are not adopted
		}
		out = append(out, pod)
	}
	return out
}

// rollingBudgets returns maxSurge and maxUnavailable scaled to desired (rounding
// up), with kube-controller-manager's fallback to maxUnavailable 1 when
// both are 0 and some node is desired. Other strategies have no budget.
func rollingBudgets(ds *appsv1.DaemonSet, desired int) (maxSurge, maxUnavailable int) {
	ru := ds.Spec.UpdateStrategy.RollingUpdate
	if ds.Spec.UpdateStrategy.Type != appsv1.RollingUpdateDaemonSetStrategyType || ru == nil {
		return 0, 0
	}
	scale := func(v *intstr.IntOrString) int {
		if v == nil {
			return 0
		}
		n, err := intstr.GetScaledValueFromIntOrPercent(v, desired, true)
		if err != nil {
			return 0
		}
		return n
	}
	maxSurge, maxUnavailable = scale(ru.MaxSurge), scale(ru.MaxUnavailable)
	if desired > 0 && maxSurge == 0 && maxUnavailable == 0 {
		maxUnavailable = 1
	}
	return maxSurge, maxUnavailable
}

func isTerminal(pod *corev1.Pod) bool {
	return pod.Status.Phase == corev1.PodFailed || pod.Status.Phase == corev1.PodSucceeded
}

// isLive reports whether a pod runs or will run: not being deleted and not
// terminal.
func isLive(pod *corev1.Pod) bool { return pod.DeletionTimestamp == nil && !isTerminal(pod) }

func (v *view) available(pod *corev1.Pod) bool {
	return placement.IsPodAvailable(pod, v.ds.Spec.MinReadySeconds, v.s.Now)
}

// isNew reports whether pod carries the plan's current revision hash.
func (v *view) isNew(pod *corev1.Pod) bool {
	return v.p.Hash != "" && pod.Labels[appsv1.DefaultDaemonSetUniqueLabelKey] == v.p.Hash
}

// liveBefore returns the live pods on node before the plan.
func (v *view) liveBefore(node string) []*corev1.Pod {
	var out []*corev1.Pod
	for _, pod := range v.pods[node] {
		if isLive(pod) {
			out = append(out, pod)
		}
	}
	return out
}

// liveAfter returns the live pods on node the plan keeps, and the number
// of pods it creates there (never available yet).
func (v *view) liveAfter(node string) ([]*corev1.Pod, int) {
	var out []*corev1.Pod
	for _, pod := range v.liveBefore(node) {
		if _, gone := v.deleted[pod.Name]; !gone {
			out = append(out, pod)
		}
	}
	return out, v.created[node]
}

// stopped reports whether the sync stopped before the manage pass: a
// status-only sync while expectations are pending, or a failure to find
// the current revision (kube-controller-manager returns before manage).
func (v *view) stopped() bool { return v.s.PendingExpectations || v.p.Hash == "" }

func podNames(pods []*corev1.Pod) string {
	var out []string
	for _, p := range pods {
		out = append(out, p.Name)
	}
	return "[" + strings.Join(out, " ") + "]"
}

// invariant is a named check.
type invariant struct {
	name  string
	check func(*view) error
}

// invariants are the per-plan checks, in the order they run.
var invariants = []invariant{
	{"WellFormed", checkWellFormed},
	{"PodsPerNode", checkPodsPerNode},
	{"Unavailability", checkUnavailability},
	{"Placement", checkPlacement},
	{"StatusArithmetic", checkStatusArithmetic},
}

func invariantNamed(name string) invariant {
	for _, inv := range invariants {
		if inv.name == name {
			return inv
		}
	}
	panic("no invariant " + name)
}

// checkWellFormed (invariant 0) checks that the plan's actions make sense
// on their own: creates carry a pod pinned to their node with the plan's
// hash, at most one per node; deletes name the DaemonSet's pods, each once,
// on the node the pod targets, and never a pod already being deleted; and
// neither list exceeds the burst limit. While expectations are pending the
// sync only writes the status (syncDaemonSet).
//
// Exception: kube-controller-manager deletes unscheduled pods of vanished
// nodes even when they are already being deleted (getUnscheduledPodsWithoutNode
// does not look at deletionTimestamp), so NodeGone deletes may repeat.
func checkWellFormed(v *view) error {
	var errs []error
	if v.s.PendingExpectations && len(v.p.Creates)+len(v.p.Deletes) > 0 {
		errs = append(errs, fmt.Errorf("with pending expectations (a status-only sync) the plan creates %d and deletes %d pods", len(v.p.Creates), len(v.p.Deletes)))
	}
	if len(v.p.Creates) > v.burst || len(v.p.Deletes) > v.burst {
		errs = append(errs, fmt.Errorf("%d creates and %d deletes exceed the burst limit %d", len(v.p.Creates), len(v.p.Deletes), v.burst))
	}
	for node, n := range v.created {
		if n > 1 {
			errs = append(errs, fmt.Errorf("%d creates on node %s in one plan", n, node))
		}
	}
	for _, c := range v.p.Creates {
		if c.Pod == nil {
			errs = append(errs, fmt.Errorf("create on node %s has no pod", c.Node))
			continue
		}
		if target, err := placement.TargetNodeName(c.Pod); err != nil || target != c.Node {
			errs = append(errs, fmt.Errorf("create on node %s: the pod targets %q (%v)", c.Node, target, err))
		}
		if h := c.Pod.Labels[appsv1.DefaultDaemonSetUniqueLabelKey]; h != v.p.Hash {
			errs = append(errs, fmt.Errorf("create on node %s: pod hash %q, plan hash %q", c.Node, h, v.p.Hash))
		}
	}
	byName := map[string]*corev1.Pod{}
	for _, pod := range claimedPods(v.s) {
		byName[pod.Name] = pod
	}
	seen := map[string]bool{}
	for _, d := range v.p.Deletes {
		pod := byName[d.Pod]
		switch {
		case seen[d.Pod]:
			errs = append(errs, fmt.Errorf("pod %s deleted twice", d.Pod))
		case pod == nil:
			errs = append(errs, fmt.Errorf("delete of %s, which is not a pod of the DaemonSet", d.Pod))
		case pod.DeletionTimestamp != nil && d.Reason != rollout.DeleteNodeGone:
			errs = append(errs, fmt.Errorf("delete of %s (%s), which is already being deleted", d.Pod, d.Reason))
		default:
			if target, _ := placement.TargetNodeName(pod); target != d.Node {
				errs = append(errs, fmt.Errorf("delete of %s names node %s, the pod targets %s", d.Pod, d.Node, target))
			}
		}
		seen[d.Pod] = true
	}
	return errors.Join(errs...)
}

// checkPodsPerNode (invariant 1) checks the number of live daemon pods per
// node after the plan.
//
// Without surge (util.AllowsSurge false) a plan creates only on a node with
// no daemon pod at all — not even one being deleted, since
// podsShouldBeOnNode creates only when the node has no entry in
// getNodesToDaemonPods(false) — and leaves at most one live pod on every
// node.
//
// With surge it creates only where the node has no live pod of the current
// revision, and leaves at most two live pods, one old and one new. The
// rolling update may surge next to available old pods only while the nodes
// already surging, as rollingUpdate counts them (numSurge: nodes with a
// second new or old pod, and nodes whose new pod next to an old one is not
// available yet), plus the new surges stay within maxSurge. Surges next to
// unavailable old pods replace those pods and are free (rollingUpdate's
// allowedNewNodes); a node that surged that way counts once its old pod
// turns available, which is why the count is made on the state before the
// plan and not as "surged nodes with an available old pod" after it.
//
// Exceptions: pods bound to nodes that no longer exist are left to the pod
// garbage collector (manage only looks at the node list); a sync that stops
// before the manage pass (pending expectations: status only), or whose
// deletes reach burstReplicas (syncNodes), may leave excess pods for the
// next sync.
func checkPodsPerNode(v *view) error {
	var errs []error
	for _, c := range v.p.Creates {
		before := v.pods[c.Node]
		if !v.surge {
			if len(before) > 0 {
				errs = append(errs, fmt.Errorf("without surge, create on node %s which has pods %s", c.Node, podNames(before)))
			}
			continue
		}
		for _, pod := range v.liveBefore(c.Node) {
			if v.isNew(pod) {
				errs = append(errs, fmt.Errorf("create on node %s which has the live new pod %s", c.Node, pod.Name))
			}
		}
	}
	// A sync that stops before the manage pass, or reaches the burst limit
	// of deletes, may leave excess pods for a later sync.
	pruned := !v.stopped() && len(v.p.Deletes) < v.burst
	for node := range v.exists {
		if !pruned {
			break
		}
		kept, created := v.liveAfter(node)
		total := len(kept) + created
		switch {
		case !v.surge && total > 1:
			errs = append(errs, fmt.Errorf("without surge, node %s keeps live pods %s and gets %d new", node, podNames(kept), created))
		case v.surge && total > 2:
			errs = append(errs, fmt.Errorf("with surge, node %s keeps live pods %s and gets %d new: more than two", node, podNames(kept), created))
		case v.surge && total == 2:
			newCount := created
			for _, pod := range kept {
				if v.isNew(pod) {
					newCount++
				}
			}
			if newCount != 1 {
				errs = append(errs, fmt.Errorf("with surge, node %s keeps live pods %s and gets %d new: %d of the current revision, want one old and one new", node, podNames(kept), created, newCount))
			}
		}
	}
	if v.surge {
		var surged []string
		for _, c := range v.p.Creates {
			for _, pod := range v.liveBefore(c.Node) {
				if !v.isNew(pod) && v.available(pod) {
					surged = append(surged, c.Node)
					break
				}
			}
		}
		if len(surged) > 0 {
			surging := v.numSurge()
			if len(surging)+len(surged) > v.maxSurge {
				errs = append(errs, fmt.Errorf("surges next to available old pods on %v while %v already surge: %d > maxSurge %d",
					surged, surging, len(surging)+len(surged), v.maxSurge))
			}
		}
	}
	return errors.Join(errs...)
}

// numSurge returns the nodes rollingUpdate counts as surging: among the
// pods not being deleted (terminal ones included, as findUpdatedPodsOnNode
// does), two new or two old ones, or an old one and a new one that is not
// available.
func (v *view) numSurge() []string {
	var out []string
	for _, node := range v.nodes {
		var newPods, oldPods []*corev1.Pod
		for _, pod := range v.pods[node] {
			switch {
			case pod.DeletionTimestamp != nil:
			case placement.IsPodUpdated(pod, v.p.Hash, nil):
				newPods = append(newPods, pod)
			default:
				oldPods = append(oldPods, pod)
			}
		}
		if len(newPods) > 1 || len(oldPods) > 1 || (len(newPods) == 1 && len(oldPods) == 1 && !v.available(newPods[0])) {
			out = append(out, node)
		}
	}
	return out
}

// checkUnavailability (invariant 2) checks that deleting available pods of
// desired nodes respects the rolling update's budget. A desired node is
// available when it has a live available pod; after the plan, when it keeps
// one (created pods are never available yet).
//
// Without surge: a plan that deletes an available pod of a desired node
// leaves at most maxUnavailable desired nodes unavailable. Unavailable pods
// may be deleted even beyond the budget — they do not change the count —
// as rollingUpdate replaces old unavailable pods freely
// (allowedReplacementPods), and desired nodes that are already unavailable
// count against the budget exactly as rollingUpdate's numUnavailable counts
// them (that count also includes undesired and vanished nodes, so it is at
// least ours).
//
// With surge (maxSurge > 0; rollingUpdate then ignores maxUnavailable): an
// available pod of a desired node is deleted only when the node keeps an
// available pod of the current revision, its replacement.
//
// Exception: the manage pass prunes excess pods by age, not availability
// (podsShouldBeOnNode keeps the oldest running pod, or with surge the
// oldest old and oldest new one), so a delete with reason Excess is
// allowed when the node has an older running pod of the same kind; the
// check verifies that. That older pod may itself go in the same sync when
// it is an old pod that is not ready, so with surge a node can lose its
// only available pod this way.
func checkUnavailability(v *view) error {
	var errs []error
	unavailableBefore, unavailableAfter := 0, 0
	for node, d := range v.exists {
		if !d.ShouldRun() {
			continue
		}
		if !slices.ContainsFunc(v.liveBefore(node), v.available) {
			unavailableBefore++
		}
		kept, _ := v.liveAfter(node)
		if !slices.ContainsFunc(kept, v.available) {
			unavailableAfter++
		}
	}
	for _, d := range v.p.Deletes {
		dec, ok := v.exists[d.Node]
		if !ok || !dec.ShouldRun() {
			continue
		}
		var pod *corev1.Pod
		for _, p := range v.pods[d.Node] {
			if p.Name == d.Pod {
				pod = p
			}
		}
		if pod == nil || !isLive(pod) || !v.available(pod) {
			continue
		}
		if d.Reason == rollout.DeleteExcess {
			if err := v.checkExcess(pod, d.Node); err != nil {
				errs = append(errs, err)
			}
			continue
		}
		if v.maxSurge == 0 {
			if unavailableAfter > v.maxUnavailable {
				errs = append(errs, fmt.Errorf("deleting available pod %s (%s) on desired node %s leaves %d of %d desired nodes unavailable (%d before), maxUnavailable %d",
					pod.Name, d.Reason, d.Node, unavailableAfter, v.desired, unavailableBefore, v.maxUnavailable))
			}
			continue
		}
		kept, _ := v.liveAfter(d.Node)
		if !slices.ContainsFunc(kept, func(p *corev1.Pod) bool { return v.isNew(p) && v.available(p) }) {
			errs = append(errs, fmt.Errorf("with maxSurge %d, deleting available pod %s (%s) on desired node %s before an available replacement: the node keeps %s",
				v.maxSurge, pod.Name, d.Reason, d.Node, podNames(kept)))
		}
	}
	return errors.Join(errs...)
}

// checkExcess verifies an Excess delete of pod on node: the node has an
// older running pod (of the same revision kind with surge).
func (v *view) checkExcess(pod *corev1.Pod, node string) error {
	for _, other := range v.liveBefore(node) {
		if other == pod {
			break
		}
		if !v.surge || v.isNew(other) == v.isNew(pod) {
			return nil
		}
	}
	return fmt.Errorf("Excess delete of available pod %s on node %s, but the node keeps no older pod of its kind (pods %s)", pod.Name, node, podNames(v.pods[node]))
}

// checkPlacement (invariant 3): no create on a node where the DaemonSet
// should not run (placement: ShouldRun false) or that does not exist, and
// every pod not being deleted on a node where it may not continue
// (ShouldContinueRunning false) is deleted, as are unscheduled pods meant
// for nodes that no longer exist (getUnscheduledPodsWithoutNode).
//
// Exceptions: a plan at the burst limit may leave deletes for the next sync
// (syncNodes caps them at burstReplicas); a sync that stops before the
// manage pass deletes nothing (pending expectations: status only;
// constructHistory failed); pods bound to vanished nodes are the pod
// garbage collector's.
func checkPlacement(v *view) error {
	var errs []error
	for _, c := range v.p.Creates {
		d, ok := v.exists[c.Node]
		switch {
		case !ok:
			errs = append(errs, fmt.Errorf("create on node %s, which does not exist", c.Node))
		case !d.ShouldRun():
			errs = append(errs, fmt.Errorf("create on node %s, where the DaemonSet should not run: %s", c.Node, d))
		}
	}
	if v.stopped() || len(v.p.Deletes) >= v.burst {
		return errors.Join(errs...)
	}
	for _, node := range v.nodes {
		d, ok := v.exists[node]
		for _, pod := range v.pods[node] {
			if _, gone := v.deleted[pod.Name]; gone {
				continue
			}
			switch {
			case ok && !d.ShouldContinueRunning() && pod.DeletionTimestamp == nil:
				errs = append(errs, fmt.Errorf("pod %s stays on node %s, where it may not continue: %s", pod.Name, node, d))
			case !ok && pod.Spec.NodeName == "":
				errs = append(errs, fmt.Errorf("unscheduled pod %s stays, meant for node %s which does not exist", pod.Name, node))
			}
		}
	}
	return errors.Join(errs...)
}

// checkStatusArithmetic (invariant 4) checks the plan's status:
// available ≤ ready ≤ current ≤ desired, updated ≤ current, unavailable =
// desired − available, desired = the number of existing nodes where
// placement says the DaemonSet should run, current = those of them with a
// pod, misscheduled = the other nodes with a pod, and observedGeneration =
// generation (kept as it was while expectations are pending). A plan that
// says the status is unchanged must have the stored counters.
//
// Exception: a sync that fails to find its current revision, or to list
// the DaemonSet's pods (FilterPodsByOwner needs a namespace, name and UID),
// computes no status.
func checkStatusArithmetic(v *view) error {
	if v.p.Err != nil && (v.p.Hash == "" || v.ds.Namespace == "" || v.ds.Name == "" || v.ds.UID == "") {
		return nil
	}
	st := v.p.Status
	var errs []error
	fail := func(format string, args ...any) { errs = append(errs, fmt.Errorf(format, args...)) }
	if !(0 <= st.NumberAvailable && st.NumberAvailable <= st.NumberReady && st.NumberReady <= st.CurrentNumberScheduled &&
		st.CurrentNumberScheduled <= st.DesiredNumberScheduled) {
		fail("want 0 ≤ available ≤ ready ≤ current ≤ desired, got available %d, ready %d, current %d, desired %d",
			st.NumberAvailable, st.NumberReady, st.CurrentNumberScheduled, st.DesiredNumberScheduled)
	}
	if st.UpdatedNumberScheduled < 0 || st.UpdatedNumberScheduled > st.CurrentNumberScheduled {
		fail("want 0 ≤ updated ≤ current, got updated %d, current %d", st.UpdatedNumberScheduled, st.CurrentNumberScheduled)
	}
	if st.NumberUnavailable != st.DesiredNumberScheduled-st.NumberAvailable {
		fail("unavailable %d ≠ desired %d − available %d", st.NumberUnavailable, st.DesiredNumberScheduled, st.NumberAvailable)
	}
	var current, misscheduled int32
	for node, d := range v.exists {
		switch {
		case d.ShouldRun() && len(v.pods[node]) > 0:
			current++
		case !d.ShouldRun() && len(v.pods[node]) > 0:
			misscheduled++
		}
	}
	if int(st.DesiredNumberScheduled) != v.desired {
		fail("desired %d ≠ %d nodes where the DaemonSet should run", st.DesiredNumberScheduled, v.desired)
	}
	if st.CurrentNumberScheduled != current {
		fail("current %d ≠ %d desired nodes with a pod", st.CurrentNumberScheduled, current)
	}
	if st.NumberMisscheduled != misscheduled {
		fail("misscheduled %d ≠ %d other nodes with a pod", st.NumberMisscheduled, misscheduled)
	}
	wantGen := v.ds.Generation
	if v.s.PendingExpectations {
		wantGen = v.ds.Status.ObservedGeneration
	}
	if st.ObservedGeneration != wantGen {
		fail("observedGeneration %d, want %d", st.ObservedGeneration, wantGen)
	}
	if !v.p.StatusChanged {
		old := v.ds.Status
		old.ObservedGeneration, old.Conditions, old.CollisionCount = st.ObservedGeneration, st.Conditions, st.CollisionCount
		if diff := cmp.Diff(old, st); diff != "" {
			fail("status unchanged per the plan, but it differs from the stored one (-stored +plan):\n%s", diff)
		}
	}
	return errors.Join(errs...)
}

// samePlan reports whether two plans are equal, errors by message; it is
// the fast path of cmp.Diff(p, q, dstest.PlanCmp).
func samePlan(p, q plan.Plan) bool {
	pe, qe := p.Err, q.Err
	p.Err, q.Err = nil, nil
	if (pe == nil) != (qe == nil) || (pe != nil && pe.Error() != qe.Error()) {
		return false
	}
	return reflect.DeepEqual(p, q) || cmp.Diff(p, q, dstest.PlanCmp) == ""
}

// snapshotCmp compares snapshots, objects by value.
var snapshotCmp = cmp.Options{cmpopts.EquateEmpty()}

// deepCopySnapshot copies a snapshot, objects included, keeping nil and empty
// lists apart.
func deepCopySnapshot(s plan.Snapshot) plan.Snapshot {
	c := s
	c.DaemonSet = s.DaemonSet.DeepCopy()
	c.Nodes = copyAll(s.Nodes, (*corev1.Node).DeepCopy)
	c.Pods = copyAll(s.Pods, (*corev1.Pod).DeepCopy)
	c.Revisions = copyAll(s.Revisions, (*appsv1.ControllerRevision).DeepCopy)
	if s.FailedPodBackoff != nil {
		c.FailedPodBackoff = maps.Clone(s.FailedPodBackoff)
	}
	return c
}

func copyAll[T any](xs []T, clone func(T) T) []T {
	if xs == nil {
		return nil
	}
	out := make([]T, len(xs))
	for i, x := range xs {
		out[i] = clone(x)
	}
	return out
}

// permuted returns s with its lists reordered: element i of each list goes
// to position order[i] (orders shorter than a list leave the rest as is).
func permuted(s plan.Snapshot, nodeOrder, podOrder, revOrder []int) plan.Snapshot {
	c := s
	c.Nodes = permute(s.Nodes, nodeOrder)
	c.Pods = permute(s.Pods, podOrder)
	c.Revisions = permute(s.Revisions, revOrder)
	return c
}

func permute[T any](xs []T, order []int) []T {
	if len(order) != len(xs) {
		return slices.Clone(xs)
	}
	out := make([]T, len(xs))
	for i, x := range xs {
		out[order[i]] = x
	}
	return out
}

// drawOrder draws a permutation of 0..n-1.
func drawOrder(t *rapid.T, n int, label string) []int {
	idx := make([]int, n)
	for i := range idx {
		idx[i] = i
	}
	return rapid.Permutation(idx).Draw(t, label)
}

// checkPure (invariant 5) plans s and a reordering of it (each from its
// own deep copy, compared with the original afterwards) and checks that
// neither input changed and that both plans are identical. It returns the
// plan for s.
func checkPure(pl planFunc, s, shuffled plan.Snapshot, opts plan.Options) (plan.Plan, error) {
	var errs []error
	run := func(in plan.Snapshot, what string) plan.Plan {
		before := deepCopySnapshot(in)
		p := pl(in, opts)
		// reflect.DeepEqual is the fast path; DeepCopy keeps nil and empty
		// apart, so it only fails on a real change.
		if !reflect.DeepEqual(before, in) {
			diff := cmp.Diff(before, in, snapshotCmp)
			errs = append(errs, fmt.Errorf("planning the %s snapshot changed it (-before +after):\n%s", what, diff))
		}
		return p
	}
	p := run(s, "given")
	q := run(shuffled, "reordered")
	if !samePlan(p, q) {
		diff := cmp.Diff(p, q, dstest.PlanCmp)
		errs = append(errs, fmt.Errorf("the plan depends on the order of the inputs (-given +reordered):\n%s", diff))
	}
	return p, errors.Join(errs...)
}

// checkSet selects what the state machine verifies.
type checkSet struct {
	invariants []invariant
	pure       bool // invariant 5
	converge   bool // the convergence property at the end
}

var allChecks = checkSet{invariants: invariants, pure: true, converge: true}

// run checks plan p for s, stopping at the first invariant that fails.
func (c checkSet) run(s plan.Snapshot, opts plan.Options, p plan.Plan) error {
	v := newView(s, opts, p)
	for _, inv := range c.invariants {
		if err := inv.check(v); err != nil {
			return fmt.Errorf("invariant %s: %w", inv.name, err)
		}
	}
	return nil
}

// failureReport formats a failed check with the snapshot and plan.
func failureReport(err error, s plan.Snapshot, p plan.Plan) string {
	return fmt.Sprintf("%v\nsnapshot:\n%splan: %s", err, model.Describe(s), planString(p))
}

// planString is a short form of a plan's pod actions.
func planString(p plan.Plan) string {
	var parts []string
	for _, c := range p.Creates {
		parts = append(parts, fmt.Sprintf("create %s (%s)", c.Node, c.Reason))
	}
	for _, d := range p.Deletes {
		parts = append(parts, fmt.Sprintf("delete %s on %s (%s)", d.Pod, d.Node, d.Reason))
	}
	st := p.Status
	parts = append(parts, fmt.Sprintf("status desired=%d current=%d ready=%d available=%d updated=%d unavailable=%d misscheduled=%d",
		st.DesiredNumberScheduled, st.CurrentNumberScheduled, st.NumberReady, st.NumberAvailable, st.UpdatedNumberScheduled, st.NumberUnavailable, st.NumberMisscheduled))
	if p.Err != nil {
		parts = append(parts, "err "+p.Err.Error())
	}
	return strings.Join(parts, "; ") + "\n"
}

// machine is the state machine: a model cluster, a planner and the checks.
type machine struct {
	pl     planFunc
	opts   plan.Options
	c      *model.Cluster
	checks checkSet
	// checked is the checked plan for the current state, nil once an
	// action may have changed it.
	checked *plan.Plan
	// reorder returns a permutation of 0..n-1 for invariant 5.
	reorder func(n int, label string) []int
}

// stateMachine returns the rapid property: draw a DaemonSet, options and
// nodes, optionally let the DaemonSet settle, then run random actions
// (t.Repeat) checking the plan for the state after every step, and finally
// stop the churn and check convergence.
func stateMachine(pl planFunc, cs checkSet) func(*rapid.T) {
	return func(t *rapid.T) {
		m := &machine{pl: pl, checks: cs, reorder: func(n int, label string) []int { return drawOrder(t, n, label) }}
		ds := model.DaemonSet().Draw(t, "daemonSet")
		m.opts.BurstReplicas = rapid.SampledFrom([]int{0, 0, 0, 2}).Draw(t, "burstReplicas")
		m.opts.Placement.TaintTolerationComparisonOperators = rapid.Bool().Draw(t, "comparisonOperators")
		m.c = model.New(ds.DaemonSet(), dstest.Epoch)
		for _, name := range rapid.SliceOfNDistinct(model.NodeName(), 1, 6, rapid.ID[string]).Draw(t, "nodes") {
			m.c.AddNode(model.Node(name).Draw(t, name).Node())
		}
		if rapid.IntRange(0, 2).Draw(t, "settled") > 0 {
			if _, err := m.converge(); err != nil {
				t.Fatalf("initial convergence: %v", err)
			}
		}
		t.Repeat(map[string]func(*rapid.T){
			"node":        m.nodeAction,
			"pod":         m.podAction,
			"cluster":     m.clusterAction,
			"time":        m.advance,
			"spec":        m.specAction,
			"sync":        m.sync,
			"syncSettled": m.syncSettled,
			"syncPartial": m.syncPartial,
			"syncPending": m.syncPending,
			"":            m.planChecked,
		})
		if cs.converge {
			rounds, err := m.converge()
			if err != nil {
				t.Fatalf("convergence: %v", err)
			}
			t.Logf("converged in %d rounds", rounds)
		}
	}
}

// plan plans the snapshot, checking invariant 5 against a reordering when
// enabled.
func (m *machine) plan(s plan.Snapshot) (plan.Plan, error) {
	if !m.checks.pure {
		return m.pl(s, m.opts), nil
	}
	shuffled := permuted(s, m.reorder(len(s.Nodes), "nodeOrder"), m.reorder(len(s.Pods), "podOrder"),
		m.reorder(len(s.Revisions), "revisionOrder"))
	p, err := checkPure(m.pl, s, shuffled, m.opts)
	if err != nil {
		err = fmt.Errorf("invariant Pure: %w", err)
	}
	return p, err
}

// planCheckedFor plans s and checks the plan with every enabled check.
func (m *machine) planCheckedFor(s plan.Snapshot) (plan.Plan, error) {
	p, err := m.plan(s)
	if err == nil {
		err = m.checks.run(s, m.opts, p)
	}
	if err != nil {
		return p, errors.New(failureReport(err, s, p))
	}
	return p, nil
}

// planChecked plans the current state and checks the plan, once per
// state: the state machine's invariant check after every step. Actions
// that change the state must call m.changed first.
func (m *machine) planChecked(t *rapid.T) {
	if m.checked != nil {
		return
	}
	p, err := m.planCheckedFor(m.c.Snapshot())
	if err != nil {
		t.Fatalf("%v", err)
	}
	m.checked = &p
}

// current returns the checked plan for the current state.
func (m *machine) current(t *rapid.T) plan.Plan {
	m.planChecked(t)
	return *m.checked
}

// changed forgets the checked plan.
func (m *machine) changed() { m.checked = nil }

func (m *machine) nodeAction(t *rapid.T) {
	m.changed()
	op := rapid.SampledFrom([]string{"add", "add", "remove", "relabel", "taint", "untaint"}).Draw(t, "nodeOp")
	if op == "add" {
		name := model.NodeName().Draw(t, "node")
		d := model.Node(name).Draw(t, "newNode")
		m.c.AddNode(d.Node())
		t.Logf("add node %+v", d)
		return
	}
	if len(m.c.Nodes) == 0 {
		t.Skip("no nodes")
	}
	node := m.c.Nodes[rapid.IntRange(0, len(m.c.Nodes)-1).Draw(t, "nodeIndex")].Name
	switch op {
	case "remove":
		m.c.RemoveNode(node)
		t.Logf("remove node %s", node)
	case "relabel":
		l := model.NodeLabels().Draw(t, "labels")
		m.c.SetNodeLabels(node, model.LabelsOf(l))
		t.Logf("relabel node %s %v", node, l)
	case "taint":
		taint := model.Taint().Draw(t, "taint")
		m.c.Taint(node, model.ParseTaint(taint))
		t.Logf("taint node %s %s", node, taint)
	case "untaint":
		taint, ok := m.c.Untaint(node, rapid.IntRange(0, 3).Draw(t, "taintIndex"))
		if !ok {
			t.Skip("no taints")
		}
		t.Logf("untaint node %s %s", node, taint.ToString())
	}
}

func (m *machine) podAction(t *rapid.T) {
	m.changed()
	op := rapid.SampledFrom([]string{"ready", "ready", "readyAll", "notReady", "failed", "succeeded", "startDeleting", "finishDeleting",
		"orphan", "unlabel"}).Draw(t, "podOp")
	if op == "readyAll" {
		for _, p := range m.c.Pods {
			m.c.SetReady(p.Name, true)
		}
		t.Logf("all pods ready")
		return
	}
	if len(m.c.Pods) == 0 {
		t.Skip("no pods")
	}
	pod := m.c.Pods[rapid.IntRange(0, len(m.c.Pods)-1).Draw(t, "podIndex")].Name
	ok := true
	switch op {
	case "ready":
		ok = m.c.SetReady(pod, true)
	case "notReady":
		ok = m.c.SetReady(pod, false)
	case "failed":
		ok = m.c.SetPhase(pod, corev1.PodFailed)
	case "succeeded":
		ok = m.c.SetPhase(pod, corev1.PodSucceeded)
	case "startDeleting":
		ok = m.c.StartDeleting(pod)
	case "finishDeleting":
		m.c.FinishDeleting(pod)
	case "orphan":
		ok = m.c.Orphan(pod)
	case "unlabel":
		ok = m.c.Unlabel(pod, "app")
	}
	if !ok {
		t.Skip("not applicable")
	}
	t.Logf("pod %s: %s", pod, op)
}

func (m *machine) clusterAction(t *rapid.T) {
	m.changed()
	switch op := rapid.SampledFrom([]string{"gc", "schedule", "schedulerDown", "settle"}).Draw(t, "clusterOp"); op {
	case "gc":
		t.Logf("pod GC removed %v", m.c.GC())
	case "schedule":
		t.Logf("scheduled %v", m.c.Schedule())
	case "schedulerDown":
		m.c.SchedulerDown = !m.c.SchedulerDown
		t.Logf("scheduler down: %v", m.c.SchedulerDown)
	case "settle":
		m.c.Settle()
		t.Logf("settled")
	}
}

func (m *machine) advance(t *rapid.T) {
	m.changed()
	secs := rapid.SampledFrom([]int{1, 5, 10, 30, 60, 600}).Draw(t, "seconds")
	m.c.Advance(time.Duration(secs) * time.Second)
	t.Logf("time +%ds", secs)
}

func (m *machine) specAction(t *rapid.T) {
	m.changed()
	var changed bool
	switch op := rapid.SampledFrom([]string{"template", "template", "template", "placement", "strategy", "minReadySeconds"}).Draw(t, "specOp"); op {
	case "template":
		d := model.Template().Draw(t, "template")
		changed = m.c.UpdateSpec(func(s *appsv1.DaemonSetSpec) { d.Apply(&s.Template.Spec) })
		t.Logf("template %+v", d)
	case "placement":
		d := model.Placement().Draw(t, "placement")
		changed = m.c.UpdateSpec(func(s *appsv1.DaemonSetSpec) { d.Apply(&s.Template.Spec) })
		t.Logf("placement %+v", d)
	case "strategy":
		d := model.Strategy().Draw(t, "strategy")
		changed = m.c.UpdateSpec(func(s *appsv1.DaemonSetSpec) { s.UpdateStrategy = d.UpdateStrategy() })
		t.Logf("strategy %+v", d)
	case "minReadySeconds":
		n := model.MinReadySeconds().Draw(t, "minReadySeconds")
		changed = m.c.UpdateSpec(func(s *appsv1.DaemonSetSpec) { s.MinReadySeconds = n })
		t.Logf("minReadySeconds %d", n)
	}
	if !changed {
		t.Skip("spec unchanged")
	}
}

func (m *machine) sync(t *rapid.T) {
	p := m.current(t)
	m.changed()
	m.c.Apply(p, nil)
	t.Logf("sync: %s", planString(p))
}

func (m *machine) syncSettled(t *rapid.T) {
	m.changed()
	m.c.Settle()
	m.sync(t)
}

// syncPartial applies a random subset of the plan's API calls; the others
// fail.
func (m *machine) syncPartial(t *rapid.T) {
	p := m.current(t)
	ops := model.Ops(p, m.c.DaemonSet.Name)
	if len(ops) == 0 {
		t.Skip("empty plan")
	}
	mask := rapid.SliceOfN(rapid.Bool(), len(ops), len(ops)).Draw(t, "succeeds")
	m.changed()
	i := 0
	done := m.c.Apply(p, func(model.Op) bool { i++; return mask[i-1] })
	t.Logf("partial sync: %s applied %v", planString(p), done)
}

// syncPending is a sync while earlier creates or deletes are unobserved:
// status only, checked like any plan.
func (m *machine) syncPending(t *rapid.T) {
	s := m.c.Snapshot()
	s.PendingExpectations = true
	p, err := m.planCheckedFor(s)
	if err != nil {
		t.Fatalf("%v", err)
	}
	m.changed()
	m.c.Apply(p, nil)
	t.Logf("status-only sync")
}

// convergenceBound is the number of settle-plan-apply rounds within which
// the cluster must reach its fixpoint once churn stops. Each round settles
// first (deletions finish, pods are scheduled and become ready, time passes
// beyond minReadySeconds and every backoff), then plans and applies.
//
//   - Cleaning up takes a round per failed pod on the most crowded node
//     (one failed pod per node per sync: the backoff), plus one round for
//     everything else the manage pass deletes and one to recreate.
//   - The rolling update then replaces pods in batches of step = maxSurge
//     (surge) or maxUnavailable, and of at most burstReplicas: each batch
//     takes two rounds (without surge: delete old pods, then create new
//     ones; with surge: create new pods, then delete the old ones). The
//     batches cover at most every node that is desired or has pods.
//   - Creates and deletes of the manage pass come in batches of
//     burstReplicas, two rounds each.
//   - One more round finds the fixpoint, one deletes old pods on nodes
//     the DaemonSet no longer schedules to once enough pods are available
//     (surge sunset), and one spare.
func convergenceBound(c *model.Cluster, opts plan.Options) int {
	s := c.Snapshot()
	v := newView(s, opts, plan.Plan{})
	failed, relevant := 0, 0
	for _, node := range v.nodes {
		n := 0
		for _, pod := range v.pods[node] {
			if pod.Status.Phase == corev1.PodFailed && pod.DeletionTimestamp == nil {
				n++
			}
		}
		failed = max(failed, n)
		if len(v.pods[node]) > 0 || v.exists[node].ShouldRun() {
			relevant++
		}
	}
	step := v.maxUnavailable
	if v.maxSurge > 0 {
		step = v.maxSurge
	}
	step = max(1, min(step, v.burst))
	ceil := func(a, b int) int { return (a + b - 1) / b }
	return failed + 2 + 2*ceil(relevant, step) + 2*ceil(relevant, v.burst) + 3
}

// converge stops the churn and plans, applies and settles until the plan
// has no creates or deletes, checking every plan; then checks the fixpoint.
// It returns the number of rounds.
func (m *machine) converge() (int, error) {
	m.c.Settle()
	bound := convergenceBound(m.c, m.opts)
	for round := 1; round <= bound; round++ {
		s := m.c.Snapshot()
		p, err := m.planCheckedFor(s)
		if err != nil {
			return round, err
		}
		m.c.Apply(p, nil)
		if len(p.Creates) == 0 && len(p.Deletes) == 0 {
			if err := checkFixpoint(m.c, m.opts, p); err != nil {
				return round, fmt.Errorf("%w\nsnapshot:\n%s", err, model.Describe(s))
			}
			return round, nil
		}
		m.c.Settle()
	}
	s := m.c.Snapshot()
	return bound, fmt.Errorf("no fixpoint within %d rounds; now:\n%splan: %s", bound, model.Describe(s), planString(m.pl(s, m.opts)))
}

// checkFixpoint checks the state after the plan p with no creates or
// deletes was applied: every node where the DaemonSet should run has
// exactly one live pod, available and (RollingUpdate) of the current
// revision; no other node has one, no terminal pod is left; kubectl's
// rollout status says the rollout is done; and at most
// revisionHistoryLimit old revisions remain, or as many as pods still
// carry (cleanupHistory never deletes a revision whose hash a pod carries).
//
// Exceptions: on a node with an untolerated NoSchedule taint only
// (ShouldContinueRunning without ShouldRun) a pod may stay, as
// podsShouldBeOnNode lets it continue; the rolling update still replaces
// it if it is old (without surge it is deleted and not recreated, with
// surge it is sunset once more pods are available than desired), so only
// with OnDelete may it be old — or when no node is desired and there is no
// surge: the budget is then 0 (updatedDesiredNodeCounts falls back to
// maxUnavailable 1 only when desiredNumberScheduled > 0), and rollingUpdate
// may replace nothing. With OnDelete pods are replaced only when
// someone deletes them (updateDaemonSet skips rollingUpdate), so they need
// not be current, kubectl reports no rollout status, and old revisions
// that live pods carry are kept by cleanupHistory.
func checkFixpoint(c *model.Cluster, opts plan.Options, p plan.Plan) error {
	s := c.Snapshot()
	v := newView(s, opts, p)
	rolling := v.ds.Spec.UpdateStrategy.Type == appsv1.RollingUpdateDaemonSetStrategyType
	var errs []error
	for _, node := range v.nodes {
		d, ok := v.exists[node]
		pods := v.pods[node]
		for _, pod := range pods {
			if !isLive(pod) {
				errs = append(errs, fmt.Errorf("node %s keeps pod %s which is not live (%s)", node, pod.Name, model.PodString(pod, s.Now)))
			}
		}
		switch {
		case !ok && len(pods) > 0:
			errs = append(errs, fmt.Errorf("vanished node %s keeps pods %s", node, podNames(pods)))
		case !ok:
		case d.ShouldRun() && len(pods) != 1:
			errs = append(errs, fmt.Errorf("desired node %s has pods %s, want exactly one", node, podNames(pods)))
		case d.ShouldRun() && !v.available(pods[0]):
			errs = append(errs, fmt.Errorf("desired node %s: pod %s is not available", node, model.PodString(pods[0], s.Now)))
		case d.ShouldRun() && rolling && !v.isNew(pods[0]):
			errs = append(errs, fmt.Errorf("desired node %s: pod %s is not of the current revision %s", node, model.PodString(pods[0], s.Now), p.Hash))
		case !d.ShouldRun() && !d.ShouldContinueRunning() && len(pods) > 0:
			errs = append(errs, fmt.Errorf("node %s keeps pods %s where the DaemonSet may not run: %s", node, podNames(pods), d))
		case !d.ShouldRun() && len(pods) > 1:
			errs = append(errs, fmt.Errorf("node %s keeps pods %s where the DaemonSet should not run: %s", node, podNames(pods), d))
		case !d.ShouldRun() && len(pods) == 1 && rolling && !v.isNew(pods[0]) && v.maxSurge+v.maxUnavailable > 0:
			errs = append(errs, fmt.Errorf("node %s keeps old pod %s where the DaemonSet should not run: %s", node, pods[0].Name, d))
		}
	}
	if rolling {
		rs, err := status.Rollout(c.DaemonSet)
		if err != nil || !rs.Done {
			errs = append(errs, fmt.Errorf("rollout status not done: %q, %v (status %+v)", rs.Message, err, c.DaemonSet.Status))
		}
		carried := map[string]bool{}
		for _, pods := range v.pods {
			for _, pod := range pods {
				carried[pod.Labels[appsv1.DefaultDaemonSetUniqueLabelKey]] = true
			}
		}
		old, kept := 0, 0
		for _, r := range c.Revisions {
			if h := r.Labels[appsv1.DefaultDaemonSetUniqueLabelKey]; metav1.IsControlledBy(r, c.DaemonSet) && h != p.Hash {
				old++
				if carried[h] {
					kept++
				}
			}
		}
		if limit := int(*c.DaemonSet.Spec.RevisionHistoryLimit); old > max(limit, kept) {
			errs = append(errs, fmt.Errorf("%d old revisions remain (%d carried by pods), revisionHistoryLimit %d", old, kept, limit))
		}
	}
	return errors.Join(errs...)
}

// TestInvariantStateMachine runs the state machine against plan.New with
// every check. With -v it logs how often each create and delete reason
// occurred, to show which paths the histories reached.
func TestInvariantStateMachine(t *testing.T) {
	counts := map[string]int{}
	counting := func(s plan.Snapshot, opts plan.Options) plan.Plan {
		p := plan.New(s, opts)
		counts["plans"]++
		for _, c := range p.Creates {
			counts["create "+string(c.Reason)]++
		}
		for _, d := range p.Deletes {
			counts["delete "+string(d.Reason)]++
		}
		if p.Err != nil {
			counts["error"]++
		}
		return p
	}
	rapid.Check(t, stateMachine(counting, allChecks))
	keys := slices.Sorted(maps.Keys(counts))
	var b strings.Builder
	for _, k := range keys {
		fmt.Fprintf(&b, "\n  %-28s %6d", k, counts[k])
	}
	t.Logf("actions planned (plans include reordered replans):%s", b.String())
}

// randomSnapshot draws a snapshot directly, without a history: any number
// of pods per node in any state, for nodes that exist or not, so that the
// invariants also meet states the state machine rarely reaches.
func randomSnapshot(t *rapid.T) (plan.Snapshot, plan.Options) {
	ds := model.DaemonSet().Draw(t, "daemonSet").DaemonSet()
	ds.Generation = rapid.Int64Range(1, 3).Draw(t, "generation")
	ds.Status.ObservedGeneration = rapid.Int64Range(0, ds.Generation).Draw(t, "observedGeneration")
	now := dstest.Epoch.Add(time.Hour)
	s := plan.Snapshot{DaemonSet: ds, Now: now}
	var opts plan.Options
	opts.BurstReplicas = rapid.SampledFrom([]int{0, 0, 1, 2}).Draw(t, "burstReplicas")
	opts.Placement.TaintTolerationComparisonOperators = rapid.Bool().Draw(t, "comparisonOperators")
	s.PendingExpectations = rapid.IntRange(0, 5).Draw(t, "pendingExpectations") == 0

	current := revision.Hash(&ds.Spec.Template, nil)
	hashes := []string{current, "5d4b86d8bb", "", current}
	nodeNames := rapid.SliceOfNDistinct(model.NodeName(), 0, 6, rapid.ID[string]).Draw(t, "nodes")
	exist := rapid.SliceOfN(rapid.IntRange(0, 4), len(nodeNames), len(nodeNames)).Draw(t, "exists")
	serial := 0
	for i, name := range nodeNames {
		if exist[i] > 0 {
			s.Nodes = append(s.Nodes, model.Node(name).Draw(t, name).Node())
		}
		if rapid.IntRange(0, 3).Draw(t, "backoff") == 0 {
			if s.FailedPodBackoff == nil {
				s.FailedPodBackoff = map[string]time.Duration{}
			}
			s.FailedPodBackoff[name] = time.Duration(rapid.IntRange(1, 60).Draw(t, "backoffSeconds")) * time.Second
		}
		for range rapid.SampledFrom([]int{0, 1, 1, 1, 2, 3}).Draw(t, "pods") {
			serial++
			hash := rapid.SampledFrom(hashes).Draw(t, "hash")
			pod := dstest.Pod(ds, fmt.Sprintf("agent-%c%02d", 'a'+rapid.IntRange(0, 3).Draw(t, "namePrefix"), serial), name, hash,
				dstest.Created(now.Add(-time.Duration(rapid.SampledFrom([]int{0, 5, 60, 60}).Draw(t, "age"))*time.Second)),
				dstest.Phase(rapid.SampledFrom([]corev1.PodPhase{corev1.PodRunning, corev1.PodRunning, corev1.PodPending, corev1.PodFailed, corev1.PodSucceeded}).Draw(t, "phase")),
				dstest.ReadySince(now.Add(-time.Duration(rapid.SampledFrom([]int{0, 3, 10, 60}).Draw(t, "readySeconds"))*time.Second)))
			if isTerminal(pod) || !rapid.Bool().Draw(t, "ready") {
				dstest.NotReady(pod)
			}
			if rapid.IntRange(0, 4).Draw(t, "deleting") == 0 {
				dstest.Deleting(pod)
			}
			if rapid.IntRange(0, 4).Draw(t, "unscheduled") == 0 {
				dstest.Unscheduled(name)(pod)
			}
			switch rapid.IntRange(0, 12).Draw(t, "owner") {
			case 0:
				pod.OwnerReferences = nil
			case 1:
				pod.OwnerReferences[0].UID = "other-uid" // another DaemonSet of the same name, since deleted
			case 2:
				pod.Namespace = "other"
			}
			s.Pods = append(s.Pods, pod)
		}
	}
	// Revisions: none (the plan creates the current one), the current one,
	// or also one of the old template's, with both numbering orders.
	switch rapid.IntRange(0, 2).Draw(t, "revisions") {
	case 2:
		old := ds.DeepCopy()
		model.TemplateDesc{Tag: "v0", LogLevel: "info"}.Apply(&old.Spec.Template.Spec)
		r, err := revision.New(old, rapid.Int64Range(1, 3).Draw(t, "oldRevision"))
		if err != nil {
			t.Fatalf("revision.New: %v", err)
		}
		s.Revisions = append(s.Revisions, r)
		fallthrough
	case 1:
		r, err := revision.New(ds, 2)
		if err != nil {
			t.Fatalf("revision.New: %v", err)
		}
		s.Revisions = append(s.Revisions, r)
	}
	return s, opts
}

// snapshotProperty checks every plan invariant and invariant 5 for a
// random snapshot.
func snapshotProperty(t *rapid.T) {
	s, opts := randomSnapshot(t)
	shuffled := permuted(s, drawOrder(t, len(s.Nodes), "nodeOrder"), drawOrder(t, len(s.Pods), "podOrder"),
		drawOrder(t, len(s.Revisions), "revisionOrder"))
	p, err := checkPure(plan.New, s, shuffled, opts)
	if err == nil {
		err = allChecks.run(s, opts, p)
	}
	if err != nil {
		t.Fatalf("%s", failureReport(err, s, p))
	}
}

// TestInvariantSnapshot checks the plan invariants on random snapshots.
func TestInvariantSnapshot(t *testing.T) {
	rapid.Check(t, snapshotProperty)
}
