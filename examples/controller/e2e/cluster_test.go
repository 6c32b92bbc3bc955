//go:build unix

package e2e

import (
	"context"
	"errors"
	"fmt"
	"net"
	"os"
	"os/exec"
	"os/signal"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"k8s.io/client-go/kubernetes"
	"k8s.io/client-go/rest"
	"k8s.io/client-go/tools/clientcmd"
)

// Versions the harness expects in the binary cache (built by build.sh).
const (
	kwokModule  = "sigs.k8s.io/kwok"
	kwokVersion = "v0.8.0"
)

// config is the harness configuration, from the environment.
type config struct {
	// binDir holds etcd, kube-apiserver, kube-controller-manager,
	// kube-scheduler, kubectl and kwok:
	// ${DSPLAN_E2E_CACHE:-${XDG_CACHE_HOME:-$HOME/.cache}/dsplan-e2e}/bin.
	binDir string
	// controller is the DaemonSet controller TestE2E runs against: "kcm"
	// (the one in kube-controller-manager) or "dsplan" (the example
	// controller of this module). DSPLAN_E2E_CONTROLLER, default kcm. The
	// other tests choose their controllers themselves.
	controller string
	// nodes is the number of kwok nodes, DSPLAN_E2E_NODES (default 50, minimum 10).
	nodes int
	// keep keeps the temporary directory (PKI, logs, etcd data) even when the
	// test passes: DSPLAN_E2E_KEEP=1. It is always kept on failure.
	keep bool
	// trace writes every event the recorder sees to trace-<namespace>.log in
	// the temporary directory: DSPLAN_E2E_TRACE=1.
	trace bool
	// kcmArgs are extra kube-controller-manager flags, DSPLAN_E2E_KCM_ARGS
	// (space-separated, e.g. "--v=5").
	kcmArgs []string
	// controllerArgs are extra flags of the dsplan controller,
	// DSPLAN_E2E_CONTROLLER_ARGS (space-separated).
	controllerArgs []string
	// slackEnv, when >= 0, is DSPLAN_E2E_UNAVAILABLE_SLACK: states where a
	// rollout's controller deletes exceed maxUnavailable by at most this
	// many nodes are reported, not failed (see invariantMaxUnavailable).
	// Unset (-1): as many nodes as the limit itself with kcm (a known
	// upstream race that compounds with larger budgets), 0 with dsplan.
	slackEnv int
}

func loadConfig(t *testing.T) config {
	t.Helper()
	cache := os.Getenv("DSPLAN_E2E_CACHE")
	if cache == "" {
		base := os.Getenv("XDG_CACHE_HOME")
		if base == "" {
			home, err := os.UserHomeDir()
			if err != nil {
				t.Fatalf("no cache dir: set DSPLAN_E2E_CACHE (%v)", err)
			}
			base = filepath.Join(home, ".cache")
		}
		cache = filepath.Join(base, "dsplan-e2e")
	}
	cfg := config{
		binDir:         filepath.Join(cache, "bin"),
		controller:     os.Getenv("DSPLAN_E2E_CONTROLLER"),
		nodes:          50,
		keep:           os.Getenv("DSPLAN_E2E_KEEP") == "1",
		trace:          os.Getenv("DSPLAN_E2E_TRACE") == "1",
		kcmArgs:        strings.Fields(os.Getenv("DSPLAN_E2E_KCM_ARGS")),
		controllerArgs: strings.Fields(os.Getenv("DSPLAN_E2E_CONTROLLER_ARGS")),
		slackEnv:       -1,
	}
	if cfg.controller == "" {
		cfg.controller = "kcm"
	}
	if cfg.controller != "kcm" && cfg.controller != "dsplan" {
		t.Fatalf("DSPLAN_E2E_CONTROLLER=%q: want kcm or dsplan", cfg.controller)
	}
	if s := os.Getenv("DSPLAN_E2E_UNAVAILABLE_SLACK"); s != "" {
		n, err := strconv.Atoi(s)
		if err != nil || n < 0 {
			t.Fatalf("DSPLAN_E2E_UNAVAILABLE_SLACK=%q: want an integer >= 0", s)
		}
		cfg.slackEnv = n
	}
	if s := os.Getenv("DSPLAN_E2E_NODES"); s != "" {
		n, err := strconv.Atoi(s)
		if err != nil || n < 10 {
			t.Fatalf("DSPLAN_E2E_NODES=%q: want an integer >= 10", s)
		}
		cfg.nodes = n
	}
	for _, b := range []string{"etcd", "kube-apiserver", "kube-controller-manager", "kube-scheduler", "kubectl", "kwok"} {
		if _, err := os.Stat(filepath.Join(cfg.binDir, b)); err != nil {
			t.Fatalf("%s missing in %s: run examples/controller/e2e/build.sh first (%v)", b, cfg.binDir, err)
		}
	}
	return cfg
}

