package report

import (
	"fmt"
	"io"
	"strings"
	"text/tabwriter"

	"github.com/dsplan/dsplan/plan"
)

// Explain writes node's report (every node's for ""), one block per node
// in `kubectl describe` style: the node, the DaemonSet, the state and its
// reason, the DaemonSet rule that decides the node (a field path), what may
// run there, the node's labels and taints, the DaemonSet's pods on it and
// what this sync does there. An invalid DaemonSet's block lists its errors.
func (s *Section) Explain(w io.Writer, node string) error {
	if !s.Planned() {
		fmt.Fprintln(w, s.Heading())
		for _, e := range s.Invalid {
			fmt.Fprintln(w, "  "+e.Error())
		}
		return nil
	}
	first := true
	for _, r := range s.Plan.Nodes {
		if node != "" && r.Node != node {
			continue
		}
		if !first {
			fmt.Fprintln(w)
		}
		first = false
		if err := s.explainNode(w, r); err != nil {
			return err
		}
	}
	if first && node != "" {
		fmt.Fprintf(w, "Node:\t%s\nDaemonSet:\t%s\nState:\tnot in the plan\n", node, Key(s.DaemonSet))
	}
	return nil
}

func (s *Section) explainNode(w io.Writer, r plan.NodeReport) error {
	tw := tabwriter.NewWriter(w, 0, 8, 2, ' ', 0)
	line := func(key string, values ...string) {
		if len(values) == 0 {
			values = []string{"<none>"}
		}
		for i, v := range values {
			if i == 0 {
				fmt.Fprintf(tw, "%s:\t%s\n", key, cell(v))
			} else {
				fmt.Fprintf(tw, "\t%s\n", cell(v))
			}
		}
	}
	line("Node", r.Node)
	ds := Key(s.DaemonSet)
	if s.Plan.Hash != "" {
		ds += ", revision " + s.revisionText(s.Plan.Hash)
	}
	line("DaemonSet", ds)
	line("State", string(r.State))
	line("Reason", s.Reason(r))
	if r.Placement.Field != "" {
		line("Rule", r.Placement.Field)
	}
	line("Placement", Verdict(r.Placement.Decision, len(r.Pods) > 0))
	if n := s.Nodes[r.Node]; n != nil {
		var labels []string
		for _, k := range sortedKeys(n.Labels) {
			labels = append(labels, k+"="+n.Labels[k])
		}
		line("Labels", labels...)
		var taints []string
		for _, t := range n.Spec.Taints {
			taints = append(taints, t.ToString())
		}
		line("Taints", taints...)
		if n.Spec.Unschedulable {
			line("Unschedulable", "true (cordoned; daemon pods tolerate it)")
		}
	} else {
		line("Labels", "<the node does not exist>")
	}
	var pods []string
	for _, p := range r.Pods {
		pods = append(pods, s.podWords(p))
	}
	line("Pods", pods...)
	line("This sync", s.syncWords(r)...)
	return tw.Flush()
}

// podWords describes a pod: "fluentd-x8w2n: revision 2 (6dc64ff4fc,
// current), Running, ready, available".
func (s *Section) podWords(p plan.PodReport) string {
	rev := s.revisionText(p.Revision)
	if p.Updated {
		rev += ", current"
	} else {
		rev += ", old"
	}
	parts := []string{p.Name + ": revision " + rev}
	if p.Phase != "" {
		parts = append(parts, string(p.Phase))
	}
	switch {
	case p.Available:
		parts = append(parts, "ready", "available")
	case p.Ready:
		parts = append(parts, "ready", "not yet available")
	default:
		parts = append(parts, "not ready")
	}
	if p.Deleting {
		parts = append(parts, "terminating")
	}
	return strings.Join(parts, ", ")
}

// syncWords says what the sync does on node r, or why it does nothing.
func (s *Section) syncWords(r plan.NodeReport) []string {
	var out []string
	for _, d := range r.Deletes {
		out = append(out, fmt.Sprintf("delete pod %s (%s)", d.Pod, d.Reason))
	}
	if r.Create != "" {
		out = append(out, fmt.Sprintf("create a pod of revision %s (%s)", s.revisionShort(s.Plan.Hash), r.Create))
	}
	if len(out) > 0 {
		return out
	}
	if r.Wait != nil {
		return []string{"nothing; waits: " + waitWords(r.Wait)}
	}
	return []string{"nothing"}
}
