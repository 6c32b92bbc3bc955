// Command kubectl-dsplan is a kubectl plugin that asks dsplan about a
// DaemonSet of the live cluster: what kube-controller-manager's DaemonSet
// controller (v1.37.2) would do in its next sync, and why a node has,
// keeps, gets or lacks a daemon pod.
//
//	go build -o kubectl-dsplan ./cmd/kubectl-dsplan   # from examples/controller
//	mv kubectl-dsplan ~/bin/                            # anywhere on PATH
//
//	kubectl dsplan whatif ds/NAME [-o table|wide|json|yaml|html]
//	kubectl dsplan explain ds/NAME [NODE] [-o text|json|yaml]
//	kubectl dsplan forecast ds/NAME [-o text|svg]
//
// whatif plans the DaemonSet's next sync from the cluster as it is now:
// the DaemonSet, every node, the pods and ControllerRevisions of its
// namespace (and, for a DaemonSet in a rollout.dsplan.io/group, the other
// DaemonSets of the group and their pods), read with client-go. It prints
// what `go run ./examples/whatif` prints for a dump of the same objects
// (the output code is shared, package internal/report of the dsplan
// module): one line per node with its state, the action of the sync and
// the reason, the `kubectl get ds` row with MISSCHEDULED, and a summary.
// explain prints the report of NODE (every node without it): its labels
// and taints, the placement rule that decides it, its pods and what the
// sync does there or why it waits. forecast plays the DaemonSet's rollout
// forward from the live state (package plan/forecast; pods ready 30 s
// after they are created): the waves, the least duration, whether it
// completes or stalls and why, with warnings about the spec first; -o svg
// draws it.
//
// DaemonSets are named as kubectl names them: ds/NAME, daemonset/NAME,
// daemonsets.apps/NAME or NAME.
//
// Flags, as kubectl's:
//
//	--kubeconfig FILE     the kubeconfig (default: $KUBECONFIG, else ~/.kube/config)
//	--context NAME        the kubeconfig context
//	-n, --namespace NS    the DaemonSet's namespace (default: the context's)
//	-o, --output FORMAT   whatif: table (default), wide, json, yaml, html;
//	                      explain: text (default), json, yaml;
//	                      forecast: text (default), svg
//	--request-timeout D   the time allowed for reading the cluster (default 60s)
//
// Exit status: 0 nothing to do (whatif) or explained (explain), 1 an
// error (unreachable cluster, unknown DaemonSet or node, invalid DaemonSet,
// failing sync), 2 actions planned (whatif) or a rollout that stalls
// (forecast).
package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"os"
	"os/signal"
	"strings"
	"time"

	appsv1 "k8s.io/api/apps/v1"
	corev1 "k8s.io/api/core/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/client-go/kubernetes"
	"k8s.io/client-go/rest"
	"k8s.io/client-go/tools/clientcmd"

	"github.com/dsplan/dsplan/internal/report"
	"github.com/dsplan/dsplan/internal/snapshot"
	forecastpkg "github.com/dsplan/dsplan/plan/forecast"
	"github.com/dsplan/dsplan/rollout"
)

const usage = `kubectl dsplan: what the DaemonSet controller would do next, and why each
node has, keeps, gets or lacks a daemon pod, for a DaemonSet of the cluster.

Usage:
  kubectl dsplan whatif ds/NAME [-o table|wide|json|yaml|html] [flags]
  kubectl dsplan explain ds/NAME [NODE] [-o text|json|yaml] [flags]
  kubectl dsplan forecast ds/NAME [-o text|svg] [flags]

Flags:
      --kubeconfig FILE     kubeconfig file (default: $KUBECONFIG, else ~/.kube/config)
      --context NAME        kubeconfig context to use
  -n, --namespace NS        namespace of the DaemonSet (default: the context's)
  -o, --output FORMAT       output format (see above)
      --request-timeout D   time allowed to read the cluster (default 60s)

Exit status: 0 nothing to do (or explained), 1 error, 2 actions planned.
`

// Exit statuses.
const (
	exitOK      = 0
	exitError   = 1
	exitChanges = 2
)

func main() {
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt)
	defer stop()
	os.Exit(run(ctx, os.Args[1:], os.Stdout, os.Stderr, connect))
}

// connector returns a client and the namespace to use when -n is not
// given, from the kubeconfig flags.
type connector func(kubeconfig, context string) (kubernetes.Interface, string, error)

