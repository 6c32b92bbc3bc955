package main

import (
	"encoding/json"
	"io"
	"slices"

	appsv1 "k8s.io/api/apps/v1"
	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"

	"github.com/dsplan/dsplan/placement"
	"github.com/dsplan/dsplan/plan"
)

// oraclePlan is the oracle's JSON schema for the fields whatif reports.
type oraclePlan struct {
	Hash          string                 `json:"hash"`
	Creates       []oracleCreate         `json:"creates"`
	Deletes       []string               `json:"deletes"`
	PodPatches    []oraclePodPatch       `json:"podPatches"`
	Status        appsv1.DaemonSetStatus `json:"status"`
	Revisions     oracleRevisions        `json:"revisions"`
	StatusUpdated bool                   `json:"statusUpdated"`
	Error         string                 `json:"error,omitempty"`
	Claims        oracleClaims           `json:"claims"`
}

type oracleCreate struct {
	Node string                 `json:"node"`
	Pod  corev1.PodTemplateSpec `json:"pod"`
}

type oraclePodPatch struct {
	Pod    string            `json:"pod"`
	Labels map[string]string `json:"labels"`
}

type oracleRevisions struct {
	Create []*appsv1.ControllerRevision `json:"create"`
	Update []*appsv1.ControllerRevision `json:"update"`
	Delete []string                     `json:"delete"`
}

type oracleClaims struct {
	Pods      []oracleClaim `json:"pods"`
	Revisions []oracleClaim `json:"revisions"`
}

type oracleClaim struct {
	Name  string          `json:"name"`
	Type  string          `json:"type"`
	Patch json.RawMessage `json:"patch"`
}

// Patch types as the oracle names them: the pod control's and the
// ControllerRevision client's strategic merge patch type.
const (
	podPatchType      = "strategic"
	revisionPatchType = "application/strategic-merge-patch+json"
)

// toOracle converts a plan to the oracle's schema. Lists are never null.
func toOracle(ds *appsv1.DaemonSet, p plan.Plan) oraclePlan {
	o := oraclePlan{
		Hash:          p.Hash,
		Creates:       []oracleCreate{},
		Deletes:       []string{},
		PodPatches:    []oraclePodPatch{},
		Status:        p.Status,
		StatusUpdated: p.StatusChanged,
		Revisions: oracleRevisions{
			Create: nonNil(p.Revisions.Create),
			Update: nonNil(p.Revisions.Update),
			Delete: nonNil(p.Revisions.Delete),
		},
		Claims: oracleClaims{Pods: []oracleClaim{}, Revisions: []oracleClaim{}},
	}
	if p.Err != nil {
		o.Error = p.Err.Error()
	}
	for _, c := range p.Creates {
		o.Creates = append(o.Creates, oracleCreate{Node: c.Node, Pod: corev1.PodTemplateSpec{
			ObjectMeta: templateMeta(ds, c.Pod),
			Spec:       c.Pod.Spec,
		}})
	}
	for _, d := range p.Deletes {
		o.Deletes = append(o.Deletes, d.Pod)
	}
	slices.Sort(o.Deletes)
	for _, pp := range p.PodPatches {
		o.PodPatches = append(o.PodPatches, oraclePodPatch{Pod: pp.Pod, Labels: pp.Labels})
	}
	for _, c := range p.Claims {
		switch c.Kind {
		case placement.ClaimPod:
			o.Claims.Pods = append(o.Claims.Pods, oracleClaim{Name: c.Name, Type: podPatchType, Patch: json.RawMessage(c.Patch)})
		case placement.ClaimRevision:
			o.Claims.Revisions = append(o.Claims.Revisions, oracleClaim{Name: c.Name, Type: revisionPatchType, Patch: json.RawMessage(c.Patch)})
		}
	}
	return o
}

// templateMeta is the metadata of the template kube-controller-manager
// passes to CreatePods (what the oracle records): the DaemonSet's template
// metadata with the created pod's labels (revision hash and generation).
func templateMeta(ds *appsv1.DaemonSet, pod *corev1.Pod) metav1.ObjectMeta {
	m := *ds.Spec.Template.ObjectMeta.DeepCopy()
	m.Labels = pod.Labels
	return m
}

func nonNil[T any](s []T) []T {
	if s == nil {
		return []T{}
	}
	return s
}

func writeJSON(w io.Writer, ds *appsv1.DaemonSet, p plan.Plan) error {
	enc := json.NewEncoder(w)
	enc.SetIndent("", "  ")
	return enc.Encode(toOracle(ds, p))
}
