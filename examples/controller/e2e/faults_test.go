//go:build unix

package e2e

import (
	"context"
	"fmt"
	"os"
	"strings"
	"syscall"
	"testing"
	"time"

	admissionv1 "k8s.io/api/admissionregistration/v1"
	appsv1 "k8s.io/api/apps/v1"
	corev1 "k8s.io/api/core/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/types"
	"k8s.io/apimachinery/pkg/util/intstr"
)

// TestFaults runs one rolling update per fault, each injected once
// mid-rollout, against each controller of DSPLAN_E2E_FAULT_CONTROLLERS
// (comma-separated, default "dsplan"; "kcm,dsplan" compares with
// kube-controller-manager where the fault applies to it). Every run must
// converge with the recorder's invariants held in every state (at most
// maxUnavailable nodes made unavailable by the controller's deletes, at most
// one live pod per node) and end in the state of a fault-free run of the
// same rollout on the same cluster (the "reference" subtest).
func TestFaults(t *testing.T) {
	cfg, ctx := requireE2E(t)
	controllers := strings.Split(os.Getenv("DSPLAN_E2E_FAULT_CONTROLLERS"), ",")
	if controllers[0] == "" {
		controllers = []string{"dsplan"}
	}
	for _, ctrl := range controllers {
		if ctrl != "kcm" && ctrl != "dsplan" {
			t.Fatalf("DSPLAN_E2E_FAULT_CONTROLLERS: %q is neither kcm nor dsplan", ctrl)
		}
		t.Run(ctrl, func(t *testing.T) {
			c := newCluster(t, ctx, cfg, clusterSpec{controller: ctrl, proxy: true})
			if err := c.installDenyPodCreate(); err != nil {
				t.Fatal(err)
			}
			var ref *endState
			t.Run("reference", func(t *testing.T) {
				s := newScenario(t, c)
				old := s.converge("create", "ds", s.createDS(faultDS()), convergeOpts{})
				snap := s.converge("update", "ds", s.setImage("ds", imageV2), convergeOpts{})
				if snap.hash == old.hash {
					t.Fatalf("revision hash did not change (%s)", snap.hash)
				}
				e := c.endStates()
				ref = &e[len(e)-1]
			})
			if ref == nil {
				t.Fatal("no reference end state")
			}
			for _, f := range faults {
				if f.only != "" && f.only != ctrl {
					continue
				}
				if ctx.Err() != nil {
					t.Fatalf("interrupted: %v", ctx.Err())
				}
				t.Run(f.name, func(t *testing.T) {
					s := newScenario(t, c)
					fr := &faultRun{s: s, ref: *ref}
					f.run(fr)
				})
			}
		})
	}
}

// faultDS is the DaemonSet of every fault run: RollingUpdate with
// maxUnavailable 1, so that a controller deleting behind its budget shows
// at once.
func faultDS() *appsv1.DaemonSet {
	ds := newDS("ds")
	ds.Spec.UpdateStrategy = rollingUpdate(intstr.FromInt32(1), intstr.FromInt32(0))
	return ds
}

var faults = []struct {
	name string
	only string // "dsplan": the fault needs the dsplan controller's replicas
	run  func(f *faultRun)
}{
	{"apiserver-kill", "", faultAPIServerKill},
	{"controller-kill", "", faultControllerKill},
	{"leader-kill", "dsplan", faultLeaderKill},
	{"leader-stop", "dsplan", faultLeaderStop},
	{"conflicts", "", faultConflicts},
	{"create-denied", "", faultCreateDenied},
	{"watch-drop", "", faultWatchDrop},
}

// faultRun is one fault's rollout.
type faultRun struct {
	s       *scenario
	ref     endState
	oldHash string
	at      time.Time // the template change
}

// start creates the DaemonSet, waits for it, and changes its template.
func (f *faultRun) start() {
	s := f.s
	old := s.converge("create", "ds", s.createDS(faultDS()), convergeOpts{})
	f.oldHash = old.hash
	f.at = s.setImage("ds", imageV2)
}

// midRollout waits until the rollout has replaced at least n pods (live
// pods of another revision than the first), and says how far it got.
func (f *faultRun) midRollout(n int) {
	s := f.s
	var got, total int
	if !s.rec.waitPods(s.ctx, "ds", 60*time.Second, func(pods []*corev1.Pod) bool {
		got, total = 0, len(pods)
		for _, p := range pods {
			if podLive(p) && p.Labels[hashLabel] != f.oldHash {
				got++
			}
		}
		return got >= n
	}) {
		s.t.Fatalf("the rollout did not start: %d of %d pods replaced after 60s", got, total)
	}
	s.t.Logf("fault injected mid-rollout: %d of %d pods of the new revision", got, s.defaultDesired())
}

