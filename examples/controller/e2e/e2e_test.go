//go:build unix

package e2e

import (
	"cmp"
	"context"
	"fmt"
	"path/filepath"
	"strings"
	"testing"
	"time"

	appsv1 "k8s.io/api/apps/v1"
	corev1 "k8s.io/api/core/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/util/intstr"
	"k8s.io/client-go/util/retry"
)

// Images of the DaemonSets; kwok never runs them.
const (
	imageV1 = "registry.k8s.io/pause:3.10"
	imageV2 = "registry.k8s.io/pause:3.9"
)

// convergeTimeout bounds every convergence wait of a scenario.
const convergeTimeout = 120 * time.Second

// TestE2E starts one cluster with the DaemonSet controller of
// DSPLAN_E2E_CONTROLLER and runs every scenario against it, in order.
// Scenarios that change a node restore it when they end; each scenario has
// its own namespace and DaemonSet(s).
func TestE2E(t *testing.T) {
	cfg, ctx := requireE2E(t)
	c := newCluster(t, ctx, cfg, clusterSpec{controller: cfg.controller})
	runScenarios(t, c, scenarios)
}

// newCluster starts a cluster and creates its nodes.
func newCluster(t *testing.T, ctx context.Context, cfg config, spec clusterSpec) *cluster {
	t.Helper()
	start := time.Now()
	c := startCluster(t, ctx, cfg, spec)
	if err := c.createNodes(t, c.spec.nodes); err != nil {
		t.Fatal(err)
	}
	t.Logf("cluster with %d nodes ready in %.1fs (controller %s)", c.spec.nodes, time.Since(start).Seconds(), c.spec.controller)
	return c
}

// runScenarios runs each scenario as a subtest of t, in order.
func runScenarios(t *testing.T, c *cluster, list []scenarioDef) {
	t.Helper()
	for _, sc := range list {
		if c.ctx.Err() != nil {
			t.Fatalf("interrupted: %v", c.ctx.Err())
		}
		t.Run(sc.name, func(t *testing.T) { sc.run(newScenario(t, c)) })
	}
}

// scenarioDef is a named scenario.
type scenarioDef struct {
	name string
	run  func(s *scenario)
}

// scenarios run in this order.
var scenarios = []scenarioDef{
	{"create", scenarioCreate},
	{"node-join-leave", scenarioNodeJoinLeave},
	{"taint-noschedule", scenarioTaintNoSchedule},
	{"taint-noexecute", scenarioTaintNoExecute},
	{"cordon", scenarioCordon},
	{"node-label", scenarioNodeLabel},
	{"rolling-maxunavailable-2", scenarioRollingMaxUnavailable},
	{"rolling-maxsurge", scenarioRollingMaxSurge},
	{"ondelete", scenarioOnDelete},
	{"rollback", scenarioRollback},
	{"delete", scenarioDelete},
}

// Nodes the scenarios change (restored when the scenario ends). None carries
// the control-plane taint; the label scenario's node is in pool=logging.
var (
	nodeNoSchedule = nodeName(4)
	nodeNoExecute  = nodeName(5)
	nodeUnlabel    = nodeName(6) // 6 % 3 == 0: pool=logging
	nodeCordon     = nodeName(7)
	nodeOnDelete   = nodeName(8)
)

// scenario is one subtest: a namespace, a recorder on it, and the cluster.
type scenario struct {
	t    *testing.T
	c    *cluster
	ctx  context.Context
	name string
	ns   string
	rec  *recorder
	// fromRecorder: converge reads the state from the recorder instead of
	// listing nodes, pods and revisions from the API server every poll
	// (scale runs), and polls every pollEvery (default 100 ms).
	fromRecorder bool
	pollEvery    time.Duration
	// timeout replaces convergeTimeout when set (scale runs).
	timeout time.Duration
}

