package placement

import (
	"cmp"
	"encoding/json"
	"errors"
	"slices"
	"strings"

	appsv1 "k8s.io/api/apps/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/types"
)

// ErrNoDaemonSet is the error every dsplan function returns, or wraps, when
// it is given no DaemonSet (a nil pointer).
var ErrNoDaemonSet = errors.New("no DaemonSet")

// ControllerKind is the kind kube-controller-manager writes into the
// controller reference of the pods and ControllerRevisions a DaemonSet
// controls: apps/v1 DaemonSet.
var ControllerKind = appsv1.SchemeGroupVersion.WithKind("DaemonSet")

// ClaimKind names the kind of object a [Claim] patches.
type ClaimKind string

// Claim kinds.
const (
	ClaimPod      ClaimKind = "Pod"
	ClaimRevision ClaimKind = "ControllerRevision"
)

// ClaimType says whether a [Claim] adopts or releases an object.
type ClaimType string

const (
	// Adopt makes the DaemonSet the controller of an orphan that matches its
	// selector.
	Adopt ClaimType = "adopt"
	// Release removes the DaemonSet's controller reference from an object it
	// controls that no longer matches its selector.
	Release ClaimType = "release"
)

// Claim is one ownership change kube-controller-manager's
// ControllerRefManager sends for a DaemonSet: the object, the kind of change
// and the exact strategic merge patch body. Pods are claimed by [Group],
// ControllerRevisions by package revision; both use this one shape.
type Claim struct {
	Kind  ClaimKind
	Name  string
	Type  ClaimType
	Patch string
}

// ClaimObjects returns the objects among objs that ds controls after
// claiming, in input order, and the claims (of the given kind) that
// claiming sends, sorted (see [SortClaims]). match reports whether an object
// matches ds's selector, and any other filter the caller applies. The rules
// are those of BaseControllerRefManager.ClaimObject in k8s.io/kubernetes
// v1.37.2 (pkg/controller/controller_ref_manager.go), for an owner whose
// "can adopt" recheck succeeds, in order:
//
//  1. controlled by another owner (a controller reference with another
//     UID): ignored;
//  2. controlled by ds and matching: claimed, no patch;
//  3. controlled by ds and not matching: released, unless ds is being
//     deleted (then ignored);
//  4. an orphan: adopted when ds is not being deleted, the object matches, is
//     not being deleted and lives in ds's namespace; otherwise ignored.
//
// nil objects are skipped. Neither ds nor objs are modified. A nil ds
// claims nothing.
func ClaimObjects[O any, T interface {
	*O
	metav1.Object
}](ds *appsv1.DaemonSet, kind ClaimKind, objs []T, match func(T) bool) (claimed []T, claims []Claim) {
	if ds == nil {
		return nil, nil
	}
	claimed = make([]T, 0, len(objs))
	for _, obj := range objs {
		if obj == nil {
			continue
		}
		ok, c := decideClaim(ds, kind, obj, metav1.GetControllerOfNoCopy(obj), match)
		if ok {
			claimed = append(claimed, obj)
		}
		if c.Type != "" {
			claims = append(claims, c)
		}
	}
	SortClaims(claims)
	return claimed, claims
}

// decideClaim is ClaimObjects for one object, for callers that claim while
// they walk their objects for other reasons: whether ds controls obj after
// claiming, and the claim sent (the zero Claim for none). ref must be obj's
// controller reference, metav1.GetControllerOfNoCopy(obj).
func decideClaim[T metav1.Object](ds *appsv1.DaemonSet, kind ClaimKind, obj T, ref *metav1.OwnerReference, match func(T) bool) (bool, Claim) {
	dsDeleting := ds.DeletionTimestamp != nil
	switch {
	case ref != nil && ref.UID != ds.UID:
		// Owned by someone else.
	case ref != nil && match(obj):
		return true, Claim{}
	case ref != nil:
		if !dsDeleting {
			return false, Claim{Kind: kind, Name: obj.GetName(), Type: Release, Patch: releasePatch(obj.GetUID(), ds.UID)}
		}
	case dsDeleting || !match(obj) || obj.GetDeletionTimestamp() != nil:
		// An orphan we may not adopt.
	case ds.Namespace != "" && ds.Namespace != obj.GetNamespace():
		// Orphans in other namespaces are never adopted.
	default:
		return true, Claim{Kind: kind, Name: obj.GetName(), Type: Adopt, Patch: adoptPatch(ds, obj.GetUID())}
	}
	return false, Claim{}
}

// SortClaims sorts claims as dsplan returns them: by kind, name, type, then
// body, so that the order never depends on the order they were made in
// (objects may share a name in a malformed snapshot).
func SortClaims(claims []Claim) {
	slices.SortFunc(claims, func(a, b Claim) int {
		return cmp.Or(strings.Compare(string(a.Kind), string(b.Kind)), strings.Compare(a.Name, b.Name),
			strings.Compare(string(a.Type), string(b.Type)), strings.Compare(a.Patch, b.Patch))
	})
}

// adoptPatch is the body of kube-controller-manager's
// ownerRefControllerPatch: the DaemonSet as controller with
// blockOwnerDeletion, guarded by the object's UID.
func adoptPatch(ds *appsv1.DaemonSet, uid types.UID) string {
	type meta struct {
		OwnerReferences []metav1.OwnerReference `json:"ownerReferences"`
		UID             types.UID               `json:"uid"`
	}
	body := struct {
		Metadata meta `json:"metadata"`
	}{meta{
		OwnerReferences: []metav1.OwnerReference{*metav1.NewControllerRef(ds, ControllerKind)},
		UID:             uid,
	}}
	return marshal(body)
}

// releasePatch is the body of kube-controller-manager's
// GenerateDeleteOwnerRefStrategicMergeBytes for one owner: a strategic merge
// patch deleting the owner reference by UID.
func releasePatch(uid, owner types.UID) string {
	type meta struct {
		UID             types.UID           `json:"uid"`
		OwnerReferences []map[string]string `json:"ownerReferences"`
	}
	body := struct {
		Metadata meta `json:"metadata"`
	}{meta{
		UID:             uid,
		OwnerReferences: []map[string]string{{"$patch": "delete", "uid": string(owner)}},
	}}
	return marshal(body)
}

// marshal encodes values that cannot fail to encode (strings, bools and
// metav1 types).
func marshal(v any) string {
	b, err := json.Marshal(v)
	if err != nil {
		panic("placement: cannot encode a claim patch: " + err.Error()) // unreachable
	}
	return string(b)
}
