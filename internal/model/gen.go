package model

import (
	"fmt"
	"maps"
	"slices"
	"strings"

	appsv1 "k8s.io/api/apps/v1"
	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/util/intstr"
	"pgregory.net/rapid"

	"github.com/dsplan/dsplan/internal/dstest"
)

// NodeNames is the pool node names are drawn from: small, so nodes are
// removed and added back under the same name.
var NodeNames = []string{"cp-0", "node-1", "node-2", "node-3", "node-4", "node-5", "gpu-6", "gpu-7"}

// LabelVocabulary maps the well-known and common node label keys the
// generators use to their values.
var LabelVocabulary = map[string][]string{
	corev1.LabelOSStable:                    {"linux", "linux", "windows"},
	corev1.LabelArchStable:                  {"amd64", "arm64"},
	"node-role.kubernetes.io/control-plane": {""},
	corev1.LabelTopologyZone:                {"europe-west1-b", "europe-west1-c", "europe-west1-d"},
	corev1.LabelInstanceTypeStable:          {"n2-standard-4", "a2-highgpu-1g"},
	"cloud.google.com/gke-nodepool":         {"system", "workers", "gpu"},
	"nvidia.com/gpu.present":                {"true"},
}

// labelKeys is LabelVocabulary's keys, sorted.
var labelKeys = slices.Sorted(maps.Keys(LabelVocabulary))

// TaintVocabulary are node taints as "key[=value]:Effect": cluster roles,
// the node lifecycle controller's and cloud provider's taints (several of
// which daemon pods tolerate by default), dedicated pools, and a taint
// that only affects scheduling preferences.
var TaintVocabulary = []string{
	"node-role.kubernetes.io/control-plane:NoSchedule",
	"node.kubernetes.io/unschedulable:NoSchedule",
	"node.kubernetes.io/not-ready:NoExecute",
	"node.kubernetes.io/disk-pressure:NoSchedule",
	"node.cloudprovider.kubernetes.io/uninitialized=true:NoSchedule",
	"nvidia.com/gpu=present:NoSchedule",
	"dedicated=logging:NoSchedule",
	"dedicated=logging:NoExecute",
	"example.com/maintenance:NoExecute",
	"example.com/spot=true:PreferNoSchedule",
	"example.com/priority=5:NoSchedule",
}

// NodeSelectorVocabulary are template node selectors as "key=value" lists.
var NodeSelectorVocabulary = [][]string{
	nil,
	{"kubernetes.io/os=linux"},
	{"cloud.google.com/gke-nodepool=workers"},
	{"nvidia.com/gpu.present=true"},
	{"kubernetes.io/os=linux", "kubernetes.io/arch=amd64"},
}

// RequirementVocabulary are required node affinity requirements as
// "key Op values" ("metadata.name ..." is a matchFields requirement).
var RequirementVocabulary = []string{
	"kubernetes.io/arch In amd64",
	"kubernetes.io/arch In amd64,arm64",
	"node-role.kubernetes.io/control-plane DoesNotExist",
	"topology.kubernetes.io/zone NotIn europe-west1-d",
	"cloud.google.com/gke-nodepool In gpu",
	"nvidia.com/gpu.present Exists",
	"metadata.name In node-1",
	"metadata.name NotIn cp-0",
}

// TolerationVocabulary are template tolerations as
// "key Operator [value] Effect [seconds]", "*" meaning an empty key and
// effect (tolerate everything) and "-" an empty effect.
var TolerationVocabulary = []string{
	"* Exists -",
	"node-role.kubernetes.io/control-plane Exists NoSchedule",
	"nvidia.com/gpu Exists NoSchedule",
	"dedicated Equal logging NoSchedule",
	"dedicated Equal logging NoExecute",
	"dedicated Exists -",
	"example.com/maintenance Exists NoExecute 300",
	"example.com/priority Gt 3 NoSchedule",
	"node.cloudprovider.kubernetes.io/uninitialized Equal true NoSchedule",
}

// NodeDesc describes a node: its name, labels as "key=value" and taints in
// TaintVocabulary form.
type NodeDesc struct {
	Name   string
	Labels []string
	Taints []string
}

