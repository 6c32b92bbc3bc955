package incremental

import (
	"iter"
	"maps"
	"slices"
	"sync"
	"time"

	appsv1 "k8s.io/api/apps/v1"
	corev1 "k8s.io/api/core/v1"
	"k8s.io/apimachinery/pkg/types"

	"github.com/dsplan/dsplan/placement"
	"github.com/dsplan/dsplan/plan"
	"github.com/dsplan/dsplan/revision"
	"github.com/dsplan/dsplan/rollout"
	"github.com/dsplan/dsplan/status"
)

// grouperPool recycles the working memory of builds (placement.Group)
// between builds, of any Planner: at 100,000 nodes it is about 13 MB,
// which a Planner would otherwise hold or allocate afresh for every
// build. A Grouper holds nothing between builds that a result could depend
// on (it is reset before it is put back). It is the package's only
// package-level variable besides constants.
var grouperPool = sync.Pool{New: func() any { return new(placement.Grouper) }}

// kindCount is the number of rollout.NodeKind values.
const kindCount = int(rollout.NodeSurgeReplaced) + 1

// daemonSet is one DaemonSet and its index: what placement.Group would
// make of its snapshot, kept node by node, with the per-node results of
// the later stages (status.NodeCounts, rollout.Classify, plan.Manages)
// summed or collected by kind.
type daemonSet struct {
	p   *Planner
	key string
	ns  *namespace
	ds  *appsv1.DaemonSet

	// eval is compiled from ds with evalOpts; nil when ds changed.
	eval     *placement.Evaluator
	evalOpts placement.Options
	// hist is revision.Reconcile's result for ds and the namespace's
	// revisions, unless histStale.
	hist      revision.History
	histErr   error
	histStale bool

	// want and wantOpts are the time and placement options of the plan
	// being made.
	want     time.Time
	wantOpts placement.Options

	// The index, when built: for hash and uid (the DaemonSet's UID when it
	// was built, which its pods were looked up by), with pods judged at
	// now.
	built   bool
	uid     types.UID
	hash    string
	now     time.Time
	judge   placement.PodJudge
	surge   bool // rollout.AllowsSurge(ds): the manage pass's and the update's branch
	rolling bool // RollingUpdate: the nodes' rollout classes are kept

	// Per slot: what the node adds (contrib), and its listed pods, oldest
	// first: the first in first, the others (rare) in more.
	contrib []contrib
	first   []placement.Pod
	more    map[int32][]placement.Pod

	counts    status.Counts
	kinds     [kindCount]int
	available int
	// sets hold the slots of the kinds the rolling update acts on.
	sets    [kindCount]*slotSet
	managed map[int32]struct{}
	// claims are the pod claims, by pod name.
	claims map[string]placement.Claim
	// queue holds listed pods that become available after now.
	queue timeQueue
}

// contrib is what one node adds to its DaemonSet's index.
type contrib struct {
	counts    uint8 // status.NodeCounts, a bit per field
	kind      rollout.NodeKind
	available bool // rollout.NodeClass.Available
	managed   bool // plan.Manages
}

// Bits of contrib.counts.
const (
	countDesired = 1 << iota
	countCurrent
	countMisscheduled
	countReady
	countUpdated
	countAvailable
)

func pack(c status.Counts) uint8 {
	var b uint8
	for _, f := range [...]struct {
		v   int32
		bit uint8
	}{{c.Desired, countDesired}, {c.Current, countCurrent}, {c.Misscheduled, countMisscheduled},
		{c.Ready, countReady}, {c.Updated, countUpdated}, {c.Available, countAvailable}} {
		if f.v != 0 {
			b |= f.bit
		}
	}
	return b
}

func unpack(b uint8) status.Counts {
	bit := func(m uint8) int32 {
		if b&m != 0 {
			return 1
		}
		return 0
	}
	return status.Counts{Desired: bit(countDesired), Current: bit(countCurrent), Misscheduled: bit(countMisscheduled),
		Ready: bit(countReady), Updated: bit(countUpdated), Available: bit(countAvailable)}
}

