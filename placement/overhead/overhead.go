package overhead

import (
	"cmp"
	"errors"
	"fmt"
	"iter"
	"net"
	"slices"
	"strconv"
	"strings"

	appsv1 "k8s.io/api/apps/v1"
	corev1 "k8s.io/api/core/v1"
	nodev1 "k8s.io/api/node/v1"
	"k8s.io/apimachinery/pkg/api/equality"
	"k8s.io/apimachinery/pkg/api/resource"
	"k8s.io/apimachinery/pkg/util/validation/field"
	resourcehelper "k8s.io/component-helpers/resource"

	"github.com/dsplan/dsplan/internal/apidefault"
	"github.com/dsplan/dsplan/placement"
)

// Options holds the inputs of an overhead that do not come from the
// DaemonSets or the node. The zero Options are kube-controller-manager
// v1.37.2's defaults, with no RuntimeClasses known.
type Options struct {
	// Placement are the placement options (feature gates) every
	// DaemonSet is evaluated with.
	Placement placement.Options
	// RuntimeClasses are the cluster's RuntimeClasses. A daemon pod whose
	// spec.runtimeClassName names one gets its overhead.podFixed as pod
	// overhead, as the RuntimeClass admission plugin sets it. nil entries
	// are ignored; of two with one name the first counts.
	RuntimeClasses []*nodev1.RuntimeClass
}

// HostPort is one host port a daemon pod takes on its node, as the
// scheduler's NodePorts plugin records it: HostIP "" is "0.0.0.0" and
// Protocol "" is "TCP".
type HostPort struct {
	Port     int32
	Protocol corev1.Protocol
	HostIP   string
}

// String returns "HostIP:Port/Protocol", e.g. "0.0.0.0:53/UDP" or
// "[::1]:9100/TCP".
func (p HostPort) String() string {
	return net.JoinHostPort(p.HostIP, strconv.Itoa(int(p.Port))) + "/" + string(p.Protocol)
}

// compareHostPorts orders host ports by port, protocol, then host IP.
func compareHostPorts(a, b HostPort) int {
	return cmp.Or(cmp.Compare(a.Port, b.Port), strings.Compare(string(a.Protocol), string(b.Protocol)), strings.Compare(a.HostIP, b.HostIP))
}

// DaemonSet is what a [Set] compiled of one DaemonSet: its identity, what
// its pod requests and the host ports it takes (the same on every node),
// and what is wrong with it. It is shared by the Set and every [Result]:
// do not modify it.
type DaemonSet struct {
	Namespace, Name string
	// Requests are component-helpers' PodRequests of the pod
	// kube-controller-manager creates for the DaemonSet, as the API server
	// stores it (see the package documentation): containers summed, init
	// containers' maximum, restartable init containers (sidecars), pod
	// overhead and pod-level resources. Empty when nothing is requested.
	Requests corev1.ResourceList
	// HostPorts are the pod's host ports, sorted by port, protocol and
	// host IP, without repeats; nil when there are none.
	HostPorts []HostPort
	// Ignored, when not empty, says why kube-controller-manager creates
	// no pod of the DaemonSet on any node (it is being deleted, its
	// selector selects every pod or does not parse).
	Ignored string
	// Warnings are the inputs kube-controller-manager or the API server
	// treat in a way the user may not expect ([placement.Evaluator.Warnings],
	// and RuntimeClass problems), sorted by field, then message.
	Warnings []placement.Warning
	// Invalid lists what the API server would reject in the DaemonSet
	// ([placement.Validate]); decisions do not depend on it.
	Invalid field.ErrorList
}

// String returns "namespace/name", or "<nil>".
func (d *DaemonSet) String() string {
	if d == nil {
		return "<nil>"
	}
	return d.Namespace + "/" + d.Name
}

// Outcome says whether a DaemonSet lands on a node. The zero Outcome is
// [Excluded].
type Outcome uint8