// finish waits for convergence and compares the end state with the
// fault-free reference's.
func (f *faultRun) finish() {
	s := f.s
	s.converge("converge", "ds", f.at, convergeOpts{})
	ends := s.c.endStates()
	got := ends[len(ends)-1]
	if d := diffEnd(f.ref, got); len(d) > 0 {
		s.t.Errorf("end state differs from the fault-free run's (first column: fault-free):\n  %s", strings.Join(d, "\n  "))
	} else {
		s.t.Logf("end state equals the fault-free run's")
	}
	fmt.Printf("E2E-FAULT fault=%s controller=%s converge=%.2f equal=%v\n", s.name, s.c.spec.controller,
		got.Converge, len(diffEnd(f.ref, got)) == 0)
}

// requests returns the controller's audited requests since from.
func (f *faultRun) requests(from time.Time) requestCounts {
	events, _, err := readAudit(f.s.c.auditPath, 0)
	if err != nil {
		f.s.t.Errorf("audit log: %v", err)
		return nil
	}
	return countRequests(events, f.s.c.controllerUsers(), from, time.Time{})
}

// faultAPIServerKill: kube-apiserver is SIGKILLed and restarted (same
// flags, same etcd).
func faultAPIServerKill(f *faultRun) {
	s := f.s
	f.start()
	f.midRollout(3)
	at := time.Now()
	s.c.killAndRestart(s.t, "kube-apiserver")
	if err := s.c.waitAPIReady(60 * time.Second); err != nil {
		s.t.Fatalf("kube-apiserver after restart: %v", err)
	}
	s.t.Logf("kube-apiserver killed and ready again after %.1fs", time.Since(at).Seconds())
	f.finish()
}

// faultControllerKill: the DaemonSet controller is SIGKILLed and started
// again: the dsplan controller (a new replica, which must wait for the dead
// one's lease to expire) or kube-controller-manager as a whole.
func faultControllerKill(f *faultRun) {
	s := f.s
	f.start()
	f.midRollout(3)
	if s.c.spec.controller == "kcm" {
		s.c.killAndRestart(s.t, "kube-controller-manager")
		s.t.Log("kube-controller-manager killed and restarted")
	} else {
		cs := s.c.controllers
		leader := s.c.leader(s.t)
		cs.Kill(leader)
		i := cs.Add(s.t)
		s.t.Logf("dsplan controller replica %d (leader) killed; replica %d started", leader, i)
	}
	f.finish()
}

// faultLeaderKill: two replicas; the leader is SIGKILLed mid-rollout and
// the standby takes over once the lease expires.
func faultLeaderKill(f *faultRun) {
	s := f.s
	cs := s.c.controllers
	leader := s.c.leader(s.t)
	standby := s.c.ensureStandby(s.t)
	f.start()
	f.midRollout(3)
	at := time.Now()
	cs.Kill(leader)
	s.t.Logf("leader replica %d killed; standby %d", leader, standby)
	holder := s.c.waitLeader(s.t, standby, 60*time.Second)
	s.t.Logf("replica %d leads %.1fs after the kill", holder, time.Since(at).Seconds())
	f.finish()
}

