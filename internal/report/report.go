package report

import (
	"fmt"
	"maps"
	"slices"
	"strings"
	"time"

	appsv1 "k8s.io/api/apps/v1"
	corev1 "k8s.io/api/core/v1"
	"k8s.io/apimachinery/pkg/util/validation/field"

	"github.com/dsplan/dsplan/internal/snapshot"
	"github.com/dsplan/dsplan/placement"
	"github.com/dsplan/dsplan/plan"
	"github.com/dsplan/dsplan/revision"
	"github.com/dsplan/dsplan/rollout"
)

// Input is a cluster to plan: its DaemonSets with the nodes, pods and
// ControllerRevisions they are planned over. Build it with [FromObjects]
// (a dump) or fill it from an API server's lists.
type Input struct {
	// DaemonSets are planned, one Section each.
	DaemonSets []*appsv1.DaemonSet
	// Others are DaemonSets that are not planned but share a rollout
	// group's budget with planned ones (see Plan).
	Others    []*appsv1.DaemonSet
	Nodes     []*corev1.Node
	Pods      []*corev1.Pod
	Revisions []*appsv1.ControllerRevision
}

// FromObjects turns decoded objects into an Input as
// kube-controller-manager would receive them: it rejects objects without a
// name and objects listed twice ([snapshot.CheckNames]), compacts
// ControllerRevision data ([snapshot.CompactRevisionData]) and applies the
// protobuf round trip ([snapshot.Normalize]). objs.DaemonSet, when set,
// comes first.
func FromObjects(objs snapshot.Objects) (Input, error) {
	if err := snapshot.CheckNames(objs); err != nil {
		return Input{}, err
	}
	objs.Revisions = snapshot.CompactRevisionData(objs.Revisions)
	norm, err := snapshot.Normalize(objs)
	if err != nil {
		return Input{}, err
	}
	in := Input{DaemonSets: norm.DaemonSets, Nodes: norm.Nodes, Pods: norm.Pods, Revisions: norm.Revisions}
	if norm.DaemonSet != nil {
		in.DaemonSets = append([]*appsv1.DaemonSet{norm.DaemonSet}, in.DaemonSets...)
	}
	return in, nil
}

// Key is a DaemonSet's "namespace/name".
func Key(ds *appsv1.DaemonSet) string { return ds.Namespace + "/" + ds.Name }

// Select keeps the DaemonSets of in that match for planning: namespace ""
// matches every namespace, name "" every name; the others move to Others
// (they still count in rollout groups). No match is an error naming the
// DaemonSets in the input.
func Select(in Input, namespace, name string) (Input, error) {
	if namespace == "" && name == "" {
		return in, nil
	}
	var keep, others []*appsv1.DaemonSet
	for _, ds := range in.DaemonSets {
		if (namespace == "" || ds.Namespace == namespace) && (name == "" || ds.Name == name) {
			keep = append(keep, ds)
		} else {
			others = append(others, ds)
		}
	}
	if len(keep) == 0 {
		want := namespace + "/" + name
		switch {
		case name == "":
			want = "in namespace " + namespace
		case namespace == "":
			want = fmt.Sprintf("%q", name)
		default:
			want = fmt.Sprintf("%q", want)
		}
		return Input{}, fmt.Errorf("no DaemonSet %s in the input; it has %s", want, names(in.DaemonSets))
	}
	in.DaemonSets = keep
	in.Others = append(append([]*appsv1.DaemonSet(nil), in.Others...), others...)
	return in, nil
}

// names lists DaemonSets as "a/x, b/y", or "none".
func names(dss []*appsv1.DaemonSet) string {
	if len(dss) == 0 {
		return "none"
	}
	var s []string
	for _, ds := range dss {
		s = append(s, Key(ds))
	}
	return strings.Join(s, ", ")
}

// Section is one DaemonSet's plan and what a reader of it needs.
type Section struct {
	// DaemonSet is the DaemonSet as planned: with the API server's
	// defaults (plan.Default).
	DaemonSet *appsv1.DaemonSet
	// Invalid lists what placement.Validate finds wrong with DaemonSet;
	// an invalid DaemonSet is not planned (Plan is zero).
	Invalid field.ErrorList
	// Plan is the plan, with Options.Explain and Options.Annotations.
	Plan plan.Plan
	Now  time.Time
	// Nodes are the cluster's nodes by name.
	Nodes map[string]*corev1.Node
	// Revisions are the input's ControllerRevisions, for history.
	Revisions []*appsv1.ControllerRevision
	// Budget is the rolling update budget at the planned desired count.
	Budget rollout.Budget
	// numbers maps a revision hash to its revision number (from the
	// DaemonSet's revisions and the plan's revision writes).
	numbers map[string]int64
}

