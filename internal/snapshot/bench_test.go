package snapshot

import (
	"fmt"
	"path/filepath"
	"testing"
)

func BenchmarkDecode(b *testing.B) {
	for _, name := range []string{"chaos-s0007", "rolling-s0150-n100"} {
		data, err := gunzip(filepath.Join("..", "fixture", "testdata", name+".yaml.gz"))
		if err != nil {
			b.Skipf("fixture %s: %v", name, err)
		}
		objs, err := Decode(data)
		if err != nil {
			b.Fatal(err)
		}
		b.Run(fmt.Sprintf("op=decode/nodes=%d", len(objs.Nodes)), func(b *testing.B) {
			b.ReportAllocs()
			b.SetBytes(int64(len(data)))
			for b.Loop() {
				if _, err := Decode(data); err != nil {
					b.Fatal(err)
				}
			}
		})
		b.Run(fmt.Sprintf("op=normalize/nodes=%d", len(objs.Nodes)), func(b *testing.B) {
			b.ReportAllocs()
			for b.Loop() {
				if _, err := Normalize(objs); err != nil {
					b.Fatal(err)
				}
			}
		})
	}
}