// connect loads the kubeconfig as kubectl does (see restConfig) and
// returns a client.
func connect(kubeconfig, kubeContext string) (kubernetes.Interface, string, error) {
	cfg, ns, err := restConfig(kubeconfig, kubeContext)
	if err != nil {
		return nil, "", err
	}
	client, err := kubernetes.NewForConfig(cfg)
	return client, ns, err
}

// restConfig loads the kubeconfig as kubectl does: --kubeconfig, else
// $KUBECONFIG (a list of files, merged), else ~/.kube/config; --context
// overrides the current context. It returns the client configuration and
// the context's namespace ("default" when it names none).
func restConfig(kubeconfig, kubeContext string) (*rest.Config, string, error) {
	rules := clientcmd.NewDefaultClientConfigLoadingRules()
	rules.ExplicitPath = kubeconfig
	cc := clientcmd.NewNonInteractiveDeferredLoadingClientConfig(rules, &clientcmd.ConfigOverrides{CurrentContext: kubeContext})
	cfg, err := cc.ClientConfig()
	if clientcmd.IsEmptyConfig(err) {
		return nil, "", errors.New("no kubeconfig: pass --kubeconfig, set KUBECONFIG, or write ~/.kube/config")
	}
	if err != nil {
		return nil, "", err
	}
	cfg.UserAgent = "kubectl-dsplan"
	cfg.QPS, cfg.Burst = 50, 100
	ns, _, err := cc.Namespace()
	if err != nil {
		return nil, "", err
	}
	return cfg, ns, nil
}

// options are the parsed command line.
type options struct {
	command    string
	name       string // the DaemonSet
	node       string // explain's NODE
	kubeconfig string
	context    string
	namespace  string
	output     string
	timeout    time.Duration
}

// run runs the plugin and returns the exit status.
func run(ctx context.Context, args []string, stdout, stderr io.Writer, connect connector) int {
	fail := func(err error) int {
		fmt.Fprintln(stderr, "error: "+err.Error())
		return exitError
	}
	o, help, err := parse(args)
	if help {
		fmt.Fprint(stdout, usage)
		return exitOK
	}
	if err != nil {
		fmt.Fprintf(stderr, "error: %v\nSee 'kubectl dsplan -h' for help.\n", err)
		return exitError
	}
	client, defaultNS, err := connect(o.kubeconfig, o.context)
	if err != nil {
		return fail(err)
	}
	if o.namespace == "" {
		o.namespace = defaultNS
	}
	if o.namespace == "" {
		o.namespace = metav1.NamespaceDefault
	}
	ctx, cancel := context.WithTimeout(ctx, o.timeout)
	defer cancel()
	in, err := load(ctx, client, o.namespace, o.name)
	if err != nil {
		return fail(err)
	}
	if o.command == "forecast" {
		return forecast(stdout, stderr, in, o)
	}
	sections := report.Plan(in, time.Now())
	s := &sections[0]
	if o.command == "explain" {
		return explain(stdout, stderr, s, o)
	}
	if o.output != "table" && o.output != "wide" {
		problems(stderr, s)
	}
	switch o.output {
	case "table", "wide":
		err = report.Table(stdout, sections, o.output == "wide")
	case "json":
		err = report.WriteJSON(stdout, report.Document(sections))
	case "yaml":
		err = report.WriteYAML(stdout, report.Document(sections))
	case "html":
		err = report.HTML(stdout, sections)
	}
	if err != nil {
		return fail(err)
	}
	return report.ExitCode(sections)
}

// explain prints the node's report, or every node's.
func explain(stdout, stderr io.Writer, s *report.Section, o options) int {
	if o.node != "" && s.Planned() {
		if _, ok := s.Node(o.node); !ok {
			fmt.Fprintf(stderr, "error: node %q is not in the plan of daemonset %s: no such node, and no pod of it targets one\n", o.node, report.Key(s.DaemonSet))
			return exitError
		}
	}
	var err error
	switch o.output {
	case "text":
		err = s.Explain(stdout, o.node)
	case "json":
		problems(stderr, s)
		err = report.WriteJSON(stdout, report.NodeDocument(s.NodeDocs(o.node)))
	case "yaml":
		problems(stderr, s)
		err = report.WriteYAML(stdout, report.NodeDocument(s.NodeDocs(o.node)))
	}
	if err != nil {
		fmt.Fprintln(stderr, "error: "+err.Error())
		return exitError
	}
	if s.Failed() {
		return exitError
	}
	return exitOK
}