// newScenario creates the namespace e2e-<subtest name>, waits for its default
// ServiceAccount and starts the recorder. When the subtest ends the
// recorder's violations fail it.
func newScenario(t *testing.T, c *cluster) *scenario {
	name := t.Name()[strings.LastIndex(t.Name(), "/")+1:]
	s := &scenario{t: t, c: c, ctx: c.ctx, name: name, ns: "e2e-" + name}
	if _, err := c.client.CoreV1().Namespaces().Create(s.ctx, &corev1.Namespace{
		ObjectMeta: metav1.ObjectMeta{Name: s.ns},
	}, metav1.CreateOptions{}); err != nil {
		t.Fatalf("create namespace: %v", err)
	}
	if err := c.waitServiceAccount(s.ctx, s.ns); err != nil {
		t.Fatalf("default ServiceAccount in %s: %v", s.ns, err)
	}
	var tracePath string
	if c.cfg.trace {
		tracePath = filepath.Join(c.dir, "trace-"+s.ns+".log")
	}
	rec, err := startRecorder(s.ctx, c.client, s.ns, tracePath, c.slack())
	if err != nil {
		t.Fatal(err)
	}
	s.rec = rec
	t.Cleanup(func() {
		rec.close()
		t.Log(rec.summary())
		if d, n := rec.deviations(); n > 0 {
			t.Log("KNOWN UPSTREAM DEVIATION: " + d)
			fmt.Printf("E2E-DEVIATION scenario=%s controller=%s states=%d\n", name, c.spec.controller, n)
		}
		if err := rec.err(); err != nil {
			t.Error(err)
		}
	})
	return s
}

// newDS returns a DaemonSet named name selecting app=name, one pause
// container, RollingUpdate with the API defaults (maxUnavailable 1).
func newDS(name string) *appsv1.DaemonSet {
	labels := map[string]string{"app": name}
	return &appsv1.DaemonSet{
		ObjectMeta: metav1.ObjectMeta{Name: name},
		Spec: appsv1.DaemonSetSpec{
			Selector: &metav1.LabelSelector{MatchLabels: labels},
			Template: corev1.PodTemplateSpec{
				ObjectMeta: metav1.ObjectMeta{Labels: labels},
				Spec:       corev1.PodSpec{Containers: []corev1.Container{{Name: "pause", Image: imageV1}}},
			},
		},
	}
}

func rollingUpdate(maxUnavailable, maxSurge intstr.IntOrString) appsv1.DaemonSetUpdateStrategy {
	return appsv1.DaemonSetUpdateStrategy{
		Type:          appsv1.RollingUpdateDaemonSetStrategyType,
		RollingUpdate: &appsv1.RollingUpdateDaemonSet{MaxUnavailable: &maxUnavailable, MaxSurge: &maxSurge},
	}
}

// createDS creates ds in the scenario's namespace and returns when it did.
func (s *scenario) createDS(ds *appsv1.DaemonSet) time.Time {
	s.t.Helper()
	at := time.Now()
	if _, err := s.c.client.AppsV1().DaemonSets(s.ns).Create(s.ctx, ds, metav1.CreateOptions{}); err != nil {
		s.t.Fatalf("create DaemonSet %s: %v", ds.Name, err)
	}
	return at
}

// updateDS applies mutate to the DaemonSet and updates it (retrying on conflict).
func (s *scenario) updateDS(name string, mutate func(*appsv1.DaemonSet)) time.Time {
	s.t.Helper()
	at := time.Now()
	err := retry.RetryOnConflict(retry.DefaultRetry, func() error {
		ds, err := s.c.client.AppsV1().DaemonSets(s.ns).Get(s.ctx, name, metav1.GetOptions{})
		if err != nil {
			return err
		}
		mutate(ds)
		_, err = s.c.client.AppsV1().DaemonSets(s.ns).Update(s.ctx, ds, metav1.UpdateOptions{})
		return err
	})
	if err != nil {
		s.t.Fatalf("update DaemonSet %s: %v", name, err)
	}
	return at
}

func (s *scenario) setImage(name, image string) time.Time {
	return s.updateDS(name, func(ds *appsv1.DaemonSet) { ds.Spec.Template.Spec.Containers[0].Image = image })
}