// Outcomes.
const (
	// Excluded: the placement rules keep the DaemonSet off the node
	// (its Decision does not have ShouldRun); the Decision says which.
	Excluded Outcome = iota
	// Lands: kube-controller-manager creates the DaemonSet's pod on the
	// node (its Decision has ShouldRun); its requests and host ports
	// count.
	Lands
	// Present ([Set.Missing] only): the DaemonSet should run on the node
	// and a pod of it already targets the node (running, pending, or
	// failed and not deleted yet), so none is created.
	Present
	// Ignored: kube-controller-manager creates no pod of the DaemonSet
	// anywhere; [DaemonSet].Ignored says why. The node is not evaluated.
	Ignored
)

var outcomeNames = [...]string{Excluded: "Excluded", Lands: "Lands", Present: "Present", Ignored: "Ignored"}

// String returns the constant's name, e.g. "Lands", or "Outcome(N)".
func (o Outcome) String() string {
	if int(o) < len(outcomeNames) {
		return outcomeNames[o]
	}
	return "Outcome(" + strconv.Itoa(int(o)) + ")"
}

// Entry is one DaemonSet on one node.
type Entry struct {
	// DaemonSet is the compiled DaemonSet, shared with the Set: do not
	// modify it.
	DaemonSet *DaemonSet
	// Outcome says whether the DaemonSet lands.
	Outcome Outcome
	// Decision is the DaemonSet's placement on the node, the zero Decision
	// for an [Ignored] DaemonSet or a nil node. Its Taint points into the
	// evaluated node's spec.taints.
	Decision placement.Decision
}

// String explains the entry in one line, e.g. "kube-system/fluentd:
// Lands" or "gpu/dcgm-exporter: Excluded: no pod: node labels do not match
// spec.template.spec.nodeSelector".
func (e Entry) String() string {
	s := e.DaemonSet.String() + ": " + e.Outcome.String()
	switch e.Outcome {
	case Excluded:
		s += ": " + e.Decision.String()
	case Present:
		s += ": a pod of the DaemonSet targets the node"
	case Ignored:
		if e.DaemonSet != nil {
			s += ": " + e.DaemonSet.Ignored
		}
	}
	return s
}

// Result is the DaemonSet overhead of one node or node template: the
// totals in its fields, and one [Entry] per DaemonSet of the Set, in the
// Set's order, through its methods ([Result.Entries], [Result.Entry]).
// The entries are held in a compact form (a few bytes each, no pointers:
// at 100 DaemonSets and 10,000 templates, a slice of Entry values cost
// more in the garbage collector than the evaluation). The zero Result has
// no entries.
type Result struct {
	// Node is the node's name, "" for a template.
	Node string
	// Template reports whether the node was evaluated as a template
	// (under a name no DaemonSet mentions; see the package documentation).
	Template bool
	// Pods is the number of entries that are [Lands]: the daemon pods the
	// node's pod capacity (allocatable "pods") must hold.
	Pods int
	// Requests are the summed Requests of the entries that are [Lands],
	// for every resource one of them requests; nil when none does.
	Requests corev1.ResourceList
	// HostPorts are the host ports of the entries that are [Lands],
	// sorted, without repeats; nil when there are none. Conflicts are not
	// reported: of two daemon pods that want one port (same protocol and
	// port, and host IP, or either 0.0.0.0), the scheduler binds only one.
	HostPorts []HostPort

	// set and node are what entries refer to: the DaemonSets, and the
	// evaluated node's taints.
	set     *Set
	node    *corev1.Node
	entries []entry
}

// entry is an Entry without pointers: the DaemonSet is the entry's
// position, the taint an index into the node's spec.taints.
type entry struct {
	outcome Outcome
	reason  placement.Reason
	// taint is the position of the Decision's Taint in node.Spec.Taints
	// plus one, 0 for none.
	taint uint32
}

// Len returns the number of entries: the number of DaemonSets of the Set.
func (r Result) Len() int { return len(r.entries) }

