package main

import (
	"bytes"
	"compress/gzip"
	"encoding/json"
	"encoding/xml"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"reflect"
	"slices"
	"strings"
	"testing"
	"time"

	appsv1 "k8s.io/api/apps/v1"
	corev1 "k8s.io/api/core/v1"
	"sigs.k8s.io/yaml"

	"github.com/dsplan/dsplan/internal/fixture"
	"github.com/dsplan/dsplan/internal/report"
	"github.com/dsplan/dsplan/internal/snapshot"
)

const small = `apiVersion: v1
kind: List
items:
- apiVersion: apps/v1
  kind: DaemonSet
  metadata: {name: agent, namespace: default, uid: 0c2d9d3c-1111-4000-8000-000000000001, generation: 1, creationTimestamp: "2026-11-30T00:00:00Z"}
  spec:
    selector: {matchLabels: {app: agent}}
    template:
      metadata: {labels: {app: agent}}
      spec:
        containers: [{name: agent, image: registry.example.com/agent:v1}]
- apiVersion: v1
  kind: Node
  metadata: {name: node-a}
`

// pinned is the --now of the tests that read testdata/cluster.yaml: five
// minutes after its rollout started.
const pinned = "2026-12-05T21:05:00Z"

// whatif runs the command and returns its standard output, standard error
// and exit status.
func whatif(t *testing.T, stdin string, args ...string) (stdout, stderr string, code int) {
	t.Helper()
	var out, errOut bytes.Buffer
	code = run(args, strings.NewReader(stdin), &out, &errOut)
	return out.String(), errOut.String(), code
}

// squeeze collapses runs of spaces, for matching table lines.
func squeeze(s string) string {
	lines := strings.Split(s, "\n")
	for i, l := range lines {
		lines[i] = strings.Join(strings.Fields(l), " ")
	}
	return strings.Join(lines, "\n")
}

func readFile(t *testing.T, name string) string {
	t.Helper()
	b, err := os.ReadFile(name)
	if err != nil {
		t.Fatal(err)
	}
	return string(b)
}

// TestPlanTable checks the default output on the README's cluster: every
// node with its state, action and reason, the status row with
// MISSCHEDULED, the summary, and exit status 2 (actions planned).
func TestPlanTable(t *testing.T) {
	for _, file := range []string{"testdata/cluster.yaml", "testdata/cluster.json"} {
		t.Run(filepath.Base(file), func(t *testing.T) {
			out, errOut, code := whatif(t, "", "-f", file, "--now", pinned)
			if code != exitChanges || errOut != "" {
				t.Errorf("exit %d, stderr %q; want 2 and nothing", code, errOut)
			}
			got := squeeze(out)
			for _, want := range []string{
				"DaemonSet kube-system/fluentd: revision 2 (6dc64ff4fc), RollingUpdate (maxUnavailable 1, maxSurge 0)",
				"NODE STATE ACTION REASON",
				"cp-1 Ineligible - UntoleratedTaint: untolerated taint node-role.kubernetes.io/control-plane:NoSchedule",
				"db-1 Misscheduled - UntoleratedTaint: untolerated taint dedicated=db:NoSchedule; pod fluentd-4kq7z stays, counted in numberMisscheduled",
				"node-1 UpToDate - pod fluentd-x8w2n: current revision, available",
				"node-2 Old wait pod fluentd-7bd5m runs old revision 1; waits: BudgetSpent",
				"node-3 ToDelete delete pod/fluentd-tq9lc ReplaceUnavailable: pod of old revision 1 is not available",
				"win-1 Ineligible - NodeSelectorMismatch: nodeSelector wants kubernetes.io/os=linux, node has kubernetes.io/os=windows",
				"NAME DESIRED CURRENT READY UP-TO-DATE AVAILABLE MISSCHEDULED NODE SELECTOR AGE",
				"fluentd 3 3 2 1 2 1 kubernetes.io/os=linux 15d",
				"Plan: 1 pod to delete.",
			} {
				if !strings.Contains(got, want) {
					t.Errorf("output lacks %q:\n%s", want, out)
				}
			}
			if strings.Contains(out, "existing pod stays") {
				t.Errorf("output says an existing pod stays:\n%s", out)
			}
		})
	}
}

func TestPlanWide(t *testing.T) {
	out, _, code := whatif(t, "", "-f", "testdata/cluster.yaml", "--now", pinned, "-o", "wide")
	if code != exitChanges {
		t.Errorf("exit %d, want 2", code)
	}
	got := squeeze(out)
	for _, want := range []string{
		"NODE STATE ACTION PODS REVISION READY AVAILABLE FIELD REASON",
		"node-3 ToDelete delete pod/fluentd-tq9lc fluentd-tq9lc 1 (674f5cfbd4) 0/1 0/1 - ReplaceUnavailable",
		"win-1 Ineligible - <none> - - - spec.template.spec.nodeSelector[kubernetes.io/os] NodeSelectorMismatch",
		"node-1 UpToDate - fluentd-x8w2n 2 (6dc64ff4fc) 1/1 1/1 -",
	} {
		if !strings.Contains(got, want) {
			t.Errorf("wide output lacks %q:\n%s", want, out)
		}
	}
}