// faultLeaderStop: two replicas; the leader is SIGSTOPped mid-rollout (as
// a long GC pause or a frozen VM would), its lease lapses, the standby
// takes over and writes, then the old leader gets SIGCONT. The audit log
// must show no write by the old leader after the standby's first write.
func faultLeaderStop(f *faultRun) {
	s := f.s
	cs := s.c.controllers
	leader := s.c.leader(s.t)
	standby := s.c.ensureStandby(s.t)
	f.start()
	f.midRollout(3)
	stopped := time.Now()
	cs.Signal(leader, syscall.SIGSTOP)
	s.t.Logf("leader replica %d stopped (SIGSTOP); standby %d", leader, standby)
	resumed := false
	s.t.Cleanup(func() {
		if !resumed {
			cs.Signal(leader, syscall.SIGCONT)
		}
	})
	s.c.waitLeader(s.t, standby, 60*time.Second)
	// The standby's first write after the stop (its lease acquisition),
	// and its first write of anything else.
	var firstWrite, firstObjectWrite *auditEvent
	err := s.c.poll(30*time.Second, 100*time.Millisecond, func() (bool, error) {
		events, _, err := readAudit(s.c.auditPath, 0)
		if err != nil {
			return false, err
		}
		firstWrite, firstObjectWrite = nil, nil
		for i := range events {
			e := &events[i]
			if e.User.Username != dsplanUser(standby) || !isWrite(e.Verb) || e.RequestReceived.Before(stopped) {
				continue
			}
			if firstWrite == nil {
				firstWrite = e
			}
			if firstObjectWrite == nil && e.resource() != "leases" {
				firstObjectWrite = e
			}
		}
		return firstObjectWrite != nil, nil
	})
	if err != nil {
		s.t.Fatalf("standby %d wrote nothing but its lease after taking over: %v", standby, err)
	}
	s.t.Logf("standby's first write %s %s at +%.3fs (lease), first object write %s %s at +%.3fs",
		firstWrite.Verb, firstWrite.resource(), firstWrite.RequestReceived.Sub(stopped).Seconds(),
		firstObjectWrite.Verb, firstObjectWrite.resource(), firstObjectWrite.RequestReceived.Sub(stopped).Seconds())
	// The old leader finds out it lost the lease and exits (by design):
	// an expected exit.
	cs.ExpectExit(leader)
	cs.Signal(leader, syscall.SIGCONT)
	resumed = true
	contAt := time.Now()
	s.t.Logf("old leader %d continued (SIGCONT) %.1fs after the stop", leader, contAt.Sub(stopped).Seconds())
	f.finish()
	// Give the old leader time to act, or to exit.
	exited := cs.WaitExit(leader, 30*time.Second)
	s.t.Logf("old leader exited: %v (%.1fs after SIGCONT); last log lines:\n%s", exited, time.Since(contAt).Seconds(),
		tail(cs.Proc(leader).logPath, 8))
	events, _, err := readAudit(s.c.auditPath, 0)
	if err != nil {
		s.t.Fatal(err)
	}
	var late []string
	for i := range events {
		e := &events[i]
		if e.User.Username == dsplanUser(leader) && isWrite(e.Verb) && !e.RequestReceived.Before(firstWrite.RequestReceived) {
			name := ""
			if e.ObjectRef != nil {
				name = e.ObjectRef.Name
			}
			late = append(late, fmt.Sprintf("%s %s %s -> %d at +%.3fs after SIGCONT", e.Verb, e.resource(), name, e.code(),
				e.RequestReceived.Sub(contAt).Seconds()))
		}
	}
	old := countRequests(events, []string{dsplanUser(leader)}, contAt, time.Time{})
	s.t.Logf("old leader's requests after SIGCONT: %v", old)
	fmt.Printf("E2E-FENCING old-leader-writes-after-standby=%d exited=%v\n", len(late), exited)
	if len(late) > 0 {
		s.t.Errorf("the old leader (replica %d) wrote %d times after the standby's first write (%s at %s):\n  %s",
			leader, len(late), firstWrite.Verb+" "+firstWrite.resource(), firstWrite.RequestReceived.Format(time.RFC3339Nano),
			strings.Join(late, "\n  "))
	}
	if !exited {
		s.t.Errorf("the old leader (replica %d) did not exit within 30s of SIGCONT", leader)
	}
}

// faultConflicts: a second writer patches an annotation of the DaemonSet
// in a tight loop (at most 2,000 patches, 60 s) from mid-rollout until the
// pods have converged: the controller's status writes (which carry the
// resourceVersion it read) meet 409 Conflicts.
func faultConflicts(f *faultRun) {
	s := f.s
	f.start()
	f.midRollout(3)
	from := time.Now()
	ctx, cancel := context.WithCancel(s.ctx)
	done := make(chan int)
	go func() {
		n := 0
		deadline := time.Now().Add(60 * time.Second)
		for ; n < 2000 && ctx.Err() == nil && time.Now().Before(deadline); n++ {
			patch := fmt.Sprintf(`{"metadata":{"annotations":{"dsplan.e2e/second-writer":"%d"}}}`, n)
			_, _ = s.c.client.AppsV1().DaemonSets(s.ns).Patch(ctx, "ds", types.MergePatchType, []byte(patch), metav1.PatchOptions{})
		}
		done <- n
	}()
	s.waitConverged("conflicts/pods", "ds", f.at.Add(convergeTimeout), convergeOpts{skipStatus: true})
	cancel()
	n := <-done
	f.finish()
	reqs := f.requests(from)
	conflicts := 0
	events, _, _ := readAudit(s.c.auditPath, 0)
	for i := range events {
		e := &events[i]
		if e.code() == 409 && !e.RequestReceived.Before(from) && containsUser(s.c.controllerUsers(), e.User.Username) {
			conflicts++
		}
	}
	s.t.Logf("second writer: %d patches; the controller got %d conflicts (409) in %d requests: %v", n, conflicts, reqs.total(), reqs)
	fmt.Printf("E2E-FAULT-CONFLICTS controller=%s patches=%d conflicts=%d\n", s.c.spec.controller, n, conflicts)
}

