package model

import (
	"fmt"
	"maps"
	"slices"
	"strings"
	"time"

	appsv1 "k8s.io/api/apps/v1"
	corev1 "k8s.io/api/core/v1"
	"k8s.io/apimachinery/pkg/api/equality"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/types"

	"github.com/dsplan/dsplan/placement"
	"github.com/dsplan/dsplan/plan"
)

// Failed-pod backoff of kube-controller-manager's DaemonSet controller
// (flowcontrol.NewBackOff(1s, 15m) in NewDaemonSetsController).
const (
	BackoffInitial = time.Second
	BackoffMax     = 15 * time.Minute
)

// backoff is one flowcontrol.Backoff entry.
type backoff struct {
	last  time.Time
	delay time.Duration
}

// Cluster is the model cluster. Its fields are the API server's store; tests
// may read them freely and should change them through the methods, which
// keep the objects consistent (generation, readiness transition times,
// unique names).
type Cluster struct {
	DaemonSet *appsv1.DaemonSet
	// Nodes, Pods and Revisions are in the order they were added, as an
	// informer cache would return them in some arbitrary order.
	Nodes     []*corev1.Node
	Pods      []*corev1.Pod
	Revisions []*appsv1.ControllerRevision
	// Now is the cluster clock; it only moves forward, in whole seconds.
	Now time.Time
	// SchedulerDown leaves created pods unscheduled (spec.nodeName empty,
	// pinned to their node by affinity) until [Cluster.Schedule].
	SchedulerDown bool

	backoff map[string]backoff
	serial  int
}

// New returns a cluster holding only ds (deep-copied), with its clock at now.
func New(ds *appsv1.DaemonSet, now time.Time) *Cluster {
	return &Cluster{DaemonSet: ds.DeepCopy(), Now: now.Truncate(time.Second), backoff: map[string]backoff{}}
}

// FromSnapshot returns a cluster holding deep copies of the snapshot's
// DaemonSet, nodes, pods and revisions, with its clock at s.Now. The
// failed-pod backoff starts empty.
func FromSnapshot(s plan.Snapshot) *Cluster {
	c := New(s.DaemonSet, s.Now)
	for _, n := range s.Nodes {
		c.Nodes = append(c.Nodes, n.DeepCopy())
	}
	for _, p := range s.Pods {
		c.Pods = append(c.Pods, p.DeepCopy())
	}
	for _, r := range s.Revisions {
		c.Revisions = append(c.Revisions, r.DeepCopy())
	}
	return c
}

// Clone returns a deep copy of c.
func (c *Cluster) Clone() *Cluster {
	d := &Cluster{
		DaemonSet:     c.DaemonSet.DeepCopy(),
		Now:           c.Now,
		SchedulerDown: c.SchedulerDown,
		backoff:       make(map[string]backoff, len(c.backoff)),
		serial:        c.serial,
	}
	for _, n := range c.Nodes {
		d.Nodes = append(d.Nodes, n.DeepCopy())
	}
	for _, p := range c.Pods {
		d.Pods = append(d.Pods, p.DeepCopy())
	}
	for _, r := range c.Revisions {
		d.Revisions = append(d.Revisions, r.DeepCopy())
	}
	maps.Copy(d.backoff, c.backoff)
	return d
}

// Snapshot returns what one sync of the DaemonSet controller reads now. The
// snapshot shares the cluster's objects: do not change the cluster while a
// snapshot is in use. FailedPodBackoff holds the nodes whose failed-pod
// backoff has not expired, with the time left.
func (c *Cluster) Snapshot() plan.Snapshot {
	s := plan.Snapshot{
		DaemonSet: c.DaemonSet,
		Nodes:     slices.Clone(c.Nodes),
		Pods:      slices.Clone(c.Pods),
		Revisions: slices.Clone(c.Revisions),
		Now:       c.Now,
	}
	for node, b := range c.backoff {
		if left := b.last.Add(b.delay).Sub(c.Now); left > 0 {
			if s.FailedPodBackoff == nil {
				s.FailedPodBackoff = map[string]time.Duration{}
			}
			s.FailedPodBackoff[node] = left
		}
	}
	return s
}

// BackoffLeft returns the longest failed-pod backoff still running.
func (c *Cluster) BackoffLeft() time.Duration {
	var longest time.Duration
	for _, b := range c.backoff {
		longest = max(longest, b.last.Add(b.delay).Sub(c.Now))
	}
	return longest
}

// Advance moves the clock forward by d, rounded down to whole seconds.
func (c *Cluster) Advance(d time.Duration) {
	if d > 0 {
		c.Now = c.Now.Add(d.Truncate(time.Second))
	}
}