// Entry returns entry i, the Set's DaemonSet i on the node; i must be in
// [0, Len()). Its Decision's Taint points into the evaluated node's
// spec.taints (the Result refers to the node: do not modify it).
func (r Result) Entry(i int) Entry {
	c := r.entries[i]
	e := Entry{DaemonSet: &r.set.daemons[i], Outcome: c.outcome, Decision: placement.Decision{Reason: c.reason}}
	// The bound holds unless the node's taints were changed since.
	if k := int(c.taint) - 1; k >= 0 && k < len(r.node.Spec.Taints) {
		e.Decision.Taint = &r.node.Spec.Taints[k]
	}
	return e
}

// Entries yields every entry with its position, in the Set's order.
func (r Result) Entries() iter.Seq2[int, Entry] {
	return func(yield func(int, Entry) bool) {
		for i := range r.entries {
			if !yield(i, r.Entry(i)) {
				return
			}
		}
	}
}

// Set is a list of DaemonSets compiled once (placement rules, pod
// requests, host ports) to compute the overhead of many nodes. Build it
// with [New]. A Set is immutable and safe for concurrent use.
type Set struct {
	daemons []DaemonSet
	evals   []*placement.Evaluator
	// namesNodes[i] is set when daemons[i] mentions node names (its
	// spec.nodeName or matchFields): only then does a template's name
	// matter, and it is evaluated under placeholder.
	namesNodes []bool
	// requests[i] are daemons[i].Requests by resource number: a resource's
	// number is its position in resources, the sorted union of every
	// DaemonSet's resource names.
	requests  [][]numberedQuantity
	resources []corev1.ResourceName
	// portNumbers[i] are daemons[i].HostPorts by port number: a port's
	// number is its position in ports, the sorted union of every
	// DaemonSet's host ports.
	portNumbers [][]int
	ports       []HostPort
	// placeholder is the name templates are evaluated under.
	placeholder string
	warnings    []placement.Warning
}

type numberedQuantity struct {
	n int
	q resource.Quantity
}

// Field paths of the warnings New reports.
var (
	templateSpecPath     = field.NewPath("spec", "template", "spec")
	runtimeClassNamePath = templateSpecPath.Child("runtimeClassName").String()
	podOverheadPath      = templateSpecPath.Child("overhead").String()
)

// New compiles daemonSets. It never fails and never modifies its inputs;
// the Set keeps nothing of them but copies. The Set orders the DaemonSets
// by namespace, then name; of two DaemonSets with one namespace and name
// the first in daemonSets counts, and nil entries are skipped, both
// reported by [Set.Warnings]. DaemonSets are taken as the API server
// stores them: apply the API defaults to a hand-written one first (package
// plan's Default).
func New(daemonSets []*appsv1.DaemonSet, opts Options) *Set {
	s := &Set{}
	// skipped are the positions of nil and repeated DaemonSets.
	var skipped []int
	kept := make([]int, 0, len(daemonSets))
	for i, ds := range daemonSets {
		if ds == nil {
			skipped = append(skipped, i)
			continue
		}
		kept = append(kept, i)
	}
	slices.SortStableFunc(kept, func(a, b int) int {
		x, y := daemonSets[a], daemonSets[b]
		return cmp.Or(strings.Compare(x.Namespace, y.Namespace), strings.Compare(x.Name, y.Name))
	})
	// Of a run of DaemonSets with one namespace and name, the stable sort
	// put the first in input order first: it stays.
	unique := kept[:0]
	for _, i := range kept {
		if n := len(unique); n > 0 {
			prev, ds := daemonSets[unique[n-1]], daemonSets[i]
			if prev.Namespace == ds.Namespace && prev.Name == ds.Name {
				skipped = append(skipped, i)
				continue
			}
		}
		unique = append(unique, i)
	}
	kept = unique
	slices.Sort(skipped)
	for _, i := range skipped {
		w := placement.Warning{Field: "DaemonSets[" + strconv.Itoa(i) + "]", Message: "nil entry ignored"}
		if ds := daemonSets[i]; ds != nil {
			w.Message = fmt.Sprintf("DaemonSet %s/%s listed more than once, later entries ignored", ds.Namespace, ds.Name)
		}
		s.warnings = append(s.warnings, w)
	}

	mentioned := map[string]bool{}
	s.namesNodes = make([]bool, len(kept))
	for j, i := range kept {
		mentionedNames(daemonSets[i], mentioned)
		s.namesNodes[j] = namesNodes(daemonSets[i])
	}
	s.placeholder = placeholderName(mentioned)

	classes := map[string]*nodev1.RuntimeClass{}
	for _, rc := range opts.RuntimeClasses {
		if rc != nil && classes[rc.Name] == nil {
			classes[rc.Name] = rc
		}
	}
	s.daemons = make([]DaemonSet, len(kept))
	s.evals = make([]*placement.Evaluator, len(kept))
	names := map[corev1.ResourceName]bool{}
	for j, i := range kept {
		s.daemons[j], s.evals[j] = s.compile(daemonSets[i], opts, classes)
		for name := range s.daemons[j].Requests {
			names[name] = true
		}
	}
	for name := range names {
		s.resources = append(s.resources, name)
	}
	slices.Sort(s.resources)
	s.requests = make([][]numberedQuantity, len(s.daemons))
	for j := range s.daemons {
		for name, q := range s.daemons[j].Requests {
			n, _ := slices.BinarySearch(s.resources, name)
			s.requests[j] = append(s.requests[j], numberedQuantity{n, q.DeepCopy()})
		}
		slices.SortFunc(s.requests[j], func(a, b numberedQuantity) int { return cmp.Compare(a.n, b.n) })
		s.ports = append(s.ports, s.daemons[j].HostPorts...)
	}
	slices.SortFunc(s.ports, compareHostPorts)
	s.ports = slices.Compact(s.ports)
	s.portNumbers = make([][]int, len(s.daemons))
	for j := range s.daemons {
		for _, p := range s.daemons[j].HostPorts {
			n, _ := slices.BinarySearchFunc(s.ports, p, compareHostPorts)
			s.portNumbers[j] = append(s.portNumbers[j], n)
		}
	}
	return s
}

