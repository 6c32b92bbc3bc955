package placement_test

import (
	"fmt"
	"slices"
	"time"

	corev1 "k8s.io/api/core/v1"

	"github.com/dsplan/dsplan/internal/dstest"
	"github.com/dsplan/dsplan/placement"
)

// ExampleComparePods orders a node's daemon pods as kube-controller-manager
// does before keeping the first: scheduled pods first, then the oldest.
func ExampleComparePods() {
	ds := dstest.DaemonSet("agent")
	pods := []*corev1.Pod{
		dstest.Pod(ds, "newer", "node-a", "h"),
		dstest.Pod(ds, "pending", "", "h", dstest.Created(dstest.Epoch.Add(-time.Hour)), dstest.Unscheduled("node-a")),
		dstest.Pod(ds, "older", "node-a", "h", dstest.Created(dstest.Epoch.Add(-time.Minute))),
	}
	slices.SortFunc(pods, placement.ComparePods)
	for _, p := range pods {
		fmt.Println(p.Name)
	}
	// Output:
	// older
	// newer
	// pending
}

// ExampleIsPodAvailable judges availability with minReadySeconds at a
// given time: ready at Epoch, available 30 seconds later.
func ExampleIsPodAvailable() {
	pod := dstest.Pod(dstest.DaemonSet("agent"), "a", "node-a", "h", dstest.ReadySince(dstest.Epoch))
	fmt.Println(placement.IsPodReady(pod),
		placement.IsPodAvailable(pod, 30, dstest.Epoch.Add(29*time.Second)),
		placement.IsPodAvailable(pod, 30, dstest.Epoch.Add(30*time.Second)))
	// Output: true false true
}

// ExampleNewPodClassifier classifies a node's pods once, against the
// current revision hash and a time, for code that reads them repeatedly.
func ExampleNewPodClassifier() {
	ds := dstest.DaemonSet("agent")
	ds.Spec.MinReadySeconds = 30
	c := placement.NewPodClassifier(ds, "new", dstest.Epoch.Add(10*time.Second))
	for _, pod := range []*corev1.Pod{
		dstest.Pod(ds, "current", "node-a", "new", dstest.ReadySince(dstest.Epoch)),
		dstest.Pod(ds, "old", "node-a", "old", dstest.ReadySince(dstest.Epoch.Add(-time.Hour))),
		dstest.Pod(ds, "exited", "node-a", "old", dstest.Phase(corev1.PodSucceeded), dstest.NotReady),
	} {
		fmt.Printf("%s: %v\n", pod.Name, c.State(pod))
	}
	// Output:
	// current: Ready|Updated
	// old: Ready|Available
	// exited: Succeeded
}
