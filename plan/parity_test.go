package plan_test

import (
	"encoding/json"
	"fmt"
	"slices"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"
	"github.com/google/go-cmp/cmp/cmpopts"
	appsv1 "k8s.io/api/apps/v1"
	corev1 "k8s.io/api/core/v1"
	apiequality "k8s.io/apimachinery/pkg/api/equality"

	"github.com/dsplan/dsplan/internal/fixture"
	"github.com/dsplan/dsplan/placement"
	"github.com/dsplan/dsplan/plan"
)

// TestParityWithKubeControllerManager plans every golden fixture (snapshots
// recorded from kube-controller-manager v1.37.2 by the oracle, see package
// internal/fixture) and compares the plan with what the real sync did:
//
//   - hash, status, statusUpdated, revision writes, pod patches and claims
//     are equal — to the recorded run, or, where tied duplicate revisions
//     made them vary, to one recorded variant as a whole;
//   - creates and deletes hold every item upstream always did, only items
//     it did in some run, and a number of items it did in some run;
//   - every created pod equals the pod upstream created on that node;
//   - the error is set exactly when upstream's sync failed.
func TestParityWithKubeControllerManager(t *testing.T) {
	cases := fixture.All(t)
	agree := 0
	for _, c := range cases {
		s := plan.Snapshot{DaemonSet: c.DaemonSet, Nodes: c.Nodes, Pods: c.Pods, Revisions: c.Revisions, Now: c.Now}
		p := plan.New(s, plan.Options{})
		if problems := parityProblems(c, p); len(problems) > 0 {
			t.Errorf("%s: %d differences from kube-controller-manager:\n  %s", c.Name, len(problems), strings.Join(problems, "\n  "))
			continue
		}
		agree++
	}
	t.Logf("%d of %d fixtures agree with kube-controller-manager v1.37.2", agree, len(cases))
	if len(cases) == 0 || agree != len(cases) {
		t.Errorf("%d of %d fixtures agree, want all (fixture.All loads every fixture of the manifest)", agree, len(cases))
	}
}

// outcome is the part of a sync that varies as a whole across upstream's
// runs when duplicate revisions tie.
type outcome struct {
	Hash          string
	PodPatches    []string
	Revisions     []string
	Claims        []string
	Status        appsv1.DaemonSetStatus
	StatusUpdated bool
	Error         bool
	CreatedLabels []string
}