// compile builds the description and the evaluator of one DaemonSet.
func (s *Set) compile(ds *appsv1.DaemonSet, opts Options, classes map[string]*nodev1.RuntimeClass) (DaemonSet, *placement.Evaluator) {
	e := placement.New(ds, opts.Placement)
	d := DaemonSet{Namespace: ds.Namespace, Name: ds.Name, Ignored: ignoredBecause(ds, e)}
	// The pod's requests and ports do not depend on the node.
	pod := apidefault.CreatedPod(e.NewPod(s.placeholder, ""))
	d.Warnings = append(e.Warnings(), runtimeClassOverhead(pod, classes, opts.RuntimeClasses != nil)...)
	slices.SortFunc(d.Warnings, func(a, b placement.Warning) int {
		return cmp.Or(strings.Compare(a.Field, b.Field), strings.Compare(a.Message, b.Message))
	})
	d.Requests = resourcehelper.PodRequests(pod, resourcehelper.PodResourcesOptions{})
	d.HostPorts = hostPorts(pod)
	d.Invalid = placement.Validate(ds)
	return d, e
}

// ignoredBecause says why kube-controller-manager v1.37.2's syncDaemonSet
// returns before its manage pass for ds, in its order; "" when it does not.
func ignoredBecause(ds *appsv1.DaemonSet, e *placement.Evaluator) string {
	// Empty and nil lists are the same here: kube-controller-manager
	// receives objects through protobuf, which cannot tell them apart.
	if sel := ds.Spec.Selector; sel != nil && len(sel.MatchLabels) == 0 && len(sel.MatchExpressions) == 0 {
		return "spec.selector selects every pod: kube-controller-manager ignores the DaemonSet (a non-empty selector is required)"
	}
	if ds.DeletionTimestamp != nil {
		return "the DaemonSet is being deleted: kube-controller-manager creates no pods for it"
	}
	if _, err := e.Selector(); err != nil {
		return "spec.selector does not parse (" + err.Error() + "): kube-controller-manager's sync fails before it creates pods"
	}
	return ""
}

