package placement_test

import (
	"slices"
	"testing"

	"github.com/google/go-cmp/cmp"
	corev1 "k8s.io/api/core/v1"
	apiequality "k8s.io/apimachinery/pkg/api/equality"

	"github.com/dsplan/dsplan/internal/fixture"
	"github.com/dsplan/dsplan/placement"
)

// TestParityWithKubeControllerManager checks placement against the golden
// fixtures recorded from kube-controller-manager v1.37.2 (see package
// internal/fixture; regenerate with `go run ./internal/fixture/regen`):
// the number of nodes Evaluate says should run a pod equals the oracle's
// status.desiredNumberScheduled, and every pod the oracle created equals
// the template of NewPod for that node. Fixtures whose sync stopped before
// the status (DaemonSet being deleted, empty selector, hash collision) only
// check the pods.
func TestParityWithKubeControllerManager(t *testing.T) {
	if testing.Short() {
		t.Skip("loads every fixture")
	}
	desiredChecked, podsChecked := 0, 0
	for _, c := range fixture.All(t) {
		e := placement.New(c.DaemonSet, placement.Options{})
		if c.Want.Hash != "" {
			desired := 0
			for _, n := range c.Nodes {
				if e.Evaluate(n).ShouldRun() {
					desired++
				}
			}
			if int32(desired) != c.Want.Status.DesiredNumberScheduled {
				t.Errorf("%s: %d nodes should run a pod, upstream desiredNumberScheduled %d", c.Name, desired, c.Want.Status.DesiredNumberScheduled)
			}
			desiredChecked++
		}
		for _, cr := range slices.Concat(c.Want.Creates.Always, c.Want.Creates.Sometimes) {
			if cr.Pod == nil {
				continue
			}
			hash := cr.Pod.Labels["controller-revision-hash"]
			pod := e.NewPod(cr.Node, hash)
			got := &corev1.PodTemplateSpec{ObjectMeta: *c.DaemonSet.Spec.Template.ObjectMeta.DeepCopy(), Spec: pod.Spec}
			got.Labels = pod.Labels
			if !apiequality.Semantic.DeepEqual(cr.Pod, got) {
				t.Errorf("%s: pod for %s (-upstream +ours):\n%s", c.Name, cr.Node, cmp.Diff(cr.Pod, got))
			}
			podsChecked++
		}
	}
	t.Logf("desiredNumberScheduled agrees on %d fixtures; %d created pods equal upstream's", desiredChecked, podsChecked)
}
