//go:build unix

package e2e

import (
	"fmt"
	"sort"
	"time"

	appsv1 "k8s.io/api/apps/v1"
	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/types"
	intstrutil "k8s.io/apimachinery/pkg/util/intstr"
	corev1helpers "k8s.io/component-helpers/scheduling/corev1"
	"k8s.io/component-helpers/scheduling/corev1/nodeaffinity"
	"k8s.io/klog/v2"
)

// This file restates, independently of the library under test, the rules of
// the upstream DaemonSet controller (k8s.io/kubernetes/pkg/controller/daemon,
// v1.37) the harness checks against: which nodes should run a daemon pod,
// which pods count for which node, and how the status is counted.

// Label and annotation keys the upstream controller uses.
const (
	hashLabel               = appsv1.DefaultDaemonSetUniqueLabelKey // controller-revision-hash
	templateGenerationLabel = "pod-template-generation"
	templateGenerationAnno  = "deprecated.daemonset.template.generation"
)

// daemonTolerations returns the tolerations of the pods the DaemonSet creates:
// the template's plus the ones every daemon pod gets
// (util.AddOrUpdateDaemonPodTolerations). Appending is enough for matching.
func daemonTolerations(ds *appsv1.DaemonSet) []corev1.Toleration {
	tols := append([]corev1.Toleration(nil), ds.Spec.Template.Spec.Tolerations...)
	add := func(key string, effect corev1.TaintEffect) {
		tols = append(tols, corev1.Toleration{Key: key, Operator: corev1.TolerationOpExists, Effect: effect})
	}
	add(corev1.TaintNodeNotReady, corev1.TaintEffectNoExecute)
	add(corev1.TaintNodeUnreachable, corev1.TaintEffectNoExecute)
	add(corev1.TaintNodeDiskPressure, corev1.TaintEffectNoSchedule)
	add(corev1.TaintNodeMemoryPressure, corev1.TaintEffectNoSchedule)
	add(corev1.TaintNodePIDPressure, corev1.TaintEffectNoSchedule)
	add(corev1.TaintNodeUnschedulable, corev1.TaintEffectNoSchedule)
	if ds.Spec.Template.Spec.HostNetwork {
		add(corev1.TaintNodeNetworkUnavailable, corev1.TaintEffectNoSchedule)
	}
	return tols
}

// nodeShouldRun reports whether the DaemonSet should run a pod on the node
// (shouldRun: a missing pod is created) and whether an existing pod may stay
// (shouldContinue): the template's nodeName, nodeSelector and required node
// affinity must match; NoSchedule and NoExecute taints must be tolerated to
// run, only NoExecute ones to continue running. Node unschedulable
// (cordon) plays no part: daemon pods tolerate it.
func nodeShouldRun(node *corev1.Node, ds *appsv1.DaemonSet) (shouldRun, shouldContinue bool) {
	spec := &ds.Spec.Template.Spec
	if spec.NodeName != "" && spec.NodeName != node.Name {
		return false, false
	}
	if fits, _ := nodeaffinity.NewRequiredNodeAffinity(spec.NodeSelector, spec.Affinity).Match(node); !fits {
		return false, false
	}
	tols := daemonTolerations(ds)
	logger := klog.Background()
	_, untolerated := corev1helpers.FindMatchingUntoleratedTaint(logger, node.Spec.Taints, tols, func(t *corev1.Taint) bool {
		return t.Effect == corev1.TaintEffectNoSchedule || t.Effect == corev1.TaintEffectNoExecute
	}, false)
	if !untolerated {
		return true, true
	}
	_, untoleratedNoExecute := corev1helpers.FindMatchingUntoleratedTaint(logger, node.Spec.Taints, tols, func(t *corev1.Taint) bool {
		return t.Effect == corev1.TaintEffectNoExecute
	}, false)
	return false, !untoleratedNoExecute
}

// targetNode returns the node a daemon pod is for: spec.nodeName once bound,
// before that the single metadata.name the controller puts in the pod's
// required node affinity (util.GetTargetNodeName). "" if neither.
func targetNode(pod *corev1.Pod) string {
	if pod.Spec.NodeName != "" {
		return pod.Spec.NodeName
	}
	a := pod.Spec.Affinity
	if a == nil || a.NodeAffinity == nil || a.NodeAffinity.RequiredDuringSchedulingIgnoredDuringExecution == nil {
		return ""
	}
	terms := a.NodeAffinity.RequiredDuringSchedulingIgnoredDuringExecution.NodeSelectorTerms
	if len(terms) != 1 {
		return ""
	}
	for _, f := range terms[0].MatchFields {
		if f.Key == "metadata.name" && f.Operator == corev1.NodeSelectorOpIn && len(f.Values) == 1 {
			return f.Values[0]
		}
	}
	return ""
}

// controlledBy reports whether the object with uid is the controller of obj.
func controlledBy(obj metav1.Object, uid types.UID) bool {
	ref := metav1.GetControllerOfNoCopy(obj)
	return ref != nil && ref.UID == uid
}

func podTerminal(p *corev1.Pod) bool {
	return p.Status.Phase == corev1.PodSucceeded || p.Status.Phase == corev1.PodFailed
}

// podLive: not being deleted and not terminal.
func podLive(p *corev1.Pod) bool { return p.DeletionTimestamp == nil && !podTerminal(p) }

func podReady(p *corev1.Pod) bool {
	for _, c := range p.Status.Conditions {
		if c.Type == corev1.PodReady {
			return c.Status == corev1.ConditionTrue
		}
	}
	return false
}

