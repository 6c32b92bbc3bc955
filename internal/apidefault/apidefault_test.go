package apidefault

import (
	"testing"

	"github.com/google/go-cmp/cmp"
	appsv1 "k8s.io/api/apps/v1"
	corev1 "k8s.io/api/core/v1"
	"k8s.io/apimachinery/pkg/api/resource"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/util/intstr"
)

func ptr[T any](v T) *T { return &v }

// defaultedPodSpec is what SetDefaults_PodSpec adds to an empty pod spec.
func defaultedPodSpec() corev1.PodSpec {
	return corev1.PodSpec{
		DNSPolicy:                     corev1.DNSClusterFirst,
		RestartPolicy:                 corev1.RestartPolicyAlways,
		SecurityContext:               &corev1.PodSecurityContext{},
		TerminationGracePeriodSeconds: ptr[int64](30),
		SchedulerName:                 corev1.DefaultSchedulerName,
	}
}

func TestDaemonSetSpec(t *testing.T) {
	rolling := func(maxUnavailable, maxSurge intstr.IntOrString) appsv1.DaemonSetUpdateStrategy {
		return appsv1.DaemonSetUpdateStrategy{
			Type:          appsv1.RollingUpdateDaemonSetStrategyType,
			RollingUpdate: &appsv1.RollingUpdateDaemonSet{MaxUnavailable: &maxUnavailable, MaxSurge: &maxSurge},
		}
	}
	tests := []struct {
		name string
		in   appsv1.DaemonSetSpec
		want appsv1.DaemonSetSpec
	}{
		{
			name: "empty",
			in:   appsv1.DaemonSetSpec{},
			want: appsv1.DaemonSetSpec{UpdateStrategy: rolling(intstr.FromInt32(1), intstr.FromInt32(0)), RevisionHistoryLimit: ptr[int32](10)},
		},
		{
			name: "RollingUpdate without rollingUpdate",
			in:   appsv1.DaemonSetSpec{UpdateStrategy: appsv1.DaemonSetUpdateStrategy{Type: appsv1.RollingUpdateDaemonSetStrategyType}},
			want: appsv1.DaemonSetSpec{UpdateStrategy: rolling(intstr.FromInt32(1), intstr.FromInt32(0)), RevisionHistoryLimit: ptr[int32](10)},
		},
		{
			name: "maxSurge set keeps it and defaults maxUnavailable",
			in: appsv1.DaemonSetSpec{UpdateStrategy: appsv1.DaemonSetUpdateStrategy{
				RollingUpdate: &appsv1.RollingUpdateDaemonSet{MaxSurge: ptr(intstr.FromString("25%"))},
			}},
			want: appsv1.DaemonSetSpec{UpdateStrategy: rolling(intstr.FromInt32(1), intstr.FromString("25%")), RevisionHistoryLimit: ptr[int32](10)},
		},
		{
			name: "maxUnavailable 0 is kept",
			in: appsv1.DaemonSetSpec{UpdateStrategy: appsv1.DaemonSetUpdateStrategy{
				RollingUpdate: &appsv1.RollingUpdateDaemonSet{MaxUnavailable: ptr(intstr.FromInt32(0))},
			}},
			want: appsv1.DaemonSetSpec{UpdateStrategy: rolling(intstr.FromInt32(0), intstr.FromInt32(0)), RevisionHistoryLimit: ptr[int32](10)},
		},
		{
			name: "OnDelete gets no rollingUpdate",
			in:   appsv1.DaemonSetSpec{UpdateStrategy: appsv1.DaemonSetUpdateStrategy{Type: appsv1.OnDeleteDaemonSetStrategyType}},
			want: appsv1.DaemonSetSpec{UpdateStrategy: appsv1.DaemonSetUpdateStrategy{Type: appsv1.OnDeleteDaemonSetStrategyType}, RevisionHistoryLimit: ptr[int32](10)},
		},
		{
			name: "OnDelete keeps a rollingUpdate as is",
			in: appsv1.DaemonSetSpec{UpdateStrategy: appsv1.DaemonSetUpdateStrategy{
				Type: appsv1.OnDeleteDaemonSetStrategyType, RollingUpdate: &appsv1.RollingUpdateDaemonSet{},
			}},
			want: appsv1.DaemonSetSpec{UpdateStrategy: appsv1.DaemonSetUpdateStrategy{
				Type: appsv1.OnDeleteDaemonSetStrategyType, RollingUpdate: &appsv1.RollingUpdateDaemonSet{},
			}, RevisionHistoryLimit: ptr[int32](10)},
		},
		{
			name: "unknown type is kept without rollingUpdate",
			in:   appsv1.DaemonSetSpec{UpdateStrategy: appsv1.DaemonSetUpdateStrategy{Type: "Partitioned"}},
			want: appsv1.DaemonSetSpec{UpdateStrategy: appsv1.DaemonSetUpdateStrategy{Type: "Partitioned"}, RevisionHistoryLimit: ptr[int32](10)},
		},
		{
			name: "revisionHistoryLimit 0 is kept",
			in:   appsv1.DaemonSetSpec{RevisionHistoryLimit: ptr[int32](0)},
			want: appsv1.DaemonSetSpec{UpdateStrategy: rolling(intstr.FromInt32(1), intstr.FromInt32(0)), RevisionHistoryLimit: ptr[int32](0)},
		},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			got, _ := DaemonSet(&appsv1.DaemonSet{Spec: tc.in})
			tc.want.Template.Spec = defaultedPodSpec()
			if diff := cmp.Diff(tc.want, got.Spec); diff != "" {
				t.Errorf("DaemonSet() spec mismatch (-want +got):\n%s", diff)
			}
		})
	}
}

