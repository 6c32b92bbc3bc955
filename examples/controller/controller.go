package main

import (
	"context"
	"errors"
	"fmt"
	"maps"
	"sync"
	"time"

	appsv1 "k8s.io/api/apps/v1"
	corev1 "k8s.io/api/core/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/labels"
	utilruntime "k8s.io/apimachinery/pkg/util/runtime"
	"k8s.io/apimachinery/pkg/util/wait"
	"k8s.io/client-go/informers"
	"k8s.io/client-go/kubernetes"
	appslisters "k8s.io/client-go/listers/apps/v1"
	corelisters "k8s.io/client-go/listers/core/v1"
	"k8s.io/client-go/tools/cache"
	"k8s.io/client-go/tools/record"
	"k8s.io/client-go/util/workqueue"
	"k8s.io/klog/v2"

	"github.com/dsplan/dsplan/placement"
	"github.com/dsplan/dsplan/plan"
	"github.com/dsplan/dsplan/plan/control"
	"github.com/dsplan/dsplan/plan/incremental"
	"github.com/dsplan/dsplan/rollout"
)

// Controller is a DaemonSet controller whose decisions are dsplan's: the
// shape of k8s.io/sample-controller (shared informers, listers, a
// rate-limited workqueue keyed by namespace/name, a sync that reads from
// listers only), with the decision part one call to plan.Cluster.Plan and
// the state kube-controller-manager keeps in memory (expectations,
// failed-pod backoff) in package control.
//
// With a Planner (package plan/incremental, the default), the informer
// handlers also feed every node, pod, DaemonSet and ControllerRevision
// event to it, and a sync plans from its index instead of the listers'
// lists: the same plan, at the cost of what changed since the last one.
// Every resync period the Planner is rebuilt from the listers, which
// repairs what a missed event would have left behind.
type Controller struct {
	client   kubernetes.Interface
	recorder record.EventRecorder

	dsLister  appslisters.DaemonSetLister
	nodes     corelisters.NodeLister
	pods      corelisters.PodLister
	revisions appslisters.ControllerRevisionLister
	synced    []cache.InformerSynced

	queue workqueue.TypedRateLimitingInterface[string]

	// mu guards the state below, shared by the workers.
	mu           sync.Mutex
	expectations control.Expectations
	backoff      control.Backoff
	// cluster is the node list prepared for planning, rebuilt when a node
	// event has marked it stale.
	cluster      *plan.Cluster
	clusterStale bool
	// groups serialize the syncs of the DaemonSets of one rollout group.
	groups map[string]*sync.Mutex
	// written remembers, per DaemonSet, what its last sync wrote that the
	// informers must show before the next sync plans (see fresh).
	written map[string]writes
	// planner, when not nil, is the incremental index every handler
	// feeds; syncs plan from it.
	planner *incremental.Planner
	// resync is how often the planner is rebuilt from the listers.
	resync time.Duration
}

// writes are the objects one sync wrote, which the caches must show before
// the DaemonSet is planned again: planning on a cache older than one's own
// writes repeats them (kube-controller-manager's
// StaleControllerConsistencyDaemonSet guards the same way).
type writes struct {
	// dsVersion is the DaemonSet's resourceVersion before its status
	// write; the cache is stale while it still shows it.
	dsVersion string
	// revisions are the ControllerRevisions created.
	revisions []string
	at        time.Time
}

// staleWritesTimeout bounds how long a sync waits for the caches to show
// its DaemonSet's last writes.
const staleWritesTimeout = 30 * time.Second

