package forecast

import (
	"fmt"
	"math/rand/v2"
	"slices"
	"time"

	appsv1 "k8s.io/api/apps/v1"
	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/types"

	"github.com/dsplan/dsplan/placement"
	"github.com/dsplan/dsplan/plan"
)

// sim is the simulated cluster a forecast plays a rollout on: the API
// server's store, a scheduler that binds daemon pods to their node unless
// a host port is taken there, and kubelets that make a bound pod ready
// after Model.ReadyAfter (or never, for a failing pod) and remove a
// deleted pod after Model.DeleteAfter.
type sim struct {
	model     Model
	ds        *appsv1.DaemonSet
	nodes     []*corev1.Node
	nodeIndex map[string]bool
	pods      []*corev1.Pod
	at        map[string]int // pod name → index in pods
	revisions []*appsv1.ControllerRevision
	now       time.Time
	// readyAt and goneAt are the times pending kubelet events happen.
	readyAt map[string]time.Time
	goneAt  map[string]time.Time
	// wakeAt are the resyncs the controller schedules itself: when a pod
	// turns ready and the DaemonSet has minReadySeconds, it syncs again
	// minReadySeconds (and a second) later, to count the pod available.
	wakeAt []time.Time
	// pending are pods waiting for their node's host ports.
	pending []string
	failing map[string]bool
	rng     *rand.Rand
	serial  int
}

func newSim(s plan.Snapshot, m Model) *sim {
	c := &sim{
		model: m, ds: s.DaemonSet.DeepCopy(), now: s.Now, nodeIndex: map[string]bool{}, at: map[string]int{},
		readyAt: map[string]time.Time{}, goneAt: map[string]time.Time{}, failing: map[string]bool{},
		rng: rand.New(rand.NewPCG(m.Seed, 0x9e3779b97f4a7c15)),
	}
	for _, n := range s.Nodes {
		if n != nil && !c.nodeIndex[n.Name] {
			c.nodes = append(c.nodes, n)
			c.nodeIndex[n.Name] = true
		}
	}
	for _, p := range s.Pods {
		if p == nil {
			continue
		}
		if _, dup := c.at[p.Name]; dup {
			continue
		}
		p = p.DeepCopy()
		c.add(p)
		if p.DeletionTimestamp != nil {
			// A pod being deleted when the forecast starts goes away after
			// the model's grace period.
			c.goneAt[p.Name] = c.now.Add(m.DeleteAfter)
		}
	}
	for _, r := range s.Revisions {
		if r != nil {
			c.revisions = append(c.revisions, r.DeepCopy())
		}
	}
	return c
}

func (c *sim) add(p *corev1.Pod) {
	c.at[p.Name] = len(c.pods)
	c.pods = append(c.pods, p)
}

func (c *sim) remove(name string) {
	i, ok := c.at[name]
	if !ok {
		return
	}
	last := len(c.pods) - 1
	c.pods[i] = c.pods[last]
	c.at[c.pods[i].Name] = i
	c.pods = c.pods[:last]
	delete(c.at, name)
	delete(c.readyAt, name)
	delete(c.goneAt, name)
	delete(c.failing, name)
}

func (c *sim) pod(name string) *corev1.Pod {
	if i, ok := c.at[name]; ok {
		return c.pods[i]
	}
	return nil
}

func (c *sim) snapshot() plan.Snapshot {
	return plan.Snapshot{DaemonSet: c.ds, Nodes: c.nodes, Pods: c.pods, Revisions: c.revisions, Now: c.now}
}

// apply carries out p as an API server that accepts every write.
func (c *sim) apply(p plan.Plan) {
	for _, cl := range p.Claims {
		var meta *metav1.ObjectMeta
		switch cl.Kind {
		case placement.ClaimPod:
			if pod := c.pod(cl.Name); pod != nil {
				meta = &pod.ObjectMeta
			}
		case placement.ClaimRevision:
			for _, r := range c.revisions {
				if r.Name == cl.Name {
					meta = &r.ObjectMeta
				}
			}
		}
		if meta == nil {
			continue
		}
		meta.OwnerReferences = slices.DeleteFunc(meta.OwnerReferences, func(o metav1.OwnerReference) bool { return o.UID == c.ds.UID })
		if cl.Type == placement.Adopt {
			meta.OwnerReferences = append(meta.OwnerReferences, *metav1.NewControllerRef(c.ds, placement.ControllerKind))
		}
	}
	for _, r := range p.Revisions.Update {
		for i, x := range c.revisions {
			if x.Name == r.Name {
				c.revisions[i] = r.DeepCopy()
			}
		}
	}
	for _, r := range p.Revisions.Create {
		c.revisions = append(c.revisions, r.DeepCopy())
	}
	for _, pp := range p.PodPatches {
		if pod := c.pod(pp.Pod); pod != nil {
			for k, v := range pp.Labels {
				pod.Labels[k] = v
			}
		}
	}
	for _, cr := range p.Creates {
		c.create(cr)
	}
	if len(p.Creates) > 0 {
		c.schedule()
	}
	for _, d := range p.Deletes {
		pod := c.pod(d.Pod)
		if pod == nil || pod.DeletionTimestamp != nil {
			continue
		}
		if c.model.DeleteAfter <= 0 {
			c.remove(d.Pod)
			continue
		}
		pod.DeletionTimestamp = new(metav1.NewTime(c.now))
		c.goneAt[d.Pod] = c.now.Add(c.model.DeleteAfter)
	}
	if len(p.Revisions.Delete) > 0 {
		c.revisions = slices.DeleteFunc(c.revisions, func(r *appsv1.ControllerRevision) bool { return slices.Contains(p.Revisions.Delete, r.Name) })
	}
	if p.StatusChanged {
		c.ds.Status = p.Status
	}
}

