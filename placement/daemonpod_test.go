package placement

import (
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"
	appsv1 "k8s.io/api/apps/v1"
	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	k8stypes "k8s.io/apimachinery/pkg/types"
)

// seedPod is the pod KCM creates for fluentd() on node n1 with hash "h1".
func seedPod() *corev1.Pod {
	ds := fluentd()
	spec := *ds.Spec.Template.Spec.DeepCopy()
	spec.Tolerations = append(spec.Tolerations,
		corev1.Toleration{Key: corev1.TaintNodeNotReady, Operator: corev1.TolerationOpExists, Effect: corev1.TaintEffectNoExecute},
		corev1.Toleration{Key: corev1.TaintNodeUnreachable, Operator: corev1.TolerationOpExists, Effect: corev1.TaintEffectNoExecute},
		corev1.Toleration{Key: corev1.TaintNodeDiskPressure, Operator: corev1.TolerationOpExists, Effect: corev1.TaintEffectNoSchedule},
		corev1.Toleration{Key: corev1.TaintNodeMemoryPressure, Operator: corev1.TolerationOpExists, Effect: corev1.TaintEffectNoSchedule},
		corev1.Toleration{Key: corev1.TaintNodePIDPressure, Operator: corev1.TolerationOpExists, Effect: corev1.TaintEffectNoSchedule},
		corev1.Toleration{Key: corev1.TaintNodeUnschedulable, Operator: corev1.TolerationOpExists, Effect: corev1.TaintEffectNoSchedule},
	)
	spec.Affinity = required(nameIs(corev1.NodeSelectorOpIn, "n1"))
	return &corev1.Pod{
		ObjectMeta: metav1.ObjectMeta{
			GenerateName: "fluentd-elasticsearch-",
			Namespace:    "kube-system",
			Labels:       map[string]string{"name": "fluentd-elasticsearch", "controller-revision-hash": "h1"},
			Annotations:  map[string]string{},
			Finalizers:   []string{},
			OwnerReferences: []metav1.OwnerReference{{
				APIVersion: "apps/v1", Kind: "DaemonSet", Name: "fluentd-elasticsearch", UID: "uid-fluentd",
				Controller: new(true), BlockOwnerDeletion: new(true),
			}},
		},
		Spec: spec,
	}
}

