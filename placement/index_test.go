package placement

import (
	"fmt"
	"testing"

	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
)

// BenchmarkNodeIndex builds an index of n nodes and looks every node up
// once, as Group does, against the plain alternative, a map[string]int32.
func BenchmarkNodeIndex(b *testing.B) {
	for _, n := range []int{10000, 100000} {
		nodes := make([]*corev1.Node, n)
		for i := range nodes {
			nodes[i] = &corev1.Node{ObjectMeta: metav1.ObjectMeta{Name: fmt.Sprintf("ip-10-0-%d-%d.ec2.internal", i/256, i%256)}}
		}
		b.Run(fmt.Sprintf("impl=nodeIndex/nodes=%d", n), func(b *testing.B) {
			b.ReportAllocs()
			slots := make([]uint64, indexSize(n))
			for b.Loop() {
				clear(slots)
				x := newNodeIndex(slots, nil)
				x.insertAll(nodes)
				for i, node := range nodes {
					if at, ok := x.lookup(node.Name); !ok || int(at) != i {
						b.Fatal("lookup failed")
					}
				}
			}
		})
		b.Run(fmt.Sprintf("impl=map/nodes=%d", n), func(b *testing.B) {
			b.ReportAllocs()
			for b.Loop() {
				m := make(map[string]int32, n)
				for i, node := range nodes {
					if _, dup := m[node.Name]; !dup {
						m[node.Name] = int32(i)
					}
				}
				for i, node := range nodes {
					if at, ok := m[node.Name]; !ok || int(at) != i {
						b.Fatal("lookup failed")
					}
				}
			}
		})
	}
}

// TestNodeIndex: the first of repeated names is indexed, the others are
// reported as repeats; nil nodes are skipped; unknown names are not found.
func TestNodeIndex(t *testing.T) {
	node := func(name string) *corev1.Node { return &corev1.Node{ObjectMeta: metav1.ObjectMeta{Name: name}} }
	nodes := []*corev1.Node{node("a"), nil, node("b"), node("a"), node("c"), node("b")}
	x := newNodeIndex(make([]uint64, indexSize(len(nodes))), nil)
	x.insertAll(nodes)
	for name, want := range map[string]int32{"a": 0, "b": 2, "c": 4} {
		if at, ok := x.lookup(name); !ok || at != want {
			t.Errorf("lookup(%q) = %d, %v; want %d", name, at, ok, want)
		}
	}
	if _, ok := x.lookup("d"); ok {
		t.Error("lookup(d) found a node")
	}
	if fmt.Sprint(x.repeats) != "[3 5]" {
		t.Errorf("repeats = %v, want [3 5]", x.repeats)
	}
}
