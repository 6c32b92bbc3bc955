package main

import (
	"bytes"
	"flag"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

var update = flag.Bool("update", false, "rewrite the golden files in testdata")

// TestGolden runs the command on the realistic dump in testdata and
// compares its output with the golden files (go test -update rewrites
// them; read the diff before committing). The dump covers: sidecars, init
// containers, limits without requests, hostNetwork ports, a RuntimeClass
// overhead, ORed terms, Gt/Lt instance-size splits, a DaemonSet pinned by
// matchFields, one being deleted, GPU taints, pending and failed daemon
// pods, and three node templates.
func TestGolden(t *testing.T) {
	for _, tc := range []struct {
		name string
		args []string
	}{
		{name: "cluster", args: nil},
		{name: "cluster-v", args: []string{"-v"}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			var out, errOut bytes.Buffer
			args := append([]string{"-f", filepath.Join("testdata", "cluster.yaml")}, tc.args...)
			if err := run(args, strings.NewReader(""), &out, &errOut); err != nil {
				t.Fatalf("run(%q) error: %v", args, err)
			}
			if errOut.Len() > 0 {
				t.Errorf("run(%q) wrote to stderr: %s", args, errOut.String())
			}
			golden := filepath.Join("testdata", tc.name+".golden")
			if *update {
				if err := os.WriteFile(golden, out.Bytes(), 0o644); err != nil {
					t.Fatal(err)
				}
			}
			want, err := os.ReadFile(golden)
			if err != nil {
				t.Fatalf("reading the golden file: %v (go test -update writes it)", err)
			}
			if got := out.String(); got != string(want) {
				t.Errorf("run(%q) output differs from %s:\n--- got\n%s--- want\n%s", args, golden, got, want)
			}
		})
	}
}

// TestGoldenFacts pins the facts the golden file is about, so that an
// -update cannot silently change them.
func TestGoldenFacts(t *testing.T) {
	var out bytes.Buffer
	if err := run([]string{"-f", filepath.Join("testdata", "cluster.yaml")}, nil, &out, &bytes.Buffer{}); err != nil {
		t.Fatal(err)
	}
	squeezed := strings.Join(strings.Fields(out.String()), " ")
	for _, want := range []string{
		"12 DaemonSets, 2 nodes, 3 node templates",
		// Node 1: the pending fluent-bit pod counts, the failed
		// node-exporter pod being deleted does not; the pinned
		// disk-benchmark runs there only.
		"(m6i.xlarge): 8 DaemonSets should run, 4 pods missing",
		"default/disk-benchmark missing 1 500m 512Mi",
		"logging/fluent-bit present 1 110m 144Mi - 0.0.0.0:2020/TCP",
		"monitoring/node-exporter missing 1 250m 180Mi - 0.0.0.0:9100/TCP",
		// Limits only, RuntimeClass overhead, init container maximum.
		"security/sandboxed-scanner missing 1 350m 192Mi",
		"kube-system/aws-node present 1 50m - - 0.0.0.0:61678/TCP",
		"left after missing 49 1340m 10726Mi",
		// The GPU node: the device plugin by its ORed GPU-count term.
		"(g5.2xlarge): 5 DaemonSets should run, 4 pods missing",
		"left after missing 52 3430m 12910Mi nvidia.com/gpu=0",
		// Templates.
		"template 1 (generateName general-, c7g.large): 7 DaemonSets land",
		"total 7 1090m 892Mi",
		"template 2 (generateName batch-, m6i.8xlarge): 5 DaemonSets land",
		"template 3 (generateName gpu-, g5.12xlarge): 5 DaemonSets land",
		"left 229 47330m 178569Mi nvidia.com/gpu=4",
	} {
		if !strings.Contains(squeezed, want) {
			t.Errorf("output lacks %q:\n%s", want, out.String())
		}
	}
	if strings.Contains(out.String(), "old-log-agent") {
		t.Errorf("the DaemonSet being deleted lands somewhere:\n%s", out.String())
	}
}

