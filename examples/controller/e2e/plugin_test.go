//go:build unix

package e2e

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"

	appsv1 "k8s.io/api/apps/v1"
)

// pluginNodes is the size of TestPlugin's cluster: three control-plane
// nodes (tainted) and seven workers.
const pluginNodes = 10

// TestPlugin runs kubectl-dsplan (./cmd/kubectl-dsplan) against the
// cluster, directly and as a kubectl plugin found on PATH, and whatif (the
// dsplan module's examples/whatif) on `kubectl get -o yaml` and `-o json`
// dumps of the same objects:
//
//   - on a converged DaemonSet the plan writes nothing (exit 0): dsplan
//     agrees with the controller's last sync, status included; control-plane
//     nodes are Ineligible for their taint, workers UpToDate;
//   - explain names the taint of a control-plane node;
//   - -o json is a Plan document; forecast of a converged DaemonSet
//     completes at once (exit 0); an unknown
//     DaemonSet exits 1;
//   - --kubeconfig, KUBECONFIG, --context (and the context's namespace) are
//     honoured;
//   - whatif on the dumps prints what the plugin prints (kubectl -o json
//     re-indents revision data: no hash collision), and its rollout
//     history and rollout status are kubectl's own output;
//   - after an OnDelete template change every worker is Old and waits
//     (OnDelete), with nothing to do.
func TestPlugin(t *testing.T) {
	cfg, ctx := requireE2E(t)
	bin := t.TempDir()
	buildTool(t, "..", "./cmd/kubectl-dsplan", filepath.Join(bin, "kubectl-dsplan"))
	buildTool(t, filepath.Join("..", "..", ".."), "./examples/whatif", filepath.Join(bin, "whatif"))
	c := newCluster(t, ctx, cfg, clusterSpec{controller: cfg.controller, nodes: pluginNodes})
	p := &plugins{c: c, bin: bin}
	runScenarios(t, c, []scenarioDef{
		{"plugin-converged", p.converged},
		{"plugin-ondelete", p.onDelete},
	})
}

// buildTool builds the main package pkg of the module in dir into out.
func buildTool(t *testing.T, dir, pkg, out string) {
	t.Helper()
	start := time.Now()
	cmd := exec.Command("go", "build", "-o", out, pkg)
	cmd.Dir = dir
	if b, err := cmd.CombinedOutput(); err != nil {
		t.Fatalf("go build %s in %s: %v\n%s", pkg, dir, err, b)
	}
	t.Logf("built %s in %.1fs", pkg, time.Since(start).Seconds())
}

// plugins runs the tools built by TestPlugin against its cluster.
type plugins struct {
	c   *cluster
	bin string // kubectl-dsplan and whatif
}

// result is a finished command.
type result struct {
	stdout, stderr string
	code           int
}

func (r result) String() string {
	return fmt.Sprintf("exit %d\nstdout:\n%s\nstderr:\n%s", r.code, r.stdout, r.stderr)
}

// exec runs a program with args; env is added to the environment, and
// PATH starts with the tools' directory.
func (p *plugins) exec(t *testing.T, env []string, program string, args ...string) result {
	t.Helper()
	ctx, cancel := context.WithTimeout(p.c.ctx, 90*time.Second)
	defer cancel()
	cmd := exec.CommandContext(ctx, program, args...)
	cmd.Env = append(os.Environ(), "PATH="+p.bin+string(os.PathListSeparator)+os.Getenv("PATH"))
	cmd.Env = append(cmd.Env, env...)
	var out, errOut bytes.Buffer
	cmd.Stdout, cmd.Stderr = &out, &errOut
	err := cmd.Run()
	var exit *exec.ExitError
	code := 0
	switch {
	case errors.As(err, &exit):
		code = exit.ExitCode()
	case err != nil:
		t.Fatalf("%s %s: %v", program, strings.Join(args, " "), err)
	}
	return result{stdout: out.String(), stderr: errOut.String(), code: code}
}

