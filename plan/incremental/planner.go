package incremental

import (
	"maps"
	"reflect"
	"slices"
	"time"

	appsv1 "k8s.io/api/apps/v1"
	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/types"

	"github.com/dsplan/dsplan/placement"
	"github.com/dsplan/dsplan/plan"
	"github.com/dsplan/dsplan/plan/control"
)

// Planner holds the nodes, pods, DaemonSets and ControllerRevisions of a
// cluster, as a controller's informers deliver them, and for every
// DaemonSet an index of its nodes and pods that each event updates; Plan
// then plans a DaemonSet from its index. See the package documentation for
// the event model.
//
// The zero Planner is empty and ready to use. A Planner is not safe for
// concurrent use: a controller calls its methods under one lock (informer
// handlers and syncs). It keeps the objects it is given, not copies: they
// must not be modified afterwards (informer objects never are); a change
// is a new object given again.
type Planner struct {
	// slots are the node names the Planner knows: the nodes, and the names
	// pods target that no node has (a vanished node). byName finds a slot;
	// free lists the slots to reuse.
	slots  []slot
	byName map[string]int32
	free   []int32
	nodes  int

	namespaces map[string]*namespace
	sets       map[string]*daemonSet // by Key
	byUID      map[types.UID][]*daemonSet

	// now is the latest time given to Plan or Reset: new indexes judge
	// their pods at it.
	now time.Time
	// nodeList caches the existing nodes, and nodeSlots their slots, for
	// builds and full plans; nil when stale.
	nodeList  []*corev1.Node
	nodeSlots []int32

	builder placement.NodeBuilder
	scratch []placement.Pod
	stats   Stats
	// broken, set only by tests, selects a deliberately wrong variant the
	// equivalence tests must catch; 0 is the Planner.
	broken breakage
}

// breakage names a deliberately wrong variant of the Planner.
type breakage uint8

const (
	_ breakage = iota
	// brokenCounter: deleting a pod does not lower its node's status
	// counts.
	brokenCounter
	// brokenNodeRefresh: an update of an existing node (labels, taints)
	// does not refresh the DaemonSets' decisions there.
	brokenNodeRefresh
	// brokenTimeQueue: pods whose minReadySeconds pass are not judged
	// again.
	brokenTimeQueue
)

// slot is one node name: the node, or nil for a name only pods target.
type slot struct {
	name string
	node *corev1.Node
	// refs counts the pods DaemonSets list on the slot: a slot without a
	// node is freed when it reaches 0.
	refs int32
	// used is false for a free slot.
	used bool
}

// namespace holds one namespace's pods, revisions and DaemonSets.
type namespace struct {
	name string
	// pods are the namespace's pods a DaemonSet may claim: orphans and pods
	// controlled by a DaemonSet; owned lists them by their controller's UID
	// ("" for orphans).
	pods      map[string]*podRec
	owned     map[types.UID]*podList
	revisions map[string]*appsv1.ControllerRevision
	sets      []*daemonSet
}

// Stats counts what plans cost: how often the Planner fell back to a full
// pass. A controller can log them; tests check that the common paths are
// incremental.
type Stats struct {
	// Plans counts the calls of Plan.
	Plans int
	// FullPlans counts the plans made by plan.New over the whole snapshot
	// (Options.Explain; a DaemonSet without identity).
	FullPlans int
	// Builds counts the indexes built over every node and pod of a
	// DaemonSet: by Reset, at the first plan of a DaemonSet, and after its
	// spec, its current revision hash, Options.Placement or the time
	// (backwards) changed.
	Builds int
	// GroupedUpdates counts the rolling updates decided over a full
	// placement.Grouping: with rollout controls (Options.Rollout,
	// Options.Annotations), and while no node is desired under a
	// percentage maxSurge.
	GroupedUpdates int
}

// Stats returns the counts since the Planner was made.
func (p *Planner) Stats() Stats { return p.stats }

func (p *Planner) namespace(name string) *namespace {
	if p.namespaces == nil {
		p.namespaces = map[string]*namespace{}
	}
	ns := p.namespaces[name]
	if ns == nil {
		ns = &namespace{name: name, pods: map[string]*podRec{}, owned: map[types.UID]*podList{},
			revisions: map[string]*appsv1.ControllerRevision{}}
		p.namespaces[name] = ns
	}
	return ns
}

