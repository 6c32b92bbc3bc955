package rollout

import (
	"cmp"
	"fmt"
	"strconv"
	"strings"

	appsv1 "k8s.io/api/apps/v1"
	corev1 "k8s.io/api/core/v1"
	"k8s.io/apimachinery/pkg/labels"
	"k8s.io/apimachinery/pkg/util/intstr"
	"k8s.io/apimachinery/pkg/util/validation"
	"k8s.io/apimachinery/pkg/util/validation/field"
)

// Options are the rollout controls kube-controller-manager never shipped.
// The zero Options is kube-controller-manager's rolling update, decision
// for decision; each control's zero value leaves that part of it alone.
// See the package documentation for how the controls combine.
type Options struct {
	// Partition keeps this many desired nodes on an old revision: the
	// rolling update never brings the number of desired nodes whose pod is
	// old below it. An int, or a percentage of the desired nodes rounded
	// down (10% of 95 keeps 9). nil or 0: no partition. The nodes kept are
	// the last in update order (see Order).
	Partition *intstr.IntOrString
	// Paused: no replacement starts. The rolling update deletes no old pod
	// to replace it and creates no surge pod; it still completes a surge
	// (deletes an old pod once the new pod on its node is available) and
	// deletes the pods of nodes the DaemonSet no longer schedules to, and
	// the manage pass (package plan) goes on: pods on nodes without one are
	// created, failed and misplaced pods deleted. A pod created while
	// paused is of the current revision, the only template the DaemonSet
	// holds (kube-controller-manager never creates from an older
	// ControllerRevision).
	Paused bool
	// Selector, when not nil, limits the update to the nodes whose labels
	// it matches (a canary pool, one zone); the others keep their old pods
	// (and count toward Partition).
	Selector labels.Selector
	// Order is the order nodes are updated in; the zero Order is node-name
	// order, upstream's picks made deterministic.
	Order Order
	// Held names nodes where a replacement may not start because another
	// DaemonSet of a group is unavailable there or is being replaced on it
	// (the budget across DaemonSets on one node; plan.Cluster.PlanGroup
	// fills it). It holds back only replacements that make this DaemonSet
	// unavailable on the node: deleting an available old pod (maxSurge 0).
	// Surge creates and replacing an unavailable pod do not lower
	// availability and go on.
	Held map[string]bool
	// Explain fills Plan.Waiting: every node whose old pod the update
	// leaves alone in this sync, and why. Off, it costs nothing.
	Explain bool
}

// Order is the order the rolling update takes nodes in. Among the nodes it
// may update, the first in this order go first: a node is never updated
// while one before it waits, unless a budget explains it (an unavailable
// old pod, which costs no budget, is replaced wherever it is in the
// order). The order is total:
//
//  1. with TopologyKey, zone by zone: the zones (values of that label, in
//     name order; nodes without it form the last zone) are updated one
//     after the other, each finished (every desired node of it running an
//     available pod of the current revision) before the next starts;
//  2. the nodes of Nodes, in that order;
//  3. then by weight, highest first: a node's weight is the sum of the
//     Weights whose label it has;
//  4. then by node name.
type Order struct {
	// Nodes go first, in this order.
	Nodes []string
	// Weights rank the other nodes by their labels.
	Weights []Weight
	// TopologyKey, when set, updates zone by zone along this node label.
	TopologyKey string
	// ZoneBudget, with TopologyKey, limits the nodes of the zone being
	// updated that are in flight at once — unavailable with maxSurge 0,
	// surging with maxSurge — an int, or a percentage of the zone's desired
	// nodes rounded up; nil: only the DaemonSet's maxUnavailable or
	// maxSurge.
	ZoneBudget *intstr.IntOrString
}

// Weight is one term of a node's weight in [Order].
type Weight struct {
	// Key and Value: a node has the label when it has Key with this Value,
	// or with any value when Value is "".
	Key, Value string
	Weight     int
}

// IsZero reports whether o is node-name order.
func (o *Order) IsZero() bool {
	return len(o.Nodes) == 0 && len(o.Weights) == 0 && o.TopologyKey == "" && o.ZoneBudget == nil
}

// active reports whether any control that changes upstream's decisions is
// set.
func (o *Options) active() bool {
	return o.Partition != nil || o.Paused || o.Selector != nil || !o.Order.IsZero() || len(o.Held) > 0
}

