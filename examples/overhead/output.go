package main

import (
	"fmt"
	"io"
	"slices"
	"strconv"
	"strings"
	"text/tabwriter"

	corev1 "k8s.io/api/core/v1"
	"k8s.io/apimachinery/pkg/api/resource"
	resourcehelper "k8s.io/component-helpers/resource"

	"github.com/dsplan/dsplan/placement"
	"github.com/dsplan/dsplan/placement/overhead"
)

// report is what write prints.
type report struct {
	set     *overhead.Set
	nodes   []*corev1.Node
	pods    []*corev1.Pod
	verbose bool
}

// columns are the resource columns of the tables: cpu and memory, then
// "other" for every other resource.
type columns struct {
	other []corev1.ResourceName
}

// write prints the report: a summary line, the DaemonSets (with -v), then
// one table per node or template, in input order.
func write(w io.Writer, r report) error {
	var templates []*corev1.Node
	for _, n := range r.nodes {
		if n.Name == "" {
			templates = append(templates, n)
		}
	}
	existing := len(r.nodes) - len(templates)
	fmt.Fprintf(w, "%d DaemonSets, %d nodes, %d node templates", r.set.Len(), existing, len(templates))
	if existing > 0 && len(r.pods) == 0 {
		fmt.Fprint(w, " (no pods in the input: an existing node lists every DaemonSet that should run there)")
	}
	fmt.Fprintln(w)
	if r.verbose {
		writeDaemonSets(w, r.set)
	}
	for _, warning := range r.set.Warnings() {
		fmt.Fprintln(w, "warning:", warning)
	}

	results := r.set.Templates(templates)
	t := 0
	for _, n := range r.nodes {
		fmt.Fprintln(w)
		if n.Name == "" {
			t++
			writeTemplate(w, r, t, n, results[t-1])
			continue
		}
		writeNode(w, r, n)
	}
	return nil
}

// writeDaemonSets lists the DaemonSets with what their pod requests and
// what is wrong with them.
func writeDaemonSets(w io.Writer, set *overhead.Set) {
	fmt.Fprintln(w)
	tw := tabwriter.NewWriter(w, 0, 8, 2, ' ', 0)
	fmt.Fprintln(tw, "DAEMONSET\tPOD REQUESTS\tHOST PORTS")
	for _, d := range set.DaemonSets() {
		fmt.Fprintf(tw, "%s\t%s\t%s\n", d, formatList(d.Requests), formatPorts(d.HostPorts))
	}
	tw.Flush()
	for _, d := range set.DaemonSets() {
		if d.Ignored != "" {
			fmt.Fprintf(w, "%s: ignored: %s\n", d, d.Ignored)
		}
		for _, warning := range d.Warnings {
			fmt.Fprintf(w, "%s: warning: %s\n", d, warning)
		}
		for _, e := range d.Invalid {
			fmt.Fprintf(w, "%s: invalid: %s\n", d, e)
		}
	}
}

// writeTemplate prints the DaemonSets that land on template number t.
func writeTemplate(w io.Writer, r report, t int, n *corev1.Node, res overhead.Result) {
	title := "template " + strconv.Itoa(t)
	var about []string
	if n.GenerateName != "" {
		about = append(about, "generateName "+n.GenerateName)
	}
	if it := n.Labels[corev1.LabelInstanceTypeStable]; it != "" {
		about = append(about, it)
	}
	if len(about) > 0 {
		title += " (" + strings.Join(about, ", ") + ")"
	}
	verb := "land"
	if res.Pods == 1 {
		verb = "lands"
	}
	fmt.Fprintf(w, "%s: %s %s\n", title, count(res.Pods, "DaemonSet"), verb)
	cols := resourceColumns(r.set)
	tw := tabwriter.NewWriter(w, 0, 8, 2, ' ', 0)
	cols.header(tw)
	for _, e := range res.Entries() {
		if e.Outcome == overhead.Lands {
			cols.row(tw, e.DaemonSet.String(), "lands", "1", e.DaemonSet.Requests, formatPorts(e.DaemonSet.HostPorts))
		}
	}
	cols.row(tw, "total", "", strconv.Itoa(res.Pods), res.Requests, formatPorts(res.HostPorts))
	writeCapacity(tw, cols, n, []corev1.ResourceList{res.Requests}, res.Pods, "left")
	tw.Flush()
	if r.verbose {
		writeNotLanding(w, res)
	}
}