// UpdateSpec changes the DaemonSet's spec with f and, when the spec changed,
// bumps metadata.generation as the API server does. It reports whether the
// spec changed.
func (c *Cluster) UpdateSpec(f func(*appsv1.DaemonSetSpec)) bool {
	spec := c.DaemonSet.Spec.DeepCopy()
	f(spec)
	if equality.Semantic.DeepEqual(spec, &c.DaemonSet.Spec) {
		return false
	}
	c.DaemonSet.Spec = *spec
	c.DaemonSet.Generation++
	return true
}

// Node returns the node named name, or nil.
func (c *Cluster) Node(name string) *corev1.Node {
	for _, n := range c.Nodes {
		if n.Name == name {
			return n
		}
	}
	return nil
}

// Pod returns the pod named name, or nil.
func (c *Cluster) Pod(name string) *corev1.Pod {
	for _, p := range c.Pods {
		if p.Name == name {
			return p
		}
	}
	return nil
}

// AddNode adds node (deep-copied), replacing a node of the same name.
func (c *Cluster) AddNode(node *corev1.Node) {
	node = node.DeepCopy()
	if node.UID == "" {
		c.serial++
		node.UID = types.UID(fmt.Sprintf("node-uid-%d", c.serial))
	}
	if node.CreationTimestamp.IsZero() {
		node.CreationTimestamp = metav1.NewTime(c.Now)
	}
	for i, n := range c.Nodes {
		if n.Name == node.Name {
			c.Nodes[i] = node
			return
		}
	}
	c.Nodes = append(c.Nodes, node)
}

// RemoveNode deletes the node named name. Its pods stay until [Cluster.GC],
// as they do until the pod garbage collector runs.
func (c *Cluster) RemoveNode(name string) {
	c.Nodes = slices.DeleteFunc(c.Nodes, func(n *corev1.Node) bool { return n.Name == name })
	delete(c.backoff, name)
}

// SetNodeLabels replaces the labels of the node named name (the hostname
// label is kept).
func (c *Cluster) SetNodeLabels(name string, labels map[string]string) {
	n := c.Node(name)
	if n == nil {
		return
	}
	host := n.Labels[corev1.LabelHostname]
	n.Labels = maps.Clone(labels)
	if n.Labels == nil {
		n.Labels = map[string]string{}
	}
	n.Labels[corev1.LabelHostname] = host
}

// Taint adds taint to the node named name, replacing one with the same key
// and effect.
func (c *Cluster) Taint(name string, taint corev1.Taint) {
	n := c.Node(name)
	if n == nil {
		return
	}
	n.Spec.Taints = slices.DeleteFunc(n.Spec.Taints, func(t corev1.Taint) bool {
		return t.Key == taint.Key && t.Effect == taint.Effect
	})
	if taint.Effect == corev1.TaintEffectNoExecute && taint.TimeAdded == nil {
		t := metav1.NewTime(c.Now)
		taint.TimeAdded = &t
	}
	n.Spec.Taints = append(n.Spec.Taints, taint)
}

// Untaint removes the i-th taint (modulo their number) of the node named
// name, and returns it.
func (c *Cluster) Untaint(name string, i int) (corev1.Taint, bool) {
	n := c.Node(name)
	if n == nil || len(n.Spec.Taints) == 0 {
		return corev1.Taint{}, false
	}
	i %= len(n.Spec.Taints)
	t := n.Spec.Taints[i]
	n.Spec.Taints = slices.Delete(n.Spec.Taints, i, i+1)
	return t, true
}

// SetReady marks the pod named name ready or not ready, as its kubelet
// does: the Ready condition's lastTransitionTime moves only on a change,
// and a ready pod is Running. Terminal pods stay as they are.
func (c *Cluster) SetReady(name string, ready bool) bool {
	p := c.Pod(name)
	if p == nil || isTerminal(p) || p.Spec.NodeName == "" {
		return false
	}
	status := corev1.ConditionFalse
	if ready {
		status = corev1.ConditionTrue
		p.Status.Phase = corev1.PodRunning
	}
	setCondition(p, corev1.PodReady, status, c.Now)
	return true
}

// SetPhase makes the pod named name terminal (Failed or Succeeded), not
// ready.
func (c *Cluster) SetPhase(name string, phase corev1.PodPhase) bool {
	p := c.Pod(name)
	if p == nil || isTerminal(p) {
		return false
	}
	p.Status.Phase = phase
	setCondition(p, corev1.PodReady, corev1.ConditionFalse, c.Now)
	return true
}