// compile makes the evaluator for the wanted placement options.
func (d *daemonSet) compile() {
	if d.eval != nil && d.evalOpts != d.wantOpts {
		d.invalidate()
	}
	if d.eval == nil {
		d.eval, d.evalOpts = placement.New(d.ds, d.wantOpts), d.wantOpts
		d.histStale = true
	}
}

// history is plan.Index's History: revision.Reconcile with the
// DaemonSet's selector over its namespace's revisions, kept until they or
// the DaemonSet change.
func (d *daemonSet) history() (revision.History, error) {
	d.compile()
	if d.histStale {
		d.hist, d.histErr = revision.History{}, nil
		if sel, err := d.eval.Selector(); err != nil {
			d.histErr = err
		} else {
			d.hist, d.histErr = revision.Reconcile(d.ds, sel, slices.Collect(maps.Values(d.ns.revisions)))
		}
		d.histStale = false
	}
	return d.hist, d.histErr
}

// ready makes the index valid for the plan being made: built for the
// current hash and judged at the wanted time.
func (d *daemonSet) ready() {
	d.compile()
	if !d.built || d.hash != d.hist.Hash || d.uid != d.ds.UID {
		d.build(d.want)
		return
	}
	d.advance(d.want)
}

// invalidate drops the index and the compiled DaemonSet: the next plan
// builds them again.
func (d *daemonSet) invalidate() {
	d.teardown()
	d.eval = nil
	d.histStale = true
}

// teardown removes the index and its references to the slots.
func (d *daemonSet) teardown() {
	if !d.built {
		return
	}
	d.built = false
	p := d.p
	var touched []int32
	for i := range d.first {
		if d.first[i].Object() != nil {
			s := int32(i)
			p.slots[s].refs -= int32(1 + len(d.more[s]))
			touched = append(touched, s)
		}
	}
	for _, s := range touched {
		p.release(s)
	}
	d.contrib, d.first, d.more, d.managed, d.claims, d.queue = nil, nil, nil, nil, nil, nil
	d.sets = [kindCount]*slotSet{}
}

// build makes the index over every node and pod, judging the pods at now:
// placement.Group groups them (the pass plan.New makes), and each entry of
// the Grouping becomes a slot's pods and contribution.
func (d *daemonSet) build(now time.Time) {
	d.teardown()
	p := d.p
	nodes, slots := p.nodeSlice()
	gr := grouperPool.Get().(*placement.Grouper)
	defer func() {
		gr.Reset()
		grouperPool.Put(gr)
	}()
	g, err := gr.Group(placement.GroupInput{Evaluator: d.eval, Hash: d.hist.Hash, Now: now, Nodes: nodes, Pods: d.candidatePods()})
	if err != nil {
		return // a DaemonSet without identity: planned in full (see Plan)
	}
	p.stats.Builds++
	d.built, d.uid, d.hash, d.now = true, d.ds.UID, d.hist.Hash, now
	d.judge = placement.NewPodJudge(d.eval, d.hash, now)
	d.surge = rollout.AllowsSurge(d.ds)
	d.rolling = d.ds.Spec.UpdateStrategy.Type == appsv1.RollingUpdateDaemonSetStrategyType
	d.contrib = make([]contrib, len(p.slots))
	d.first = make([]placement.Pod, len(p.slots))
	d.counts, d.kinds, d.available = status.Counts{}, [kindCount]int{}, 0
	d.managed = map[int32]struct{}{}
	d.claims = map[string]placement.Claim{}
	for _, c := range g.Claims() {
		d.claims[c.Name] = c
	}
	for k := range kindCount {
		if rollout.NodeKind(k).Acts() {
			d.sets[k] = &slotSet{names: &p.slots}
		}
	}
	var bykind [kindCount][]int32
	for i, n := range g.All() {
		var s int32
		if i < g.Existing() {
			s = slots[i]
		} else {
			s = p.acquire(n.Name()) // a vanished node
			d.grow()
		}
		if n.Len() > 0 {
			p.slots[s].refs += int32(n.Len())
			list := p.scratch[:0]
			for _, pod := range n.Pods() {
				list = append(list, pod)
				d.enqueue(pod)
			}
			p.scratch = list
			d.setPods(s, list)
		}
		c := d.contribOfEntry(n)
		if c == (contrib{}) {
			continue
		}
		d.contrib[s] = c
		d.counts.Add(unpack(c.counts))
		d.kinds[c.kind]++
		if c.available {
			d.available++
		}
		if c.managed {
			d.managed[s] = struct{}{}
		}
		if d.sets[c.kind] != nil {
			bykind[c.kind] = append(bykind[c.kind], s)
		}
	}
	for k, slots := range bykind {
		if d.sets[k] != nil {
			d.sets[k].load(slots)
		}
	}
}

