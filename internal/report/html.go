package report

import (
	"bufio"
	"fmt"
	"html"
	"io"
	"strconv"
	"strings"
	"time"

	"github.com/dsplan/dsplan/plan"
)

// States are the node states in the order the page shows them, with their
// legend text and colour.
var States = []struct {
	State plan.NodeState
	Label string
	Color string
}{
	{plan.StateUpToDate, "up to date", "#2e9d5b"},
	{plan.StateOld, "old revision", "#e8b400"},
	{plan.StateUnavailable, "unavailable", "#f07f1a"},
	{plan.StateMissing, "missing", "#c2307a"},
	{plan.StateToCreate, "to create", "#2a73d4"},
	{plan.StateToDelete, "to delete", "#cf2e21"},
	{plan.StateMisscheduled, "misscheduled", "#8c63c7"},
	{plan.StateIneligible, "ineligible", "#d3d6db"},
	{plan.StateGone, "node gone", "#4f545c"},
}

// labelledCells is the node count up to which the grid's cells show the
// node names; above it they are small squares (names on hover).
const labelledCells = 300

// pageCSS has no '<' or '&', so that the page stays well-formed XML.
const pageCSS = `
:root { color-scheme: light; font-family: system-ui, -apple-system, "Segoe UI", Roboto, sans-serif; }
body { margin: 0 auto; max-width: 1500px; padding: 1rem 1.5rem 3rem; color: #1d2127; background: #fff; line-height: 1.4; }
h1 { font-size: 1.4rem; margin: 0 0 .2rem; }
h2 { font-size: 1.2rem; margin: 2rem 0 .3rem; border-top: 1px solid #d0d4da; padding-top: 1rem; }
h3 { font-size: 1rem; margin: 1.2rem 0 .4rem; }
.sub, .meta { color: #5a616b; margin: 0; }
.summary { font-weight: 600; margin: .6rem 0; }
.summary.ok { color: #1f7a45; }
.summary.fail, .error { color: #b3261e; font-weight: 600; }
table { border-collapse: collapse; font-size: .85rem; }
caption { text-align: left; font-weight: 600; padding: .3rem 0; }
th, td { text-align: left; padding: .2rem .6rem .2rem 0; vertical-align: top; border-bottom: 1px solid #eceef1; }
thead th { border-bottom: 2px solid #c5cad1; white-space: nowrap; }
table.status td, table.status th { font-family: ui-monospace, Menlo, Consolas, monospace; padding-right: 1.4rem; }
.legend { list-style: none; padding: 0; margin: .4rem 0; display: flex; flex-wrap: wrap; gap: .3rem 1.2rem; font-size: .85rem; }
.sw { display: inline-block; width: .85em; height: .85em; border-radius: 2px; vertical-align: -.1em; margin-right: .35em; border: 1px solid rgba(0,0,0,.25); }
.bar { display: flex; height: .7rem; border-radius: 3px; overflow: hidden; margin: .3rem 0 .8rem; max-width: 900px; border: 1px solid #c5cad1; }
.bar span { display: block; height: 100%; }
.grid { display: flex; flex-wrap: wrap; gap: 3px; margin: .4rem 0 1rem; }
.grid a { display: block; text-decoration: none; color: #111; border-radius: 2px; border: 1px solid rgba(0,0,0,.2); }
.grid.small a { width: 9px; height: 9px; }
.grid.small { gap: 2px; }
.grid.big a { font-size: .75rem; padding: .25rem .45rem; min-width: 5.5rem; white-space: nowrap; overflow: hidden; text-overflow: ellipsis; max-width: 12rem; }
.grid.big a.dark { color: #fff; }
.grid.big a.act { box-shadow: 0 0 0 2px #111; }
.grid a:hover, .grid a:focus { box-shadow: 0 0 0 2px #000, 0 0 0 4px #fff; }
.nodes-wrap { content-visibility: auto; contain-intrinsic-size: auto 2000px; }
table.nodes { width: 100%; }
table.nodes thead th { position: sticky; top: 0; background: #fff; }
table.nodes tbody tr:target { background: #fff3b0; }
table.nodes th, table.nodes td { white-space: nowrap; }
table.nodes td.reason { white-space: normal; min-width: 24rem; }
.mono { font-family: ui-monospace, Menlo, Consolas, monospace; font-size: .8rem; }
ul.warnings, ul.invalid { margin: .3rem 0; padding-left: 1.2rem; color: #7a4a00; }
ul.invalid { color: #b3261e; }
.skip { position: absolute; left: -9999px; }
nav ul { margin: .3rem 0; padding-left: 1.2rem; }
@media (prefers-reduced-motion: no-preference) { .grid a { transition: box-shadow .1s; } }
`

