//go:build unix

package e2e

import (
	"context"
	"encoding/json"
	"fmt"
	"sort"
	"strings"
	"time"

	appsv1 "k8s.io/api/apps/v1"
	corev1 "k8s.io/api/core/v1"
	"k8s.io/apimachinery/pkg/api/equality"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/client-go/kubernetes"
)

// snapshot is the state of one DaemonSet read from the API server: the
// DaemonSet, all nodes, its pods and its ControllerRevisions.
type snapshot struct {
	ds        *appsv1.DaemonSet
	nodes     []*corev1.Node
	pods      []*corev1.Pod            // controlled by ds
	byNode    map[string][]*corev1.Pod // by target node
	revisions []*appsv1.ControllerRevision
	current   *appsv1.ControllerRevision // highest revision, nil if none
	hash      string                     // current's controller-revision-hash label
}

// takeSnapshot reads the DaemonSet ns/name and what belongs to it.
func takeSnapshot(ctx context.Context, client kubernetes.Interface, ns, name string) (*snapshot, error) {
	ds, err := client.AppsV1().DaemonSets(ns).Get(ctx, name, metav1.GetOptions{})
	if err != nil {
		return nil, err
	}
	s := &snapshot{ds: ds, byNode: map[string][]*corev1.Pod{}}
	nodes, err := client.CoreV1().Nodes().List(ctx, metav1.ListOptions{})
	if err != nil {
		return nil, err
	}
	for i := range nodes.Items {
		s.nodes = append(s.nodes, &nodes.Items[i])
	}
	pods, err := client.CoreV1().Pods(ns).List(ctx, metav1.ListOptions{})
	if err != nil {
		return nil, err
	}
	for i := range pods.Items {
		p := &pods.Items[i]
		if controlledBy(p, ds.UID) {
			s.pods = append(s.pods, p)
			s.byNode[targetNode(p)] = append(s.byNode[targetNode(p)], p)
		}
	}
	revs, err := client.AppsV1().ControllerRevisions(ns).List(ctx, metav1.ListOptions{})
	if err != nil {
		return nil, err
	}
	for i := range revs.Items {
		r := &revs.Items[i]
		if controlledBy(r, ds.UID) {
			s.revisions = append(s.revisions, r)
			if s.current == nil || r.Revision > s.current.Revision {
				s.current = r
			}
		}
	}
	if s.current != nil {
		s.hash = s.current.Labels[hashLabel]
	}
	return s, nil
}

// podOn returns the single pod of the snapshot on node (nil if none or several).
func (s *snapshot) podOn(node string) *corev1.Pod {
	if pods := s.byNode[node]; len(pods) == 1 {
		return pods[0]
	}
	return nil
}

// revisionTemplate decodes the pod template stored in a DaemonSet
// ControllerRevision ({"spec":{"template":{...,"$patch":"replace"}}}).
func revisionTemplate(r *appsv1.ControllerRevision) (*corev1.PodTemplateSpec, error) {
	var data struct {
		Spec struct {
			Template corev1.PodTemplateSpec `json:"template"`
		} `json:"spec"`
	}
	if err := json.Unmarshal(r.Data.Raw, &data); err != nil {
		return nil, err
	}
	return &data.Spec.Template, nil
}

// convergeOpts tunes what "converged" means.
type convergeOpts struct {
	// anyRevision accepts a pod of any revision on a node that should run
	// one (OnDelete: the controller replaces a pod only once it is deleted).
	anyRevision bool
	// wantOld, when set, accepts pods of any revision but wants exactly
	// this many nodes that should run the DaemonSet to run an older one (a
	// rollout partition).
	wantOld *int
	// skipStatus leaves the status counters out (used internally by
	// converge with statusGrace).
	skipStatus bool
	// statusGrace > 0: once the pods have converged, the status gets this
	// long to follow by itself; if it does not, the DaemonSet is nudged (see
	// scenario.nudge) and the wait goes on. For node changes on which
	// upstream does not resync the DaemonSet; statusLagReason says which.
	statusGrace     time.Duration
	statusLagReason string
}

