package placement

import (
	"cmp"
	"slices"
	"testing"
	"unsafe"

	"pgregory.net/rapid"
)

// TestMemoryOrder checks memoryOrder on lists of pointers into one array
// (so that addresses follow indexes), with repeats and nils: the result is
// a permutation; a list mostly in address order is kept as it is; any other
// is sorted by address (in units of 16 bytes), stably.
func TestMemoryOrder(t *testing.T) {
	var gr Grouper
	rapid.Check(t, func(t *rapid.T) {
		// 1 MiB spans more than one 11-bit pass of the radix sort.
		backing := make([]int64, rapid.SampledFrom([]int{64, 1 << 17}).Draw(t, "backing"))
		ptrs := rapid.SliceOfN(rapid.Custom(func(t *rapid.T) *int64 {
			if rapid.IntRange(0, 9).Draw(t, "nil") == 0 {
				return nil
			}
			return &backing[rapid.IntRange(0, len(backing)-1).Draw(t, "at")]
		}), 0, 50).Draw(t, "ptrs")
		got := slices.Clone(memoryOrder(&gr, ptrs))

		seen := make([]bool, len(ptrs))
		for _, i := range got {
			if i < 0 || int(i) >= len(ptrs) || seen[i] {
				t.Fatalf("memoryOrder = %v: not a permutation of 0..%d", got, len(ptrs)-1)
			}
			seen[i] = true
		}
		if len(got) != len(ptrs) {
			t.Fatalf("memoryOrder has %d positions for %d pointers", len(got), len(ptrs))
		}
		addr := func(i int32) uintptr { return uintptr(unsafe.Pointer(ptrs[i])) }
		ascending := 0
		for i := range ptrs {
			if i == 0 && addr(0) > 0 || i > 0 && addr(int32(i)) > addr(int32(i-1)) {
				ascending++
			}
		}
		identity := true
		for k, i := range got {
			identity = identity && int(i) == k
		}
		if len(ptrs) >= 2 && ascending >= len(ptrs)-len(ptrs)/4 {
			if !identity {
				t.Fatalf("a list mostly in address order was reordered: %v", got)
			}
			return
		}
		if !slices.IsSortedFunc(got, func(a, b int32) int {
			// Addresses count in units of 16 bytes.
			if c := cmp.Compare(addr(a)>>4, addr(b)>>4); c != 0 {
				return c
			}
			return int(a - b) // ties keep list order
		}) {
			t.Fatalf("memoryOrder = %v: not sorted by address, then position", got)
		}
	})
}