// NewController wires the informers of factory to a controller. With
// incremental, syncs plan from a plan/incremental Planner fed by the
// handlers and rebuilt from the listers every resync (0: never); without,
// from the listers' lists through plan.Cluster.
func NewController(client kubernetes.Interface, factory informers.SharedInformerFactory, recorder record.EventRecorder, incrementalPlanning bool, resync time.Duration) *Controller {
	dsInformer := factory.Apps().V1().DaemonSets()
	nodeInformer := factory.Core().V1().Nodes()
	podInformer := factory.Core().V1().Pods()
	revInformer := factory.Apps().V1().ControllerRevisions()
	c := &Controller{
		client:    client,
		recorder:  recorder,
		dsLister:  dsInformer.Lister(),
		nodes:     nodeInformer.Lister(),
		pods:      podInformer.Lister(),
		revisions: revInformer.Lister(),
		queue: workqueue.NewTypedRateLimitingQueueWithConfig(workqueue.DefaultTypedControllerRateLimiter[string](),
			workqueue.TypedRateLimitingQueueConfig[string]{Name: "daemonset"}),
		clusterStale: true,
		written:      map[string]writes{},
		resync:       resync,
	}
	if incrementalPlanning {
		c.planner = &incremental.Planner{}
	}
	c.must(dsInformer.Informer().AddEventHandler(cache.ResourceEventHandlerFuncs{
		AddFunc:    c.setDaemonSet,
		UpdateFunc: func(_, obj any) { c.setDaemonSet(obj) },
		DeleteFunc: c.deleteDaemonSet,
	}))
	c.must(nodeInformer.Informer().AddEventHandler(cache.ResourceEventHandlerFuncs{
		AddFunc:    c.addNode,
		UpdateFunc: c.nodeUpdated,
		DeleteFunc: c.deleteNode,
	}))
	c.must(podInformer.Informer().AddEventHandler(cache.ResourceEventHandlerFuncs{
		AddFunc:    c.addPod,
		UpdateFunc: c.updatePod,
		DeleteFunc: c.deletePod,
	}))
	c.must(revInformer.Informer().AddEventHandler(cache.ResourceEventHandlerFuncs{
		AddFunc:    c.setRevision,
		UpdateFunc: func(_, obj any) { c.setRevision(obj) },
		DeleteFunc: c.deleteRevision,
	}))
	return c
}

// must records a handler's registration: Run waits until each handler,
// not only each informer's store, has been given the initial list (the
// planner holds what the handlers gave it; planning before the initial
// pods reached it would create pods that exist).
func (c *Controller) must(reg cache.ResourceEventHandlerRegistration, err error) {
	if err != nil {
		panic(err) // only when an informer has already stopped: a programming error
	}
	c.synced = append(c.synced, reg.HasSynced)
}

// Run waits for the caches and runs workers until ctx ends.
func (c *Controller) Run(ctx context.Context, workers int) error {
	defer utilruntime.HandleCrash()
	defer c.queue.ShutDown()
	logger := klog.FromContext(ctx)
	if !cache.WaitForCacheSync(ctx.Done(), c.synced...) {
		return errors.New("caches did not sync")
	}
	logger.Info("Caches synced; starting workers", "workers", workers, "incremental", c.planner != nil)
	var wg sync.WaitGroup
	if c.planner != nil && c.resync > 0 {
		// The handlers have fed the planner every object already; a
		// rebuild from the listers each resync period repairs what a
		// missed event would have left behind.
		wg.Go(func() { c.rebuildEvery(ctx) })
	}
	for range workers {
		wg.Go(func() { wait.UntilWithContext(ctx, c.worker, time.Second) })
	}
	<-ctx.Done()
	c.queue.ShutDown()
	wg.Wait()
	return nil
}

func (c *Controller) worker(ctx context.Context) {
	for c.processNext(ctx) {
	}
}

func (c *Controller) processNext(ctx context.Context) bool {
	key, quit := c.queue.Get()
	if quit {
		return false
	}
	defer c.queue.Done(key)
	after, err := c.sync(ctx, key)
	switch {
	case err != nil:
		// Conflicts and not-found errors mean a cache was behind: the
		// next sync plans on fresher state.
		klog.FromContext(ctx).V(2).Info("Sync failed; requeued", "daemonset", key, "err", err)
		c.queue.AddRateLimited(key)
	default:
		c.queue.Forget(key)
		if after > 0 {
			c.queue.AddAfter(key, after)
		}
	}
	return true
}

