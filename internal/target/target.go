// Package target holds the DaemonSet controller's rule for the node a daemon
// pod targets (util.GetTargetNodeName in kube-controller-manager v1.37.2),
// which packages placement, revision and plan all apply: placement reports
// the failures as errors, the others only need to know whether there is a
// node.
package target

import (
	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
)

// Failure says why a pod has no target node; OK when it has one.
type Failure uint8

// Failures, in the order the rule meets them.
const (
	OK             Failure = iota
	NilPod                 // the pod is nil
	NoAffinity             // no spec.affinity.nodeAffinity.requiredDuringSchedulingIgnoredDuringExecution
	NoTerms                // that node selector has no terms
	NotUnique              // the first metadata.name In requirement has other than one value
	NoNameSelector         // no term has a metadata.name In requirement
)

// NodeName returns the pod's spec.nodeName if set, else the only value of
// the first matchFields requirement with key metadata.name and operator In
// among its required node affinity's terms, in order.
func NodeName(pod *corev1.Pod) (string, Failure) {
	if pod == nil {
		return "", NilPod
	}
	if pod.Spec.NodeName != "" {
		return pod.Spec.NodeName, OK
	}
	a := pod.Spec.Affinity
	if a == nil || a.NodeAffinity == nil || a.NodeAffinity.RequiredDuringSchedulingIgnoredDuringExecution == nil {
		return "", NoAffinity
	}
	terms := a.NodeAffinity.RequiredDuringSchedulingIgnoredDuringExecution.NodeSelectorTerms
	if len(terms) == 0 {
		return "", NoTerms
	}
	for _, term := range terms {
		for _, req := range term.MatchFields {
			if req.Key != metav1.ObjectNameField || req.Operator != corev1.NodeSelectorOpIn {
				continue
			}
			if len(req.Values) != 1 {
				return "", NotUnique
			}
			return req.Values[0], OK
		}
	}
	return "", NoNameSelector
}
