package forecast

import (
	"cmp"
	"slices"
	"time"

	"github.com/dsplan/dsplan/placement"
	"github.com/dsplan/dsplan/plan"
	"github.com/dsplan/dsplan/rollout"
)

// Model is how the simulated cluster answers the controller's writes.
type Model struct {
	// ReadyAfter is how long a created pod takes from its create to Ready
	// (image pull, start, readiness probe). The DaemonSet's
	// minReadySeconds come on top, as the controller judges them.
	ReadyAfter time.Duration
	// DeleteAfter is how long a deleted pod stays, terminating, before it
	// is gone (its grace period in practice); 0 removes it at once.
	DeleteAfter time.Duration
	// FailureRate is the share of created pods that never become ready (a
	// crash loop), drawn with Seed: 0 for none, 1 for all.
	FailureRate float64
	// Seed makes the failures reproducible: a forecast is deterministic for
	// a given snapshot, options and seed.
	Seed uint64
}

// Options tune a forecast.
type Options struct {
	// Plan are the planning options of every sync (rollout controls, burst).
	// Explain is turned on: the forecast reads every node's wait reason.
	Plan plan.Options
	// Model is the simulated cluster's behaviour.
	Model Model
	// MaxSyncs bounds the syncs simulated; 0 means 10,000.
	MaxSyncs int
	// MaxDuration bounds the simulated time; 0 means 7 days.
	MaxDuration time.Duration
}

// Forecast is a rollout played forward, sync after sync, until it is done
// or can go no further.
type Forecast struct {
	// Complete is set when every desired node runs one available pod of the
	// current revision and the controller has nothing left to do.
	Complete bool
	// Stalled is set when the rollout can never finish: the controller has
	// nothing to do, no pod will change state by itself, and it is not
	// complete. Stalls say why.
	Stalled bool
	// Truncated is set when MaxSyncs or MaxDuration ended the forecast.
	Truncated bool
	// Syncs is the number of syncs simulated.
	Syncs int
	// Duration is the simulated time from the snapshot to the last sync:
	// with the model's delays, the least time the rollout takes.
	Duration time.Duration
	// Desired is the number of nodes that should run the DaemonSet, at the
	// end.
	Desired int
	// Waves are the syncs that start replacements, in order.
	Waves []Wave
	// Timeline has a point per sync.
	Timeline []Point
	// Stalls explain the end state when the rollout is not complete (see
	// [Stalls]).
	Stalls []Stall
	// Err is the error of a sync that failed (the controller retries it;
	// the forecast goes on).
	Err error
}

// Wave is the replacements started at one moment: one sync, or the syncs
// that follow one another at once when more replacements start than one
// sync's burst limit allows.
type Wave struct {
	// Sync is the index of the wave's first sync, At its time since the
	// snapshot.
	Sync int
	At   time.Duration
	// Nodes are the nodes whose replacement starts (an old pod deleted, or
	// a surge pod created), by name.
	Nodes []string
	// Waiting counts the nodes whose old pod stays after the wave, by
	// reason, most first, with the first few by name.
	Waiting []WaitCount
}

// WaitCount is how many nodes wait for one reason, with the first few by
// name.
type WaitCount struct {
	Reason rollout.WaitReason
	Count  int
	Nodes  []string
}

// Point is the state of the rollout at one sync.
type Point struct {
	At time.Duration
	// Updated, Unavailable are the status counters of that sync
	// (updatedNumberScheduled, numberUnavailable); Surged counts nodes with
	// two live pods.
	Updated, Unavailable, Surged int
}

// ErrNoDaemonSet is returned for a snapshot without a DaemonSet.
var ErrNoDaemonSet = placement.ErrNoDaemonSet

// Run plays the snapshot's rollout forward: plan, carry the plan out on a
// simulated cluster, let the model's pods start, become ready or go, plan
// again, until the rollout is complete, stalled, or a bound is reached.
// The controller is modelled as kube-controller-manager's: it syncs again
// at once after its own writes (its informers see them), when a pod
// changes state, and after the plan's RequeueAfter. The snapshot is not
// modified. The result is deterministic for a given snapshot, options and
// seed.
func Run(s plan.Snapshot, opts Options) (Forecast, error) {
	if s.DaemonSet == nil {
		return Forecast{}, ErrNoDaemonSet
	}
	maxSyncs := cmp.Or(opts.MaxSyncs, 10000)
	maxDuration := cmp.Or(opts.MaxDuration, 7*24*time.Hour)
	po := opts.Plan
	po.Explain = false
	explain := po
	explain.Explain = true
	c := newSim(s, opts.Model)
	start := c.now
	var f Forecast
	var waits map[string]rollout.WaitReason // the last wave's waiting nodes
	for f.Syncs < maxSyncs {
		snap := c.snapshot()
		p := plan.New(snap, po)
		f.Syncs++
		at := c.now.Sub(start)
		f.Duration = at
		f.Err = p.Err
		f.Desired = int(p.Status.DesiredNumberScheduled)
		f.Timeline = append(f.Timeline, c.point(at, p))
		if w := wave(f.Syncs-1, at, p); w != nil {
			if k := len(f.Waves) - 1; k >= 0 && f.Waves[k].At == at {
				// The same moment: a wave cut by the burst limit, carried
				// on by the syncs that follow at once. Its nodes no longer
				// wait.
				f.Waves[k].Nodes = append(f.Waves[k].Nodes, w.Nodes...)
				slices.Sort(f.Waves[k].Nodes)
				f.Waves[k].Waiting = unwait(f.Waves[k].Waiting, waits, w.Nodes)
			} else {
				// Why the other nodes wait: the same sync, explained.
				w.Waiting, waits = waiting(plan.New(snap, explain))
				f.Waves = append(f.Waves, *w)
			}
		}
		if complete(p) {
			f.Complete = true
			break
		}
		c.apply(p)
		if p.Writes() && !statusOnly(p) {
			// The controller sees its own writes and syncs again. (After a
			// status write alone the next sync would decide the same: it
			// is not simulated.)
			continue
		}
		next, ok := c.nextEvent()
		if d := p.RequeueAfter; d > 0 && (!ok || c.now.Add(d).Before(next)) {
			next, ok = c.now.Add(d), true
		}
		if !ok {
			f.Stalled = true
			break
		}
		if next.Sub(start) > maxDuration {
			f.Truncated = true
			break
		}
		c.advance(next)
	}
	if f.Syncs >= maxSyncs && !f.Complete && !f.Stalled {
		f.Truncated = true
	}
	if !f.Complete {
		f.Stalls = Stalls(c.snapshot(), opts.Plan)
	}
	return f, nil
}

