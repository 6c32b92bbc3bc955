package main

import (
	"bytes"
	"context"
	"os"
	"path/filepath"
	"reflect"
	"strings"
	"testing"
	"time"

	"k8s.io/apimachinery/pkg/runtime"
	"k8s.io/client-go/kubernetes"
	"k8s.io/client-go/kubernetes/fake"

	"github.com/dsplan/dsplan/internal/report"
	"github.com/dsplan/dsplan/internal/snapshot"
)

// exampleDump is whatif's example cluster: fluentd in kube-system mid-rollout
// on six nodes (see examples/whatif/testdata_test.go).
const exampleDump = "../../../whatif/testdata/cluster.yaml"

// fakeCluster is a fake API server holding the example cluster.
func fakeCluster(t *testing.T) (*fake.Clientset, snapshot.Objects) {
	t.Helper()
	data, err := os.ReadFile(exampleDump)
	if err != nil {
		t.Fatal(err)
	}
	objs, err := snapshot.DecodeAll(data)
	if err != nil {
		t.Fatal(err)
	}
	var all []runtime.Object
	for _, o := range objs.DaemonSets {
		all = append(all, o)
	}
	for _, o := range objs.Nodes {
		all = append(all, o)
	}
	for _, o := range objs.Pods {
		all = append(all, o)
	}
	for _, o := range objs.Revisions {
		all = append(all, o)
	}
	return fake.NewClientset(all...), objs
}

// plugin runs the plugin against client with the context namespace ns.
func plugin(t *testing.T, client kubernetes.Interface, ns string, args ...string) (stdout, stderr string, code int) {
	t.Helper()
	var out, errOut bytes.Buffer
	code = run(context.Background(), args, &out, &errOut, func(kubeconfig, kubeContext string) (kubernetes.Interface, string, error) {
		return client, ns, nil
	})
	return out.String(), errOut.String(), code
}

func squeeze(s string) string {
	lines := strings.Split(s, "\n")
	for i, l := range lines {
		lines[i] = strings.Join(strings.Fields(l), " ")
	}
	return strings.Join(lines, "\n")
}

