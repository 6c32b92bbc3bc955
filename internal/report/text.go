package report

import (
	"fmt"
	"io"
	"slices"
	"strconv"
	"strings"
	"text/tabwriter"

	appsv1 "k8s.io/api/apps/v1"
	"k8s.io/apimachinery/pkg/labels"

	"github.com/dsplan/dsplan/plan"
	"github.com/dsplan/dsplan/status"
)

// Table writes sections as whatif's table, a block per DaemonSet separated
// by a blank line: a heading (DaemonSet, current revision, update
// strategy), one line per node (NODE, STATE, ACTION, REASON; wide adds
// PODS, REVISION, READY, AVAILABLE and FIELD before REASON), the `kubectl
// get ds` row of the status after this sync with a MISSCHEDULED column,
// the writes that are not about one node, a summary ("Nothing to do" when
// the plan writes nothing), warnings and the sync's error. An invalid
// DaemonSet's block lists its field errors instead.
func Table(w io.Writer, sections []Section, wide bool) error {
	for i := range sections {
		if i > 0 {
			fmt.Fprintln(w)
		}
		if err := sections[i].table(w, wide); err != nil {
			return err
		}
	}
	return nil
}

// Heading is the first line of a section, e.g. "DaemonSet
// kube-system/fluentd: revision 2 (6dc64ff4fc), RollingUpdate
// (maxUnavailable 1, maxSurge 0)".
func (s *Section) Heading() string {
	h := "DaemonSet " + Key(s.DaemonSet)
	if !s.Planned() {
		return h + " is invalid: the API server would reject it, so it is not planned"
	}
	if s.Plan.Hash != "" {
		h += ": revision " + s.revisionText(s.Plan.Hash)
	} else {
		h += ":"
	}
	return h + ", " + Strategy(s.DaemonSet)
}

func (s *Section) table(w io.Writer, wide bool) error {
	fmt.Fprintln(w, s.Heading())
	if !s.Planned() {
		for _, e := range s.Invalid {
			fmt.Fprintln(w, "  "+e.Error())
		}
		return nil
	}
	fmt.Fprintln(w)
	tw := tabwriter.NewWriter(w, 0, 8, 3, ' ', 0)
	if wide {
		fmt.Fprintln(tw, "NODE\tSTATE\tACTION\tPODS\tREVISION\tREADY\tAVAILABLE\tFIELD\tREASON")
	} else {
		fmt.Fprintln(tw, "NODE\tSTATE\tACTION\tREASON")
	}
	for _, r := range s.Plan.Nodes {
		cells := []string{r.Node, string(r.State), Action(r)}
		if wide {
			cells = append(cells, s.wideCells(r)...)
		}
		cells = append(cells, s.Reason(r))
		for i := range cells {
			cells[i] = cell(cells[i])
		}
		fmt.Fprintln(tw, strings.Join(cells, "\t"))
	}
	if len(s.Plan.Nodes) == 0 {
		fmt.Fprintln(tw, "(no nodes)")
	}
	if err := tw.Flush(); err != nil {
		return err
	}
	fmt.Fprintln(w)
	if err := s.statusTable(w); err != nil {
		return err
	}
	fmt.Fprintln(w)
	if other := s.otherWrites(); len(other) > 0 {
		fmt.Fprintln(w, "Other writes:")
		for _, o := range other {
			fmt.Fprintln(w, "  "+o)
		}
	}
	fmt.Fprintln(w, s.Summary())
	for _, warn := range s.Plan.Warnings {
		fmt.Fprintln(w, "Warning: "+warn.String())
	}
	if s.Plan.Err != nil {
		fmt.Fprintln(w, "Error: the sync fails: "+s.Plan.Err.Error())
	}
	return nil
}

// wideCells are the PODS, REVISION, READY, AVAILABLE and FIELD cells.
func (s *Section) wideCells(r plan.NodeReport) []string {
	var pods, revs []string
	ready, available, live := 0, 0, 0
	for _, p := range r.Pods {
		name := p.Name
		if p.Deleting {
			name += " (terminating)"
		}
		pods = append(pods, name)
		rev := s.revisionText(p.Revision)
		if p.Revision == "" {
			rev = "<none>"
		}
		if !slices.Contains(revs, rev) {
			revs = append(revs, rev)
		}
		if p.Deleting {
			continue
		}
		live++
		if p.Ready {
			ready++
		}
		if p.Available {
			available++
		}
	}
	field := r.Placement.Field
	if field == "" {
		field = "-"
	}
	if len(pods) == 0 {
		return []string{"<none>", "-", "-", "-", field}
	}
	return []string{strings.Join(pods, ","), strings.Join(revs, ","),
		fmt.Sprintf("%d/%d", ready, live), fmt.Sprintf("%d/%d", available, live), field}
}

// cell keeps a table cell on one line.
func cell(s string) string {
	return strings.Map(func(r rune) rune {
		if r == '\t' || r == '\n' || r == '\r' || r == '\f' {
			return ' '
		}
		return r
	}, s)
}