// Node builds the node: a Ready node labelled with its hostname and Labels,
// tainted with Taints.
func (d NodeDesc) Node() *corev1.Node {
	n := dstest.Node(d.Name)
	n.Labels = LabelsOf(d.Labels)
	n.Labels[corev1.LabelHostname] = d.Name
	for _, t := range d.Taints {
		n.Spec.Taints = append(n.Spec.Taints, ParseTaint(t))
	}
	return n
}

// LabelsOf turns "key=value" strings into a label map.
func LabelsOf(kvs []string) map[string]string {
	m := map[string]string{}
	for _, kv := range kvs {
		k, v, _ := strings.Cut(kv, "=")
		m[k] = v
	}
	return m
}

// ParseTaint parses "key[=value]:Effect".
func ParseTaint(s string) corev1.Taint {
	kv, effect, _ := strings.Cut(s, ":")
	k, v, _ := strings.Cut(kv, "=")
	return corev1.Taint{Key: k, Value: v, Effect: corev1.TaintEffect(effect)}
}

// NodeName draws a node name from NodeNames.
func NodeName() *rapid.Generator[string] { return rapid.SampledFrom(NodeNames) }

// NodeLabels draws node labels, at most one value per key of
// LabelVocabulary; most nodes are Linux.
func NodeLabels() *rapid.Generator[[]string] {
	return rapid.Custom(func(t *rapid.T) []string {
		var out []string
		for _, k := range labelKeys {
			if rapid.IntRange(0, 2).Draw(t, k) == 0 {
				continue
			}
			v := rapid.SampledFrom(LabelVocabulary[k]).Draw(t, k+"=")
			out = append(out, k+"="+v)
		}
		return out
	})
}

// Taint draws a taint from TaintVocabulary.
func Taint() *rapid.Generator[string] { return rapid.SampledFrom(TaintVocabulary) }

// Node draws a node named name: labels, and no taint most of the time.
func Node(name string) *rapid.Generator[NodeDesc] {
	return rapid.Custom(func(t *rapid.T) NodeDesc {
		d := NodeDesc{Name: name, Labels: NodeLabels().Draw(t, "labels")}
		n := rapid.SampledFrom([]int{0, 0, 0, 0, 1, 2}).Draw(t, "taintCount")
		d.Taints = rapid.SliceOfNDistinct(Taint(), n, n, rapid.ID[string]).Draw(t, "taints")
		return d
	})
}

// PlacementDesc describes where the DaemonSet's pods may run: the
// template's node selector, required node affinity terms (each a list of
// requirements from RequirementVocabulary; terms are ORed) and tolerations
// from TolerationVocabulary.
type PlacementDesc struct {
	NodeSelector []string
	Affinity     [][]string
	Tolerations  []string
}

// Placement draws a placement; half are unconstrained, most others mildly
// constrained, so that most nodes are usually eligible.
func Placement() *rapid.Generator[PlacementDesc] {
	return rapid.Custom(func(t *rapid.T) PlacementDesc {
		var d PlacementDesc
		if rapid.Bool().Draw(t, "unconstrained") {
			return d
		}
		d.NodeSelector = rapid.SampledFrom(NodeSelectorVocabulary).Draw(t, "nodeSelector")
		terms := rapid.SampledFrom([]int{0, 0, 1, 2}).Draw(t, "terms")
		for i := 0; i < terms; i++ {
			d.Affinity = append(d.Affinity, rapid.SliceOfNDistinct(rapid.SampledFrom(RequirementVocabulary), 1, 2, rapid.ID[string]).Draw(t, "term"))
		}
		d.Tolerations = rapid.SliceOfNDistinct(rapid.SampledFrom(TolerationVocabulary), 0, 2, rapid.ID[string]).Draw(t, "tolerations")
		return d
	})
}

