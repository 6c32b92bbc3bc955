package revision

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"reflect"
	"slices"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"
	appsv1 "k8s.io/api/apps/v1"
	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/labels"
	utilyaml "k8s.io/apimachinery/pkg/util/yaml"

	"github.com/dsplan/dsplan/internal/apidefault"
	"github.com/dsplan/dsplan/placement"
)

// snapshot is one oracle input: a DaemonSet with its pods and revisions
// (nodes are not needed here).
type snapshot struct {
	ds             *appsv1.DaemonSet
	pods           []*corev1.Pod
	revisions      []*appsv1.ControllerRevision
	defaultedPaths []string
}

// readSnapshot decodes a List YAML written by `oracle gen`, applies the API
// server's defaults to the DaemonSet (internal/apidefault, recording the
// changed paths) and puts every object through a protobuf round trip, as the
// oracle (and kube-controller-manager) sees them.
func readSnapshot(r io.Reader) (*snapshot, error) {
	s := &snapshot{}
	var decodedDS *appsv1.DaemonSet
	dec := utilyaml.NewYAMLOrJSONDecoder(r, 4096)
	var add func(raw json.RawMessage) error
	add = func(raw json.RawMessage) error {
		raw = bytes.TrimSpace(raw)
		if len(raw) == 0 || string(raw) == "null" {
			return nil
		}
		var tm struct {
			Kind  string            `json:"kind"`
			Items []json.RawMessage `json:"items"`
		}
		if err := json.Unmarshal(raw, &tm); err != nil {
			return err
		}
		type protoObject interface {
			Marshal() ([]byte, error)
			Unmarshal([]byte) error
		}
		var obj protoObject
		switch {
		case strings.HasSuffix(tm.Kind, "List"):
			for _, it := range tm.Items {
				if err := add(it); err != nil {
					return err
				}
			}
			return nil
		case tm.Kind == "DaemonSet":
			if s.ds != nil {
				return errors.New("more than one DaemonSet")
			}
			s.ds = &appsv1.DaemonSet{}
			decodedDS = s.ds
			obj = s.ds
		case tm.Kind == "Pod":
			p := &corev1.Pod{}
			s.pods = append(s.pods, p)
			obj = p
		case tm.Kind == "ControllerRevision":
			r := &appsv1.ControllerRevision{}
			s.revisions = append(s.revisions, r)
			obj = r
		default:
			return nil
		}
		if err := json.Unmarshal(raw, obj); err != nil {
			return fmt.Errorf("%s: %w", tm.Kind, err)
		}
		if obj == protoObject(decodedDS) {
			defaulted, paths := apidefault.DaemonSet(decodedDS)
			*decodedDS = *defaulted
			s.defaultedPaths = paths
		}
		b, err := obj.Marshal()
		if err != nil {
			return err
		}
		// Unmarshal merges into what is there: start from the zero value.
		reflect.ValueOf(obj).Elem().SetZero()
		return obj.Unmarshal(b)
	}
	for {
		var raw json.RawMessage
		err := dec.Decode(&raw)
		if err == io.EOF {
			break
		}
		if err != nil {
			return nil, err
		}
		if err := add(raw); err != nil {
			return nil, err
		}
	}
	if s.ds == nil {
		return nil, errors.New("no DaemonSet")
	}
	return s, nil
}

// claimedPods mirrors getDaemonPods: pods of ds's namespace controlled by ds
// (by namespace, kind, name and UID, the key of KCM's pod index) or orphaned,
// then claimed by selector.
func claimedPods(t *testing.T, ds *appsv1.DaemonSet, pods []*corev1.Pod) []*corev1.Pod {
	t.Helper()
	selector, err := metav1.LabelSelectorAsSelector(ds.Spec.Selector)
	if err != nil {
		t.Fatal(err)
	}
	var candidates []*corev1.Pod
	for _, p := range pods {
		if p.Namespace != ds.Namespace {
			continue
		}
		if ref := metav1.GetControllerOfNoCopy(p); ref != nil && (ref.Kind != "DaemonSet" || ref.Name != ds.Name || ref.UID != ds.UID) {
			continue
		}
		candidates = append(candidates, p)
	}
	claimed, _ := placement.ClaimObjects(ds, placement.ClaimPod, candidates, func(p *corev1.Pod) bool { return selector.Matches(labels.Set(p.Labels)) })
	return claimed
}

// oracleOutcome holds the fields of the trimmed oracle output that concern
// revisions (see testdata/regen.sh).
type oracleOutcome struct {
	Hash         string   `json:"hash"`
	HashRevision string   `json:"hashRevision"`
	Error        string   `json:"error"`
	Panic        string   `json:"panic"`
	FailedWrites []string `json:"failedWrites"`
	Revisions    struct {
		Create []json.RawMessage `json:"create"`
		Update []json.RawMessage `json:"update"`
		Delete []string          `json:"delete"`
	} `json:"revisions"`
	PodPatches []struct {
		Pod    string            `json:"pod"`
		Labels map[string]string `json:"labels"`
	} `json:"podPatches"`
	ClaimsRevisions []struct {
		Name  string          `json:"name"`
		Patch json.RawMessage `json:"patch"`
	} `json:"claimsRevisions"`
	CollisionCount *int32 `json:"collisionCount"`
}