// converge waits until the DaemonSet name is converged (snapshot.problems,
// checked again 300 ms later so a passing state is not a transient one) and
// reports the time from since to the first converged state, as a log line
// and as the summary line "E2E scenario=<scenario>[/<phase>] controller=<c> converge=<s>"
// (followed by "status=nudged" when opts.statusGrace applied).
// On timeout it fails with what is still wrong.
func (s *scenario) converge(phase, name string, since time.Time, opts convergeOpts) *snapshot {
	s.t.Helper()
	label := s.name
	if phase != "" {
		label += "/" + phase
	}
	deadline := since.Add(cmp.Or(s.timeout, convergeTimeout))
	note := ""
	if opts.statusGrace > 0 {
		// Pods first; then the status gets statusGrace to follow on its own.
		podsOnly := opts
		podsOnly.skipStatus = true
		s.waitConverged(label, name, deadline, podsOnly)
		if _, _, last, err := s.tryConverged(name, time.Now().Add(opts.statusGrace), opts); err != nil {
			s.t.Logf("%s: pods converged but the status did not follow within %v (%s): %s; nudging the DaemonSet (annotation change, no spec change)",
				label, opts.statusGrace, opts.statusLagReason, strings.Join(last, "; "))
			s.nudge(name)
			note = " status=nudged"
		}
	}
	snap, firstOK := s.waitConverged(label, name, deadline, opts)
	secs := firstOK.Sub(since).Seconds()
	s.t.Logf("%s: DaemonSet %s converged in %.2fs: %v, revision %d hash %s, %d pods", label, name, secs, statusOf(snap.ds),
		snap.current.Revision, snap.hash, len(snap.pods))
	if o := snap.orphans(); len(o) > 0 {
		s.t.Logf("%s: %d pod(s) bound to deleted nodes, left to the pod garbage collector: %s", label, len(o), describePods(o))
	}
	fmt.Printf("E2E scenario=%s controller=%s converge=%.2f%s\n", label, s.c.spec.controller, secs, note)
	s.c.recordEnd(endStateOf(label, snap, secs, note != "", s.rec.stats(name)))
	return snap
}

// waitConverged is tryConverged that fails the test on timeout, saying what
// is still wrong.
func (s *scenario) waitConverged(label, name string, deadline time.Time, opts convergeOpts) (*snapshot, time.Time) {
	s.t.Helper()
	snap, firstOK, last, err := s.tryConverged(name, deadline, opts)
	if err != nil {
		s.t.Fatalf("%s: DaemonSet %s/%s not converged: %v; expected hash %q; still wrong:\n  %s",
			label, s.ns, name, err, hashOf(snap), strings.Join(last, "\n  "))
	}
	return snap, firstOK
}

// tryConverged polls until the DaemonSet is converged and still is 300 ms
// later, or the deadline passes. It returns the last snapshot, the time
// convergence was first seen, and the last problems.
func (s *scenario) tryConverged(name string, deadline time.Time, opts convergeOpts) (snap *snapshot, firstOK time.Time, last []string, err error) {
	every := s.pollEvery
	if every == 0 {
		every = 100 * time.Millisecond
	}
	err = s.c.poll(time.Until(deadline), every, func() (bool, error) {
		var err error
		if s.fromRecorder {
			snap, err = s.rec.snapshot(name)
		} else {
			snap, err = takeSnapshot(s.ctx, s.c.client, s.ns, name)
		}
		if err != nil {
			last = []string{err.Error()}
			firstOK = time.Time{}
			return false, nil
		}
		last = snap.problems(opts)
		if len(last) > 0 {
			firstOK = time.Time{}
			return false, nil
		}
		if firstOK.IsZero() {
			firstOK = time.Now()
			return false, nil
		}
		return time.Since(firstOK) >= max(300*time.Millisecond, every), nil
	})
	return snap, firstOK, last, err
}

// nudge changes an annotation of the DaemonSet: an update event with no spec
// change, on which a controller syncs it (and rewrites its status).
func (s *scenario) nudge(name string) {
	s.t.Helper()
	s.updateDS(name, func(ds *appsv1.DaemonSet) {
		if ds.Annotations == nil {
			ds.Annotations = map[string]string{}
		}
		ds.Annotations["dsplan.e2e/nudge"] = time.Now().Format(time.RFC3339Nano)
	})
}

func hashOf(s *snapshot) string {
	if s == nil {
		return ""
	}
	return s.hash
}

