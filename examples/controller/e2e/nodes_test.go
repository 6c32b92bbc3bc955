//go:build unix

package e2e

import (
	"context"
	"fmt"
	"maps"
	"sync"
	"testing"
	"time"

	corev1 "k8s.io/api/core/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	"k8s.io/apimachinery/pkg/api/resource"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/client-go/util/retry"
)

// Node layout (n = DSPLAN_E2E_NODES nodes, kwok-0 .. kwok-<n-1>):
//   - kwok-0 .. kwok-<controlPlaneNodes-1> carry the control-plane NoSchedule
//     taint: a DaemonSet without a toleration does not run there;
//   - every node whose index is a multiple of 3 has the label pool=logging
//     (used by nodeSelector scenarios);
//   - scenarios that change a node use their own node (see scenarios_test.go)
//     and restore it when they end.
const (
	controlPlaneNodes = 3
	poolLabel         = "pool"
	poolLogging       = "logging"
	controlPlaneTaint = "node-role.kubernetes.io/control-plane"
	kwokAnnotation    = "kwok.x-k8s.io/node"
)

func nodeName(i int) string { return fmt.Sprintf("kwok-%d", i) }

// newNode returns a node managed by kwok (annotation kwok.x-k8s.io/node=fake)
// with the usual labels and allocatable resources.
func newNode(name string) *corev1.Node {
	res := corev1.ResourceList{
		corev1.ResourceCPU:    resource.MustParse("32"),
		corev1.ResourceMemory: resource.MustParse("256Gi"),
		corev1.ResourcePods:   resource.MustParse("110"),
	}
	return &corev1.Node{
		ObjectMeta: metav1.ObjectMeta{
			Name:        name,
			Annotations: map[string]string{kwokAnnotation: "fake", "node.alpha.kubernetes.io/ttl": "0"},
			Labels: map[string]string{
				"kubernetes.io/hostname": name,
				"kubernetes.io/os":       "linux",
				"kubernetes.io/arch":     "amd64",
				"type":                   "kwok",
			},
		},
		Status: corev1.NodeStatus{Allocatable: res, Capacity: res},
	}
}

// createNodes creates the n nodes of the layout above and waits until kwok
// has made them all Ready.
func (c *cluster) createNodes(t *testing.T, n int) error {
	start := time.Now()
	err := parallel(c.ctx, n, 16, func(i int) error {
		node := newNode(nodeName(i))
		if i < controlPlaneNodes {
			node.Spec.Taints = []corev1.Taint{{Key: controlPlaneTaint, Effect: corev1.TaintEffectNoSchedule}}
		}
		if i%3 == 0 {
			node.Labels[poolLabel] = poolLogging
		}
		maps.Copy(node.Labels, c.spec.nodeLabels)
		if _, err := c.client.CoreV1().Nodes().Create(c.ctx, node, metav1.CreateOptions{}); err != nil {
			return fmt.Errorf("create node %s: %w", node.Name, err)
		}
		return nil
	})
	if err != nil {
		return err
	}
	created := time.Since(start)
	if err := c.waitNodesReady(n, 60*time.Second+time.Duration(n)*20*time.Millisecond); err != nil {
		return err
	}
	t.Logf("created %d nodes in %.2fs, all Ready after %.2fs", n, created.Seconds(), time.Since(start).Seconds())
	return nil
}

// waitNodesReady waits until at least n nodes are Ready.
func (c *cluster) waitNodesReady(n int, timeout time.Duration) error {
	var ready int
	every := 100 * time.Millisecond
	if n > 200 {
		every = time.Second // a list of every node is megabytes at scale
	}
	err := c.poll(timeout, every, func() (bool, error) {
		nodes, err := c.client.CoreV1().Nodes().List(c.ctx, metav1.ListOptions{})
		if err != nil {
			return false, nil
		}
		ready = 0
		for i := range nodes.Items {
			if nodeReady(&nodes.Items[i]) {
				ready++
			}
		}
		return ready >= n, nil
	})
	if err != nil {
		return fmt.Errorf("waiting for %d Ready nodes (%d ready): %w", n, ready, err)
	}
	return nil
}

func nodeReady(n *corev1.Node) bool {
	for _, c := range n.Status.Conditions {
		if c.Type == corev1.NodeReady {
			return c.Status == corev1.ConditionTrue
		}
	}
	return false
}

// updateNode applies mutate to the current node and updates it, retrying on
// conflicts (kwok writes node status concurrently).
func (c *cluster) updateNode(name string, mutate func(*corev1.Node)) error {
	return retry.RetryOnConflict(retry.DefaultRetry, func() error {
		node, err := c.client.CoreV1().Nodes().Get(c.ctx, name, metav1.GetOptions{})
		if err != nil {
			return err
		}
		mutate(node)
		_, err = c.client.CoreV1().Nodes().Update(c.ctx, node, metav1.UpdateOptions{})
		return err
	})
}

// addTaint adds taint to node name.
func (c *cluster) addTaint(name string, taint corev1.Taint) error {
	return c.updateNode(name, func(n *corev1.Node) {
		n.Spec.Taints = append(n.Spec.Taints, taint)
	})
}

// removeTaint removes every taint with the key and effect of taint from node name.
func (c *cluster) removeTaint(name string, taint corev1.Taint) error {
	return c.updateNode(name, func(n *corev1.Node) {
		var kept []corev1.Taint
		for _, t := range n.Spec.Taints {
			if t.Key != taint.Key || t.Effect != taint.Effect {
				kept = append(kept, t)
			}
		}
		n.Spec.Taints = kept
	})
}

// setLabel sets (value != nil) or removes (value == nil) a label of node name.
func (c *cluster) setLabel(name, key string, value *string) error {
	return c.updateNode(name, func(n *corev1.Node) {
		if value == nil {
			delete(n.Labels, key)
		} else {
			n.Labels[key] = *value
		}
	})
}

// setUnschedulable cordons (true) or uncordons (false) node name.
func (c *cluster) setUnschedulable(name string, unschedulable bool) error {
	return c.updateNode(name, func(n *corev1.Node) { n.Spec.Unschedulable = unschedulable })
}

// waitServiceAccount waits for the default ServiceAccount of namespace ns
// (created by kube-controller-manager; pods cannot be created without it).
func (c *cluster) waitServiceAccount(ctx context.Context, ns string) error {
	return c.poll(30*time.Second, 50*time.Millisecond, func() (bool, error) {
		_, err := c.client.CoreV1().ServiceAccounts(ns).Get(ctx, "default", metav1.GetOptions{})
		if apierrors.IsNotFound(err) {
			return false, nil
		}
		return err == nil, nil
	})
}

// parallel calls f(0..n-1) from at most workers goroutines and returns the
// first error (the remaining calls are skipped once one failed or ctx ended).
func parallel(ctx context.Context, n, workers int, f func(i int) error) error {
	var (
		mu    sync.Mutex
		first error
		next  int
		wg    sync.WaitGroup
	)
	for range min(workers, n) {
		wg.Go(func() {
			for {
				mu.Lock()
				if first == nil && ctx.Err() != nil {
					first = ctx.Err()
				}
				if first != nil || next >= n {
					mu.Unlock()
					return
				}
				i := next
				next++
				mu.Unlock()
				if err := f(i); err != nil {
					mu.Lock()
					if first == nil {
						first = err
					}
					mu.Unlock()
				}
			}
		})
	}
	wg.Wait()
	return first
}