// writeNode prints the DaemonSets that should run on an existing node,
// running or missing.
func writeNode(w io.Writer, r report, n *corev1.Node) {
	title := "node " + n.Name
	if it := n.Labels[corev1.LabelInstanceTypeStable]; it != "" {
		title += " (" + it + ")"
	}
	all := r.set.Node(n)
	var missing overhead.Result
	var matchErr error
	if len(r.pods) > 0 {
		missing, matchErr = r.set.Missing(n, r.pods)
	}
	known := len(r.pods) > 0 && matchErr == nil
	if known {
		fmt.Fprintf(w, "%s: %s should run, %s missing\n", title, count(all.Pods, "DaemonSet"), count(missing.Pods, "pod"))
	} else {
		fmt.Fprintf(w, "%s: %s should run\n", title, count(all.Pods, "DaemonSet"))
	}
	if matchErr != nil {
		fmt.Fprintf(w, "  (pods not matched to DaemonSets: %v)\n", matchErr)
	}
	cols := resourceColumns(r.set)
	tw := tabwriter.NewWriter(w, 0, 8, 2, ' ', 0)
	cols.header(tw)
	for i, e := range all.Entries() {
		if e.Outcome != overhead.Lands {
			continue
		}
		status := "runs"
		if known {
			status = "present"
			if missing.Entry(i).Outcome == overhead.Lands {
				status = "missing"
			}
		}
		cols.row(tw, e.DaemonSet.String(), status, "1", e.DaemonSet.Requests, formatPorts(e.DaemonSet.HostPorts))
	}
	cols.row(tw, "total", "", strconv.Itoa(all.Pods), all.Requests, formatPorts(all.HostPorts))
	if !known {
		writeCapacity(tw, cols, n, []corev1.ResourceList{all.Requests}, all.Pods, "left")
		tw.Flush()
		if r.verbose {
			writeNotLanding(w, all)
		}
		return
	}
	cols.row(tw, "missing", "", strconv.Itoa(missing.Pods), missing.Requests, formatPorts(missing.HostPorts))
	onNode, podsOnNode := podRequests(n, r.pods)
	cols.row(tw, "pods on the node", "", strconv.Itoa(podsOnNode), onNode, "")
	writeCapacity(tw, cols, n, []corev1.ResourceList{onNode, missing.Requests}, podsOnNode+missing.Pods, "left after missing")
	tw.Flush()
	if r.verbose {
		writeNotLanding(w, all)
	}
}

// writeNotLanding lists the DaemonSets that do not land, with the reason.
func writeNotLanding(w io.Writer, res overhead.Result) {
	tw := tabwriter.NewWriter(w, 0, 8, 2, ' ', 0)
	header := false
	for _, e := range res.Entries() {
		var why string
		switch e.Outcome {
		case overhead.Lands, overhead.Present:
			continue
		case overhead.Ignored:
			why = "ignored: " + e.DaemonSet.Ignored
		default:
			why = e.Decision.String()
		}
		if !header {
			fmt.Fprintln(tw, "  not landing:")
			header = true
		}
		fmt.Fprintf(tw, "    %s\t%s\n", e.DaemonSet, why)
	}
	tw.Flush()
}

// writeCapacity prints the node's allocatable resources and what is left
// of them once the lists of requests and pods are placed; nothing when the
// node has no allocatable resources.
func writeCapacity(tw io.Writer, cols columns, n *corev1.Node, used []corev1.ResourceList, pods int, label string) {
	alloc := n.Status.Allocatable
	if len(alloc) == 0 {
		return
	}
	cols.row(tw, "allocatable", "", podsOf(alloc), alloc, "")
	left := corev1.ResourceList{}
	for name, q := range alloc {
		q = q.DeepCopy()
		if name == corev1.ResourcePods {
			q.Sub(*resource.NewQuantity(int64(pods), resource.DecimalSI))
		}
		for _, l := range used {
			if u, ok := l[name]; ok {
				q.Sub(u)
			}
		}
		left[name] = q
	}
	// A resource requested but not allocatable at all is short by the
	// request.
	for _, l := range used {
		for name, u := range l {
			if _, ok := alloc[name]; !ok {
				q := left[name]
				q.Sub(u)
				left[name] = q
			}
		}
	}
	cols.row(tw, label, "", podsOf(left), left, "")
}