// StartDeleting marks the pod named name as being deleted (graceful
// deletion: it stays until [Cluster.FinishDeleting]). An unscheduled pod
// has no kubelet to wait for and is removed at once.
func (c *Cluster) StartDeleting(name string) bool {
	p := c.Pod(name)
	if p == nil || p.DeletionTimestamp != nil {
		return false
	}
	if p.Spec.NodeName == "" {
		c.FinishDeleting(name)
		return true
	}
	t := metav1.NewTime(c.Now)
	grace := int64(30)
	p.DeletionTimestamp, p.DeletionGracePeriodSeconds = &t, &grace
	return true
}

// FinishDeleting removes the pod named name from the store.
func (c *Cluster) FinishDeleting(name string) {
	c.Pods = slices.DeleteFunc(c.Pods, func(p *corev1.Pod) bool { return p.Name == name })
}

// FinishAllDeletions removes every pod being deleted.
func (c *Cluster) FinishAllDeletions() {
	c.Pods = slices.DeleteFunc(c.Pods, func(p *corev1.Pod) bool { return p.DeletionTimestamp != nil })
}

// GC removes the pods bound to nodes that do not exist, as the pod garbage
// collector does (it force-deletes them), and returns their names.
func (c *Cluster) GC() []string {
	var gone []string
	c.Pods = slices.DeleteFunc(c.Pods, func(p *corev1.Pod) bool {
		if p.Spec.NodeName != "" && c.Node(p.Spec.NodeName) == nil {
			gone = append(gone, p.Name)
			return true
		}
		return false
	})
	return gone
}

// Schedule binds the unscheduled pods whose target node exists to it, as
// the scheduler does with daemon pods, and returns their names.
func (c *Cluster) Schedule() []string {
	var bound []string
	for _, p := range c.Pods {
		if p.Spec.NodeName != "" || p.DeletionTimestamp != nil {
			continue
		}
		node, err := placement.TargetNodeName(p)
		if err != nil || c.Node(node) == nil {
			continue
		}
		p.Spec.NodeName = node
		setCondition(p, corev1.PodScheduled, corev1.ConditionTrue, c.Now)
		bound = append(bound, p.Name)
	}
	return bound
}

// Orphan removes the controller reference of the pod named name, as
// `kubectl delete ds --cascade=orphan` leaves pods behind.
func (c *Cluster) Orphan(name string) bool {
	p := c.Pod(name)
	if p == nil || len(p.OwnerReferences) == 0 {
		return false
	}
	p.OwnerReferences = nil
	return true
}

// Unlabel removes the label key from the pod named name, as a user
// relabelling a pod out of the DaemonSet's selector (the DaemonSet then
// releases it).
func (c *Cluster) Unlabel(name, key string) bool {
	p := c.Pod(name)
	if p == nil {
		return false
	}
	if _, ok := p.Labels[key]; !ok {
		return false
	}
	delete(p.Labels, key)
	return true
}

// Settle is the end of churn: deletions finish, the pod garbage collector
// and the scheduler run, every pod that is not terminal becomes ready, and
// the clock moves past minReadySeconds and every failed-pod backoff.
func (c *Cluster) Settle() {
	c.FinishAllDeletions()
	c.GC()
	c.SchedulerDown = false
	c.Schedule()
	for _, p := range c.Pods {
		c.SetReady(p.Name, true)
	}
	wait := time.Duration(c.DaemonSet.Spec.MinReadySeconds) * time.Second
	c.Advance(max(wait, c.BackoffLeft()) + time.Second)
}

func isTerminal(p *corev1.Pod) bool {
	return p.Status.Phase == corev1.PodFailed || p.Status.Phase == corev1.PodSucceeded
}

// setCondition sets the pod condition of type typ, moving its
// lastTransitionTime only when the status changes.
func setCondition(p *corev1.Pod, typ corev1.PodConditionType, status corev1.ConditionStatus, now time.Time) {
	for i := range p.Status.Conditions {
		c := &p.Status.Conditions[i]
		if c.Type == typ {
			if c.Status != status {
				c.Status, c.LastTransitionTime = status, metav1.NewTime(now)
			}
			return
		}
	}
	p.Status.Conditions = append(p.Status.Conditions, corev1.PodCondition{
		Type: typ, Status: status, LastTransitionTime: metav1.NewTime(now),
	})
}

// podName returns the name the API server gives the serial-th pod created
// with generateName: the prefix and five characters, as names.SimpleNameGenerator.
// The suffix is a bijective scramble of serial, so names are unique but
// their order differs from creation order (as real names do).
func podName(generateName string, serial int) string {
	const alphabet = "bcdfghjklmnpqrstvwxz2456789"
	n := len(alphabet)
	space := n * n * n * n * n
	// 1000003 is coprime with 27^5 = 3^15, so this is a bijection on
	// [0, space).
	v := (serial*1000003 + 12345) % space
	var b [5]byte
	for i := range b {
		b[i] = alphabet[v%n]
		v /= n
	}
	return generateName + string(b[:])
}