// defaultPodSpec runs DaemonSet on a DaemonSet with the given pod spec and
// a set update strategy, and returns the defaulted pod spec.
func defaultPodSpec(spec corev1.PodSpec) corev1.PodSpec {
	ds := &appsv1.DaemonSet{Spec: appsv1.DaemonSetSpec{
		Template:             corev1.PodTemplateSpec{Spec: spec},
		UpdateStrategy:       appsv1.DaemonSetUpdateStrategy{Type: appsv1.OnDeleteDaemonSetStrategyType},
		RevisionHistoryLimit: ptr[int32](3),
	}}
	got, _ := DaemonSet(ds)
	return got.Spec.Template.Spec
}

func TestPodSpec(t *testing.T) {
	tests := []struct {
		name string
		in   corev1.PodSpec
		want func(*corev1.PodSpec) // applied to defaultedPodSpec()
	}{
		{name: "empty", want: func(*corev1.PodSpec) {}},
		{
			name: "set values are kept",
			in: corev1.PodSpec{
				DNSPolicy: corev1.DNSDefault, RestartPolicy: corev1.RestartPolicyOnFailure,
				SecurityContext:               &corev1.PodSecurityContext{RunAsUser: ptr[int64](1)},
				TerminationGracePeriodSeconds: ptr[int64](0), SchedulerName: "mine",
			},
			want: func(s *corev1.PodSpec) {
				s.DNSPolicy, s.RestartPolicy, s.SchedulerName = corev1.DNSDefault, corev1.RestartPolicyOnFailure, "mine"
				s.SecurityContext = &corev1.PodSecurityContext{RunAsUser: ptr[int64](1)}
				s.TerminationGracePeriodSeconds = ptr[int64](0)
			},
		},
		{
			name: "negative terminationGracePeriodSeconds is kept (fixed for Pods only)",
			in:   corev1.PodSpec{TerminationGracePeriodSeconds: ptr[int64](-5)},
			want: func(s *corev1.PodSpec) { s.TerminationGracePeriodSeconds = ptr[int64](-5) },
		},
		{
			name: "serviceAccountName is copied to serviceAccount",
			in:   corev1.PodSpec{ServiceAccountName: "fluentd"},
			want: func(s *corev1.PodSpec) { s.ServiceAccountName, s.DeprecatedServiceAccount = "fluentd", "fluentd" },
		},
		{
			name: "serviceAccount alone fills serviceAccountName",
			in:   corev1.PodSpec{DeprecatedServiceAccount: "old"},
			want: func(s *corev1.PodSpec) { s.ServiceAccountName, s.DeprecatedServiceAccount = "old", "old" },
		},
		{
			name: "serviceAccountName wins over serviceAccount",
			in:   corev1.PodSpec{ServiceAccountName: "new", DeprecatedServiceAccount: "old"},
			want: func(s *corev1.PodSpec) { s.ServiceAccountName, s.DeprecatedServiceAccount = "new", "new" },
		},
		{
			name: "Pod-only defaults are not applied",
			in: corev1.PodSpec{HostNetwork: true, Containers: []corev1.Container{{
				Name: "c", Image: "busybox:1", ImagePullPolicy: corev1.PullNever,
				TerminationMessagePath: "/t", TerminationMessagePolicy: corev1.TerminationMessageFallbackToLogsOnError,
				Ports:     []corev1.ContainerPort{{ContainerPort: 80, Protocol: corev1.ProtocolUDP}},
				Resources: corev1.ResourceRequirements{Limits: corev1.ResourceList{corev1.ResourceCPU: resource.MustParse("1")}},
			}}},
			want: func(s *corev1.PodSpec) {
				s.HostNetwork = true // no hostPort, no enableServiceLinks
				s.Containers = []corev1.Container{{
					Name: "c", Image: "busybox:1", ImagePullPolicy: corev1.PullNever,
					TerminationMessagePath: "/t", TerminationMessagePolicy: corev1.TerminationMessageFallbackToLogsOnError,
					Ports:     []corev1.ContainerPort{{ContainerPort: 80, Protocol: corev1.ProtocolUDP}},
					Resources: corev1.ResourceRequirements{Limits: corev1.ResourceList{corev1.ResourceCPU: resource.MustParse("1")}}, // no requests
				}}
			},
		},
		{
			name: "overhead and pod resources are rounded up",
			in: corev1.PodSpec{
				Overhead: corev1.ResourceList{corev1.ResourceCPU: resource.MustParse("0.0001")},
				Resources: &corev1.ResourceRequirements{
					Limits:   corev1.ResourceList{corev1.ResourceMemory: resource.MustParse("0.5")},
					Requests: corev1.ResourceList{corev1.ResourceCPU: resource.MustParse("1.0001")},
				},
			},
			want: func(s *corev1.PodSpec) {
				s.Overhead = corev1.ResourceList{corev1.ResourceCPU: resource.MustParse("1m")}
				s.Resources = &corev1.ResourceRequirements{
					Limits:   corev1.ResourceList{corev1.ResourceMemory: resource.MustParse("500m")},
					Requests: corev1.ResourceList{corev1.ResourceCPU: resource.MustParse("1001m")},
				}
			},
		},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			want := defaultedPodSpec()
			tc.want(&want)
			if diff := cmp.Diff(want, defaultPodSpec(tc.in), quantityCmp); diff != "" {
				t.Errorf("DaemonSet() pod spec mismatch (-want +got):\n%s", diff)
			}
		})
	}
}