// problems returns why the snapshot is not converged (nil if it is):
//   - status.observedGeneration == generation;
//   - the current revision (the controller bumps the revision that matches
//     the template to the highest number when it syncs) exists, holds the
//     DaemonSet's template and has a hash label;
//   - no pod of the DaemonSet is being deleted;
//   - every node that should run the DaemonSet has exactly one pod, Ready,
//     with the current hash (any hash with anyRevision);
//   - a node that should not run it but where an existing pod may continue
//     (a NoSchedule taint that came after the pod) has at most one pod;
//   - any other node has none;
//   - the status counters equal a recount from the nodes and pods (invariant c).
//
// Pods bound to nodes that no longer exist are ignored, as the controller
// ignores them (the pod garbage collector removes them after 40 s).
func (s *snapshot) problems(opts convergeOpts) []string {
	var probs []string
	ds := s.ds
	if ds.Status.ObservedGeneration != ds.Generation {
		probs = append(probs, fmt.Sprintf("status.observedGeneration %d != generation %d", ds.Status.ObservedGeneration, ds.Generation))
	}
	switch {
	case s.current == nil:
		probs = append(probs, "no ControllerRevision controlled by the DaemonSet")
	case s.hash == "":
		probs = append(probs, fmt.Sprintf("ControllerRevision %s has no %s label", s.current.Name, hashLabel))
	default:
		if tmpl, err := revisionTemplate(s.current); err != nil {
			probs = append(probs, fmt.Sprintf("ControllerRevision %s: %v", s.current.Name, err))
		} else if !equality.Semantic.DeepEqual(*tmpl, ds.Spec.Template) {
			probs = append(probs, fmt.Sprintf("highest ControllerRevision %s (revision %d) does not hold the DaemonSet's template",
				s.current.Name, s.current.Revision))
		}
	}
	const maxNodeLines = 20
	var nodeLines []string
	old := 0
	nodes := append([]*corev1.Node(nil), s.nodes...)
	sort.Slice(nodes, func(i, j int) bool { return nodes[i].Name < nodes[j].Name })
	for _, node := range nodes {
		shouldRun, shouldContinue := nodeShouldRun(node, ds)
		pods := s.byNode[node.Name]
		var why string
		deleting := 0
		for _, p := range pods {
			if p.DeletionTimestamp != nil {
				deleting++
			}
		}
		switch {
		case deleting > 0:
			why = fmt.Sprintf("%d pod(s) being deleted", deleting)
		case shouldRun:
			switch {
			case len(pods) != 1:
				why = fmt.Sprintf("want exactly 1 pod, have %d", len(pods))
			case !podReady(pods[0]):
				why = "pod not Ready"
			case pods[0].Labels[hashLabel] != s.hash && opts.wantOld != nil:
				old++
			case !opts.anyRevision && pods[0].Labels[hashLabel] != s.hash:
				why = fmt.Sprintf("pod has hash %q, want current %q", pods[0].Labels[hashLabel], s.hash)
			}
		case shouldContinue:
			if len(pods) > 1 {
				why = fmt.Sprintf("should not run but may keep its pod: want at most 1 pod, have %d", len(pods))
			}
		default:
			if len(pods) > 0 {
				why = fmt.Sprintf("should not run the DaemonSet: want 0 pods, have %d", len(pods))
			}
		}
		if why != "" {
			nodeLines = append(nodeLines, fmt.Sprintf("node %s (shouldRun=%v shouldContinueRunning=%v): %s; pods: %s",
				node.Name, shouldRun, shouldContinue, why, describePods(pods)))
		}
	}
	if len(nodeLines) > maxNodeLines {
		more := len(nodeLines) - maxNodeLines
		nodeLines = append(nodeLines[:maxNodeLines], fmt.Sprintf("... and %d more nodes", more))
	}
	probs = append(probs, nodeLines...)
	if opts.wantOld != nil && old != *opts.wantOld {
		probs = append(probs, fmt.Sprintf("%d nodes run an old revision, want %d", old, *opts.wantOld))
	}
	if pods := s.byNode[""]; len(pods) > 0 {
		probs = append(probs, fmt.Sprintf("pods without a target node: %s", describePods(pods)))
	}

	if opts.skipStatus {
		return probs
	}
	// (c) status counters == recount.
	counted := map[string][]*corev1.Pod{}
	for node, pods := range s.byNode {
		for _, p := range pods {
			if !(podTerminal(p) && p.DeletionTimestamp != nil) {
				counted[node] = append(counted[node], p)
			}
		}
	}
	want := recount(ds, s.nodes, counted, s.hash, time.Now())
	if got := statusOf(ds); got != want {
		probs = append(probs, fmt.Sprintf("status %v != recount %v", got, want))
	}
	return probs
}

// orphans returns the pods bound to nodes that do not exist.
func (s *snapshot) orphans() []*corev1.Pod {
	known := map[string]bool{}
	for _, n := range s.nodes {
		known[n.Name] = true
	}
	var out []*corev1.Pod
	for node, pods := range s.byNode {
		if node != "" && !known[node] {
			out = append(out, pods...)
		}
	}
	return out
}

// describePods lists pods with their revision hash, phase, readiness and
// whether they are being deleted.
func describePods(pods []*corev1.Pod) string {
	if len(pods) == 0 {
		return "none"
	}
	var parts []string
	for _, p := range pods {
		parts = append(parts, fmt.Sprintf("%s(hash=%s phase=%s ready=%v deleting=%v)",
			p.Name, p.Labels[hashLabel], p.Status.Phase, podReady(p), p.DeletionTimestamp != nil))
	}
	sort.Strings(parts)
	return strings.Join(parts, " ")
}
