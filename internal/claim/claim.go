// Package claim decides which objects a DaemonSet controls, as
// kube-controller-manager's ControllerRefManager does, and returns the
// adopt and release patches it would send instead of sending them.
//
// It serves two callers: package revision claims ControllerRevisions and
// package plan claims Pods. The rules are those of
// BaseControllerRefManager.ClaimObject in k8s.io/kubernetes v1.37.2
// (pkg/controller/controller_ref_manager.go), for an owner whose
// "can adopt" recheck succeeds (the DaemonSet exists and is not being
// deleted, which the caller has checked before planning).
package claim

import (
	"cmp"
	"encoding/json"
	"slices"
	"strings"

	appsv1 "k8s.io/api/apps/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/types"
)

// Type says whether a patch adopts an orphan or releases an owned object.
type Type string

const (
	// Adopt sets the DaemonSet as controller of an orphan that matches its selector.
	Adopt Type = "adopt"
	// Release removes the DaemonSet's controller reference from an object
	// that no longer matches its selector.
	Release Type = "release"
)

// Patch is one ownership change: the object's name, the kind of change and
// the exact strategic merge patch body kube-controller-manager sends.
type Patch struct {
	Name  string
	Type  Type
	Patch string
}

// controllerKind is the GroupVersionKind KCM writes into adopt patches.
var controllerKind = appsv1.SchemeGroupVersion.WithKind("DaemonSet")

// Objects returns the objects among objs that ds controls after claiming,
// in input order, and the patches that claiming sends, sorted by name then
// type. match reports whether an object matches the DaemonSet's selector
// (and any other filter the caller applies).
//
// Rules, in order:
//   - controlled by another owner (controller reference with another UID): ignored;
//   - controlled by ds and matching: claimed, no patch;
//   - controlled by ds and not matching: released, unless ds is being deleted;
//   - orphan: adopted when ds is not being deleted, the object matches, is not
//     being deleted, and lives in ds's namespace; otherwise ignored.
//
// Neither ds nor objs are modified.
func Objects[T metav1.Object](ds *appsv1.DaemonSet, objs []T, match func(T) bool) (claimed []T, patches []Patch) {
	claimed = make([]T, 0, len(objs))
	for _, obj := range objs {
		ok, p := Decide(ds, obj, metav1.GetControllerOfNoCopy(obj), match)
		if ok {
			claimed = append(claimed, obj)
		}
		if p.Type != "" {
			patches = append(patches, p)
		}
	}
	SortPatches(patches)
	return claimed, patches
}

// Decide is Objects for one object, for callers that claim while they
// walk their objects for other reasons: whether ds controls obj after
// claiming, and the patch claiming sends (the zero Patch for none). ref
// must be obj's controller reference, metav1.GetControllerOfNoCopy(obj).
// Sort the patches of several objects with SortPatches.
func Decide[T metav1.Object](ds *appsv1.DaemonSet, obj T, ref *metav1.OwnerReference, match func(T) bool) (bool, Patch) {
	dsDeleting := ds.DeletionTimestamp != nil
	switch {
	case ref != nil && ref.UID != ds.UID:
		// Owned by someone else.
	case ref != nil && match(obj):
		return true, Patch{}
	case ref != nil:
		if !dsDeleting {
			return false, Patch{Name: obj.GetName(), Type: Release, Patch: releasePatch(obj.GetUID(), ds.UID)}
		}
	case dsDeleting || !match(obj) || obj.GetDeletionTimestamp() != nil:
		// An orphan we may not adopt.
	case ds.Namespace != "" && ds.Namespace != obj.GetNamespace():
		// Orphans in other namespaces are never adopted.
	default:
		return true, Patch{Name: obj.GetName(), Type: Adopt, Patch: adoptPatch(ds, obj.GetUID())}
	}
	return false, Patch{}
}

// SortPatches sorts patches as Objects returns them: by name, then type,
// then body, so that the order never depends on the order they were made
// in (objects may share a name in a malformed snapshot).
func SortPatches(patches []Patch) {
	slices.SortFunc(patches, func(a, b Patch) int {
		return cmp.Or(strings.Compare(a.Name, b.Name), strings.Compare(string(a.Type), string(b.Type)), strings.Compare(a.Patch, b.Patch))
	})
}

// adoptPatch is the body of KCM's ownerRefControllerPatch: the DaemonSet as
// controller with blockOwnerDeletion, guarded by the object's UID.
func adoptPatch(ds *appsv1.DaemonSet, uid types.UID) string {
	type meta struct {
		OwnerReferences []metav1.OwnerReference `json:"ownerReferences"`
		UID             types.UID               `json:"uid"`
	}
	body := struct {
		Metadata meta `json:"metadata"`
	}{meta{
		OwnerReferences: []metav1.OwnerReference{*metav1.NewControllerRef(ds, controllerKind)},
		UID:             uid,
	}}
	return marshal(body)
}

// releasePatch is the body of KCM's GenerateDeleteOwnerRefStrategicMergeBytes
// for one owner: a strategic merge patch deleting the owner reference by UID.
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

// marshal encodes values that cannot fail to encode (plain strings, maps
// of strings and metav1 types).
func marshal(v any) string {
	b, err := json.Marshal(v)
	if err != nil {
		panic("claim: cannot encode patch: " + err.Error()) // unreachable: only strings and bools
	}
	return string(b)
}