// dsplan runs kubectl-dsplan with the admin kubeconfig.
func (p *plugins) dsplan(t *testing.T, args ...string) result {
	t.Helper()
	return p.exec(t, nil, filepath.Join(p.bin, "kubectl-dsplan"), append(args, "--kubeconfig", p.c.pki.kubeconfig)...)
}

// kubectl runs the harness's kubectl with KUBECONFIG set (it finds
// kubectl-dsplan on PATH).
func (p *plugins) kubectl(t *testing.T, args ...string) result {
	t.Helper()
	return p.exec(t, []string{"KUBECONFIG=" + p.c.pki.kubeconfig}, filepath.Join(p.c.cfg.binDir, "kubectl"), args...)
}

// dump writes `kubectl get` of the namespace's DaemonSets, pods and
// ControllerRevisions and of the nodes, in format (yaml or json), and
// returns the two files.
func (p *plugins) dump(t *testing.T, s *scenario, format string) []string {
	t.Helper()
	var files []string
	for i, args := range [][]string{
		{"get", "daemonsets,pods,controllerrevisions", "-n", s.ns, "-o", format},
		{"get", "nodes", "-o", format},
	} {
		r := p.kubectl(t, args...)
		if r.code != 0 {
			t.Fatalf("kubectl %s: %s", strings.Join(args, " "), r)
		}
		path := filepath.Join(t.TempDir(), fmt.Sprintf("dump-%d.%s", i, format))
		if err := os.WriteFile(path, []byte(r.stdout), 0o644); err != nil {
			t.Fatal(err)
		}
		files = append(files, path)
	}
	return files
}

// withoutAge blanks the AGE cell of the status row of output (the line
// after the one starting NAME): two runs a second apart may differ there.
func withoutAge(output string) string {
	lines := strings.Split(output, "\n")
	for i := 1; i < len(lines); i++ {
		if strings.HasPrefix(lines[i-1], "NAME ") {
			if j := strings.LastIndex(strings.TrimRight(lines[i], " "), " "); j >= 0 {
				lines[i] = lines[i][:j]
			}
		}
	}
	return strings.Join(lines, "\n")
}

// countStates counts the table's node lines by state.
func countStates(table string) map[string]int {
	out := map[string]int{}
	for _, line := range strings.Split(table, "\n") {
		f := strings.Fields(line)
		if len(f) >= 2 && strings.HasPrefix(f[0], "kwok-") {
			out[f[1]]++
		}
	}
	return out
}