// Apply sets the template's node selector, affinity and tolerations.
func (d PlacementDesc) Apply(spec *corev1.PodSpec) {
	spec.NodeSelector = nil
	if len(d.NodeSelector) > 0 {
		spec.NodeSelector = LabelsOf(d.NodeSelector)
	}
	spec.Affinity = nil
	if len(d.Affinity) > 0 {
		ns := &corev1.NodeSelector{}
		for _, term := range d.Affinity {
			var st corev1.NodeSelectorTerm
			for _, req := range term {
				r, isField := parseRequirement(req)
				if isField {
					st.MatchFields = append(st.MatchFields, r)
				} else {
					st.MatchExpressions = append(st.MatchExpressions, r)
				}
			}
			ns.NodeSelectorTerms = append(ns.NodeSelectorTerms, st)
		}
		spec.Affinity = &corev1.Affinity{NodeAffinity: &corev1.NodeAffinity{RequiredDuringSchedulingIgnoredDuringExecution: ns}}
	}
	spec.Tolerations = nil
	for _, tol := range d.Tolerations {
		spec.Tolerations = append(spec.Tolerations, ParseToleration(tol))
	}
}

func parseRequirement(s string) (corev1.NodeSelectorRequirement, bool) {
	f := strings.Fields(s)
	r := corev1.NodeSelectorRequirement{Key: f[0], Operator: corev1.NodeSelectorOperator(f[1])}
	if len(f) > 2 {
		r.Values = strings.Split(f[2], ",")
	}
	return r, r.Key == metav1.ObjectNameField
}

// ParseToleration parses the TolerationVocabulary form.
func ParseToleration(s string) corev1.Toleration {
	f := strings.Fields(s)
	t := corev1.Toleration{Key: f[0], Operator: corev1.TolerationOperator(f[1])}
	if t.Key == "*" {
		t.Key = ""
	}
	rest := f[2:]
	if t.Operator != corev1.TolerationOpExists {
		t.Value, rest = rest[0], rest[1:]
	}
	if rest[0] != "-" {
		t.Effect = corev1.TaintEffect(rest[0])
	}
	if len(rest) > 1 {
		var secs int64
		fmt.Sscan(rest[1], &secs)
		t.TolerationSeconds = &secs
	}
	return t
}

// StrategyDesc describes an update strategy: Type "OnDelete" or
// "RollingUpdate" with maxUnavailable and maxSurge as "N" or "N%".
type StrategyDesc struct {
	Type           string
	MaxUnavailable string
	MaxSurge       string
}

// Strategy draws an update strategy. Both budgets may be zero, which the
// API server rejects but kube-controller-manager handles (maxUnavailable 1).
func Strategy() *rapid.Generator[StrategyDesc] {
	return rapid.Custom(func(t *rapid.T) StrategyDesc {
		if rapid.IntRange(0, 5).Draw(t, "onDelete") == 0 {
			return StrategyDesc{Type: string(appsv1.OnDeleteDaemonSetStrategyType)}
		}
		return StrategyDesc{
			Type:           string(appsv1.RollingUpdateDaemonSetStrategyType),
			MaxUnavailable: rapid.SampledFrom([]string{"1", "0", "2", "3", "10%", "25%", "50%", "100%"}).Draw(t, "maxUnavailable"),
			MaxSurge:       rapid.SampledFrom([]string{"0", "1", "2", "0", "10%", "50%", "100%"}).Draw(t, "maxSurge"),
		}
	})
}

// UpdateStrategy builds the strategy.
func (d StrategyDesc) UpdateStrategy() appsv1.DaemonSetUpdateStrategy {
	if d.Type != string(appsv1.RollingUpdateDaemonSetStrategyType) {
		return appsv1.DaemonSetUpdateStrategy{Type: appsv1.OnDeleteDaemonSetStrategyType}
	}
	mu, ms := intstr.Parse(d.MaxUnavailable), intstr.Parse(d.MaxSurge)
	return appsv1.DaemonSetUpdateStrategy{
		Type:          appsv1.RollingUpdateDaemonSetStrategyType,
		RollingUpdate: &appsv1.RollingUpdateDaemonSet{MaxUnavailable: &mu, MaxSurge: &ms},
	}
}

// StrategyString is the short form of a strategy, e.g.
// "RollingUpdate(maxUnavailable=1,maxSurge=0)".
func StrategyString(s appsv1.DaemonSetUpdateStrategy) string {
	if s.RollingUpdate == nil {
		return string(s.Type)
	}
	str := func(v *intstr.IntOrString) string {
		if v == nil {
			return "nil"
		}
		return v.String()
	}
	return fmt.Sprintf("%s(maxUnavailable=%s,maxSurge=%s)", s.Type, str(s.RollingUpdate.MaxUnavailable), str(s.RollingUpdate.MaxSurge))
}