func containsUser(users []string, u string) bool {
	for _, x := range users {
		if x == u {
			return true
		}
	}
	return false
}

// faultCreateDenied: from mid-rollout, a ValidatingAdmissionPolicy denies
// every pod creation in the namespace for 5 s; the controller may not
// delete more pods meanwhile than its budget allows (the recorder checks),
// and the rollout completes once creates are allowed again.
func faultCreateDenied(f *faultRun) {
	s := f.s
	if err := s.c.denyPodCreate(s.ns, true); err != nil {
		s.t.Fatal(err)
	}
	if err := s.c.denyPodCreate(s.ns, false); err != nil {
		s.t.Fatal(err)
	}
	f.start()
	f.midRollout(3)
	from := time.Now()
	if err := s.c.setNamespaceLabel(s.ns, denyLabel, "true"); err != nil {
		s.t.Fatal(err)
	}
	before := s.rec.stats("ds")
	select {
	case <-s.ctx.Done():
		s.t.Fatal(s.ctx.Err())
	case <-time.After(5 * time.Second):
	}
	during := s.rec.stats("ds")
	if err := s.c.denyPodCreate(s.ns, false); err != nil {
		s.t.Fatal(err)
	}
	s.t.Logf("creates denied for %.1fs: pods created %d (in flight when the denial started), removed %d meanwhile; max nodes unavailable by controller deletes so far %d (limit %d)",
		time.Since(from).Seconds(), during.Created-before.Created, during.Deleted-before.Deleted, during.MaxDisrupted, during.MaxDisruptedLimit)
	f.finish()
	denied := 0
	events, _, _ := readAudit(s.c.auditPath, 0)
	for i := range events {
		e := &events[i]
		if e.Verb == "create" && e.resource() == "pods" && e.code() >= 400 && !e.RequestReceived.Before(from) &&
			containsUser(s.c.controllerUsers(), e.User.Username) {
			denied++
		}
	}
	s.t.Logf("the controller's pod creates denied: %d", denied)
	fmt.Printf("E2E-FAULT-DENIED controller=%s denied-creates=%d\n", s.c.spec.controller, denied)
}

// faultWatchDrop: the TCP proxy between the DaemonSet controller and
// kube-apiserver resets every connection once mid-rollout (watches and
// requests in flight fail; new connections go through).
func faultWatchDrop(f *faultRun) {
	s := f.s
	if s.c.proxy == nil {
		s.t.Fatal("the cluster has no proxy")
	}
	f.start()
	f.midRollout(3)
	n := s.c.proxy.cutAll()
	s.t.Logf("cut %d connections of the controller", n)
	if n == 0 {
		s.t.Error("no connection to cut: is the controller behind the proxy?")
	}
	f.finish()
}

// leader returns the replica holding the dsplan controller's Lease,
// waiting (30 s) for one of the running replicas to hold it.
func (c *cluster) leader(t *testing.T) int {
	t.Helper()
	return c.waitLeader(t, -1, 30*time.Second)
}

// waitLeader waits until replica want (any running replica if want < 0)
// holds the Lease and returns it.
func (c *cluster) waitLeader(t *testing.T, want int, timeout time.Duration) int {
	t.Helper()
	got, holder := -1, ""
	err := c.poll(timeout, 100*time.Millisecond, func() (bool, error) {
		l, err := c.client.CoordinationV1().Leases("kube-system").Get(c.ctx, "dsplan-controller", metav1.GetOptions{})
		if err != nil || l.Spec.HolderIdentity == nil {
			return false, nil
		}
		holder = *l.Spec.HolderIdentity
		for _, i := range c.controllers.Running() {
			if holder == dsplanUser(i) && (want < 0 || i == want) {
				got = i
				return true, nil
			}
		}
		return false, nil
	})
	if err != nil {
		t.Fatalf("waiting for replica %d to lead (holder %q): %v", want, holder, err)
	}
	return got
}