// expectDesired fails unless the converged status counts want desired nodes.
func (s *scenario) expectDesired(snap *snapshot, want int) {
	s.t.Helper()
	if got := int(snap.ds.Status.DesiredNumberScheduled); got != want {
		s.t.Errorf("desiredNumberScheduled = %d, want %d", got, want)
	}
}

// defaultDesired is the number of nodes a DaemonSet without tolerations or
// node selector runs on: all but the control-plane ones.
func (s *scenario) defaultDesired() int { return s.c.spec.nodes - controlPlaneNodes }

// cleanup registers f to run when the scenario ends, failing it on error.
func (s *scenario) cleanup(what string, f func() error) {
	s.t.Cleanup(func() {
		if err := f(); err != nil {
			s.t.Errorf("cleanup %s: %v", what, err)
		}
	})
}

// scenarioCreate: a new DaemonSet gets one ready pod on every node but the
// control-plane ones, and one ControllerRevision.
func scenarioCreate(s *scenario) {
	at := s.createDS(newDS("ds"))
	snap := s.converge("", "ds", at, convergeOpts{})
	s.expectDesired(snap, s.defaultDesired())
	if len(snap.revisions) != 1 {
		s.t.Errorf("%d ControllerRevisions, want 1", len(snap.revisions))
	}
}

// scenarioNodeJoinLeave: a node that joins gets a pod; when it leaves, the
// DaemonSet's desired count drops back.
func scenarioNodeJoinLeave(s *scenario) {
	s.converge("create", "ds", s.createDS(newDS("ds")), convergeOpts{})
	name := "kwok-joined"
	s.cleanup("delete node "+name, func() error {
		err := s.c.client.CoreV1().Nodes().Delete(context.Background(), name, metav1.DeleteOptions{})
		if apierrors.IsNotFound(err) {
			return nil
		}
		return err
	})
	at := time.Now()
	if _, err := s.c.client.CoreV1().Nodes().Create(s.ctx, newNode(name), metav1.CreateOptions{}); err != nil {
		s.t.Fatal(err)
	}
	snap := s.converge("join", "ds", at, convergeOpts{})
	s.expectDesired(snap, s.defaultDesired()+1)
	if p := snap.podOn(name); p == nil {
		s.t.Errorf("no pod on the joined node %s", name)
	}

	at = time.Now()
	if err := s.c.client.CoreV1().Nodes().Delete(s.ctx, name, metav1.DeleteOptions{}); err != nil {
		s.t.Fatal(err)
	}
	snap = s.converge("leave", "ds", at, convergeOpts{})
	s.expectDesired(snap, s.defaultDesired())
}

// scenarioTaintNoSchedule: a NoSchedule taint keeps the existing daemon pod
// on the node (counted misscheduled); a DaemonSet created afterwards gets no
// pod there.
func scenarioTaintNoSchedule(s *scenario) {
	snap := s.converge("create", "ds-a", s.createDS(newDS("ds-a")), convergeOpts{})
	before := snap.podOn(nodeNoSchedule)
	if before == nil {
		s.t.Fatalf("no pod on %s before the taint", nodeNoSchedule)
	}
	taint := corev1.Taint{Key: "dsplan.e2e/noschedule", Value: "x", Effect: corev1.TaintEffectNoSchedule}
	s.cleanup("untaint "+nodeNoSchedule, func() error { return s.c.removeTaint(nodeNoSchedule, taint) })
	at := time.Now()
	if err := s.c.addTaint(nodeNoSchedule, taint); err != nil {
		s.t.Fatal(err)
	}
	// Upstream v1.37 (syncNodeUpdate) enqueues a DaemonSet on a node change
	// only if a pod must be created or deleted there, or if its status
	// already counts misscheduled pods; a NoSchedule taint on a node that
	// keeps its pod is neither, so its status is not recomputed until the
	// next sync for another reason.
	snap = s.converge("taint", "ds-a", at, convergeOpts{
		statusGrace:     3 * time.Second,
		statusLagReason: "upstream does not resync a DaemonSet when a node it keeps a pod on gets a NoSchedule taint",
	})
	s.expectDesired(snap, s.defaultDesired()-1)
	if after := snap.podOn(nodeNoSchedule); after == nil || after.UID != before.UID {
		s.t.Errorf("pod on %s did not stay: before %s, after %s", nodeNoSchedule, describePods([]*corev1.Pod{before}), describePods(snap.byNode[nodeNoSchedule]))
	}
	if snap.ds.Status.NumberMisscheduled != 1 {
		s.t.Errorf("numberMisscheduled = %d, want 1", snap.ds.Status.NumberMisscheduled)
	}

	snap = s.converge("new-ds", "ds-b", s.createDS(newDS("ds-b")), convergeOpts{})
	s.expectDesired(snap, s.defaultDesired()-1)
	if pods := snap.byNode[nodeNoSchedule]; len(pods) != 0 {
		s.t.Errorf("new DaemonSet has pods on tainted node %s: %s", nodeNoSchedule, describePods(pods))
	}
}

