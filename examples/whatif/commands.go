package main

import (
	"bytes"
	"errors"
	"flag"
	"fmt"
	"io"
	"os"
	"strings"
	"time"

	"sigs.k8s.io/yaml"

	"github.com/dsplan/dsplan/internal/report"
	"github.com/dsplan/dsplan/internal/snapshot"
	"github.com/dsplan/dsplan/placement"
	"github.com/dsplan/dsplan/plan"
	"github.com/dsplan/dsplan/revision"
	"github.com/dsplan/dsplan/status"
)

const mainUsage = `whatif: what kube-controller-manager's DaemonSet controller would do next,
and why each node has, keeps, gets or lacks a daemon pod, from a cluster dump.

Usage:
  whatif [plan] [DAEMONSET] -f FILE [-o table|wide|json|yaml|html|upstream-json]
  whatif explain [DAEMONSET] [NODE] -f FILE [-o text|json|yaml]
  whatif rollout status [DAEMONSET] -f FILE
  whatif rollout history [DAEMONSET] -f FILE [--revision N]
  whatif forecast [DAEMONSET] -f FILE [-o text|svg] [--ready-after 30s]
  whatif help [COMMAND]

Make a dump with:
  kubectl get daemonsets,nodes,pods,controllerrevisions -A -o yaml > cluster.yaml

DAEMONSET is NAME, NAMESPACE/NAME or ds/NAME; without it every DaemonSet in
the dump is planned, one section each.

Flags of every command:
  -f, --filename FILE   the dump (- or none: standard input); repeat for several files
  -n, --namespace NS    only DaemonSets in namespace NS (NS/NAME selects one)
      --name NAME       only the DaemonSet NAME or NAMESPACE/NAME
      --now TIME        judge availability and ages at TIME (RFC 3339 or
                        2026-01-02); default: now
      --strict          objects of other kinds are an error, not a warning

Exit status: 0 nothing to do (or the rollout is done), 1 error or invalid
DaemonSet, 2 actions planned (or the rollout is in progress).

whatif help COMMAND shows a command's flags and output formats; the json and
yaml schema is in go doc github.com/dsplan/dsplan/examples/whatif.
`

const planUsage = `Usage:
  whatif [plan] [DAEMONSET] -f FILE [-o FORMAT] [flags]

Prints what the next sync of each DaemonSet in the dump does, node by node,
with the reason for each node's state and action.

  -o, --output FORMAT   table (default): every node with its state, action
                        and reason, the kubectl get ds row, other writes
                        wide: table with pods, revisions, readiness, rule
                        json, yaml: whatif.dsplan.io/v1alpha1 Plan objects
                        html: a self-contained page with a grid of the nodes
                        upstream-json: the parity tests' schema of
                        kube-controller-manager's actions (see the docs)
  -f, -n, --name, --now, --strict: see whatif -h

Exit status: 0 nothing to do, 1 error or invalid DaemonSet, 2 actions planned.
`

const explainUsage = `Usage:
  whatif explain [DAEMONSET] [NODE] -f FILE [-o text|json|yaml] [flags]

Explains why NODE has, keeps, gets or lacks a pod of each DaemonSet: the
node's labels and taints, the placement rule, its pods, and what the next
sync does there or why it waits. Without NODE, every node.

  -o, --output FORMAT   text (default), json or yaml
  -f, -n, --name, --now, --strict: see whatif -h

Exit status: 0 explained, 1 error (an unknown node, an invalid DaemonSet).
`

const rolloutUsage = `Usage:
  whatif rollout status [DAEMONSET] -f FILE [flags]
  whatif rollout history [DAEMONSET] -f FILE [--revision N] [flags]

Prints what kubectl rollout status (--watch=false) and kubectl rollout
history print for the DaemonSets in the dump.
`

const rolloutStatusUsage = `Usage:
  whatif rollout status [DAEMONSET] -f FILE [flags]

Prints kubectl rollout status's verdict on the dump's status, and the
verdict after the next sync when it changes it ("after this sync: ...").

  -f, -n, --name, --now, --strict: see whatif -h

Exit status: 0 rolled out, 1 error (e.g. OnDelete strategy), 2 in progress.
`

const rolloutHistoryUsage = `Usage:
  whatif rollout history [DAEMONSET] -f FILE [--revision N] [flags]

Prints kubectl rollout history: the revisions and their change causes, or
with --revision N the pod template of revision N (as YAML).

      --revision N      show the pod template of revision N
  -f, -n, --name, --now, --strict: see whatif -h
`

// inputFlags are the flags every command takes.
type inputFlags struct {
	files     []string
	namespace string
	name      string
	now       string
	strict    bool
}

