package main

import (
	"context"
	"errors"
	"sync"

	appsv1 "k8s.io/api/apps/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/types"
	"k8s.io/klog/v2"

	"github.com/dsplan/dsplan/placement"
	"github.com/dsplan/dsplan/plan"
	"github.com/dsplan/dsplan/plan/control"
)

// apply carries out p, planned for ds, in kube-controller-manager's order:
// the revision history (claims, label fixes and renumbering, the current
// revision, duplicates), the pods' claims and relabels, the creates in
// slow-start batches and the deletes, the history's cleanup, the status.
// It goes on after a failed write where upstream does, and returns the
// first error: the key is then synced again on fresher caches. A
// conflict (409) or a missing object (404) is such an error, never a
// crash.
func (c *Controller) apply(ctx context.Context, key string, ds *appsv1.DaemonSet, p plan.Plan) error {
	var errs []error
	w := writes{}
	ns := ds.Namespace

	// History: claims, updates, the current revision. A failure here ends
	// the sync, as constructHistory's.
	for _, cl := range p.Claims {
		if cl.Kind != placement.ClaimRevision {
			continue
		}
		if _, err := c.client.AppsV1().ControllerRevisions(ns).Patch(ctx, cl.Name, types.StrategicMergePatchType, []byte(cl.Patch), metav1.PatchOptions{}); err != nil {
			return err
		}
	}
	for _, r := range p.Revisions.Update {
		if _, err := c.client.AppsV1().ControllerRevisions(ns).Update(ctx, r, metav1.UpdateOptions{}); err != nil {
			return err
		}
	}
	for _, r := range p.Revisions.Create {
		if _, err := c.client.AppsV1().ControllerRevisions(ns).Create(ctx, r, metav1.CreateOptions{}); err != nil {
			return err
		}
		w.revisions = append(w.revisions, r.Name)
	}
	if len(w.revisions) > 0 {
		c.remember(key, w)
	}
	for _, pp := range p.PodPatches {
		if _, err := c.client.CoreV1().Pods(ns).Patch(ctx, pp.Pod, types.MergePatchType, []byte(pp.Patch), metav1.PatchOptions{}); err != nil {
			return err
		}
	}
	for _, cl := range p.Claims {
		if cl.Kind != placement.ClaimPod {
			continue
		}
		if _, err := c.client.CoreV1().Pods(ns).Patch(ctx, cl.Name, types.StrategicMergePatchType, []byte(cl.Patch), metav1.PatchOptions{}); err != nil && !apierrors.IsNotFound(err) {
			return err
		}
	}

	errs = append(errs, c.createPods(ctx, key, ds, p.Creates)...)
	errs = append(errs, c.deletePods(ctx, key, ds, p.Deletes)...)

	if len(errs) == 0 {
		// The history is cleaned up only after a successful sync. The
		// dedup deletes of constructHistory come first in upstream; a
		// failure there only delays them.
		for _, name := range p.Revisions.Delete {
			if err := c.client.AppsV1().ControllerRevisions(ns).Delete(ctx, name, metav1.DeleteOptions{}); err != nil && !apierrors.IsNotFound(err) {
				errs = append(errs, err)
			}
		}
	}
	if p.StatusChanged {
		updated := ds.DeepCopy()
		updated.Status = p.Status
		if _, err := c.client.AppsV1().DaemonSets(ns).UpdateStatus(ctx, updated, metav1.UpdateOptions{}); err != nil {
			errs = append(errs, err)
		} else {
			w.dsVersion = ds.ResourceVersion
			c.remember(key, w)
		}
	}
	return errors.Join(errs...)
}

// createPods creates the pods in slow-start batches, each batch's pods at
// once; a batch with a failure ends the run, and the expectations of the
// creates that failed or were never sent are lowered.
func (c *Controller) createPods(ctx context.Context, key string, ds *appsv1.DaemonSet, creates []plan.Create) []error {
	logger := klog.FromContext(ctx)
	var errs []error
	for _, b := range control.SlowStart(len(creates)) {
		failed := make([]error, b.To-b.From)
		var wg sync.WaitGroup
		for i := b.From; i < b.To; i++ {
			wg.Go(func() {
				pod, err := c.client.CoreV1().Pods(ds.Namespace).Create(ctx, creates[i].Pod, metav1.CreateOptions{})
				name := ""
				if err == nil {
					name = pod.Name
				}
				if e, ok := control.CreateEvent(name, err); ok {
					c.recorder.Event(ds, e.Type, e.Reason, e.Message)
				}
				if err != nil {
					failed[i-b.From] = err
				}
			})
		}
		wg.Wait()
		n := 0
		for _, err := range failed {
			if err != nil {
				n++
				errs = append(errs, err)
			}
		}
		if n > 0 {
			skipped := len(creates) - b.To
			logger.V(2).Info("Slow-start failure; creates skipped", "daemonset", key, "failed", n, "skipped", skipped)
			c.mu.Lock()
			c.expectations.Lower(key, n+skipped, 0)
			c.mu.Unlock()
			break
		}
	}
	return errs
}

// deletePods deletes the pods at once; a delete that fails lowers the
// expectations (it will never be observed), and a pod already gone is not
// an error.
func (c *Controller) deletePods(ctx context.Context, key string, ds *appsv1.DaemonSet, deletes []plan.Delete) []error {
	errs := make([]error, len(deletes))
	var wg sync.WaitGroup
	for i, d := range deletes {
		wg.Go(func() {
			err := c.client.CoreV1().Pods(ds.Namespace).Delete(ctx, d.Pod, metav1.DeleteOptions{})
			if e, ok := control.DeleteEvent(d.Pod, err); ok {
				c.recorder.Event(ds, e.Type, e.Reason, e.Message)
			}
			if err != nil {
				c.mu.Lock()
				c.expectations.DeletionObserved(key)
				c.mu.Unlock()
				if !apierrors.IsNotFound(err) {
					errs[i] = err
				}
			}
		})
	}
	wg.Wait()
	return errs
}
