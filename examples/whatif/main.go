// Command whatif answers an operator's questions about a DaemonSet from a
// dump of the cluster: what kube-controller-manager's DaemonSet controller
// (v1.37.2) would do in its next sync, and why each node has, keeps, gets
// or lacks a daemon pod.
//
//	kubectl get daemonsets,nodes,pods,controllerrevisions -A -o yaml > cluster.yaml
//	go run ./examples/whatif -f cluster.yaml
//
// # Commands
//
//	whatif [plan] [DAEMONSET] -f FILE [-o table|wide|json|yaml|html|upstream-json]
//	whatif explain [DAEMONSET] [NODE] -f FILE [-o text|json|yaml]
//	whatif rollout status [DAEMONSET] -f FILE
//	whatif rollout history [DAEMONSET] -f FILE [--revision N]
//	whatif help [COMMAND]
//
// plan (the default command) prints what the next sync does, node by node.
// explain prints one node's report: its labels and taints, the placement
// rule that decides it, its pods, and what the sync does there or why it
// waits; without NODE, every node's. rollout status and rollout history
// print what `kubectl rollout status --watch=false` and `kubectl rollout
// history [--revision N]` print for the DaemonSet in the dump, in kubectl's
// words (history --revision shows the pod template as YAML where kubectl
// describes it); rollout status adds an "after this sync:" line when the
// sync changes the verdict.
//
// DAEMONSET is NAME, NAMESPACE/NAME or kubectl's ds/NAME, daemonset/NAME;
// without it every DaemonSet of the dump is planned, one section each, in
// input order.
//
// # Flags
//
// Every command takes:
//
//	-f, --filename FILE   the dump; - (the default) is standard input; repeat
//	                      -f to read several files as one dump
//	-n, --namespace NS    only the DaemonSets of namespace NS (NS/NAME also
//	                      selects the DaemonSet NAME)
//	--name NAME           only the DaemonSet NAME (or NAMESPACE/NAME)
//	--now TIME            judge pod availability (minReadySeconds) and ages
//	                      at TIME, RFC 3339 or a date (2026-01-02); default
//	                      the current time
//	--strict              objects of kinds whatif does not read are an
//	                      error, not a warning
//
// plan and explain take -o, --output; rollout history takes --revision.
// Flags and arguments may come in any order; -h or --help prints the
// command's usage.
//
// # Input
//
// The dump is what `kubectl get ... -o yaml` or `-o json` prints: a v1
// List, several YAML documents or JSON objects, or typed lists, with any
// number of apps/v1 DaemonSets and the v1 Nodes, v1 Pods and apps/v1
// ControllerRevisions they are planned over (pods and revisions of other
// namespaces are ignored). Objects of other kinds are skipped with a
// warning (an error with --strict). Objects without metadata.name and
// objects listed twice are errors. Each DaemonSet gets the API server's
// defaults first, so a hand-written manifest plans as it would in a
// cluster, and is then checked as the API server would check it
// (placement.Validate): an invalid DaemonSet is reported with the field
// path of each problem and not planned. The data of ControllerRevisions is
// compacted as the API server stores it (`kubectl get -o json` indents it).
// The rollout.dsplan.io/ annotations of a DaemonSet apply (see package
// rollout), as in the example controller.
//
// # Output formats of plan
//
//   - table (the default): a section per DaemonSet: a heading, one line per
//     node with its STATE (UpToDate, Old, Unavailable, Missing, ToCreate,
//     ToDelete, Ineligible, Misscheduled, Gone; see plan.NodeState), the
//     ACTION of this sync there (delete pod/NAME, create pod, wait, -) and
//     the REASON naming the rule, label, taint, pod or budget behind it;
//     the `kubectl get ds` row of the status after this sync with a
//     MISSCHEDULED column; writes that are not about one node (revisions,
//     relabels, claims, status); a summary line, "Nothing to do: this sync
//     writes nothing." when it writes nothing; warnings; the sync's error.
//   - wide: table with PODS, REVISION, READY, AVAILABLE and FIELD (the rule
//     that excludes the node, as a field path) columns.
//   - json and yaml: the schema below, one Plan object for one DaemonSet, a
//     PlanList with items for several.
//   - html: one self-contained page (no script needed, nothing fetched): a
//     grid of every node coloured by state with its reason on hover, the
//     status row, the actions, and a table with the same information.
//   - upstream-json: kube-controller-manager's actions in the schema of the
//     parity tests (see below).
//
// # The json and yaml schema (whatif.dsplan.io/v1alpha1)
//
//	apiVersion: whatif.dsplan.io/v1alpha1
//	kind: Plan
//	daemonSet: {namespace, name}
//	now: RFC 3339 time the plan was made at
//	invalid: [{field, type, value, detail}]   # only for an invalid DaemonSet
//	error: the sync's error                   # omitted when none
//	hash: current revision hash; revision: its number (0 when unknown)
//	writes: true when the sync writes anything
//	creates: [{node, reason, message}]
//	deletes: [{pod, node, reason, message}]
//	podPatches: [{pod, labels}]
//	claims: [{kind, name, type (adopt|release), patch}]
//	revisions: {create: [{name, revision}], update: [{name, revision}], delete: [name]}
//	status: the DaemonSet status after this sync (apps/v1 DaemonSetStatus)
//	statusWritten: whether the sync writes it
//	requeueAfter: when the controller syncs again, e.g. "10s"; omitted for never
//	warnings: [{field, message}]
//	nodes: [{name, exists, state, action, message,
//	         placement: {reason, verdict, shouldRun, shouldContinueRunning, field, detail},
//	         pods: [{name, revision, updated, ready, available, deleting, phase}],
//	         create, deletes: [{pod, node, reason, message}],
//	         wait: {reason, detail, pod}}]
//
// Lists are never null. reason fields hold the typed constants of packages
// placement and rollout; message fields hold the words of the table's REASON
// column. explain -o json|yaml prints kind NodeReport: {apiVersion, kind,
// daemonSet, now, hash, node (as in nodes above), labels, taints}, a
// NodeReportList for several.
//
// # upstream-json
//
// -o upstream-json prints the schema of the parity tests' recordings of
// kube-controller-manager (its own controller package run on the same
// snapshot), fields and order included: hash, creates (node and pod
// template), deletes (pod names), podPatches, status, revisions,
// statusUpdated, error, claims. It is what -o json printed before whatif
// had a schema of its own, byte for byte. It plans as
// kube-controller-manager does: one DaemonSet (select it when the dump has
// several), no rollout.dsplan.io/ annotations, and an invalid DaemonSet is
// planned anyway (the controller does not validate), its problems printed
// on standard error. Unless --now is given it judges availability at the
// recordings' clock, 2026-01-01T00:00:00Z.
//
// # Exit status
//
//	0  nothing to do: no DaemonSet's sync writes anything (plan); the
//	   rollout is done (rollout status); explain and rollout history
//	   succeeded
//	1  an error: unreadable input, a bad flag, an unknown node, an invalid
//	   DaemonSet, a sync that fails
//	2  actions planned: a sync writes something (plan); the rollout is in
//	   progress (rollout status)
//
// -o upstream-json exits 0 whenever it prints a plan (the sync's error is
// its error field).
package main

