package plan

import (
	appsv1 "k8s.io/api/apps/v1"

	"github.com/dsplan/dsplan/internal/apidefault"
	"github.com/dsplan/dsplan/internal/snapshot"
)

// Decode reads a snapshot from what `kubectl get daemonset/NAME nodes pods
// controllerrevisions -o yaml` prints: one YAML or JSON stream holding a v1
// List, several documents or *List kinds, with exactly one apps/v1
// DaemonSet and any number of Nodes, Pods and ControllerRevisions. Objects
// of other kinds are skipped and named in the returned warnings.
//
// Every object comes back as kube-controller-manager receives it, through
// a protobuf round trip: explicit empty lists and maps become nil, which
// the revision hash depends on; a ControllerRevision's data is compacted
// (`kubectl get -o json` re-indents it, while the API server holds the
// compact JSON the controller wrote, and revisions are matched by their
// bytes). Decode applies no API defaults (see
// Default) and leaves Now, FailedPodBackoff and PendingExpectations unset.
// Errors name the offending item, for example
// `items[3] (Pod "x"): json: cannot unmarshal ...`; on error the Snapshot
// is zero.
func Decode(data []byte) (Snapshot, []string, error) {
	objs, err := snapshot.Decode(data)
	if err != nil {
		return Snapshot{}, nil, err
	}
	objs, err = snapshot.Normalize(objs)
	if err != nil {
		return Snapshot{}, nil, err
	}
	return Snapshot{DaemonSet: objs.DaemonSet, Nodes: objs.Nodes, Pods: objs.Pods, Revisions: snapshot.CompactRevisionData(objs.Revisions)}, objs.Warnings, nil
}

// Default returns a copy of ds as the API server stores it: the apps/v1
// DaemonSet defaults (RollingUpdate with maxUnavailable 1 and maxSurge 0,
// revisionHistoryLimit 10) and the core/v1 pod template defaults
// (imagePullPolicy, terminationMessagePath, dnsPolicy, restartPolicy,
// schedulerName, securityContext, ...), followed by the protobuf
// normalisation Decode applies. The template defaults change the revision
// hash, so a DaemonSet written by hand must be defaulted to plan as it
// would in a cluster; objects read from a cluster are already defaulted
// and come back equal.
//
// The second result lists the JSON paths the defaults changed, sorted (for
// example "spec.template.spec.dnsPolicy"). ds is not modified; nil gives
// nil.
func Default(ds *appsv1.DaemonSet) (*appsv1.DaemonSet, []string) {
	out, paths := apidefault.DaemonSet(ds)
	// A protobuf round trip of a DaemonSet cannot fail short of a bug in
	// k8s.io/api; should it, the defaulted copy is returned as it is.
	if normalized, err := snapshot.NormalizeObject(out); err == nil {
		out = normalized
	}
	return out, paths
}