// enqueue queues a listed pod that becomes available after the index's
// time (ready, and not available yet for minReadySeconds).
func (d *daemonSet) enqueue(pod placement.Pod) {
	if !pod.Ready() || pod.Available() {
		return
	}
	if at, ok := d.judge.AvailableAt(pod.Object()); ok && at.After(d.now) {
		d.queue.push(timed{at: at, pod: pod.Object()})
	}
}

// advance judges again the pods whose availability changed between the
// index's time and now; a time before it rebuilds the index.
func (d *daemonSet) advance(now time.Time) {
	switch {
	case now.Equal(d.now):
		return
	case now.Before(d.now):
		d.build(now)
		return
	}
	d.now = now
	d.judge = placement.NewPodJudge(d.eval, d.hash, now)
	for d.queue.due(now) && d.p.broken != brokenTimeQueue {
		e := d.queue.pop()
		if rec := d.ns.pods[e.pod.Name]; rec != nil && rec.pod == e.pod {
			d.judgePod(e.pod, e.pod)
		} // else the pod changed or went, and was judged then
	}
}

// grow makes the per-slot arrays long enough for every slot.
func (d *daemonSet) grow() {
	if n := len(d.p.slots); len(d.contrib) < n {
		d.contrib = append(d.contrib, make([]contrib, n-len(d.contrib))...)
		d.first = append(d.first, make([]placement.Pod, n-len(d.first))...)
	}
}

// pods returns the pods listed on slot s, oldest first, in the planner's
// scratch memory (valid until the next call).
func (d *daemonSet) pods(s int32) []placement.Pod {
	buf := d.p.scratch[:0]
	if int(s) < len(d.first) && d.first[s].Object() != nil {
		buf = append(buf, d.first[s])
		buf = append(buf, d.more[s]...)
	}
	d.p.scratch = buf
	return buf
}

// setPods stores list as slot s's pods.
func (d *daemonSet) setPods(s int32, list []placement.Pod) {
	d.grow()
	if len(list) == 0 {
		d.first[s] = placement.Pod{}
		delete(d.more, s)
		return
	}
	d.first[s] = list[0]
	if len(list) == 1 {
		delete(d.more, s)
		return
	}
	if d.more == nil {
		d.more = map[int32][]placement.Pod{}
	}
	d.more[s] = slices.Clone(list[1:])
}

// view returns slot s as a Grouping entry.
func (d *daemonSet) view(s int32) placement.NodePods {
	sl := &d.p.slots[s]
	var dec placement.Decision
	if sl.node != nil {
		dec = d.eval.Evaluate(sl.node)
	}
	return d.p.builder.View(sl.name, sl.node, dec, d.pods(s))
}

// contribOf computes what slot s adds to the index.
func (d *daemonSet) contribOf(s int32) contrib { return d.contribOfEntry(d.view(s)) }

// contribOfEntry computes what a node adds to the index.
func (d *daemonSet) contribOfEntry(n placement.NodePods) contrib {
	c := contrib{counts: pack(status.NodeCounts(n)), managed: plan.Manages(n, d.hash, d.surge)}
	if d.rolling {
		cl := rollout.Classify(n, d.surge)
		c.kind, c.available = cl.Kind, cl.Available
	}
	return c
}

