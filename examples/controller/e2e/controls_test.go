//go:build unix

package e2e

import (
	"context"
	"sort"
	"strconv"
	"time"

	appsv1 "k8s.io/api/apps/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/util/intstr"

	"testing"
)

// Rollout controls the dsplan controller reads from DaemonSet annotations
// (package rollout of the library; kube-controller-manager ignores them).
const (
	annotationPartition = "rollout.dsplan.io/partition"
	annotationPaused    = "rollout.dsplan.io/paused"
)

// TestControls runs the rollout-control scenarios against the dsplan
// controller on a fresh cluster.
func TestControls(t *testing.T) {
	cfg, ctx := requireE2E(t)
	c := newCluster(t, ctx, cfg, clusterSpec{controller: "dsplan"})
	runScenarios(t, c, []scenarioDef{
		{"partition", scenarioPartition},
		{"pause-resume", scenarioPauseResume},
	})
}

// controlsPartition is the partition of scenarioPartition.
const controlsPartition = 10

// scenarioPartition: a rolling update with rollout.dsplan.io/partition N
// converges with exactly N desired nodes on the old revision — the last N
// in node-name order, the documented update order — and stays there; then
// partition 0 finishes it.
func scenarioPartition(s *scenario) {
	ds := newDS("ds")
	ds.Annotations = map[string]string{annotationPartition: strconv.Itoa(controlsPartition)}
	ds.Spec.UpdateStrategy = rollingUpdate(intstr.FromInt32(5), intstr.FromInt32(0))
	first := s.converge("create", "ds", s.createDS(ds), convergeOpts{})
	want := controlsPartition
	snap := s.converge("update", "ds", s.setImage("ds", imageV2), convergeOpts{wantOld: &want})
	var desired []string
	for _, n := range snap.nodes {
		if run, _ := nodeShouldRun(n, snap.ds); run {
			desired = append(desired, n.Name)
		}
	}
	sort.Strings(desired)
	kept := map[string]bool{}
	for _, n := range desired[len(desired)-controlsPartition:] {
		kept[n] = true
	}
	for _, n := range desired {
		p := snap.podOn(n)
		if p == nil {
			continue // problems() already failed the convergence
		}
		if old := p.Labels[hashLabel] == first.hash; old != kept[n] {
			s.t.Errorf("node %s: old revision %v, want %v (the partition keeps the last %d desired nodes in name order: %v)",
				n, old, kept[n], controlsPartition, desired[len(desired)-controlsPartition:])
		}
	}
	if got := snap.ds.Status.UpdatedNumberScheduled; int(got) != len(desired)-controlsPartition {
		s.t.Errorf("updatedNumberScheduled = %d, want %d", got, len(desired)-controlsPartition)
	}
	s.expectQuiet("ds", 3*time.Second, 0)

	at := s.updateDS("ds", func(ds *appsv1.DaemonSet) { ds.Annotations[annotationPartition] = "0" })
	snap = s.converge("partition-0", "ds", at, convergeOpts{})
	if snap.hash == first.hash {
		s.t.Errorf("revision hash did not change (%s)", snap.hash)
	}
}

// scenarioPauseResume: with rollout.dsplan.io/paused "true", a template
// change replaces no pod for 5 s, while a node that joins meanwhile gets a
// pod of the new revision; removing the annotation resumes the rollout.
func scenarioPauseResume(s *scenario) {
	ds := newDS("ds")
	ds.Spec.UpdateStrategy = rollingUpdate(intstr.FromInt32(5), intstr.FromInt32(0))
	first := s.converge("create", "ds", s.createDS(ds), convergeOpts{})
	s.updateDS("ds", func(ds *appsv1.DaemonSet) {
		if ds.Annotations == nil {
			ds.Annotations = map[string]string{}
		}
		ds.Annotations[annotationPaused] = "true"
	})
	before := s.rec.stats("ds")
	snap := s.converge("paused-template-change", "ds", s.setImage("ds", imageV2), convergeOpts{anyRevision: true})
	if snap.hash == first.hash {
		s.t.Fatalf("revision hash did not change (%s)", snap.hash)
	}

	// A node joins while paused: its pod is of the new revision.
	name := "kwok-joined-paused"
	s.cleanup("delete node "+name, func() error {
		err := s.c.client.CoreV1().Nodes().Delete(context.Background(), name, metav1.DeleteOptions{})
		if apierrors.IsNotFound(err) {
			return nil
		}
		return err
	})
	at := time.Now()
	if _, err := s.c.client.CoreV1().Nodes().Create(s.ctx, newNode(name), metav1.CreateOptions{}); err != nil {
		s.t.Fatal(err)
	}
	snap = s.converge("paused-join", "ds", at, convergeOpts{anyRevision: true})
	if p := snap.podOn(name); p == nil || p.Labels[hashLabel] != snap.hash {
		s.t.Errorf("joined node %s: want one pod of the new revision %s, have %s", name, snap.hash, describePods(snap.byNode[name]))
	}
	// Nothing else is replaced for 5 s from the template change.
	s.expectQuiet("ds", 5*time.Second-time.Since(at), 0)
	after := s.rec.stats("ds")
	if after.Deleted != before.Deleted || after.Created != before.Created+1 {
		s.t.Errorf("while paused: created %d -> %d (want +1, the joined node), removed %d -> %d (want none)",
			before.Created, after.Created, before.Deleted, after.Deleted)
	}
	snap, _ = takeSnapshot(s.ctx, s.c.client, s.ns, "ds")
	if snap != nil {
		for node, pods := range snap.byNode {
			if node != name && len(pods) == 1 && pods[0].Labels[hashLabel] != first.hash {
				s.t.Errorf("node %s: pod %s replaced while paused", node, pods[0].Name)
			}
		}
		if got := snap.ds.Status.UpdatedNumberScheduled; got != 1 {
			s.t.Errorf("updatedNumberScheduled while paused = %d, want 1 (the joined node)", got)
		}
	}

	at = s.updateDS("ds", func(ds *appsv1.DaemonSet) { delete(ds.Annotations, annotationPaused) })
	snap = s.converge("resume", "ds", at, convergeOpts{})
	s.expectDesired(snap, s.defaultDesired()+1)
}

// expectQuiet waits for d and fails if the DaemonSet name's pods were
// created or removed meanwhile beyond allowCreates creates.
func (s *scenario) expectQuiet(name string, d time.Duration, allowCreates int) {
	s.t.Helper()
	before := s.rec.stats(name)
	select {
	case <-s.ctx.Done():
		s.t.Fatal(s.ctx.Err())
	case <-time.After(max(d, 0)):
	}
	after := s.rec.stats(name)
	if after.Deleted != before.Deleted || after.Created > before.Created+allowCreates {
		s.t.Errorf("DaemonSet %s changed during %v of quiet: created %d -> %d, removed %d -> %d",
			name, d.Round(time.Millisecond), before.Created, after.Created, before.Deleted, after.Deleted)
	}
}