// quantityCmp compares quantities by value, not by their cached strings.
var quantityCmp = cmp.Comparer(func(a, b resource.Quantity) bool { return a.Cmp(b) == 0 && a.String() == b.String() })

func TestContainer(t *testing.T) {
	full := func(c corev1.Container) corev1.Container {
		c.TerminationMessagePath = corev1.TerminationMessagePathDefault
		c.TerminationMessagePolicy = corev1.TerminationMessageReadFile
		return c
	}
	probe := func(h corev1.ProbeHandler) *corev1.Probe { return &corev1.Probe{ProbeHandler: h} }
	defaultedProbe := func(h corev1.ProbeHandler) *corev1.Probe {
		return &corev1.Probe{ProbeHandler: h, TimeoutSeconds: 1, PeriodSeconds: 10, SuccessThreshold: 1, FailureThreshold: 3}
	}
	tests := []struct {
		name string
		in   corev1.Container
		want corev1.Container
	}{
		{name: "tag", in: corev1.Container{Image: "nginx:1.27"}, want: full(corev1.Container{Image: "nginx:1.27", ImagePullPolicy: corev1.PullIfNotPresent})},
		{name: "latest", in: corev1.Container{Image: "nginx:latest"}, want: full(corev1.Container{Image: "nginx:latest", ImagePullPolicy: corev1.PullAlways})},
		{name: "no tag", in: corev1.Container{Image: "quay.io/x/y"}, want: full(corev1.Container{Image: "quay.io/x/y", ImagePullPolicy: corev1.PullAlways})},
		{name: "no image", in: corev1.Container{}, want: full(corev1.Container{ImagePullPolicy: corev1.PullIfNotPresent})},
		{name: "set policy kept", in: corev1.Container{Image: "nginx", ImagePullPolicy: corev1.PullNever}, want: full(corev1.Container{Image: "nginx", ImagePullPolicy: corev1.PullNever})},
		{
			name: "ports",
			in:   corev1.Container{Image: "a:1", Ports: []corev1.ContainerPort{{ContainerPort: 1}, {ContainerPort: 2, Protocol: corev1.ProtocolSCTP}}},
			want: full(corev1.Container{Image: "a:1", ImagePullPolicy: corev1.PullIfNotPresent, Ports: []corev1.ContainerPort{
				{ContainerPort: 1, Protocol: corev1.ProtocolTCP}, {ContainerPort: 2, Protocol: corev1.ProtocolSCTP},
			}}),
		},
		{
			name: "env",
			in: corev1.Container{Image: "a:1", Env: []corev1.EnvVar{
				{Name: "plain", Value: "x"},
				{Name: "node", ValueFrom: &corev1.EnvVarSource{FieldRef: &corev1.ObjectFieldSelector{FieldPath: "spec.nodeName"}}},
				{Name: "kept", ValueFrom: &corev1.EnvVarSource{FieldRef: &corev1.ObjectFieldSelector{APIVersion: "v2", FieldPath: "x"}}},
				{Name: "file", ValueFrom: &corev1.EnvVarSource{FileKeyRef: &corev1.FileKeySelector{Key: "k"}}},
				{Name: "res", ValueFrom: &corev1.EnvVarSource{ResourceFieldRef: &corev1.ResourceFieldSelector{Resource: "limits.cpu"}}},
			}},
			want: full(corev1.Container{Image: "a:1", ImagePullPolicy: corev1.PullIfNotPresent, Env: []corev1.EnvVar{
				{Name: "plain", Value: "x"},
				{Name: "node", ValueFrom: &corev1.EnvVarSource{FieldRef: &corev1.ObjectFieldSelector{APIVersion: "v1", FieldPath: "spec.nodeName"}}},
				{Name: "kept", ValueFrom: &corev1.EnvVarSource{FieldRef: &corev1.ObjectFieldSelector{APIVersion: "v2", FieldPath: "x"}}},
				{Name: "file", ValueFrom: &corev1.EnvVarSource{FileKeyRef: &corev1.FileKeySelector{Key: "k", Optional: ptr(false)}}},
				{Name: "res", ValueFrom: &corev1.EnvVarSource{ResourceFieldRef: &corev1.ResourceFieldSelector{Resource: "limits.cpu"}}},
			}}),
		},
		{
			name: "resources rounded up, requests not copied from limits",
			in: corev1.Container{Image: "a:1", Resources: corev1.ResourceRequirements{
				Limits: corev1.ResourceList{corev1.ResourceCPU: resource.MustParse("0.0001"), corev1.ResourceMemory: resource.MustParse("1Gi")},
			}},
			want: full(corev1.Container{Image: "a:1", ImagePullPolicy: corev1.PullIfNotPresent, Resources: corev1.ResourceRequirements{
				Limits: corev1.ResourceList{corev1.ResourceCPU: resource.MustParse("1m"), corev1.ResourceMemory: resource.MustParse("1Gi")},
			}}),
		},
		{
			name: "probes",
			in: corev1.Container{
				Image:          "a:1",
				LivenessProbe:  probe(corev1.ProbeHandler{HTTPGet: &corev1.HTTPGetAction{Port: intstr.FromInt32(80)}}),
				ReadinessProbe: probe(corev1.ProbeHandler{GRPC: &corev1.GRPCAction{Port: 9}}),
				StartupProbe:   &corev1.Probe{ProbeHandler: corev1.ProbeHandler{Exec: &corev1.ExecAction{}}, TimeoutSeconds: 5, PeriodSeconds: 6, SuccessThreshold: 7, FailureThreshold: 8},
			},
			want: full(corev1.Container{
				Image: "a:1", ImagePullPolicy: corev1.PullIfNotPresent,
				LivenessProbe:  defaultedProbe(corev1.ProbeHandler{HTTPGet: &corev1.HTTPGetAction{Path: "/", Scheme: corev1.URISchemeHTTP, Port: intstr.FromInt32(80)}}),
				ReadinessProbe: defaultedProbe(corev1.ProbeHandler{GRPC: &corev1.GRPCAction{Port: 9, Service: ptr("")}}),
				StartupProbe:   &corev1.Probe{ProbeHandler: corev1.ProbeHandler{Exec: &corev1.ExecAction{}}, TimeoutSeconds: 5, PeriodSeconds: 6, SuccessThreshold: 7, FailureThreshold: 8},
			}),
		},
		{
			name: "lifecycle",
			in: corev1.Container{Image: "a:1", Lifecycle: &corev1.Lifecycle{
				PostStart: &corev1.LifecycleHandler{HTTPGet: &corev1.HTTPGetAction{Path: "/x", Scheme: corev1.URISchemeHTTPS}},
				PreStop:   &corev1.LifecycleHandler{HTTPGet: &corev1.HTTPGetAction{}},
			}},
			want: full(corev1.Container{Image: "a:1", ImagePullPolicy: corev1.PullIfNotPresent, Lifecycle: &corev1.Lifecycle{
				PostStart: &corev1.LifecycleHandler{HTTPGet: &corev1.HTTPGetAction{Path: "/x", Scheme: corev1.URISchemeHTTPS}},
				PreStop:   &corev1.LifecycleHandler{HTTPGet: &corev1.HTTPGetAction{Path: "/", Scheme: corev1.URISchemeHTTP}},
			}}),
		},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			got := defaultPodSpec(corev1.PodSpec{
				Containers:          []corev1.Container{tc.in},
				InitContainers:      []corev1.Container{tc.in},
				EphemeralContainers: []corev1.EphemeralContainer{{EphemeralContainerCommon: corev1.EphemeralContainerCommon(tc.in)}},
			})
			if diff := cmp.Diff(tc.want, got.Containers[0], quantityCmp); diff != "" {
				t.Errorf("container mismatch (-want +got):\n%s", diff)
			}
			if diff := cmp.Diff(tc.want, got.InitContainers[0], quantityCmp); diff != "" {
				t.Errorf("init container mismatch (-want +got):\n%s", diff)
			}
			if diff := cmp.Diff(tc.want, corev1.Container(got.EphemeralContainers[0].EphemeralContainerCommon), quantityCmp); diff != "" {
				t.Errorf("ephemeral container mismatch (-want +got):\n%s", diff)
			}
		})
	}
}

