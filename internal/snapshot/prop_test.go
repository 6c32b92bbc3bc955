package snapshot

import (
	"encoding/json"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"
	"pgregory.net/rapid"
)

// object is a generated input object: its JSON and what Decode should make of it.
type object struct {
	kind, apiVersion, name string
}

func (o object) json() string {
	b, _ := json.Marshal(map[string]any{
		"apiVersion": o.apiVersion,
		"kind":       o.kind,
		"metadata":   map[string]any{"name": o.name, "labels": map[string]string{"k": o.name}},
	})
	return string(b)
}

var kinds = []object{
	{kind: "Node", apiVersion: "v1"},
	{kind: "Pod", apiVersion: "v1"},
	{kind: "ControllerRevision", apiVersion: "apps/v1"},
	{kind: "Service", apiVersion: "v1"},
	{kind: "ConfigMap", apiVersion: "v1"},
}

// TestDecodeEncodings checks that a List, a JSON stream, YAML documents
// and typed lists of the same objects decode alike, in input order, with
// one warning per skipped object.
func TestDecodeEncodings(t *testing.T) {
	rapid.Check(t, func(t *rapid.T) {
		objs := rapid.SliceOfN(rapid.Custom(func(t *rapid.T) object {
			o := rapid.SampledFrom(kinds).Draw(t, "kind")
			o.name = rapid.StringMatching(`[a-z][a-z0-9-]{0,10}`).Draw(t, "name")
			return o
		}), 0, 12).Draw(t, "objects")
		dsAt := rapid.IntRange(0, len(objs)).Draw(t, "dsAt")
		all := append(append(append([]object{}, objs[:dsAt]...), object{kind: "DaemonSet", apiVersion: "apps/v1", name: "ds"}), objs[dsAt:]...)

		var items, docs []string
		want := summary{DaemonSet: "/ds"}
		for _, o := range all {
			items = append(items, o.json())
			docs = append(docs, "---\n"+o.json()+"\n")
			switch o.kind {
			case "Node":
				want.Nodes = append(want.Nodes, o.name)
			case "Pod":
				want.Pods = append(want.Pods, o.name)
			case "ControllerRevision":
				want.Revisions = append(want.Revisions, o.name)
			}
		}
		list := `{"apiVersion":"v1","kind":"List","items":[` + strings.Join(items, ",") + `]}`
		inputs := map[string]string{
			"list":      list,
			"stream":    strings.Join(items, "\n"),
			"documents": strings.Join(docs, ""),
			"nested":    `{"apiVersion":"v1","kind":"List","items":[` + list + `]}`,
		}
		for _, enc := range []string{"list", "stream", "documents", "nested"} {
			got, err := Decode([]byte(inputs[enc]))
			if err != nil {
				t.Fatalf("%s: Decode() error: %v", enc, err)
			}
			g := summarize(got)
			if len(g.Warnings) != len(all)-1-len(want.Nodes)-len(want.Pods)-len(want.Revisions) {
				t.Errorf("%s: Decode() warnings = %q", enc, g.Warnings)
			}
			g.Warnings = nil
			if diff := cmp.Diff(want, g); diff != "" {
				t.Errorf("%s: Decode() mismatch (-want +got):\n%s", enc, diff)
			}
		}
	})
}

// TestNormalizeIdempotent checks that normalising twice changes nothing.
func TestNormalizeIdempotent(t *testing.T) {
	rapid.Check(t, func(t *rapid.T) {
		args := rapid.SliceOfN(rapid.StringMatching(`[a-z]{0,3}`), 0, 3).Draw(t, "args")
		b, _ := json.Marshal(args)
		objs, err := Decode([]byte(`{"apiVersion":"apps/v1","kind":"DaemonSet","metadata":{"name":"ds","labels":{}},"spec":{"template":{"spec":{"containers":[{"name":"c","args":` + string(b) + `}]}}}}`))
		if err != nil {
			t.Fatalf("Decode() error: %v", err)
		}
		once, err := Normalize(objs)
		if err != nil {
			t.Fatalf("Normalize() error: %v", err)
		}
		twice, err := Normalize(once)
		if err != nil {
			t.Fatalf("Normalize() error: %v", err)
		}
		if diff := cmp.Diff(once, twice); diff != "" {
			t.Errorf("Normalize() not idempotent (-once +twice):\n%s", diff)
		}
		if got := once.DaemonSet.Spec.Template.Spec.Containers[0].Args; len(args) == 0 && got != nil {
			t.Errorf("Normalize() args = %#v, want nil", got)
		}
	})
}