// requireE2E skips the test unless DSPLAN_E2E=1 and returns the
// configuration and a context cancelled on SIGINT/SIGTERM.
func requireE2E(t *testing.T) (config, context.Context) {
	t.Helper()
	if os.Getenv("DSPLAN_E2E") != "1" {
		t.Skip("end-to-end harness: set DSPLAN_E2E=1 (or run examples/controller/e2e/run.sh)")
	}
	cfg := loadConfig(t)
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	t.Cleanup(stop) // runs last: the processes are stopped before default signal handling returns
	return cfg, ctx
}

// clusterSpec is what one cluster runs.
type clusterSpec struct {
	// controller is the DaemonSet controller: "kcm" or "dsplan".
	controller string
	// nodes is the number of kwok nodes createNodes makes (the caller
	// calls it).
	nodes int
	// replicas of the dsplan controller (default 1), each with
	// --id=dsplan-controller-<i>, its own client certificate and
	// --stats-file.
	replicas int
	// kcmControllers is kube-controller-manager's --controllers without
	// daemonset (nil: "*"); daemonset is added with kcm.
	kcmControllers []string
	// proxy: the DaemonSet controller (the dsplan replicas, or
	// kube-controller-manager as a whole with kcm) talks to kube-apiserver
	// through a tcpProxy that can cut its connections.
	proxy bool
	// apiserverArgs are extra kube-apiserver flags.
	apiserverArgs []string
	// nodeLabels are added to every node createNodes makes.
	nodeLabels map[string]string
	// nodeLease is kwok's node lease duration (default 40 s). Without
	// kube-controller-manager's node lifecycle controller nothing reads
	// the leases; a long one spares kube-apiserver at scale.
	nodeLease time.Duration
}

// slack is the recorder's slack for the cluster's controller (see
// config.slackEnv).
func (c *cluster) slack() int {
	if c.cfg.slackEnv >= 0 {
		return c.cfg.slackEnv
	}
	if c.spec.controller == "kcm" {
		return -1
	}
	return 0
}

// cluster is a running control plane with kwok nodes.
type cluster struct {
	cfg    config
	spec   clusterSpec
	ctx    context.Context // cancelled on SIGINT/SIGTERM
	dir    string          // temporary directory: pki/, logs, etcd data, kwok.yaml
	pki    *pki
	rest   *rest.Config
	client kubernetes.Interface

	apiPort   int
	apiURL    string    // https://127.0.0.1:<apiPort>
	auditPath string    // kube-apiserver's audit log (see audit_test.go)
	proxy     *tcpProxy // nil unless spec.proxy

	mu    sync.Mutex
	procs []*proc // every process started, in start order

	controllers *controllerSet // external DaemonSet controller replicas (dsplan mode)

	ends []endState // every converged phase, in order (guarded by mu)
}