// Describe returns a compact, deterministic description of the snapshot s
// for failure messages: the DaemonSet's strategy and placement, then one
// line per node (sorted by name) with its labels, taints and pods.
func Describe(s plan.Snapshot) string {
	var b strings.Builder
	ds := s.DaemonSet
	if ds == nil {
		return "no DaemonSet\n"
	}
	fmt.Fprintf(&b, "now=%s generation=%d observed=%d minReadySeconds=%d strategy=%s\n",
		s.Now.Format(time.TimeOnly), ds.Generation, ds.Status.ObservedGeneration, ds.Spec.MinReadySeconds, StrategyString(ds.Spec.UpdateStrategy))
	fmt.Fprintf(&b, "template: image=%s nodeSelector=%v affinity=%s tolerations=%s\n",
		imageOf(ds), ds.Spec.Template.Spec.NodeSelector, affinityString(ds.Spec.Template.Spec.Affinity), tolerationsString(ds.Spec.Template.Spec.Tolerations))
	byNode := map[string][]*corev1.Pod{}
	var names []string
	for _, n := range s.Nodes {
		names = append(names, n.Name)
	}
	for _, p := range s.Pods {
		node, err := placement.TargetNodeName(p)
		if err != nil {
			node = "?"
		}
		names = append(names, node) // sorted and compacted below
		byNode[node] = append(byNode[node], p)
	}
	slices.Sort(names)
	names = slices.Compact(names)
	for _, name := range names {
		var n *corev1.Node
		for _, m := range s.Nodes {
			if m.Name == name {
				n = m
			}
		}
		if n == nil {
			fmt.Fprintf(&b, "  %s (gone):", name)
		} else {
			fmt.Fprintf(&b, "  %s labels=%s taints=%s:", name, labelsString(n.Labels), taintsString(n.Spec.Taints))
		}
		pods := byNode[name]
		slices.SortFunc(pods, placement.ComparePods)
		for _, p := range pods {
			fmt.Fprintf(&b, " [%s]", PodString(p, s.Now))
		}
		b.WriteString("\n")
	}
	if len(s.FailedPodBackoff) > 0 {
		keys := make([]string, 0, len(s.FailedPodBackoff))
		for k := range s.FailedPodBackoff {
			keys = append(keys, k)
		}
		slices.Sort(keys)
		for _, k := range keys {
			fmt.Fprintf(&b, "  backoff %s %s\n", k, s.FailedPodBackoff[k])
		}
	}
	return b.String()
}

// PodString describes a pod in one short line: name, hash, phase,
// readiness (with seconds since the transition), scheduling and deletion.
func PodString(p *corev1.Pod, now time.Time) string {
	var b strings.Builder
	fmt.Fprintf(&b, "%s hash=%s %s", p.Name, p.Labels[appsv1.DefaultDaemonSetUniqueLabelKey], p.Status.Phase)
	for _, c := range p.Status.Conditions {
		if c.Type == corev1.PodReady {
			fmt.Fprintf(&b, " ready=%s/%ds", c.Status, int(now.Sub(c.LastTransitionTime.Time).Seconds()))
		}
	}
	fmt.Fprintf(&b, " created=%ds", int(now.Sub(p.CreationTimestamp.Time).Seconds()))
	if p.Spec.NodeName == "" {
		b.WriteString(" unscheduled")
	}
	if p.DeletionTimestamp != nil {
		b.WriteString(" deleting")
	}
	if len(p.OwnerReferences) == 0 {
		b.WriteString(" orphan")
	}
	return b.String()
}

func imageOf(ds *appsv1.DaemonSet) string {
	if cs := ds.Spec.Template.Spec.Containers; len(cs) > 0 {
		return cs[0].Image
	}
	return ""
}

func labelsString(m map[string]string) string {
	keys := make([]string, 0, len(m))
	for k := range m {
		if k != corev1.LabelHostname {
			keys = append(keys, k)
		}
	}
	slices.Sort(keys)
	parts := make([]string, len(keys))
	for i, k := range keys {
		parts[i] = k + "=" + m[k]
	}
	return "{" + strings.Join(parts, ",") + "}"
}

func taintsString(ts []corev1.Taint) string {
	parts := make([]string, len(ts))
	for i := range ts {
		parts[i] = ts[i].ToString()
	}
	return "[" + strings.Join(parts, ",") + "]"
}
