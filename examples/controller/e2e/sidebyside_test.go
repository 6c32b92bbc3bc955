//go:build unix

package e2e

import (
	"encoding/json"
	"fmt"
	"maps"
	"slices"
	"sort"
	"strings"
	"testing"
	"time"

	corev1 "k8s.io/api/core/v1"
	"k8s.io/apimachinery/pkg/api/equality"
)

// TestSideBySide runs the scenario list twice, each time on a fresh cluster
// (fresh etcd): first against kube-controller-manager's DaemonSet
// controller, then against the dsplan controller (kube-controller-manager
// without daemonset). Every converged phase records the DaemonSet's end
// state under stable keys (node names, images, revision hashes, revision
// numbers and data, status counters; names and UIDs of pods differ between
// clusters); the two records must be equal. Intermediate states may
// differ: upstream picks pods in map order (see README.md).
func TestSideBySide(t *testing.T) {
	cfg, ctx := requireE2E(t)
	ends := map[string][]endState{}
	requests := map[string]requestCounts{}
	cpu := map[string]float64{}
	for _, ctrl := range []string{"kcm", "dsplan"} {
		if ctx.Err() != nil {
			t.Fatalf("interrupted: %v", ctx.Err())
		}
		t.Run(ctrl, func(t *testing.T) {
			c := newCluster(t, ctx, cfg, clusterSpec{controller: ctrl})
			proc := c.named("kube-controller-manager")
			if ctrl == "dsplan" {
				proc = c.controllers.Proc(0)
			}
			cpu0 := proc.cpuSeconds()
			runScenarios(t, c, scenarios)
			cpu[ctrl] = proc.cpuSeconds() - cpu0
			ends[ctrl] = c.endStates()
			requests[ctrl] = c.controllerRequests(t)
		})
	}
	if len(ends["kcm"]) == 0 || len(ends["dsplan"]) == 0 {
		t.Fatal("a side recorded no end state")
	}
	diffs := compareEnds(ends["kcm"], ends["dsplan"])
	t.Logf("converge times (s) and pods created/removed per phase:\n%s", convergeTable(ends["kcm"], ends["dsplan"]))
	for _, ctrl := range []string{"kcm", "dsplan"} {
		t.Logf("%s DaemonSet controller API requests over the %d scenarios: %d (%d writes): %v",
			ctrl, len(scenarios), requests[ctrl].total(), requests[ctrl].writes(), requests[ctrl])
		fmt.Printf("E2E-REQUESTS controller=%s total=%d writes=%d %v\n", ctrl, requests[ctrl].total(), requests[ctrl].writes(), requests[ctrl])
	}
	// kube-controller-manager's CPU is all of its controllers'; the dsplan
	// controller's is its own (incremental planning unless
	// DSPLAN_E2E_CONTROLLER_ARGS says --incremental=false).
	t.Logf("CPU seconds over the scenarios: kube-controller-manager (every controller, daemonset included) %.2f; dsplan controller %.2f", cpu["kcm"], cpu["dsplan"])
	fmt.Printf("E2E-CPU kcm=%.2f dsplan=%.2f\n", cpu["kcm"], cpu["dsplan"])
	if len(diffs) > 0 {
		t.Errorf("%d end-state differences between kcm and dsplan:\n  %s", len(diffs), strings.Join(diffs, "\n  "))
	} else {
		t.Logf("end states equal: %d DaemonSet phases compared", len(ends["kcm"]))
		fmt.Printf("E2E-SIDE-BY-SIDE phases=%d differences=0\n", len(ends["kcm"]))
	}
}

// controllerRequests counts the DaemonSet controller's requests in the
// audit log so far (kcm: its service account; dsplan: every replica).
func (c *cluster) controllerRequests(t *testing.T) requestCounts {
	events, _, err := readAudit(c.auditPath, 0)
	if err != nil {
		t.Errorf("audit log: %v", err)
		return nil
	}
	return countRequests(events, c.controllerUsers(), time.Time{}, time.Time{})
}