// StatusHeader is status.Header with MISSCHEDULED after AVAILABLE.
func StatusHeader() []string {
	h := status.Header()
	return slices.Insert(h, 6, "MISSCHEDULED")
}

// StatusRow is the `kubectl get ds` row of the DaemonSet with the status
// after this sync, with numberMisscheduled after AVAILABLE.
func (s *Section) StatusRow() []string {
	after := s.DaemonSet.DeepCopy()
	if s.Planned() {
		after.Status = s.Plan.Status
	}
	row := status.Row(after, s.Now)
	return slices.Insert(row, 6, strconv.Itoa(int(after.Status.NumberMisscheduled)))
}

// statusTable writes StatusHeader and StatusRow aligned as kubectl aligns
// `kubectl get ds`.
func (s *Section) statusTable(w io.Writer) error {
	tw := tabwriter.NewWriter(w, 6, 4, 3, ' ', 0)
	fmt.Fprintln(tw, strings.Join(StatusHeader(), "\t"))
	fmt.Fprintln(tw, strings.Join(s.StatusRow(), "\t"))
	return tw.Flush()
}

// otherWrites are the plan's writes that are not about one node: revision
// writes, relabels, claims and the status.
func (s *Section) otherWrites() []string {
	p := &s.Plan
	var out []string
	for _, r := range p.Revisions.Create {
		out = append(out, fmt.Sprintf("create controllerrevision/%s (revision %d)", r.Name, r.Revision))
	}
	for _, r := range p.Revisions.Update {
		out = append(out, fmt.Sprintf("update controllerrevision/%s (revision %d)", r.Name, r.Revision))
	}
	for _, name := range p.Revisions.Delete {
		out = append(out, "delete controllerrevision/"+name+" (beyond revisionHistoryLimit)")
	}
	for _, pp := range p.PodPatches {
		out = append(out, "relabel pod/"+pp.Pod+": "+labels.Set(pp.Labels).String())
	}
	for _, c := range p.Claims {
		out = append(out, fmt.Sprintf("%s %s/%s (controller reference)", c.Type, strings.ToLower(string(c.Kind)), c.Name))
	}
	if p.StatusChanged {
		out = append(out, "update status: "+statusChanges(s.DaemonSet.Status, p.Status))
	}
	return out
}

// statusChanges lists the status fields that change, "a 1 → 2, b 0 → 3".
func statusChanges(before, after appsv1.DaemonSetStatus) string {
	var parts []string
	add := func(name string, a, b int64) {
		if a != b {
			parts = append(parts, fmt.Sprintf("%s %d → %d", name, a, b))
		}
	}
	add("observedGeneration", before.ObservedGeneration, after.ObservedGeneration)
	add("desiredNumberScheduled", int64(before.DesiredNumberScheduled), int64(after.DesiredNumberScheduled))
	add("currentNumberScheduled", int64(before.CurrentNumberScheduled), int64(after.CurrentNumberScheduled))
	add("numberMisscheduled", int64(before.NumberMisscheduled), int64(after.NumberMisscheduled))
	add("numberReady", int64(before.NumberReady), int64(after.NumberReady))
	add("updatedNumberScheduled", int64(before.UpdatedNumberScheduled), int64(after.UpdatedNumberScheduled))
	add("numberAvailable", int64(before.NumberAvailable), int64(after.NumberAvailable))
	add("numberUnavailable", int64(before.NumberUnavailable), int64(after.NumberUnavailable))
	var bc, ac int64
	if before.CollisionCount != nil {
		bc = int64(*before.CollisionCount)
	}
	if after.CollisionCount != nil {
		ac = int64(*after.CollisionCount)
	}
	add("collisionCount", bc, ac)
	if len(parts) == 0 {
		return "conditions"
	}
	return strings.Join(parts, ", ")
}

// Summary is the section's last line: what the plan writes and when
// kube-controller-manager syncs again, or "Nothing to do".
func (s *Section) Summary() string {
	if !s.Planned() {
		return "Not planned: the DaemonSet is invalid."
	}
	p := &s.Plan
	var text string
	if !p.Writes() {
		text = "Nothing to do: this sync writes nothing."
	} else {
		var parts []string
		count := func(n int, one, many string) {
			switch {
			case n == 1:
				parts = append(parts, "1 "+one)
			case n > 1:
				parts = append(parts, strconv.Itoa(n)+" "+many)
			}
		}
		count(len(p.Creates), "pod to create", "pods to create")
		count(len(p.Deletes), "pod to delete", "pods to delete")
		count(len(p.Revisions.Create)+len(p.Revisions.Update)+len(p.Revisions.Delete), "revision write", "revision writes")
		count(len(p.PodPatches), "pod relabel", "pod relabels")
		count(len(p.Claims), "ownership claim", "ownership claims")
		if p.StatusChanged {
			parts = append(parts, "a status update")
		}
		text = "Plan: " + strings.Join(parts, ", ") + "."
	}
	if p.RequeueAfter > 0 {
		text += fmt.Sprintf(" kube-controller-manager syncs again in %s.", p.RequeueAfter)
	}
	return text
}
