package status

import (
	"errors"
	"fmt"
	"io"
	"strconv"
	"strings"
	"text/tabwriter"
	"time"

	appsv1 "k8s.io/api/apps/v1"
	"k8s.io/apimachinery/pkg/labels"
	"k8s.io/apimachinery/pkg/util/duration"
)

// ErrNotRollingUpdate is the error Rollout returns for a DaemonSet whose
// update strategy is not RollingUpdate; its text is kubectl's.
var ErrNotRollingUpdate = errors.New("rollout status is only available for RollingUpdate strategy type")

// RolloutStatus is the verdict of `kubectl rollout status` on a DaemonSet.
// The zero value means "not done" with no message.
type RolloutStatus struct {
	// Done is true when kubectl considers the rollout finished and stops
	// watching.
	Done bool
	// Message is the line kubectl prints, including its trailing newline.
	Message string
}

// Rollout returns what `kubectl rollout status daemonset/NAME` reports for
// ds, as the DaemonSetStatusViewer of k8s.io/kubectl v0.37.2
// (pkg/polymorphichelpers/rollout_status.go) decides it from ds.Status
// alone:
//  1. A strategy other than RollingUpdate (including an empty one) is an
//     error, ErrNotRollingUpdate.
//  2. While ds.Generation > status.observedGeneration, the controller has
//     not seen the spec yet: "Waiting for daemon set spec update to be
//     observed...".
//  3. While updatedNumberScheduled < desiredNumberScheduled: "Waiting for
//     daemon set %q rollout to finish: %d out of %d new pods have been
//     updated...".
//  4. While numberAvailable < desiredNumberScheduled: "Waiting for daemon
//     set %q rollout to finish: %d of %d updated pods are available...".
//  5. Otherwise it is done: "daemon set %q successfully rolled out".
//
// Each message ends in a newline, as kubectl prints it. On error Rollout
// returns the zero RolloutStatus (kubectl itself returns done alongside the
// error, but its command then exits with the error). A nil ds is an error.
func Rollout(ds *appsv1.DaemonSet) (RolloutStatus, error) {
	if ds == nil {
		return RolloutStatus{}, errors.New("nil DaemonSet")
	}
	if ds.Spec.UpdateStrategy.Type != appsv1.RollingUpdateDaemonSetStrategyType {
		return RolloutStatus{}, ErrNotRollingUpdate
	}
	st := &ds.Status
	switch {
	case ds.Generation > st.ObservedGeneration:
		return RolloutStatus{Message: "Waiting for daemon set spec update to be observed...\n"}, nil
	case st.UpdatedNumberScheduled < st.DesiredNumberScheduled:
		return RolloutStatus{Message: fmt.Sprintf("Waiting for daemon set %q rollout to finish: %d out of %d new pods have been updated...\n",
			ds.Name, st.UpdatedNumberScheduled, st.DesiredNumberScheduled)}, nil
	case st.NumberAvailable < st.DesiredNumberScheduled:
		return RolloutStatus{Message: fmt.Sprintf("Waiting for daemon set %q rollout to finish: %d of %d updated pods are available...\n",
			ds.Name, st.NumberAvailable, st.DesiredNumberScheduled)}, nil
	}
	return RolloutStatus{Done: true, Message: fmt.Sprintf("daemon set %q successfully rolled out\n", ds.Name)}, nil
}

// Header returns the column titles `kubectl get daemonsets` prints:
// NAME, DESIRED, CURRENT, READY, UP-TO-DATE, AVAILABLE, NODE SELECTOR, AGE.
func Header() []string {
	return []string{"NAME", "DESIRED", "CURRENT", "READY", "UP-TO-DATE", "AVAILABLE", "NODE SELECTOR", "AGE"}
}

// Row returns the cells `kubectl get daemonsets` prints for ds at now, in
// the order of Header, formatted as the API server's table printer
// (printDaemonSet of k8s.io/kubernetes v1.37.2) and kubectl do:
//  1. the counters come from ds.Status, in decimal;
//  2. NODE SELECTOR is the pod template's node selector as "k=v,k2=v2"
//     sorted by key, or "<none>" when empty;
//  3. AGE is now − creationTimestamp in kubectl's human form ("5m", "3d"),
//     or "<unknown>" when the timestamp is unset;
//  4. as kubectl does for every cell, text from a form feed, newline or
//     carriage return on is cut and replaced by "...", and ESC is shown
//     as "^[".
//
// A nil ds gives nil.
func Row(ds *appsv1.DaemonSet, now time.Time) []string {
	if ds == nil {
		return nil
	}
	row := rawRow(ds, now)
	for i := range row {
		row[i] = cell(row[i])
	}
	return row
}

// rawRow returns the cells of Row before kubectl's escaping, as the API
// server sends them.
func rawRow(ds *appsv1.DaemonSet, now time.Time) []string {
	st := &ds.Status
	age := "<unknown>"
	if !ds.CreationTimestamp.IsZero() {
		age = duration.HumanDuration(now.Sub(ds.CreationTimestamp.Time))
	}
	return []string{
		ds.Name,
		strconv.FormatInt(int64(st.DesiredNumberScheduled), 10),
		strconv.FormatInt(int64(st.CurrentNumberScheduled), 10),
		strconv.FormatInt(int64(st.NumberReady), 10),
		strconv.FormatInt(int64(st.UpdatedNumberScheduled), 10),
		strconv.FormatInt(int64(st.NumberAvailable), 10),
		labels.FormatLabels(ds.Spec.Template.Spec.NodeSelector),
		age,
	}
}

// Table writes Header and one Row per DaemonSet, in the given order,
// aligned as kubectl aligns them: a tabwriter with minimum width 6, tab
// width 4 and padding 3, and header titles padded to the widest cell of
// their column before escaping (which only shows when a cell was cut). Like
// kubectl, it writes nothing at all when there is no DaemonSet to show; nil
// entries are skipped. It returns the first write error.
func Table(w io.Writer, dss []*appsv1.DaemonSet, now time.Time) error {
	var rows [][]string
	for _, ds := range dss {
		if ds != nil {
			rows = append(rows, rawRow(ds, now))
		}
	}
	if len(rows) == 0 {
		return nil
	}
	header := Header()
	for i := range len(header) - 1 {
		width := len(header[i])
		for _, row := range rows {
			width = max(width, len(row[i]))
		}
		header[i] += strings.Repeat(" ", width-len(header[i]))
	}
	var b strings.Builder
	b.WriteString(strings.Join(header, "\t"))
	b.WriteByte('\n')
	for _, row := range rows {
		for i := range row {
			if i > 0 {
				b.WriteByte('\t')
			}
			b.WriteString(cell(row[i]))
		}
		b.WriteByte('\n')
	}
	tw := tabwriter.NewWriter(w, 6, 4, 3, ' ', 0)
	if _, err := io.WriteString(tw, b.String()); err != nil {
		return err
	}
	return tw.Flush()
}

// cell renders a text cell as kubectl's table printer does: cut at the
// first line break (form feed, newline or carriage return) with "..."
// appended, and ESC escaped as "^[".
func cell(s string) string {
	cut := false
	if i := strings.IndexAny(s, "\f\n\r"); i >= 0 {
		s, cut = s[:i], true
	}
	s = strings.ReplaceAll(s, "\x1b", "^[")
	if cut {
		s += "..."
	}
	return s
}
