package control_test

import (
	"errors"
	"fmt"
	"time"

	"github.com/dsplan/dsplan/plan"
	"github.com/dsplan/dsplan/plan/control"
	"github.com/dsplan/dsplan/rollout"
)

// ExampleExpectations follows one DaemonSet through a sync that creates
// three pods: until the informer shows them (or five minutes pass), the
// next plan only refreshes the status.
func ExampleExpectations() {
	var e control.Expectations
	now := time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC)
	p := plan.Plan{Creates: make([]plan.Create, 3)}
	e.Expect("kube-system/fluentd", p, now)
	fmt.Println("pending:", e.Pending("kube-system/fluentd", now))

	// The pod informer shows two new pods; the third create failed.
	e.CreationObserved("kube-system/fluentd")
	e.CreationObserved("kube-system/fluentd")
	fmt.Println("pending:", e.Pending("kube-system/fluentd", now))
	e.Lower("kube-system/fluentd", 1, 0)
	fmt.Println("pending:", e.Pending("kube-system/fluentd", now))
	// Output:
	// pending: true
	// pending: true
	// pending: false
}

// ExampleBackoff deletes a failed pod on node-a: the next failed pod there
// waits a second, the one after two.
func ExampleBackoff() {
	ds := daemonSet()
	var b control.Backoff
	now := time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC)
	p := plan.Plan{
		Deletes:          []plan.Delete{{Pod: "fluentd-x", Node: "node-a", Reason: rollout.DeleteFailed}},
		FailedPodBackoff: []string{"node-a"},
	}
	b.Observe(ds, p, now)
	fmt.Println(b.Delays(ds, now)) // plan.Snapshot.FailedPodBackoff of the next plan
	b.Observe(ds, p, now.Add(time.Second))
	fmt.Println(b.Delays(ds, now.Add(time.Second)))
	fmt.Println(b.Delays(ds, now.Add(3*time.Second)))
	// Output:
	// map[node-a:1s]
	// map[node-a:2s]
	// map[]
}

// ExampleSlowStart sends ten creates in batches; the third batch has a
// failure, so the last three creates are never sent.
func ExampleSlowStart() {
	creates := make([]error, 10)
	creates[4] = errors.New("exceeded quota")
	for _, batch := range control.SlowStart(len(creates)) {
		failed := 0
		for i := batch.From; i < batch.To; i++ {
			if creates[i] != nil { // the API server's answer to create i
				failed++
			}
		}
		fmt.Printf("batch [%d, %d): %d failed\n", batch.From, batch.To, failed)
		if failed > 0 {
			fmt.Println("skipped:", len(creates)-batch.To)
			break
		}
	}
	// Output:
	// batch [0, 1): 0 failed
	// batch [1, 3): 0 failed
	// batch [3, 7): 1 failed
	// skipped: 3
}

// ExamplePlanEvents lists the events a sync records before its writes.
func ExamplePlanEvents() {
	p := plan.Plan{Deletes: []plan.Delete{{Pod: "fluentd-x", Node: "node-a", Reason: rollout.DeleteFailed}}}
	for _, e := range control.PlanEvents(daemonSet(), p) {
		fmt.Println(e.Type, e.Reason, e.Message)
	}
	e, _ := control.CreateEvent("fluentd-7k2p9", nil)
	fmt.Println(e.Type, e.Reason, e.Message)
	// Output:
	// Warning FailedDaemonPod Found failed daemon pod ns/fluentd-x on node node-a, will try to kill it
	// Normal SuccessfulCreate Created pod: fluentd-7k2p9
}