// startCluster starts etcd, kube-apiserver, kube-controller-manager,
// kube-scheduler, kwok and (spec.controller dsplan) the external DaemonSet
// controller. Everything is stopped when t finishes, passes, fails or
// panics, and as soon as ctx is cancelled (the caller cancels it on
// SIGINT/SIGTERM).
func startCluster(t *testing.T, ctx context.Context, cfg config, spec clusterSpec) *cluster {
	t.Helper()
	if spec.controller != "kcm" && spec.controller != "dsplan" {
		t.Fatalf("controller %q: want kcm or dsplan", spec.controller)
	}
	if spec.replicas == 0 {
		spec.replicas = 1
	}
	if spec.nodeLease == 0 {
		spec.nodeLease = 40 * time.Second
	}
	if spec.nodes == 0 {
		spec.nodes = cfg.nodes
	}
	dir, err := os.MkdirTemp("", "dsplan-e2e-")
	if err != nil {
		t.Fatal(err)
	}
	c := &cluster{cfg: cfg, spec: spec, ctx: ctx, dir: dir}
	t.Cleanup(func() {
		start := time.Now()
		killed := c.stopAll()
		if c.proxy != nil {
			c.proxy.close()
		}
		t.Logf("stopped all components in %.1fs (SIGKILL needed: %v)", time.Since(start).Seconds(), killed)
		if t.Failed() {
			c.dumpLogs(t)
		}
		if t.Failed() || cfg.keep {
			t.Logf("kept %s (logs, pki, etcd data, audit log)", dir)
			return
		}
		os.RemoveAll(dir)
	})
	// A signal stops the processes at once, whatever the test is waiting for;
	// the waits return ctx.Err() and the test fails and cleans up.
	stopWatch := make(chan struct{})
	t.Cleanup(func() { close(stopWatch) })
	go func() {
		select {
		case <-ctx.Done():
			c.stopAll()
		case <-stopWatch:
		}
	}()

	// In dsplan mode, build the controller before starting anything.
	var controllerBin string
	if spec.controller == "dsplan" {
		controllerBin = buildController(t, dir)
	}

	ports, err := freePorts(3)
	if err != nil {
		t.Fatal(err)
	}
	etcdPort, etcdPeerPort, apiPort := ports[0], ports[1], ports[2]
	c.apiPort = apiPort
	c.apiURL = fmt.Sprintf("https://127.0.0.1:%d", apiPort)
	if c.pki, err = writePKI(filepath.Join(dir, "pki"), apiPort); err != nil {
		t.Fatalf("pki: %v", err)
	}
	kwokConfig := filepath.Join(dir, "kwok.yaml")
	if err := writeKwokConfig(ctx, kwokConfig, int(spec.nodeLease/time.Second)); err != nil {
		t.Fatalf("kwok config: %v", err)
	}
	policy := filepath.Join(dir, "audit-policy.yaml")
	if err := os.WriteFile(policy, []byte(auditPolicy), 0o644); err != nil {
		t.Fatal(err)
	}
	c.auditPath = filepath.Join(dir, "audit.log")

	start := time.Now()
	etcdURL := fmt.Sprintf("http://127.0.0.1:%d", etcdPort)
	peerURL := fmt.Sprintf("http://127.0.0.1:%d", etcdPeerPort)
	c.start(t, "etcd", "etcd",
		"--name=e2e", "--data-dir="+filepath.Join(dir, "etcd-data"),
		"--listen-client-urls="+etcdURL, "--advertise-client-urls="+etcdURL,
		"--listen-peer-urls="+peerURL, "--initial-advertise-peer-urls="+peerURL,
		"--initial-cluster=e2e="+peerURL, "--unsafe-no-fsync", "--log-level=warn")
	p := c.pki
	c.start(t, "kube-apiserver", "kube-apiserver", append([]string{
		"--etcd-servers=" + etcdURL,
		"--bind-address=127.0.0.1", "--secure-port=" + strconv.Itoa(apiPort),
		"--advertise-address=127.0.0.1", "--endpoint-reconciler-type=none",
		"--service-cluster-ip-range=10.96.0.0/16",
		"--tls-cert-file=" + p.apiserverCert, "--tls-private-key-file=" + p.apiserverKey,
		"--client-ca-file=" + p.caCert,
		"--service-account-issuer=https://kubernetes.default.svc.cluster.local",
		"--service-account-key-file=" + p.saPub, "--service-account-signing-key-file=" + p.saKey,
		"--authorization-mode=Node,RBAC", "--enable-priority-and-fairness=false",
		"--audit-policy-file=" + policy, "--audit-log-path=" + c.auditPath, "--audit-log-format=json",
		"--audit-log-maxsize=1000000", "--audit-log-mode=blocking"}, spec.apiserverArgs...)...)

	if c.rest, err = clientcmd.BuildConfigFromFlags("", p.kubeconfig); err != nil {
		t.Fatalf("kubeconfig: %v", err)
	}
	c.rest.QPS, c.rest.Burst = 1000, 2000 // the test's own client: node creation at scale
	c.rest.UserAgent = "dsplan-e2e"
	if c.client, err = kubernetes.NewForConfig(c.rest); err != nil {
		t.Fatal(err)
	}
	if err := c.waitAPIReady(60 * time.Second); err != nil {
		t.Fatalf("kube-apiserver /readyz: %v", err)
	}
	t.Logf("etcd + kube-apiserver ready after %.1fs (api %s, dir %s)", time.Since(start).Seconds(), c.apiURL, dir)

	// The DaemonSet controller's way to kube-apiserver.
	controllerURL := c.apiURL
	if spec.proxy {
		if c.proxy, err = startProxy(fmt.Sprintf("127.0.0.1:%d", apiPort)); err != nil {
			t.Fatal(err)
		}
		controllerURL = "https://" + c.proxy.addr()
	}

	controllers := "*"
	if spec.kcmControllers != nil {
		controllers = strings.Join(spec.kcmControllers, ",")
		if spec.controller == "kcm" {
			controllers += ",daemonset"
		}
	} else if spec.controller == "dsplan" {
		controllers = "*,-daemonset" // the external controller owns DaemonSets
	}
	// kube-controller-manager has its own identity (in system:masters),
	// so that the audit log tells its shared informers' watches apart.
	kcmURL := c.apiURL
	if spec.proxy && spec.controller == "kcm" {
		kcmURL = controllerURL
	}
	kcmKubeconfig, err := p.clientKubeconfig("kube-controller-manager", kcmUser, []string{"system:masters"}, kcmURL)
	if err != nil {
		t.Fatal(err)
	}
	// Client rate limits high enough not to be what is measured; the dsplan
	// controller's defaults are the same (200/400).
	qps := []string{"--kube-api-qps=200", "--kube-api-burst=400"}
	c.start(t, "kube-controller-manager", "kube-controller-manager", append([]string{
		"--kubeconfig=" + kcmKubeconfig, "--controllers=" + controllers,
		"--leader-elect=false", "--secure-port=0",
		// Each controller acts as its own service account
		// (system:serviceaccount:kube-system:daemon-set-controller for
		// DaemonSets), as kubeadm runs it: the audit log attributes requests.
		"--use-service-account-credentials=true",
		"--service-account-private-key-file=" + p.saKey, "--root-ca-file=" + p.caCert,
		"--cluster-signing-cert-file=" + p.caCert, "--cluster-signing-key-file=" + p.caKey,
		"--concurrent-daemonset-syncs=2", "--v=2"}, append(qps, cfg.kcmArgs...)...)...)
	c.start(t, "kube-scheduler", "kube-scheduler", append([]string{
		"--kubeconfig=" + p.kubeconfig, "--leader-elect=false", "--secure-port=0"}, qps...)...)
	// kwok's client is unthrottled by default (QPS 5000).
	c.start(t, "kwok", "kwok",
		"--kubeconfig="+p.kubeconfig, "--config="+kwokConfig,
		"--manage-all-nodes=false", "--manage-nodes-with-annotation-selector=kwok.x-k8s.io/node=fake",
		fmt.Sprintf("--node-lease-duration-seconds=%d", int(spec.nodeLease/time.Second)))
	if spec.controller == "dsplan" {
		c.controllers = startController(t, c, controllerBin, controllerURL, spec.replicas)
	}
	return c
}