// acquire returns the slot of name, making it.
func (p *Planner) acquire(name string) int32 {
	if s, ok := p.byName[name]; ok {
		return s
	}
	if p.byName == nil {
		p.byName = map[string]int32{}
	}
	var s int32
	if n := len(p.free); n > 0 {
		s, p.free = p.free[n-1], p.free[:n-1]
		p.slots[s] = slot{name: name, used: true}
	} else {
		s = int32(len(p.slots))
		p.slots = append(p.slots, slot{name: name, used: true})
	}
	p.byName[name] = s
	return s
}

// release frees slot s when it has neither a node nor listed pods.
func (p *Planner) release(s int32) {
	if sl := &p.slots[s]; sl.used && sl.node == nil && sl.refs == 0 {
		delete(p.byName, sl.name)
		*sl = slot{}
		p.free = append(p.free, s)
	}
}

// SetNode records node as it now is: an informer's add or update. Setting
// the node already held (the same object) changes nothing. A nil node is
// ignored.
func (p *Planner) SetNode(node *corev1.Node) {
	if node == nil {
		return
	}
	s := p.acquire(node.Name)
	if p.slots[s].node == node {
		return // the version held (an informer's resync)
	}
	existed := p.slots[s].node != nil
	if !existed {
		p.nodes++
	}
	p.slots[s].node = node
	p.nodeList, p.nodeSlots = nil, nil
	if existed && p.broken == brokenNodeRefresh {
		return
	}
	for _, d := range p.sets {
		if d.built {
			d.refresh(s)
		}
	}
}

// DeleteNode forgets the node named name: an informer's delete. The pods
// bound to it stay until they are deleted, as in a cluster until the pod
// garbage collector runs.
func (p *Planner) DeleteNode(name string) {
	s, ok := p.byName[name]
	if !ok || p.slots[s].node == nil {
		return
	}
	p.slots[s].node = nil
	p.nodes--
	p.nodeList, p.nodeSlots = nil, nil
	for _, d := range p.sets {
		if d.built {
			d.refresh(s)
		}
	}
	p.release(s)
}

// controllerOf returns the UID of pod's controller when it is a DaemonSet
// ("" for an orphan), and false for a pod controlled by another kind: no
// DaemonSet claims those, and the Planner does not keep them.
func controllerOf(pod *corev1.Pod) (types.UID, bool) {
	ref := metav1.GetControllerOfNoCopy(pod)
	switch {
	case ref == nil:
		return "", true
	case ref.Kind == placement.ControllerKind.Kind:
		return ref.UID, true
	}
	return "", false
}

// SetPod records pod as it now is: an informer's add or update. Pods
// controlled by something other than a DaemonSet are not kept (a pod that
// becomes one is forgotten). Setting the pod already held (the same
// object) changes nothing. A nil pod is ignored.
func (p *Planner) SetPod(pod *corev1.Pod) {
	if pod == nil {
		return
	}
	owner, keep := controllerOf(pod)
	ns := p.namespace(pod.Namespace)
	rec := ns.pods[pod.Name]
	if rec != nil && rec.pod == pod {
		return // the version held (an informer's resync)
	}
	if !keep {
		if rec != nil {
			p.DeletePod(pod.Namespace, pod.Name)
		}
		return
	}
	var old *corev1.Pod
	ds := p.candidates(ns, owner)
	if rec == nil {
		rec = &podRec{owner: owner}
		ns.pods[pod.Name] = rec
		ns.ownedBy(owner).add(rec)
	} else {
		old = rec.pod
		if rec.owner != owner {
			// The DaemonSets that could hold the pod before, and those
			// that may claim it now, judge it again.
			for _, d := range p.candidates(ns, rec.owner) {
				if !slices.Contains(ds, d) {
					ds = append(ds[:len(ds):len(ds)], d)
				}
			}
			ns.disown(rec)
			rec.owner = owner
			ns.ownedBy(owner).add(rec)
		}
	}
	rec.pod = pod
	for _, d := range ds {
		if d.built && d.ns == ns {
			d.judgePod(old, pod)
		}
	}
}

// ownedBy returns the pods controlled by uid, making the list.
func (ns *namespace) ownedBy(uid types.UID) *podList {
	l := ns.owned[uid]
	if l == nil {
		l = &podList{}
		ns.owned[uid] = l
	}
	return l
}