// controllerUsers are the API users of the cluster's DaemonSet controller.
func (c *cluster) controllerUsers() []string {
	if c.spec.controller == "kcm" {
		return []string{kcmDaemonSetUser}
	}
	var users []string
	for i := range 16 {
		users = append(users, dsplanUser(i))
	}
	return users
}

// endState is a DaemonSet's converged state under keys that are stable
// across clusters.
type endState struct {
	Phase string // scenario[/phase]
	DS    string
	// Gone: the DaemonSet was deleted and everything it owned is gone.
	Gone bool
	// Generation, ObservedGeneration, CollisionCount and the counters.
	Generation, ObservedGeneration int64
	CollisionCount                 int32
	Status                         statusCounts
	// Pods by node (existing nodes only), each described by podShape.
	Pods map[string][]string
	// Orphans: pods still bound to deleted nodes (left to the pod garbage
	// collector; when it ran is timing, not compared).
	Orphans int
	// Revisions by revision number: name, hash label and data.
	Revisions []string

	// Not compared: how the phase went.
	Converge         float64
	Nudged           bool
	Created, Removed int
}

func (e endState) key() string { return e.Phase + " ds=" + e.DS }

// podFields are the fields of a pod the controller decides, for
// comparison: image, labels (hash, pod-template-generation, template's),
// tolerations, affinity, owner reference.
type podFields struct {
	GenerateName string              `json:"generateName"`
	Labels       map[string]string   `json:"labels"`
	Images       []string            `json:"images"`
	Tolerations  []corev1.Toleration `json:"tolerations"`
	Affinity     *corev1.Affinity    `json:"affinity"`
	Owner        string              `json:"owner"`
}

// podShape describes pod as JSON of its podFields.
func podShape(p *corev1.Pod) string {
	f := podFields{GenerateName: p.GenerateName, Labels: p.Labels, Affinity: p.Spec.Affinity}
	for _, c := range p.Spec.Containers {
		f.Images = append(f.Images, c.Image)
	}
	f.Tolerations = append(f.Tolerations, p.Spec.Tolerations...)
	sort.SliceStable(f.Tolerations, func(i, j int) bool {
		return f.Tolerations[i].Key+string(f.Tolerations[i].Effect) < f.Tolerations[j].Key+string(f.Tolerations[j].Effect)
	})
	for _, r := range p.OwnerReferences {
		f.Owner += fmt.Sprintf("%s/%s controller=%v blockOwnerDeletion=%v;", r.Kind, r.Name, deref(r.Controller), deref(r.BlockOwnerDeletion))
	}
	b, _ := json.Marshal(f)
	return string(b)
}

func deref(b *bool) bool { return b != nil && *b }

// endStateOf records snap, converged for phase after secs.
func endStateOf(phase string, snap *snapshot, secs float64, nudged bool, st trackStats) endState {
	ds := snap.ds
	e := endState{
		Phase: phase, DS: ds.Name,
		Generation: ds.Generation, ObservedGeneration: ds.Status.ObservedGeneration,
		Status: statusOf(ds), Pods: map[string][]string{},
		Converge: secs, Nudged: nudged, Created: st.Created, Removed: st.Deleted,
	}
	if ds.Status.CollisionCount != nil {
		e.CollisionCount = *ds.Status.CollisionCount
	}
	known := map[string]bool{}
	for _, n := range snap.nodes {
		known[n.Name] = true
	}
	for node, pods := range snap.byNode {
		if !known[node] {
			e.Orphans += len(pods)
			continue
		}
		for _, p := range pods {
			e.Pods[node] = append(e.Pods[node], podShape(p))
		}
		sort.Strings(e.Pods[node])
	}
	revs := append(snap.revisions[:0:0], snap.revisions...)
	sort.Slice(revs, func(i, j int) bool { return revs[i].Revision < revs[j].Revision })
	for _, r := range revs {
		e.Revisions = append(e.Revisions, fmt.Sprintf("revision=%d name=%s hash=%s data=%s", r.Revision, r.Name, r.Labels[hashLabel], r.Data.Raw))
	}
	return e
}