func (p *plugins) converged(s *scenario) {
	t := s.t
	ds := newDS("agent")
	s.converge("create", "agent", s.createDS(ds), convergeOpts{})
	workers := pluginNodes - controlPlaneNodes

	// The plan of a converged DaemonSet writes nothing.
	r := p.dsplan(t, "whatif", "ds/agent", "-n", s.ns)
	if r.code != 0 || !strings.Contains(r.stdout, "Nothing to do: this sync writes nothing.") {
		t.Errorf("kubectl-dsplan whatif on a converged DaemonSet: want exit 0 and nothing to do; %s", r)
	}
	want := map[string]int{"UpToDate": workers, "Ineligible": controlPlaneNodes}
	if got := countStates(r.stdout); fmt.Sprint(got) != fmt.Sprint(want) {
		t.Errorf("node states %v, want %v:\n%s", got, want, r.stdout)
	}
	t.Logf("kubectl-dsplan whatif ds/agent:\n%s", r.stdout)

	// As a kubectl plugin, with KUBECONFIG.
	viaKubectl := p.kubectl(t, "dsplan", "whatif", "ds/agent", "-n", s.ns)
	if viaKubectl.code != 0 || withoutAge(viaKubectl.stdout) != withoutAge(r.stdout) {
		t.Errorf("kubectl dsplan whatif: want the same output as kubectl-dsplan; %s", viaKubectl)
	}

	// explain.
	cp := p.dsplan(t, "explain", "ds/agent", nodeName(0), "-n", s.ns)
	for _, want := range []string{"State:      Ineligible", "UntoleratedTaint", "node-role.kubernetes.io/control-plane", "This sync:  nothing"} {
		if !strings.Contains(cp.stdout, want) {
			t.Errorf("explain %s lacks %q: %s", nodeName(0), want, cp)
		}
	}
	worker := p.dsplan(t, "explain", "ds/agent", nodeName(pluginNodes-1), "-n", s.ns)
	if worker.code != 0 || !strings.Contains(worker.stdout, "State:      UpToDate") {
		t.Errorf("explain %s: want UpToDate; %s", nodeName(pluginNodes-1), worker)
	}
	if r := p.dsplan(t, "explain", "ds/agent", "no-such-node", "-n", s.ns); r.code != 1 {
		t.Errorf("explain of an unknown node: want exit 1; %s", r)
	}

	// -o json.
	j := p.dsplan(t, "whatif", "ds/agent", "-n", s.ns, "-o", "json")
	var doc struct {
		Kind   string `json:"kind"`
		Writes bool   `json:"writes"`
		Hash   string `json:"hash"`
		Nodes  []struct {
			Name, State string
		} `json:"nodes"`
	}
	if err := json.Unmarshal([]byte(j.stdout), &doc); err != nil || doc.Kind != "Plan" || doc.Writes || len(doc.Nodes) != pluginNodes {
		t.Errorf("-o json: %v, document %+v; %s", err, doc, j)
	}

	// forecast; an unknown DaemonSet.
	if f := p.dsplan(t, "forecast", "ds/agent", "-n", s.ns); f.code != 0 || !strings.Contains(f.stdout, "complete after 0s") {
		t.Errorf("forecast: %s", f)
	}
	if nf := p.dsplan(t, "whatif", "ds/nope", "-n", s.ns); nf.code != 1 || !strings.Contains(nf.stderr, `daemonsets.apps "nope" not found`) {
		t.Errorf("unknown DaemonSet: want exit 1 and not found; %s", nf)
	}

	// --context picks a context (and its namespace) over a broken current
	// one.
	kc := filepath.Join(t.TempDir(), "kubeconfig")
	pk := p.c.pki
	if err := os.WriteFile(kc, []byte(fmt.Sprintf(`apiVersion: v1
kind: Config
clusters:
- name: e2e
  cluster: {server: "%s", certificate-authority: %s}
- name: nowhere
  cluster: {server: "https://127.0.0.1:1", certificate-authority: %s}
users:
- name: admin
  user: {client-certificate: %s, client-key: %s}
contexts:
- name: e2e-ns
  context: {cluster: e2e, user: admin, namespace: %s}
- name: broken
  context: {cluster: nowhere, user: admin}
current-context: broken
`, p.c.apiURL, pk.caCert, pk.caCert, pk.adminCert, pk.adminKey, s.ns)), 0o600); err != nil {
		t.Fatal(err)
	}
	ctxRun := p.exec(t, nil, filepath.Join(p.bin, "kubectl-dsplan"), "whatif", "ds/agent", "--kubeconfig", kc, "--context", "e2e-ns", "--request-timeout", "20s")
	if ctxRun.code != 0 || withoutAge(ctxRun.stdout) != withoutAge(r.stdout) {
		t.Errorf("--context e2e-ns (namespace from the context): want the first output; %s", ctxRun)
	}
	if broken := p.exec(t, nil, filepath.Join(p.bin, "kubectl-dsplan"), "whatif", "ds/agent", "--kubeconfig", kc, "-n", s.ns, "--request-timeout", "5s"); broken.code != 1 {
		t.Errorf("current context pointing nowhere: want exit 1; %s", broken)
	}

	// whatif on kubectl dumps of the same objects prints the same plan.
	for _, format := range []string{"yaml", "json"} {
		files := p.dump(t, s, format)
		w := p.exec(t, nil, filepath.Join(p.bin, "whatif"), "-f", files[0], "-f", files[1])
		if w.code != 0 || withoutAge(w.stdout) != withoutAge(r.stdout) {
			t.Errorf("whatif on the kubectl -o %s dump: want the plugin's output and exit 0; %s\nplugin's:\n%s", format, w, r.stdout)
		}
	}

	// rollout status and history, against kubectl's.
	files := p.dump(t, s, "yaml")
	for _, args := range [][]string{{"rollout", "status", "ds/agent"}, {"rollout", "history", "ds/agent"}, {"rollout", "history", "ds/agent", "--revision", "1"}} {
		w := p.exec(t, nil, filepath.Join(p.bin, "whatif"), append(args, "-f", files[0], "-f", files[1])...)
		kargs := append(append([]string{}, args...), "-n", s.ns)
		if args[1] == "status" {
			kargs = append(kargs, "--watch=false")
		}
		k := p.kubectl(t, kargs...)
		if args[1] == "history" && len(args) == 5 {
			// kubectl describes the template where whatif prints YAML: compare the first line.
			if first := strings.SplitN(k.stdout, "\n", 2)[0]; w.code != 0 || !strings.HasPrefix(w.stdout, first+"\n") {
				t.Errorf("whatif %s: first line %q, want kubectl's %q; %s", strings.Join(args, " "), strings.SplitN(w.stdout, "\n", 2)[0], first, w)
			}
			continue
		}
		if w.stdout != k.stdout || w.code != 0 || k.code != 0 {
			t.Errorf("whatif %s differs from kubectl's:\nwhatif: %s\nkubectl: %s", strings.Join(args, " "), w, k)
		}
	}
}

