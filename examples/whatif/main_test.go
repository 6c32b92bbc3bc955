package main

import (
	"bytes"
	"compress/gzip"
	"encoding/json"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"reflect"
	"slices"
	"strings"
	"testing"

	"github.com/dsplan/dsplan/internal/fixture"
)

const small = `apiVersion: v1
kind: List
items:
- apiVersion: apps/v1
  kind: DaemonSet
  metadata: {name: agent, namespace: default, uid: 0c2d9d3c-1111-4000-8000-000000000001, generation: 1}
  spec:
    selector: {matchLabels: {app: agent}}
    template:
      metadata: {labels: {app: agent}}
      spec:
        containers: [{name: agent, image: registry.example.com/agent:v1}]
- apiVersion: v1
  kind: Node
  metadata: {name: node-a}
`

func TestRunTable(t *testing.T) {
	var out bytes.Buffer
	if err := run(nil, strings.NewReader(small), &out); err != nil {
		t.Fatalf("run: %v", err)
	}
	squeezed := strings.Join(strings.Fields(out.String()), " ")
	for _, want := range []string{"create pod (generateName agent-) node-a Missing", "create controllerrevision/agent-", "agent 1 0 0 0 0 <none>", "status updated"} {
		if !strings.Contains(squeezed, want) {
			t.Errorf("table output lacks %q:\n%s", want, out.String())
		}
	}
}

func TestRunErrors(t *testing.T) {
	tests := []struct {
		name  string
		args  []string
		input string
		want  string
	}{
		{name: "empty input", input: "", want: "empty input"},
		{name: "not objects", input: "just text", want: ""},
		{name: "no DaemonSet", input: "apiVersion: v1\nkind: Node\nmetadata: {name: node-a}\n", want: "no apps/v1 DaemonSet"},
		{name: "two DaemonSets", input: small + "- apiVersion: apps/v1\n  kind: DaemonSet\n  metadata: {name: second}\n", want: "DaemonSet"},
		{name: "undecodable item", input: small + "- apiVersion: v1\n  kind: Pod\n  metadata: {name: p, labels: [1]}\n", want: `Pod "p"`},
		{name: "unknown kind", input: small + "- apiVersion: v1\n  kind: Service\n  metadata: {name: svc}\n", want: `Service "svc"`},
		{name: "bad -o", args: []string{"-o", "yaml"}, input: small, want: "unknown format"},
		{name: "bad -now", args: []string{"-now", "yesterday"}, input: small, want: "-now"},
		{name: "extra argument", args: []string{"x"}, input: small, want: "unexpected arguments"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			err := run(tc.args, strings.NewReader(tc.input), &bytes.Buffer{})
			if err == nil {
				t.Fatal("run() = nil, want an error")
			}
			if !strings.Contains(err.Error(), tc.want) {
				t.Errorf("run() = %q, want it to mention %q", err, tc.want)
			}
		})
	}
}

// TestJSONMatchesOracle runs `whatif -o json` on golden fixtures and
// compares the fields with the oracle's recorded output, for fixtures where
// upstream's result did not vary between runs.
func TestJSONMatchesOracle(t *testing.T) {
	names, err := filepath.Glob(filepath.Join(fixture.Dir(), "*.want.json.gz"))
	if err != nil || len(names) == 0 {
		t.Fatalf("no fixtures: %v", err)
	}
	checked := 0
	// Every 8th fixture keeps the test quick; plan's parity test covers all.
	for i := 0; i < len(names); i += 8 {
		c, err := fixture.Load(fixture.Dir(), strings.TrimSuffix(filepath.Base(names[i]), ".want.json.gz"))
		if err != nil {
			t.Fatal(err)
		}
		if len(c.Want.VariesAcrossRuns) > 0 || len(c.Want.Variants) > 1 {
			continue
		}
		data, err := os.ReadFile(filepath.Join(fixture.Dir(), c.Name+".yaml.gz"))
		if err != nil {
			t.Fatal(err)
		}
		zr, err := gzip.NewReader(bytes.NewReader(data))
		if err != nil {
			t.Fatal(err)
		}
		raw, err := io.ReadAll(zr)
		if err != nil {
			t.Fatal(err)
		}
		var out bytes.Buffer
		if err := run([]string{"-o", "json", "-now", c.Now.Format("2006-01-02T15:04:05Z07:00")}, bytes.NewReader(raw), &out); err != nil {
			t.Fatalf("%s: run: %v", c.Name, err)
		}
		var got oraclePlan
		if err := json.Unmarshal(out.Bytes(), &got); err != nil {
			t.Fatalf("%s: output is not JSON: %v", c.Name, err)
		}
		if got.Hash != c.Want.Hash {
			t.Errorf("%s: hash = %q, want %q", c.Name, got.Hash, c.Want.Hash)
		}
		if !reflect.DeepEqual(got.Status, c.Want.Status) {
			t.Errorf("%s: status = %+v, want %+v", c.Name, got.Status, c.Want.Status)
		}
		var gotNodes []string
		for _, cr := range got.Creates {
			gotNodes = append(gotNodes, cr.Node)
		}
		createNodes := func(cs []fixture.Create) []string {
			var out []string
			for _, cr := range cs {
				out = append(out, cr.Node)
			}
			return out
		}
		// Where upstream picked at random, any of its picks is right.
		if problem := varying(got.Deletes, c.Want.Deletes.Always, c.Want.Deletes.Sometimes, c.Want.Deletes.Counts); problem != "" {
			t.Errorf("%s: deletes %v: %s", c.Name, got.Deletes, problem)
		}
		if problem := varying(gotNodes, createNodes(c.Want.Creates.Always), createNodes(c.Want.Creates.Sometimes), c.Want.Creates.Counts); problem != "" {
			t.Errorf("%s: creates on %v: %s", c.Name, gotNodes, problem)
		}
		if len(got.PodPatches) != len(c.Want.PodPatches) || len(got.Revisions.Create) != len(c.Want.Revisions.Create) ||
			len(got.Revisions.Update) != len(c.Want.Revisions.Update) || !slices.Equal(got.Revisions.Delete, nonNil(c.Want.Revisions.Delete)) {
			t.Errorf("%s: revision writes or pod patches differ from the oracle's", c.Name)
		}
		checked++
	}
	t.Logf("whatif -o json agrees with the oracle on %d fixtures", checked)
}

// varying returns what is wrong with got against a list upstream made
// differently across runs: it must hold every item of always, only items
// of always or sometimes, and as many as some run did.
func varying(got, always, sometimes []string, counts []int) string {
	for _, a := range always {
		if !slices.Contains(got, a) {
			return "misses " + a + ", which upstream always does"
		}
	}
	for _, g := range got {
		if !slices.Contains(always, g) && !slices.Contains(sometimes, g) {
			return "has " + g + ", which upstream never does"
		}
	}
	if !slices.Contains(counts, len(got)) {
		return fmt.Sprintf("%d items, upstream did %v", len(got), counts)
	}
	return ""
}

// FuzzRun feeds arbitrary input to whatif: it must answer or fail with an
// error, never panic.
func FuzzRun(f *testing.F) {
	f.Add([]byte(small), true)
	f.Add([]byte("kind: List\nitems: [{}]\n"), false)
	f.Fuzz(func(t *testing.T, data []byte, asJSON bool) {
		args := []string{}
		if asJSON {
			args = []string{"-o", "json"}
		}
		_ = run(args, bytes.NewReader(data), &bytes.Buffer{})
	})
}