// TestPlanConverged: a plan that writes nothing says so and exits 0.
func TestPlanConverged(t *testing.T) {
	// The cluster after node-3's pod was replaced and node-2 updated: run
	// the plan on a DaemonSet whose every node is converged.
	in := small + `- apiVersion: apps/v1
  kind: DaemonSet
  metadata: {name: idle, namespace: default, uid: 0c2d9d3c-1111-4000-8000-000000000002, generation: 1}
  spec:
    selector: {matchLabels: {app: idle}}
    template:
      metadata: {labels: {app: idle}}
      spec:
        nodeSelector: {role: none}
        containers: [{name: idle, image: registry.example.com/idle:v1}]
`
	// First plan: both DaemonSets need a revision; feed the plan's own
	// revision and status back to get a converged dump.
	out, _, _ := whatif(t, in, "-o", "json", "--name", "default/idle", "--now", pinned)
	var doc report.PlanDoc
	if err := json.Unmarshal([]byte(out), &doc); err != nil {
		t.Fatal(err)
	}
	if len(doc.Revisions.Create) != 1 {
		t.Fatalf("first plan of idle: %d revision creates, want 1", len(doc.Revisions.Create))
	}
	converged := convergedIdle(t, in, doc)
	out, errOut, code := whatif(t, converged, "--name", "idle", "--now", pinned)
	if code != exitOK || errOut != "" {
		t.Errorf("exit %d, stderr %q; want 0 and nothing:\n%s", code, errOut, out)
	}
	got := squeeze(out)
	for _, want := range []string{
		"node-a Ineligible - NodeSelectorMismatch: nodeSelector wants role=none, node has no role label",
		"Nothing to do: this sync writes nothing.",
	} {
		if !strings.Contains(got, want) {
			t.Errorf("output lacks %q:\n%s", want, out)
		}
	}
}

// convergedIdle adds the idle DaemonSet's revision and status from doc to
// the dump in.
func convergedIdle(t *testing.T, in string, doc report.PlanDoc) string {
	t.Helper()
	st, err := yaml.Marshal(map[string]any{"status": doc.Status})
	if err != nil {
		t.Fatal(err)
	}
	in = strings.Replace(in, "        containers: [{name: idle, image: registry.example.com/idle:v1}]\n",
		"        containers: [{name: idle, image: registry.example.com/idle:v1}]\n"+indentBy(string(st), "  "), 1)
	return in + fmt.Sprintf(`- apiVersion: apps/v1
  kind: ControllerRevision
  metadata:
    name: %s
    namespace: default
    labels: {app: idle, controller-revision-hash: %s}
    ownerReferences: [{apiVersion: apps/v1, kind: DaemonSet, name: idle, uid: 0c2d9d3c-1111-4000-8000-000000000002, controller: true, blockOwnerDeletion: true}]
  revision: 1
  data: %s
`, doc.Revisions.Create[0].Name, doc.Hash, revisionData(t, in))
}

// revisionData is the data of the idle DaemonSet's revision, from
// upstream-json (which prints the whole revision).
func revisionData(t *testing.T, in string) string {
	t.Helper()
	out, _, code := whatif(t, in, "-o", "upstream-json", "--name", "default/idle")
	if code != exitOK {
		t.Fatalf("upstream-json exit %d", code)
	}
	var o oraclePlan
	if err := json.Unmarshal([]byte(out), &o); err != nil {
		t.Fatal(err)
	}
	return string(o.Revisions.Create[0].Data.Raw)
}

func indentBy(s, pad string) string {
	lines := strings.Split(strings.TrimRight(s, "\n"), "\n")
	for i := range lines {
		lines[i] = pad + lines[i]
	}
	return strings.Join(lines, "\n") + "\n"
}

func TestPlanJSONAndYAML(t *testing.T) {
	for _, format := range []string{"json", "yaml"} {
		t.Run(format, func(t *testing.T) {
			out, errOut, code := whatif(t, "", "-f", "testdata/cluster.yaml", "--now", pinned, "-o", format)
			if code != exitChanges || errOut != "" {
				t.Errorf("exit %d, stderr %q; want 2 and nothing", code, errOut)
			}
			var doc report.PlanDoc
			if err := yaml.UnmarshalStrict([]byte(out), &doc); err != nil {
				t.Fatalf("output is not a Plan document: %v\n%s", err, out)
			}
			if doc.APIVersion != report.APIVersion || doc.Kind != "Plan" || doc.DaemonSet != (report.Ref{Namespace: "kube-system", Name: "fluentd"}) {
				t.Errorf("document header %q %q %v", doc.APIVersion, doc.Kind, doc.DaemonSet)
			}
			if doc.Hash != "6dc64ff4fc" || doc.Revision != 2 || !doc.Writes || doc.StatusWritten || doc.Now != pinned {
				t.Errorf("hash %q revision %d writes %v statusWritten %v now %q", doc.Hash, doc.Revision, doc.Writes, doc.StatusWritten, doc.Now)
			}
			if len(doc.Deletes) != 1 || doc.Deletes[0].Pod != "fluentd-tq9lc" || doc.Deletes[0].Node != "node-3" ||
				doc.Deletes[0].Reason != "ReplaceUnavailable" || !strings.Contains(doc.Deletes[0].Message, "not available") {
				t.Errorf("deletes = %+v", doc.Deletes)
			}
			if doc.Creates == nil || doc.PodPatches == nil || doc.Claims == nil || doc.Warnings == nil || doc.Revisions.Create == nil {
				t.Errorf("a list is null: %s", out)
			}
			if doc.Status.NumberMisscheduled != 1 || doc.Status.DesiredNumberScheduled != 3 {
				t.Errorf("status = %+v", doc.Status)
			}
			states := map[string]string{}
			for _, n := range doc.Nodes {
				states[n.Name] = n.State
			}
			want := map[string]string{"cp-1": "Ineligible", "db-1": "Misscheduled", "node-1": "UpToDate", "node-2": "Old", "node-3": "ToDelete", "win-1": "Ineligible"}
			if !reflect.DeepEqual(states, want) {
				t.Errorf("node states = %v, want %v", states, want)
			}
			win := doc.Nodes[5]
			if win.Placement.Reason != "NodeSelectorMismatch" || win.Placement.Field != "spec.template.spec.nodeSelector[kubernetes.io/os]" || win.Placement.ShouldRun {
				t.Errorf("win-1 placement = %+v", win.Placement)
			}
			if n2 := doc.Nodes[3]; n2.Wait == nil || n2.Wait.Reason != "BudgetSpent" || n2.Action != "wait" {
				t.Errorf("node-2 = %+v", n2)
			}
		})
	}
}