// sync plans one DaemonSet and carries the plan out; it returns when to
// sync again.
func (c *Controller) sync(ctx context.Context, key string) (time.Duration, error) {
	logger := klog.FromContext(ctx)
	namespace, name, err := cache.SplitMetaNamespaceKey(key)
	if err != nil {
		return 0, nil // not a key this controller queued
	}
	ds, err := c.dsLister.DaemonSets(namespace).Get(name)
	if apierrors.IsNotFound(err) {
		c.mu.Lock()
		c.expectations.Delete(key)
		delete(c.written, key)
		c.mu.Unlock()
		return 0, nil
	}
	if err != nil {
		return 0, err
	}
	if wait := c.fresh(key, ds); wait > 0 {
		return wait, nil
	}
	if errs := placement.Validate(ds); len(errs) > 0 {
		// The API server validates DaemonSets, so this is a DaemonSet it
		// accepted that dsplan would plan differently from what the user
		// likely meant: say so, write nothing.
		c.recorder.Eventf(ds, corev1.EventTypeWarning, "InvalidDaemonSet", "not planned: %v", errs.ToAggregate())
		return 0, nil
	}

	// The expectations first, then the caches, as upstream's sync: an
	// informer stores a pod before its handler observes the creation or
	// deletion, so expectations met here mean the lists below hold every
	// pod they counted. The other way round, a creation observed between
	// the list and the check was planned again: a second pod on the node.
	// With a planner, its handlers fed it each pod before they lowered the
	// expectations, which holds the same guarantee.
	now := time.Now()
	c.mu.Lock()
	pending := c.expectations.Pending(key, now)
	c.mu.Unlock()

	// The DaemonSet's own rollout.dsplan.io/ annotations set its rollout
	// controls; a group shares a budget of one unavailable DaemonSet per
	// node with the others of its group, whose syncs are serialized.
	opts := plan.Options{Annotations: true}
	var cluster *plan.Cluster
	if group := ds.Annotations[rollout.AnnotationGroup]; group != "" || c.planner == nil {
		nodes, err := c.nodes.List(labels.Everything())
		if err != nil {
			return 0, err
		}
		c.mu.Lock()
		cluster = c.clusterFor(nodes)
		c.mu.Unlock()
		if group != "" {
			unlock := c.lockGroup(group)
			defer unlock()
			opts.Rollout.Held = c.heldFor(ds, group, cluster, now)
		}
	}
	var p plan.Plan
	if c.planner != nil {
		// The listers are at least as new as the planner (an informer
		// stores an object before its handler runs): the DaemonSet and its
		// namespace's ControllerRevisions are taken from them, so that a
		// revision fresh found in the lister is not planned again before
		// its handler ran. Pods need not be: the expectations cover them.
		revisions, err := c.revisions.ControllerRevisions(namespace).List(labels.Everything())
		if err != nil {
			return 0, err
		}
		c.mu.Lock()
		c.planner.SetDaemonSet(ds)
		for _, rev := range revisions {
			c.planner.SetRevision(rev)
		}
		p = c.planner.Plan(key, now, pending, c.backoff.Delays(ds, now), opts)
		c.mu.Unlock()
	} else {
		pods, err := c.pods.Pods(namespace).List(labels.Everything())
		if err != nil {
			return 0, err
		}
		revisions, err := c.revisions.ControllerRevisions(namespace).List(labels.Everything())
		if err != nil {
			return 0, err
		}
		c.mu.Lock()
		backoff := c.backoff.Delays(ds, now)
		c.mu.Unlock()
		p = cluster.Plan(plan.Snapshot{
			DaemonSet: ds, Pods: pods, Revisions: revisions, Now: now,
			PendingExpectations: pending, FailedPodBackoff: backoff,
		}, opts)
	}
	for _, e := range control.PlanEvents(ds, p) {
		c.recorder.Event(ds, e.Type, e.Reason, e.Message)
	}
	if !pending {
		c.mu.Lock()
		c.expectations.Expect(key, p, now)
		c.backoff.Observe(ds, p, now)
		c.mu.Unlock()
	}
	if p.Writes() {
		logger.V(2).Info("Carrying out plan", "daemonset", key, "creates", len(p.Creates), "deletes", len(p.Deletes),
			"revisions", len(p.Revisions.Create)+len(p.Revisions.Update)+len(p.Revisions.Delete), "status", p.StatusChanged)
	}
	werr := c.apply(ctx, key, ds, p)
	if werr == nil && p.Err != nil {
		// Upstream's sync fails too (a hash collision, a surge candidate
		// on a deleted node): retry with backoff.
		werr = p.Err
	}
	return p.RequeueAfter, werr
}