// disown takes rec out of its owner's list.
func (ns *namespace) disown(rec *podRec) {
	l := ns.owned[rec.owner]
	l.remove(rec)
	if len(l.recs) == 0 {
		delete(ns.owned, rec.owner)
	}
}

// candidates returns the DaemonSets of ns that may claim a pod whose
// controller is owner: every one for an orphan, else the DaemonSets with
// that UID.
func (p *Planner) candidates(ns *namespace, owner types.UID) []*daemonSet {
	if owner == "" {
		return ns.sets
	}
	return p.byUID[owner]
}

// DeletePod forgets the pod: an informer's delete.
func (p *Planner) DeletePod(namespace, name string) {
	ns := p.namespaces[namespace]
	if ns == nil {
		return
	}
	rec := ns.pods[name]
	if rec == nil {
		return
	}
	delete(ns.pods, name)
	ns.disown(rec)
	for _, d := range p.candidates(ns, rec.owner) {
		if d.built && d.ns == ns {
			d.judgePod(rec.pod, nil)
		}
	}
}

// SetDaemonSet records ds as it now is: an informer's add or update. A
// change of its spec or of the metadata its pods and revisions are judged
// by (name, UID, annotations, deletion) rebuilds its index at its next
// plan; a status update (the controller's own writes) keeps it. A nil ds
// is ignored.
func (p *Planner) SetDaemonSet(ds *appsv1.DaemonSet) {
	if ds == nil {
		return
	}
	key := control.Key(ds)
	if p.sets == nil {
		p.sets = map[string]*daemonSet{}
	}
	d := p.sets[key]
	if d == nil {
		ns := p.namespace(ds.Namespace)
		d = &daemonSet{p: p, key: key, ns: ns, ds: ds}
		p.sets[key] = d
		ns.sets = append(ns.sets, d)
		p.addUID(d)
		return
	}
	old := d.ds
	d.ds = ds
	if old.UID != ds.UID {
		p.removeUID(d, old.UID)
		p.addUID(d)
	}
	switch {
	case !sameIndex(old, ds):
		d.invalidate()
	case !reflect.DeepEqual(old.Status.CollisionCount, ds.Status.CollisionCount):
		d.histStale = true
	}
}

// sameIndex reports whether a DaemonSet's index for a is valid for b: the
// spec and the metadata placement and the revision history read of it
// are equal (reflect.DeepEqual: nil and empty differ, as for the revision
// hash).
func sameIndex(a, b *appsv1.DaemonSet) bool {
	return a.Name == b.Name && a.Namespace == b.Namespace && a.UID == b.UID &&
		reflect.DeepEqual(a.DeletionTimestamp, b.DeletionTimestamp) &&
		maps.Equal(a.Annotations, b.Annotations) && (a.Annotations == nil) == (b.Annotations == nil) &&
		reflect.DeepEqual(a.Spec, b.Spec)
}

func (p *Planner) addUID(d *daemonSet) {
	if p.byUID == nil {
		p.byUID = map[types.UID][]*daemonSet{}
	}
	p.byUID[d.ds.UID] = append(p.byUID[d.ds.UID], d)
}

func (p *Planner) removeUID(d *daemonSet, uid types.UID) {
	l := slices.DeleteFunc(p.byUID[uid], func(x *daemonSet) bool { return x == d })
	if len(l) == 0 {
		delete(p.byUID, uid)
	} else {
		p.byUID[uid] = l
	}
}

// DeleteDaemonSet forgets the DaemonSet and its index: an informer's
// delete. Its pods and revisions stay (the garbage collector deletes
// them in a cluster).
func (p *Planner) DeleteDaemonSet(namespace, name string) {
	key := namespace + "/" + name
	d := p.sets[key]
	if d == nil {
		return
	}
	d.invalidate()
	delete(p.sets, key)
	d.ns.sets = slices.DeleteFunc(d.ns.sets, func(x *daemonSet) bool { return x == d })
	p.removeUID(d, d.ds.UID)
}