// mentionedNames adds to names every node name ds mentions: its template's
// spec.nodeName and the values of its required node affinity's
// matchFields.
func mentionedNames(ds *appsv1.DaemonSet, names map[string]bool) {
	spec := &ds.Spec.Template.Spec
	if spec.NodeName != "" {
		names[spec.NodeName] = true
	}
	if a := spec.Affinity; a != nil && a.NodeAffinity != nil && a.NodeAffinity.RequiredDuringSchedulingIgnoredDuringExecution != nil {
		for _, term := range a.NodeAffinity.RequiredDuringSchedulingIgnoredDuringExecution.NodeSelectorTerms {
			for _, r := range term.MatchFields {
				for _, v := range r.Values {
					names[v] = true
				}
			}
		}
	}
}

// namesNodes reports whether a node's name can change ds's placement:
// its template has a spec.nodeName or its required node affinity has
// matchFields (even without values).
func namesNodes(ds *appsv1.DaemonSet) bool {
	spec := &ds.Spec.Template.Spec
	if spec.NodeName != "" {
		return true
	}
	if a := spec.Affinity; a != nil && a.NodeAffinity != nil && a.NodeAffinity.RequiredDuringSchedulingIgnoredDuringExecution != nil {
		for _, term := range a.NodeAffinity.RequiredDuringSchedulingIgnoredDuringExecution.NodeSelectorTerms {
			if len(term.MatchFields) > 0 {
				return true
			}
		}
	}
	return false
}

// templateName is the name templates are evaluated under: '<' and '>'
// occur in no node name (a DNS subdomain), so no real node has it.
const templateName = "<template>"

// placeholderName returns templateName, or templateName-N with the
// smallest N ≥ 1 that makes it a name no DaemonSet mentions (only a
// DaemonSet written against this package could).
func placeholderName(mentioned map[string]bool) string {
	name := templateName
	for n := 1; mentioned[name]; n++ {
		name = templateName + "-" + strconv.Itoa(n)
	}
	return name
}

// runtimeClassOverhead sets pod's overhead as the RuntimeClass admission
// plugin of k8s.io/kubernetes v1.37.2 does, and warns where that plugin
// would reject the pod (the overhead is then counted as the template has
// it). known tells whether the caller gave RuntimeClasses at all.
func runtimeClassOverhead(pod *corev1.Pod, classes map[string]*nodev1.RuntimeClass, known bool) []placement.Warning {
	name := pod.Spec.RuntimeClassName
	if name == nil {
		if pod.Spec.Overhead != nil {
			return []placement.Warning{{Field: podOverheadPath,
				Message: "set without a RuntimeClass: the RuntimeClass admission plugin rejects the pod (counted as set)"}}
		}
		return nil
	}
	rc := classes[*name]
	switch {
	case rc == nil && !known:
		return []placement.Warning{{Field: runtimeClassNamePath,
			Message: fmt.Sprintf("RuntimeClass %q not given (Options.RuntimeClasses): its pod overhead is not counted", *name)}}
	case rc == nil:
		return []placement.Warning{{Field: runtimeClassNamePath,
			Message: fmt.Sprintf("RuntimeClass %q not found: the RuntimeClass admission plugin rejects the pod", *name)}}
	case rc.Overhead == nil:
		if pod.Spec.Overhead != nil {
			return []placement.Warning{{Field: podOverheadPath,
				Message: fmt.Sprintf("set, but RuntimeClass %q defines no overhead: the RuntimeClass admission plugin rejects the pod (counted as set)", *name)}}
		}
		return nil
	}
	var warnings []placement.Warning
	if len(pod.Spec.Overhead) > 0 && !equality.Semantic.DeepEqual(rc.Overhead.PodFixed, pod.Spec.Overhead) {
		warnings = append(warnings, placement.Warning{Field: podOverheadPath,
			Message: fmt.Sprintf("differs from RuntimeClass %q's overhead: the RuntimeClass admission plugin rejects the pod (counted as the RuntimeClass's)", *name)})
	}
	pod.Spec.Overhead = rc.Overhead.PodFixed.DeepCopy()
	return warnings
}