// lockGroup serializes the syncs of one group's DaemonSets; it returns the
// unlock.
func (c *Controller) lockGroup(group string) func() {
	c.mu.Lock()
	if c.groups == nil {
		c.groups = map[string]*sync.Mutex{}
	}
	m, ok := c.groups[group]
	if !ok {
		m = &sync.Mutex{}
		c.groups[group] = m
	}
	c.mu.Unlock()
	m.Lock()
	return m.Unlock
}

// heldFor returns the nodes where another DaemonSet of ds's group, in any
// namespace, is unavailable (plan.Cluster.Unavailable).
func (c *Controller) heldFor(ds *appsv1.DaemonSet, group string, cluster *plan.Cluster, now time.Time) map[string]bool {
	all, err := c.dsLister.List(labels.Everything())
	if err != nil {
		return nil
	}
	held := map[string]bool{}
	for _, other := range all {
		if other.UID == ds.UID || other.Annotations[rollout.AnnotationGroup] != group {
			continue
		}
		pods, err := c.pods.Pods(other.Namespace).List(labels.Everything())
		if err != nil {
			continue
		}
		u, err := cluster.Unavailable(plan.Snapshot{DaemonSet: other, Pods: pods, Now: now}, plan.Options{})
		if err != nil {
			continue
		}
		maps.Copy(held, u)
	}
	return held
}

// clusterFor returns the prepared node list, rebuilding it after a node
// event. c.mu is held.
func (c *Controller) clusterFor(nodes []*corev1.Node) *plan.Cluster {
	if c.cluster == nil || c.clusterStale {
		c.cluster, c.clusterStale = plan.NewCluster(nodes), false
	}
	return c.cluster
}

// fresh returns 0 when the caches show the DaemonSet's last writes, or
// how long to wait for them.
func (c *Controller) fresh(key string, ds *appsv1.DaemonSet) time.Duration {
	c.mu.Lock()
	defer c.mu.Unlock()
	w, ok := c.written[key]
	if !ok {
		return 0
	}
	stale := w.dsVersion != "" && ds.ResourceVersion == w.dsVersion
	for _, name := range w.revisions {
		if _, err := c.revisions.ControllerRevisions(ds.Namespace).Get(name); err != nil {
			stale = true
		}
	}
	if !stale || time.Since(w.at) > staleWritesTimeout {
		delete(c.written, key)
		return 0
	}
	return 100 * time.Millisecond
}

func (c *Controller) remember(key string, w writes) {
	c.mu.Lock()
	defer c.mu.Unlock()
	w.at = time.Now()
	c.written[key] = w
}

// rebuildEvery rebuilds the planner from the listers every resync period
// until ctx ends.
func (c *Controller) rebuildEvery(ctx context.Context) {
	t := time.NewTicker(c.resync)
	defer t.Stop()
	for {
		select {
		case <-ctx.Done():
			return
		case <-t.C:
			c.rebuild(ctx)
		}
	}
}

// rebuild replaces the planner's content with the listers' (Planner.Reset)
// and queues every DaemonSet.
func (c *Controller) rebuild(ctx context.Context) {
	nodes, err1 := c.nodes.List(labels.Everything())
	pods, err2 := c.pods.List(labels.Everything())
	dss, err3 := c.dsLister.List(labels.Everything())
	revisions, err4 := c.revisions.List(labels.Everything())
	if err := errors.Join(err1, err2, err3, err4); err != nil {
		klog.FromContext(ctx).Error(err, "Planner not rebuilt")
		return
	}
	start := time.Now()
	c.mu.Lock()
	c.planner.Reset(start, nodes, pods, dss, revisions)
	stats := c.planner.Stats()
	c.mu.Unlock()
	klog.FromContext(ctx).V(2).Info("Planner rebuilt from the listers", "took", time.Since(start), "nodes", len(nodes), "pods", len(pods),
		"daemonSets", len(dss), "plans", stats.Plans, "builds", stats.Builds, "fullPlans", stats.FullPlans, "groupedUpdates", stats.GroupedUpdates)
	for _, ds := range dss {
		c.enqueue(ds)
	}
}

// setDaemonSet is the DaemonSet informer's add and update handler.
func (c *Controller) setDaemonSet(obj any) {
	if ds, ok := obj.(*appsv1.DaemonSet); ok && c.planner != nil {
		c.mu.Lock()
		c.planner.SetDaemonSet(ds)
		c.mu.Unlock()
	}
	c.enqueue(obj)
}