func (f *inputFlags) register(fs *flag.FlagSet) {
	file := func(v string) error { f.files = append(f.files, v); return nil }
	fs.Func("f", "", file)
	fs.Func("filename", "", file)
	fs.StringVar(&f.namespace, "n", "", "")
	fs.StringVar(&f.namespace, "namespace", "", "")
	fs.StringVar(&f.name, "name", "", "")
	fs.StringVar(&f.now, "now", "", "")
	fs.BoolVar(&f.strict, "strict", false, "")
}

// outputFlag registers -o and --output.
func outputFlag(fs *flag.FlagSet, def string) *string {
	o := new(string)
	fs.StringVar(o, "o", def, "")
	fs.StringVar(o, "output", def, "")
	return o
}

// setDaemonSetArg takes command's optional DAEMONSET argument, the
// positional arguments pos: none, or one (see setDaemonSet).
func (f *inputFlags) setDaemonSetArg(command string, pos []string) error {
	switch len(pos) {
	case 0:
		return nil
	case 1:
		return f.setDaemonSet(pos[0])
	}
	return fmt.Errorf("%s takes at most one DaemonSet, got %q", command, pos)
}

// setDaemonSet takes a DAEMONSET argument (NAME, NAMESPACE/NAME, ds/NAME).
func (f *inputFlags) setDaemonSet(arg string) error {
	ref := arg
	for _, prefix := range []string{"ds/", "daemonset/", "daemonsets/", "daemonset.apps/", "daemonsets.apps/"} {
		if strings.HasPrefix(strings.ToLower(ref), prefix) {
			ref = ref[len(prefix):]
			break
		}
	}
	if ref == "" || strings.Count(ref, "/") > 1 {
		return fmt.Errorf("%q is not a DaemonSet: want NAME, NAMESPACE/NAME or ds/NAME", arg)
	}
	if f.name != "" {
		return fmt.Errorf("DaemonSet given twice: %q and --name %q", arg, f.name)
	}
	f.name = ref
	return nil
}

// isDaemonSetRef reports whether arg names a DaemonSet kubectl's way
// (ds/NAME) rather than a node.
func isDaemonSetRef(arg string) bool { return strings.Contains(arg, "/") }

// selector returns the namespace and name to select DaemonSets by.
func (f *inputFlags) selector() (namespace, name string, err error) {
	namespace, name = f.namespace, f.name
	if ns, n, ok := strings.Cut(namespace, "/"); ok {
		namespace, name = ns, n
		if f.name != "" && f.name != n {
			return "", "", fmt.Errorf("-n %s and --name %s disagree", f.namespace, f.name)
		}
	}
	if ns, n, ok := strings.Cut(f.name, "/"); ok {
		if namespace != "" && namespace != ns {
			return "", "", fmt.Errorf("-n %s and --name %s disagree", f.namespace, f.name)
		}
		namespace, name = ns, n
	}
	return namespace, name, nil
}

// clock returns --now, or the current time.
func (f *inputFlags) clock(def time.Time) (time.Time, error) {
	if f.now == "" {
		return def, nil
	}
	for _, layout := range []string{time.RFC3339Nano, "2006-01-02T15:04:05", "2006-01-02"} {
		if t, err := time.Parse(layout, f.now); err == nil {
			return t, nil
		}
	}
	return time.Time{}, fmt.Errorf("--now %q: want an RFC 3339 time such as 2026-01-02T15:04:05Z, or a date such as 2026-01-02", f.now)
}

