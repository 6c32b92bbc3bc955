package snapshot

import (
	"compress/gzip"
	"io"
	"os"
	"path/filepath"
	"testing"
)

func gunzip(name string) ([]byte, error) {
	f, err := os.Open(name)
	if err != nil {
		return nil, err
	}
	defer f.Close()
	zr, err := gzip.NewReader(f)
	if err != nil {
		return nil, err
	}
	return io.ReadAll(zr)
}

// FuzzDecode checks that Decode and Normalize never panic, and that a
// successful Decode has exactly the one DaemonSet.
func FuzzDecode(f *testing.F) {
	f.Add([]byte(listYAML(dsYAML, nodeA, nodeB, podX, revR, svc)))
	f.Add([]byte(dsYAML + "---\n" + nodeA + "---\n" + podX))
	f.Add([]byte(`{"apiVersion":"v1","kind":"List","items":[` + jsonDS + `,{"apiVersion":"v1","kind":"Pod","metadata":{"name":"x"},"spec":{"nodeName":"a"}}]}`))
	f.Add([]byte(jsonDS + jsonDS))
	f.Add([]byte("apiVersion: v1\nkind: List\nitems: 3\n"))
	f.Add([]byte("- a\n- b\n"))
	// A few real snapshots from the golden fixtures (gzip-compressed).
	seeds, _ := filepath.Glob(filepath.Join("..", "fixture", "testdata", "*-s000[1-3]*.yaml.gz"))
	for _, name := range seeds {
		if b, err := gunzip(name); err == nil {
			f.Add(b)
		}
	}
	f.Fuzz(func(t *testing.T, data []byte) {
		objs, err := Decode(data)
		if err != nil {
			if objs.DaemonSet != nil || objs.Nodes != nil || objs.Pods != nil || objs.Revisions != nil {
				t.Fatalf("Decode() returned objects with error %v", err)
			}
			return
		}
		if objs.DaemonSet == nil {
			t.Fatalf("Decode() = nil DaemonSet without error")
		}
		if _, err := Normalize(objs); err != nil {
			// Protobuf encoding has no failure mode for decoded objects.
			t.Fatalf("Normalize() error: %v", err)
		}
	})
}