// setRevision is the ControllerRevision informer's add and update handler.
func (c *Controller) setRevision(obj any) {
	if rev, ok := obj.(*appsv1.ControllerRevision); ok && c.planner != nil {
		c.mu.Lock()
		c.planner.SetRevision(rev)
		c.mu.Unlock()
	}
	c.enqueueOwner(obj)
}

// deleteRevision is the ControllerRevision informer's delete handler.
func (c *Controller) deleteRevision(obj any) {
	obj = unwrap(obj)
	if rev, ok := obj.(*appsv1.ControllerRevision); ok && c.planner != nil {
		c.mu.Lock()
		c.planner.DeleteRevision(rev.Namespace, rev.Name)
		c.mu.Unlock()
	}
	c.enqueueOwner(obj)
}

// unwrap returns the object of a delete handler's argument: obj, or the
// last known state a cache.DeletedFinalStateUnknown tombstone holds.
func unwrap(obj any) any {
	if tomb, ok := obj.(cache.DeletedFinalStateUnknown); ok {
		return tomb.Obj
	}
	return obj
}

func (c *Controller) enqueue(obj any) {
	if key, err := cache.MetaNamespaceKeyFunc(obj); err == nil {
		c.queue.Add(key)
	}
}

func (c *Controller) deleteDaemonSet(obj any) {
	obj = unwrap(obj)
	if ds, ok := obj.(*appsv1.DaemonSet); ok && c.planner != nil {
		c.mu.Lock()
		c.planner.DeleteDaemonSet(ds.Namespace, ds.Name)
		c.mu.Unlock()
	}
	c.enqueue(obj)
}

// enqueueAll queues every DaemonSet.
func (c *Controller) enqueueAll() {
	dss, err := c.dsLister.List(labels.Everything())
	if err != nil {
		return
	}
	for _, ds := range dss {
		c.enqueue(ds)
	}
}

// addNode is the node informer's add handler.
func (c *Controller) addNode(obj any) {
	c.setNode(obj)
	c.enqueueAll()
}

// deleteNode is the node informer's delete handler.
func (c *Controller) deleteNode(obj any) {
	obj = unwrap(obj)
	c.mu.Lock()
	c.clusterStale = true
	if node, ok := obj.(*corev1.Node); ok && c.planner != nil {
		c.planner.DeleteNode(node.Name)
	}
	c.mu.Unlock()
	c.enqueueAll()
}

// setNode records a node's new version: the prepared node list is rebuilt
// at the next plan that needs it, the planner updated now.
func (c *Controller) setNode(obj any) {
	c.mu.Lock()
	c.clusterStale = true
	if node, ok := obj.(*corev1.Node); ok && c.planner != nil {
		c.planner.SetNode(node)
	}
	c.mu.Unlock()
}

// nodeUpdated queues nothing for the heartbeats that change neither
// labels, taints nor anything else placement reads (a node's status
// changes every few seconds).
func (c *Controller) nodeUpdated(old, cur any) {
	c.setNode(cur)
	o, ok1 := old.(*corev1.Node)
	n, ok2 := cur.(*corev1.Node)
	if ok1 && ok2 && labels.Equals(o.Labels, n.Labels) && fmt.Sprint(o.Spec.Taints) == fmt.Sprint(n.Spec.Taints) &&
		o.Spec.Unschedulable == n.Spec.Unschedulable && o.Name == n.Name {
		return
	}
	c.enqueueAll()
}

// owner returns the key of the DaemonSet controlling obj, if any.
func owner(obj metav1.Object) (string, bool) {
	ref := metav1.GetControllerOfNoCopy(obj)
	if ref == nil || ref.Kind != "DaemonSet" {
		return "", false
	}
	return obj.GetNamespace() + "/" + ref.Name, true
}

func (c *Controller) enqueueOwner(obj any) {
	obj = unwrap(obj)
	m, err := meta(obj)
	if err != nil {
		return
	}
	if key, ok := owner(m); ok {
		c.queue.Add(key)
		return
	}
	c.enqueueSelecting(m)
}