// problems prints an invalid DaemonSet's errors or the sync's error.
func problems(w io.Writer, s *report.Section) {
	if !s.Planned() {
		fmt.Fprintf(w, "error: daemonset %s is invalid, not planned:\n", report.Key(s.DaemonSet))
		for _, e := range s.Invalid {
			fmt.Fprintln(w, "  "+e.Error())
		}
	} else if s.Plan.Err != nil {
		fmt.Fprintf(w, "error: daemonset %s: the sync fails: %v\n", report.Key(s.DaemonSet), s.Plan.Err)
	}
}

// parse reads the command line: a command, the DaemonSet, explain's node,
// and flags anywhere. help is true for -h, --help or no command.
func parse(args []string) (o options, help bool, err error) {
	fs := flag.NewFlagSet("kubectl dsplan", flag.ContinueOnError)
	fs.SetOutput(io.Discard)
	fs.StringVar(&o.kubeconfig, "kubeconfig", "", "")
	fs.StringVar(&o.context, "context", "", "")
	fs.StringVar(&o.namespace, "n", "", "")
	fs.StringVar(&o.namespace, "namespace", "", "")
	fs.StringVar(&o.output, "o", "", "")
	fs.StringVar(&o.output, "output", "", "")
	fs.DurationVar(&o.timeout, "request-timeout", 60*time.Second, "")
	var pos []string
	for {
		if err := fs.Parse(args); err != nil {
			if errors.Is(err, flag.ErrHelp) {
				return o, true, nil
			}
			return o, false, err
		}
		rest := fs.Args()
		if len(rest) == 0 {
			break
		}
		if len(args) > len(rest) && args[len(args)-len(rest)-1] == "--" {
			pos = append(pos, rest...)
			break
		}
		pos, args = append(pos, rest[0]), rest[1:]
	}
	if len(pos) == 0 || pos[0] == "help" {
		return o, true, nil
	}
	o.command, pos = pos[0], pos[1:]
	formats := map[string][]string{
		"whatif":   {"table", "wide", "json", "yaml", "html"},
		"explain":  {"text", "json", "yaml"},
		"forecast": {"text", "svg"},
	}
	allowed, ok := formats[o.command]
	if !ok {
		return o, false, fmt.Errorf("unknown command %q: the commands are whatif, explain and forecast", o.command)
	}
	if len(pos) == 0 {
		return o, false, fmt.Errorf("%s needs a DaemonSet: kubectl dsplan %s ds/NAME", o.command, o.command)
	}
	if o.name, err = daemonSetName(pos[0]); err != nil {
		return o, false, err
	}
	maxArgs := 1
	if o.command == "explain" {
		maxArgs = 2
	}
	if len(pos) > maxArgs {
		return o, false, fmt.Errorf("too many arguments for %s: %q", o.command, pos)
	}
	if len(pos) == 2 {
		o.node = pos[1]
	}
	if o.output == "" {
		o.output = allowed[0]
	}
	found := false
	for _, f := range allowed {
		found = found || f == o.output
	}
	if !found {
		return o, false, fmt.Errorf("-o %q: %s's formats are %s", o.output, o.command, strings.Join(allowed, ", "))
	}
	return o, false, nil
}

// daemonSetName takes kubectl's forms: ds/NAME, daemonset/NAME,
// daemonsets/NAME, daemonset.apps/NAME, daemonsets.apps/NAME or NAME.
func daemonSetName(arg string) (string, error) {
	kind, name, ok := strings.Cut(arg, "/")
	if !ok {
		return arg, nil
	}
	switch strings.ToLower(kind) {
	case "ds", "daemonset", "daemonsets", "daemonset.apps", "daemonsets.apps":
	default:
		return "", fmt.Errorf("%q is not a DaemonSet: want ds/NAME", arg)
	}
	if name == "" || strings.Contains(name, "/") {
		return "", fmt.Errorf("%q is not a DaemonSet: want ds/NAME", arg)
	}
	return name, nil
}

