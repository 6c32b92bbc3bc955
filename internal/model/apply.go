package model

import (
	"fmt"
	"slices"

	appsv1 "k8s.io/api/apps/v1"
	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/types"

	"github.com/dsplan/dsplan/placement"
	"github.com/dsplan/dsplan/plan"
	"github.com/dsplan/dsplan/rollout"
)

// OpKind is the kind of one API call of a plan.
type OpKind string

// The API calls a plan makes.
const (
	OpCreatePod      OpKind = "CreatePod"      // Name: the node
	OpDeletePod      OpKind = "DeletePod"      // Name: the pod
	OpPatchPod       OpKind = "PatchPod"       // Name: the pod (revision dedup relabel)
	OpClaim          OpKind = "Claim"          // Name: "<kind>/<name>"
	OpCreateRevision OpKind = "CreateRevision" // Name: the revision
	OpUpdateRevision OpKind = "UpdateRevision" // Name: the revision
	OpDeleteRevision OpKind = "DeleteRevision" // Name: the revision
	OpWriteStatus    OpKind = "WriteStatus"    // Name: the DaemonSet
)

// Op is one API call of a plan.
type Op struct {
	Kind OpKind
	Name string
}

func (o Op) String() string { return string(o.Kind) + " " + o.Name }

// Ops lists the API calls of p in the order [Cluster.Apply] makes them:
// claims, revision writes, pod patches, pod creates, pod deletes, and the
// status write (when p.StatusChanged).
func Ops(p plan.Plan, dsName string) []Op {
	var ops []Op
	for _, c := range p.Claims {
		ops = append(ops, Op{OpClaim, string(c.Kind) + "/" + c.Name})
	}
	for _, r := range p.Revisions.Create {
		ops = append(ops, Op{OpCreateRevision, r.Name})
	}
	for _, r := range p.Revisions.Update {
		ops = append(ops, Op{OpUpdateRevision, r.Name})
	}
	for _, name := range p.Revisions.Delete {
		ops = append(ops, Op{OpDeleteRevision, name})
	}
	for _, pp := range p.PodPatches {
		ops = append(ops, Op{OpPatchPod, pp.Pod})
	}
	for _, c := range p.Creates {
		ops = append(ops, Op{OpCreatePod, c.Node})
	}
	for _, d := range p.Deletes {
		ops = append(ops, Op{OpDeletePod, d.Pod})
	}
	if p.StatusChanged {
		ops = append(ops, Op{OpWriteStatus, dsName})
	}
	return ops
}

// Apply carries out the API calls of p for which ok returns true (all of
// them when ok is nil); the others fail as with an API error. It returns
// the calls it made. Apply never panics on a plan that names objects that
// do not exist: such calls fail as NotFound does.
//
// The controller's memory is updated whether or not the calls succeed, as
// kube-controller-manager updates it while planning: every failed-pod
// delete in p advances the node's failed-pod backoff.
//
// Created pods get a name from their generateName, a UID, the creation
// time Now, phase Pending and a Ready condition False; they are bound to
// their node (spec.nodeName) unless SchedulerDown. Deleted pods get a
// deletionTimestamp ([Cluster.StartDeleting]).
func (c *Cluster) Apply(p plan.Plan, ok func(Op) bool) []Op {
	if ok == nil {
		ok = func(Op) bool { return true }
	}
	for _, d := range p.Deletes {
		if d.Reason == rollout.DeleteFailed {
			c.nextBackoff(d.Node)
		}
	}
	var done []Op
	try := func(op Op, f func() bool) {
		if ok(op) && f() {
			done = append(done, op)
		}
	}
	for _, cl := range p.Claims {
		try(Op{OpClaim, string(cl.Kind) + "/" + cl.Name}, func() bool { return c.claim(cl) })
	}
	for _, r := range p.Revisions.Create {
		try(Op{OpCreateRevision, r.Name}, func() bool { return c.createRevision(r) })
	}
	for _, r := range p.Revisions.Update {
		try(Op{OpUpdateRevision, r.Name}, func() bool { return c.updateRevision(r) })
	}
	for _, name := range p.Revisions.Delete {
		try(Op{OpDeleteRevision, name}, func() bool { return c.deleteRevision(name) })
	}
	for _, pp := range p.PodPatches {
		try(Op{OpPatchPod, pp.Pod}, func() bool {
			pod := c.Pod(pp.Pod)
			if pod == nil {
				return false
			}
			if pod.Labels == nil {
				pod.Labels = map[string]string{}
			}
			for k, v := range pp.Labels {
				pod.Labels[k] = v
			}
			return true
		})
	}
	for _, cr := range p.Creates {
		try(Op{OpCreatePod, cr.Node}, func() bool { return c.createPod(cr) })
	}
	for _, d := range p.Deletes {
		try(Op{OpDeletePod, d.Pod}, func() bool { return c.StartDeleting(d.Pod) })
	}
	if p.StatusChanged {
		try(Op{OpWriteStatus, c.DaemonSet.Name}, func() bool {
			c.DaemonSet.Status = *p.Status.DeepCopy()
			return true
		})
	}
	return done
}