// scenarioTaintNoExecute: a NoExecute taint the pods do not tolerate
// removes the daemon pod from the node.
func scenarioTaintNoExecute(s *scenario) {
	s.converge("create", "ds", s.createDS(newDS("ds")), convergeOpts{})
	taint := corev1.Taint{Key: "dsplan.e2e/noexecute", Value: "x", Effect: corev1.TaintEffectNoExecute}
	s.cleanup("untaint "+nodeNoExecute, func() error { return s.c.removeTaint(nodeNoExecute, taint) })
	at := time.Now()
	if err := s.c.addTaint(nodeNoExecute, taint); err != nil {
		s.t.Fatal(err)
	}
	snap := s.converge("evict", "ds", at, convergeOpts{})
	s.expectDesired(snap, s.defaultDesired()-1)
	if pods := snap.byNode[nodeNoExecute]; len(pods) != 0 {
		s.t.Errorf("pods left on NoExecute-tainted node %s: %s", nodeNoExecute, describePods(pods))
	}
}

// scenarioCordon: daemon pods tolerate node.kubernetes.io/unschedulable, so
// a cordoned node still gets its pod.
func scenarioCordon(s *scenario) {
	s.cleanup("uncordon "+nodeCordon, func() error { return s.c.setUnschedulable(nodeCordon, false) })
	if err := s.c.setUnschedulable(nodeCordon, true); err != nil {
		s.t.Fatal(err)
	}
	snap := s.converge("", "ds", s.createDS(newDS("ds")), convergeOpts{})
	s.expectDesired(snap, s.defaultDesired())
	if p := snap.podOn(nodeCordon); p == nil || !podReady(p) || p.Spec.NodeName != nodeCordon {
		s.t.Errorf("cordoned node %s has no ready bound pod: %s", nodeCordon, describePods(snap.byNode[nodeCordon]))
	}
}

// scenarioNodeLabel: a DaemonSet with nodeSelector pool=logging runs on the
// labelled nodes only; removing the label from a node removes its pod.
func scenarioNodeLabel(s *scenario) {
	ds := newDS("ds")
	ds.Spec.Template.Spec.NodeSelector = map[string]string{poolLabel: poolLogging}
	snap := s.converge("create", "ds", s.createDS(ds), convergeOpts{})
	logging := 0
	for i := controlPlaneNodes; i < s.c.spec.nodes; i++ {
		if i%3 == 0 {
			logging++
		}
	}
	s.expectDesired(snap, logging)
	if snap.podOn(nodeUnlabel) == nil {
		s.t.Fatalf("no pod on %s before the label change", nodeUnlabel)
	}
	value := poolLogging
	s.cleanup("relabel "+nodeUnlabel, func() error { return s.c.setLabel(nodeUnlabel, poolLabel, &value) })
	at := time.Now()
	if err := s.c.setLabel(nodeUnlabel, poolLabel, nil); err != nil {
		s.t.Fatal(err)
	}
	snap = s.converge("unlabel", "ds", at, convergeOpts{})
	s.expectDesired(snap, logging-1)
	if pods := snap.byNode[nodeUnlabel]; len(pods) != 0 {
		s.t.Errorf("pods left on unlabelled node %s: %s", nodeUnlabel, describePods(pods))
	}
}