// TestPlanHTML parses the page as XML and checks its structure: a section
// per DaemonSet, a grid cell per node with its state colour and reason in
// its title, and an accessible table (caption, column and row headers)
// with a row per node.
func TestPlanHTML(t *testing.T) {
	out, errOut, code := whatif(t, "", "-f", "testdata/cluster.yaml", "--now", pinned, "-o", "html")
	if code != exitChanges || errOut != "" {
		t.Errorf("exit %d, stderr %q; want 2 and nothing", code, errOut)
	}
	page := parseXHTML(t, out)
	cells := page.all("a", "tabindex", "-1")
	if len(cells) != 6 {
		t.Fatalf("%d grid cells, want 6", len(cells))
	}
	for _, st := range report.States {
		if rule := fmt.Sprintf(".st-%s { background: %s; }", st.State, st.Color); !strings.Contains(out, rule) {
			t.Errorf("page lacks the colour rule %q", rule)
		}
	}
	for _, c := range cells {
		title := c.attr("title")
		lines := strings.Split(title, "\n")
		if len(lines) != 3 {
			t.Errorf("cell title %q: want node, state and action, reason", title)
			continue
		}
		state, _, _ := strings.Cut(lines[1], ":")
		if !slices.Contains(strings.Fields(c.attr("class")), "st-"+state) {
			t.Errorf("cell %s (%s) class %q lacks its colour class st-%s", lines[0], state, c.attr("class"), state)
		}
	}
	if got := cells[5].attr("title"); !strings.Contains(got, "nodeSelector wants kubernetes.io/os=linux") {
		t.Errorf("win-1's title = %q", got)
	}
	tables := page.all("table", "class", "nodes")
	if len(tables) != 1 {
		t.Fatalf("%d node tables, want 1", len(tables))
	}
	tbl := tables[0]
	if len(tbl.all("caption", "", "")) != 1 || len(tbl.all("th", "scope", "col")) != 5 {
		t.Errorf("node table: want a caption and 5 column headers")
	}
	rows := tbl.all("th", "scope", "row")
	if len(rows) != 6 || rows[2].text() != "node-1" {
		t.Errorf("node table row headers = %d (first %q), want 6", len(rows), rows[0].text())
	}
	text := page.text()
	for _, want := range []string{"MISSCHEDULED", "Plan: 1 pod to delete.", "delete pod/fluentd-tq9lc", "ReplaceUnavailable", "kubernetes.io/os=linux"} {
		if !strings.Contains(text, want) {
			t.Errorf("page text lacks %q", want)
		}
	}
	if strings.Contains(out, "<script") || strings.Contains(out, "http://") && !strings.Contains(out, `xmlns="http://www.w3.org/1999/xhtml"`) {
		t.Errorf("page has a script or an external resource")
	}
}

// TestPlanHTMLLarge: 5,000 nodes make a page of small cells, one per node,
// and a table row per node, in well-formed markup of modest size. (The
// dump is built in memory: decoding 20 MB of YAML takes seconds.)
func TestPlanHTMLLarge(t *testing.T) {
	var objs snapshot.Objects
	for _, o := range largeClusterObjects(t, 5000) {
		switch x := o.(type) {
		case *appsv1.DaemonSet:
			objs.DaemonSets = append(objs.DaemonSets, x)
		case *corev1.Node:
			objs.Nodes = append(objs.Nodes, x)
		case *corev1.Pod:
			objs.Pods = append(objs.Pods, x)
		case *appsv1.ControllerRevision:
			objs.Revisions = append(objs.Revisions, x)
		}
	}
	in, err := report.FromObjects(objs)
	if err != nil {
		t.Fatal(err)
	}
	now, _ := time.Parse(time.RFC3339, pinned)
	start := time.Now()
	sections := report.Plan(in, now)
	var b strings.Builder
	if err := report.HTML(&b, sections); err != nil {
		t.Fatal(err)
	}
	elapsed := time.Since(start)
	out := b.String()
	page := parseXHTML(t, out)
	if n := len(page.all("a", "tabindex", "-1")); n != 5000+10 {
		t.Errorf("%d grid cells, want 5,010 (5,000 nodes and 10 gone)", n)
	}
	if n := len(page.all("th", "scope", "row")); n != 5010 {
		t.Errorf("%d table rows, want 5,010", n)
	}
	if len(page.all("div", "class", "grid small")) != 1 {
		t.Errorf("no grid of small cells")
	}
	if !strings.Contains(out, "5,010 nodes") {
		t.Errorf("no node count heading")
	}
	t.Logf("5,000 nodes: %d bytes of HTML, planned and written in %v", len(out), elapsed)
	if len(out) > 6<<20 {
		t.Errorf("page is %d bytes, want under 6 MiB", len(out))
	}
}

// node is a parsed XHTML element.
type node struct {
	XMLName  xml.Name
	Attrs    []xml.Attr `xml:",any,attr"`
	Children []node     `xml:",any"`
	Text     string     `xml:",chardata"`
}

func parseXHTML(t *testing.T, page string) node {
	t.Helper()
	if !strings.HasPrefix(page, "<!DOCTYPE html>\n") {
		t.Errorf("page does not start with <!DOCTYPE html>")
	}
	var root node
	d := xml.NewDecoder(strings.NewReader(page))
	if err := d.Decode(&root); err != nil {
		t.Fatalf("page is not well-formed: %v", err)
	}
	return root
}

func (n node) attr(name string) string {
	for _, a := range n.Attrs {
		if a.Name.Local == name {
			return a.Value
		}
	}
	return ""
}

// all returns the descendants named tag whose attribute attr is value
// (any element for attr "").
func (n node) all(tag, attr, value string) []node {
	var out []node
	var walk func(node)
	walk = func(x node) {
		for _, c := range x.Children {
			if c.XMLName.Local == tag && (attr == "" || c.attr(attr) == value) {
				out = append(out, c)
			}
			walk(c)
		}
	}
	walk(n)
	return out
}