// nextBackoff is flowcontrol.Backoff.Next: start at BackoffInitial, or
// double up to BackoffMax while the entry has not expired (an entry expires
// 2×BackoffMax after its last update).
func (c *Cluster) nextBackoff(node string) {
	b, ok := c.backoff[node]
	if !ok || c.Now.Sub(b.last) > 2*BackoffMax {
		b.delay = BackoffInitial
	} else {
		b.delay = min(2*b.delay, BackoffMax)
	}
	b.last = c.Now
	c.backoff[node] = b
}

func (c *Cluster) createPod(cr plan.Create) bool {
	if cr.Pod == nil {
		return false
	}
	pod := cr.Pod.DeepCopy()
	c.serial++
	if pod.Name == "" {
		pod.Name = podName(pod.GenerateName, c.serial)
	}
	if c.Pod(pod.Name) != nil {
		return false // AlreadyExists
	}
	pod.UID = types.UID(fmt.Sprintf("pod-uid-%d", c.serial))
	pod.CreationTimestamp = metav1.NewTime(c.Now)
	pod.Status = corev1.PodStatus{Phase: corev1.PodPending}
	if !c.SchedulerDown && c.Node(cr.Node) != nil {
		pod.Spec.NodeName = cr.Node
		setCondition(pod, corev1.PodScheduled, corev1.ConditionTrue, c.Now)
	}
	setCondition(pod, corev1.PodReady, corev1.ConditionFalse, c.Now)
	c.Pods = append(c.Pods, pod)
	return true
}

func (c *Cluster) createRevision(r *appsv1.ControllerRevision) bool {
	if slices.ContainsFunc(c.Revisions, func(x *appsv1.ControllerRevision) bool { return x.Name == r.Name }) {
		return false // AlreadyExists
	}
	r = r.DeepCopy()
	c.serial++
	r.UID = types.UID(fmt.Sprintf("rev-uid-%d", c.serial))
	r.CreationTimestamp = metav1.NewTime(c.Now)
	c.Revisions = append(c.Revisions, r)
	return true
}

func (c *Cluster) updateRevision(r *appsv1.ControllerRevision) bool {
	for i, x := range c.Revisions {
		if x.Name == r.Name {
			r = r.DeepCopy()
			r.UID, r.CreationTimestamp = x.UID, x.CreationTimestamp
			c.Revisions[i] = r
			return true
		}
	}
	return false
}

func (c *Cluster) deleteRevision(name string) bool {
	n := len(c.Revisions)
	c.Revisions = slices.DeleteFunc(c.Revisions, func(x *appsv1.ControllerRevision) bool { return x.Name == name })
	return len(c.Revisions) < n
}

// claim adopts (sets the controller reference to the DaemonSet) or
// releases (removes the DaemonSet's owner reference) a pod or revision.
func (c *Cluster) claim(cl placement.Claim) bool {
	var meta *metav1.ObjectMeta
	switch cl.Kind {
	case placement.ClaimPod:
		if p := c.Pod(cl.Name); p != nil {
			meta = &p.ObjectMeta
		}
	case placement.ClaimRevision:
		for _, r := range c.Revisions {
			if r.Name == cl.Name {
				meta = &r.ObjectMeta
			}
		}
	}
	if meta == nil {
		return false
	}
	ds := c.DaemonSet
	meta.OwnerReferences = slices.DeleteFunc(meta.OwnerReferences, func(r metav1.OwnerReference) bool { return r.UID == ds.UID })
	if cl.Type == placement.Adopt {
		meta.OwnerReferences = append(meta.OwnerReferences, *metav1.NewControllerRef(ds, placement.ControllerKind))
	}
	return true
}