// load reads what one sync of the DaemonSet reads: the DaemonSet, all
// nodes, the pods and ControllerRevisions of its namespace, and for a
// DaemonSet in a rollout group the group's other DaemonSets with their
// pods.
func load(ctx context.Context, client kubernetes.Interface, namespace, name string) (report.Input, error) {
	ds, err := client.AppsV1().DaemonSets(namespace).Get(ctx, name, metav1.GetOptions{})
	if apierrors.IsNotFound(err) {
		return report.Input{}, fmt.Errorf("daemonsets.apps %q not found in namespace %q", name, namespace)
	}
	if err != nil {
		return report.Input{}, fmt.Errorf("reading daemonset %s/%s: %w", namespace, name, err)
	}
	var objs snapshot.Objects
	objs.DaemonSets = []*appsv1.DaemonSet{ds}
	if objs.Nodes, err = listAll(ctx, "nodes", func(opts metav1.ListOptions) ([]corev1.Node, string, error) {
		l, err := client.CoreV1().Nodes().List(ctx, opts)
		if err != nil {
			return nil, "", err
		}
		return l.Items, l.Continue, nil
	}); err != nil {
		return report.Input{}, err
	}
	pods := func(ns string) ([]*corev1.Pod, error) {
		return listAll(ctx, "pods in namespace "+ns, func(opts metav1.ListOptions) ([]corev1.Pod, string, error) {
			l, err := client.CoreV1().Pods(ns).List(ctx, opts)
			if err != nil {
				return nil, "", err
			}
			return l.Items, l.Continue, nil
		})
	}
	if objs.Pods, err = pods(namespace); err != nil {
		return report.Input{}, err
	}
	if objs.Revisions, err = listAll(ctx, "controllerrevisions in namespace "+namespace, func(opts metav1.ListOptions) ([]appsv1.ControllerRevision, string, error) {
		l, err := client.AppsV1().ControllerRevisions(namespace).List(ctx, opts)
		if err != nil {
			return nil, "", err
		}
		return l.Items, l.Continue, nil
	}); err != nil {
		return report.Input{}, err
	}
	var others []*appsv1.DaemonSet
	if group := ds.Annotations[rollout.AnnotationGroup]; group != "" {
		all, err := listAll(ctx, "daemonsets", func(opts metav1.ListOptions) ([]appsv1.DaemonSet, string, error) {
			l, err := client.AppsV1().DaemonSets(metav1.NamespaceAll).List(ctx, opts)
			if err != nil {
				return nil, "", err
			}
			return l.Items, l.Continue, nil
		})
		if err != nil {
			return report.Input{}, err
		}
		seen := map[string]bool{namespace: true}
		for _, other := range all {
			if other.UID == ds.UID || other.Annotations[rollout.AnnotationGroup] != group {
				continue
			}
			others = append(others, other)
			if !seen[other.Namespace] {
				seen[other.Namespace] = true
				p, err := pods(other.Namespace)
				if err != nil {
					return report.Input{}, err
				}
				objs.Pods = append(objs.Pods, p...)
			}
		}
	}
	objs.DaemonSets = append(objs.DaemonSets, others...)
	in, err := report.FromObjects(objs)
	if err != nil {
		return report.Input{}, err
	}
	in.DaemonSets, in.Others = in.DaemonSets[:1], in.DaemonSets[1:]
	return in, nil
}

// listAll pages through a list (500 at a time, as kubectl) and returns
// pointers to its items.
func listAll[T any](ctx context.Context, what string, list func(metav1.ListOptions) ([]T, string, error)) ([]*T, error) {
	var out []*T
	opts := metav1.ListOptions{Limit: 500}
	for {
		items, cont, err := list(opts)
		if err != nil {
			return nil, fmt.Errorf("listing %s: %w", what, err)
		}
		for i := range items {
			out = append(out, &items[i])
		}
		if cont == "" || ctx.Err() != nil {
			return out, ctx.Err()
		}
		opts.Continue = cont
	}
}

// forecast plays the DaemonSet's rollout forward from the live state (pods
// ready 30 s after they are created) and prints it: exit 0 when it
// completes, 2 when it stalls.
func forecast(stdout, stderr io.Writer, in report.Input, o options) int {
	sections := report.Forecast(in, time.Now(), forecastpkg.Model{ReadyAfter: 30 * time.Second})
	s := sections[0]
	if o.output == "svg" {
		if len(s.Invalid) > 0 {
			fmt.Fprintf(stderr, "error: DaemonSet %s is invalid: %v\n", report.Key(s.DaemonSet), s.Invalid.ToAggregate())
			return exitError
		}
		for _, l := range s.Lints {
			fmt.Fprintf(stderr, "warning: %s: %s\n", l.Field, l.Detail)
		}
		if err := s.Forecast.WriteSVG(stdout, report.Key(s.DaemonSet)); err != nil {
			fmt.Fprintln(stderr, "error: "+err.Error())
			return exitError
		}
		return report.ForecastExitCode(sections)
	}
	if err := report.ForecastText(stdout, sections); err != nil {
		fmt.Fprintln(stderr, "error: "+err.Error())
		return exitError
	}
	return report.ForecastExitCode(sections)
}