// Planned reports whether the section has a plan (the DaemonSet is
// valid).
func (s *Section) Planned() bool { return len(s.Invalid) == 0 }

// Failed reports whether the section needs attention: an invalid
// DaemonSet or a sync error.
func (s *Section) Failed() bool { return !s.Planned() || s.Plan.Err != nil }

// Node returns the report of the named node, false when the plan has none.
func (s *Section) Node(name string) (plan.NodeReport, bool) {
	i, ok := slices.BinarySearchFunc(s.Plan.Nodes, name, func(r plan.NodeReport, n string) int { return strings.Compare(r.Node, n) })
	if !ok {
		return plan.NodeReport{}, false
	}
	return s.Plan.Nodes[i], true
}

// RevisionNumber returns the revision number of the revision with hash, 0
// when unknown.
func (s *Section) RevisionNumber(hash string) int64 { return s.numbers[hash] }

// Plan plans every DaemonSet of in.DaemonSets at now, one after the other,
// in input order, as the example controller does: with the API server's
// defaults applied to each, its rollout.dsplan.io/ annotations and a
// report per node. A DaemonSet that placement.Validate rejects is not
// planned (its Section lists the errors). A DaemonSet in a rollout group
// (rollout.AnnotationGroup) is held on the nodes where another DaemonSet
// of its group, in DaemonSets or Others, is unavailable.
func Plan(in Input, now time.Time) []Section {
	cluster := plan.NewCluster(in.Nodes)
	nodes := make(map[string]*corev1.Node, len(in.Nodes))
	for _, n := range in.Nodes {
		if n != nil {
			nodes[n.Name] = n
		}
	}
	all := append(append([]*appsv1.DaemonSet(nil), in.DaemonSets...), in.Others...)
	defaulted := make([]*appsv1.DaemonSet, len(all))
	for i, ds := range all {
		defaulted[i], _ = plan.Default(ds)
	}
	var out []Section
	for _, ds := range defaulted[:len(in.DaemonSets)] {
		sec := Section{DaemonSet: ds, Now: now, Nodes: nodes, Revisions: in.Revisions, Invalid: placement.Validate(ds)}
		if sec.Planned() {
			opts := plan.Options{Explain: true, Annotations: true}
			if group := ds.Annotations[rollout.AnnotationGroup]; group != "" {
				opts.Rollout.Held = held(cluster, ds, group, defaulted, in.Pods, now)
			}
			sec.Plan = cluster.Plan(plan.Snapshot{DaemonSet: ds, Pods: in.Pods, Revisions: in.Revisions, Now: now}, opts)
			sec.Budget, _ = rollout.Budgets(ds, int(sec.Plan.Status.DesiredNumberScheduled))
		}
		sec.numbers = revisionNumbers(ds, in.Revisions, sec.Plan)
		out = append(out, sec)
	}
	return out
}

// held returns the nodes where another DaemonSet of ds's group is
// unavailable (plan.Cluster.Unavailable), as the example controller
// computes them.
func held(cluster *plan.Cluster, ds *appsv1.DaemonSet, group string, all []*appsv1.DaemonSet, pods []*corev1.Pod, now time.Time) map[string]bool {
	out := map[string]bool{}
	for _, other := range all {
		if other == ds || other.Annotations[rollout.AnnotationGroup] != group {
			continue
		}
		u, err := cluster.Unavailable(plan.Snapshot{DaemonSet: other, Pods: pods, Now: now}, plan.Options{})
		if err == nil {
			maps.Copy(out, u)
		}
	}
	return out
}

// revisionNumbers maps the hashes of ds's revisions to their numbers.
func revisionNumbers(ds *appsv1.DaemonSet, revs []*appsv1.ControllerRevision, p plan.Plan) map[string]int64 {
	m := map[string]int64{}
	add := func(r *appsv1.ControllerRevision) {
		if r == nil || r.Namespace != ds.Namespace {
			return
		}
		hash := r.Labels[revision.LabelKey]
		if hash == "" || !strings.HasPrefix(r.Name, ds.Name+"-") {
			return
		}
		if r.Revision > m[hash] {
			m[hash] = r.Revision
		}
	}
	for _, r := range revs {
		add(r)
	}
	for _, r := range p.Revisions.Create {
		add(r)
	}
	for _, r := range p.Revisions.Update {
		add(r)
	}
	return m
}

// ExitCode is the exit status of a plan run over sections: 1 when one
// failed (an invalid DaemonSet or a sync error), else 2 when one writes
// anything, else 0.
func ExitCode(sections []Section) int {
	code := 0
	for i := range sections {
		switch {
		case sections[i].Failed():
			return 1
		case sections[i].Plan.Writes():
			code = 2
		}
	}
	return code
}
