package incremental_test

import (
	"fmt"
	"maps"
	"slices"
	"strings"
	"time"

	appsv1 "k8s.io/api/apps/v1"
	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/types"

	"github.com/dsplan/dsplan/internal/model"
	"github.com/dsplan/dsplan/placement"
	"github.com/dsplan/dsplan/plan"
	"github.com/dsplan/dsplan/plan/control"
	"github.com/dsplan/dsplan/plan/incremental"
	"github.com/dsplan/dsplan/rollout"
)

// world is a model cluster of several DaemonSets, as an API server holds
// it, that tells a Planner every change, as informers do: every change
// makes a new object (informer objects are never modified) and is sent to
// the Planner, unless the world is deaf (a missed event).
//
// It plays the API server, the scheduler (created pods are bound to their
// node unless the scheduler is down), the kubelet (pods start Pending and
// not ready) and the pod garbage collector, like internal/model's Cluster,
// for any number of DaemonSets sharing the nodes.
type world struct {
	nodes map[string]*corev1.Node
	pods  map[string]*corev1.Pod // by namespace/name
	sets  map[string]*appsv1.DaemonSet
	revs  map[string]*appsv1.ControllerRevision // by namespace/name
	now   time.Time
	// backoff is the failed-pod backoff each DaemonSet's controller keeps.
	backoff       map[string]map[string]backoffEntry
	serial        int
	schedulerDown bool
	p             *incremental.Planner
	deaf          bool
}

type backoffEntry struct {
	last  time.Time
	delay time.Duration
}

func newWorld(p *incremental.Planner, now time.Time) *world {
	return &world{nodes: map[string]*corev1.Node{}, pods: map[string]*corev1.Pod{}, sets: map[string]*appsv1.DaemonSet{},
		revs: map[string]*appsv1.ControllerRevision{}, now: now, backoff: map[string]map[string]backoffEntry{}, p: p}
}

func objKey(namespace, name string) string { return namespace + "/" + name }

// The changes, each sent to the Planner.

func (w *world) setNode(n *corev1.Node) {
	w.nodes[n.Name] = n
	if !w.deaf {
		w.p.SetNode(n)
	}
}

func (w *world) deleteNode(name string) {
	delete(w.nodes, name)
	for _, b := range w.backoff {
		delete(b, name)
	}
	if !w.deaf {
		w.p.DeleteNode(name)
	}
}

func (w *world) setPod(pod *corev1.Pod) {
	w.pods[objKey(pod.Namespace, pod.Name)] = pod
	if !w.deaf {
		w.p.SetPod(pod)
	}
}

func (w *world) deletePod(pod *corev1.Pod) {
	delete(w.pods, objKey(pod.Namespace, pod.Name))
	if !w.deaf {
		w.p.DeletePod(pod.Namespace, pod.Name)
	}
}

func (w *world) setDaemonSet(ds *appsv1.DaemonSet) {
	w.sets[control.Key(ds)] = ds
	if !w.deaf {
		w.p.SetDaemonSet(ds)
	}
}

func (w *world) deleteDaemonSet(key string) {
	ds := w.sets[key]
	delete(w.sets, key)
	delete(w.backoff, key)
	if !w.deaf {
		w.p.DeleteDaemonSet(ds.Namespace, ds.Name)
	}
}

func (w *world) setRevision(r *appsv1.ControllerRevision) {
	w.revs[objKey(r.Namespace, r.Name)] = r
	if !w.deaf {
		w.p.SetRevision(r)
	}
}

func (w *world) deleteRevision(r *appsv1.ControllerRevision) {
	delete(w.revs, objKey(r.Namespace, r.Name))
	if !w.deaf {
		w.p.DeleteRevision(r.Namespace, r.Name)
	}
}

// reset is a controller's resync from its listers.
func (w *world) reset() {
	w.p.Reset(w.now, sortedValues(w.nodes), sortedValues(w.pods), sortedValues(w.sets), sortedValues(w.revs))
}

func sortedValues[T any](m map[string]T) []T {
	var out []T
	for _, k := range slices.Sorted(maps.Keys(m)) {
		out = append(out, m[k])
	}
	return out
}

// Modifications make a new object from the current one.

func (w *world) modNode(name string, f func(*corev1.Node)) bool {
	n := w.nodes[name]
	if n == nil {
		return false
	}
	n = n.DeepCopy()
	f(n)
	w.setNode(n)
	return true
}

func (w *world) modPod(key string, f func(*corev1.Pod) bool) bool {
	pod := w.pods[key]
	if pod == nil {
		return false
	}
	pod = pod.DeepCopy()
	if !f(pod) {
		return false
	}
	w.setPod(pod)
	return true
}