func parityProblems(c fixture.Case, p plan.Plan) []string {
	var problems []string
	add := func(format string, args ...any) { problems = append(problems, fmt.Sprintf(format, args...)) }
	w := c.Want

	got := outcome{
		Hash: p.Hash, Status: p.Status, StatusUpdated: p.StatusChanged, Error: p.Err != nil,
		PodPatches: podPatchKeys(p), Revisions: revisionKeys(p.Revisions.Create, p.Revisions.Update, p.Revisions.Delete),
		Claims: planClaimKeys(p), CreatedLabels: createdLabels(p),
	}
	wants := []outcome{{
		Hash: w.Hash, Status: w.Status, StatusUpdated: w.StatusUpdated, Error: w.Error != "",
		PodPatches: fixturePodPatchKeys(w.PodPatches), Revisions: revisionKeys(w.Revisions.Create, w.Revisions.Update, w.Revisions.Delete),
		Claims: fixtureClaimKeys(w.Claims), CreatedLabels: fixtureCreatedLabels(w.Creates),
	}}
	for _, v := range w.Variants {
		wants = append(wants, outcome{
			Hash: v.Hash, Status: v.Status, StatusUpdated: v.StatusUpdated, Error: v.Error != "",
			PodPatches: fixturePodPatchKeys(v.PodPatches), Revisions: revisionKeys(v.Revisions.Create, v.Revisions.Update, v.Revisions.Delete),
			Claims: fixtureClaimKeys(v.Claims), CreatedLabels: labelKeys(v.CreatedLabels),
		})
	}
	matched := slices.ContainsFunc(wants, func(o outcome) bool {
		return cmp.Equal(o, got, cmpopts.EquateEmpty())
	})
	if !matched {
		add("outcome differs from every upstream variant; first (-want +got):\n%s", cmp.Diff(wants[0], got, cmpopts.EquateEmpty()))
	}

	// Of several failed pods on one node upstream deletes the first in its
	// lister's order, a Go map's: random, but so skewed that thousands of
	// runs may never show some picks. Any one of them is upstream's choice
	// (package doc: dsplan takes the oldest), so they compare as one.
	failedKey := failedPodKeys(c)
	var deletes []string
	for _, d := range p.Deletes {
		deletes = append(deletes, failedKey(d.Pod))
	}
	problems = append(problems, varyingProblems("deletes", w.Deletes, deletes, failedKey)...)
	var creates []string
	for _, cr := range p.Creates {
		creates = append(creates, cr.Node)
	}
	problems = append(problems, varyingProblems("creates", w.Creates, creates, func(c fixture.Create) string { return c.Node })...)

	// Every created pod equals upstream's for its node (labels aside, which
	// the outcome compares).
	upstream := map[string]*corev1.PodTemplateSpec{}
	for _, cr := range slices.Concat(w.Creates.Always, w.Creates.Sometimes) {
		upstream[cr.Node] = cr.Pod
	}
	for _, cr := range p.Creates {
		want, ok := upstream[cr.Node]
		if !ok || want == nil {
			continue
		}
		gotTemplate := templateOf(c.DaemonSet, cr.Pod)
		gotTemplate.Labels, want = nil, want.DeepCopy()
		want.Labels = nil
		if !apiequality.Semantic.DeepEqual(want, gotTemplate) {
			add("pod for %s (-want +got):\n%s", cr.Node, cmp.Diff(want, gotTemplate))
		}
	}
	return problems
}

// failedPodKeys returns a function mapping a pod name to itself, or, for a
// failed pod (not being deleted) on a node with several of them, to one
// key per node.
func failedPodKeys(c fixture.Case) func(string) string {
	failedOn := map[string][]string{}
	for _, pod := range c.Pods {
		if pod.Status.Phase != corev1.PodFailed || pod.DeletionTimestamp != nil {
			continue
		}
		if node, err := placement.TargetNodeName(pod); err == nil {
			failedOn[node] = append(failedOn[node], pod.Name)
		}
	}
	key := map[string]string{}
	for node, pods := range failedOn {
		if len(pods) > 1 {
			for _, name := range pods {
				key[name] = "a failed pod on " + node
			}
		}
	}
	return func(pod string) string {
		if k, ok := key[pod]; ok {
			return k
		}
		return pod
	}
}

// varyingProblems checks a list against upstream's always/sometimes/counts.
func varyingProblems[T any](what string, want fixture.Varying[T], got []string, key func(T) string) []string {
	var problems []string
	allowed := map[string]bool{}
	for _, a := range want.Always {
		allowed[key(a)] = true
		if !slices.Contains(got, key(a)) {
			problems = append(problems, fmt.Sprintf("%s: missing %s, which upstream always does", what, key(a)))
		}
	}
	for _, s := range want.Sometimes {
		allowed[key(s)] = true
	}
	for _, g := range got {
		if !allowed[g] {
			problems = append(problems, fmt.Sprintf("%s: %s, which upstream never does", what, g))
		}
	}
	counts := want.Counts
	if len(counts) == 0 {
		counts = []int{len(want.Always)}
	}
	if !slices.Contains(counts, len(got)) {
		problems = append(problems, fmt.Sprintf("%s: %d items, upstream did %v", what, len(got), counts))
	}
	return problems
}

