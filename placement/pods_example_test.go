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