// hostPorts returns the host ports of pod as k8s.io/kubernetes v1.37.2's
// scheduler counts them (util.GetHostPorts, HostPortInfo.Add): every port
// with hostPort > 0 of the restartable init containers (sidecars) and the
// containers; other init containers have ended before the pod runs. HostIP
// "" becomes "0.0.0.0", protocol "" becomes "TCP". Sorted, without
// repeats; nil for none.
func hostPorts(pod *corev1.Pod) []HostPort {
	var out []HostPort
	add := func(c *corev1.Container) {
		for _, p := range c.Ports {
			if p.HostPort <= 0 {
				continue
			}
			hp := HostPort{Port: p.HostPort, Protocol: p.Protocol, HostIP: p.HostIP}
			if hp.HostIP == "" {
				hp.HostIP = "0.0.0.0"
			}
			if hp.Protocol == "" {
				hp.Protocol = corev1.ProtocolTCP
			}
			out = append(out, hp)
		}
	}
	for i := range pod.Spec.InitContainers {
		if c := &pod.Spec.InitContainers[i]; c.RestartPolicy != nil && *c.RestartPolicy == corev1.ContainerRestartPolicyAlways {
			add(c)
		}
	}
	for i := range pod.Spec.Containers {
		add(&pod.Spec.Containers[i])
	}
	slices.SortFunc(out, compareHostPorts)
	return slices.Compact(out)
}

// Len returns the number of DaemonSets in the Set.
func (s *Set) Len() int { return len(s.daemons) }

// DaemonSets returns the compiled DaemonSets, in the Set's order. The
// slice is the caller's; the DaemonSets are shared: do not modify them.
func (s *Set) DaemonSets() []*DaemonSet {
	out := make([]*DaemonSet, len(s.daemons))
	for i := range s.daemons {
		out[i] = &s.daemons[i]
	}
	return out
}

// Warnings reports the entries New skipped: nil DaemonSets and repeated
// ones, in input order. The slice is the caller's.
func (s *Set) Warnings() []placement.Warning { return slices.Clone(s.warnings) }

// Template returns the DaemonSet overhead of a node that does not exist
// yet: node holds the labels and taints it will have, and its name, if
// any, is ignored. It is evaluated as a node whose name no DaemonSet of
// the Set mentions (see the package documentation), so a DaemonSet pinned
// to named nodes does not land. A nil node is not evaluated: every entry
// is [Excluded] with the zero Decision, or [Ignored].
func (s *Set) Template(node *corev1.Node) Result {
	return s.evaluate(node, true, nil)
}

// Node returns the DaemonSet overhead of an existing node: every
// DaemonSet whose pod kube-controller-manager keeps on it, whether the pod
// is already there or not. A node without a name cannot exist and is
// evaluated as a template ([Set.Template]). A nil node is not evaluated.
func (s *Set) Node(node *corev1.Node) Result {
	if node != nil && node.Name == "" {
		return s.Template(node)
	}
	return s.evaluate(node, false, nil)
}

// Errors of Missing.
var (
	// ErrNoNode is returned by Missing for a nil node or a node without
	// a name.
	ErrNoNode = errors.New("no node name: Missing needs an existing node")
)