type oracleFixture struct {
	oracleOutcome
	DefaultedPaths   []string        `json:"defaultedPaths"`
	VariesAcrossRuns []string        `json:"variesAcrossRuns"`
	Variants         []oracleOutcome `json:"variants"`
}

// generic decodes JSON into plain Go values, so that two encodings of one
// object compare equal regardless of key order.
func generic(t *testing.T, b []byte) any {
	t.Helper()
	var v any
	if err := json.Unmarshal(b, &v); err != nil {
		t.Fatalf("%v in %s", err, b)
	}
	return v
}

func genericObject(t *testing.T, v any) any {
	t.Helper()
	b, err := json.Marshal(v)
	if err != nil {
		t.Fatal(err)
	}
	return generic(t, b)
}

// TestOracleParity runs Reconcile (and Cleanup when the sync reached it) on
// every snapshot in testdata/oracle and compares with what the real
// kube-controller-manager v1.37.2 did: hash, current revision, revision
// creates, updates and deletes, pod relabel patches, revision claims,
// collision error and collision count.
func TestOracleParity(t *testing.T) {
	files, err := filepath.Glob("testdata/oracle/*.json")
	if err != nil {
		t.Fatal(err)
	}
	if len(files) == 0 {
		t.Fatal("no fixtures in testdata/oracle (run testdata/regen.sh)")
	}
	agreed, early, varied, panicked := 0, 0, 0, 0
	for _, file := range files {
		name := strings.TrimSuffix(filepath.Base(file), ".json")
		t.Run(name, func(t *testing.T) {
			var fx oracleFixture
			b, err := os.ReadFile(file)
			if err != nil {
				t.Fatal(err)
			}
			if err := json.Unmarshal(b, &fx); err != nil {
				t.Fatal(err)
			}
			f, err := os.Open(strings.TrimSuffix(file, ".json") + ".yaml")
			if err != nil {
				t.Fatal(err)
			}
			defer f.Close()
			s, err := readSnapshot(f)
			if err != nil {
				t.Fatal(err)
			}
			ds := s.ds
			if diff := cmp.Diff(fx.DefaultedPaths, s.defaultedPaths, cmpEmpty); diff != "" {
				t.Errorf("API defaulting (internal/apidefault) changed other paths than the oracle's (-oracle +apidefault):\n%s", diff)
			}
			if ds.DeletionTimestamp != nil || (ds.Spec.Selector != nil && len(ds.Spec.Selector.MatchLabels) == 0 && len(ds.Spec.Selector.MatchExpressions) == 0) {
				// syncDaemonSet returns before constructHistory.
				if fx.Hash != "" || fx.Error != "" || len(fx.Revisions.Create)+len(fx.Revisions.Update)+len(fx.Revisions.Delete) != 0 {
					t.Errorf("oracle touched revisions of a DaemonSet that is deleted or selects everything: %+v", fx.oracleOutcome)
				}
				early++
				return
			}
			pods := claimedPods(t, ds, s.pods)
			h, err := Reconcile(ds, nil, s.revisions)
			if fx.Panic != "" {
				// The one upstream panic on this path: a nil label map.
				if fx.Panic != "assignment to entry in nil map" || !errors.Is(err, ErrNoLabels) {
					t.Fatalf("oracle panicked with %q; Reconcile = %+v, %v; want an error wrapping ErrNoLabels", fx.Panic, h, err)
				}
				panicked++
				return
			}
			if err != nil {
				t.Fatalf("Reconcile: %v", err)
			}
			want := fx.oracleOutcome
			if len(fx.Variants) > 0 {
				varied++
				i := slices.IndexFunc(fx.Variants, func(v oracleOutcome) bool { return v.Hash == h.Hash })
				if i < 0 {
					t.Fatalf("hash %q is none of the oracle's variants", h.Hash)
				}
				want = fx.Variants[i]
			}
			before := t.Failed()
			compareOutcome(t, ds, h, h.Relabel(slices.Values(pods)), Cleanup(ds, h.Old, slices.Values(pods)), want)
			if !t.Failed() && !before {
				agreed++
			}
		})
	}
	t.Logf("oracle parity: %d/%d snapshots agree (%d compared in full, %d of them with upstream-random tie variants; "+
		"%d returned before constructHistory; %d where upstream panics and Reconcile returns ErrNoLabels)",
		agreed+early+panicked, len(files), agreed, varied, early, panicked)
}