func (p *plugins) onDelete(s *scenario) {
	t := s.t
	ds := newDS("agent")
	ds.Spec.UpdateStrategy = appsv1.DaemonSetUpdateStrategy{Type: appsv1.OnDeleteDaemonSetStrategyType}
	s.converge("create", "agent", s.createDS(ds), convergeOpts{})
	s.converge("template-change", "agent", s.setImage("agent", imageV2), convergeOpts{anyRevision: true})

	r := p.dsplan(t, "whatif", "ds/agent", "-n", s.ns, "-o", "wide")
	workers := pluginNodes - controlPlaneNodes
	want := map[string]int{"Old": workers, "Ineligible": controlPlaneNodes}
	if got := countStates(r.stdout); r.code != 0 || fmt.Sprint(got) != fmt.Sprint(want) {
		t.Errorf("after an OnDelete template change: states %v, want %v, exit 0; %s", got, want, r)
	}
	if n := strings.Count(r.stdout, "waits: OnDelete (delete the pod to update it)"); n != workers {
		t.Errorf("%d nodes wait for OnDelete, want %d:\n%s", n, workers, r.stdout)
	}
	t.Logf("kubectl-dsplan whatif ds/agent -o wide:\n%s", r.stdout)

	files := p.dump(t, s, "json")
	w := p.exec(t, nil, filepath.Join(p.bin, "whatif"), "-f", files[0], "-f", files[1], "-o", "wide")
	if withoutAge(w.stdout) != withoutAge(r.stdout) || w.code != 0 {
		t.Errorf("whatif on the kubectl -o json dump differs from the plugin: %s\nplugin's:\n%s", w, r.stdout)
	}
	for _, args := range [][]string{{"rollout", "history", "ds/agent"}, {"rollout", "status", "ds/agent"}} {
		w := p.exec(t, nil, filepath.Join(p.bin, "whatif"), append(args, "-f", files[0], "-f", files[1])...)
		k := p.kubectl(t, append(append([]string{}, args...), "-n", s.ns)...)
		if args[1] == "status" {
			// kubectl: "error: rollout status is only available for RollingUpdate strategy type".
			if w.code != 1 || k.code != 1 || !strings.Contains(w.stderr, strings.TrimPrefix(strings.TrimSpace(k.stderr), "error: ")) {
				t.Errorf("rollout status of OnDelete:\nwhatif: %s\nkubectl: %s", w, k)
			}
			continue
		}
		if w.stdout != k.stdout {
			t.Errorf("whatif %s differs from kubectl's:\nwhatif: %s\nkubectl: %s", strings.Join(args, " "), w, k)
		}
	}
}