// modSpec changes a DaemonSet's spec, bumping its generation as the API
// server does.
func (w *world) modSpec(key string, f func(*appsv1.DaemonSetSpec)) bool {
	ds := w.sets[key]
	if ds == nil {
		return false
	}
	ds = ds.DeepCopy()
	f(&ds.Spec)
	ds.Generation++
	w.setDaemonSet(ds)
	return true
}

// snapshot is what plan.New reads for the DaemonSet key: every object the
// world holds (pods and revisions of other namespaces too: plan.New
// ignores them), the clock and the controller's backoff.
func (w *world) snapshot(key string) plan.Snapshot {
	s := plan.Snapshot{DaemonSet: w.sets[key], Nodes: sortedValues(w.nodes), Pods: sortedValues(w.pods),
		Revisions: sortedValues(w.revs), Now: w.now, FailedPodBackoff: w.backoffLeft(key)}
	return s
}

// backoffLeft is the failed-pod backoff of DaemonSet key still running.
func (w *world) backoffLeft(key string) map[string]time.Duration {
	var out map[string]time.Duration
	for node, b := range w.backoff[key] {
		if left := b.last.Add(b.delay).Sub(w.now); left > 0 {
			if out == nil {
				out = map[string]time.Duration{}
			}
			out[node] = left
		}
	}
	return out
}

// apply carries out the API calls of plan p of DaemonSet key for which ok
// returns true (by position among them); the others fail.
func (w *world) apply(key string, p plan.Plan, ok func() bool) {
	ds := w.sets[key]
	if ds == nil {
		return
	}
	for _, d := range p.Deletes {
		if d.Reason == rollout.DeleteFailed {
			w.nextBackoff(key, d.Node)
		}
	}
	for _, cl := range p.Claims {
		if ok() {
			w.claim(ds, cl)
		}
	}
	for _, r := range p.Revisions.Create {
		if _, exists := w.revs[objKey(r.Namespace, r.Name)]; ok() && !exists {
			r = r.DeepCopy()
			w.serial++
			r.UID = types.UID(fmt.Sprintf("rev-uid-%d", w.serial))
			r.CreationTimestamp = metav1.NewTime(w.now)
			w.setRevision(r)
		}
	}
	for _, r := range p.Revisions.Update {
		if old := w.revs[objKey(r.Namespace, r.Name)]; ok() && old != nil {
			r = r.DeepCopy()
			r.UID, r.CreationTimestamp = old.UID, old.CreationTimestamp
			w.setRevision(r)
		}
	}
	for _, name := range p.Revisions.Delete {
		if r := w.revs[objKey(ds.Namespace, name)]; ok() && r != nil {
			w.deleteRevision(r)
		}
	}
	for _, pp := range p.PodPatches {
		if ok() {
			w.modPod(objKey(ds.Namespace, pp.Pod), func(pod *corev1.Pod) bool {
				if pod.Labels == nil {
					pod.Labels = map[string]string{}
				}
				maps.Copy(pod.Labels, pp.Labels)
				return true
			})
		}
	}
	for _, c := range p.Creates {
		if ok() {
			w.createPod(c)
		}
	}
	for _, d := range p.Deletes {
		if ok() {
			w.startDeleting(objKey(ds.Namespace, d.Pod))
		}
	}
	if p.StatusChanged && ok() {
		ds = ds.DeepCopy()
		ds.Status = *p.Status.DeepCopy()
		w.setDaemonSet(ds)
	}
}

func (w *world) nextBackoff(key, node string) {
	if w.backoff[key] == nil {
		w.backoff[key] = map[string]backoffEntry{}
	}
	b, ok := w.backoff[key][node]
	if !ok || w.now.Sub(b.last) > 2*model.BackoffMax {
		b.delay = model.BackoffInitial
	} else {
		b.delay = min(2*b.delay, model.BackoffMax)
	}
	b.last = w.now
	w.backoff[key][node] = b
}

func (w *world) claim(ds *appsv1.DaemonSet, cl placement.Claim) {
	fix := func(meta *metav1.ObjectMeta) {
		meta.OwnerReferences = slices.DeleteFunc(meta.OwnerReferences, func(r metav1.OwnerReference) bool { return r.UID == ds.UID })
		if cl.Type == placement.Adopt {
			meta.OwnerReferences = append(meta.OwnerReferences, *metav1.NewControllerRef(ds, placement.ControllerKind))
		}
	}
	switch cl.Kind {
	case placement.ClaimPod:
		w.modPod(objKey(ds.Namespace, cl.Name), func(pod *corev1.Pod) bool { fix(&pod.ObjectMeta); return true })
	case placement.ClaimRevision:
		if r := w.revs[objKey(ds.Namespace, cl.Name)]; r != nil {
			r = r.DeepCopy()
			fix(&r.ObjectMeta)
			w.setRevision(r)
		}
	}
}