// waitAPIReady waits for kube-apiserver's /readyz.
func (c *cluster) waitAPIReady(timeout time.Duration) error {
	return c.poll(timeout, 100*time.Millisecond, func() (bool, error) {
		body, err := c.client.Discovery().RESTClient().Get().AbsPath("/readyz").DoRaw(c.ctx)
		return err == nil && string(body) == "ok", nil
	})
}

// named returns the running process called name (the last started).
func (c *cluster) named(name string) *proc {
	c.mu.Lock()
	defer c.mu.Unlock()
	for i := len(c.procs) - 1; i >= 0; i-- {
		if c.procs[i].name == name {
			return c.procs[i]
		}
	}
	return nil
}

// killAndRestart SIGKILLs the component name (its process group), waits
// for it to exit and starts it again with the same command line, logging
// to the same file. It returns the new process.
func (c *cluster) killAndRestart(t *testing.T, name string) *proc {
	t.Helper()
	old := c.named(name)
	if old == nil {
		t.Fatalf("no process %s", name)
	}
	old.kill()
	return c.start(t, name, old.bin, old.args...)
}

// start starts the component bin (a name in binDir, or an absolute path) as
// process name, logging to dir/name.log.
func (c *cluster) start(t *testing.T, name, bin string, args ...string) *proc {
	t.Helper()
	if !filepath.IsAbs(bin) {
		bin = filepath.Join(c.cfg.binDir, bin)
	}
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.ctx.Err() != nil {
		t.Fatalf("start %s: %v", name, c.ctx.Err())
	}
	p, err := startProc(c.dir, name, bin, args...)
	if err != nil {
		t.Fatal(err)
	}
	c.procs = append(c.procs, p)
	return p
}

