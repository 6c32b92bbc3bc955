package report

import (
	"encoding/json"
	"io"
	"maps"
	"slices"
	"time"

	appsv1 "k8s.io/api/apps/v1"
	corev1 "k8s.io/api/core/v1"
	"sigs.k8s.io/yaml"

	"github.com/dsplan/dsplan/plan"
)

// APIVersion is the apiVersion of whatif's JSON and YAML documents.
const APIVersion = "whatif.dsplan.io/v1alpha1"

// PlanDoc is one DaemonSet's plan in whatif's schema (kind Plan). Lists are
// never null.
type PlanDoc struct {
	APIVersion string `json:"apiVersion"`
	Kind       string `json:"kind"`
	DaemonSet  Ref    `json:"daemonSet"`
	// Now is the time the plan was made at, RFC 3339.
	Now string `json:"now"`
	// Invalid lists placement.Validate's errors; an invalid DaemonSet is
	// not planned.
	Invalid []FieldError `json:"invalid,omitempty"`
	// Error is the sync's error.
	Error string `json:"error,omitempty"`
	Hash  string `json:"hash"`
	// Revision is the current revision's number, 0 when unknown.
	Revision int64 `json:"revision"`
	// Writes is true when the sync writes anything.
	Writes     bool         `json:"writes"`
	Creates    []CreateDoc  `json:"creates"`
	Deletes    []DeleteDoc  `json:"deletes"`
	PodPatches []PodPatch   `json:"podPatches"`
	Claims     []Claim      `json:"claims"`
	Revisions  RevisionDocs `json:"revisions"`
	// Status is the DaemonSet's status after the sync; StatusWritten says
	// whether the sync writes it.
	Status        appsv1.DaemonSetStatus `json:"status"`
	StatusWritten bool                   `json:"statusWritten"`
	// RequeueAfter is when kube-controller-manager syncs again, e.g. "10s";
	// empty for no timed resync.
	RequeueAfter string       `json:"requeueAfter,omitempty"`
	Warnings     []WarningDoc `json:"warnings"`
	Nodes        []NodeEntry  `json:"nodes"`
}

// Ref names a DaemonSet.
type Ref struct {
	Namespace string `json:"namespace"`
	Name      string `json:"name"`
}

// FieldError is a validation error.
type FieldError struct {
	Field string `json:"field"`
	// Type is the error type, e.g. "FieldValueInvalid".
	Type string `json:"type"`
	// Value is the offending value.
	Value  any    `json:"value,omitempty"`
	Detail string `json:"detail,omitempty"`
	// Message is the error as one line.
	Message string `json:"message"`
}

// CreateDoc is a pod to create.
type CreateDoc struct {
	Node    string `json:"node"`
	Reason  string `json:"reason"`
	Message string `json:"message"`
}

// DeleteDoc is a pod to delete.
type DeleteDoc struct {
	Pod     string `json:"pod"`
	Node    string `json:"node"`
	Reason  string `json:"reason"`
	Message string `json:"message"`
}

// PodPatch relabels a pod.
type PodPatch struct {
	Pod    string            `json:"pod"`
	Labels map[string]string `json:"labels"`
}

// Claim adopts or releases an object.
type Claim struct {
	Kind  string `json:"kind"`
	Name  string `json:"name"`
	Type  string `json:"type"`
	Patch string `json:"patch"`
}

// RevisionDocs are the ControllerRevision writes.
type RevisionDocs struct {
	Create []RevisionRef `json:"create"`
	Update []RevisionRef `json:"update"`
	Delete []string      `json:"delete"`
}

// RevisionRef names a ControllerRevision and its number.
type RevisionRef struct {
	Name     string `json:"name"`
	Revision int64  `json:"revision"`
}

// WarningDoc is a plan warning.
type WarningDoc struct {
	Field   string `json:"field,omitempty"`
	Message string `json:"message"`
}

// NodeEntry is one node's report.
type NodeEntry struct {
	Name   string `json:"name"`
	Exists bool   `json:"exists"`
	// State is a plan.NodeState.
	State string `json:"state"`
	// Action is the table's ACTION: "delete pod/NAME", "create pod",
	// "wait" or "-".
	Action string `json:"action"`
	// Message is the table's REASON.
	Message   string       `json:"message"`
	Placement PlacementDoc `json:"placement"`
	Pods      []PodDoc     `json:"pods"`
	// Create is the create reason, "" for none.
	Create  string      `json:"create,omitempty"`
	Deletes []DeleteDoc `json:"deletes,omitempty"`
	Wait    *WaitDoc    `json:"wait,omitempty"`
}