func (w *world) createPod(c plan.Create) {
	pod := c.Pod.DeepCopy()
	w.serial++
	pod.Name = fmt.Sprintf("%s%05d", pod.GenerateName, (w.serial*7919)%100000)
	if _, exists := w.pods[objKey(pod.Namespace, pod.Name)]; exists {
		return
	}
	pod.UID = types.UID(fmt.Sprintf("pod-uid-%d", w.serial))
	pod.CreationTimestamp = metav1.NewTime(w.now)
	pod.Status = corev1.PodStatus{Phase: corev1.PodPending}
	if _, exists := w.nodes[c.Node]; exists && !w.schedulerDown {
		pod.Spec.NodeName = c.Node
		setCondition(pod, corev1.PodScheduled, corev1.ConditionTrue, w.now)
	}
	setCondition(pod, corev1.PodReady, corev1.ConditionFalse, w.now)
	w.setPod(pod)
}

// startDeleting marks the pod deleted (graceful deletion); an unscheduled
// pod goes at once.
func (w *world) startDeleting(key string) bool {
	pod := w.pods[key]
	if pod == nil || pod.DeletionTimestamp != nil {
		return false
	}
	if pod.Spec.NodeName == "" {
		w.deletePod(pod)
		return true
	}
	return w.modPod(key, func(pod *corev1.Pod) bool {
		t := metav1.NewTime(w.now)
		grace := int64(30)
		pod.DeletionTimestamp, pod.DeletionGracePeriodSeconds = &t, &grace
		return true
	})
}

// setReady is the kubelet reporting readiness; terminal and unscheduled
// pods are left alone.
func (w *world) setReady(key string, ready bool) bool {
	return w.modPod(key, func(pod *corev1.Pod) bool {
		if isTerminal(pod) || pod.Spec.NodeName == "" {
			return false
		}
		status := corev1.ConditionFalse
		if ready {
			status = corev1.ConditionTrue
			pod.Status.Phase = corev1.PodRunning
		}
		return setCondition(pod, corev1.PodReady, status, w.now)
	})
}

func (w *world) setPhase(key string, phase corev1.PodPhase) bool {
	return w.modPod(key, func(pod *corev1.Pod) bool {
		if isTerminal(pod) {
			return false
		}
		pod.Status.Phase = phase
		setCondition(pod, corev1.PodReady, corev1.ConditionFalse, w.now)
		return true
	})
}

// schedule binds unscheduled pods whose target node exists.
func (w *world) schedule() {
	for _, key := range slices.Sorted(maps.Keys(w.pods)) {
		pod := w.pods[key]
		if pod.Spec.NodeName != "" || pod.DeletionTimestamp != nil {
			continue
		}
		node, err := placement.TargetNodeName(pod)
		if _, exists := w.nodes[node]; err != nil || !exists {
			continue
		}
		w.modPod(key, func(pod *corev1.Pod) bool {
			pod.Spec.NodeName = node
			setCondition(pod, corev1.PodScheduled, corev1.ConditionTrue, w.now)
			return true
		})
	}
}

// gc is the pod garbage collector: pods bound to nodes that do not exist
// go.
func (w *world) gc() {
	for _, key := range slices.Sorted(maps.Keys(w.pods)) {
		pod := w.pods[key]
		if _, exists := w.nodes[pod.Spec.NodeName]; pod.Spec.NodeName != "" && !exists {
			w.deletePod(pod)
		}
	}
}

func (w *world) finishDeletions() {
	for _, key := range slices.Sorted(maps.Keys(w.pods)) {
		if pod := w.pods[key]; pod.DeletionTimestamp != nil {
			w.deletePod(pod)
		}
	}
}

func isTerminal(p *corev1.Pod) bool {
	return p.Status.Phase == corev1.PodFailed || p.Status.Phase == corev1.PodSucceeded
}

// setCondition sets a pod condition, moving its lastTransitionTime only on
// a change; it reports whether the pod changed.
func setCondition(p *corev1.Pod, typ corev1.PodConditionType, status corev1.ConditionStatus, now time.Time) bool {
	for i := range p.Status.Conditions {
		c := &p.Status.Conditions[i]
		if c.Type == typ {
			if c.Status == status {
				return false
			}
			c.Status, c.LastTransitionTime = status, metav1.NewTime(now)
			return true
		}
	}
	p.Status.Conditions = append(p.Status.Conditions, corev1.PodCondition{Type: typ, Status: status, LastTransitionTime: metav1.NewTime(now)})
	return true
}

// describe prints the world for failure messages.
func (w *world) describe() string {
	var b strings.Builder
	fmt.Fprintf(&b, "now=%s\n", w.now.Format(time.TimeOnly))
	for _, key := range slices.Sorted(maps.Keys(w.sets)) {
		s := w.snapshot(key)
		fmt.Fprintf(&b, "DaemonSet %s uid=%s selector=%v:\n%s", key, s.DaemonSet.UID, s.DaemonSet.Spec.Selector.MatchLabels, model.Describe(s))
	}
	return b.String()
}