// stopAll stops every process the cluster started (SIGTERM, SIGKILL after
// 5 s): first all but etcd, at once, then etcd, so that kube-apiserver can
// shut down cleanly. It returns the processes that needed SIGKILL.
func (c *cluster) stopAll() []string {
	c.mu.Lock()
	var first, last []*proc
	for _, p := range c.procs {
		if p.name == "etcd" {
			last = append(last, p)
		} else {
			first = append(first, p)
		}
	}
	c.mu.Unlock()
	return append(stopProcs(first, 5*time.Second), stopProcs(last, 5*time.Second)...)
}

// checkAlive returns an error if a component exited without being stopped.
func (c *cluster) checkAlive() error {
	c.mu.Lock()
	defer c.mu.Unlock()
	var errs []error
	for _, p := range c.procs {
		if err := p.unexpectedExit(); err != nil {
			errs = append(errs, err)
		}
	}
	return errors.Join(errs...)
}

// dumpLogs logs the last 50 lines of every component log.
func (c *cluster) dumpLogs(t *testing.T) {
	c.mu.Lock()
	procs := append([]*proc(nil), c.procs...)
	c.mu.Unlock()
	for _, p := range procs {
		t.Logf("===== last 50 lines of %s (%s) =====\n%s", p.name, p.logPath, tail(p.logPath, 50))
	}
}

// errTimeout is returned by poll when the deadline passes.
var errTimeout = errors.New("timed out")

// poll calls cond every interval until it returns true or an error, the
// timeout passes, the context is cancelled or a component dies.
func (c *cluster) poll(timeout, interval time.Duration, cond func() (bool, error)) error {
	deadline := time.Now().Add(timeout)
	for {
		if err := c.ctx.Err(); err != nil {
			return fmt.Errorf("interrupted: %w", err)
		}
		if err := c.checkAlive(); err != nil {
			return err
		}
		ok, err := cond()
		if err != nil {
			return err
		}
		if ok {
			return nil
		}
		if time.Now().After(deadline) {
			return fmt.Errorf("%w after %v", errTimeout, timeout)
		}
		select {
		case <-c.ctx.Done():
		case <-time.After(interval):
		}
	}
}