// load reads, decodes, checks and selects the dump.
func (c *cli) load(f *inputFlags) (report.Input, error) {
	files := f.files
	if len(files) == 0 {
		files = []string{"-"}
	}
	var all snapshot.Objects
	for _, name := range files {
		data, err := c.read(name)
		if err != nil {
			return report.Input{}, err
		}
		where := name + ": "
		if name == "-" {
			where = ""
		}
		if len(bytes.TrimSpace(data)) == 0 {
			return report.Input{}, fmt.Errorf("%sempty input: want a kubectl get -o yaml or -o json dump with DaemonSets, nodes, pods and controllerrevisions", where)
		}
		objs, err := snapshot.DecodeAll(data)
		if err != nil {
			return report.Input{}, errors.New(where + friendly(err))
		}
		all.DaemonSets = append(all.DaemonSets, objs.DaemonSets...)
		all.Nodes = append(all.Nodes, objs.Nodes...)
		all.Pods = append(all.Pods, objs.Pods...)
		all.Revisions = append(all.Revisions, objs.Revisions...)
		for _, w := range objs.Warnings {
			all.Warnings = append(all.Warnings, where+w)
		}
	}
	if len(all.Warnings) > 0 {
		if f.strict {
			return report.Input{}, fmt.Errorf("objects of kinds whatif does not read (--strict):\n%s", strings.Join(all.Warnings, "\n"))
		}
		c.warnSkipped(all.Warnings)
	}
	in, err := report.FromObjects(all)
	if err != nil {
		const most = 10
		lines := strings.Split(friendly(err), "\n")
		if len(lines) > most {
			lines = append(lines[:most], fmt.Sprintf("and %d more", len(lines)-most))
		}
		return report.Input{}, fmt.Errorf("the dump is not one cluster's objects:\n%s", strings.Join(lines, "\n"))
	}
	if len(in.DaemonSets) == 0 {
		return report.Input{}, errors.New("no apps/v1 DaemonSet in the input: dump one with kubectl get daemonset/NAME nodes pods controllerrevisions -o yaml")
	}
	ns, name, err := f.selector()
	if err != nil {
		return report.Input{}, err
	}
	if in, err = report.Select(in, ns, name); err != nil {
		return report.Input{}, err
	}
	c.warnIncomplete(in)
	return in, nil
}

// warnIncomplete warns about a dump that lacks the nodes, pods or
// revisions a DaemonSet's status says exist: the plan would act on their
// absence (create a history, count no pods).
func (c *cli) warnIncomplete(in report.Input) {
	if len(in.Nodes) == 0 {
		fmt.Fprintln(c.stderr, "whatif: warning: the dump has no nodes, so no DaemonSet runs anywhere; add nodes to the kubectl get")
	}
	pods, revs := map[string]bool{}, map[string]bool{}
	for _, p := range in.Pods {
		pods[p.Namespace] = true
	}
	for _, r := range in.Revisions {
		revs[r.Namespace] = true
	}
	for _, ds := range in.DaemonSets {
		if n := ds.Status.CurrentNumberScheduled + ds.Status.NumberMisscheduled; n > 0 && !pods[ds.Namespace] {
			fmt.Fprintf(c.stderr, "whatif: warning: the dump has no pods in namespace %s, though DaemonSet %s's status counts %d; add pods to the kubectl get\n", ds.Namespace, report.Key(ds), n)
		}
		if ds.Status.ObservedGeneration > 0 && !revs[ds.Namespace] {
			fmt.Fprintf(c.stderr, "whatif: warning: the dump has no ControllerRevisions in namespace %s, though DaemonSet %s has been synced; add controllerrevisions to the kubectl get\n", ds.Namespace, report.Key(ds))
		}
	}
}

// warnSkipped prints the skipped objects, at most five of them.
func (c *cli) warnSkipped(ws []string) {
	const most = 5
	for i, w := range ws {
		if i == most {
			fmt.Fprintf(c.stderr, "whatif: warning: %d more objects skipped (--strict makes them an error)\n", len(ws)-most)
			return
		}
		fmt.Fprintln(c.stderr, "whatif: warning: "+w)
	}
}

// read reads a file, or standard input for "-".
func (c *cli) read(name string) ([]byte, error) {
	if name != "-" {
		data, err := os.ReadFile(name)
		if errors.Is(err, os.ErrNotExist) {
			return nil, fmt.Errorf("%s: no such file", name)
		}
		return data, err
	}
	if c.stdin == nil {
		return nil, errors.New("no input: pass -f FILE, or pipe a dump (kubectl get daemonsets,nodes,pods,controllerrevisions -A -o yaml | whatif)")
	}
	return io.ReadAll(c.stdin)
}

// plan is the plan command.
func (c *cli) plan(args []string) int {
	fs := flag.NewFlagSet("whatif plan", flag.ContinueOnError)
	var f inputFlags
	f.register(fs)
	output := outputFlag(fs, "table")
	pos, done, err := c.parse(fs, planUsage, args)
	if done {
		return exitOK
	}
	if err != nil {
		return c.fail(err)
	}
	if err := f.setDaemonSetArg("plan", pos); err != nil {
		return c.fail(err)
	}
	switch *output {
	case "table", "wide", "json", "yaml", "html", "upstream-json":
	default:
		return c.fail(fmt.Errorf("-o %q: the formats are table, wide, json, yaml, html and upstream-json", *output))
	}
	def := time.Now()
	if *output == "upstream-json" {
		def = oracleNow
	}
	now, err := f.clock(def)
	if err != nil {
		return c.fail(err)
	}
	in, err := c.load(&f)
	if err != nil {
		return c.fail(err)
	}
	if *output == "upstream-json" {
		return c.upstream(in, now)
	}
	sections := report.Plan(in, now)
	if *output != "table" && *output != "wide" {
		// The document holds the problems; standard error says so too,
		// as standard output is probably a file.
		for i := range sections {
			c.reportProblems(&sections[i])
		}
	}
	var werr error
	switch *output {
	case "table", "wide":
		werr = report.Table(c.stdout, sections, *output == "wide")
	case "json":
		werr = report.WriteJSON(c.stdout, report.Document(sections))
	case "yaml":
		werr = report.WriteYAML(c.stdout, report.Document(sections))
	case "html":
		werr = report.HTML(c.stdout, sections)
	}
	if werr != nil {
		return c.fail(werr)
	}
	return report.ExitCode(sections)
}