func TestRunStdinAndJSON(t *testing.T) {
	const input = `{"apiVersion":"v1","kind":"List","items":[
{"apiVersion":"apps/v1","kind":"DaemonSet","metadata":{"name":"agent","namespace":"default","uid":"u1"},
 "spec":{"selector":{"matchLabels":{"app":"agent"}},"template":{"metadata":{"labels":{"app":"agent"}},
 "spec":{"containers":[{"name":"agent","image":"example.com/agent","resources":{"limits":{"cpu":"100m"}}}]}}}},
{"apiVersion":"v1","kind":"Node","metadata":{"name":"node-a"},"status":{"allocatable":{"cpu":"1","pods":"10"}}},
{"apiVersion":"v1","kind":"Node","metadata":{"generateName":"pool-"}},
{"apiVersion":"v1","kind":"Service","metadata":{"name":"web"}}]}`
	var out, errOut bytes.Buffer
	if err := run(nil, strings.NewReader(input), &out, &errOut); err != nil {
		t.Fatalf("run() error: %v", err)
	}
	squeezed := strings.Join(strings.Fields(out.String()), " ")
	for _, want := range []string{
		"1 DaemonSets, 1 nodes, 1 node templates (no pods in the input: an existing node lists every DaemonSet that should run there)",
		"node node-a: 1 DaemonSet should run",
		"default/agent runs 1 100m",
		"left 9 900m",
		"template 1 (generateName pool-): 1 DaemonSet lands",
		"default/agent lands 1 100m",
	} {
		if !strings.Contains(squeezed, want) {
			t.Errorf("output lacks %q:\n%s", want, out.String())
		}
	}
	if want := `overhead: warning: items[3] (Service "web"): skipped: dsplan reads no v1 Service`; !strings.Contains(errOut.String(), want) {
		t.Errorf("stderr = %q, want it to contain %q", errOut.String(), want)
	}
}

// TestRunDaemonSetWithoutUID: pods cannot be matched to a DaemonSet
// without a uid (a hand-written one); the node then lists every DaemonSet
// that should run, and says why.
func TestRunDaemonSetWithoutUID(t *testing.T) {
	const input = `apiVersion: v1
kind: List
items:
- apiVersion: apps/v1
  kind: DaemonSet
  metadata: {name: agent, namespace: default}
  spec:
    selector: {matchLabels: {app: agent}}
    template:
      metadata: {labels: {app: agent}}
      spec: {containers: [{name: agent, image: example.com/agent}]}
- apiVersion: v1
  kind: Node
  metadata: {name: node-a}
- apiVersion: v1
  kind: Pod
  metadata: {name: agent-x, namespace: default, labels: {app: agent}}
  spec: {nodeName: node-a}
`
	var out bytes.Buffer
	if err := run(nil, strings.NewReader(input), &out, &bytes.Buffer{}); err != nil {
		t.Fatalf("run() error: %v", err)
	}
	squeezed := strings.Join(strings.Fields(out.String()), " ")
	for _, want := range []string{
		"node node-a: 1 DaemonSet should run",
		"(pods not matched to DaemonSets: DaemonSet default/agent: DaemonSet has no namespace, name or uid)",
		"default/agent runs 1 - -",
	} {
		if !strings.Contains(squeezed, want) {
			t.Errorf("output lacks %q:\n%s", want, out.String())
		}
	}
}

func TestRunErrors(t *testing.T) {
	tests := []struct {
		name  string
		args  []string
		input string
		want  string
	}{
		{name: "empty input", input: "", want: "no nodes or node templates"},
		{name: "no nodes", input: "apiVersion: apps/v1\nkind: DaemonSet\nmetadata: {name: a}\n", want: "no nodes or node templates"},
		{name: "not objects", input: "just text", want: "not a Kubernetes object"},
		{name: "undecodable item", input: "apiVersion: v1\nkind: Pod\nmetadata: {name: p, labels: [1]}\n", want: `Pod "p"`},
		{name: "missing file", args: []string{"-f", filepath.Join("testdata", "nope.yaml")}, want: "nope.yaml"},
		{name: "unknown flag", args: []string{"-o", "json"}, want: "flag provided but not defined"},
		{name: "extra argument", args: []string{"x"}, want: "unexpected arguments"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			err := run(tc.args, strings.NewReader(tc.input), &bytes.Buffer{}, &bytes.Buffer{})
			if err == nil {
				t.Fatal("run() = nil, want an error")
			}
			if !strings.Contains(err.Error(), tc.want) {
				t.Errorf("run() = %q, want it to mention %q", err, tc.want)
			}
		})
	}
}

// FuzzRun feeds arbitrary input to the command: it must answer or fail
// with an error, never panic.
func FuzzRun(f *testing.F) {
	data, err := os.ReadFile(filepath.Join("testdata", "cluster.yaml"))
	if err != nil {
		f.Fatal(err)
	}
	f.Add(data, false)
	f.Add([]byte("kind: List\nitems: [{}]\n"), true)
	f.Fuzz(func(t *testing.T, data []byte, verbose bool) {
		var args []string
		if verbose {
			args = []string{"-v"}
		}
		_ = run(args, bytes.NewReader(data), &bytes.Buffer{}, &bytes.Buffer{})
	})
}