func TestNewPod(t *testing.T) {
	preferred := []corev1.PreferredSchedulingTerm{{Weight: 3, Preference: exprs(req("zone", corev1.NodeSelectorOpIn, "a"))}}
	podAffinity := &corev1.PodAffinity{RequiredDuringSchedulingIgnoredDuringExecution: []corev1.PodAffinityTerm{{TopologyKey: "zone"}}}
	pinned := required(nameIs(corev1.NodeSelectorOpIn, "n1")).NodeAffinity.RequiredDuringSchedulingIgnoredDuringExecution
	for _, tc := range []struct {
		name     string
		ds       *appsv1.DaemonSet
		nodeName string
		hash     string
		want     func(*corev1.Pod) // applied to seedPod()
	}{
		{name: "seed", ds: fluentd(), nodeName: "n1", hash: "h1", want: func(*corev1.Pod) {}},
		{name: "no hash", ds: fluentd(), nodeName: "n1", hash: "", want: func(p *corev1.Pod) { delete(p.Labels, "controller-revision-hash") }},
		{name: "template without labels", ds: func() *appsv1.DaemonSet { ds := fluentd(); ds.Spec.Template.Labels = nil; return ds }(),
			nodeName: "n1", hash: "", want: func(p *corev1.Pod) { p.Labels = map[string]string{} }},
		{name: "template generation", ds: func() *appsv1.DaemonSet {
			ds := fluentd()
			ds.Annotations = map[string]string{appsv1.DeprecatedTemplateGeneration: "7"}
			return ds
		}(), nodeName: "n1", hash: "h1", want: func(p *corev1.Pod) { p.Labels["pod-template-generation"] = "7" }},
		{name: "unparsable template generation ignored", ds: func() *appsv1.DaemonSet {
			ds := fluentd()
			ds.Annotations = map[string]string{appsv1.DeprecatedTemplateGeneration: "7a"}
			return ds
		}(), nodeName: "n1", hash: "h1", want: func(*corev1.Pod) {}},
		{name: "hash label overrides template label", ds: func() *appsv1.DaemonSet {
			ds := fluentd()
			ds.Spec.Template.Labels["controller-revision-hash"] = "old"
			return ds
		}(), nodeName: "n1", hash: "h1", want: func(*corev1.Pod) {}},
		{name: "template metadata", ds: func() *appsv1.DaemonSet {
			ds := fluentd()
			ds.Spec.Template.Name = "ignored"
			ds.Spec.Template.Namespace = "ignored"
			ds.Spec.Template.OwnerReferences = []metav1.OwnerReference{{Name: "ignored"}}
			ds.Spec.Template.Annotations = map[string]string{"a": "b"}
			ds.Spec.Template.Finalizers = []string{"example.com/f"}
			return ds
		}(), nodeName: "n1", hash: "h1", want: func(p *corev1.Pod) {
			p.Annotations = map[string]string{"a": "b"}
			p.Finalizers = []string{"example.com/f"}
		}},
		{name: "hostNetwork", ds: withSpec(func(s *corev1.PodSpec) { s.HostNetwork = true }), nodeName: "n1", hash: "h1", want: func(p *corev1.Pod) {
			p.Spec.HostNetwork = true
			p.Spec.Tolerations = append(p.Spec.Tolerations, corev1.Toleration{Key: corev1.TaintNodeNetworkUnavailable, Operator: corev1.TolerationOpExists, Effect: corev1.TaintEffectNoSchedule})
		}},
		{name: "template nodeName kept", ds: withSpec(func(s *corev1.PodSpec) { s.NodeName = "n1" }), nodeName: "n1", hash: "h1", want: func(p *corev1.Pod) { p.Spec.NodeName = "n1" }},
		{name: "affinity without node affinity", ds: withSpec(func(s *corev1.PodSpec) { s.Affinity = &corev1.Affinity{PodAffinity: podAffinity} }),
			nodeName: "n1", hash: "h1", want: func(p *corev1.Pod) { p.Spec.Affinity.PodAffinity = podAffinity }},
		{name: "preferred node affinity kept", ds: withSpec(func(s *corev1.PodSpec) {
			s.Affinity = &corev1.Affinity{NodeAffinity: &corev1.NodeAffinity{PreferredDuringSchedulingIgnoredDuringExecution: preferred}}
		}), nodeName: "n1", hash: "h1", want: func(p *corev1.Pod) {
			p.Spec.Affinity.NodeAffinity.PreferredDuringSchedulingIgnoredDuringExecution = preferred
		}},
		{name: "required terms replaced", ds: withSpec(func(s *corev1.PodSpec) {
			s.Affinity = required(exprs(req("zone", corev1.NodeSelectorOpIn, "a")), nameIs(corev1.NodeSelectorOpIn, "n9"))
			s.Affinity.NodeAffinity.PreferredDuringSchedulingIgnoredDuringExecution = preferred
			s.Affinity.PodAffinity = podAffinity
		}), nodeName: "n1", hash: "h1", want: func(p *corev1.Pod) {
			p.Spec.Affinity = &corev1.Affinity{
				NodeAffinity: &corev1.NodeAffinity{RequiredDuringSchedulingIgnoredDuringExecution: pinned, PreferredDuringSchedulingIgnoredDuringExecution: preferred},
				PodAffinity:  podAffinity,
			}
		}},
		{name: "zero required terms replaced", ds: withSpec(func(s *corev1.PodSpec) { s.Affinity = required() }), nodeName: "n1", hash: "h1", want: func(*corev1.Pod) {}},
		{name: "template toleration replaced in place", ds: withSpec(func(s *corev1.PodSpec) {
			s.Tolerations = []corev1.Toleration{{Key: corev1.TaintNodeUnreachable, Operator: corev1.TolerationOpExists, Effect: corev1.TaintEffectNoExecute, TolerationSeconds: new(int64(60))}}
		}), nodeName: "n1", hash: "h1", want: func(p *corev1.Pod) {
			p.Spec.Tolerations = []corev1.Toleration{
				{Key: corev1.TaintNodeUnreachable, Operator: corev1.TolerationOpExists, Effect: corev1.TaintEffectNoExecute},
				{Key: corev1.TaintNodeNotReady, Operator: corev1.TolerationOpExists, Effect: corev1.TaintEffectNoExecute},
				{Key: corev1.TaintNodeDiskPressure, Operator: corev1.TolerationOpExists, Effect: corev1.TaintEffectNoSchedule},
				{Key: corev1.TaintNodeMemoryPressure, Operator: corev1.TolerationOpExists, Effect: corev1.TaintEffectNoSchedule},
				{Key: corev1.TaintNodePIDPressure, Operator: corev1.TolerationOpExists, Effect: corev1.TaintEffectNoSchedule},
				{Key: corev1.TaintNodeUnschedulable, Operator: corev1.TolerationOpExists, Effect: corev1.TaintEffectNoSchedule},
			}
		}},
		{name: "empty node name", ds: fluentd(), nodeName: "", hash: "h1", want: func(p *corev1.Pod) {
			p.Spec.Affinity = required(nameIs(corev1.NodeSelectorOpIn, ""))
		}},
		{name: "name too long for a dash", ds: func() *appsv1.DaemonSet { ds := fluentd(); ds.Name = strings.Repeat("a", 254); return ds }(),
			nodeName: "n1", hash: "h1", want: func(p *corev1.Pod) {
				p.GenerateName = strings.Repeat("a", 254)
				p.OwnerReferences[0].Name = strings.Repeat("a", 254)
			}},
		// apimachinery's prefix check replaces the last two characters of
		// "<name>-" by "a", so a 253-character name still gets its dash.
		{name: "name of 253 characters", ds: func() *appsv1.DaemonSet { ds := fluentd(); ds.Name = strings.Repeat("a", 253); return ds }(),
			nodeName: "n1", hash: "h1", want: func(p *corev1.Pod) {
				p.GenerateName = strings.Repeat("a", 253) + "-"
				p.OwnerReferences[0].Name = strings.Repeat("a", 253)
			}},
		{name: "invalid name", ds: func() *appsv1.DaemonSet { ds := fluentd(); ds.Name = "Fluentd"; return ds }(),
			nodeName: "n1", hash: "h1", want: func(p *corev1.Pod) {
				p.GenerateName = "Fluentd"
				p.OwnerReferences[0].Name = "Fluentd"
			}},
		{name: "empty name", ds: func() *appsv1.DaemonSet { ds := fluentd(); ds.Name = ""; return ds }(),
			nodeName: "n1", hash: "h1", want: func(p *corev1.Pod) {
				p.GenerateName = ""
				p.OwnerReferences[0].Name = ""
			}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			want := seedPod()
			tc.want(want)
			before := tc.ds.DeepCopy()
			got := New(tc.ds, Options{}).NewPod(tc.nodeName, tc.hash)
			if diff := cmp.Diff(want, got); diff != "" {
				t.Errorf("NewPod(%q, %q) mismatch (-want +got):\n%s", tc.nodeName, tc.hash, diff)
			}
			if diff := cmp.Diff(before, tc.ds); diff != "" {
				t.Errorf("NewPod() modified the DaemonSet (-before +after):\n%s", diff)
			}
		})
	}
}