// recordEnd appends e to the cluster's end states.
func (c *cluster) recordEnd(e endState) {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.ends = append(c.ends, e)
}

func (c *cluster) endStates() []endState {
	c.mu.Lock()
	defer c.mu.Unlock()
	return slices.Clone(c.ends)
}

// compareEnds lists the differences between two runs' end states.
func compareEnds(a, b []endState) []string {
	index := func(es []endState) (map[string]endState, []string) {
		m := map[string]endState{}
		var order []string
		for _, e := range es {
			if _, dup := m[e.key()]; !dup {
				order = append(order, e.key())
			}
			m[e.key()] = e
		}
		return m, order
	}
	ma, order := index(a)
	mb, orderB := index(b)
	for _, k := range orderB {
		if _, ok := ma[k]; !ok {
			order = append(order, k)
		}
	}
	var diffs []string
	for _, k := range order {
		ea, okA := ma[k]
		eb, okB := mb[k]
		switch {
		case !okA:
			diffs = append(diffs, k+": only dsplan reached this phase")
			continue
		case !okB:
			diffs = append(diffs, k+": only kcm reached this phase")
			continue
		}
		for _, d := range diffEnd(ea, eb) {
			diffs = append(diffs, k+": "+d)
		}
	}
	return diffs
}

// diffEnd compares the stable parts of two end states (kcm first).
func diffEnd(a, b endState) []string {
	var d []string
	if a.Gone != b.Gone {
		return []string{fmt.Sprintf("gone kcm=%v dsplan=%v", a.Gone, b.Gone)}
	}
	if a.Gone {
		return nil
	}
	cmp := func(what string, x, y any) {
		if !equality.Semantic.DeepEqual(x, y) {
			d = append(d, fmt.Sprintf("%s: kcm %v, dsplan %v", what, x, y))
		}
	}
	cmp("generation", a.Generation, b.Generation)
	cmp("status.observedGeneration", a.ObservedGeneration, b.ObservedGeneration)
	cmp("status.collisionCount", a.CollisionCount, b.CollisionCount)
	cmp("status counters", a.Status, b.Status)
	cmp("revisions", a.Revisions, b.Revisions)
	nodes := slices.Sorted(maps.Keys(a.Pods))
	for n := range b.Pods {
		if _, ok := a.Pods[n]; !ok {
			nodes = append(nodes, n)
		}
	}
	const maxNodes = 5
	bad := 0
	for _, n := range nodes {
		if !slices.Equal(a.Pods[n], b.Pods[n]) {
			if bad++; bad <= maxNodes {
				d = append(d, fmt.Sprintf("node %s: kcm pods %v, dsplan pods %v", n, a.Pods[n], b.Pods[n]))
			}
		}
	}
	if bad > maxNodes {
		d = append(d, fmt.Sprintf("... pods differ on %d nodes in all", bad))
	}
	return d
}

// convergeTable lists, per phase, both controllers' convergence times and
// pod creates/removals so far (the paths may differ; the end states may not).
func convergeTable(a, b []endState) string {
	mb := map[string]endState{}
	for _, e := range b {
		mb[e.key()] = e
	}
	var sb strings.Builder
	fmt.Fprintf(&sb, "| phase | kcm converge | dsplan converge | kcm created/removed | dsplan created/removed |\n|---|---|---|---|---|\n")
	for _, e := range a {
		f := mb[e.key()]
		nudge := ""
		if e.Nudged {
			nudge = " (nudged)"
		}
		fmt.Fprintf(&sb, "| %s | %.2f%s | %.2f | %d/%d | %d/%d |\n", e.key(), e.Converge, nudge, f.Converge, e.Created, e.Removed, f.Created, f.Removed)
	}
	return sb.String()
}