// TemplateDesc describes the template's container: an image tag and a log
// level. Few combinations exist, so templates recur (rollbacks).
type TemplateDesc struct {
	Tag      string
	LogLevel string
}

// Template draws a template.
func Template() *rapid.Generator[TemplateDesc] {
	return rapid.Custom(func(t *rapid.T) TemplateDesc {
		return TemplateDesc{
			Tag:      rapid.SampledFrom([]string{"v1", "v2", "v3"}).Draw(t, "tag"),
			LogLevel: rapid.SampledFrom([]string{"info", "debug"}).Draw(t, "logLevel"),
		}
	})
}

// Apply sets the container's image and LOG_LEVEL.
func (d TemplateDesc) Apply(spec *corev1.PodSpec) {
	c := &spec.Containers[0]
	c.Image = "registry.example.com/agent:" + d.Tag
	c.Env = []corev1.EnvVar{{Name: "LOG_LEVEL", Value: d.LogLevel}}
}

// DaemonSetDesc describes the DaemonSet "agent" in namespace default.
type DaemonSetDesc struct {
	Template             TemplateDesc
	Placement            PlacementDesc
	Strategy             StrategyDesc
	MinReadySeconds      int32
	RevisionHistoryLimit int32
}

// MinReadySeconds draws spec.minReadySeconds.
func MinReadySeconds() *rapid.Generator[int32] { return rapid.SampledFrom([]int32{0, 0, 5, 30}) }

// DaemonSet draws a DaemonSet description.
func DaemonSet() *rapid.Generator[DaemonSetDesc] {
	return rapid.Custom(func(t *rapid.T) DaemonSetDesc {
		return DaemonSetDesc{
			Template:             Template().Draw(t, "template"),
			Placement:            Placement().Draw(t, "placement"),
			Strategy:             Strategy().Draw(t, "strategy"),
			MinReadySeconds:      MinReadySeconds().Draw(t, "minReadySeconds"),
			RevisionHistoryLimit: rapid.SampledFrom([]int32{10, 0, 1, 2}).Draw(t, "revisionHistoryLimit"),
		}
	})
}

// DaemonSet builds the DaemonSet as the API server stores it (defaulted,
// generation 1).
func (d DaemonSetDesc) DaemonSet() *appsv1.DaemonSet {
	ds := dstest.DaemonSet("agent")
	d.Template.Apply(&ds.Spec.Template.Spec)
	d.Placement.Apply(&ds.Spec.Template.Spec)
	ds.Spec.UpdateStrategy = d.Strategy.UpdateStrategy()
	ds.Spec.MinReadySeconds = d.MinReadySeconds
	limit := d.RevisionHistoryLimit
	ds.Spec.RevisionHistoryLimit = &limit
	return ds
}

// affinityString and tolerationsString print placements for Describe.
func affinityString(a *corev1.Affinity) string {
	if a == nil || a.NodeAffinity == nil || a.NodeAffinity.RequiredDuringSchedulingIgnoredDuringExecution == nil {
		return "none"
	}
	var terms []string
	for _, term := range a.NodeAffinity.RequiredDuringSchedulingIgnoredDuringExecution.NodeSelectorTerms {
		var reqs []string
		for _, r := range append(slices.Clone(term.MatchExpressions), term.MatchFields...) {
			reqs = append(reqs, strings.TrimSpace(fmt.Sprintf("%s %s %s", r.Key, r.Operator, strings.Join(r.Values, ","))))
		}
		terms = append(terms, strings.Join(reqs, " && "))
	}
	return "(" + strings.Join(terms, ") || (") + ")"
}

func tolerationsString(ts []corev1.Toleration) string {
	var parts []string
	for _, t := range ts {
		s := t.Key
		if s == "" {
			s = "*"
		}
		s += " " + string(t.Operator)
		if t.Value != "" {
			s += " " + t.Value
		}
		if t.Effect != "" {
			s += " " + string(t.Effect)
		}
		parts = append(parts, s)
	}
	return "[" + strings.Join(parts, "; ") + "]"
}