// scenarioRollingMaxUnavailable: a rolling update with maxUnavailable 2
// replaces every pod and never has more than 2 nodes unavailable because of
// its deletes (checked on every recorded state by the recorder).
func scenarioRollingMaxUnavailable(s *scenario) {
	ds := newDS("ds")
	ds.Spec.UpdateStrategy = rollingUpdate(intstr.FromInt32(2), intstr.FromInt32(0))
	first := s.converge("create", "ds", s.createDS(ds), convergeOpts{})
	snap := s.converge("update", "ds", s.setImage("ds", imageV2), convergeOpts{})
	if snap.hash == first.hash {
		s.t.Errorf("revision hash did not change (%s)", snap.hash)
	}
	st := s.rec.stats("ds")
	if st.MaxDisrupted < 1 {
		s.t.Errorf("recorder saw no node made unavailable by the rollout (stats %+v): is it recording?", st)
	}
	s.t.Logf("at most %d nodes unavailable by controller deletes at once (limit %d)", st.MaxDisrupted, st.MaxDisruptedLimit)
}

// scenarioRollingMaxSurge: a rolling update with maxSurge 25% and
// maxUnavailable 0 starts each new pod next to the old one (at most two
// live pods per node) and never leaves a node unavailable by a delete.
func scenarioRollingMaxSurge(s *scenario) {
	ds := newDS("ds")
	ds.Spec.UpdateStrategy = rollingUpdate(intstr.FromInt32(0), intstr.FromString("25%"))
	first := s.converge("create", "ds", s.createDS(ds), convergeOpts{})
	snap := s.converge("update", "ds", s.setImage("ds", imageV2), convergeOpts{})
	if snap.hash == first.hash {
		s.t.Errorf("revision hash did not change (%s)", snap.hash)
	}
	st := s.rec.stats("ds")
	if st.MaxLivePerNode != 2 {
		s.t.Errorf("max live pods per node = %d, want 2 (surge)", st.MaxLivePerNode)
	}
	s.t.Logf("max live pods per node %d; nodes unavailable by controller deletes: max %d", st.MaxLivePerNode, st.MaxDisrupted)
}

// scenarioOnDelete: with OnDelete a template change replaces nothing; a pod
// deleted by hand comes back at the new revision.
func scenarioOnDelete(s *scenario) {
	ds := newDS("ds")
	ds.Spec.UpdateStrategy = appsv1.DaemonSetUpdateStrategy{Type: appsv1.OnDeleteDaemonSetStrategyType}
	first := s.converge("create", "ds", s.createDS(ds), convergeOpts{})
	before := s.rec.stats("ds")
	snap := s.converge("template-change", "ds", s.setImage("ds", imageV2), convergeOpts{anyRevision: true})
	if snap.hash == first.hash {
		s.t.Fatalf("revision hash did not change (%s)", snap.hash)
	}
	if snap.ds.Status.UpdatedNumberScheduled != 0 {
		s.t.Errorf("updatedNumberScheduled = %d right after the template change, want 0", snap.ds.Status.UpdatedNumberScheduled)
	}
	// Give the controller time to (wrongly) act.
	select {
	case <-s.ctx.Done():
		s.t.Fatal(s.ctx.Err())
	case <-time.After(2 * time.Second):
	}
	if after := s.rec.stats("ds"); after.Created != before.Created || after.Deleted != before.Deleted {
		s.t.Errorf("OnDelete: pods changed without a manual delete: created %d -> %d, removed %d -> %d",
			before.Created, after.Created, before.Deleted, after.Deleted)
	}

	old := snap.podOn(nodeOnDelete)
	if old == nil {
		s.t.Fatalf("no pod on %s", nodeOnDelete)
	}
	s.rec.expectDelete(old.Name)
	at := time.Now()
	if err := s.c.client.CoreV1().Pods(s.ns).Delete(s.ctx, old.Name, metav1.DeleteOptions{}); err != nil {
		s.t.Fatal(err)
	}
	snap = s.converge("manual-delete", "ds", at, convergeOpts{anyRevision: true})
	if p := snap.podOn(nodeOnDelete); p == nil || p.Labels[hashLabel] != snap.hash {
		s.t.Errorf("node %s: want one pod of the new revision %s, have %s", nodeOnDelete, snap.hash, describePods(snap.byNode[nodeOnDelete]))
	}
	for node, pods := range snap.byNode {
		if node != nodeOnDelete && len(pods) == 1 && pods[0].Labels[hashLabel] != first.hash {
			s.t.Errorf("node %s: pod %s was replaced (hash %s), want the old revision %s", node, pods[0].Name, pods[0].Labels[hashLabel], first.hash)
		}
	}
	if snap.ds.Status.UpdatedNumberScheduled != 1 {
		s.t.Errorf("updatedNumberScheduled = %d, want 1", snap.ds.Status.UpdatedNumberScheduled)
	}
}