// podsOf formats the "pods" entry of l, "-" without one.
func podsOf(l corev1.ResourceList) string {
	q, ok := l[corev1.ResourcePods]
	if !ok {
		return "-"
	}
	return q.String()
}

// podRequests sums the requests of the pods on n, bound to it or (daemon
// pods not scheduled yet) pinned to it, that are not Succeeded or Failed,
// and counts them.
func podRequests(n *corev1.Node, pods []*corev1.Pod) (corev1.ResourceList, int) {
	var sum corev1.ResourceList
	count := 0
	for _, p := range pods {
		if p == nil || p.Status.Phase == corev1.PodSucceeded || p.Status.Phase == corev1.PodFailed {
			continue
		}
		if target, err := placement.TargetNodeName(p); err != nil || target != n.Name {
			continue
		}
		count++
		for name, q := range resourcehelper.PodRequests(p, resourcehelper.PodResourcesOptions{}) {
			if sum == nil {
				sum = corev1.ResourceList{}
			}
			s := sum[name]
			s.Add(q)
			sum[name] = s
		}
	}
	return sum, count
}

// resourceColumns returns the columns for the resources the DaemonSets
// request.
func resourceColumns(set *overhead.Set) columns {
	var c columns
	for _, d := range set.DaemonSets() {
		for name := range d.Requests {
			if name != corev1.ResourceCPU && name != corev1.ResourceMemory && !slices.Contains(c.other, name) {
				c.other = append(c.other, name)
			}
		}
	}
	slices.Sort(c.other)
	return c
}

func (c columns) header(tw io.Writer) {
	fmt.Fprintln(tw, "  DAEMONSET\tSTATUS\tPODS\tCPU\tMEMORY\tOTHER\tHOST PORTS")
}

// row prints one line: cpu and memory in their columns, every other
// resource of l (pods excepted, which status shows) in OTHER.
func (c columns) row(tw io.Writer, name, status, pods string, l corev1.ResourceList, ports string) {
	var other []string
	for _, n := range sortedNames(l) {
		if n != corev1.ResourceCPU && n != corev1.ResourceMemory && n != corev1.ResourcePods {
			q := l[n]
			other = append(other, string(n)+"="+q.String())
		}
	}
	fmt.Fprintf(tw, "  %s\t%s\t%s\t%s\t%s\t%s\t%s\n", name, status, pods, quantity(l, corev1.ResourceCPU), quantity(l, corev1.ResourceMemory), dash(strings.Join(other, ",")), dash(ports))
}

func quantity(l corev1.ResourceList, name corev1.ResourceName) string {
	q, ok := l[name]
	if !ok {
		return "-"
	}
	return q.String()
}

func sortedNames(l corev1.ResourceList) []corev1.ResourceName {
	names := make([]corev1.ResourceName, 0, len(l))
	for n := range l {
		names = append(names, n)
	}
	slices.Sort(names)
	return names
}

// formatList prints a resource list as "cpu=100m,memory=64Mi", "-" when
// empty.
func formatList(l corev1.ResourceList) string {
	var parts []string
	for _, n := range sortedNames(l) {
		q := l[n]
		parts = append(parts, string(n)+"="+q.String())
	}
	return dash(strings.Join(parts, ","))
}

func formatPorts(ports []overhead.HostPort) string {
	s := make([]string, len(ports))
	for i, p := range ports {
		s[i] = p.String()
	}
	return strings.Join(s, ",")
}

func dash(s string) string {
	if s == "" {
		return "-"
	}
	return s
}

// count returns "1 pod", "2 pods".
func count(n int, noun string) string {
	if n == 1 {
		return "1 " + noun
	}
	return strconv.Itoa(n) + " " + noun + "s"
}