// podAvailable is podutil.IsPodAvailable: Ready for at least minReadySeconds.
func podAvailable(p *corev1.Pod, minReadySeconds int32, now time.Time) bool {
	for _, c := range p.Status.Conditions {
		if c.Type == corev1.PodReady {
			if c.Status != corev1.ConditionTrue {
				return false
			}
			return minReadySeconds == 0 ||
				(!c.LastTransitionTime.IsZero() && !c.LastTransitionTime.Add(time.Duration(minReadySeconds)*time.Second).After(now))
		}
	}
	return false
}

// podUpdated is util.IsPodUpdated: the pod carries the current revision hash,
// or the legacy template generation label equal to the DaemonSet's.
func podUpdated(p *corev1.Pod, ds *appsv1.DaemonSet, hash string) bool {
	if hash != "" && p.Labels[hashLabel] == hash {
		return true
	}
	gen, ok := ds.Annotations[templateGenerationAnno]
	return ok && p.Labels[templateGenerationLabel] == gen
}

// sortDaemonPods orders pods as the controller's status does before it looks
// at the first one: bound pods first, then oldest first, then by name.
func sortDaemonPods(pods []*corev1.Pod) {
	sort.SliceStable(pods, func(i, j int) bool {
		a, b := pods[i], pods[j]
		if (a.Spec.NodeName != "") != (b.Spec.NodeName != "") {
			return a.Spec.NodeName != ""
		}
		if a.CreationTimestamp.Equal(&b.CreationTimestamp) {
			return a.Name < b.Name
		}
		return a.CreationTimestamp.Before(&b.CreationTimestamp)
	})
}

// statusCounts are the DaemonSet status counters.
type statusCounts struct {
	Desired, Current, Ready, Available, Updated, Misscheduled, Unavailable int32
}

func (s statusCounts) String() string {
	return fmt.Sprintf("desired=%d current=%d ready=%d available=%d updated=%d misscheduled=%d unavailable=%d",
		s.Desired, s.Current, s.Ready, s.Available, s.Updated, s.Misscheduled, s.Unavailable)
}

func statusOf(ds *appsv1.DaemonSet) statusCounts {
	st := ds.Status
	return statusCounts{st.DesiredNumberScheduled, st.CurrentNumberScheduled, st.NumberReady,
		st.NumberAvailable, st.UpdatedNumberScheduled, st.NumberMisscheduled, st.NumberUnavailable}
}

// recount computes the status counters from nodes and the DaemonSet's pods
// grouped by target node (podsByNode, without pods that are both terminal
// and being deleted), as updateDaemonSetStatus does: over the existing nodes,
// desired = nodes that should run a pod; of those, current = with a pod;
// ready/available/updated judge the first pod of sortDaemonPods' order;
// misscheduled = nodes that should not run a pod but have one;
// unavailable = desired - available.
func recount(ds *appsv1.DaemonSet, nodes []*corev1.Node, podsByNode map[string][]*corev1.Pod, hash string, now time.Time) statusCounts {
	var s statusCounts
	for _, node := range nodes {
		shouldRun, _ := nodeShouldRun(node, ds)
		pods := podsByNode[node.Name]
		if !shouldRun {
			if len(pods) > 0 {
				s.Misscheduled++
			}
			continue
		}
		s.Desired++
		if len(pods) == 0 {
			continue
		}
		s.Current++
		sorted := append([]*corev1.Pod(nil), pods...)
		sortDaemonPods(sorted)
		p := sorted[0]
		if podReady(p) {
			s.Ready++
			if podAvailable(p, ds.Spec.MinReadySeconds, now) {
				s.Available++
			}
		}
		if podUpdated(p, ds, hash) {
			s.Updated++
		}
	}
	s.Unavailable = s.Desired - s.Available
	return s
}

// maxUnavailable resolves the RollingUpdate maxUnavailable against desired
// nodes (rounding up); 1 when both maxUnavailable and maxSurge resolve to 0
// (the controller's fallback). 0 for OnDelete.
func maxUnavailable(ds *appsv1.DaemonSet, desired int) int {
	if ds.Spec.UpdateStrategy.Type != appsv1.RollingUpdateDaemonSetStrategyType || ds.Spec.UpdateStrategy.RollingUpdate == nil {
		return 0
	}
	ru := ds.Spec.UpdateStrategy.RollingUpdate
	mu, _ := intstrutil.GetScaledValueFromIntOrPercent(ru.MaxUnavailable, desired, true)
	ms := maxSurge(ds, desired)
	if desired > 0 && mu == 0 && ms == 0 {
		mu = 1
	}
	return mu
}

// maxSurge resolves the RollingUpdate maxSurge against desired nodes (rounding up).
func maxSurge(ds *appsv1.DaemonSet, desired int) int {
	if ds.Spec.UpdateStrategy.Type != appsv1.RollingUpdateDaemonSetStrategyType || ds.Spec.UpdateStrategy.RollingUpdate == nil ||
		ds.Spec.UpdateStrategy.RollingUpdate.MaxSurge == nil {
		return 0
	}
	ms, _ := intstrutil.GetScaledValueFromIntOrPercent(ds.Spec.UpdateStrategy.RollingUpdate.MaxSurge, desired, true)
	return ms
}

// allowsSurge is util.AllowsSurge: maxSurge resolves to more than 0.
func allowsSurge(ds *appsv1.DaemonSet) bool { return maxSurge(ds, 1) > 0 }