func compareOutcome(t *testing.T, ds *appsv1.DaemonSet, h History, relabels []PodPatch, cleanup []string, want oracleOutcome) {
	t.Helper()
	if h.Hash != want.Hash {
		t.Errorf("Hash = %q, want %q", h.Hash, want.Hash)
	}
	if h.Current != nil && h.Current.Name != want.HashRevision {
		t.Errorf("Current.Name = %q, want %q", h.Current.Name, want.HashRevision)
	}
	const prefix = "failed to construct revisions of DaemonSet: "
	gotErr := ""
	if err := h.Err(); err != nil {
		gotErr = prefix + err.Error()
	}
	wantErr := ""
	if strings.HasPrefix(want.Error, prefix) {
		wantErr = want.Error
	}
	if gotErr != wantErr {
		t.Errorf("Err() = %q, want %q", gotErr, wantErr)
	}
	if h.Collision {
		if diff := cmp.Diff(want.CollisionCount, h.CollisionCount); diff != "" {
			t.Errorf("CollisionCount (-want +got):\n%s", diff)
		}
	}
	// KCM's create fails with AlreadyExists exactly on collision or reuse.
	var failedCreate []string
	for _, w := range want.FailedWrites {
		if rest, ok := strings.CutPrefix(w, "create controllerrevisions "); ok {
			failedCreate = append(failedCreate, strings.SplitN(rest, ":", 2)[0])
		}
	}
	var gotFailedCreate []string
	if h.Collision {
		gotFailedCreate = append(gotFailedCreate, h.CollisionName)
	}
	if h.Reused {
		gotFailedCreate = append(gotFailedCreate, h.Current.Name)
	}
	if diff := cmp.Diff(failedCreate, gotFailedCreate); diff != "" {
		t.Errorf("failed creates (-want +got):\n%s", diff)
	}

	var wantCreate, gotCreate []any
	for _, c := range want.Revisions.Create {
		wantCreate = append(wantCreate, generic(t, c))
	}
	for _, c := range h.Create {
		gotCreate = append(gotCreate, genericObject(t, c))
	}
	if diff := cmp.Diff(wantCreate, gotCreate); diff != "" {
		t.Errorf("Create (-want +got):\n%s", diff)
	}

	// The oracle lists every update call, as History.Update does (a label
	// fix followed by a renumbering is two calls): compare by name, then
	// revision number.
	type update struct {
		name     string
		revision int64
		object   any
	}
	var wantUpdates []update
	for _, u := range want.Revisions.Update {
		var meta struct {
			Metadata struct {
				Name string `json:"name"`
			} `json:"metadata"`
			Revision int64 `json:"revision"`
		}
		if err := json.Unmarshal(u, &meta); err != nil {
			t.Fatal(err)
		}
		wantUpdates = append(wantUpdates, update{meta.Metadata.Name, meta.Revision, generic(t, u)})
	}
	slices.SortStableFunc(wantUpdates, func(a, b update) int {
		if c := strings.Compare(a.name, b.name); c != 0 {
			return c
		}
		return int(a.revision - b.revision)
	})
	var wantUpdate, gotUpdate []any
	for _, u := range wantUpdates {
		wantUpdate = append(wantUpdate, u.object)
	}
	for _, u := range h.Update {
		gotUpdate = append(gotUpdate, genericObject(t, u))
	}
	if diff := cmp.Diff(wantUpdate, gotUpdate); diff != "" {
		t.Errorf("Update (-want +got):\n%s", diff)
	}

	// Cleanup runs when the sync got past manage and rollingUpdate, which
	// with the oracle's fakes means: no error.
	gotDelete := slices.Clone(h.Delete)
	if want.Error == "" {
		gotDelete = append(gotDelete, cleanup...)
	}
	slices.Sort(gotDelete)
	if diff := cmp.Diff(want.Revisions.Delete, gotDelete, cmpEmpty); diff != "" {
		t.Errorf("deletes (-want +got):\n%s", diff)
	}

	type podPatch struct {
		Pod    string
		Labels map[string]string
	}
	var wantPP, gotPP []podPatch
	for _, p := range want.PodPatches {
		wantPP = append(wantPP, podPatch{p.Pod, p.Labels})
	}
	for _, p := range relabels {
		gotPP = append(gotPP, podPatch{p.Pod, p.Labels})
		if diff := cmp.Diff(map[string]any{"metadata": map[string]any{"labels": map[string]any{LabelKey: p.Labels[LabelKey]}}}, generic(t, []byte(p.Patch))); diff != "" {
			t.Errorf("PodPatch %s body (-want +got):\n%s", p.Pod, diff)
		}
	}
	if diff := cmp.Diff(wantPP, gotPP); diff != "" {
		t.Errorf("PodPatches (-want +got):\n%s", diff)
	}

	type claimed struct {
		Name  string
		Patch any
	}
	var wantClaims, gotClaims []claimed
	for _, c := range want.ClaimsRevisions {
		wantClaims = append(wantClaims, claimed{c.Name, generic(t, c.Patch)})
	}
	for _, c := range h.Claims {
		gotClaims = append(gotClaims, claimed{c.Name, generic(t, []byte(c.Patch))})
	}
	if diff := cmp.Diff(wantClaims, gotClaims); diff != "" {
		t.Errorf("Claims (-want +got):\n%s", diff)
	}
}