// ensureStandby starts a second replica if only one runs, and returns a
// running replica that is not the leader.
func (c *cluster) ensureStandby(t *testing.T) int {
	t.Helper()
	leader := c.leader(t)
	for _, i := range c.controllers.Running() {
		if i != leader {
			return i
		}
	}
	i := c.controllers.Add(t)
	t.Logf("standby replica %d started", i)
	return i
}

// The deny-pod-create ValidatingAdmissionPolicy: its binding matches the
// namespaces labelled denyLabel=true.
const (
	denyPolicy = "dsplan-e2e-deny-pod-create"
	denyLabel  = "dsplan.e2e/deny-pod-create"
)

// installDenyPodCreate creates the policy and its binding.
func (c *cluster) installDenyPodCreate() error {
	fail := admissionv1.Fail
	_, err := c.client.AdmissionregistrationV1().ValidatingAdmissionPolicies().Create(c.ctx, &admissionv1.ValidatingAdmissionPolicy{
		ObjectMeta: metav1.ObjectMeta{Name: denyPolicy},
		Spec: admissionv1.ValidatingAdmissionPolicySpec{
			FailurePolicy: &fail,
			MatchConstraints: &admissionv1.MatchResources{ResourceRules: []admissionv1.NamedRuleWithOperations{{
				RuleWithOperations: admissionv1.RuleWithOperations{
					Operations: []admissionv1.OperationType{admissionv1.Create},
					Rule:       admissionv1.Rule{APIGroups: []string{""}, APIVersions: []string{"v1"}, Resources: []string{"pods"}},
				},
			}}},
			Validations: []admissionv1.Validation{{Expression: "false", Message: "dsplan e2e: pod creation denied in this namespace"}},
		},
	}, metav1.CreateOptions{})
	if err != nil {
		return fmt.Errorf("ValidatingAdmissionPolicy: %w", err)
	}
	_, err = c.client.AdmissionregistrationV1().ValidatingAdmissionPolicyBindings().Create(c.ctx, &admissionv1.ValidatingAdmissionPolicyBinding{
		ObjectMeta: metav1.ObjectMeta{Name: denyPolicy},
		Spec: admissionv1.ValidatingAdmissionPolicyBindingSpec{
			PolicyName:        denyPolicy,
			ValidationActions: []admissionv1.ValidationAction{admissionv1.Deny},
			MatchResources: &admissionv1.MatchResources{NamespaceSelector: &metav1.LabelSelector{
				MatchLabels: map[string]string{denyLabel: "true"},
			}},
		},
	}, metav1.CreateOptions{})
	if err != nil {
		return fmt.Errorf("ValidatingAdmissionPolicyBinding: %w", err)
	}
	return nil
}

// denyPodCreate labels (deny) or unlabels the namespace and waits until a
// dry-run pod creation there is denied or allowed accordingly.
func (c *cluster) denyPodCreate(ns string, deny bool) error {
	value := "false"
	if deny {
		value = "true"
	}
	if err := c.setNamespaceLabel(ns, denyLabel, value); err != nil {
		return err
	}
	probe := &corev1.Pod{
		ObjectMeta: metav1.ObjectMeta{GenerateName: "probe-"},
		Spec:       corev1.PodSpec{Containers: []corev1.Container{{Name: "pause", Image: imageV1}}},
	}
	var last error
	err := c.poll(30*time.Second, 100*time.Millisecond, func() (bool, error) {
		_, last = c.client.CoreV1().Pods(ns).Create(c.ctx, probe, metav1.CreateOptions{DryRun: []string{metav1.DryRunAll}})
		denied := apierrors.IsForbidden(last) || apierrors.IsInvalid(last)
		return denied == deny, nil
	})
	if err != nil {
		return fmt.Errorf("pod creation in %s denied=%v not in effect: %v (last probe: %v)", ns, deny, err, last)
	}
	return nil
}

// setNamespaceLabel sets a label on namespace ns.
func (c *cluster) setNamespaceLabel(ns, key, value string) error {
	patch := fmt.Sprintf(`{"metadata":{"labels":{%q:%q}}}`, key, value)
	_, err := c.client.CoreV1().Namespaces().Patch(c.ctx, ns, types.MergePatchType, []byte(patch), metav1.PatchOptions{})
	return err
}