// PlacementDoc is a node's placement decision with its cause.
type PlacementDoc struct {
	// Reason is a placement.Reason, e.g. "Eligible", "UntoleratedTaint".
	Reason string `json:"reason"`
	// Verdict says what may run there, in words.
	Verdict               string `json:"verdict"`
	ShouldRun             bool   `json:"shouldRun"`
	ShouldContinueRunning bool   `json:"shouldContinueRunning"`
	// Field is the DaemonSet rule the node fails, as a field path.
	Field  string        `json:"field,omitempty"`
	Detail string        `json:"detail,omitempty"`
	Taint  *corev1.Taint `json:"taint,omitempty"`
}

// PodDoc is a daemon pod on a node.
type PodDoc struct {
	Name string `json:"name"`
	// Revision is the pod's controller-revision-hash label.
	Revision  string `json:"revision"`
	Updated   bool   `json:"updated"`
	Ready     bool   `json:"ready"`
	Available bool   `json:"available"`
	Deleting  bool   `json:"deleting"`
	Phase     string `json:"phase,omitempty"`
}

// WaitDoc says why a node's old or missing pod waits.
type WaitDoc struct {
	Reason string `json:"reason"`
	Detail string `json:"detail,omitempty"`
	Pod    string `json:"pod,omitempty"`
}

// ListDoc holds several documents (kind PlanList or NodeReportList).
type ListDoc[T any] struct {
	APIVersion string `json:"apiVersion"`
	Kind       string `json:"kind"`
	Items      []T    `json:"items"`
}

// Document is the whatif document of sections: a PlanDoc for one, a
// PlanList for several (or none).
func Document(sections []Section) any {
	docs := make([]PlanDoc, 0, len(sections))
	for i := range sections {
		docs = append(docs, sections[i].Doc())
	}
	if len(docs) == 1 {
		return docs[0]
	}
	return ListDoc[PlanDoc]{APIVersion: APIVersion, Kind: "PlanList", Items: docs}
}

// Doc is the section in whatif's schema.
func (s *Section) Doc() PlanDoc {
	ds := s.DaemonSet
	d := PlanDoc{
		APIVersion: APIVersion, Kind: "Plan",
		DaemonSet: Ref{Namespace: ds.Namespace, Name: ds.Name},
		Now:       s.Now.UTC().Format(time.RFC3339),
		Creates:   []CreateDoc{}, Deletes: []DeleteDoc{}, PodPatches: []PodPatch{}, Claims: []Claim{},
		Revisions: RevisionDocs{Create: []RevisionRef{}, Update: []RevisionRef{}, Delete: []string{}},
		Status:    ds.Status, Warnings: []WarningDoc{}, Nodes: []NodeEntry{},
	}
	if !s.Planned() {
		for _, e := range s.Invalid {
			d.Invalid = append(d.Invalid, FieldError{Field: e.Field, Type: string(e.Type), Value: e.BadValue, Detail: e.Detail, Message: e.Error()})
		}
		return d
	}
	p := &s.Plan
	if p.Err != nil {
		d.Error = p.Err.Error()
	}
	d.Hash, d.Revision, d.Writes = p.Hash, s.numbers[p.Hash], p.Writes()
	d.Status, d.StatusWritten = p.Status, p.StatusChanged
	if p.RequeueAfter > 0 {
		d.RequeueAfter = p.RequeueAfter.String()
	}
	reports := map[string]plan.NodeReport{}
	for _, r := range p.Nodes {
		reports[r.Node] = r
	}
	for _, c := range p.Creates {
		r := reports[c.Node]
		r.Create = c.Reason
		d.Creates = append(d.Creates, CreateDoc{Node: c.Node, Reason: string(c.Reason), Message: s.createWords(r)})
	}
	for _, del := range p.Deletes {
		d.Deletes = append(d.Deletes, s.deleteDoc(del, reports[del.Node]))
	}
	for _, pp := range p.PodPatches {
		d.PodPatches = append(d.PodPatches, PodPatch{Pod: pp.Pod, Labels: pp.Labels})
	}
	for _, c := range p.Claims {
		d.Claims = append(d.Claims, Claim{Kind: string(c.Kind), Name: c.Name, Type: string(c.Type), Patch: c.Patch})
	}
	for _, r := range p.Revisions.Create {
		d.Revisions.Create = append(d.Revisions.Create, RevisionRef{Name: r.Name, Revision: r.Revision})
	}
	for _, r := range p.Revisions.Update {
		d.Revisions.Update = append(d.Revisions.Update, RevisionRef{Name: r.Name, Revision: r.Revision})
	}
	d.Revisions.Delete = append(d.Revisions.Delete, p.Revisions.Delete...)
	for _, w := range p.Warnings {
		d.Warnings = append(d.Warnings, WarningDoc{Field: w.Field, Message: w.Message})
	}
	for _, r := range p.Nodes {
		d.Nodes = append(d.Nodes, s.nodeState(r))
	}
	return d
}