// SetRevision records rev as it now is: an informer's add or update. The
// revision histories of its namespace's DaemonSets are reconciled again at
// their next plans; setting the version already held (the same object)
// changes nothing. A nil rev is ignored.
func (p *Planner) SetRevision(rev *appsv1.ControllerRevision) {
	if rev == nil {
		return
	}
	ns := p.namespace(rev.Namespace)
	if ns.revisions[rev.Name] == rev {
		return // the version held (an informer's resync, a caller catching up from its lister)
	}
	ns.revisions[rev.Name] = rev
	ns.revisionsChanged()
}

// DeleteRevision forgets the ControllerRevision: an informer's delete.
func (p *Planner) DeleteRevision(namespace, name string) {
	ns := p.namespaces[namespace]
	if ns == nil {
		return
	}
	if _, ok := ns.revisions[name]; ok {
		delete(ns.revisions, name)
		ns.revisionsChanged()
	}
}

func (ns *namespace) revisionsChanged() {
	for _, d := range ns.sets {
		d.histStale = true
	}
}

// Reset replaces everything the Planner holds with these lists, as a
// controller's informers list them at start or resync, and builds every
// DaemonSet's index, judging pod availability at now. After missed events
// (a watch that expired, a handler that failed), Reset from the listers
// makes the Planner right again. The lists are not modified; the objects
// are kept.
func (p *Planner) Reset(now time.Time, nodes []*corev1.Node, pods []*corev1.Pod, daemonSets []*appsv1.DaemonSet, revisions []*appsv1.ControllerRevision) {
	// A resync reuses the memory of the largest tables (the slots and the
	// maps by name): nothing else refers to them.
	old := *p
	*p = Planner{stats: p.stats, broken: p.broken, now: now.Round(0), scratch: old.scratch[:0]}
	if cap(old.slots) >= len(nodes) && old.byName != nil {
		clear(old.slots[:cap(old.slots)])
		clear(old.byName)
		p.slots, p.byName = old.slots[:0], old.byName
	} else {
		p.slots = make([]slot, 0, len(nodes))
		p.byName = make(map[string]int32, len(nodes))
	}
	for _, n := range nodes {
		if n != nil {
			// One map write per node; a name listed twice is found below.
			p.byName[n.Name] = int32(len(p.slots))
			p.slots = append(p.slots, slot{name: n.Name, node: n, used: true})
		}
	}
	if len(p.byName) < len(p.slots) {
		// Names listed more than once: the later node counts, as in an
		// informer's store.
		p.slots, p.byName = p.slots[:0], make(map[string]int32, len(nodes))
		for _, n := range nodes {
			if n != nil {
				p.slots[p.acquire(n.Name)].node = n
			}
		}
	}
	p.nodes = len(p.slots)
	for _, rev := range revisions {
		if rev != nil {
			p.namespace(rev.Namespace).revisions[rev.Name] = rev
		}
	}
	// The pods, in two passes: the first sizes the maps and lists, so that
	// they do not grow, and the records come from one allocation.
	// One pass reads each pod (their memory, not the lists, is what costs)
	// and notes what the second needs: the runs of pods of one namespace
	// and owner, each pod's name.
	type run struct {
		namespace string
		owner     types.UID
		n         int
	}
	type kept struct {
		pod  *corev1.Pod
		name string
	}
	keep := make([]kept, 0, len(pods))
	var runs []run
	for _, pod := range pods {
		if pod == nil {
			continue
		}
		owner, ok := controllerOf(pod)
		if !ok {
			continue
		}
		keep = append(keep, kept{pod, pod.Name})
		if n := len(runs); n > 0 && runs[n-1].namespace == pod.Namespace && runs[n-1].owner == owner {
			runs[n-1].n++
		} else {
			runs = append(runs, run{pod.Namespace, owner, 1})
		}
	}
	type group struct {
		namespace string
		owner     types.UID
	}
	sizes := map[group]int{}
	total := map[string]int{}
	for _, r := range runs {
		sizes[group{r.namespace, r.owner}] += r.n
		total[r.namespace] += r.n
	}
	for g, n := range sizes {
		p.namespace(g.namespace).owned[g.owner] = &podList{recs: make([]*podRec, 0, n)}
	}
	for name, n := range total {
		if o := old.namespaces[name]; o != nil && len(o.pods) >= n/2 {
			clear(o.pods)
			p.namespaces[name].pods = o.pods
		} else {
			p.namespaces[name].pods = make(map[string]*podRec, n)
		}
	}
	recs := make([]podRec, len(keep))
	i := 0
	for _, r := range runs {
		ns := p.namespaces[r.namespace]
		list := ns.owned[r.owner]
		for _, k := range keep[i : i+r.n] {
			rec := &recs[i]
			rec.pod, rec.owner = k.pod, r.owner
			ns.pods[k.name] = rec // one map write per pod; repeats are found below
			list.add(rec)
			i++
		}
	}
	for name, n := range total {
		if ns := p.namespaces[name]; len(ns.pods) < n {
			// A pod listed more than once: the later counts, as in an
			// informer's store. The lists keep only the records the map
			// holds.
			for _, l := range ns.owned {
				l.recs = slices.DeleteFunc(l.recs, func(r *podRec) bool { return ns.pods[r.pod.Name] != r })
				for j, r := range l.recs {
					r.at = int32(j)
				}
			}
		}
	}
	for _, ds := range daemonSets {
		p.SetDaemonSet(ds)
	}
	for _, d := range p.sets {
		d.want, d.wantOpts = p.now, placement.Options{}
		if h, err := d.history(); err == nil && h.Err() == nil && d.ds.DeletionTimestamp == nil {
			d.build(p.now)
		}
	}
}