// Missing returns the overhead still missing on an existing node: the
// DaemonSets kube-controller-manager should run there ([Lands]) that have
// no pod targeting the node yet, that is, the pods its next sync creates.
// A DaemonSet that has one is [Present] and counts for nothing. pods may
// be the node's pods or all of the cluster's, in any order. Pods are
// claimed and grouped as [placement.Group] does; a pod counts for a
// DaemonSet when
//
//  1. it is in the DaemonSet's namespace and matches its selector;
//  2. its controller reference names the DaemonSet (kind, name and UID),
//     or it has none and is not being deleted (the DaemonSet adopts it);
//  3. it targets the node: its spec.nodeName, or else the node its
//     required node affinity pins ([placement.TargetNodeName]);
//  4. it is not a terminal (Succeeded or Failed) pod being deleted; a
//     failed pod counts until it is deleted.
//
// The error wraps [ErrNoNode], or joins one error per DaemonSet that
// should run on the node but has no namespace, name or UID (wrapping
// [placement.ErrNoIdentity]): its pods cannot be claimed. The Result is
// then zero.
func (s *Set) Missing(node *corev1.Node, pods []*corev1.Pod) (Result, error) {
	if node == nil || node.Name == "" {
		return Result{}, ErrNoNode
	}
	// The pods that may target the node, by namespace: a pod with a
	// spec.nodeName targets that node; one without may be pinned to it.
	byNamespace := map[string][]*corev1.Pod{}
	for _, p := range pods {
		if p != nil && (p.Spec.NodeName == node.Name || p.Spec.NodeName == "") {
			byNamespace[p.Namespace] = append(byNamespace[p.Namespace], p)
		}
	}
	nodes := []*corev1.Node{node}
	present := make([]bool, len(s.daemons))
	var gr placement.Grouper
	defer gr.Reset()
	var errs []error
	for i := range s.daemons {
		d := &s.daemons[i]
		if d.Ignored != "" || !s.evals[i].Evaluate(node).ShouldRun() {
			continue
		}
		g, err := gr.Group(placement.GroupInput{Evaluator: s.evals[i], Nodes: nodes, Pods: byNamespace[d.Namespace]})
		if err != nil {
			errs = append(errs, fmt.Errorf("DaemonSet %s: %w", d, err))
			continue
		}
		present[i] = g.At(0).Len() > 0
	}
	if len(errs) > 0 {
		return Result{}, errors.Join(errs...)
	}
	return s.evaluate(node, false, present), nil
}

// evaluate builds the Result of node (nil for none), a template if
// template is set; present, when not nil, marks the DaemonSets that
// already have a pod on the node.
func (s *Set) evaluate(node *corev1.Node, template bool, present []bool) Result {
	r := Result{Template: template, set: s, node: node, entries: make([]entry, len(s.daemons))}
	if node != nil && !template {
		r.Node = node.Name
	}
	// named is node under the placeholder name, made when a DaemonSet
	// needs it.
	var named *corev1.Node
	for j := range s.daemons {
		var d placement.Decision
		switch {
		case node == nil || s.daemons[j].Ignored != "":
		case template && s.namesNodes[j]:
			if named == nil {
				c := *node
				c.Name = s.placeholder
				named = &c
			}
			d = s.evals[j].Evaluate(named)
		default:
			d = s.evals[j].Evaluate(node)
		}
		r.entries[j] = s.entry(j, node, d, present != nil && present[j])
	}
	s.total(&r, s.newTotals())
	return r
}

// entry returns the entry of DaemonSet j with decision d on node; hasPod
// marks a DaemonSet whose pod is already there.
func (s *Set) entry(j int, node *corev1.Node, d placement.Decision, hasPod bool) entry {
	e := entry{reason: d.Reason}
	switch {
	case s.daemons[j].Ignored != "":
		e.outcome = Ignored
	case !d.ShouldRun():
		e.outcome = Excluded
	case hasPod:
		e.outcome = Present
	default:
		e.outcome = Lands
	}
	if d.Taint != nil {
		// The Decision's Taint points into node's spec.taints (or a
		// copy's, which shares them).
		for k := range node.Spec.Taints {
			if &node.Spec.Taints[k] == d.Taint {
				e.taint = uint32(k + 1)
				break
			}
		}
	}
	return e
}

// totals is the working memory of total, by resource and port number;
// total leaves it zeroed.
type totals struct {
	sum       []resource.Quantity
	requested []bool
	port      []bool
}

func (s *Set) newTotals() *totals {
	return &totals{
		sum:       make([]resource.Quantity, len(s.resources)),
		requested: make([]bool, len(s.resources)),
		port:      make([]bool, len(s.ports)),
	}
}