func (n node) text() string {
	s := n.Text
	for _, c := range n.Children {
		s += " " + c.text()
	}
	return s
}

func TestExplain(t *testing.T) {
	tests := []struct {
		name string
		args []string
		code int
		want []string
	}{
		{
			name: "tainted node without a pod",
			args: []string{"explain", "cp-1"},
			want: []string{"Node: cp-1", "State: Ineligible", "Reason: UntoleratedTaint: untolerated taint node-role.kubernetes.io/control-plane:NoSchedule",
				"Rule: spec.template.spec.tolerations", "Placement: no new pod (a running pod would be allowed to stay)",
				"Taints: node-role.kubernetes.io/control-plane:NoSchedule", "Pods: <none>", "This sync: nothing"},
		},
		{
			name: "node outside the nodeSelector",
			args: []string{"explain", "win-1", "-n", "kube-system"},
			want: []string{"State: Ineligible", "Rule: spec.template.spec.nodeSelector[kubernetes.io/os]", "kubernetes.io/os=windows"},
		},
		{
			name: "node with an old pod waiting",
			args: []string{"explain", "ds/fluentd", "node-2"},
			want: []string{"State: Old", "Pods: fluentd-7bd5m: revision 1 (674f5cfbd4), old, Running, ready, available",
				"This sync: nothing; waits: BudgetSpent (maxUnavailable 1: 1 node in flight)"},
		},
		{
			name: "node whose pod is deleted",
			args: []string{"explain", "--name=fluentd", "node-3"},
			want: []string{"State: ToDelete", "Pods: fluentd-tq9lc: revision 1 (674f5cfbd4), old, Running, not ready", "This sync: delete pod fluentd-tq9lc (ReplaceUnavailable)"},
		},
		{name: "every node", args: []string{"explain"}, want: []string{"Node: cp-1", "Node: db-1", "Node: win-1"}},
		{name: "unknown node", args: []string{"explain", "node-9"}, code: exitError},
		{name: "too many arguments", args: []string{"explain", "node-1", "node-2"}, code: exitError},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			args := append([]string{"-f", "testdata/cluster.yaml", "--now", pinned}, tc.args...)
			// The command comes first.
			args = append(tc.args[:1:1], append(args[:4], tc.args[1:]...)...)
			out, errOut, code := whatif(t, "", args...)
			if code != tc.code {
				t.Errorf("exit %d, want %d; stderr %q", code, tc.code, errOut)
			}
			got := squeeze(out)
			for _, want := range tc.want {
				if !strings.Contains(got, want) {
					t.Errorf("output lacks %q:\n%s", want, out)
				}
			}
		})
	}
}

func TestExplainJSON(t *testing.T) {
	out, _, code := whatif(t, "", "explain", "db-1", "-f", "testdata/cluster.yaml", "--now", pinned, "-o", "json")
	if code != exitOK {
		t.Errorf("exit %d, want 0", code)
	}
	var doc report.NodeDoc
	if err := json.Unmarshal([]byte(out), &doc); err != nil {
		t.Fatal(err)
	}
	if doc.Kind != "NodeReport" || doc.Node.Name != "db-1" || doc.Node.State != "Misscheduled" || doc.Labels["dedicated"] != "db" || len(doc.Taints) != 1 {
		t.Errorf("NodeReport = %+v", doc)
	}
}

func TestRollout(t *testing.T) {
	tests := []struct {
		name string
		args []string
		code int
		want string
	}{
		{
			name: "status in progress",
			args: []string{"rollout", "status"},
			code: exitChanges,
			want: "Waiting for daemon set \"fluentd\" rollout to finish: 1 out of 3 new pods have been updated...\n",
		},
		{
			name: "history",
			args: []string{"rollout", "history", "ds/fluentd"},
			want: "daemonset.apps/fluentd \nREVISION  CHANGE-CAUSE\n1         <none>\n2         kubectl set image daemonset/fluentd fluentd=fluent/fluentd:v1.17.1\n\n",
		},
		{
			name: "history of a revision",
			args: []string{"rollout", "history", "--revision", "1"},
			want: "daemonset.apps/fluentd with revision #1\nPod Template:\n  metadata:\n    labels:\n      app.kubernetes.io/name: fluentd\n  spec:\n    containers:\n    - image: fluent/fluentd:v1.16.5\n",
		},
		{name: "history of an unknown revision", args: []string{"rollout", "history", "--revision=7"}, code: exitError},
		{name: "no subcommand", args: []string{"rollout"}, code: exitError},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			out, errOut, code := whatif(t, "", append(tc.args, "-f", "testdata/cluster.yaml", "--now", pinned)...)
			if code != tc.code {
				t.Errorf("exit %d, want %d; stderr %q", code, tc.code, errOut)
			}
			if !strings.HasPrefix(out, tc.want) {
				t.Errorf("output:\n%q\nwant it to start with\n%q", out, tc.want)
			}
		})
	}
}

// TestRolloutStatusAfterSync: a DaemonSet whose spec change is not observed
// yet, and the verdict after the sync.
func TestRolloutStatusAfterSync(t *testing.T) {
	in := strings.Replace(small, "generation: 1,", "generation: 2,", 1)
	out, _, code := whatif(t, in, "rollout", "status", "--now", pinned)
	want := "Waiting for daemon set spec update to be observed...\nafter this sync: Waiting for daemon set \"agent\" rollout to finish: 0 out of 1 new pods have been updated...\n"
	if out != want || code != exitChanges {
		t.Errorf("exit %d, output %q; want 2 and %q", code, out, want)
	}
	onDelete := strings.Replace(small, "    selector:", "    updateStrategy: {type: OnDelete}\n    selector:", 1)
	_, errOut, code := whatif(t, onDelete, "rollout", "status")
	if code != exitError || !strings.Contains(errOut, "rollout status is only available for RollingUpdate strategy type") {
		t.Errorf("OnDelete: exit %d, stderr %q", code, errOut)
	}
}

