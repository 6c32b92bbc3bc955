// Package smallest keeps the k smallest of a stream of values: what sorting
// all of them and keeping the first k gives, in O(n log k) time and O(k)
// memory for n values. Package plan uses it for the burst limit (250 of
// possibly 100,000 creates) and package rollout for budgets (10% of
// 100,000 candidates).
package smallest

import "slices"

// Set keeps the k smallest values added under cmp, a total order; values
// cmp finds equal must be interchangeable. The zero Set keeps nothing.
type Set[T any] struct {
	k   int
	cmp func(a, b T) int
	// heap is a max-heap under cmp.
	heap []T
	// added counts the values added.
	added int
}

// New returns a Set for the k smallest values, with room for up to k of
// the at most n values that will be added. A negative k keeps nothing.
func New[T any](k, n int, cmp func(a, b T) int) Set[T] {
	return Set[T]{k: k, cmp: cmp, heap: make([]T, 0, max(0, min(k, n)))}
}

// Add offers x.
func (s *Set[T]) Add(x T) {
	s.added++
	if len(s.heap) < s.k {
		s.heap = append(s.heap, x)
		s.up(len(s.heap) - 1)
		return
	}
	if s.k > 0 && s.cmp(x, s.heap[0]) < 0 {
		s.heap[0] = x
		s.down(0)
	}
}

// Added returns how many values were offered.
func (s *Set[T]) Added() int { return s.added }

// First returns the n smallest of the values kept (all when there are
// fewer, none when n <= 0), in no particular order; s must not be used
// afterwards.
func (s *Set[T]) First(n int) []T {
	n = max(n, 0)
	for len(s.heap) > n {
		last := len(s.heap) - 1
		s.heap[0] = s.heap[last]
		s.heap = s.heap[:last]
		s.down(0)
	}
	return s.heap
}

// Sorted returns the values kept, sorted; s must not be used afterwards.
func (s *Set[T]) Sorted() []T {
	slices.SortFunc(s.heap, s.cmp)
	return s.heap
}

func (s *Set[T]) up(i int) {
	h := s.heap
	for i > 0 {
		parent := (i - 1) / 2
		if s.cmp(h[parent], h[i]) >= 0 {
			return
		}
		h[parent], h[i] = h[i], h[parent]
		i = parent
	}
}

func (s *Set[T]) down(i int) {
	h := s.heap
	for {
		largest := i
		if l := 2*i + 1; l < len(h) && s.cmp(h[l], h[largest]) > 0 {
			largest = l
		}
		if r := 2*i + 2; r < len(h) && s.cmp(h[r], h[largest]) > 0 {
			largest = r
		}
		if largest == i {
			return
		}
		h[i], h[largest] = h[largest], h[i]
		i = largest
	}
}