func (s *Section) deleteDoc(d plan.Delete, r plan.NodeReport) DeleteDoc {
	return DeleteDoc{Pod: d.Pod, Node: d.Node, Reason: string(d.Reason), Message: s.deleteWords(d, r)}
}

// nodeState is r in whatif's schema.
func (s *Section) nodeState(r plan.NodeReport) NodeEntry {
	x := r.Placement
	n := NodeEntry{
		Name: r.Node, Exists: r.Exists, State: string(r.State), Action: Action(r), Message: s.Reason(r),
		Placement: PlacementDoc{
			Reason: x.Reason.String(), Verdict: Verdict(x.Decision, len(r.Pods) > 0),
			ShouldRun: x.ShouldRun(), ShouldContinueRunning: x.ShouldContinueRunning(),
			Field: x.Field, Detail: x.Detail,
		},
		Pods:   []PodDoc{},
		Create: string(r.Create),
	}
	if x.Taint != nil {
		t := *x.Taint
		n.Placement.Taint = &t
	}
	for _, p := range r.Pods {
		n.Pods = append(n.Pods, PodDoc{Name: p.Name, Revision: p.Revision, Updated: p.Updated, Ready: p.Ready,
			Available: p.Available, Deleting: p.Deleting, Phase: string(p.Phase)})
	}
	for _, d := range r.Deletes {
		n.Deletes = append(n.Deletes, s.deleteDoc(d, r))
	}
	if r.Wait != nil {
		n.Wait = &WaitDoc{Reason: string(r.Wait.Reason), Detail: r.Wait.Detail, Pod: r.Wait.Pod}
	}
	return n
}

// NodeDoc is explain's document for one node of one DaemonSet (kind
// NodeReport).
type NodeDoc struct {
	APIVersion string            `json:"apiVersion"`
	Kind       string            `json:"kind"`
	DaemonSet  Ref               `json:"daemonSet"`
	Now        string            `json:"now"`
	Hash       string            `json:"hash"`
	Invalid    []FieldError      `json:"invalid,omitempty"`
	Error      string            `json:"error,omitempty"`
	Node       NodeEntry         `json:"node"`
	Labels     map[string]string `json:"labels"`
	Taints     []corev1.Taint    `json:"taints"`
}

// NodeDocs are the NodeDocs of node (every node for "") in the section;
// an invalid DaemonSet gives one with its errors and no node.
func (s *Section) NodeDocs(node string) []NodeDoc {
	ds := s.DaemonSet
	base := NodeDoc{APIVersion: APIVersion, Kind: "NodeReport", DaemonSet: Ref{Namespace: ds.Namespace, Name: ds.Name},
		Now: s.Now.UTC().Format(time.RFC3339), Hash: s.Plan.Hash, Labels: map[string]string{}, Taints: []corev1.Taint{}}
	if !s.Planned() {
		base.Invalid = s.Doc().Invalid
		base.Node = NodeEntry{Name: node, Pods: []PodDoc{}}
		return []NodeDoc{base}
	}
	if s.Plan.Err != nil {
		base.Error = s.Plan.Err.Error()
	}
	var out []NodeDoc
	for _, r := range s.Plan.Nodes {
		if node != "" && r.Node != node {
			continue
		}
		d := base
		d.Node = s.nodeState(r)
		if n := s.Nodes[r.Node]; n != nil {
			d.Labels = maps.Clone(n.Labels)
			if d.Labels == nil {
				d.Labels = map[string]string{}
			}
			d.Taints = append([]corev1.Taint{}, n.Spec.Taints...)
		}
		out = append(out, d)
	}
	return out
}

// NodeDocument is a NodeDoc for one, a NodeReportList for several.
func NodeDocument(docs []NodeDoc) any {
	if len(docs) == 1 {
		return docs[0]
	}
	if docs == nil {
		docs = []NodeDoc{}
	}
	return ListDoc[NodeDoc]{APIVersion: APIVersion, Kind: "NodeReportList", Items: docs}
}

// WriteJSON writes doc as indented JSON.
func WriteJSON(w io.Writer, doc any) error {
	enc := json.NewEncoder(w)
	enc.SetIndent("", "  ")
	return enc.Encode(doc)
}

// WriteYAML writes doc as YAML (keys sorted, as kubectl -o yaml).
func WriteYAML(w io.Writer, doc any) error {
	b, err := yaml.Marshal(doc)
	if err != nil {
		return err
	}
	_, err = w.Write(b)
	return err
}

// sortedKeys returns m's keys, sorted.
func sortedKeys[V any](m map[string]V) []string { return slices.Sorted(maps.Keys(m)) }