func TestVolume(t *testing.T) {
	mode := ptr[int32](0o644)
	tests := []struct {
		name string
		in   corev1.VolumeSource
		want corev1.VolumeSource
	}{
		{name: "no source", in: corev1.VolumeSource{}, want: corev1.VolumeSource{EmptyDir: &corev1.EmptyDirVolumeSource{}}},
		{name: "emptyDir kept", in: corev1.VolumeSource{EmptyDir: &corev1.EmptyDirVolumeSource{Medium: "Memory"}}, want: corev1.VolumeSource{EmptyDir: &corev1.EmptyDirVolumeSource{Medium: "Memory"}}},
		{name: "hostPath", in: corev1.VolumeSource{HostPath: &corev1.HostPathVolumeSource{Path: "/var/log"}}, want: corev1.VolumeSource{HostPath: &corev1.HostPathVolumeSource{Path: "/var/log", Type: ptr(corev1.HostPathUnset)}}},
		{name: "hostPath type kept", in: corev1.VolumeSource{HostPath: &corev1.HostPathVolumeSource{Type: ptr(corev1.HostPathDirectory)}}, want: corev1.VolumeSource{HostPath: &corev1.HostPathVolumeSource{Type: ptr(corev1.HostPathDirectory)}}},
		{name: "secret", in: corev1.VolumeSource{Secret: &corev1.SecretVolumeSource{SecretName: "s"}}, want: corev1.VolumeSource{Secret: &corev1.SecretVolumeSource{SecretName: "s", DefaultMode: mode}}},
		{name: "secret mode kept", in: corev1.VolumeSource{Secret: &corev1.SecretVolumeSource{DefaultMode: ptr[int32](0o400)}}, want: corev1.VolumeSource{Secret: &corev1.SecretVolumeSource{DefaultMode: ptr[int32](0o400)}}},
		{name: "configMap", in: corev1.VolumeSource{ConfigMap: &corev1.ConfigMapVolumeSource{}}, want: corev1.VolumeSource{ConfigMap: &corev1.ConfigMapVolumeSource{DefaultMode: mode}}},
		{
			name: "downwardAPI",
			in: corev1.VolumeSource{DownwardAPI: &corev1.DownwardAPIVolumeSource{Items: []corev1.DownwardAPIVolumeFile{
				{Path: "a", FieldRef: &corev1.ObjectFieldSelector{FieldPath: "metadata.name"}}, {Path: "b"},
			}}},
			want: corev1.VolumeSource{DownwardAPI: &corev1.DownwardAPIVolumeSource{DefaultMode: mode, Items: []corev1.DownwardAPIVolumeFile{
				{Path: "a", FieldRef: &corev1.ObjectFieldSelector{APIVersion: "v1", FieldPath: "metadata.name"}}, {Path: "b"},
			}}},
		},
		{
			name: "projected",
			in: corev1.VolumeSource{Projected: &corev1.ProjectedVolumeSource{Sources: []corev1.VolumeProjection{
				{DownwardAPI: &corev1.DownwardAPIProjection{Items: []corev1.DownwardAPIVolumeFile{{FieldRef: &corev1.ObjectFieldSelector{}}}}},
				{ServiceAccountToken: &corev1.ServiceAccountTokenProjection{Path: "token"}},
				{ServiceAccountToken: &corev1.ServiceAccountTokenProjection{ExpirationSeconds: ptr[int64](600)}},
				{ConfigMap: &corev1.ConfigMapProjection{}},
			}}},
			want: corev1.VolumeSource{Projected: &corev1.ProjectedVolumeSource{DefaultMode: mode, Sources: []corev1.VolumeProjection{
				{DownwardAPI: &corev1.DownwardAPIProjection{Items: []corev1.DownwardAPIVolumeFile{{FieldRef: &corev1.ObjectFieldSelector{APIVersion: "v1"}}}}},
				{ServiceAccountToken: &corev1.ServiceAccountTokenProjection{Path: "token", ExpirationSeconds: ptr[int64](3600)}},
				{ServiceAccountToken: &corev1.ServiceAccountTokenProjection{ExpirationSeconds: ptr[int64](600)}},
				{ConfigMap: &corev1.ConfigMapProjection{}},
			}}},
		},
		{name: "iscsi", in: corev1.VolumeSource{ISCSI: &corev1.ISCSIVolumeSource{}}, want: corev1.VolumeSource{ISCSI: &corev1.ISCSIVolumeSource{ISCSIInterface: "default"}}},
		{
			name: "rbd",
			in:   corev1.VolumeSource{RBD: &corev1.RBDVolumeSource{RBDPool: "mine"}},
			want: corev1.VolumeSource{RBD: &corev1.RBDVolumeSource{RBDPool: "mine", RadosUser: "admin", Keyring: "/etc/ceph/keyring"}},
		},
		{
			name: "azureDisk",
			in:   corev1.VolumeSource{AzureDisk: &corev1.AzureDiskVolumeSource{DiskName: "d"}},
			want: corev1.VolumeSource{AzureDisk: &corev1.AzureDiskVolumeSource{
				DiskName: "d", CachingMode: ptr(corev1.AzureDataDiskCachingReadWrite), FSType: ptr("ext4"), ReadOnly: ptr(false), Kind: ptr(corev1.AzureSharedBlobDisk),
			}},
		},
		{name: "scaleIO", in: corev1.VolumeSource{ScaleIO: &corev1.ScaleIOVolumeSource{}}, want: corev1.VolumeSource{ScaleIO: &corev1.ScaleIOVolumeSource{StorageMode: "ThinProvisioned", FSType: "xfs"}}},
		{
			name: "ephemeral",
			in: corev1.VolumeSource{Ephemeral: &corev1.EphemeralVolumeSource{VolumeClaimTemplate: &corev1.PersistentVolumeClaimTemplate{
				Spec: corev1.PersistentVolumeClaimSpec{Resources: corev1.VolumeResourceRequirements{
					Requests: corev1.ResourceList{corev1.ResourceStorage: resource.MustParse("0.0001")},
				}},
			}}},
			want: corev1.VolumeSource{Ephemeral: &corev1.EphemeralVolumeSource{VolumeClaimTemplate: &corev1.PersistentVolumeClaimTemplate{
				Spec: corev1.PersistentVolumeClaimSpec{VolumeMode: ptr(corev1.PersistentVolumeFilesystem), Resources: corev1.VolumeResourceRequirements{
					Requests: corev1.ResourceList{corev1.ResourceStorage: resource.MustParse("1m")},
				}},
			}}},
		},
		{name: "ephemeral without template", in: corev1.VolumeSource{Ephemeral: &corev1.EphemeralVolumeSource{}}, want: corev1.VolumeSource{Ephemeral: &corev1.EphemeralVolumeSource{}}},
		{name: "image latest", in: corev1.VolumeSource{Image: &corev1.ImageVolumeSource{Reference: "tools"}}, want: corev1.VolumeSource{Image: &corev1.ImageVolumeSource{Reference: "tools", PullPolicy: corev1.PullAlways}}},
		{name: "image tag", in: corev1.VolumeSource{Image: &corev1.ImageVolumeSource{Reference: "tools:v1"}}, want: corev1.VolumeSource{Image: &corev1.ImageVolumeSource{Reference: "tools:v1", PullPolicy: corev1.PullIfNotPresent}}},
		{name: "image policy kept", in: corev1.VolumeSource{Image: &corev1.ImageVolumeSource{PullPolicy: corev1.PullNever}}, want: corev1.VolumeSource{Image: &corev1.ImageVolumeSource{PullPolicy: corev1.PullNever}}},
		{name: "nfs untouched", in: corev1.VolumeSource{NFS: &corev1.NFSVolumeSource{Server: "s"}}, want: corev1.VolumeSource{NFS: &corev1.NFSVolumeSource{Server: "s"}}},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			got := defaultPodSpec(corev1.PodSpec{Volumes: []corev1.Volume{{Name: "v", VolumeSource: tc.in}}})
			if diff := cmp.Diff(tc.want, got.Volumes[0].VolumeSource, quantityCmp); diff != "" {
				t.Errorf("volume mismatch (-want +got):\n%s", diff)
			}
		})
	}
}