// templateOf is the template kube-controller-manager passes to CreatePods
// for a planned pod: the DaemonSet's template metadata with the pod's
// labels, and the pod's spec.
func templateOf(ds *appsv1.DaemonSet, pod *corev1.Pod) *corev1.PodTemplateSpec {
	t := &corev1.PodTemplateSpec{ObjectMeta: *ds.Spec.Template.ObjectMeta.DeepCopy(), Spec: *pod.Spec.DeepCopy()}
	t.Labels = pod.Labels
	return t
}

func podPatchKeys(p plan.Plan) []string {
	var out []string
	for _, pp := range p.PodPatches {
		out = append(out, pp.Pod+" "+labelKey(pp.Labels))
	}
	return out
}

func fixturePodPatchKeys(pps []fixture.PodPatch) []string {
	var out []string
	for _, pp := range pps {
		out = append(out, pp.Pod+" "+labelKey(pp.Labels))
	}
	slices.Sort(out)
	return out
}

// revisionKeys renders revision writes with everything KCM writes.
func revisionKeys(create, update []*appsv1.ControllerRevision, del []string) []string {
	var out []string
	render := func(verb string, r *appsv1.ControllerRevision) string {
		owners, _ := json.Marshal(r.OwnerReferences)
		return fmt.Sprintf("%s %s/%s rev=%d labels=%s annotations=%s owners=%s data=%s",
			verb, r.Namespace, r.Name, r.Revision, labelKey(r.Labels), labelKey(r.Annotations), owners, canonicalJSON(r.Data.Raw))
	}
	for _, r := range create {
		out = append(out, render("create", r))
	}
	for _, r := range update {
		out = append(out, render("update", r))
	}
	for _, d := range del {
		out = append(out, "delete "+d)
	}
	slices.Sort(out)
	return out
}

func planClaimKeys(p plan.Plan) []string {
	var out []string
	for _, c := range p.Claims {
		kind := "pod"
		if c.Kind == placement.ClaimRevision {
			kind = "revision"
		}
		// The patch says whether it adopts or releases.
		out = append(out, fmt.Sprintf("%s %s %s", kind, c.Name, canonicalJSON([]byte(c.Patch))))
	}
	slices.Sort(out)
	return slices.Compact(out)
}

func fixtureClaimKeys(c fixture.Claims) []string {
	var out []string
	for _, kind := range []struct {
		name   string
		claims []fixture.Claim
	}{{"pod", c.Pods}, {"revision", c.Revisions}} {
		for _, cl := range kind.claims {
			out = append(out, fmt.Sprintf("%s %s %s", kind.name, cl.Name, canonicalJSON(cl.Patch)))
		}
	}
	slices.Sort(out)
	return slices.Compact(out)
}

func createdLabels(p plan.Plan) []string {
	var out []string
	for _, c := range p.Creates {
		out = append(out, labelKey(c.Pod.Labels))
	}
	slices.Sort(out)
	return slices.Compact(out)
}

func fixtureCreatedLabels(v fixture.Varying[fixture.Create]) []string {
	var out []string
	for _, c := range slices.Concat(v.Always, v.Sometimes) {
		if c.Pod != nil {
			out = append(out, labelKey(c.Pod.Labels))
		}
	}
	slices.Sort(out)
	return slices.Compact(out)
}

func labelKeys(ms []map[string]string) []string {
	var out []string
	for _, m := range ms {
		out = append(out, labelKey(m))
	}
	slices.Sort(out)
	return slices.Compact(out)
}

func labelKey(m map[string]string) string {
	if len(m) == 0 {
		return "{}"
	}
	b, _ := json.Marshal(m) // map keys are sorted
	return string(b)
}

// canonicalJSON re-encodes JSON so that equal documents compare equal.
func canonicalJSON(raw []byte) string {
	var v any
	if err := json.Unmarshal(raw, &v); err != nil {
		return "invalid:" + string(raw)
	}
	b, _ := json.Marshal(v)
	return string(b)
}
