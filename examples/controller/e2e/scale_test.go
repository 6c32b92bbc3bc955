//go:build unix

package e2e

import (
	"context"
	"fmt"
	"os"
	"slices"
	"strconv"
	"strings"
	"testing"
	"time"

	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/types"
	"k8s.io/apimachinery/pkg/util/intstr"
)

// scaleLabel selects the nodes of the scale DaemonSet: every node has it
// ("in") at first; the third phase sets it to "out" on every second node.
const scaleLabel = "dsplan.e2e/scale"

// TestScale measures both DaemonSet controllers on DSPLAN_E2E_SCALE nodes
// (comma-separated sizes, e.g. "1000,5000"; skipped when unset), each on a
// fresh cluster per size and controller (DSPLAN_E2E_SCALE_CONTROLLERS,
// default "kcm,dsplan"; "dsplan-full" is the dsplan controller with
// --incremental=false, planning from the listers on every sync), in three
// phases: a DaemonSet is created (nodeSelector
// dsplan.e2e/scale=in, maxUnavailable 10%); its template changes (a rolling
// update); half the nodes get dsplan.e2e/scale=out. Per phase: the time to
// converge (as the recorder's watches see it, checked every 500 ms), the
// DaemonSet controller's API requests by verb and resource (audit log, up
// to 3 s after convergence), and the CPU seconds (utime+stime) of the
// controller's process and of kube-apiserver. kube-controller-manager runs
// only its serviceaccount controller (plus daemonset with kcm), so its CPU
// is essentially the DaemonSet controller's; no node lifecycle controller
// reads kwok's node leases, which are made long.
func TestScale(t *testing.T) {
	sizesEnv := os.Getenv("DSPLAN_E2E_SCALE")
	if sizesEnv == "" {
		t.Skip("scale runs: set DSPLAN_E2E_SCALE=1000 (or 1000,5000)")
	}
	cfg, ctx := requireE2E(t)
	var sizes []int
	for _, f := range strings.Split(sizesEnv, ",") {
		n, err := strconv.Atoi(strings.TrimSpace(f))
		if err != nil || n < 10 {
			t.Fatalf("DSPLAN_E2E_SCALE=%q: want sizes >= 10", sizesEnv)
		}
		sizes = append(sizes, n)
	}
	controllers := strings.Split(cmpOr(os.Getenv("DSPLAN_E2E_SCALE_CONTROLLERS"), "kcm,dsplan"), ",")
	var rows []scaleRow
	for _, n := range sizes {
		for _, ctrl := range controllers {
			if ctx.Err() != nil {
				t.Fatalf("interrupted: %v", ctx.Err())
			}
			t.Run(fmt.Sprintf("%s-%d", ctrl, n), func(t *testing.T) {
				rows = append(rows, scaleRun(t, ctx, cfg, ctrl, n)...)
			})
		}
	}
	table := scaleTable(rows)
	t.Logf("scale results:\n%s", table)
	fmt.Printf("E2E-SCALE-TABLE\n%s", table)
}

func cmpOr(a, b string) string {
	if a != "" {
		return a
	}
	return b
}

// scaleRow is one phase of one scale run.
type scaleRow struct {
	nodes       int
	controller  string
	phase       string
	converge    float64
	cpu, apiCPU float64
	requests    requestCounts
	failed      requestCounts // of requests, those answered with a code >= 400
	desired     int32
	note        string
}