// total sets r's Pods, Requests and HostPorts from its entries.
func (s *Set) total(r *Result, t *totals) {
	requested, ports := 0, 0
	for j := range r.entries {
		if r.entries[j].outcome != Lands {
			continue
		}
		r.Pods++
		for _, nq := range s.requests[j] {
			t.sum[nq.n].Add(nq.q)
			if !t.requested[nq.n] {
				t.requested[nq.n] = true
				requested++
			}
		}
		for _, n := range s.portNumbers[j] {
			if !t.port[n] {
				t.port[n] = true
				ports++
			}
		}
	}
	if requested > 0 {
		r.Requests = make(corev1.ResourceList, requested)
		for n, ok := range t.requested {
			if ok {
				r.Requests[s.resources[n]] = t.sum[n]
				t.sum[n], t.requested[n] = resource.Quantity{}, false
			}
		}
	}
	if ports > 0 {
		r.HostPorts = make([]HostPort, 0, ports)
		for n, ok := range t.port {
			if ok {
				r.HostPorts = append(r.HostPorts, s.ports[n])
				t.port[n] = false
			}
		}
	}
}

// templateBlock is the number of templates Templates evaluates together:
// their entries (a few KB each) stay in the processor's cache while every
// DaemonSet's decisions are written into them.
const templateBlock = 256

// Templates returns, for each node of nodes in order, what
// [Set.Template] returns for it, computed together: each DaemonSet is
// evaluated over blocks of templates whose labels are numbered once
// ([placement.NodeSet]), which costs several times less than a Template
// call per node when there are many. The entries of all the Results share
// one allocation. nil for no nodes.
func (s *Set) Templates(nodes []*corev1.Node) []Result {
	if len(nodes) == 0 {
		return nil
	}
	nd := len(s.daemons)
	results := make([]Result, len(nodes))
	entries := make([]entry, len(nodes)*nd)
	for i, n := range nodes {
		results[i] = Result{Template: true, set: s, node: n, entries: entries[i*nd : (i+1)*nd : (i+1)*nd]}
	}
	t := s.newTotals()
	var decisions []placement.Decision
	var named corev1.Node
	// Templates that land the same DaemonSets have the same totals: byLanding
	// maps a hash of the DaemonSets that land to the first result with it,
	// whose totals the others copy (after comparing their entries).
	byLanding := map[uint64]int{}
	landing := make([]uint64, templateBlock)
	for lo := 0; lo < len(nodes); lo += templateBlock {
		block := nodes[lo:min(lo+templateBlock, len(nodes))]
		clear(landing)
		var set *placement.NodeSet
		for j := range s.daemons {
			decisions = decisions[:0]
			switch {
			case s.daemons[j].Ignored != "":
				for range block {
					decisions = append(decisions, placement.Decision{})
				}
			case s.namesNodes[j]:
				for _, n := range block {
					var d placement.Decision
					if n != nil {
						named = *n
						named.Name = s.placeholder
						d = s.evals[j].Evaluate(&named)
					}
					decisions = append(decisions, d)
				}
			default:
				if set == nil {
					set = placement.NewNodeSet(block)
				}
				decisions = s.evals[j].EvaluateNodeSet(set, decisions)
			}
			for i, d := range decisions {
				e := s.entry(j, block[i], d, false)
				results[lo+i].entries[j] = e
				if e.outcome == Lands {
					landing[i] = (landing[i] + uint64(j) + 1) * 0x100000001b3 // FNV's prime
				}
			}
		}
		for i := range block {
			r := &results[lo+i]
			first, seen := byLanding[landing[i]]
			if seen && sameLanding(&results[first], r) {
				r.copyTotals(&results[first])
				continue
			}
			s.total(r, t)
			if !seen {
				byLanding[landing[i]] = lo + i
			}
		}
	}
	return results
}

// sameLanding reports whether the same DaemonSets land in a and b.
func sameLanding(a, b *Result) bool {
	for j := range a.entries {
		if (a.entries[j].outcome == Lands) != (b.entries[j].outcome == Lands) {
			return false
		}
	}
	return true
}

// copyTotals sets r's totals to copies of from's.
func (r *Result) copyTotals(from *Result) {
	r.Pods = from.Pods
	if from.Requests != nil {
		r.Requests = make(corev1.ResourceList, len(from.Requests))
		for name, q := range from.Requests {
			r.Requests[name] = q.DeepCopy()
		}
	}
	r.HostPorts = slices.Clone(from.HostPorts)
}
