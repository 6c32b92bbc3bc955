package apidefault

import (
	"encoding/json"
	"reflect"
	"slices"
	"strconv"

	appsv1 "k8s.io/api/apps/v1"
	corev1 "k8s.io/api/core/v1"
	"k8s.io/apimachinery/pkg/api/resource"
	"k8s.io/apimachinery/pkg/util/intstr"
)

// DaemonSet returns a deep copy of ds with the API server's defaults
// applied (see the package documentation), and the JSON paths that
// changed, sorted: the format of the oracle's input.defaultedPaths, e.g.
// "spec.template.spec.containers[0].imagePullPolicy". A path names the
// deepest JSON object member or list element that changed; a list whose
// length changed is named as a whole. ds is not mutated; nil gives nil.
func DaemonSet(ds *appsv1.DaemonSet) (*appsv1.DaemonSet, []string) {
	if ds == nil {
		return nil, nil
	}
	out := ds.DeepCopy()
	daemonSetSpec(&out.Spec)
	podSpec(&out.Spec.Template.Spec)
	return out, changedPaths(ds, out)
}

func daemonSetSpec(spec *appsv1.DaemonSetSpec) {
	s := &spec.UpdateStrategy
	setDefault(&s.Type, appsv1.RollingUpdateDaemonSetStrategyType)
	if s.Type == appsv1.RollingUpdateDaemonSetStrategyType {
		if s.RollingUpdate == nil {
			s.RollingUpdate = &appsv1.RollingUpdateDaemonSet{}
		}
		setDefaultPtr(&s.RollingUpdate.MaxUnavailable, intstr.FromInt32(1))
		setDefaultPtr(&s.RollingUpdate.MaxSurge, intstr.FromInt32(0))
	}
	setDefaultPtr(&spec.RevisionHistoryLimit, 10)
}

func podSpec(s *corev1.PodSpec) {
	// serviceAccount is the deprecated alias of serviceAccountName; the
	// newer field wins when both are set.
	setDefault(&s.ServiceAccountName, s.DeprecatedServiceAccount)
	s.DeprecatedServiceAccount = s.ServiceAccountName
	setDefault(&s.DNSPolicy, corev1.DNSClusterFirst)
	setDefault(&s.RestartPolicy, corev1.RestartPolicyAlways)
	setDefaultPtr(&s.SecurityContext, corev1.PodSecurityContext{})
	setDefaultPtr(&s.TerminationGracePeriodSeconds, corev1.DefaultTerminationGracePeriodSeconds)
	setDefault(&s.SchedulerName, corev1.DefaultSchedulerName)

	for i := range s.Volumes {
		volume(&s.Volumes[i])
	}
	for i := range s.InitContainers {
		container(&s.InitContainers[i])
	}
	for i := range s.Containers {
		container(&s.Containers[i])
	}
	for i := range s.EphemeralContainers {
		// EphemeralContainerCommon has the fields of Container, in order.
		container((*corev1.Container)(&s.EphemeralContainers[i].EphemeralContainerCommon))
	}
	roundUp(s.Overhead)
	if s.Resources != nil {
		roundUp(s.Resources.Limits)
		roundUp(s.Resources.Requests)
	}
}

func container(c *corev1.Container) {
	if c.ImagePullPolicy == "" {
		c.ImagePullPolicy = PullPolicy(c.Image)
	}
	setDefault(&c.TerminationMessagePath, corev1.TerminationMessagePathDefault)
	setDefault(&c.TerminationMessagePolicy, corev1.TerminationMessageReadFile)
	for i := range c.Ports {
		setDefault(&c.Ports[i].Protocol, corev1.ProtocolTCP)
	}
	for _, e := range c.Env {
		if e.ValueFrom == nil {
			continue
		}
		fieldRef(e.ValueFrom.FieldRef)
		if e.ValueFrom.FileKeyRef != nil {
			setDefaultPtr(&e.ValueFrom.FileKeyRef.Optional, false)
		}
	}
	roundUp(c.Resources.Limits)
	roundUp(c.Resources.Requests)
	for _, p := range []*corev1.Probe{c.LivenessProbe, c.ReadinessProbe, c.StartupProbe} {
		if p == nil {
			continue
		}
		setDefault(&p.TimeoutSeconds, 1)
		setDefault(&p.PeriodSeconds, 10)
		setDefault(&p.SuccessThreshold, 1)
		setDefault(&p.FailureThreshold, 3)
		httpGet(p.HTTPGet)
		if p.GRPC != nil {
			setDefaultPtr(&p.GRPC.Service, "")
		}
	}
	if c.Lifecycle != nil {
		for _, h := range []*corev1.LifecycleHandler{c.Lifecycle.PostStart, c.Lifecycle.PreStop} {
			if h != nil {
				httpGet(h.HTTPGet)
			}
		}
	}
}

func httpGet(h *corev1.HTTPGetAction) {
	if h != nil {
		setDefault(&h.Path, "/")
		setDefault(&h.Scheme, corev1.URISchemeHTTP)
	}
}

func fieldRef(f *corev1.ObjectFieldSelector) {
	if f != nil {
		setDefault(&f.APIVersion, "v1")
	}
}