// Plan plans one sync of the DaemonSet key ("namespace/name",
// control.Key) at now, with the controller's pending expectations and
// failed-pod backoff (plan.Snapshot's PendingExpectations and
// FailedPodBackoff, whose delays should be positive): the plan.Plan that
// plan.New returns for the Planner's content (see Snapshot) and these
// inputs, field for field. A key the Planner does not hold gives a plan
// whose Err is placement.ErrNoDaemonSet.
//
// Plan reads the DaemonSet's index (see the package documentation for
// its cost), except with opts.Explain, or for a DaemonSet without a
// namespace, name or UID: plan.New then plans the whole snapshot. It
// moves the index's time to now: pods whose minReadySeconds pass are
// judged available; a time earlier than the last plan's rebuilds the
// index. The plan shares no memory with the Planner but the objects it
// was given (Plan.Creates' pods and the revisions are new).
func (p *Planner) Plan(key string, now time.Time, pending bool, backoff map[string]time.Duration, opts plan.Options) plan.Plan {
	p.stats.Plans++
	now = now.Round(0) // wall clock only: availability is judged on it
	p.now = now
	s := plan.Snapshot{Now: now, FailedPodBackoff: backoff, PendingExpectations: pending}
	d := p.sets[key]
	if d == nil {
		return plan.New(s, opts)
	}
	ds := d.ds
	s.DaemonSet = ds
	if opts.Explain || ds.Namespace == "" || ds.Name == "" || ds.UID == "" {
		p.stats.FullPlans++
		full := d.snapshot(now)
		full.FailedPodBackoff, full.PendingExpectations = backoff, pending
		return plan.New(full, opts)
	}
	d.want, d.wantOpts = now, opts.Placement
	return plan.FromIndex(s, index{d}, opts)
}

// nodeSlice returns the existing nodes and their slots, in slot order.
func (p *Planner) nodeSlice() ([]*corev1.Node, []int32) {
	if p.nodeList == nil {
		p.nodeList, p.nodeSlots = make([]*corev1.Node, 0, p.nodes), make([]int32, 0, p.nodes)
		for i := range p.slots {
			if n := p.slots[i].node; n != nil {
				p.nodeList = append(p.nodeList, n)
				p.nodeSlots = append(p.nodeSlots, int32(i))
			}
		}
	}
	return p.nodeList, p.nodeSlots
}

// Snapshot returns what the Planner holds for the DaemonSet key as a
// plan.Snapshot: the DaemonSet, every node, the pods of its namespace
// that a DaemonSet may claim (orphans and pods controlled by a
// DaemonSet), the ControllerRevisions of its namespace, and now;
// FailedPodBackoff and PendingExpectations are left unset. False when it
// holds no such DaemonSet. Plan(key, now, ...) equals plan.New on this
// snapshot with those fields set. The lists are new; the objects are
// shared.
func (p *Planner) Snapshot(key string, now time.Time) (plan.Snapshot, bool) {
	d := p.sets[key]
	if d == nil {
		return plan.Snapshot{}, false
	}
	return d.snapshot(now), true
}