func TestParse(t *testing.T) {
	tests := []struct {
		name string
		args []string
		want options
		help bool
		err  string
	}{
		{name: "whatif", args: []string{"whatif", "ds/fluentd"}, want: options{command: "whatif", name: "fluentd", output: "table"}},
		{name: "flags anywhere", args: []string{"-n", "kube-system", "whatif", "daemonset.apps/fluentd", "-o", "json", "--context=prod", "--kubeconfig", "/k"},
			want: options{command: "whatif", name: "fluentd", output: "json", namespace: "kube-system", context: "prod", kubeconfig: "/k"}},
		{name: "explain a node", args: []string{"explain", "fluentd", "node-3", "--namespace=kube-system"},
			want: options{command: "explain", name: "fluentd", node: "node-3", output: "text", namespace: "kube-system"}},
		{name: "explain every node", args: []string{"explain", "daemonsets/fluentd", "-o", "yaml"}, want: options{command: "explain", name: "fluentd", output: "yaml"}},
		{name: "forecast", args: []string{"forecast", "ds/fluentd"}, want: options{command: "forecast", name: "fluentd", output: "text"}},
		{name: "no command", args: nil, help: true},
		{name: "-h", args: []string{"whatif", "-h"}, help: true},
		{name: "help", args: []string{"help"}, help: true},
		{name: "unknown command", args: []string{"apply", "ds/x"}, err: `unknown command "apply"`},
		{name: "no DaemonSet", args: []string{"whatif"}, err: "whatif needs a DaemonSet"},
		{name: "not a DaemonSet", args: []string{"whatif", "deploy/x"}, err: `"deploy/x" is not a DaemonSet`},
		{name: "node for whatif", args: []string{"whatif", "ds/x", "node-1"}, err: "too many arguments"},
		{name: "bad format", args: []string{"explain", "ds/x", "-o", "html"}, err: `explain's formats are text, json, yaml`},
		{name: "bad flag", args: []string{"whatif", "ds/x", "--frob"}, err: "flag provided but not defined"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			got, help, err := parse(tc.args)
			if help != tc.help {
				t.Fatalf("help = %v, want %v", help, tc.help)
			}
			if tc.help {
				return
			}
			if tc.err != "" {
				if err == nil || !strings.Contains(err.Error(), tc.err) {
					t.Errorf("parse() error = %v, want %q", err, tc.err)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			tc.want.timeout = 60 * time.Second
			if !reflect.DeepEqual(got, tc.want) {
				t.Errorf("parse() = %+v, want %+v", got, tc.want)
			}
		})
	}
}

// TestWhatif: the plugin's plan of the live cluster is whatif's plan of a
// dump of the same objects, rendered by the same code.
func TestWhatif(t *testing.T) {
	client, objs := fakeCluster(t)
	out, errOut, code := plugin(t, client, "kube-system", "whatif", "ds/fluentd")
	if code != exitChanges || errOut != "" {
		t.Errorf("exit %d, stderr %q; want 2 and nothing", code, errOut)
	}
	in, err := report.FromObjects(objs)
	if err != nil {
		t.Fatal(err)
	}
	var want bytes.Buffer
	if err := report.Table(&want, report.Plan(in, time.Now()), false); err != nil {
		t.Fatal(err)
	}
	if out != want.String() {
		t.Errorf("plugin output differs from the dump's:\n%s\nwant:\n%s", out, want.String())
	}
	for _, line := range []string{
		"node-3 ToDelete delete pod/fluentd-tq9lc ReplaceUnavailable",
		"win-1 Ineligible - NodeSelectorMismatch: nodeSelector wants kubernetes.io/os=linux, node has kubernetes.io/os=windows",
		"Plan: 1 pod to delete.",
	} {
		if !strings.Contains(squeeze(out), line) {
			t.Errorf("output lacks %q", line)
		}
	}
}

func TestWhatifFormats(t *testing.T) {
	client, _ := fakeCluster(t)
	for format, want := range map[string]string{
		"wide": "FIELD", "json": `"kind": "Plan"`, "yaml": "kind: Plan", "html": "<!DOCTYPE html>",
	} {
		t.Run(format, func(t *testing.T) {
			out, _, code := plugin(t, client, "kube-system", "whatif", "ds/fluentd", "-o", format)
			if code != exitChanges || !strings.Contains(out, want) {
				t.Errorf("exit %d, output lacks %q", code, want)
			}
		})
	}
}

func TestExplain(t *testing.T) {
	client, _ := fakeCluster(t)
	tests := []struct {
		name string
		args []string
		code int
		want []string
	}{
		{name: "ineligible node", args: []string{"explain", "ds/fluentd", "win-1", "-n", "kube-system"},
			want: []string{"Node: win-1", "State: Ineligible", "Rule: spec.template.spec.nodeSelector[kubernetes.io/os]"}},
		{name: "node waiting for the budget", args: []string{"explain", "ds/fluentd", "node-2", "-n", "kube-system"},
			want: []string{"State: Old", "This sync: nothing; waits: BudgetSpent"}},
		{name: "every node", args: []string{"explain", "ds/fluentd", "-n", "kube-system"}, want: []string{"Node: cp-1", "Node: win-1"}},
		{name: "json", args: []string{"explain", "ds/fluentd", "db-1", "-n", "kube-system", "-o", "json"}, want: []string{`"kind": "NodeReport"`, `"state": "Misscheduled"`}},
		{name: "unknown node", args: []string{"explain", "ds/fluentd", "node-9", "-n", "kube-system"}, code: exitError},
		{name: "namespace from the context", args: []string{"explain", "ds/fluentd", "node-1"}, want: []string{"State: UpToDate"}},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			out, errOut, code := plugin(t, client, "kube-system", tc.args...)
			if code != tc.code {
				t.Errorf("exit %d, want %d: %s", code, tc.code, errOut)
			}
			for _, want := range tc.want {
				if !strings.Contains(squeeze(out), want) {
					t.Errorf("output lacks %q:\n%s", want, out)
				}
			}
		})
	}
}

