package placement

import (
	"math/bits"
	"unsafe"
)

// memoryOrder returns the positions of ptrs (nil ones included) in the
// order of the addresses they hold, counted in units of 16 bytes, sorting
// with an LSD radix sort in O(len(ptrs)) time (a few passes of 11 bits
// each); ties, such as nil pointers, keep list order. A list that is mostly
// in that order already (three pairs in four ascending) is kept as it is.
// It reuses the memory of gr.
//
// Why: informers list objects in no particular order, while an object
// lies on the heap next to those created around the same time. Visiting
// 100,000 pods in list order jumps across hundreds of megabytes, and every
// visit waits for memory; visiting them in address order sweeps the heap,
// which the processor prefetches. The order of the visits never shows in a
// plan (every result is kept per pod or sorted), and the garbage collector
// does not move heap objects, so the addresses hold during a plan.
func memoryOrder[T any](gr *Grouper, ptrs []*T) []int32 {
	n := len(ptrs)
	order := resize(gr.order, n)
	for i := range order {
		order[i] = int32(i)
	}
	gr.order = order
	if n < 2 {
		return order
	}
	lo, hi := ^uintptr(0), uintptr(0)
	ascending, prev := 0, uintptr(0)
	for _, p := range ptrs {
		a := uintptr(unsafe.Pointer(p))
		lo, hi = min(lo, a), max(hi, a)
		if a > prev {
			ascending++
		}
		prev = a
	}
	if ascending >= n-n/4 {
		// Mostly in memory order already: objects listed in the order
		// they were made in, whose parts (owner references, labels,
		// conditions) then lie in the same order, which address order
		// would only approximate.
		return order
	}
	// Keys in units of 16 bytes, the heap's smallest alignment for structs.
	keys, keys2 := resize(gr.keys, n), resize(gr.keys2, n)
	order2 := resize(gr.order2, n)
	for i, p := range ptrs {
		keys[i] = uint64(uintptr(unsafe.Pointer(p))>>4 - lo>>4)
	}
	const digit = 11
	var count [1 << digit]int32
	for shift := 0; shift < bits.Len64(uint64(hi>>4-lo>>4)); shift += digit {
		count = [1 << digit]int32{}
		for _, k := range keys {
			count[k>>shift&(1<<digit-1)]++
		}
		sum := int32(0)
		for d, c := range count {
			count[d] = sum
			sum += c
		}
		for i, k := range keys {
			d := k >> shift & (1<<digit - 1)
			keys2[count[d]], order2[count[d]] = k, order[i]
			count[d]++
		}
		keys, keys2 = keys2, keys
		order, order2 = order2, order
	}
	gr.keys, gr.keys2, gr.order, gr.order2 = keys, keys2, order, order2
	return order
}