// scenarioRollback: `kubectl rollout undo --to-revision=1` after an update
// brings back the first template; its ControllerRevision becomes revision 3
// and every pod returns to its hash.
func scenarioRollback(s *scenario) {
	ds := newDS("ds")
	ds.Spec.UpdateStrategy = rollingUpdate(intstr.FromString("20%"), intstr.FromInt32(0))
	first := s.converge("create", "ds", s.createDS(ds), convergeOpts{})
	second := s.converge("update", "ds", s.setImage("ds", imageV2), convergeOpts{})
	if second.hash == first.hash {
		s.t.Fatalf("revision hash did not change (%s)", second.hash)
	}
	at := time.Now()
	out, err := s.c.kubectl("-n", s.ns, "rollout", "undo", "daemonset/ds", "--to-revision=1")
	if err != nil {
		s.t.Fatal(err)
	}
	s.t.Logf("kubectl: %s", strings.TrimSpace(out))
	snap := s.converge("undo", "ds", at, convergeOpts{})
	if snap.hash != first.hash {
		s.t.Errorf("after undo the current hash is %s, want the first revision's %s", snap.hash, first.hash)
	}
	if img := snap.ds.Spec.Template.Spec.Containers[0].Image; img != imageV1 {
		s.t.Errorf("after undo the image is %s, want %s", img, imageV1)
	}
	if snap.current.Revision != 3 || len(snap.revisions) != 2 {
		s.t.Errorf("after undo: current revision %d (want 3), %d ControllerRevisions (want 2)", snap.current.Revision, len(snap.revisions))
	}
}

// scenarioDelete: deleting the DaemonSet (background propagation, as kubectl
// does) lets the garbage collector remove its pods and ControllerRevisions.
func scenarioDelete(s *scenario) {
	s.converge("create", "ds", s.createDS(newDS("ds")), convergeOpts{})
	s.rec.expectDaemonSetDelete("ds")
	at := time.Now()
	bg := metav1.DeletePropagationBackground
	if err := s.c.client.AppsV1().DaemonSets(s.ns).Delete(s.ctx, "ds", metav1.DeleteOptions{PropagationPolicy: &bg}); err != nil {
		s.t.Fatal(err)
	}
	var left string
	err := s.c.poll(convergeTimeout, 100*time.Millisecond, func() (bool, error) {
		pods, err := s.c.client.CoreV1().Pods(s.ns).List(s.ctx, metav1.ListOptions{})
		if err != nil {
			return false, nil
		}
		revs, err := s.c.client.AppsV1().ControllerRevisions(s.ns).List(s.ctx, metav1.ListOptions{})
		if err != nil {
			return false, nil
		}
		_, err = s.c.client.AppsV1().DaemonSets(s.ns).Get(s.ctx, "ds", metav1.GetOptions{})
		left = fmt.Sprintf("%d pods, %d ControllerRevisions, DaemonSet get: %v", len(pods.Items), len(revs.Items), err)
		return len(pods.Items) == 0 && len(revs.Items) == 0 && apierrors.IsNotFound(err), nil
	})
	if err != nil {
		s.t.Fatalf("after deleting the DaemonSet: %v; left: %s", err, left)
	}
	secs := time.Since(at).Seconds()
	s.t.Logf("DaemonSet, pods and ControllerRevisions gone in %.2fs", secs)
	fmt.Printf("E2E scenario=%s controller=%s converge=%.2f\n", s.name, s.c.spec.controller, secs)
	s.c.recordEnd(endState{Phase: s.name, DS: "ds", Gone: true, Converge: secs})
}