// HTML writes sections as one self-contained page: no script, no external
// resource, well-formed XML (XHTML syntax). Per DaemonSet: its heading and
// summary, the `kubectl get ds` row after this sync, a legend with the
// count of nodes in each state, a grid of every node coloured by state
// (the node, state and reason in each cell's title; cells with an action
// outlined; a cell links to the node's row), the actions of this sync,
// warnings and errors, and a table of every node with its state, action,
// pods and reason. Cells show node names up to 300 nodes and are small
// squares above.
func HTML(w io.Writer, sections []Section) error {
	b := bufio.NewWriterSize(w, 64<<10)
	title := "whatif"
	if len(sections) == 1 {
		title += ": " + Key(sections[0].DaemonSet)
	}
	now := time.Time{}
	if len(sections) > 0 {
		now = sections[0].Now
	}
	b.WriteString("<!DOCTYPE html>\n<html xmlns=\"http://www.w3.org/1999/xhtml\" lang=\"en\">\n<head>\n<meta charset=\"utf-8\"/>\n")
	b.WriteString("<meta name=\"viewport\" content=\"width=device-width, initial-scale=1\"/>\n")
	fmt.Fprintf(b, "<title>%s</title>\n<style>%s", esc(title), pageCSS)
	for _, st := range States {
		fmt.Fprintf(b, ".%s { background: %s; }\n", stateClass(st.State), st.Color)
	}
	b.WriteString("</style>\n</head>\n<body>\n")
	b.WriteString("<header>\n<h1>What the DaemonSet controller would do next</h1>\n")
	fmt.Fprintf(b, "<p class=\"sub\">kube-controller-manager v1.37.2's decisions, planned by dsplan at %s. Hover a node for its reason; the table under each grid holds the same information.</p>\n",
		esc(now.UTC().Format(time.RFC3339)))
	if len(sections) > 1 {
		b.WriteString("<nav aria-label=\"DaemonSets\"><ul>\n")
		for i := range sections {
			s := &sections[i]
			fmt.Fprintf(b, "<li><a href=\"#ds%d\">%s</a>: %s</li>\n", i, esc(Key(s.DaemonSet)), esc(s.Summary()))
		}
		b.WriteString("</ul></nav>\n")
	}
	b.WriteString("</header>\n<main>\n")
	for i := range sections {
		sections[i].html(b, i)
	}
	if len(sections) == 0 {
		b.WriteString("<p>No DaemonSet.</p>\n")
	}
	b.WriteString("</main>\n</body>\n</html>\n")
	return b.Flush()
}

