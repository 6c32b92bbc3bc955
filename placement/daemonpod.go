package placement

import (
	"fmt"
	"maps"
	"strconv"

	appsv1 "k8s.io/api/apps/v1"
	corev1 "k8s.io/api/core/v1"
	apivalidation "k8s.io/apimachinery/pkg/api/validation"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"

	"github.com/dsplan/dsplan/internal/target"
)

// NewPod returns the pod kube-controller-manager v1.37.2 creates for the
// DaemonSet on the node named nodeName, with hash as its
// controller-revision-hash (the current ControllerRevision's hash; "" adds
// no such label). It is the template KCM passes to CreatePods, with the
// metadata CreatePods gives the pod:
//
//   - metadata.generateName "<ds name>-" (the bare name when that is not a
//     valid name prefix); metadata.namespace the DaemonSet's;
//   - metadata.labels: a copy of the template's, plus
//     pod-template-generation from the deprecated
//     deprecated.daemonset.template.generation annotation (when it parses)
//     and controller-revision-hash;
//   - metadata.annotations and metadata.finalizers: copies of the
//     template's (a non-nil empty map and slice when it has none, as KCM);
//   - metadata.ownerReferences: the controller reference to the DaemonSet
//     (apps/v1 DaemonSet, controller and blockOwnerDeletion true);
//   - spec: a deep copy of the template's, with
//     (1) the daemon tolerations: not-ready and unreachable NoExecute,
//     disk-, memory-, pid-pressure and unschedulable NoSchedule, and
//     network-unavailable NoSchedule with hostNetwork, all with operator
//     Exists and no tolerationSeconds; a template toleration with the same
//     key, operator, value and effect is replaced in place, other defaults
//     are appended;
//     (2) the required node affinity's terms replaced by the single term
//     matchFields metadata.name In [nodeName], created if absent; preferred
//     node affinity, pod (anti-)affinity and spec.nodeName are kept.
//
// Other template metadata (name, namespace, owner references, ...) is not
// copied. The pod shares nothing with the DaemonSet or other calls.
func (e *Evaluator) NewPod(nodeName, hash string) *corev1.Pod {
	tmpl := e.template.DeepCopy()
	podLabels := make(map[string]string, len(tmpl.Labels)+2)
	maps.Copy(podLabels, tmpl.Labels)
	if e.generation != nil {
		podLabels[templateGenerationLabel] = strconv.FormatInt(*e.generation, 10)
	}
	if hash != "" {
		podLabels[appsv1.DefaultDaemonSetUniqueLabelKey] = hash
	}
	annotations := make(map[string]string, len(tmpl.Annotations))
	maps.Copy(annotations, tmpl.Annotations)
	finalizers := make([]string, len(tmpl.Finalizers))
	copy(finalizers, tmpl.Finalizers)

	spec := tmpl.Spec
	spec.Tolerations = make([]corev1.Toleration, len(e.tolerations))
	for i := range e.tolerations {
		e.tolerations[i].DeepCopyInto(&spec.Tolerations[i])
	}
	spec.Affinity = pinToNode(spec.Affinity, nodeName)

	return &corev1.Pod{
		ObjectMeta: metav1.ObjectMeta{
			GenerateName:    e.generateName,
			Namespace:       e.namespace,
			Labels:          podLabels,
			Annotations:     annotations,
			Finalizers:      finalizers,
			OwnerReferences: []metav1.OwnerReference{*e.controller.DeepCopy()},
		},
		Spec: spec,
	}
}

// pinToNode makes the required node affinity of a (the caller's own copy)
// select exactly the node named nodeName, as util.ReplaceDaemonSetPodNodeNameNodeAffinity:
// the scheduler then binds the pod there. Everything else in a is kept.
func pinToNode(a *corev1.Affinity, nodeName string) *corev1.Affinity {
	terms := []corev1.NodeSelectorTerm{{
		MatchFields: []corev1.NodeSelectorRequirement{{
			Key:      metav1.ObjectNameField,
			Operator: corev1.NodeSelectorOpIn,
			Values:   []string{nodeName},
		}},
	}}
	if a == nil {
		a = &corev1.Affinity{}
	}
	if a.NodeAffinity == nil {
		a.NodeAffinity = &corev1.NodeAffinity{}
	}
	if a.NodeAffinity.RequiredDuringSchedulingIgnoredDuringExecution == nil {
		a.NodeAffinity.RequiredDuringSchedulingIgnoredDuringExecution = &corev1.NodeSelector{}
	}
	a.NodeAffinity.RequiredDuringSchedulingIgnoredDuringExecution.NodeSelectorTerms = terms
	return a
}

