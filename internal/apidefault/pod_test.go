package apidefault

import (
	"testing"

	"github.com/google/go-cmp/cmp"
	corev1 "k8s.io/api/core/v1"
	"k8s.io/apimachinery/pkg/api/resource"
)

// list builds a ResourceList from name, quantity pairs.
func list(kv ...string) corev1.ResourceList {
	l := corev1.ResourceList{}
	for i := 0; i+1 < len(kv); i += 2 {
		l[corev1.ResourceName(kv[i])] = resource.MustParse(kv[i+1])
	}
	return l
}

// createdSpec is what CreatedPod adds to a pod spec that has none of the
// fields it defaults.
func createdSpec(spec corev1.PodSpec) corev1.PodSpec {
	spec.EnableServiceLinks = ptr(true)
	return spec
}

func TestCreatedPod(t *testing.T) {
	sidecar := corev1.ContainerRestartPolicyAlways
	tests := []struct {
		name string
		in   corev1.PodSpec
		want corev1.PodSpec
	}{
		{name: "empty", in: corev1.PodSpec{}, want: createdSpec(corev1.PodSpec{})},
		{
			// SetDefaults_Pod: a template with limits only requests them.
			name: "requests default to limits",
			in: corev1.PodSpec{
				InitContainers: []corev1.Container{{Name: "init", Resources: corev1.ResourceRequirements{Limits: list("cpu", "1")}}},
				Containers: []corev1.Container{
					{Name: "a", Resources: corev1.ResourceRequirements{Limits: list("cpu", "500m", "memory", "1Gi")}},
					{Name: "b", Resources: corev1.ResourceRequirements{Limits: list("cpu", "500m", "memory", "1Gi"), Requests: list("cpu", "100m")}},
					{Name: "c", Resources: corev1.ResourceRequirements{Requests: list("cpu", "100m")}},
				},
			},
			want: createdSpec(corev1.PodSpec{
				InitContainers: []corev1.Container{{Name: "init", Resources: corev1.ResourceRequirements{Limits: list("cpu", "1"), Requests: list("cpu", "1")}}},
				Containers: []corev1.Container{
					{Name: "a", Resources: corev1.ResourceRequirements{Limits: list("cpu", "500m", "memory", "1Gi"), Requests: list("cpu", "500m", "memory", "1Gi")}},
					{Name: "b", Resources: corev1.ResourceRequirements{Limits: list("cpu", "500m", "memory", "1Gi"), Requests: list("cpu", "100m", "memory", "1Gi")}},
					{Name: "c", Resources: corev1.ResourceRequirements{Requests: list("cpu", "100m")}},
				},
			}),
		},
		{
			// SetDefaults_Pod's defaultHostNetworkPorts.
			name: "hostNetwork ports",
			in: corev1.PodSpec{
				HostNetwork:    true,
				InitContainers: []corev1.Container{{Name: "init", Ports: []corev1.ContainerPort{{ContainerPort: 8080}}}},
				Containers:     []corev1.Container{{Name: "a", Ports: []corev1.ContainerPort{{ContainerPort: 9100}, {ContainerPort: 53, HostPort: 5353}}}},
			},
			want: createdSpec(corev1.PodSpec{
				HostNetwork:    true,
				InitContainers: []corev1.Container{{Name: "init", Ports: []corev1.ContainerPort{{ContainerPort: 8080, HostPort: 8080}}}},
				Containers:     []corev1.Container{{Name: "a", Ports: []corev1.ContainerPort{{ContainerPort: 9100, HostPort: 9100}, {ContainerPort: 53, HostPort: 5353}}}},
			}),
		},
		{
			name: "no hostNetwork, no host ports",
			in:   corev1.PodSpec{Containers: []corev1.Container{{Name: "a", Ports: []corev1.ContainerPort{{ContainerPort: 9100}}}}},
			want: createdSpec(corev1.PodSpec{Containers: []corev1.Container{{Name: "a", Ports: []corev1.ContainerPort{{ContainerPort: 9100}}}}}),
		},
		{
			name: "negative grace period, service links kept",
			in:   corev1.PodSpec{TerminationGracePeriodSeconds: ptr[int64](-5), EnableServiceLinks: ptr(false)},
			want: corev1.PodSpec{TerminationGracePeriodSeconds: ptr[int64](1), EnableServiceLinks: ptr(false)},
		},
		{
			// DefaultPodLevelResources: cpu and memory requests from the
			// containers' aggregate (after their own requests defaulted
			// to limits).
			name: "pod-level requests from containers",
			in: corev1.PodSpec{
				Resources:  &corev1.ResourceRequirements{Requests: list("cpu", "2")},
				Containers: []corev1.Container{{Name: "a", Resources: corev1.ResourceRequirements{Limits: list("memory", "1Gi")}}, {Name: "b", Resources: corev1.ResourceRequirements{Requests: list("memory", "512Mi", "example.com/dev", "1")}}},
			},
			want: createdSpec(corev1.PodSpec{
				Resources: &corev1.ResourceRequirements{Requests: list("cpu", "2", "memory", "1536Mi")},
				Containers: []corev1.Container{
					{Name: "a", Resources: corev1.ResourceRequirements{Limits: list("memory", "1Gi"), Requests: list("memory", "1Gi")}},
					{Name: "b", Resources: corev1.ResourceRequirements{Requests: list("memory", "512Mi", "example.com/dev", "1")}},
				},
			}),
		},
		{
			name: "pod-level request from the pod-level limit",
			in: corev1.PodSpec{
				Resources:  &corev1.ResourceRequirements{Limits: list("memory", "2Gi")},
				Containers: []corev1.Container{{Name: "a"}},
			},
			want: createdSpec(corev1.PodSpec{
				Resources:  &corev1.ResourceRequirements{Limits: list("memory", "2Gi"), Requests: list("memory", "2Gi")},
				Containers: []corev1.Container{{Name: "a"}},
			}),
		},
		{
			// defaultHugePagePodLevelLimits, then the request from that
			// limit; the sidecar's limit adds to the container's.
			name: "pod-level hugepages from the containers' limits",
			in: corev1.PodSpec{
				Resources:      &corev1.ResourceRequirements{Requests: list("cpu", "1")},
				InitContainers: []corev1.Container{{Name: "s", RestartPolicy: &sidecar, Resources: corev1.ResourceRequirements{Limits: list("hugepages-2Mi", "4Mi")}}},
				Containers:     []corev1.Container{{Name: "a", Resources: corev1.ResourceRequirements{Limits: list("hugepages-2Mi", "2Mi")}}},
			},
			want: createdSpec(corev1.PodSpec{
				Resources:      &corev1.ResourceRequirements{Requests: list("cpu", "1", "hugepages-2Mi", "6Mi"), Limits: list("hugepages-2Mi", "6Mi")},
				InitContainers: []corev1.Container{{Name: "s", RestartPolicy: &sidecar, Resources: corev1.ResourceRequirements{Limits: list("hugepages-2Mi", "4Mi"), Requests: list("hugepages-2Mi", "4Mi")}}},
				Containers:     []corev1.Container{{Name: "a", Resources: corev1.ResourceRequirements{Limits: list("hugepages-2Mi", "2Mi"), Requests: list("hugepages-2Mi", "2Mi")}}},
			}),
		},
		{
			name: "empty pod-level resources are left alone",
			in:   corev1.PodSpec{Resources: &corev1.ResourceRequirements{}, Containers: []corev1.Container{{Name: "a", Resources: corev1.ResourceRequirements{Requests: list("cpu", "1")}}}},
			want: createdSpec(corev1.PodSpec{Resources: &corev1.ResourceRequirements{}, Containers: []corev1.Container{{Name: "a", Resources: corev1.ResourceRequirements{Requests: list("cpu", "1")}}}}),
		},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			in := &corev1.Pod{Spec: tc.in}
			before := in.DeepCopy()
			got := CreatedPod(in)
			if diff := cmp.Diff(tc.want, got.Spec); diff != "" {
				t.Errorf("CreatedPod() spec mismatch (-want +got):\n%s", diff)
			}
			if diff := cmp.Diff(before, in); diff != "" {
				t.Errorf("CreatedPod() mutated its input (-before +after):\n%s", diff)
			}
		})
	}
}

func TestCreatedPodNil(t *testing.T) {
	if got := CreatedPod(nil); got != nil {
		t.Errorf("CreatedPod(nil) = %v, want nil", got)
	}
}