// enqueueSelecting queues the DaemonSets of obj's namespace whose selector
// matches it: an orphan may be adopted.
func (c *Controller) enqueueSelecting(obj metav1.Object) {
	dss, err := c.dsLister.DaemonSets(obj.GetNamespace()).List(labels.Everything())
	if err != nil {
		return
	}
	for _, ds := range dss {
		sel, err := metav1.LabelSelectorAsSelector(ds.Spec.Selector)
		if err == nil && !sel.Empty() && sel.Matches(labels.Set(obj.GetLabels())) {
			c.enqueue(ds)
		}
	}
}

func meta(obj any) (metav1.Object, error) {
	m, ok := obj.(metav1.Object)
	if !ok {
		return nil, fmt.Errorf("%T is not an object", obj)
	}
	return m, nil
}

func (c *Controller) addPod(obj any) {
	pod, ok := obj.(*corev1.Pod)
	if !ok {
		return
	}
	c.setPod(pod)
	if pod.DeletionTimestamp != nil {
		// Seen for the first time while being deleted (a relist).
		c.podGone(pod)
		return
	}
	if key, ok := owner(pod); ok {
		c.mu.Lock()
		c.expectations.CreationObserved(key)
		c.mu.Unlock()
		c.enqueuePodOwner(key)
		return
	}
	c.enqueueSelecting(pod)
}

func (c *Controller) updatePod(old, cur any) {
	o, ok1 := old.(*corev1.Pod)
	pod, ok2 := cur.(*corev1.Pod)
	if !ok1 || !ok2 || pod.ResourceVersion == o.ResourceVersion {
		return // a resync with nothing new
	}
	c.setPod(pod)
	if pod.DeletionTimestamp != nil {
		// As upstream: every update of a pod being deleted counts as its
		// deletion, so that a replacement need not wait for the kubelet.
		c.podGone(pod)
		return
	}
	oldKey, hadOwner := owner(o)
	key, hasOwner := owner(pod)
	if hadOwner && oldKey != key {
		c.queue.Add(oldKey)
	}
	if !hasOwner {
		c.enqueueSelecting(pod)
		return
	}
	c.enqueuePodOwner(key)
	if ds, err := c.dsLister.DaemonSets(pod.Namespace).Get(metav1.GetControllerOfNoCopy(pod).Name); err == nil &&
		ds.Spec.MinReadySeconds > 0 && !placement.IsPodReady(o) && placement.IsPodReady(pod) {
		// Sync again once the pod counts as available (a second later, for
		// clock skew, as upstream).
		c.queue.AddAfter(key, time.Duration(ds.Spec.MinReadySeconds)*time.Second+time.Second)
	}
}

// setPod gives the planner a pod's new version. It runs before the
// handler lowers the expectations: expectations met at a sync then mean
// the planner holds every pod they counted.
func (c *Controller) setPod(pod *corev1.Pod) {
	if c.planner == nil {
		return
	}
	c.mu.Lock()
	c.planner.SetPod(pod)
	c.mu.Unlock()
}

// deletePod is the pod informer's delete handler.
func (c *Controller) deletePod(obj any) {
	obj = unwrap(obj)
	pod, ok := obj.(*corev1.Pod)
	if !ok {
		return
	}
	if c.planner != nil {
		c.mu.Lock()
		c.planner.DeletePod(pod.Namespace, pod.Name)
		c.mu.Unlock()
	}
	c.podGone(pod)
}

// podGone observes a pod's deletion (or the start of its graceful
// deletion) for the expectations and queues its DaemonSet.
func (c *Controller) podGone(pod *corev1.Pod) {
	if key, ok := owner(pod); ok {
		c.mu.Lock()
		c.expectations.DeletionObserved(key)
		c.mu.Unlock()
		c.enqueuePodOwner(key)
	}
}

// enqueuePodOwner queues the DaemonSet a pod event is about and, when it
// belongs to a rollout group, the others of the group: a change of its
// pods may free or take a node in the group's budget.
func (c *Controller) enqueuePodOwner(key string) {
	c.queue.Add(key)
	namespace, name, _ := cache.SplitMetaNamespaceKey(key)
	ds, err := c.dsLister.DaemonSets(namespace).Get(name)
	if err != nil || ds.Annotations[rollout.AnnotationGroup] == "" {
		return
	}
	all, err := c.dsLister.List(labels.Everything())
	if err != nil {
		return
	}
	for _, other := range all {
		if other.Annotations[rollout.AnnotationGroup] == ds.Annotations[rollout.AnnotationGroup] {
			c.enqueue(other)
		}
	}
}
