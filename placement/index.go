package placement

import (
	"hash/maphash"

	corev1 "k8s.io/api/core/v1"
)

// nodeIndex finds a node's position in a node list by name: an
// open-addressing hash table of positions, built once per Group or once per
// NodeSet. At 100,000 nodes a map[string]int cost more than the rest of
// Group (setting up its table, then an insert and a lookup per node;
// BenchmarkNodeIndex compares the two); this table is one allocation, and
// a 32-bit tag from the hash next to each position spares most string
// comparisons. The names are copied into one array: a lookup that read
// them through the node pointers missed the cache once more per pod
// (steady plan at 100,000 nodes: 28 → 37 ms).
type nodeIndex struct {
	seed maphash.Seed
	// names holds each position's node name ("" for a nil node).
	names []string
	// slots hold tag<<32 | position+1, 0 when empty.
	slots []uint64
	mask  uint64
	// repeats are the positions of nodes whose name an earlier node has,
	// ascending.
	repeats []int
}

// indexSize is the number of slots of a nodeIndex for n nodes: a power of
// two, at most half full.
func indexSize(n int) int {
	size := 16
	for size < 2*n {
		size *= 2
	}
	return size
}

// newNodeIndex returns an empty index over slots, which must be zeroed and
// of a size indexSize returned; names is memory for the names (nil for
// new).
func newNodeIndex(slots []uint64, names []string) nodeIndex {
	return nodeIndex{seed: maphash.MakeSeed(), slots: slots, mask: uint64(len(slots) - 1), names: names[:0]}
}

// nodeList is a node list as the index reads it.
type nodeList []*corev1.Node

// insertAll adds nodes to the empty index x. Of two nodes with one name,
// the first stays (kube-controller-manager's node-to-pods map is keyed by
// name); nil nodes are skipped.
func (x *nodeIndex) insertAll(nodes nodeList) {
	names := resize(x.names, len(nodes))
	for i, node := range nodes {
		names[i] = ""
		if node != nil {
			names[i] = node.Name
		}
	}
	x.insertNames(names)
}

// insertNames adds the nodes named names (a position each, "" for none)
// to the empty index x, which keeps names. It is a loop of its own over a
// dense array: the table accesses are cache misses, which a short loop
// overlaps. Of two nodes with one name, the first stays.
func (x *nodeIndex) insertNames(names []string) {
	x.names = names
	for i, name := range names {
		if name == "" {
			continue
		}
		h := maphash.String(x.seed, name)
		tag := h >> 32 << 32
		for j := h & x.mask; ; j = (j + 1) & x.mask {
			s := x.slots[j]
			if s == 0 {
				x.slots[j] = tag | uint64(i+1)
				break
			}
			if s>>32<<32 == tag && names[uint32(s)-1] == name {
				x.repeats = append(x.repeats, i)
				break
			}
		}
	}
}

// lookup returns the position of the first node named name.
func (x *nodeIndex) lookup(name string) (int32, bool) {
	h := maphash.String(x.seed, name)
	tag := h >> 32 << 32
	for j := h & x.mask; ; j = (j + 1) & x.mask {
		s := x.slots[j]
		if s == 0 {
			return 0, false
		}
		if s>>32<<32 == tag && x.names[uint32(s)-1] == name {
			return int32(uint32(s) - 1), true
		}
	}
}
