package apidefault

import (
	"maps"
	"strings"

	corev1 "k8s.io/api/core/v1"
	resourcehelper "k8s.io/component-helpers/resource"
)

// CreatedPod returns a deep copy of pod with what the API server of
// k8s.io/kubernetes v1.37.2 (default feature gates) changes in a Pod it
// creates and not in a pod template, as far as the pod's requests
// (component-helpers' PodRequests) and host ports are concerned. A pod
// kube-controller-manager builds from a stored DaemonSet template gets, in
// this order:
//
//  1. core/v1 SetDefaults_Pod: for every container and init container with
//     limits, each limit without a request becomes the request too (a
//     template with limits only requests them); with hostNetwork, every
//     container and init container port without hostPort gets hostPort =
//     containerPort; a negative terminationGracePeriodSeconds becomes 1;
//     enableServiceLinks true.
//  2. The pod strategy's PrepareForCreate, DefaultPodLevelResources
//     (PodLevelResources and PodLevelResourcesFixDefaulting are on), only
//     when spec.resources has requests or limits: pod-level hugepage limits
//     default to the aggregated container limits (when the pod has neither
//     a request nor a limit for that size); then pod-level cpu and memory
//     requests default to the aggregated container requests
//     (component-helpers' AggregateContainerRequests), and any cpu, memory
//     or hugepage limit without a request becomes the request.
//
// Not applied: the pod-level limit defaulting of PrepareForCreate (it
// changes no request), the gated probe protocol default, and what
// admission plugins and webhooks do (RuntimeClass overhead, LimitRange
// defaults, injected containers). nil gives nil; pod is not modified.
func CreatedPod(pod *corev1.Pod) *corev1.Pod {
	if pod == nil {
		return nil
	}
	out := pod.DeepCopy()
	spec := &out.Spec
	if g := spec.TerminationGracePeriodSeconds; g != nil && *g < 0 {
		one := int64(1)
		spec.TerminationGracePeriodSeconds = &one
	}
	requestsFromLimits(spec.Containers)
	requestsFromLimits(spec.InitContainers)
	if spec.EnableServiceLinks == nil {
		links := corev1.DefaultEnableServiceLinks
		spec.EnableServiceLinks = &links
	}
	if spec.HostNetwork {
		hostNetworkPorts(spec.Containers)
		hostNetworkPorts(spec.InitContainers)
	}
	podLevelResources(out)
	return out
}

// requestsFromLimits is SetDefaults_Pod's "requests default to limits".
func requestsFromLimits(containers []corev1.Container) {
	for i := range containers {
		r := &containers[i].Resources
		if r.Limits == nil {
			continue
		}
		if r.Requests == nil {
			r.Requests = corev1.ResourceList{}
		}
		for name, limit := range r.Limits {
			if _, ok := r.Requests[name]; !ok {
				r.Requests[name] = limit.DeepCopy()
			}
		}
	}
}

// hostNetworkPorts is SetDefaults_Pod's defaultHostNetworkPorts.
func hostNetworkPorts(containers []corev1.Container) {
	for i := range containers {
		for j := range containers[i].Ports {
			p := &containers[i].Ports[j]
			if p.HostPort == 0 {
				p.HostPort = p.ContainerPort
			}
		}
	}
}

// podLevelResources is the request part of k8s.io/kubernetes
// pkg/api/pod.DefaultPodLevelResources: defaultHugePagePodLevelLimits and
// defaultPodLevelRequests.
func podLevelResources(pod *corev1.Pod) {
	r := pod.Spec.Resources
	if r == nil || len(r.Requests) == 0 && len(r.Limits) == 0 {
		return
	}
	// Upstream aggregates over a pod holding the containers and init
	// containers only.
	containers := &corev1.Pod{Spec: corev1.PodSpec{Containers: pod.Spec.Containers, InitContainers: pod.Spec.InitContainers}}

	limits := maps.Clone(r.Limits)
	if limits == nil {
		limits = corev1.ResourceList{}
	}
	for name, q := range resourcehelper.AggregateContainerLimits(containers, resourcehelper.PodResourcesOptions{}) {
		if !resourcehelper.IsSupportedPodLevelResource(name) || !isHugePages(name) {
			continue
		}
		if _, ok := r.Requests[name]; ok {
			continue
		}
		if _, ok := limits[name]; !ok {
			limits[name] = q
		}
	}
	if len(limits) > 0 {
		r.Limits = limits
	}

	requests := maps.Clone(r.Requests)
	if requests == nil {
		requests = corev1.ResourceList{}
	}
	for name, q := range resourcehelper.AggregateContainerRequests(containers, resourcehelper.PodResourcesOptions{}) {
		if _, ok := requests[name]; !ok && resourcehelper.IsSupportedPodLevelResource(name) && overcommitAllowed(name) {
			requests[name] = q
		}
	}
	for name, q := range r.Limits {
		if _, ok := requests[name]; !ok && resourcehelper.IsSupportedPodLevelResource(name) {
			requests[name] = q.DeepCopy()
		}
	}
	if len(requests) > 0 {
		r.Requests = requests
	}
}

// isHugePages is core helper.IsHugePageResourceName.
func isHugePages(name corev1.ResourceName) bool {
	return strings.HasPrefix(string(name), corev1.ResourceHugePagesPrefix)
}

// overcommitAllowed is core helper.IsOvercommitAllowed: a native resource
// (no domain, or the kubernetes.io domain) that is not hugepages.
func overcommitAllowed(name corev1.ResourceName) bool {
	native := !strings.Contains(string(name), "/") || strings.Contains(string(name), corev1.ResourceDefaultNamespacePrefix)
	return native && !isHugePages(name)
}