import (
	"errors"
	"flag"
	"fmt"
	"io"
	"os"
	"strings"
)

func main() {
	var stdin io.Reader = os.Stdin
	if fi, err := os.Stdin.Stat(); err == nil && fi.Mode()&os.ModeCharDevice != 0 {
		stdin = nil // a terminal: there is no dump to read there
	}
	os.Exit(run(os.Args[1:], stdin, os.Stdout, os.Stderr))
}

// Exit statuses.
const (
	exitOK      = 0
	exitError   = 1
	exitChanges = 2
)

// command is one subcommand.
type command struct {
	usage string
	run   func(c *cli, args []string) int
}

// commands are whatif's subcommands; plan is the default. A new command
// (forecast, say) is one more entry, with its usage in help.
var commands = map[string]command{
	"plan":     {usage: planUsage, run: (*cli).plan},
	"explain":  {usage: explainUsage, run: (*cli).explain},
	"rollout":  {usage: rolloutUsage, run: (*cli).rollout},
	"forecast": {usage: forecastUsage, run: (*cli).forecast},
}

// cli is one run of the command.
type cli struct {
	stdin          io.Reader // nil: standard input is a terminal
	stdout, stderr io.Writer
}

// run runs whatif with args and returns the exit status.
func run(args []string, stdin io.Reader, stdout, stderr io.Writer) int {
	c := &cli{stdin: stdin, stdout: stdout, stderr: stderr}
	name := "plan"
	if len(args) > 0 && (args[0] == "-h" || args[0] == "-help" || args[0] == "--help") {
		return c.help(nil)
	}
	if len(args) > 0 && !strings.HasPrefix(args[0], "-") {
		name, args = args[0], args[1:]
	}
	if name == "help" {
		return c.help(args)
	}
	cmd, ok := commands[name]
	if !ok {
		hint := ""
		if _, err := os.Stat(name); err == nil {
			hint = fmt.Sprintf(" (to read the file, pass -f %s)", name)
		}
		return c.fail(fmt.Errorf("unknown command %q%s; the commands are plan, explain, rollout status, rollout history, forecast (whatif -h)", name, hint))
	}
	return cmd.run(c, args)
}

func (c *cli) help(args []string) int {
	if len(args) == 0 {
		fmt.Fprint(c.stdout, mainUsage)
		return exitOK
	}
	name := strings.Join(args, " ")
	if usage, ok := subUsages[name]; ok {
		fmt.Fprint(c.stdout, usage)
		return exitOK
	}
	if cmd, ok := commands[name]; ok {
		fmt.Fprint(c.stdout, cmd.usage)
		return exitOK
	}
	return c.fail(fmt.Errorf("no help for %q: the commands are plan, explain, rollout status, rollout history, forecast", name))
}

// subUsages are the usages of the rollout subcommands.
var subUsages = map[string]string{
	"rollout status":  rolloutStatusUsage,
	"rollout history": rolloutHistoryUsage,
}

// fail prints err and returns exitError.
func (c *cli) fail(err error) int {
	fmt.Fprintln(c.stderr, "whatif: "+strings.ReplaceAll(err.Error(), "\n", "\n  "))
	return exitError
}

// parse parses args with fs, flags and arguments in any order, and returns
// the arguments. -h prints usage on standard output: done is then true and
// the caller exits 0.
func (c *cli) parse(fs *flag.FlagSet, usage string, args []string) (positional []string, done bool, err error) {
	fs.SetOutput(io.Discard)
	for {
		if err := fs.Parse(args); err != nil {
			if errors.Is(err, flag.ErrHelp) {
				fmt.Fprint(c.stdout, usage)
				return nil, true, nil
			}
			return nil, false, fmt.Errorf("%v (%s -h for help)", err, strings.TrimSpace(strings.SplitN(strings.TrimPrefix(usage, "Usage:\n"), "\n", 2)[0]))
		}
		rest := fs.Args()
		if len(rest) == 0 {
			return positional, false, nil
		}
		// A "--" ends flag parsing: everything after it is an argument.
		if len(args) > len(rest) && args[len(args)-len(rest)-1] == "--" {
			return append(positional, rest...), false, nil
		}
		positional = append(positional, rest[0])
		args = rest[1:]
	}
}
