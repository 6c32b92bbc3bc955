package forecast

import (
	"fmt"
	"maps"
	"slices"
	"strings"

	corev1 "k8s.io/api/core/v1"
	"k8s.io/apimachinery/pkg/util/intstr"
	"k8s.io/apimachinery/pkg/util/validation/field"
	resourcehelper "k8s.io/component-helpers/resource"

	"github.com/dsplan/dsplan/placement"
	"github.com/dsplan/dsplan/plan"
	"github.com/dsplan/dsplan/rollout"
)

// Lint warns about s's DaemonSet before a change is applied: settings that
// stall a rollout or land pods where the user probably did not mean them,
// judged on the snapshot's nodes. Each warning is a field.Error at the
// path of the setting (the list is a field.ErrorList so that tools print
// it as they print validation errors; these are warnings, the API server
// accepts every one of them), sorted by path. The checks:
//
//  1. a host port with maxSurge > 0: the surge pod cannot be scheduled next
//     to the old one, which takes the port, so the rollout stalls
//     (kubernetes #106417);
//  2. maxUnavailable and maxSurge both 0: kube-controller-manager silently
//     uses maxUnavailable 1;
//  3. a partition (opts.Rollout, or the DaemonSet's annotations with
//     opts.Annotations) at or above the desired nodes: no node updates;
//  4. a nodeSelector or required node affinity that matches no node;
//  5. requests larger than an eligible node's allocatable: the pod never
//     schedules there;
//  6. with surge, requests that fit once but not twice in an eligible
//     node's allocatable: the surge pod never schedules next to the old
//     one;
//  7. a toleration with operator Exists and no key: it tolerates every
//     taint, so pods land on (and stay on) nodes being drained, under
//     NoExecute taints, on the control plane.
func Lint(s plan.Snapshot, opts plan.Options) field.ErrorList {
	ds := s.DaemonSet
	if ds == nil {
		return nil
	}
	var errs field.ErrorList
	spec := &ds.Spec.Template.Spec
	specPath := field.NewPath("spec", "template", "spec")
	surge, _ := rollout.SurgeCount(ds, 100)

	// 1. Host ports with surge.
	if surge > 0 {
		for i, c := range spec.Containers {
			for j, p := range c.Ports {
				if p.HostPort > 0 {
					errs = append(errs, field.Invalid(specPath.Child("containers").Index(i).Child("ports").Index(j).Child("hostPort"), p.HostPort,
						"with maxSurge > 0 the surge pod cannot be scheduled next to the old pod, which takes the same host port: the rollout stalls (kubernetes #106417); use maxUnavailable instead"))
				}
			}
		}
	}

	// 2. Both budgets zero.
	eval := placement.New(ds, opts.Placement)
	desired := 0
	var eligible []*corev1.Node
	for _, n := range s.Nodes {
		if n != nil && eval.Evaluate(n).ShouldRun() {
			desired++
			eligible = append(eligible, n)
		}
	}
	if b, err := rollout.Budgets(ds, max(desired, 1)); err == nil && b.Fallback {
		errs = append(errs, field.Invalid(field.NewPath("spec", "updateStrategy", "rollingUpdate"), "0/0",
			"maxUnavailable and maxSurge are both 0: kube-controller-manager silently uses maxUnavailable 1"))
	}

	// 3. Partition.
	ro := opts.Rollout
	partitionPath := field.NewPath("rollout", "partition")
	if opts.Annotations {
		if a, _ := rollout.ParseAnnotations(ds); a.Partition != nil {
			ro.Partition = a.Partition
			partitionPath = field.NewPath("metadata", "annotations").Key(rollout.AnnotationPartition)
		}
	}
	if ro.Partition != nil && desired > 0 {
		if n, err := intstr.GetScaledValueFromIntOrPercent(ro.Partition, desired, false); err == nil && n >= desired {
			errs = append(errs, field.Invalid(partitionPath, ro.Partition.String(),
				fmt.Sprintf("the partition keeps %d of %d desired nodes on the old revision: no node will update", n, desired)))
		}
	}

	// 4. Placement matching nothing.
	if desired == 0 && len(s.Nodes) > 0 {
		p := specPath.Child("nodeSelector")
		if len(spec.NodeSelector) == 0 {
			p = specPath.Child("affinity", "nodeAffinity", "requiredDuringSchedulingIgnoredDuringExecution")
		}
		errs = append(errs, field.Invalid(p, "", fmt.Sprintf("matches none of the %d nodes: the DaemonSet runs nowhere", len(s.Nodes))))
	}

	// 5, 6. Requests against allocatable.
	pod := eval.NewPod("", "")
	requests := resourcehelper.PodRequests(pod, resourcehelper.PodResourcesOptions{})
	var tooSmall, noSurgeRoom []string
	var tooSmallWhy string
	for _, n := range eligible {
		if why := exceeds(requests, n.Status.Allocatable, 1); why != "" {
			tooSmall = append(tooSmall, n.Name)
			tooSmallWhy = why
		} else if surge > 0 && exceeds(requests, n.Status.Allocatable, 2) != "" {
			noSurgeRoom = append(noSurgeRoom, n.Name)
		}
	}
	if len(tooSmall) > 0 {
		errs = append(errs, field.Invalid(specPath.Child("containers").Index(0).Child("resources", "requests"), requestsString(requests),
			fmt.Sprintf("more than the allocatable of %s (%s): the pod never schedules there", names(tooSmall), tooSmallWhy)))
	}
	if len(noSurgeRoom) > 0 {
		errs = append(errs, field.Invalid(field.NewPath("spec", "updateStrategy", "rollingUpdate", "maxSurge"), ds.Spec.UpdateStrategy.RollingUpdate.MaxSurge.String(),
			fmt.Sprintf("%s hold one pod of these requests but not two: the surge pod never schedules next to the old one", names(noSurgeRoom))))
	}

	// 7. Tolerating everything.
	for i, t := range spec.Tolerations {
		if t.Key == "" && t.Operator == corev1.TolerationOpExists {
			effect := "every taint"
			if t.Effect != "" {
				effect = "every " + string(t.Effect) + " taint"
			}
			errs = append(errs, field.Invalid(specPath.Child("tolerations").Index(i), "operator Exists, no key",
				"tolerates "+effect+": pods land on nodes being drained, under NoExecute taints and on the control plane"))
		}
	}
	slices.SortStableFunc(errs, func(a, b *field.Error) int { return strings.Compare(a.Field, b.Field) })
	return errs
}

// exceeds says which resource of n times requests allocatable cannot
// hold, or "" when it holds all.
func exceeds(requests, allocatable corev1.ResourceList, n int64) string {
	if allocatable == nil {
		return ""
	}
	for _, name := range slices.Sorted(maps.Keys(requests)) {
		want := requests[name].DeepCopy()
		want.Mul(n)
		have, ok := allocatable[name]
		if ok && want.Cmp(have) > 0 {
			return fmt.Sprintf("%s %s > %s", name, want.String(), have.String())
		}
	}
	return ""
}

func requestsString(r corev1.ResourceList) string {
	var parts []string
	for _, name := range slices.Sorted(maps.Keys(r)) {
		q := r[name]
		parts = append(parts, string(name)+"="+q.String())
	}
	return strings.Join(parts, ",")
}

// names lists up to three names and how many more.
func names(ns []string) string {
	if len(ns) <= 3 {
		return "node " + strings.Join(ns, ", ")
	}
	return fmt.Sprintf("nodes %s and %d more", strings.Join(ns[:3], ", "), len(ns)-3)
}
