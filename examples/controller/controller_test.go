package main

import (
	"context"
	"fmt"
	"slices"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	appsv1 "k8s.io/api/apps/v1"
	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/runtime"
	"k8s.io/client-go/informers"
	"k8s.io/client-go/kubernetes/fake"
	k8stesting "k8s.io/client-go/testing"
	"k8s.io/client-go/tools/cache"
	"k8s.io/client-go/tools/record"

	"github.com/dsplan/dsplan/plan"
)

// TestSyncPlansFromHandlers runs the controller's sync against a fake
// clientset, with the incremental planner and without: the first sync
// creates the revision and a pod on each eligible node, and a sync after
// the informers delivered the creations creates nothing more (a planner
// that missed the initial list, or the pods, would create them again).
// Both paths must send the same writes.
func TestSyncPlansFromHandlers(t *testing.T) {
	writes := map[bool][]string{}
	for _, incremental := range []bool{true, false} {
		t.Run(fmt.Sprintf("incremental=%v", incremental), func(t *testing.T) {
			writes[incremental] = syncTwice(t, incremental)
		})
	}
	if !slices.Equal(writes[true], writes[false]) {
		t.Errorf("writes differ:\n incremental: %v\n listers:     %v", writes[true], writes[false])
	}
}

func syncTwice(t *testing.T, incremental bool) []string {
	ds, _ := plan.Default(&appsv1.DaemonSet{
		ObjectMeta: metav1.ObjectMeta{Name: "agent", Namespace: "default", UID: "9d0e6c1a-0000-4000-8000-000000000001", Generation: 1,
			Annotations: map[string]string{appsv1.DeprecatedTemplateGeneration: "1"}},
		Spec: appsv1.DaemonSetSpec{
			Selector: &metav1.LabelSelector{MatchLabels: map[string]string{"app": "agent"}},
			Template: corev1.PodTemplateSpec{
				ObjectMeta: metav1.ObjectMeta{Labels: map[string]string{"app": "agent"}},
				Spec:       corev1.PodSpec{Containers: []corev1.Container{{Name: "agent", Image: "registry.k8s.io/pause:3.10"}}},
			},
		},
	})
	node := func(name string, taints ...corev1.Taint) *corev1.Node {
		return &corev1.Node{ObjectMeta: metav1.ObjectMeta{Name: name}, Spec: corev1.NodeSpec{Taints: taints}}
	}
	client := fake.NewClientset(ds, node("worker-1"), node("worker-2"),
		node("control-plane", corev1.Taint{Key: "node-role.kubernetes.io/control-plane", Effect: corev1.TaintEffectNoSchedule}))
	var n atomic.Int32
	client.PrependReactor("create", "*", func(action k8stesting.Action) (bool, runtime.Object, error) {
		// The API server's generateName.
		if o, ok := action.(k8stesting.CreateAction).GetObject().(metav1.Object); ok && o.GetName() == "" {
			o.SetName(fmt.Sprintf("%s%05d", o.GetGenerateName(), n.Add(1)))
		}
		return false, nil, nil
	})

	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	factory := informers.NewSharedInformerFactory(client, 0)
	c := NewController(client, factory, record.NewFakeRecorder(100), incremental, 0)
	factory.Start(ctx.Done())
	defer func() { cancel(); factory.Shutdown() }()
	if !cache.WaitForCacheSync(ctx.Done(), c.synced...) {
		t.Fatal("caches did not sync")
	}
	key := "default/agent"
	if _, err := c.sync(ctx, key); err != nil {
		t.Fatalf("first sync: %v", err)
	}
	first := writesOf(client.Actions())
	if want := []string{
		"create controllerrevisions", "create pods worker-1", "create pods worker-2", "update daemonsets/status",
	}; !slices.Equal(first, want) {
		t.Errorf("first sync wrote %v, want %v", first, want)
	}

	// The informers deliver the creations and the status write.
	for {
		c.mu.Lock()
		pending := c.expectations.Pending(key, time.Now())
		c.mu.Unlock()
		if !pending && c.fresh(key, mustGet(t, c, "default", "agent")) == 0 {
			break
		}
		if ctx.Err() != nil {
			t.Fatal("the informers did not deliver the creations")
		}
		time.Sleep(10 * time.Millisecond)
	}
	client.ClearActions()
	if _, err := c.sync(ctx, key); err != nil {
		t.Fatalf("second sync: %v", err)
	}
	second := writesOf(client.Actions())
	for _, w := range second {
		if strings.HasPrefix(w, "create") || strings.HasPrefix(w, "delete") {
			t.Errorf("second sync wrote %v: the pods and the revision exist", second)
			break
		}
	}
	return append(first, second...)
}

func mustGet(t *testing.T, c *Controller, namespace, name string) *appsv1.DaemonSet {
	t.Helper()
	ds, err := c.dsLister.DaemonSets(namespace).Get(name)
	if err != nil {
		t.Fatal(err)
	}
	return ds
}

// writesOf lists the write actions as "verb resource[/subresource]
// [node]", sorted (pods are created in parallel).
func writesOf(actions []k8stesting.Action) []string {
	var out []string
	for _, a := range actions {
		switch a.GetVerb() {
		case "get", "list", "watch":
			continue
		}
		w := a.GetVerb() + " " + a.GetResource().Resource
		if sub := a.GetSubresource(); sub != "" {
			w += "/" + sub
		}
		if ca, ok := a.(k8stesting.CreateAction); ok {
			if pod, ok := ca.GetObject().(*corev1.Pod); ok {
				w += " " + podNode(pod)
			}
		}
		out = append(out, w)
	}
	slices.Sort(out)
	return out
}

// podNode is the node a daemon pod's required node affinity pins.
func podNode(pod *corev1.Pod) string {
	if a := pod.Spec.Affinity; a != nil && a.NodeAffinity != nil && a.NodeAffinity.RequiredDuringSchedulingIgnoredDuringExecution != nil {
		for _, term := range a.NodeAffinity.RequiredDuringSchedulingIgnoredDuringExecution.NodeSelectorTerms {
			for _, f := range term.MatchFields {
				if f.Key == "metadata.name" && len(f.Values) == 1 {
					return f.Values[0]
				}
			}
		}
	}
	return pod.Spec.NodeName
}