func volume(v *corev1.Volume) {
	if noSource(&v.VolumeSource) {
		v.EmptyDir = &corev1.EmptyDirVolumeSource{}
	}
	if v.Image != nil && v.Image.PullPolicy == "" {
		v.Image.PullPolicy = PullPolicy(v.Image.Reference)
	}
	if s := v.HostPath; s != nil {
		setDefaultPtr(&s.Type, corev1.HostPathUnset)
	}
	if s := v.Secret; s != nil {
		setDefaultPtr(&s.DefaultMode, corev1.SecretVolumeSourceDefaultMode)
	}
	if s := v.ConfigMap; s != nil {
		setDefaultPtr(&s.DefaultMode, corev1.ConfigMapVolumeSourceDefaultMode)
	}
	if s := v.DownwardAPI; s != nil {
		setDefaultPtr(&s.DefaultMode, corev1.DownwardAPIVolumeSourceDefaultMode)
		for _, it := range s.Items {
			fieldRef(it.FieldRef)
		}
	}
	if s := v.Projected; s != nil {
		setDefaultPtr(&s.DefaultMode, corev1.ProjectedVolumeSourceDefaultMode)
		for _, src := range s.Sources {
			if src.DownwardAPI != nil {
				for _, it := range src.DownwardAPI.Items {
					fieldRef(it.FieldRef)
				}
			}
			if src.ServiceAccountToken != nil {
				setDefaultPtr(&src.ServiceAccountToken.ExpirationSeconds, 3600)
			}
		}
	}
	if s := v.ISCSI; s != nil {
		setDefault(&s.ISCSIInterface, "default")
	}
	if s := v.RBD; s != nil {
		setDefault(&s.RBDPool, "rbd")
		setDefault(&s.RadosUser, "admin")
		setDefault(&s.Keyring, "/etc/ceph/keyring")
	}
	if s := v.AzureDisk; s != nil {
		setDefaultPtr(&s.CachingMode, corev1.AzureDataDiskCachingReadWrite)
		setDefaultPtr(&s.FSType, "ext4")
		setDefaultPtr(&s.ReadOnly, false)
		setDefaultPtr(&s.Kind, corev1.AzureSharedBlobDisk)
	}
	if s := v.ScaleIO; s != nil {
		setDefault(&s.StorageMode, "ThinProvisioned")
		setDefault(&s.FSType, "xfs")
	}
	if s := v.Ephemeral; s != nil && s.VolumeClaimTemplate != nil {
		spec := &s.VolumeClaimTemplate.Spec
		setDefaultPtr(&spec.VolumeMode, corev1.PersistentVolumeFilesystem)
		roundUp(spec.Resources.Limits)
		roundUp(spec.Resources.Requests)
	}
}

// noSource reports whether no volume source is set (every pointer field of
// VolumeSource is nil), whatever fields later API versions add.
func noSource(s *corev1.VolumeSource) bool {
	v := reflect.ValueOf(s).Elem()
	for i := range v.NumField() {
		if f := v.Field(i); f.Kind() == reflect.Pointer && !f.IsNil() {
			return false
		}
	}
	return true
}

// roundUp rounds every quantity of l up to milli units, in place.
func roundUp(l corev1.ResourceList) {
	for name, q := range l {
		q.RoundUp(resource.Milli)
		l[name] = q
	}
}

func setDefault[T comparable](field *T, value T) {
	var zero T
	if *field == zero {
		*field = value
	}
}

func setDefaultPtr[T any](field **T, value T) {
	if *field == nil {
		*field = &value
	}
}

// changedPaths returns the JSON paths at which before and after differ,
// sorted. Both are marshalled with encoding/json, as the oracle does.
func changedPaths(before, after *appsv1.DaemonSet) []string {
	a, errA := toGeneric(before)
	b, errB := toGeneric(after)
	if errA != nil || errB != nil {
		// Unreachable for DaemonSets: they hold no floats or raw JSON.
		return nil
	}
	var paths []string
	diffPaths("", a, b, &paths)
	slices.Sort(paths)
	return paths
}

func toGeneric(v any) (any, error) {
	b, err := json.Marshal(v)
	if err != nil {
		return nil, err
	}
	var out any
	err = json.Unmarshal(b, &out)
	return out, err
}

func diffPaths(path string, a, b any, out *[]string) {
	if reflect.DeepEqual(a, b) {
		return
	}
	switch a := a.(type) {
	case map[string]any:
		if b, ok := b.(map[string]any); ok {
			for k, av := range a {
				diffPaths(join(path, k), av, b[k], out)
			}
			for k, bv := range b {
				if _, ok := a[k]; !ok {
					diffPaths(join(path, k), nil, bv, out)
				}
			}
			return
		}
	case []any:
		if b, ok := b.([]any); ok && len(a) == len(b) {
			for i := range a {
				diffPaths(path+"["+strconv.Itoa(i)+"]", a[i], b[i], out)
			}
			return
		}
	}
	*out = append(*out, path)
}

func join(path, key string) string {
	if path == "" {
		return key
	}
	return path + "." + key
}