func TestNewPodNilDaemonSet(t *testing.T) {
	got := New(nil, Options{}).NewPod("n1", "")
	if name, err := TargetNodeName(got); err != nil || name != "n1" {
		t.Errorf("TargetNodeName(NewPod(\"n1\")) = %q, %v, want \"n1\", nil", name, err)
	}
	if diff := cmp.Diff(map[string]string{}, got.Labels); diff != "" {
		t.Errorf("NewPod().Labels mismatch (-want +got):\n%s", diff)
	}
}

func TestTargetNodeName(t *testing.T) {
	pod := func(nodeName string, a *corev1.Affinity) *corev1.Pod {
		return &corev1.Pod{ObjectMeta: metav1.ObjectMeta{Namespace: "ns", Name: "p"}, Spec: corev1.PodSpec{NodeName: nodeName, Affinity: a}}
	}
	fields := func(reqs ...corev1.NodeSelectorRequirement) corev1.NodeSelectorTerm {
		return corev1.NodeSelectorTerm{MatchFields: reqs}
	}
	name := func(op corev1.NodeSelectorOperator, values ...string) corev1.NodeSelectorRequirement {
		return req(metav1.ObjectNameField, op, values...)
	}
	for _, tc := range []struct {
		name    string
		pod     *corev1.Pod
		want    string
		wantErr string
	}{
		{name: "nodeName", pod: pod("n1", required(nameIs(corev1.NodeSelectorOpIn, "n2"))), want: "n1"},
		{name: "matchFields", pod: pod("", required(nameIs(corev1.NodeSelectorOpIn, "n2"))), want: "n2"},
		{name: "later term", pod: pod("", required(exprs(req("a", corev1.NodeSelectorOpExists)), nameIs(corev1.NodeSelectorOpIn, "n2"))), want: "n2"},
		{name: "first In wins", pod: pod("", required(fields(name(corev1.NodeSelectorOpNotIn, "n1"), name(corev1.NodeSelectorOpIn, "n2"), name(corev1.NodeSelectorOpIn, "n3")))), want: "n2"},
		{name: "other field skipped", pod: pod("", required(fields(req("metadata.uid", corev1.NodeSelectorOpIn, "u"), name(corev1.NodeSelectorOpIn, "n2")))), want: "n2"},
		{name: "nil pod", pod: nil, wantErr: "nil pod"},
		{name: "no affinity", pod: pod("", nil), wantErr: "no spec.affinity.nodeAffinity.requiredDuringSchedulingIgnoredDuringExecution for pod ns/p"},
		{name: "no node affinity", pod: pod("", &corev1.Affinity{}), wantErr: "no spec.affinity.nodeAffinity.requiredDuringSchedulingIgnoredDuringExecution for pod ns/p"},
		{name: "no required", pod: pod("", &corev1.Affinity{NodeAffinity: &corev1.NodeAffinity{}}), wantErr: "no spec.affinity.nodeAffinity.requiredDuringSchedulingIgnoredDuringExecution for pod ns/p"},
		{name: "no terms", pod: pod("", required()), wantErr: "no nodeSelectorTerms in requiredDuringSchedulingIgnoredDuringExecution of pod ns/p"},
		{name: "two values", pod: pod("", required(nameIs(corev1.NodeSelectorOpIn, "n1", "n2"))), wantErr: "the matchFields value of 'metadata.name' is not unique for pod ns/p"},
		{name: "no values", pod: pod("", required(nameIs(corev1.NodeSelectorOpIn))), wantErr: "the matchFields value of 'metadata.name' is not unique for pod ns/p"},
		{name: "two values before a good term", pod: pod("", required(nameIs(corev1.NodeSelectorOpIn, "n1", "n2"), nameIs(corev1.NodeSelectorOpIn, "n3"))),
			wantErr: "the matchFields value of 'metadata.name' is not unique for pod ns/p"},
		{name: "only NotIn", pod: pod("", required(nameIs(corev1.NodeSelectorOpNotIn, "n1"))), wantErr: "no node name found for pod ns/p"},
		{name: "only expressions", pod: pod("", required(exprs(req(metav1.ObjectNameField, corev1.NodeSelectorOpIn, "n1")))), wantErr: "no node name found for pod ns/p"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			got, err := TargetNodeName(tc.pod)
			if tc.wantErr != "" {
				if err == nil || err.Error() != tc.wantErr || got != "" {
					t.Errorf("TargetNodeName() = %q, %v, want \"\", error %q", got, err, tc.wantErr)
				}
				return
			}
			if err != nil || got != tc.want {
				t.Errorf("TargetNodeName() = %q, %v, want %q, nil", got, err, tc.want)
			}
		})
	}
}