func TestErrors(t *testing.T) {
	client, _ := fakeCluster(t)
	tests := []struct {
		name string
		ns   string
		args []string
		want string
	}{
		{name: "no such DaemonSet", ns: "kube-system", args: []string{"whatif", "ds/nope"}, want: `daemonsets.apps "nope" not found in namespace "kube-system"`},
		{name: "wrong namespace", ns: "default", args: []string{"whatif", "ds/fluentd"}, want: `daemonsets.apps "fluentd" not found in namespace "default"`},
		{name: "usage error", ns: "default", args: []string{"whatif"}, want: "See 'kubectl dsplan -h' for help."},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			_, errOut, code := plugin(t, client, tc.ns, tc.args...)
			if code != exitError || !strings.Contains(errOut, tc.want) {
				t.Errorf("exit %d, stderr %q; want 1 and %q", code, errOut, tc.want)
			}
		})
	}
}

func TestForecast(t *testing.T) {
	client, _ := fakeCluster(t)
	out, errOut, code := plugin(t, client, "kube-system", "forecast", "ds/fluentd")
	if code == exitError || !strings.Contains(out, "DaemonSet kube-system/fluentd") || !strings.Contains(out, "syncs") {
		t.Errorf("exit %d, output %q, stderr %q; want a forecast", code, out, errOut)
	}
	svg, _, code := plugin(t, client, "kube-system", "forecast", "ds/fluentd", "-o", "svg")
	if code == exitError || !strings.HasPrefix(svg, "<svg ") {
		t.Errorf("-o svg: exit %d, output %.80q", code, svg)
	}
}

// TestRestConfig: --kubeconfig, KUBECONFIG and --context are honoured as
// kubectl honours them, and the namespace comes from the context.
func TestRestConfig(t *testing.T) {
	dir := t.TempDir()
	kubeconfig := `apiVersion: v1
kind: Config
clusters:
- name: a
  cluster: {server: "https://a.example:6443"}
- name: b
  cluster: {server: "https://b.example:6443"}
users:
- name: u
  user: {token: x}
contexts:
- name: ctx-a
  context: {cluster: a, user: u}
- name: ctx-b
  context: {cluster: b, user: u, namespace: logging}
current-context: ctx-a
`
	path := filepath.Join(dir, "config")
	if err := os.WriteFile(path, []byte(kubeconfig), 0o600); err != nil {
		t.Fatal(err)
	}
	tests := []struct {
		name       string
		env        string
		kubeconfig string
		context    string
		host, ns   string
	}{
		{name: "--kubeconfig, current context", kubeconfig: path, host: "https://a.example:6443", ns: "default"},
		{name: "--context", kubeconfig: path, context: "ctx-b", host: "https://b.example:6443", ns: "logging"},
		{name: "KUBECONFIG", env: path, context: "ctx-b", host: "https://b.example:6443", ns: "logging"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			t.Setenv("KUBECONFIG", tc.env)
			t.Setenv("HOME", dir) // no ~/.kube/config
			cfg, ns, err := restConfig(tc.kubeconfig, tc.context)
			if err != nil {
				t.Fatal(err)
			}
			if cfg.Host != tc.host || ns != tc.ns {
				t.Errorf("host %q namespace %q, want %q %q", cfg.Host, ns, tc.host, tc.ns)
			}
		})
	}
	t.Run("none", func(t *testing.T) {
		t.Setenv("KUBECONFIG", "")
		t.Setenv("HOME", dir)
		if _, _, err := restConfig("", ""); err == nil || !strings.Contains(err.Error(), "no kubeconfig") {
			t.Errorf("restConfig() error = %v, want no kubeconfig", err)
		}
	})
}