// TestInputs covers the dumps whatif must read right or reject with the
// object named.
func TestInputs(t *testing.T) {
	dsB := strings.Replace(strings.SplitN(small, "- apiVersion: v1\n  kind: Node", 2)[0], "kind: List\nitems:\n", "", 1)
	dsB = strings.NewReplacer("name: agent", "name: second", "app: agent", "app: second", "000000000001", "000000000009").Replace(dsB)
	dsB = strings.TrimPrefix(dsB, "apiVersion: v1\n")
	tests := []struct {
		name       string
		input      string
		args       []string
		code       int
		wantOut    []string
		wantErr    []string
		notWantOut []string
	}{
		{
			name: "kubectl -o json with indented revision data plans as the YAML",
			args: []string{"-f", "testdata/cluster.json", "--now", pinned},
			code: exitChanges, wantOut: []string{"Plan: 1 pod to delete."}, notWantOut: []string{"already exists", "collision"},
		},
		{
			name:  "node listed twice",
			input: small + "- apiVersion: v1\n  kind: Node\n  metadata: {name: node-a}\n",
			code:  exitError, wantErr: []string{`Node "node-a" is listed 2 times`},
		},
		{
			name:  "pod listed twice",
			input: small + strings.Repeat("- apiVersion: v1\n  kind: Pod\n  metadata: {name: agent-x, namespace: default, labels: {app: agent}}\n  spec: {nodeName: node-a}\n", 2),
			code:  exitError, wantErr: []string{`Pod "default/agent-x" is listed 2 times`},
		},
		{
			name:  "nameless pod",
			input: small + "- apiVersion: v1\n  kind: Pod\n  metadata: {generateName: agent-, namespace: default}\n  spec: {nodeName: node-a}\n",
			code:  exitError, wantErr: []string{`Pod #1 (namespace "default", generateName "agent-", node "node-a") has no metadata.name`},
		},
		{
			name:  "nameless node",
			input: small + "- apiVersion: v1\n  kind: Node\n  metadata: {labels: {zone: a}}\n",
			code:  exitError, wantErr: []string{`Node #2 (label zone=a) has no metadata.name`},
		},
		{
			name:  "unknown kind is skipped with a warning",
			input: small + "- apiVersion: v1\n  kind: Service\n  metadata: {name: svc}\n",
			code:  exitChanges, wantErr: []string{`warning: items[2] (Service "svc"): skipped: dsplan reads no v1 Service`}, wantOut: []string{"node-a ToCreate create pod"},
		},
		{
			name:  "unknown kind with --strict",
			input: small + "- apiVersion: v1\n  kind: Service\n  metadata: {name: svc}\n",
			args:  []string{"--strict"},
			code:  exitError, wantErr: []string{"--strict", `Service "svc"`},
		},
		{
			name:  "two DaemonSets, two sections",
			input: small + dsB,
			code:  exitChanges, wantOut: []string{"DaemonSet default/agent:", "DaemonSet default/second:"},
		},
		{
			name:  "two DaemonSets, one selected",
			input: small + dsB,
			args:  []string{"-n", "default/second"},
			code:  exitChanges, wantOut: []string{"DaemonSet default/second:"}, notWantOut: []string{"DaemonSet default/agent"},
		},
		{
			name:  "select an absent DaemonSet",
			input: small + dsB,
			args:  []string{"--name", "default/third"},
			code:  exitError, wantErr: []string{`no DaemonSet "default/third" in the input; it has default/agent, default/second`},
		},
		{
			name:  "upstream-json needs one DaemonSet",
			input: small + dsB,
			args:  []string{"-o", "upstream-json"},
			code:  exitError, wantErr: []string{"select one with --name"},
		},
		{
			name: "sync error (hash collision) exits 1",
			input: small + `- apiVersion: apps/v1
  kind: ControllerRevision
  metadata:
    name: agent-69689b9487
    namespace: default
    labels: {app: agent, controller-revision-hash: 69689b9487}
    ownerReferences: [{apiVersion: apps/v1, kind: DaemonSet, name: agent, uid: 0c2d9d3c-1111-4000-8000-000000000001, controller: true}]
  revision: 1
  data: {spec: {template: {metadata: {labels: {app: other}}}}}
`,
			code: exitError, wantOut: []string{"Error: the sync fails: failed to construct revisions of DaemonSet"},
		},
		{
			name:  "rollout.dsplan.io/paused holds the rollout",
			input: annotated(t, `rollout.dsplan.io/paused: "true"`),
			args:  []string{"--now", pinned},
			code:  exitOK,
			wantOut: []string{"node-2 Old wait pod fluentd-7bd5m runs old revision 1; waits: Paused",
				"node-3 Old wait pod fluentd-tq9lc runs old revision 1 and is not ready; waits: Paused", "Nothing to do"},
		},
		{
			name:    "a bad rollout.dsplan.io/ annotation is a warning",
			input:   annotated(t, `rollout.dsplan.io/paused: "maybe"`),
			code:    exitChanges,
			wantOut: []string{`Warning: metadata.annotations[rollout.dsplan.io/paused]: Invalid value: "maybe"`, "Plan: 1 pod to delete."},
		},
		{name: "empty input", input: "", code: exitError, wantErr: []string{"empty input"}},
		{name: "not objects", input: "just text", code: exitError, wantErr: []string{"not a Kubernetes object or List: want an object, got a string"}},
		{name: "no DaemonSet", input: "apiVersion: v1\nkind: Node\nmetadata: {name: node-a}\n", code: exitError, wantErr: []string{"no apps/v1 DaemonSet"}},
		{
			name:  "wrong field type names the field path",
			input: small + "- apiVersion: v1\n  kind: Pod\n  metadata: {name: p, labels: [1]}\n",
			code:  exitError, wantErr: []string{`items[2] (Pod "p"): metadata.labels: want an object, got a list`},
		},
		{
			name:  "maxUnavailable of the wrong type",
			input: strings.Replace(small, "    selector:", "    updateStrategy: {type: RollingUpdate, rollingUpdate: {maxUnavailable: [1]}}\n    selector:", 1),
			code:  exitError, wantErr: []string{`items[0] (DaemonSet "agent"): spec.updateStrategy.rollingUpdate.maxUnavailable: want an integer or a percentage such as 25%, got a list`},
		},
		{
			name:  "bad quantity",
			input: strings.Replace(small, "image: registry.example.com/agent:v1}", "image: x, resources: {limits: {cpu: lots}}}", 1),
			code:  exitError, wantErr: []string{`items[0] (DaemonSet "agent"): invalid quantity: want a number with an optional unit`},
		},
		{
			name:  "bad timestamp",
			input: small + "- apiVersion: v1\n  kind: Pod\n  metadata: {name: p, creationTimestamp: yesterday}\n",
			code:  exitError, wantErr: []string{`items[2] (Pod "p"): invalid time "yesterday": want RFC 3339`},
		},
		{name: "missing file", args: []string{"-f", "testdata/nope.yaml"}, code: exitError, wantErr: []string{"testdata/nope.yaml: no such file"}},
		{name: "bad -o", args: []string{"-o", "xml"}, input: small, code: exitError, wantErr: []string{`-o "xml"`, "table, wide, json, yaml, html and upstream-json"}},
		{name: "bad --now", args: []string{"--now", "yesterday"}, input: small, code: exitError, wantErr: []string{`--now "yesterday": want an RFC 3339 time`}},
		{name: "--now as a date", args: []string{"--now", "2026-12-01"}, input: small, code: exitChanges, wantOut: []string{"agent 1 0 0 0 0 0 <none> 24h"}},
		{name: "unknown command", args: []string{"frobnicate"}, input: small, code: exitError, wantErr: []string{`unknown command "frobnicate"`}},
		{name: "file name as a command", args: []string{"testdata/cluster.yaml"}, code: exitError, wantErr: []string{"pass -f testdata/cluster.yaml"}},
		{name: "unknown flag", args: []string{"--frob"}, input: small, code: exitError, wantErr: []string{"flag provided but not defined: -frob"}},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			out, errOut, code := whatif(t, tc.input, tc.args...)
			if code != tc.code {
				t.Errorf("exit %d, want %d; stderr:\n%s", code, tc.code, errOut)
			}
			for _, want := range tc.wantOut {
				if !strings.Contains(squeeze(out), want) {
					t.Errorf("stdout lacks %q:\n%s", want, out)
				}
			}
			for _, bad := range tc.notWantOut {
				if strings.Contains(out, bad) {
					t.Errorf("stdout has %q:\n%s", bad, out)
				}
			}
			for _, want := range tc.wantErr {
				if !strings.Contains(errOut, want) {
					t.Errorf("stderr lacks %q:\n%s", want, errOut)
				}
			}
			for _, goInternal := range []string{"map[string]", "json.RawMessage", "Go value", "Go struct field", "2006-01-02T15:04:05Z07:00"} {
				if strings.Contains(errOut, goInternal) {
					t.Errorf("stderr shows Go internals (%q):\n%s", goInternal, errOut)
				}
			}
		})
	}
}

