package forecast_test

import (
	"fmt"
	"os"
	"time"

	corev1 "k8s.io/api/core/v1"
	"k8s.io/apimachinery/pkg/util/intstr"

	"github.com/dsplan/dsplan/internal/dstest"
	"github.com/dsplan/dsplan/plan"
	"github.com/dsplan/dsplan/plan/forecast"
)

// ExampleRun forecasts a rolling update of 30 nodes, three at a time, with
// pods ready 20 seconds after they are created.
func ExampleRun() {
	ds := dstest.DaemonSet("agent", dstest.RollingUpdate(intstr.FromString("10%"), intstr.FromInt32(0)))
	f, err := forecast.Run(midUpdate(ds, 30), forecast.Options{Model: forecast.Model{ReadyAfter: 20 * time.Second}})
	if err != nil {
		panic(err)
	}
	fmt.Println(f.Summary())
	fmt.Println("first wave:", f.Waves[0].Nodes)
	fmt.Println("waiting:", f.Waves[0].Waiting[0].Count, f.Waves[0].Waiting[0].Reason)
	// Output:
	// complete after 3m20s: 10 waves, 31 syncs, 30 desired nodes
	// first wave: [node-0000 node-0001 node-0002]
	// waiting: 27 BudgetSpent
}

// ExampleStalls says why a rollout is stuck: the new pods crash, and they
// take the whole budget.
func ExampleStalls() {
	ds := dstest.DaemonSet("agent", dstest.RollingUpdate(intstr.FromInt32(1), intstr.FromInt32(0)))
	f, _ := forecast.Run(midUpdate(ds, 5), forecast.Options{Model: forecast.Model{ReadyAfter: time.Second, FailureRate: 1}})
	fmt.Println(f.Summary())
	for _, st := range f.Stalls {
		fmt.Println(st)
	}
	// Output:
	// stalled after 0s: 1 wave, 3 syncs, 5 desired nodes (NewPodsFailing)
	// NewPodsFailing: pods of the new revision fail or crash (nodes [node-0000])
}

// ExampleLint warns before a change: a host port with maxSurge stalls the
// rollout.
func ExampleLint() {
	ds := dstest.DaemonSet("node-exporter", dstest.RollingUpdate(intstr.FromInt32(0), intstr.FromInt32(1)))
	ds.Spec.Template.Spec.Containers[0].Ports = []corev1.ContainerPort{{ContainerPort: 9100, HostPort: 9100}}
	for _, w := range forecast.Lint(plan.Snapshot{DaemonSet: ds, Nodes: dstest.Nodes(3)}, plan.Options{}) {
		fmt.Println(w.Field)
	}
	// Output:
	// spec.template.spec.containers[0].ports[0].hostPort
}

// ExampleForecast_Text writes a forecast in words.
func ExampleForecast_Text() {
	ds := dstest.DaemonSet("agent", dstest.RollingUpdate(intstr.FromInt32(2), intstr.FromInt32(0)))
	f, _ := forecast.Run(midUpdate(ds, 4), forecast.Options{Model: forecast.Model{ReadyAfter: 5 * time.Second}})
	_ = f.Text(os.Stdout)
	// Output:
	// complete after 10s: 2 waves, 7 syncs, 4 desired nodes
	// wave 1 at 0s (sync 0): 2 nodes: node-0000 node-0001
	//   2 wait: BudgetSpent (e.g. node-0002 node-0003)
	// wave 2 at 5s (sync 3): 2 nodes: node-0002 node-0003
}
