package snapshot

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"maps"
	"slices"
	"strings"

	appsv1 "k8s.io/api/apps/v1"
	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
)

// CompactRevisionData returns revs with the data of each ControllerRevision
// as compact JSON, the form the API server stores and
// kube-controller-manager compares byte for byte with the DaemonSet's
// template when it looks for the current revision. `kubectl get -o json`
// prints that data re-indented; left so, a healthy DaemonSet's revision no
// longer matches and the plan reports a hash collision. The oracle
// compacts it the same way (json.Compact of data.raw on read).
//
// A revision whose data is already compact, empty or not JSON is returned
// as it is; the others are shallow copies with new data. revs is not
// modified; nil entries stay nil.
func CompactRevisionData(revs []*appsv1.ControllerRevision) []*appsv1.ControllerRevision {
	if revs == nil {
		return nil
	}
	out := make([]*appsv1.ControllerRevision, len(revs))
	for i, r := range revs {
		out[i] = r
		if r == nil || len(r.Data.Raw) == 0 {
			continue
		}
		var buf bytes.Buffer
		if json.Compact(&buf, r.Data.Raw) != nil || bytes.Equal(buf.Bytes(), r.Data.Raw) {
			continue
		}
		c := *r
		c.Data.Raw = buf.Bytes()
		c.Data.Object = nil
		out[i] = &c
	}
	return out
}

// CheckNames reports the objects of objs a cluster could not hold: an
// object without metadata.name, and an object listed more than once (the
// same kind, namespace and name; nodes have no namespace). A dump with
// either is not a snapshot of one cluster (two dumps concatenated, an
// object edited by hand), and planning it would act on the wrong object: a
// pod listed twice counts as two pods on its node, one of them excess.
//
// Each problem is one error naming the object: `Pod "ns/name" is listed 2
// times`, or for a nameless object its kind, position among the objects
// of its kind (from 1) and what identifies it (generateName, node), e.g.
// `Pod #3 (generateName "fluentd-", node "node-a") has no metadata.name`.
// The errors come joined (errors.Join), in the order DaemonSets, Nodes,
// Pods, ControllerRevisions, RuntimeClasses; nil when there is none.
func CheckNames(objs Objects) error {
	var errs []error
	dss := objs.DaemonSets
	if objs.DaemonSet != nil {
		dss = append([]*appsv1.DaemonSet{objs.DaemonSet}, dss...)
	}
	errs = checkKind(errs, "DaemonSet", dss, true)
	errs = checkKind(errs, "Node", objs.Nodes, false)
	errs = checkKind(errs, "Pod", objs.Pods, true)
	errs = checkKind(errs, "ControllerRevision", objs.Revisions, true)
	errs = checkKind(errs, "RuntimeClass", objs.RuntimeClasses, false)
	return errors.Join(errs...)
}

// named is what CheckNames reads of an object.
type named interface {
	comparable
	metav1.Object
}

// checkKind appends to errs the nameless and repeated objects of one kind;
// namespaced kinds are keyed by namespace/name.
func checkKind[T named](errs []error, kind string, objs []T, namespaced bool) []error {
	var zero T
	count := map[string]int{}
	var order []string
	for i, o := range objs {
		if o == zero {
			continue
		}
		if o.GetName() == "" {
			errs = append(errs, fmt.Errorf("%s #%d%s has no metadata.name", kind, i+1, identify(o)))
			continue
		}
		key := o.GetName()
		if namespaced {
			key = o.GetNamespace() + "/" + key
		}
		if count[key] == 0 {
			order = append(order, key)
		}
		count[key]++
	}
	for _, key := range order {
		if n := count[key]; n > 1 {
			errs = append(errs, fmt.Errorf("%s %q is listed %d times", kind, key, n))
		}
	}
	return errs
}

// identify describes a nameless object by what it has: namespace,
// generateName, the node a pod targets, labels.
func identify(o metav1.Object) string {
	var parts []string
	if ns := o.GetNamespace(); ns != "" {
		parts = append(parts, fmt.Sprintf("namespace %q", ns))
	}
	if g := o.GetGenerateName(); g != "" {
		parts = append(parts, fmt.Sprintf("generateName %q", g))
	}
	if p, ok := o.(*corev1.Pod); ok && p.Spec.NodeName != "" {
		parts = append(parts, fmt.Sprintf("node %q", p.Spec.NodeName))
	}
	if l := o.GetLabels(); len(parts) == 0 && len(l) > 0 {
		k := slices.Sorted(maps.Keys(l))[0]
		parts = append(parts, fmt.Sprintf("label %s=%s", k, l[k]))
	}
	if len(parts) == 0 {
		return ""
	}
	return " (" + strings.Join(parts, ", ") + ")"
}