// annotated is the example cluster with annotation (a YAML map entry) on
// its DaemonSet.
func annotated(t *testing.T, annotation string) string {
	t.Helper()
	const anchor = "  metadata:\n    annotations:\n      deprecated.daemonset.template.generation: \"2\"\n"
	dump := readFile(t, "testdata/cluster.yaml")
	if !strings.HasPrefix(dump[strings.Index(dump, "- apiVersion: apps/v1\n  kind: DaemonSet\n")+len("- apiVersion: apps/v1\n  kind: DaemonSet\n"):], anchor) {
		t.Fatal("testdata/cluster.yaml: the DaemonSet's annotations moved")
	}
	return strings.Replace(dump, anchor, anchor+"      "+annotation+"\n", 1)
}

// TestInvalid: placement.Validate runs first; an invalid DaemonSet is
// reported with field paths, not planned, and exits 1, in every format but
// upstream-json, which plans it anyway and reports on stderr.
func TestInvalid(t *testing.T) {
	strategy := func(s string) string {
		return strings.Replace(small, "    selector:", "    updateStrategy: {type: RollingUpdate, rollingUpdate: {"+s+"}}\n    selector:", 1)
	}
	tests := []struct {
		name  string
		input string
		want  string
	}{
		{name: "maxUnavailable 150%", input: strategy(`maxUnavailable: "150%"`), want: `spec.updateStrategy.rollingUpdate.maxUnavailable: Invalid value: "150%": must not be greater than 100%`},
		{name: "maxUnavailable -1", input: strategy("maxUnavailable: -1"), want: "spec.updateStrategy.rollingUpdate.maxUnavailable: Invalid value: -1: must be greater than or equal to 0"},
		{name: "maxUnavailable abc", input: strategy(`maxUnavailable: abc`), want: `spec.updateStrategy.rollingUpdate.maxUnavailable: Invalid value: "abc"`},
		{name: "selector does not match the template", input: strings.Replace(small, "selector: {matchLabels: {app: agent}}", "selector: {matchLabels: {app: other}}", 1),
			want: "spec.template.metadata.labels: Invalid value: {\"app\":\"agent\"}: `selector` does not match template `labels`"},
		{
			name: "matchFields on metadata.labels",
			input: strings.Replace(small, "        containers:", `        affinity:
          nodeAffinity:
            requiredDuringSchedulingIgnoredDuringExecution:
              nodeSelectorTerms: [{matchFields: [{key: metadata.labels, operator: In, values: [x]}]}]
        containers:`, 1),
			want: "spec.template.spec.affinity.nodeAffinity.requiredDuringSchedulingIgnoredDuringExecution.nodeSelectorTerms[0].matchFields[0].key",
		},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			for _, format := range []string{"table", "json", "yaml", "html", "wide"} {
				out, errOut, code := whatif(t, tc.input, "-o", format)
				if code != exitError {
					t.Errorf("-o %s: exit %d, want 1", format, code)
				}
				if !strings.Contains(out+errOut, tc.want) && !strings.Contains(out, strings.ReplaceAll(tc.want, `"`, "&#34;")) {
					t.Errorf("-o %s: output lacks %q:\nstdout:\n%s\nstderr:\n%s", format, tc.want, out, errOut)
				}
				if strings.Contains(out, "create pod") || strings.Contains(out, "action") || strings.Contains(out, "Plan:") {
					t.Errorf("-o %s: an invalid DaemonSet was planned:\n%s", format, out)
				}
			}
			out, errOut, code := whatif(t, tc.input, "-o", "upstream-json")
			if code != exitOK || !strings.Contains(errOut, tc.want) || !strings.Contains(out, `"hash"`) {
				t.Errorf("upstream-json: exit %d, stderr %q, stdout %q; want 0, the problem on stderr, a plan", code, errOut, out)
			}
		})
	}
}

