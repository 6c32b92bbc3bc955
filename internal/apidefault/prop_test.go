package apidefault

import (
	"encoding/json"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"
	appsv1 "k8s.io/api/apps/v1"
	corev1 "k8s.io/api/core/v1"
	"k8s.io/apimachinery/pkg/api/resource"
	"k8s.io/apimachinery/pkg/util/intstr"
	"pgregory.net/rapid"
)

// genDaemonSet draws DaemonSets where each defaulted field is either unset
// or set.
func genDaemonSet(t *rapid.T) *appsv1.DaemonSet {
	maybe := func(label string) bool { return rapid.Bool().Draw(t, label) }
	ds := &appsv1.DaemonSet{}
	ds.Spec.UpdateStrategy.Type = appsv1.DaemonSetUpdateStrategyType(rapid.SampledFrom([]string{"", "RollingUpdate", "OnDelete"}).Draw(t, "type"))
	if maybe("rollingUpdate") {
		ds.Spec.UpdateStrategy.RollingUpdate = &appsv1.RollingUpdateDaemonSet{}
		if maybe("maxSurge") {
			ds.Spec.UpdateStrategy.RollingUpdate.MaxSurge = ptr(intstr.FromString("10%"))
		}
	}
	if maybe("historyLimit") {
		ds.Spec.RevisionHistoryLimit = ptr[int32](2)
	}
	spec := &ds.Spec.Template.Spec
	spec.ServiceAccountName = rapid.SampledFrom([]string{"", "a"}).Draw(t, "sa")
	spec.DeprecatedServiceAccount = rapid.SampledFrom([]string{"", "a", "b"}).Draw(t, "deprecatedSA")
	if maybe("dns") {
		spec.DNSPolicy = corev1.DNSDefault
	}
	for i := range rapid.IntRange(0, 3).Draw(t, "containers") {
		c := corev1.Container{Name: "c" + string(rune('a'+i))}
		c.Image = rapid.SampledFrom([]string{"", "nginx", "nginx:1", "nginx:latest", "X"}).Draw(t, "image")
		if maybe("port") {
			c.Ports = []corev1.ContainerPort{{ContainerPort: 80}}
		}
		if maybe("probe") {
			c.ReadinessProbe = &corev1.Probe{ProbeHandler: corev1.ProbeHandler{HTTPGet: &corev1.HTTPGetAction{}}}
		}
		if maybe("limits") {
			c.Resources.Limits = corev1.ResourceList{corev1.ResourceCPU: resource.MustParse(rapid.SampledFrom([]string{"1", "0.5", "0.0001", "1Gi"}).Draw(t, "cpu"))}
		}
		if maybe("env") {
			c.Env = []corev1.EnvVar{{Name: "n", ValueFrom: &corev1.EnvVarSource{FieldRef: &corev1.ObjectFieldSelector{}}}}
		}
		if maybe("init") {
			spec.InitContainers = append(spec.InitContainers, c)
		} else {
			spec.Containers = append(spec.Containers, c)
		}
	}
	for range rapid.IntRange(0, 3).Draw(t, "volumes") {
		var src corev1.VolumeSource
		switch rapid.IntRange(0, 4).Draw(t, "source") {
		case 1:
			src.HostPath = &corev1.HostPathVolumeSource{Path: "/x"}
		case 2:
			src.Secret = &corev1.SecretVolumeSource{}
		case 3:
			src.Projected = &corev1.ProjectedVolumeSource{Sources: []corev1.VolumeProjection{{ServiceAccountToken: &corev1.ServiceAccountTokenProjection{}}}}
		case 4:
			src.Image = &corev1.ImageVolumeSource{Reference: "img"}
		}
		spec.Volumes = append(spec.Volumes, corev1.Volume{Name: "v", VolumeSource: src})
	}
	return ds
}

// TestDaemonSetProperties checks, for random DaemonSets: the input is not
// mutated; defaulting twice changes nothing more; every reported path
// exists in the result; and nothing outside the reported paths changed.
func TestDaemonSetProperties(t *testing.T) {
	rapid.Check(t, func(t *rapid.T) {
		ds := genDaemonSet(t)
		before := ds.DeepCopy()
		got, paths := DaemonSet(ds)
		if diff := cmp.Diff(before, ds); diff != "" {
			t.Fatalf("DaemonSet() mutated its input (-before +after):\n%s", diff)
		}
		again, morePaths := DaemonSet(got)
		if len(morePaths) != 0 {
			t.Fatalf("DaemonSet() of its own result changed %q", morePaths)
		}
		if diff := cmp.Diff(got, again, quantityCmp); diff != "" {
			t.Fatalf("DaemonSet() not idempotent (-once +twice):\n%s", diff)
		}
		// Reverting every reported path to the input's value must give the input.
		in, _ := toGeneric(ds)
		out, _ := toGeneric(got)
		for _, p := range paths {
			if _, ok := lookup(out, p); !ok {
				t.Fatalf("path %q not in the result", p)
			}
			out = set(out, p, in)
		}
		if diff := cmp.Diff(in, out); diff != "" {
			t.Fatalf("changes outside the reported paths %q (-input +reverted result):\n%s", paths, diff)
		}
	})
}

// splitPath splits "a.b[1].c" into ["a", "b", 1, "c"].
func splitPath(p string) []any {
	var out []any
	for _, part := range strings.Split(p, ".") {
		name, rest, _ := strings.Cut(part, "[")
		out = append(out, name)
		for rest != "" {
			var idx int
			var tail string
			num, after, _ := strings.Cut(rest, "]")
			_ = json.Unmarshal([]byte(num), &idx)
			out = append(out, idx)
			_, tail, _ = strings.Cut(after, "[")
			rest = tail
		}
	}
	return out
}

func lookup(v any, p string) (any, bool) {
	for _, k := range splitPath(p) {
		switch k := k.(type) {
		case string:
			m, ok := v.(map[string]any)
			if !ok {
				return nil, false
			}
			if v, ok = m[k]; !ok {
				return nil, false
			}
		case int:
			l, ok := v.([]any)
			if !ok || k >= len(l) {
				return nil, false
			}
			v = l[k]
		}
	}
	return v, true
}

// set returns out with the value at path p replaced by src's value there
// (removed where src has none).
func set(out any, p string, src any) any {
	keys := splitPath(p)
	var walk func(dst any, i int) any
	walk = func(dst any, i int) any {
		if i == len(keys) {
			v, _ := lookup(src, p)
			return v
		}
		switch k := keys[i].(type) {
		case string:
			m := dst.(map[string]any)
			v := walk(m[k], i+1)
			if _, ok := lookup(src, p); !ok && i == len(keys)-1 {
				delete(m, k)
			} else {
				m[k] = v
			}
			return m
		case int:
			l := dst.([]any)
			l[k] = walk(l[k], i+1)
			return l
		}
		return dst
	}
	return walk(out, 0)
}
