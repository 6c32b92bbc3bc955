package apidefault_test

import (
	"fmt"

	appsv1 "k8s.io/api/apps/v1"
	corev1 "k8s.io/api/core/v1"
	"k8s.io/apimachinery/pkg/api/resource"

	"github.com/dsplan/dsplan/internal/apidefault"
)

func ExampleDaemonSet() {
	ds := &appsv1.DaemonSet{Spec: appsv1.DaemonSetSpec{
		Template: corev1.PodTemplateSpec{Spec: corev1.PodSpec{
			Containers: []corev1.Container{{Name: "fluentd", Image: "fluentd:v2.5.2"}},
		}},
	}}
	stored, paths := apidefault.DaemonSet(ds)
	fmt.Println(stored.Spec.UpdateStrategy.Type, stored.Spec.UpdateStrategy.RollingUpdate.MaxUnavailable)
	fmt.Println(stored.Spec.Template.Spec.Containers[0].ImagePullPolicy)
	for _, p := range paths {
		fmt.Println(p)
	}
	// Output:
	// RollingUpdate 1
	// IfNotPresent
	// spec.revisionHistoryLimit
	// spec.template.spec.containers[0].imagePullPolicy
	// spec.template.spec.containers[0].terminationMessagePath
	// spec.template.spec.containers[0].terminationMessagePolicy
	// spec.template.spec.dnsPolicy
	// spec.template.spec.restartPolicy
	// spec.template.spec.schedulerName
	// spec.template.spec.securityContext
	// spec.template.spec.terminationGracePeriodSeconds
	// spec.updateStrategy.rollingUpdate
	// spec.updateStrategy.type
}

func ExamplePullPolicy() {
	for _, image := range []string{"nginx", "nginx:latest", "nginx:1.27", "Nginx"} {
		fmt.Println(image, apidefault.PullPolicy(image))
	}
	// Output:
	// nginx Always
	// nginx:latest Always
	// nginx:1.27 IfNotPresent
	// Nginx IfNotPresent
}

func ExampleCreatedPod() {
	tmpl := &corev1.Pod{Spec: corev1.PodSpec{
		HostNetwork: true,
		Containers: []corev1.Container{{
			Name:      "exporter",
			Ports:     []corev1.ContainerPort{{ContainerPort: 9100}},
			Resources: corev1.ResourceRequirements{Limits: corev1.ResourceList{corev1.ResourceMemory: resource.MustParse("64Mi")}},
		}},
	}}
	pod := apidefault.CreatedPod(tmpl)
	c := pod.Spec.Containers[0]
	fmt.Println(c.Resources.Requests.Memory(), c.Ports[0].HostPort)
	// Output:
	// 64Mi 9100
}