func TestDaemonSetPaths(t *testing.T) {
	ds := &appsv1.DaemonSet{
		ObjectMeta: metav1.ObjectMeta{Name: "fluentd", Namespace: "kube-system"},
		Spec: appsv1.DaemonSetSpec{
			Template: corev1.PodTemplateSpec{Spec: corev1.PodSpec{
				ServiceAccountName: "fluentd",
				Containers: []corev1.Container{{
					Name: "fluentd", Image: "fluentd:v2",
					Ports:     []corev1.ContainerPort{{ContainerPort: 24224}},
					Resources: corev1.ResourceRequirements{Limits: corev1.ResourceList{corev1.ResourceCPU: resource.MustParse("0.0001")}},
				}},
				Volumes: []corev1.Volume{{Name: "log", VolumeSource: corev1.VolumeSource{HostPath: &corev1.HostPathVolumeSource{Path: "/var/log"}}}, {Name: "tmp"}},
			}},
			UpdateStrategy: appsv1.DaemonSetUpdateStrategy{RollingUpdate: &appsv1.RollingUpdateDaemonSet{MaxSurge: ptr(intstr.FromInt32(1))}},
		},
	}
	want := []string{
		"spec.revisionHistoryLimit",
		"spec.template.spec.containers[0].imagePullPolicy",
		"spec.template.spec.containers[0].ports[0].protocol",
		"spec.template.spec.containers[0].resources.limits.cpu",
		"spec.template.spec.containers[0].terminationMessagePath",
		"spec.template.spec.containers[0].terminationMessagePolicy",
		"spec.template.spec.dnsPolicy",
		"spec.template.spec.restartPolicy",
		"spec.template.spec.schedulerName",
		"spec.template.spec.securityContext",
		"spec.template.spec.serviceAccount",
		"spec.template.spec.terminationGracePeriodSeconds",
		"spec.template.spec.volumes[0].hostPath.type",
		"spec.template.spec.volumes[1].emptyDir",
		"spec.updateStrategy.rollingUpdate.maxUnavailable",
		"spec.updateStrategy.type",
	}
	before := ds.DeepCopy()
	got, paths := DaemonSet(ds)
	if diff := cmp.Diff(want, paths); diff != "" {
		t.Errorf("DaemonSet() paths mismatch (-want +got):\n%s", diff)
	}
	if diff := cmp.Diff(before, ds); diff != "" {
		t.Errorf("DaemonSet() mutated its input (-before +after):\n%s", diff)
	}
	again, paths := DaemonSet(got)
	if len(paths) != 0 {
		t.Errorf("DaemonSet() of a defaulted DaemonSet changed %q, want nothing", paths)
	}
	if diff := cmp.Diff(got, again, quantityCmp); diff != "" {
		t.Errorf("DaemonSet() not idempotent (-once +twice):\n%s", diff)
	}
}