func (c *sim) create(cr plan.Create) {
	pod := cr.Pod.DeepCopy()
	c.serial++
	pod.Name = fmt.Sprintf("%s%05d", pod.GenerateName, c.serial)
	pod.UID = types.UID(fmt.Sprintf("forecast-%d", c.serial))
	pod.CreationTimestamp = metav1.NewTime(c.now)
	pod.Status = corev1.PodStatus{Phase: corev1.PodPending,
		Conditions: []corev1.PodCondition{{Type: corev1.PodReady, Status: corev1.ConditionFalse, LastTransitionTime: metav1.NewTime(c.now)}}}
	if c.model.FailureRate > 0 && c.rng.Float64() < c.model.FailureRate {
		c.failing[pod.Name] = true
	}
	c.add(pod)
	c.pending = append(c.pending, pod.Name)
}

// schedule binds the pending pods whose node exists and has their host
// ports free, as the scheduler's NodePorts filter does; a bound pod starts
// and becomes ready after Model.ReadyAfter, or never when it fails.
func (c *sim) schedule() {
	if len(c.pending) == 0 {
		return
	}
	// The host ports in use on each node, from the bound pods, when a
	// pending pod wants any.
	var used map[string][]hostPort
	for _, name := range c.pending {
		if pod := c.pod(name); pod != nil && len(hostPorts(pod)) > 0 {
			used = map[string][]hostPort{}
			break
		}
	}
	if used != nil {
		for _, other := range c.pods {
			if other.Spec.NodeName != "" {
				used[other.Spec.NodeName] = append(used[other.Spec.NodeName], hostPorts(other)...)
			}
		}
	}
	c.pending = slices.DeleteFunc(c.pending, func(name string) bool {
		pod := c.pod(name)
		if pod == nil {
			return true
		}
		node, err := placement.TargetNodeName(pod)
		if err != nil || !c.nodeIndex[node] {
			return false
		}
		ports := hostPorts(pod)
		for _, p := range ports {
			if slices.Contains(used[node], p) {
				return false
			}
		}
		if len(ports) > 0 {
			used[node] = append(used[node], ports...)
		}
		pod.Spec.NodeName = node
		pod.Status.Phase = corev1.PodRunning
		if c.failing[name] {
			// A crash loop, as the kubelet reports it.
			for _, ctr := range pod.Spec.Containers {
				pod.Status.ContainerStatuses = append(pod.Status.ContainerStatuses, corev1.ContainerStatus{Name: ctr.Name, RestartCount: 1,
					State: corev1.ContainerState{Waiting: &corev1.ContainerStateWaiting{Reason: "CrashLoopBackOff"}}})
			}
		} else {
			c.readyAt[name] = c.now.Add(c.model.ReadyAfter)
		}
		return true
	})
}

// hostPort is a host port a pod takes.
type hostPort struct {
	protocol corev1.Protocol
	port     int32
}

func hostPorts(pod *corev1.Pod) []hostPort {
	var out []hostPort
	for _, cs := range [][]corev1.Container{pod.Spec.InitContainers, pod.Spec.Containers} {
		for _, ctr := range cs {
			for _, p := range ctr.Ports {
				if p.HostPort > 0 {
					proto := p.Protocol
					if proto == "" {
						proto = corev1.ProtocolTCP
					}
					out = append(out, hostPort{proto, p.HostPort})
				}
			}
		}
	}
	return out
}

// nextEvent returns the time of the next kubelet event, or false for none.
func (c *sim) nextEvent() (time.Time, bool) {
	var next time.Time
	found := false
	for _, m := range []map[string]time.Time{c.readyAt, c.goneAt} {
		for _, t := range m {
			if !found || t.Before(next) {
				next, found = t, true
			}
		}
	}
	for _, t := range c.wakeAt {
		if !found || t.Before(next) {
			next, found = t, true
		}
	}
	return next, found
}

// advance moves the clock to t and plays the kubelet events due by then.
func (c *sim) advance(t time.Time) {
	if t.After(c.now) {
		c.now = t
	}
	var gone []string
	for name, at := range c.goneAt {
		if !at.After(c.now) {
			gone = append(gone, name)
		}
	}
	slices.Sort(gone)
	for _, name := range gone {
		c.remove(name)
	}
	c.wakeAt = slices.DeleteFunc(c.wakeAt, func(t time.Time) bool { return !t.After(c.now) })
	for name, at := range c.readyAt {
		if at.After(c.now) {
			continue
		}
		if m := c.ds.Spec.MinReadySeconds; m > 0 {
			c.wakeAt = append(c.wakeAt, at.Add(time.Duration(m)*time.Second+time.Second))
		}
		pod := c.pod(name)
		delete(c.readyAt, name)
		if pod == nil {
			continue
		}
		for i := range pod.Status.Conditions {
			if pod.Status.Conditions[i].Type == corev1.PodReady {
				pod.Status.Conditions[i] = corev1.PodCondition{Type: corev1.PodReady, Status: corev1.ConditionTrue, LastTransitionTime: metav1.NewTime(at)}
			}
		}
	}
	if len(gone) > 0 {
		c.schedule()
	}
}