// TestForecast plays the README cluster's rollout forward: its waves and
// summary, the lints first, exit 0 when it completes; -o svg draws one
// DaemonSet; bad flags are errors.
func TestForecast(t *testing.T) {
	in := readFile(t, "testdata/cluster.yaml")
	out, errOut, code := whatif(t, in, "forecast", "--now", pinned, "--ready-after", "20s")
	if code != exitOK || !strings.HasPrefix(out, "DaemonSet kube-system/fluentd\n") || !strings.Contains(out, "complete after ") || !strings.Contains(out, "wave 1 at 0s") {
		t.Errorf("forecast: exit %d\n%s\n%s", code, out, errOut)
	}
	stalled, _, code := whatif(t, in, "forecast", "--now", pinned, "--failure-rate", "1")
	if code != exitChanges || !strings.Contains(stalled, "NewPodsFailing") {
		t.Errorf("forecast with every new pod failing: exit %d\n%s", code, stalled)
	}
	svg, _, code := whatif(t, in, "forecast", "fluentd", "-n", "kube-system", "-o", "svg", "--now", pinned)
	if code != exitOK || !strings.HasPrefix(svg, "<svg ") || xml.Unmarshal([]byte(svg), new(struct{})) != nil {
		t.Errorf("-o svg: exit %d, %.100q", code, svg)
	}
	for _, args := range [][]string{
		{"forecast", "-o", "html"},
		{"forecast", "--failure-rate", "2"},
		{"forecast", "--ready-after", "soon"},
	} {
		if _, errOut, code := whatif(t, in, append(args, "--now", pinned)...); code != exitError || errOut == "" {
			t.Errorf("%q: exit %d, stderr %q; want an error", args, code, errOut)
		}
	}
}

func TestHelp(t *testing.T) {
	for _, args := range [][]string{{"-h"}, {"--help"}, {"help"}, {"plan", "-h"}, {"explain", "--help"}, {"rollout", "-h"},
		{"rollout", "status", "-h"}, {"rollout", "history", "-h"}, {"help", "rollout", "history"}} {
		t.Run(strings.Join(args, " "), func(t *testing.T) {
			out, errOut, code := whatif(t, "", args...)
			if code != exitOK || errOut != "" || !strings.Contains(out, "Usage:") {
				t.Errorf("exit %d, stderr %q, stdout %q; want 0 and usage", code, errOut, out)
			}
		})
	}
	out, _, _ := whatif(t, "", "-h")
	for _, want := range []string{"Exit status: 0 nothing to do", "2 actions planned", "whatif explain", "whatif rollout status", "upstream-json"} {
		if !strings.Contains(out, want) {
			t.Errorf("usage lacks %q", want)
		}
	}
}

// TestNowDefaultsToTheClock: without --now, ages and availability are
// judged now, not at a fixed date.
func TestNowDefaultsToTheClock(t *testing.T) {
	out, _, _ := whatif(t, small, "-o", "json")
	var doc report.PlanDoc
	if err := json.Unmarshal([]byte(out), &doc); err != nil {
		t.Fatal(err)
	}
	at, err := time.Parse(time.RFC3339, doc.Now)
	if err != nil || time.Since(at) > time.Minute || time.Since(at) < -time.Minute {
		t.Errorf("now = %q, want about the current time", doc.Now)
	}
	out, _, _ = whatif(t, "", "-f", "testdata/cluster.yaml")
	if strings.Contains(out, "<invalid>") {
		t.Errorf("AGE <invalid> without --now:\n%s", out)
	}
}

// TestUpstreamJSONUnchanged: -o upstream-json prints, byte for byte, what
// -o json printed before this command had its own schema (the golden files
// were written by that version).
func TestUpstreamJSONUnchanged(t *testing.T) {
	tests := []struct {
		golden string
		input  string // a file, or a fixture name
		args   []string
	}{
		{golden: "cluster.json", input: "testdata/cluster.yaml"},
		{golden: "cluster-now.json", input: "testdata/cluster.yaml", args: []string{"-now", "2026-12-05T21:10:00Z"}},
		{golden: "chaos-s0001.json", input: "chaos-s0001"},
		{golden: "chaos-s0007.json", input: "chaos-s0007"},
		{golden: "rolling-s0003.json", input: "rolling-s0003"},
		{golden: "steady-s0002.json", input: "steady-s0002"},
	}
	for _, tc := range tests {
		t.Run(tc.golden, func(t *testing.T) {
			var data string
			if strings.HasPrefix(tc.input, "testdata/") {
				data = readFile(t, tc.input)
			} else {
				data = string(gunzipFile(t, filepath.Join(fixture.Dir(), tc.input+".yaml.gz")))
			}
			out, errOut, code := whatif(t, data, append([]string{"-o", "upstream-json"}, tc.args...)...)
			if code != exitOK {
				t.Fatalf("exit %d: %s", code, errOut)
			}
			if want := readFile(t, filepath.Join("testdata", "upstream", tc.golden)); out != want {
				t.Errorf("upstream-json differs from %s", tc.golden)
			}
		})
	}
}