// refresh computes slot s's contribution again and updates the sums and
// sets.
func (d *daemonSet) refresh(s int32) {
	d.grow()
	c := d.contribOf(s)
	old := d.contrib[s]
	if c == old {
		return
	}
	d.contrib[s] = c
	if c.counts != old.counts {
		d.counts.Sub(unpack(old.counts))
		d.counts.Add(unpack(c.counts))
	}
	if c.kind != old.kind {
		d.kinds[old.kind]--
		d.kinds[c.kind]++
		if set := d.sets[old.kind]; set != nil {
			set.remove(s)
		}
		if set := d.sets[c.kind]; set != nil {
			set.insert(s)
		}
	}
	if c.available != old.available {
		if c.available {
			d.available++
		} else {
			d.available--
		}
	}
	if c.managed != old.managed {
		if c.managed {
			d.managed[s] = struct{}{}
		} else {
			delete(d.managed, s)
		}
	}
}

// judgePod updates the index for a pod that changed from old to pod (nil
// for none: added or deleted): what the index held of old goes, what it
// holds of pod comes. Whether a pod is claimed, where it is listed and its
// claim do not depend on the time, so judging old again finds what the
// index holds of it.
func (d *daemonSet) judgePod(old, pod *corev1.Pod) {
	from, to := int32(-1), int32(-1)
	p := d.p
	if old != nil {
		delete(d.claims, old.Name)
		if v := d.judge.Judge(old); v.Listed {
			from = p.byName[v.Node]
			d.setPods(from, slices.DeleteFunc(d.pods(from), func(x placement.Pod) bool { return x.Object().Name == old.Name }))
		}
	}
	if pod != nil {
		v := d.judge.Judge(pod)
		if v.Claim.Type != "" {
			d.claims[pod.Name] = v.Claim
		}
		if v.Listed {
			to = p.acquire(v.Node)
			p.slots[to].refs++
			list := append(d.pods(to), v.Pod)
			slices.SortFunc(list, func(a, b placement.Pod) int { return placement.ComparePods(a.Object(), b.Object()) })
			d.setPods(to, list)
			d.enqueue(v.Pod)
		}
	}
	if from >= 0 && pod == nil && p.broken == brokenCounter {
		before := d.contrib[from]
		d.refresh(from)
		d.counts.Add(unpack(before.counts &^ d.contrib[from].counts)) // the counts lowered are raised again
	}
	d.settle(from, to)
}

// settle refreshes the slots a pod left (old) and joined (s), and lets go
// of old's reference.
func (d *daemonSet) settle(old, s int32) {
	if old >= 0 {
		d.refresh(old)
	}
	if s >= 0 && s != old {
		d.refresh(s)
	}
	if old >= 0 {
		d.p.slots[old].refs--
		d.p.release(old)
	}
}

// snapshot is what the index was built from, as a plan.Snapshot at now.
func (d *daemonSet) snapshot(now time.Time) plan.Snapshot {
	nodes, _ := d.p.nodeSlice()
	s := plan.Snapshot{DaemonSet: d.ds, Nodes: slices.Clone(nodes), Now: now}
	for _, rec := range d.ns.pods {
		s.Pods = append(s.Pods, rec.pod)
	}
	s.Revisions = slices.Collect(maps.Values(d.ns.revisions))
	return s
}

// index is a daemonSet as a plan.Index.
type index struct{ d *daemonSet }

func (x index) Evaluator() *placement.Evaluator {
	x.d.compile()
	return x.d.eval
}

// History returns copies of the kept history's slices and new objects:
// they become the plan's.
func (x index) History() (revision.History, error) {
	h, err := x.d.history()
	h.Create = copyRevisions(h.Create)
	h.Update = copyRevisions(h.Update)
	h.Delete = slices.Clone(h.Delete)
	h.Claims = slices.Clone(h.Claims)
	h.Old = slices.Clone(h.Old)
	return h, err
}

func copyRevisions(rs []*appsv1.ControllerRevision) []*appsv1.ControllerRevision {
	if rs == nil {
		return nil
	}
	out := make([]*appsv1.ControllerRevision, len(rs))
	for i, r := range rs {
		out[i] = r.DeepCopy()
	}
	return out
}