func TestTemplateGeneration(t *testing.T) {
	for _, tc := range []struct {
		name        string
		annotations map[string]string
		nilDS       bool
		want        *int64
		wantErr     bool
	}{
		{name: "nil DaemonSet", nilDS: true},
		{name: "no annotations"},
		{name: "other annotation", annotations: map[string]string{"a": "1"}},
		{name: "zero", annotations: map[string]string{appsv1.DeprecatedTemplateGeneration: "0"}, want: new(int64(0))},
		{name: "positive", annotations: map[string]string{appsv1.DeprecatedTemplateGeneration: "12"}, want: new(int64(12))},
		{name: "negative", annotations: map[string]string{appsv1.DeprecatedTemplateGeneration: "-3"}, want: new(int64(-3))},
		{name: "leading zero and plus accepted as ParseInt does", annotations: map[string]string{appsv1.DeprecatedTemplateGeneration: "+012"}, want: new(int64(12))},
		{name: "empty", annotations: map[string]string{appsv1.DeprecatedTemplateGeneration: ""}, wantErr: true},
		{name: "text", annotations: map[string]string{appsv1.DeprecatedTemplateGeneration: "two"}, wantErr: true},
		{name: "overflow", annotations: map[string]string{appsv1.DeprecatedTemplateGeneration: "9223372036854775808"}, wantErr: true},
	} {
		t.Run(tc.name, func(t *testing.T) {
			ds := &appsv1.DaemonSet{ObjectMeta: metav1.ObjectMeta{Annotations: tc.annotations}}
			if tc.nilDS {
				ds = nil
			}
			got, err := TemplateGeneration(ds)
			if (err != nil) != tc.wantErr {
				t.Errorf("TemplateGeneration() error = %v, want error: %v", err, tc.wantErr)
			}
			if diff := cmp.Diff(tc.want, got); diff != "" {
				t.Errorf("TemplateGeneration() mismatch (-want +got):\n%s", diff)
			}
		})
	}
}

