package revision

import (
	"bytes"
	"encoding/binary"
	"encoding/json"
	"errors"
	"fmt"
	"hash/fnv"
	"maps"

	appsv1 "k8s.io/api/apps/v1"
	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/runtime"
	utiljson "k8s.io/apimachinery/pkg/util/json"
	"k8s.io/apimachinery/pkg/util/rand"
	"k8s.io/utils/dump"

	"github.com/dsplan/dsplan/placement"
)

// LabelKey is the label that carries a revision's hash on ControllerRevisions
// and on the pods created from them (apps/v1 DefaultDaemonSetUniqueLabelKey,
// "controller-revision-hash").
const LabelKey = appsv1.DefaultDaemonSetUniqueLabelKey

// errNilDaemonSet is returned for a nil DaemonSet argument.
var errNilDaemonSet = fmt.Errorf("revision: %w", placement.ErrNoDaemonSet)

// Hash returns the revision hash of a pod template, as kube-controller-manager
// v1.37.2 computes it (controller.ComputeHash):
//
//  1. the template value (not the pointer) is printed with apimachinery's
//     deep-hash dump (dump.ForHash: go-spew, sorted map keys, no pointer
//     addresses), and the text is fed to FNV-32a;
//  2. if collisionCount is not nil, 8 more bytes are fed: the count as a
//     little-endian uint32 followed by four zero bytes (upstream allocates 8
//     bytes and fills 4);
//  3. the decimal form of the 32-bit sum is mapped through
//     rand.SafeEncodeString (no vowels, no ambiguous characters).
//
// The hash depends on the Go value, not on its JSON: a nil slice and an empty
// one hash differently. kube-controller-manager reads objects through
// protobuf, which turns empty lists and maps into nil; pass the template in
// that form (and API-defaulted) to get the hash a cluster shows. A nil
// template hashes like the zero template.
func Hash(template *corev1.PodTemplateSpec, collisionCount *int32) string {
	var t corev1.PodTemplateSpec
	if template != nil {
		t = *template
	}
	h := fnv.New32a()
	fmt.Fprintf(h, "%v", dump.ForHash(t))
	if collisionCount != nil {
		var b [8]byte
		binary.LittleEndian.PutUint32(b[:4], uint32(*collisionCount))
		h.Write(b[:])
	}
	return rand.SafeEncodeString(fmt.Sprint(h.Sum32()))
}

// Patch returns the data kube-controller-manager v1.37.2 stores in a
// DaemonSet's ControllerRevision (Data.Raw), byte for byte as its getPatch
// does: the JSON of ds.Spec.Template decoded into a generic map (integers kept
// as integers), "$patch": "replace" added to it, and
// {"spec":{"template":<that map>}} encoded again with encoding/json, which
// sorts map keys and escapes <, > and & as \u003c, \u003e and \u0026.
//
// Upstream encodes the whole DaemonSet and keeps only spec.template; encoding
// the template alone gives the same bytes. The error reports a nil ds;
// JSON encoding does not fail for API objects.
func Patch(ds *appsv1.DaemonSet) ([]byte, error) {
	if ds == nil {
		return nil, errNilDaemonSet
	}
	b, err := json.Marshal(&ds.Spec.Template)
	if err != nil {
		return nil, err
	}
	var template map[string]any
	if err := utiljson.Unmarshal(b, &template); err != nil {
		return nil, err
	}
	template["$patch"] = "replace"
	return json.Marshal(map[string]any{"spec": map[string]any{"template": template}})
}

// Match reports whether rev stores ds's pod template: whether its Data.Raw
// equals [Patch] of ds byte for byte, as kube-controller-manager's Match (and
// kubectl's daemonSetMatch) decide. A revision whose data is the same
// template encoded another way (other key order or spacing) does not match.
func Match(ds *appsv1.DaemonSet, rev *appsv1.ControllerRevision) (bool, error) {
	if rev == nil {
		return false, errors.New("revision: nil ControllerRevision")
	}
	patch, err := Patch(ds)
	if err != nil {
		return false, err
	}
	return bytes.Equal(patch, rev.Data.Raw), nil
}

// New returns the ControllerRevision kube-controller-manager v1.37.2 creates
// for ds's current template (the object its snapshot function sends):
//
//   - Name: "<ds.Name>-<hash>", hash = [Hash] of the template with
//     ds.Status.CollisionCount; Namespace: ds.Namespace;
//   - Labels: the template's labels plus [LabelKey]=hash;
//   - Annotations: ds's annotations (copied, nil stays nil);
//   - OwnerReferences: one controller reference to ds (apps/v1 DaemonSet,
//     controller and blockOwnerDeletion true);
//   - Data.Raw: [Patch] of ds; Revision: number.
//
// The result shares no memory with ds. The error reports a nil ds.
func New(ds *appsv1.DaemonSet, number int64) (*appsv1.ControllerRevision, error) {
	patch, err := Patch(ds)
	if err != nil {
		return nil, err
	}
	return newRevision(ds, Hash(&ds.Spec.Template, ds.Status.CollisionCount), patch, number), nil
}

// newRevision is New with the template's hash and patch already computed.
func newRevision(ds *appsv1.DaemonSet, hash string, patch []byte, number int64) *appsv1.ControllerRevision {
	labels := make(map[string]string, len(ds.Spec.Template.Labels)+1)
	maps.Copy(labels, ds.Spec.Template.Labels)
	labels[LabelKey] = hash
	return &appsv1.ControllerRevision{
		ObjectMeta: metav1.ObjectMeta{
			Name:            ds.Name + "-" + hash,
			Namespace:       ds.Namespace,
			Labels:          labels,
			Annotations:     maps.Clone(ds.Annotations),
			OwnerReferences: []metav1.OwnerReference{*metav1.NewControllerRef(ds, placement.ControllerKind)},
		},
		Data:     runtime.RawExtension{Raw: patch},
		Revision: number,
	}
}