// reportProblems prints an invalid DaemonSet's errors and a failed sync on
// standard error.
func (c *cli) reportProblems(s *report.Section) {
	if !s.Planned() {
		fmt.Fprintf(c.stderr, "whatif: DaemonSet %s is invalid, not planned:\n", report.Key(s.DaemonSet))
		for _, e := range s.Invalid {
			fmt.Fprintln(c.stderr, "  "+e.Error())
		}
	} else if s.Plan.Err != nil {
		fmt.Fprintf(c.stderr, "whatif: DaemonSet %s: the sync fails: %v\n", report.Key(s.DaemonSet), s.Plan.Err)
	}
}

// oracleNow is the clock of the parity tests' recordings, upstream-json's
// default.
var oracleNow = time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC)

// upstream plans the one DaemonSet of in as kube-controller-manager does
// and prints upstream-json.
func (c *cli) upstream(in report.Input, now time.Time) int {
	if len(in.DaemonSets) != 1 {
		var names []string
		for _, ds := range in.DaemonSets {
			names = append(names, report.Key(ds))
		}
		return c.fail(fmt.Errorf("-o upstream-json plans one DaemonSet, the dump has %d (%s): select one with --name NAMESPACE/NAME",
			len(in.DaemonSets), strings.Join(names, ", ")))
	}
	ds, _ := plan.Default(in.DaemonSets[0])
	if errs := placement.Validate(ds); len(errs) > 0 {
		fmt.Fprintf(c.stderr, "whatif: warning: DaemonSet %s is invalid; planned anyway, as kube-controller-manager does not validate:\n", report.Key(ds))
		for _, e := range errs {
			fmt.Fprintln(c.stderr, "  "+e.Error())
		}
	}
	p := plan.New(plan.Snapshot{DaemonSet: ds, Nodes: in.Nodes, Pods: in.Pods, Revisions: in.Revisions, Now: now}, plan.Options{})
	if err := writeJSON(c.stdout, ds, p); err != nil {
		return c.fail(err)
	}
	return exitOK
}

// explain is the explain command.
func (c *cli) explain(args []string) int {
	fs := flag.NewFlagSet("whatif explain", flag.ContinueOnError)
	var f inputFlags
	f.register(fs)
	output := outputFlag(fs, "text")
	pos, done, err := c.parse(fs, explainUsage, args)
	if done {
		return exitOK
	}
	if err != nil {
		return c.fail(err)
	}
	node := ""
	for _, a := range pos {
		switch {
		case isDaemonSetRef(a) && node == "":
			if err := f.setDaemonSet(a); err != nil {
				return c.fail(err)
			}
		case node == "":
			node = a
		default:
			return c.fail(fmt.Errorf("explain takes a DaemonSet and a node, got %q", pos))
		}
	}
	switch *output {
	case "text", "json", "yaml":
	default:
		return c.fail(fmt.Errorf("-o %q: explain's formats are text, json and yaml", *output))
	}
	now, err := f.clock(time.Now())
	if err != nil {
		return c.fail(err)
	}
	in, err := c.load(&f)
	if err != nil {
		return c.fail(err)
	}
	sections := report.Plan(in, now)
	if node != "" && !hasNode(in, node) {
		return c.fail(fmt.Errorf("node %q is in no DaemonSet's plan: %s", node, nodeNames(in)))
	}
	code := exitOK
	var docs []report.NodeDoc
	for i := range sections {
		s := &sections[i]
		if s.Failed() {
			code = exitError
		}
		if *output != "text" {
			c.reportProblems(s)
			docs = append(docs, s.NodeDocs(node)...)
			continue
		}
		if i > 0 {
			fmt.Fprintln(c.stdout)
		}
		if err := s.Explain(c.stdout, node); err != nil {
			return c.fail(err)
		}
	}
	var werr error
	switch *output {
	case "json":
		werr = report.WriteJSON(c.stdout, report.NodeDocument(docs))
	case "yaml":
		werr = report.WriteYAML(c.stdout, report.NodeDocument(docs))
	}
	if werr != nil {
		return c.fail(werr)
	}
	return code
}