// kubectl runs the kubectl built by build.sh against the cluster.
func (c *cluster) kubectl(args ...string) (string, error) {
	ctx, cancel := context.WithTimeout(c.ctx, 60*time.Second)
	defer cancel()
	cmd := exec.CommandContext(ctx, filepath.Join(c.cfg.binDir, "kubectl"),
		append([]string{"--kubeconfig=" + c.pki.kubeconfig}, args...)...)
	out, err := cmd.CombinedOutput()
	if err != nil {
		return string(out), fmt.Errorf("kubectl %s: %v: %s", strings.Join(args, " "), err, out)
	}
	return string(out), nil
}

// freePorts returns n distinct free TCP ports on 127.0.0.1 (held open
// together while picked, so they differ; a race with other programs remains).
func freePorts(n int) ([]int, error) {
	var ports []int
	for range n {
		l, err := net.Listen("tcp", "127.0.0.1:0")
		if err != nil {
			return nil, err
		}
		defer l.Close()
		ports = append(ports, l.Addr().(*net.TCPAddr).Port)
	}
	return ports, nil
}

// kwokStages are the stage files of the kwok module the harness uses: nodes
// become Ready at once and keep a lease; pods become Ready once bound,
// complete if they would, and are removed as soon as they are deleted (there
// is no kubelet to finish a graceful deletion).
var kwokStages = []string{
	"kustomize/stage/node/fast/node-initialize.yaml",
	"kustomize/stage/node/heartbeat-with-lease/node-heartbeat-with-lease.yaml",
	"kustomize/stage/pod/fast/pod-ready.yaml",
	"kustomize/stage/pod/fast/pod-complete.yaml",
	"kustomize/stage/pod/fast/pod-delete.yaml",
}

// writeKwokConfig writes a KwokConfiguration followed by the stages, taken
// from the kwok module in the module cache (downloaded if missing).
func writeKwokConfig(ctx context.Context, path string, leaseSeconds int) error {
	out, err := exec.CommandContext(ctx, "go", "env", "GOMODCACHE").Output()
	if err != nil {
		return fmt.Errorf("go env GOMODCACHE: %v", err)
	}
	modDir := filepath.Join(strings.TrimSpace(string(out)), kwokModule+"@"+kwokVersion)
	if _, err := os.Stat(filepath.Join(modDir, kwokStages[0])); err != nil {
		cmd := exec.CommandContext(ctx, "go", "mod", "download", kwokModule+"@"+kwokVersion)
		cmd.Dir = os.TempDir() // outside any module
		if out, err := cmd.CombinedOutput(); err != nil {
			return fmt.Errorf("go mod download %s@%s: %v: %s", kwokModule, kwokVersion, err, out)
		}
	}
	var b strings.Builder
	// With a config file kwok does not default the parallelism options, and
	// zero fails ("... parallelism must be greater than 0").
	fmt.Fprintf(&b, `apiVersion: config.kwok.x-k8s.io/v1alpha1
kind: KwokConfiguration
options:
  manageAllNodes: false
  manageNodesWithAnnotationSelector: kwok.x-k8s.io/node=fake
  nodeLeaseDurationSeconds: %d
  cidr: 10.0.0.0/16
  nodeLeaseParallelism: 4
  podPlayStageParallelism: 4
  nodePlayStageParallelism: 4
  podsOnNodeSyncParallelism: 4
  enablePodsOnNodeSyncListPager: false
  enablePodsOnNodeSyncStreamWatch: true
`, leaseSeconds)
	for _, s := range kwokStages {
		data, err := os.ReadFile(filepath.Join(modDir, s))
		if err != nil {
			return err
		}
		b.WriteString("---\n")
		b.Write(data)
		if len(data) > 0 && data[len(data)-1] != '\n' {
			b.WriteByte('\n')
		}
	}
	return os.WriteFile(path, []byte(b.String()), 0o644)
}