func TestIsPodUpdated(t *testing.T) {
	pod := func(labels map[string]string) *corev1.Pod {
		return &corev1.Pod{ObjectMeta: metav1.ObjectMeta{Labels: labels}}
	}
	for _, tc := range []struct {
		name       string
		pod        *corev1.Pod
		hash       string
		generation *int64
		want       bool
	}{
		{name: "nil pod", pod: nil, hash: "h", want: false},
		{name: "hash matches", pod: pod(map[string]string{"controller-revision-hash": "h"}), hash: "h", want: true},
		{name: "hash differs", pod: pod(map[string]string{"controller-revision-hash": "g"}), hash: "h", want: false},
		{name: "empty hash never matches", pod: pod(map[string]string{"controller-revision-hash": ""}), hash: "", want: false},
		{name: "no labels", pod: pod(nil), hash: "h", generation: new(int64(1)), want: false},
		{name: "generation matches", pod: pod(map[string]string{"pod-template-generation": "3"}), hash: "h", generation: new(int64(3)), want: true},
		{name: "generation differs", pod: pod(map[string]string{"pod-template-generation": "3"}), generation: new(int64(4)), want: false},
		{name: "generation compared as text", pod: pod(map[string]string{"pod-template-generation": "03"}), generation: new(int64(3)), want: false},
		{name: "nil generation", pod: pod(map[string]string{"pod-template-generation": "3"}), want: false},
		{name: "either suffices", pod: pod(map[string]string{"controller-revision-hash": "old", "pod-template-generation": "3"}), hash: "h", generation: new(int64(3)), want: true},
	} {
		t.Run(tc.name, func(t *testing.T) {
			if got := IsPodUpdated(tc.pod, tc.hash, tc.generation); got != tc.want {
				t.Errorf("IsPodUpdated(%q) = %v, want %v", tc.hash, got, tc.want)
			}
		})
	}
}

func TestIsControlledBy(t *testing.T) {
	ds := fluentd()
	ref := func(uid string, controller *bool) *corev1.Pod {
		return &corev1.Pod{ObjectMeta: metav1.ObjectMeta{OwnerReferences: []metav1.OwnerReference{
			{APIVersion: "apps/v1", Kind: "DaemonSet", Name: "fluentd-elasticsearch", UID: "uid-other"},
			{APIVersion: "apps/v1", Kind: "DaemonSet", Name: "whatever", UID: k8stypes.UID(uid), Controller: controller},
		}}}
	}
	for _, tc := range []struct {
		name string
		pod  *corev1.Pod
		ds   *appsv1.DaemonSet
		want bool
	}{
		{name: "controller", pod: ref("uid-fluentd", new(true)), ds: ds, want: true},
		{name: "owner but not controller", pod: ref("uid-fluentd", new(false)), ds: ds, want: false},
		{name: "controller unset", pod: ref("uid-fluentd", nil), ds: ds, want: false},
		{name: "other controller", pod: ref("uid-x", new(true)), ds: ds, want: false},
		{name: "no owners", pod: &corev1.Pod{}, ds: ds, want: false},
		{name: "nil pod", pod: nil, ds: ds, want: false},
		{name: "nil DaemonSet", pod: ref("uid-fluentd", new(true)), ds: nil, want: false},
		{name: "created by NewPod", pod: New(ds, Options{}).NewPod("n1", "h"), ds: ds, want: true},
	} {
		t.Run(tc.name, func(t *testing.T) {
			if got := IsControlledBy(tc.pod, tc.ds); got != tc.want {
				t.Errorf("IsControlledBy() = %v, want %v", got, tc.want)
			}
		})
	}
}