// hasNode reports whether a node named name exists or pods target it.
func hasNode(in report.Input, name string) bool {
	for _, n := range in.Nodes {
		if n.Name == name {
			return true
		}
	}
	for _, p := range in.Pods {
		if p.Spec.NodeName == name {
			return true
		}
	}
	return false
}

// nodeNames lists the dump's nodes for an error message.
func nodeNames(in report.Input) string {
	const most = 10
	var names []string
	for i, n := range in.Nodes {
		if i == most {
			names = append(names, fmt.Sprintf("and %d more", len(in.Nodes)-most))
			break
		}
		names = append(names, n.Name)
	}
	if len(names) == 0 {
		return "the dump has no nodes"
	}
	return "the dump's nodes are " + strings.Join(names, ", ")
}

// rollout is the rollout command: rollout status and rollout history.
func (c *cli) rollout(args []string) int {
	if len(args) > 0 && (args[0] == "-h" || args[0] == "--help" || args[0] == "-help") {
		fmt.Fprint(c.stdout, rolloutUsage)
		return exitOK
	}
	if len(args) == 0 || (args[0] != "status" && args[0] != "history") {
		return c.fail(errors.New("rollout takes status or history: whatif rollout status|history -f FILE"))
	}
	sub, args := args[0], args[1:]
	fs := flag.NewFlagSet("whatif rollout "+sub, flag.ContinueOnError)
	var f inputFlags
	f.register(fs)
	var number int64
	usage := rolloutStatusUsage
	if sub == "history" {
		usage = rolloutHistoryUsage
		fs.Int64Var(&number, "revision", 0, "")
	}
	pos, done, err := c.parse(fs, usage, args)
	if done {
		return exitOK
	}
	if err != nil {
		return c.fail(err)
	}
	if err := f.setDaemonSetArg("rollout "+sub, pos); err != nil {
		return c.fail(err)
	}
	now, err := f.clock(time.Now())
	if err != nil {
		return c.fail(err)
	}
	in, err := c.load(&f)
	if err != nil {
		return c.fail(err)
	}
	if sub == "history" {
		return c.history(in, number)
	}
	return c.status(report.Plan(in, now))
}

// status prints kubectl rollout status for each section.
func (c *cli) status(sections []report.Section) int {
	code := exitOK
	for i := range sections {
		s := &sections[i]
		st, err := status.Rollout(s.DaemonSet)
		if err != nil {
			fmt.Fprintf(c.stderr, "error: daemonset %s: %v\n", report.Key(s.DaemonSet), err)
			code = exitError
			continue
		}
		fmt.Fprint(c.stdout, st.Message)
		if !st.Done && code == exitOK {
			code = exitChanges
		}
		if !s.Planned() || !s.Plan.StatusChanged {
			continue
		}
		after := s.DaemonSet.DeepCopy()
		after.Status = s.Plan.Status
		if next, err := status.Rollout(after); err == nil && next.Message != st.Message {
			fmt.Fprint(c.stdout, "after this sync: "+next.Message)
		}
	}
	return code
}

// history prints kubectl rollout history for each DaemonSet of in.
func (c *cli) history(in report.Input, number int64) int {
	for _, raw := range in.DaemonSets {
		ds, _ := plan.Default(raw)
		if number != 0 {
			tmpl, err := revision.TemplateAt(ds, in.Revisions, number)
			if err != nil {
				return c.fail(fmt.Errorf("daemonset %s: %v", report.Key(ds), err))
			}
			y, err := yaml.Marshal(tmpl)
			if err != nil {
				return c.fail(err)
			}
			fmt.Fprintf(c.stdout, "daemonset.apps/%s with revision #%d\nPod Template:\n%s\n", ds.Name, number, indent(string(y), "  "))
			continue
		}
		entries, err := revision.RolloutHistory(ds, in.Revisions)
		if err != nil {
			return c.fail(fmt.Errorf("daemonset %s: %v", report.Key(ds), err))
		}
		// kubectl prints the name with its operation (" " and the history).
		fmt.Fprintf(c.stdout, "daemonset.apps/%s \n%s\n", ds.Name, revision.FormatHistory(entries))
	}
	return exitOK
}

func indent(s, pad string) string {
	lines := strings.Split(strings.TrimRight(s, "\n"), "\n")
	for i, l := range lines {
		lines[i] = pad + l
	}
	return strings.Join(lines, "\n") + "\n"
}