func scaleRun(t *testing.T, ctx context.Context, cfg config, ctrl string, n int) []scaleRow {
	start := time.Now()
	spec := ctrl
	if ctrl == "dsplan-full" {
		// The dsplan controller planning from the listers' lists on every
		// sync, as kube-controller-manager does, instead of its
		// incremental planner.
		spec = "dsplan"
		cfg.controllerArgs = append(slices.Clip(cfg.controllerArgs), "--incremental=false")
	}
	c := startCluster(t, ctx, cfg, clusterSpec{
		controller: spec, nodes: n, kcmControllers: []string{"serviceaccount"},
		nodeLabels: map[string]string{scaleLabel: "in"}, nodeLease: time.Hour,
		// Without the node lifecycle controller nothing would remove the
		// node.kubernetes.io/not-ready:NoSchedule taint this admission
		// plugin puts on new nodes.
		apiserverArgs: []string{"--disable-admission-plugins=TaintNodesByCondition"},
	})
	if err := c.createNodes(t, n); err != nil {
		t.Fatal(err)
	}
	t.Logf("cluster with %d nodes ready in %.1fs (controller %s)", n, time.Since(start).Seconds(), ctrl)
	s := newScenario(t, c)
	s.fromRecorder, s.pollEvery = true, 500*time.Millisecond
	s.timeout = max(convergeTimeout, time.Duration(n)*120*time.Millisecond)

	ctrlProc := c.named("kube-controller-manager")
	if spec == "dsplan" {
		ctrlProc = c.controllers.Proc(0)
	}
	apiserver := c.named("kube-apiserver")
	users := c.controllerUsers()

	var rows []scaleRow
	phase := func(name string, want int, change func() time.Time) {
		cpu0, api0 := ctrlProc.cpuSeconds(), apiserver.cpuSeconds()
		from := time.Now()
		at := change()
		snap := s.converge(name, "ds", at, convergeOpts{})
		s.expectDesired(snap, want)
		ends := c.endStates()
		secs := ends[len(ends)-1].Converge
		// Trailing requests (the last status writes) belong to the phase.
		time.Sleep(3 * time.Second)
		events, _, err := readAudit(c.auditPath, 0)
		if err != nil {
			t.Fatal(err)
		}
		r := scaleRow{
			nodes: n, controller: ctrl, phase: name, converge: secs,
			cpu: ctrlProc.cpuSeconds() - cpu0, apiCPU: apiserver.cpuSeconds() - api0,
			requests: countRequests(events, users, from, time.Now()), desired: snap.ds.Status.DesiredNumberScheduled,
			failed: countFailed(events, users, from, time.Now()),
		}
		if ctrl == "kcm" {
			// The DaemonSet controller's reads go through
			// kube-controller-manager's shared informers.
			for k, v := range countRequests(events, []string{kcmUser}, from, time.Now()) {
				for _, res := range []string{" pods", " nodes", " daemonsets", " controllerrevisions"} {
					if strings.HasSuffix(k, res) {
						r.requests["informer "+k] += v
					}
				}
			}
		}
		t.Logf("E2E-SCALE nodes=%d controller=%s phase=%s desired=%d converge=%.2fs cpu=%.2fs apiserver-cpu=%.2fs requests=%d: %v; failed: %v",
			n, ctrl, name, r.desired, r.converge, r.cpu, r.apiCPU, r.requests.total(), r.requests, r.failed)
		fmt.Printf("E2E-SCALE nodes=%d controller=%s phase=%s desired=%d converge=%.2f cpu=%.2f apiserver-cpu=%.2f requests=%d %v; failed: %v\n",
			n, ctrl, name, r.desired, r.converge, r.cpu, r.apiCPU, r.requests.total(), r.requests, r.failed)
		rows = append(rows, r)
	}

	ds := newDS("ds")
	ds.Spec.Template.Spec.NodeSelector = map[string]string{scaleLabel: "in"}
	ds.Spec.UpdateStrategy = rollingUpdate(intstr.FromString("10%"), intstr.FromInt32(0))
	desired := n - controlPlaneNodes
	phase("create", desired, func() time.Time { return s.createDS(ds) })
	phase("rolling-update", desired, func() time.Time { return s.setImage("ds", imageV2) })
	// Every even node leaves; the odd ones past the control-plane ones stay.
	stay := 0
	for i := controlPlaneNodes; i < n; i++ {
		if i%2 == 1 {
			stay++
		}
	}
	var relabel time.Duration
	phase("relabel-half", stay, func() time.Time {
		at := time.Now()
		patch := []byte(fmt.Sprintf(`{"metadata":{"labels":{%q:"out"}}}`, scaleLabel))
		if err := parallel(c.ctx, n/2, 32, func(i int) error {
			_, err := c.client.CoreV1().Nodes().Patch(c.ctx, nodeName(2*i), types.MergePatchType, patch, metav1.PatchOptions{})
			return err
		}); err != nil {
			t.Fatal(err)
		}
		relabel = time.Since(at)
		return at
	})
	rows[len(rows)-1].note = fmt.Sprintf("%d node patches took %.1fs of it", n/2, relabel.Seconds())
	return rows
}

// scaleTable renders the rows as a Markdown table.
func scaleTable(rows []scaleRow) string {
	var b strings.Builder
	b.WriteString("| nodes | controller | phase | desired | converge (s) | controller CPU (s) | kube-apiserver CPU (s) | requests | by verb and resource | failed (code) |\n")
	b.WriteString("|---:|---|---|---:|---:|---:|---:|---:|---|---|\n")
	for _, r := range rows {
		note := ""
		if r.note != "" {
			note = " (" + r.note + ")"
		}
		fmt.Fprintf(&b, "| %d | %s | %s | %d | %.1f%s | %.1f | %.1f | %d | %s | %s |\n", r.nodes, r.controller, r.phase, r.desired,
			r.converge, note, r.cpu, r.apiCPU, r.requests.total(), r.requests, r.failed)
	}
	return b.String()
}