func TestDaemonSetNil(t *testing.T) {
	got, paths := DaemonSet(nil)
	if got != nil || paths != nil {
		t.Errorf("DaemonSet(nil) = %v, %q; want nil, nil", got, paths)
	}
}

func TestPullPolicy(t *testing.T) {
	sha := "sha256:" + "0123456789abcdef0123456789abcdef0123456789abcdef0123456789abcdef"
	tests := []struct {
		image string
		want  corev1.PullPolicy
	}{
		{"nginx", corev1.PullAlways},
		{"nginx:latest", corev1.PullAlways},
		{"docker.io/library/nginx:latest", corev1.PullAlways},
		{"quay.io/fluentd_elasticsearch/fluentd", corev1.PullAlways},
		{"localhost:5000/a/b", corev1.PullAlways},
		{"[::1]:5000/a", corev1.PullAlways},
		{"nginx:1.27", corev1.PullIfNotPresent},
		{"quay.io/fluentd_elasticsearch/fluentd:v2.5.2", corev1.PullIfNotPresent},
		{"nginx:Latest", corev1.PullIfNotPresent},
		{"nginx@" + sha, corev1.PullIfNotPresent},
		{"nginx:latest@" + sha, corev1.PullAlways},
		{"nginx:1@" + sha, corev1.PullIfNotPresent},
		// References that do not parse default to IfNotPresent.
		{"", corev1.PullIfNotPresent},
		{"Nginx", corev1.PullIfNotPresent},
		{"nginx:", corev1.PullIfNotPresent},
		{"nginx@sha256:abc", corev1.PullIfNotPresent},
		{"nginx@md5:0123456789abcdef0123456789abcdef", corev1.PullIfNotPresent},
		{"0123456789abcdef0123456789abcdef0123456789abcdef0123456789abcdef", corev1.PullIfNotPresent},
		{"a//b", corev1.PullIfNotPresent},
		{"UPPER.io/nginx", corev1.PullAlways},
		{"upper/Nginx", corev1.PullIfNotPresent},
	}
	for _, tc := range tests {
		t.Run(tc.image, func(t *testing.T) {
			if got := PullPolicy(tc.image); got != tc.want {
				t.Errorf("PullPolicy(%q) = %s, want %s", tc.image, got, tc.want)
			}
		})
	}
}