// complete reports whether the plan leaves the rollout done: nothing to
// write but the status, every desired node running an available pod of
// the current revision. (An old pod elsewhere would be replaced: the plan
// would write.)
func complete(p plan.Plan) bool {
	st := p.Status
	return (!p.Writes() || statusOnly(p)) && p.Err == nil &&
		st.UpdatedNumberScheduled == st.DesiredNumberScheduled && st.NumberAvailable == st.DesiredNumberScheduled
}

// statusOnly reports whether the status is all p writes.
func statusOnly(p plan.Plan) bool {
	q := p
	q.StatusChanged = false
	return p.StatusChanged && !q.Writes()
}

// wave returns the wave of a sync that starts replacements, or nil.
func wave(sync int, at time.Duration, p plan.Plan) *Wave {
	var nodes []string
	for _, d := range p.Deletes {
		if d.Reason == rollout.DeleteReplace || d.Reason == rollout.DeleteReplaceUnavailable {
			nodes = append(nodes, d.Node)
		}
	}
	for _, c := range p.Creates {
		if c.Reason == rollout.CreateSurge || c.Reason == rollout.CreateSurgeUnavailable {
			nodes = append(nodes, c.Node)
		}
	}
	if len(nodes) == 0 {
		return nil
	}
	slices.Sort(nodes)
	return &Wave{Sync: sync, At: at, Nodes: slices.Compact(nodes)}
}

// waiting counts an explained plan's waiting nodes by reason, most first,
// and returns each waiting node's reason.
func waiting(p plan.Plan) ([]WaitCount, map[string]rollout.WaitReason) {
	counts := map[rollout.WaitReason]*WaitCount{}
	reasons := map[string]rollout.WaitReason{}
	for _, r := range p.Nodes {
		if r.Wait == nil {
			continue
		}
		reasons[r.Node] = r.Wait.Reason
		wc, ok := counts[r.Wait.Reason]
		if !ok {
			wc = &WaitCount{Reason: r.Wait.Reason}
			counts[r.Wait.Reason] = wc
		}
		wc.Count++
		if len(wc.Nodes) < 5 {
			wc.Nodes = append(wc.Nodes, r.Node) // reports come sorted by node
		}
	}
	return sortCounts(counts), reasons
}

// unwait takes the nodes that no longer wait out of the counts.
func unwait(counts []WaitCount, reasons map[string]rollout.WaitReason, nodes []string) []WaitCount {
	byReason := map[rollout.WaitReason]*WaitCount{}
	for i := range counts {
		byReason[counts[i].Reason] = &counts[i]
	}
	for _, n := range nodes {
		r, ok := reasons[n]
		if !ok {
			continue
		}
		delete(reasons, n)
		if wc := byReason[r]; wc != nil {
			wc.Count--
			wc.Nodes = slices.DeleteFunc(wc.Nodes, func(x string) bool { return x == n })
			if wc.Count == 0 {
				delete(byReason, r)
			}
		}
	}
	return sortCounts(byReason)
}

func sortCounts(counts map[rollout.WaitReason]*WaitCount) []WaitCount {
	var out []WaitCount
	for _, wc := range counts {
		out = append(out, *wc)
	}
	slices.SortFunc(out, func(a, b WaitCount) int {
		return cmp.Or(cmp.Compare(b.Count, a.Count), cmp.Compare(a.Reason, b.Reason))
	})
	return out
}

// point is the timeline's state at a sync.
func (c *sim) point(at time.Duration, p plan.Plan) Point {
	pt := Point{At: at, Updated: int(p.Status.UpdatedNumberScheduled), Unavailable: int(p.Status.NumberUnavailable)}
	// Each create lands on a node that may hold a live pod already: the
	// nodes with two are those whose pods are not alone.
	if len(c.pods) > len(c.nodes) {
		live := make(map[string]int, len(c.pods)-len(c.nodes)+16)
		seen := make(map[string]bool, len(c.pods))
		for _, pod := range c.pods {
			if pod.DeletionTimestamp != nil {
				continue
			}
			node := pod.Spec.NodeName
			if node == "" {
				if n, err := placement.TargetNodeName(pod); err == nil {
					node = n
				}
			}
			if seen[node] {
				live[node]++
				if live[node] == 1 {
					pt.Surged++
				}
			}
			seen[node] = true
		}
	}
	return pt
}