func gunzipFile(t *testing.T, name string) []byte {
	t.Helper()
	data, err := os.ReadFile(name)
	if err != nil {
		t.Fatal(err)
	}
	zr, err := gzip.NewReader(bytes.NewReader(data))
	if err != nil {
		t.Fatal(err)
	}
	raw, err := io.ReadAll(zr)
	if err != nil {
		t.Fatal(err)
	}
	return raw
}

// TestJSONMatchesOracle runs `whatif -o upstream-json` on golden fixtures
// and compares the fields with the oracle's recorded output, for fixtures
// where upstream's result did not vary between runs.
func TestJSONMatchesOracle(t *testing.T) {
	names, err := filepath.Glob(filepath.Join(fixture.Dir(), "*.want.json.gz"))
	if err != nil || len(names) == 0 {
		t.Fatalf("no fixtures: %v", err)
	}
	checked := 0
	// Every 8th fixture keeps the test quick; plan's parity test covers all.
	for i := 0; i < len(names); i += 8 {
		c, err := fixture.Load(fixture.Dir(), strings.TrimSuffix(filepath.Base(names[i]), ".want.json.gz"))
		if err != nil {
			t.Fatal(err)
		}
		if len(c.Want.VariesAcrossRuns) > 0 || len(c.Want.Variants) > 1 {
			continue
		}
		raw := gunzipFile(t, filepath.Join(fixture.Dir(), c.Name+".yaml.gz"))
		var out, errOut bytes.Buffer
		if code := run([]string{"-o", "upstream-json", "-now", c.Now.Format(time.RFC3339)}, bytes.NewReader(raw), &out, &errOut); code != exitOK {
			t.Fatalf("%s: exit %d: %s", c.Name, code, errOut.String())
		}
		var got oraclePlan
		if err := json.Unmarshal(out.Bytes(), &got); err != nil {
			t.Fatalf("%s: output is not JSON: %v", c.Name, err)
		}
		if got.Hash != c.Want.Hash {
			t.Errorf("%s: hash = %q, want %q", c.Name, got.Hash, c.Want.Hash)
		}
		if !reflect.DeepEqual(got.Status, c.Want.Status) {
			t.Errorf("%s: status = %+v, want %+v", c.Name, got.Status, c.Want.Status)
		}
		var gotNodes []string
		for _, cr := range got.Creates {
			gotNodes = append(gotNodes, cr.Node)
		}
		createNodes := func(cs []fixture.Create) []string {
			var out []string
			for _, cr := range cs {
				out = append(out, cr.Node)
			}
			return out
		}
		// Where upstream picked at random, any of its picks is right.
		if problem := varying(got.Deletes, c.Want.Deletes.Always, c.Want.Deletes.Sometimes, c.Want.Deletes.Counts); problem != "" {
			t.Errorf("%s: deletes %v: %s", c.Name, got.Deletes, problem)
		}
		if problem := varying(gotNodes, createNodes(c.Want.Creates.Always), createNodes(c.Want.Creates.Sometimes), c.Want.Creates.Counts); problem != "" {
			t.Errorf("%s: creates on %v: %s", c.Name, gotNodes, problem)
		}
		if len(got.PodPatches) != len(c.Want.PodPatches) || len(got.Revisions.Create) != len(c.Want.Revisions.Create) ||
			len(got.Revisions.Update) != len(c.Want.Revisions.Update) || !slices.Equal(got.Revisions.Delete, nonNil(c.Want.Revisions.Delete)) {
			t.Errorf("%s: revision writes or pod patches differ from the oracle's", c.Name)
		}
		checked++
	}
	if checked == 0 {
		t.Fatal("no fixture compared")
	}
	t.Logf("whatif -o upstream-json agrees with the oracle on %d fixtures", checked)
}

// varying returns what is wrong with got against a list upstream made
// differently across runs: it must hold every item of always, only items
// of always or sometimes, and as many as some run did.
func varying(got, always, sometimes []string, counts []int) string {
	for _, a := range always {
		if !slices.Contains(got, a) {
			return "misses " + a + ", which upstream always does"
		}
	}
	for _, g := range got {
		if !slices.Contains(always, g) && !slices.Contains(sometimes, g) {
			return "has " + g + ", which upstream never does"
		}
	}
	if !slices.Contains(counts, len(got)) {
		return fmt.Sprintf("%d items, upstream did %v", len(got), counts)
	}
	return ""
}

// FuzzRun feeds arbitrary input to whatif in every format and command: it
// must answer or fail with an exit status, never panic.
func FuzzRun(f *testing.F) {
	f.Add([]byte(small), uint8(0))
	f.Add([]byte("kind: List\nitems: [{}]\n"), uint8(1))
	f.Add([]byte(readFileF(f, "testdata/cluster.json")), uint8(2))
	f.Add([]byte(small+"- apiVersion: v1\n  kind: Node\n  metadata: {name: node-a}\n"), uint8(3))
	commands := [][]string{
		{"-o", "table"}, {"-o", "json"}, {"-o", "upstream-json"}, {"-o", "yaml"}, {"-o", "html"}, {"-o", "wide"},
		{"explain"}, {"explain", "node-a", "-o", "json"}, {"rollout", "status"}, {"rollout", "history"}, {"rollout", "history", "--revision", "1"},
		{"forecast"}, {"forecast", "-o", "svg"},
	}
	f.Fuzz(func(t *testing.T, data []byte, which uint8) {
		args := append(commands[int(which)%len(commands)], "--now", pinned)
		code := run(args, bytes.NewReader(data), io.Discard, io.Discard)
		if code != exitOK && code != exitError && code != exitChanges {
			t.Errorf("exit %d", code)
		}
	})
}

func readFileF(f *testing.F, name string) string {
	b, err := os.ReadFile(name)
	if err != nil {
		f.Fatal(err)
	}
	return string(b)
}