// AnnotationPrefix is the prefix of the annotations that carry rollout
// controls on a stock apps/v1 DaemonSet (see [ParseAnnotations]).
const AnnotationPrefix = "rollout.dsplan.io/"

// The annotations [ParseAnnotations] reads.
const (
	// AnnotationPartition: Options.Partition, "3" or "10%".
	AnnotationPartition = AnnotationPrefix + "partition"
	// AnnotationPaused: Options.Paused, "true" or "false".
	AnnotationPaused = AnnotationPrefix + "paused"
	// AnnotationSelector: Options.Selector, a label selector in kubectl's
	// syntax, e.g. "topology.kubernetes.io/zone=a,tier!=gpu".
	AnnotationSelector = AnnotationPrefix + "selector"
	// AnnotationOrderNodes: Order.Nodes, comma-separated node names.
	AnnotationOrderNodes = AnnotationPrefix + "order-nodes"
	// AnnotationOrderWeights: Order.Weights, comma-separated KEY=VALUE:W or
	// KEY:W, e.g. "node-role/canary:100,tier=batch:10".
	AnnotationOrderWeights = AnnotationPrefix + "order-weights"
	// AnnotationZoneKey: Order.TopologyKey.
	AnnotationZoneKey = AnnotationPrefix + "zone-key"
	// AnnotationZoneBudget: Order.ZoneBudget, "1" or "25%".
	AnnotationZoneBudget = AnnotationPrefix + "zone-budget"
	// AnnotationGroup names the group of DaemonSets that share a budget of
	// one unavailable DaemonSet per node (plan.Cluster.PlanGroup).
	AnnotationGroup = AnnotationPrefix + "group"
)

var annotationsPath = field.NewPath("metadata", "annotations")

// ParseAnnotations reads the rollout controls from ds's annotations (keys
// with [AnnotationPrefix]). It never panics; every bad value is in the
// error list, at its annotation's path, and left at its zero value in the
// Options. Unknown keys with the prefix are errors too (a misspelt control
// should not pass silently). A nil ds gives the zero Options.
func ParseAnnotations(ds *appsv1.DaemonSet) (Options, field.ErrorList) {
	var o Options
	var errs field.ErrorList
	if ds == nil {
		return o, nil
	}
	for k, v := range ds.Annotations {
		if !strings.HasPrefix(k, AnnotationPrefix) {
			continue
		}
		p := annotationsPath.Key(k)
		switch k {
		case AnnotationPartition:
			x, err := parseIntOrPercent(v, p)
			errs = append(errs, err...)
			if err == nil {
				o.Partition = &x
			}
		case AnnotationPaused:
			b, err := strconv.ParseBool(v)
			if err != nil {
				errs = append(errs, field.Invalid(p, v, "must be true or false"))
			}
			o.Paused = b
		case AnnotationSelector:
			sel, err := labels.Parse(v)
			if err != nil {
				errs = append(errs, field.Invalid(p, v, err.Error()))
				continue
			}
			o.Selector = sel
		case AnnotationOrderNodes:
			for i, name := range strings.Split(v, ",") {
				name = strings.TrimSpace(name)
				if msgs := validation.IsDNS1123Subdomain(name); len(msgs) > 0 {
					errs = append(errs, field.Invalid(p, v, fmt.Sprintf("entry %d %q: %s", i, name, strings.Join(msgs, "; "))))
					continue
				}
				o.Order.Nodes = append(o.Order.Nodes, name)
			}
		case AnnotationOrderWeights:
			for i, term := range strings.Split(v, ",") {
				w, err := parseWeight(strings.TrimSpace(term))
				if err != nil {
					errs = append(errs, field.Invalid(p, v, fmt.Sprintf("entry %d %q: %v", i, term, err)))
					continue
				}
				o.Order.Weights = append(o.Order.Weights, w)
			}
		case AnnotationZoneKey:
			if msgs := validation.IsQualifiedName(v); len(msgs) > 0 {
				errs = append(errs, field.Invalid(p, v, strings.Join(msgs, "; ")))
				continue
			}
			o.Order.TopologyKey = v
		case AnnotationZoneBudget:
			x, err := parseIntOrPercent(v, p)
			errs = append(errs, err...)
			if err == nil {
				o.Order.ZoneBudget = &x
			}
		case AnnotationGroup:
			if msgs := validation.IsDNS1123Label(v); len(msgs) > 0 {
				errs = append(errs, field.Invalid(p, v, strings.Join(msgs, "; ")))
			}
		default:
			errs = append(errs, field.NotSupported(p, k, []string{AnnotationGroup, AnnotationOrderNodes, AnnotationOrderWeights,
				AnnotationPartition, AnnotationPaused, AnnotationSelector, AnnotationZoneBudget, AnnotationZoneKey}))
		}
	}
	// Map order must not show in the result.
	errs = sortErrors(errs)
	return o, errs
}