// generateName returns the metadata.generateName of the DaemonSet's pods:
// "<name>-" when that is a valid pod name prefix, else the name itself (as
// controller.GetPodFromTemplate).
func generateName(dsName string) string {
	prefix := dsName + "-"
	if len(apivalidation.NameIsDNSSubdomain(prefix, true)) != 0 {
		return dsName
	}
	return prefix
}

// TargetNodeName returns the name of the node a daemon pod runs on or is
// meant for, as kube-controller-manager v1.37.2's util.GetTargetNodeName:
//
//  1. spec.nodeName, if set;
//  2. else the only value of the first matchFields requirement with key
//     metadata.name and operator In, looking through the required node
//     affinity's terms in order (KCM pins unscheduled daemon pods this way;
//     see [Evaluator.NewPod]).
//
// It returns an error when the pod has no required node affinity, it has no
// terms, the first such requirement has other than one value, or there is
// none; and for a nil pod.
func TargetNodeName(pod *corev1.Pod) (string, error) {
	name, failure := target.NodeName(pod)
	switch failure {
	case target.OK:
		return name, nil
	case target.NilPod:
		return "", fmt.Errorf("nil pod")
	case target.NoAffinity:
		return "", fmt.Errorf("no spec.affinity.nodeAffinity.requiredDuringSchedulingIgnoredDuringExecution for pod %s/%s", pod.Namespace, pod.Name)
	case target.NoTerms:
		return "", fmt.Errorf("no nodeSelectorTerms in requiredDuringSchedulingIgnoredDuringExecution of pod %s/%s", pod.Namespace, pod.Name)
	case target.NotUnique:
		return "", fmt.Errorf("the matchFields value of '%s' is not unique for pod %s/%s", metav1.ObjectNameField, pod.Namespace, pod.Name)
	}
	return "", fmt.Errorf("no node name found for pod %s/%s", pod.Namespace, pod.Name)
}

// TemplateGeneration returns the DaemonSet's template generation from the
// deprecated annotation deprecated.daemonset.template.generation, as
// kube-controller-manager v1.37.2's util.GetTemplateGeneration: nil without
// the annotation (or for a nil ds), the parsed value otherwise. An annotation
// that is not a base-10 int64 gives nil and an error wrapping the
// *strconv.NumError; kube-controller-manager then proceeds as without the
// annotation. (The annotation itself is deprecated: it predates
// ControllerRevision hashes and is still honoured for compatibility.)
func TemplateGeneration(ds *appsv1.DaemonSet) (*int64, error) {
	g, ok, err := templateGeneration(ds)
	if !ok {
		return nil, err
	}
	return &g, nil
}

// templateGeneration parses the deprecated annotation: ok is false without
// it (or for a nil ds), or when it does not parse, with the error. Unlike
// TemplateGeneration it returns the value, not a pointer, so that callers
// that only read it do not allocate.
func templateGeneration(ds *appsv1.DaemonSet) (g int64, ok bool, err error) {
	if ds == nil {
		return 0, false, nil
	}
	s, ok := ds.Annotations[appsv1.DeprecatedTemplateGeneration]
	if !ok {
		return 0, false, nil
	}
	g, err = strconv.ParseInt(s, 10, 64)
	if err != nil {
		return 0, false, fmt.Errorf("annotation %s: %w", appsv1.DeprecatedTemplateGeneration, err)
	}
	return g, true, nil
}

// IsPodUpdated reports whether pod belongs to the DaemonSet's current
// template, as kube-controller-manager v1.37.2's util.IsPodUpdated: its
// controller-revision-hash label equals a non-empty hash, or generation is
// not nil and its pod-template-generation label equals it in base 10. A nil
// pod is not updated.
func IsPodUpdated(pod *corev1.Pod, hash string, generation *int64) bool {
	if pod == nil {
		return false
	}
	if hash != "" && pod.Labels[appsv1.DefaultDaemonSetUniqueLabelKey] == hash {
		return true
	}
	return generation != nil && pod.Labels[templateGenerationLabel] == strconv.FormatInt(*generation, 10)
}

// IsControlledBy reports whether pod's controller reference (the owner
// reference with controller true) names ds by UID, the test
// kube-controller-manager's pod claiming uses. Note that an empty UID equals
// an empty UID, as upstream. False if either is nil.
func IsControlledBy(pod *corev1.Pod, ds *appsv1.DaemonSet) bool {
	if pod == nil || ds == nil {
		return false
	}
	return metav1.IsControlledBy(pod, ds)
}

// templateGenerationLabel is the pod label that carries the deprecated
// template generation (extensions/v1beta1 DaemonSetTemplateGenerationKey).
const templateGenerationLabel = "pod-template-generation"