func (s *Section) html(b *bufio.Writer, i int) {
	id := "ds" + strconv.Itoa(i)
	fmt.Fprintf(b, "<section id=\"%s\" aria-labelledby=\"%s-h\">\n<h2 id=\"%s-h\">DaemonSet %s</h2>\n", id, id, id, esc(Key(s.DaemonSet)))
	if !s.Planned() {
		b.WriteString("<p class=\"error\">Invalid: the API server would reject this DaemonSet, so it is not planned.</p>\n<ul class=\"invalid\">\n")
		for _, e := range s.Invalid {
			fmt.Fprintf(b, "<li class=\"mono\">%s</li>\n", esc(e.Error()))
		}
		b.WriteString("</ul>\n</section>\n")
		return
	}
	p := &s.Plan
	fmt.Fprintf(b, "<p class=\"meta\">%s</p>\n", esc(strings.TrimPrefix(s.Heading(), "DaemonSet "+Key(s.DaemonSet)+": ")))
	class := "summary"
	switch {
	case p.Err != nil:
		class += " fail"
	case !p.Writes():
		class += " ok"
	}
	fmt.Fprintf(b, "<p class=\"%s\">%s</p>\n", class, esc(s.Summary()))
	if p.Err != nil {
		fmt.Fprintf(b, "<p class=\"error\">The sync fails: %s</p>\n", esc(p.Err.Error()))
	}

	// The kubectl get ds row.
	b.WriteString("<table class=\"status\">\n<caption>Status after this sync (kubectl get ds, with numberMisscheduled)</caption>\n<thead><tr>")
	for _, h := range StatusHeader() {
		fmt.Fprintf(b, "<th scope=\"col\">%s</th>", esc(h))
	}
	b.WriteString("</tr></thead>\n<tbody><tr>")
	for _, c := range s.StatusRow() {
		fmt.Fprintf(b, "<td>%s</td>", esc(c))
	}
	b.WriteString("</tr></tbody>\n</table>\n")

	// Legend and proportions.
	count := map[plan.NodeState]int{}
	for _, r := range p.Nodes {
		count[r.State]++
	}
	total := len(p.Nodes)
	fmt.Fprintf(b, "<h3 id=\"%s-nodes\">%s nodes</h3>\n<ul class=\"legend\" aria-label=\"Node states\">\n", id, thousands(total))
	for _, st := range States {
		if count[st.State] == 0 {
			continue
		}
		fmt.Fprintf(b, "<li><span class=\"sw %s\"></span>%s (%s): <b>%s</b></li>\n", stateClass(st.State), esc(st.Label), st.State, thousands(count[st.State]))
	}
	b.WriteString("</ul>\n")
	if total > 0 {
		b.WriteString("<div class=\"bar\" aria-hidden=\"true\">")
		for _, st := range States {
			if n := count[st.State]; n > 0 {
				fmt.Fprintf(b, "<span class=\"%s\" style=\"width:%.3f%%\"></span>", stateClass(st.State), 100*float64(n)/float64(total))
			}
		}
		b.WriteString("</div>\n")
	}

	// The grid: one cell per node, its reason in the title. It is hidden
	// from screen readers: the table below says the same.
	size := "small"
	if total <= labelledCells {
		size = "big"
	}
	fmt.Fprintf(b, "<div class=\"grid %s\" aria-hidden=\"true\">\n", size)
	for j, r := range p.Nodes {
		class := stateClass(r.State)
		if len(r.Deletes) > 0 || r.Create != "" {
			class += " act"
		}
		if size == "big" && (r.State == plan.StateGone || r.State == plan.StateToDelete || r.State == plan.StateToCreate ||
			r.State == plan.StateMissing || r.State == plan.StateMisscheduled || r.State == plan.StateUpToDate) {
			class += " dark"
		}
		title := r.Node + "\n" + string(r.State) + ": " + Action(r) + "\n" + s.Reason(r)
		fmt.Fprintf(b, "<a href=\"#%s-n%d\" tabindex=\"-1\" class=\"%s\" title=\"%s\">", id, j, class, esc(title))
		if size == "big" {
			b.WriteString(esc(r.Node))
		}
		b.WriteString("</a>")
		if j%64 == 63 {
			b.WriteByte('\n')
		}
	}
	b.WriteString("\n</div>\n")

	// Actions.
	fmt.Fprintf(b, "<table class=\"actions\">\n<caption>Actions of this sync (%s)</caption>\n", esc(strings.TrimSuffix(s.Summary(), ".")))
	b.WriteString("<thead><tr><th scope=\"col\">Action</th><th scope=\"col\">Node</th><th scope=\"col\">Reason</th></tr></thead>\n<tbody>\n")
	rows := 0
	for _, r := range p.Nodes {
		if len(r.Deletes) == 0 && r.Create == "" {
			continue
		}
		rows++
		fmt.Fprintf(b, "<tr><td class=\"mono\">%s</td><td>%s</td><td>%s</td></tr>\n", esc(Action(r)), esc(r.Node), esc(s.Reason(r)))
	}
	for _, o := range s.otherWrites() {
		rows++
		fmt.Fprintf(b, "<tr><td class=\"mono\" colspan=\"3\">%s</td></tr>\n", esc(o))
	}
	if rows == 0 {
		b.WriteString("<tr><td colspan=\"3\">Nothing to do: this sync writes nothing.</td></tr>\n")
	}
	b.WriteString("</tbody>\n</table>\n")
	if len(p.Warnings) > 0 {
		b.WriteString("<h3>Warnings</h3>\n<ul class=\"warnings\">\n")
		for _, w := range p.Warnings {
			fmt.Fprintf(b, "<li>%s</li>\n", esc(w.String()))
		}
		b.WriteString("</ul>\n")
	}

	// Every node, the accessible form of the grid.
	fmt.Fprintf(b, "<div class=\"nodes-wrap\">\n<table class=\"nodes\">\n<caption>Every node of %s: state, action of this sync, pods and reason</caption>\n", esc(Key(s.DaemonSet)))
	b.WriteString("<thead><tr><th scope=\"col\">Node</th><th scope=\"col\">State</th><th scope=\"col\">Action</th><th scope=\"col\">Pods</th><th scope=\"col\">Reason</th></tr></thead>\n<tbody>\n")
	for j, r := range p.Nodes {
		pods := "none"
		if len(r.Pods) > 0 {
			var names []string
			for _, pod := range r.Pods {
				names = append(names, pod.Name+" (revision "+s.revisionShort(pod.Revision)+")")
			}
			pods = strings.Join(names, ", ")
		}
		fmt.Fprintf(b, "<tr id=\"%s-n%d\"><th scope=\"row\">%s</th><td><span class=\"sw %s\"></span>%s</td><td class=\"mono\">%s</td><td>%s</td><td class=\"reason\">%s</td></tr>\n",
			id, j, esc(r.Node), stateClass(r.State), r.State, esc(Action(r)), esc(pods), esc(s.Reason(r)))
	}
	b.WriteString("</tbody>\n</table>\n</div>\n</section>\n")
}

// esc escapes text for HTML and XML alike (html.EscapeString's entities
// are XML's five or numeric references); a newline becomes a character
// reference, so that titles keep their lines.
func esc(s string) string {
	return strings.ReplaceAll(html.EscapeString(s), "\n", "&#10;")
}

// thousands formats n with commas: 5,010.
func thousands(n int) string {
	s := strconv.Itoa(n)
	for i := len(s) - 3; i > 0; i -= 3 {
		s = s[:i] + "," + s[i:]
	}
	return s
}

// stateClass is the CSS class of a node state's colour, e.g. "st-UpToDate".
func stateClass(st plan.NodeState) string { return "st-" + string(st) }