// parseIntOrPercent reads "3" or "10%": a non-negative int, or a
// percentage from 0 to 100.
func parseIntOrPercent(v string, p *field.Path) (intstr.IntOrString, field.ErrorList) {
	if num, ok := strings.CutSuffix(v, "%"); ok {
		n, err := strconv.Atoi(num)
		if err != nil || n < 0 || n > 100 {
			return intstr.IntOrString{}, field.ErrorList{field.Invalid(p, v, "must be an integer from 0% to 100%")}
		}
		return intstr.FromString(v), nil
	}
	n, err := strconv.Atoi(v)
	if err != nil || n < 0 || n > 1<<31-1 {
		return intstr.IntOrString{}, field.ErrorList{field.Invalid(p, v, "must be a non-negative integer or a percentage")}
	}
	return intstr.FromInt32(int32(n)), nil
}

// parseWeight reads KEY=VALUE:W or KEY:W.
func parseWeight(term string) (Weight, error) {
	i := strings.LastIndex(term, ":")
	if i < 0 {
		return Weight{}, fmt.Errorf("want KEY=VALUE:WEIGHT or KEY:WEIGHT")
	}
	label, weight := term[:i], term[i+1:]
	w, err := strconv.Atoi(weight)
	if err != nil {
		return Weight{}, fmt.Errorf("weight %q is not an integer", weight)
	}
	key, value, _ := strings.Cut(label, "=")
	if msgs := validation.IsQualifiedName(key); len(msgs) > 0 {
		return Weight{}, fmt.Errorf("label key %q: %s", key, strings.Join(msgs, "; "))
	}
	if msgs := validation.IsValidLabelValue(value); len(msgs) > 0 {
		return Weight{}, fmt.Errorf("label value %q: %s", value, strings.Join(msgs, "; "))
	}
	return Weight{Key: key, Value: value, Weight: w}, nil
}

func sortErrors(errs field.ErrorList) field.ErrorList {
	if len(errs) < 2 {
		return errs
	}
	out := append(field.ErrorList(nil), errs...)
	// Insertion sort by field then message: a handful of entries.
	for i := 1; i < len(out); i++ {
		for j := i; j > 0 && cmp.Or(strings.Compare(out[j].Field, out[j-1].Field), strings.Compare(out[j].Error(), out[j-1].Error())) < 0; j-- {
			out[j], out[j-1] = out[j-1], out[j]
		}
	}
	return out
}

// orderKey is a node's place in the update order; compareOrder orders it.
type orderKey struct {
	zone     string
	noZone   bool
	explicit int // index in Order.Nodes, or len(Order.Nodes)
	weight   int
	name     string
}

func (o *Order) key(node *corev1.Node, name string, explicit map[string]int) orderKey {
	k := orderKey{name: name, explicit: len(o.Nodes)}
	if i, ok := explicit[name]; ok {
		k.explicit = i
	}
	var nodeLabels map[string]string
	if node != nil {
		nodeLabels = node.Labels
	}
	if o.TopologyKey != "" {
		k.zone, k.noZone = nodeLabels[o.TopologyKey], true
		if _, has := nodeLabels[o.TopologyKey]; has {
			k.noZone = false
		}
	}
	for _, w := range o.Weights {
		if v, ok := nodeLabels[w.Key]; ok && (w.Value == "" || v == w.Value) {
			k.weight += w.Weight
		}
	}
	return k
}

func compareOrder(a, b orderKey) int {
	if a.noZone != b.noZone {
		if a.noZone {
			return 1
		}
		return -1
	}
	return cmp.Or(strings.Compare(a.zone, b.zone), cmp.Compare(a.explicit, b.explicit), cmp.Compare(b.weight, a.weight), strings.Compare(a.name, b.name))
}

// sameZone reports whether a and b are in one zone.
func sameZone(a, b orderKey) bool { return a.noZone == b.noZone && a.zone == b.zone }
