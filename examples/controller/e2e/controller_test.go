//go:build unix

package e2e

import (
	"os/exec"
	"path/filepath"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"
)

// controllerPkg is the external DaemonSet controller run with
// DSPLAN_E2E_CONTROLLER=dsplan.
const controllerPkg = "github.com/dsplan/dsplan/examples/controller"

// buildController builds controllerPkg into dir and returns the binary path.
// It fails the test with an explicit message if the package is not a main
// package (yet).
func buildController(t *testing.T, dir string) string {
	t.Helper()
	moduleDir, err := filepath.Abs("..") // this package is examples/controller/e2e
	if err != nil {
		t.Fatal(err)
	}
	list := exec.Command("go", "list", "-f", "{{.Name}}", controllerPkg)
	list.Dir = moduleDir
	out, err := list.CombinedOutput()
	if err != nil || strings.TrimSpace(string(out)) != "main" {
		t.Fatalf("DSPLAN_E2E_CONTROLLER=dsplan: %s is not a buildable main package yet "+
			"(go list in %s: %v: %s); run with DSPLAN_E2E_CONTROLLER=kcm until it exists",
			controllerPkg, moduleDir, err, strings.TrimSpace(string(out)))
	}
	bin := filepath.Join(dir, "dsplan-controller")
	start := time.Now()
	build := exec.Command("go", "build", "-o", bin, controllerPkg)
	build.Dir = moduleDir
	if out, err := build.CombinedOutput(); err != nil {
		t.Fatalf("go build %s: %v\n%s", controllerPkg, err, out)
	}
	t.Logf("built %s in %.1fs", controllerPkg, time.Since(start).Seconds())
	return bin
}

// controllerSet is the set of running replicas of the external DaemonSet
// controller. Replicas are numbered from 0 in start order; a killed replica
// keeps its number.
type controllerSet struct {
	c      *cluster
	bin    string
	server string // kube-apiserver URL the replicas use (maybe a proxy)

	mu       sync.Mutex
	replicas []*proc
}

// startController starts n replicas of the external DaemonSet controller
// (binary bin, from buildController) against the cluster at server, each as
// `dsplan-controller --kubeconfig=<its own> --id=dsplan-controller-<i>
// --stats-file=<dir>/dsplan-controller-<i>.stats` (plus
// DSPLAN_E2E_CONTROLLER_ARGS), logging to dsplan-controller-<i>.log. Replica
// i authenticates as user dsplan-controller-<i> in groups system:masters and
// dsplanControllersGroup (its requests are audited). With n > 1 the
// replicas elect a leader (Lease kube-system/dsplan-controller).
func startController(t *testing.T, c *cluster, bin, server string, n int) *controllerSet {
	t.Helper()
	s := &controllerSet{c: c, bin: bin, server: server}
	for range n {
		s.Add(t)
	}
	return s
}

// Add starts one more replica and returns its number.
func (s *controllerSet) Add(t *testing.T) int {
	t.Helper()
	s.mu.Lock()
	defer s.mu.Unlock()
	i := len(s.replicas)
	name := dsplanUser(i)
	kubeconfig, err := s.c.pki.clientKubeconfig(name, name, []string{"system:masters", dsplanControllersGroup}, s.server)
	if err != nil {
		t.Fatal(err)
	}
	args := append([]string{"--kubeconfig=" + kubeconfig, "--id=" + name,
		"--stats-file=" + filepath.Join(s.c.dir, name+".stats")}, s.c.cfg.controllerArgs...)
	p := s.c.start(t, name, s.bin, args...)
	s.replicas = append(s.replicas, p)
	return i
}

// Kill stops replica i abruptly (SIGKILL to its process group), as a crash
// would: no lease release, no cleanup.
func (s *controllerSet) Kill(i int) {
	s.stop(i, syscall.SIGKILL)
}

// Stop stops replica i gracefully (SIGTERM, SIGKILL after 5 s).
func (s *controllerSet) Stop(i int) {
	s.stop(i, syscall.SIGTERM)
}

func (s *controllerSet) stop(i int, sig syscall.Signal) {
	s.mu.Lock()
	p := s.replicas[i]
	s.mu.Unlock()
	p.mu.Lock()
	p.stopping = true
	p.mu.Unlock()
	if sig == syscall.SIGKILL {
		p.kill()
		return
	}
	stopProcs([]*proc{p}, 5*time.Second)
}

// ExpectExit marks replica i as expected to exit (a replica that loses
// its lease exits by design).
func (s *controllerSet) ExpectExit(i int) {
	p := s.Proc(i)
	p.mu.Lock()
	p.stopping = true
	p.mu.Unlock()
}

// WaitExit waits up to timeout for replica i to exit and reports whether
// it did.
func (s *controllerSet) WaitExit(i int, timeout time.Duration) bool {
	select {
	case <-s.Proc(i).done:
		return true
	case <-time.After(timeout):
		return false
	}
}

// Signal sends sig (SIGSTOP, SIGCONT) to replica i.
func (s *controllerSet) Signal(i int, sig syscall.Signal) {
	s.mu.Lock()
	p := s.replicas[i]
	s.mu.Unlock()
	p.signal(sig)
}

// Proc returns replica i's process.
func (s *controllerSet) Proc(i int) *proc {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.replicas[i]
}

// Running returns the numbers of the replicas still running.
func (s *controllerSet) Running() []int {
	s.mu.Lock()
	defer s.mu.Unlock()
	var r []int
	for i, p := range s.replicas {
		if !p.exited() {
			r = append(r, i)
		}
	}
	return r
}