func (x index) Claims() []placement.Claim {
	x.d.ready()
	if len(x.d.claims) == 0 {
		return nil
	}
	out := slices.Collect(maps.Values(x.d.claims))
	placement.SortClaims(out)
	return out
}

func (x index) Warnings() []placement.Warning { return nil }

// judged yields the candidate pods whose verdict has the property.
func (x index) judged(has func(placement.PodVerdict) bool) iter.Seq[*corev1.Pod] {
	d := x.d
	d.ready()
	return func(yield func(*corev1.Pod) bool) {
		for _, pod := range d.candidatePods() {
			if has(d.judge.Judge(pod)) && !yield(pod) {
				return
			}
		}
	}
}

func (x index) ClaimedPods() iter.Seq[*corev1.Pod] {
	return x.judged(func(v placement.PodVerdict) bool { return v.Claimed })
}

func (x index) TargetingPods() iter.Seq[*corev1.Pod] {
	return x.judged(func(v placement.PodVerdict) bool { return v.Targeting })
}

func (x index) Managed() iter.Seq[placement.NodePods] {
	d := x.d
	d.ready()
	return func(yield func(placement.NodePods) bool) {
		for s := range d.managed {
			if !yield(d.view(s)) {
				return
			}
		}
	}
}

// Update decides from the kept classes; with rollout controls, or when the
// classes were kept for the other branch (a percentage maxSurge while no
// node is desired), it groups the snapshot and calls rollout.Update.
func (x index) Update(ds *appsv1.DaemonSet, opts rollout.Options) (rollout.Plan, error) {
	d := x.d
	d.ready()
	desired := int(d.counts.Desired)
	b, err := rollout.Budgets(ds, desired)
	if !zeroRollout(&opts) || !d.rolling || err == nil && b.MaxSurge > 0 != d.surge {
		d.p.stats.GroupedUpdates++
		nodes, _ := d.p.nodeSlice()
		g, gerr := placement.Group(placement.GroupInput{Evaluator: d.eval, Hash: d.hash, Now: d.now, Nodes: nodes, Pods: d.candidatePods()})
		if gerr != nil {
			return rollout.Plan{}, gerr
		}
		return rollout.Update(ds, g, opts)
	}
	return rollout.Decide(ds, desired, nodes{d})
}

// zeroRollout reports whether opts leaves the rolling update as upstream's.
func zeroRollout(o *rollout.Options) bool {
	return o.Partition == nil && !o.Paused && o.Selector == nil && o.Order.IsZero() && len(o.Held) == 0 && !o.Explain
}

// candidatePods returns the pods the index may hold: the namespace's
// orphans and the pods controlled by the DaemonSet's UID (when built, the
// UID it was built for).
func (d *daemonSet) candidatePods() []*corev1.Pod {
	uid := d.ds.UID
	if d.built {
		uid = d.uid
	}
	orphans, owned := d.ns.owned[""], d.ns.owned[uid]
	if uid == "" {
		owned = nil
	}
	out := make([]*corev1.Pod, 0, orphans.len()+owned.len())
	for _, l := range []*podList{orphans, owned} {
		if l != nil {
			for _, rec := range l.recs {
				out = append(out, rec.pod)
			}
		}
	}
	return out
}

func (x index) Status(ds *appsv1.DaemonSet, opts status.Options) status.Result {
	x.d.ready()
	return status.FromCounts(ds, x.d.counts, opts)
}

// nodes is a daemonSet's rollout classes as rollout.Nodes.
type nodes struct{ d *daemonSet }

func (x nodes) Count(k rollout.NodeKind) int { return x.d.kinds[k] }

func (x nodes) Available() int { return x.d.available }

func (x nodes) First(k rollout.NodeKind, n int) iter.Seq2[string, *corev1.Pod] {
	d := x.d
	return func(yield func(string, *corev1.Pod) bool) {
		set := d.sets[k]
		if set == nil {
			return
		}
		set.first(n, func(s int32) bool {
			c := rollout.Classify(d.view(s), d.surge)
			return yield(d.p.slots[s].name, c.Old)
		})
	}
}
