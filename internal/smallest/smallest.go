// Package smallest keeps the k smallest of a stream of values: what sorting
// all of them and keeping the first k gives, in O(n + k log k · log(n/k))
// time and O(k) memory for n values. Package plan uses it for the burst
// limit (250 of possibly 100,000 creates) and package rollout for budgets
// (10% of 100,000 candidates).
package smallest

import "slices"

// Set keeps the k smallest values added under cmp, a total order; values
// cmp finds equal must be interchangeable. The zero Set keeps nothing.
//
// Values are appended to a buffer of up to 2k; when it is full it is
// sorted and cut to its k smallest, whose largest becomes a bound that
// later values must beat. A value past the bound costs one comparison, so a
// stream that arrives in order (nodes listed by name) costs about n
// comparisons, where a heap would sift each of the first k values to its
// root.
type Set[T any] struct {
	k   int
	cmp func(a, b T) int
	// buf holds the candidates: all values added that are below bound.
	buf []T
	// bound is the k-th smallest value once buf has been cut, when bounded.
	bound   T
	bounded bool
	// added counts the values added.
	added int
}

// New returns a Set for the k smallest values, with room for the buffer
// of the at most n values that will be added. A negative k keeps nothing.
func New[T any](k, n int, cmp func(a, b T) int) Set[T] {
	size := max(0, n)
	if k < n-max(k, 64) {
		size = k + max(k, 64) // the buffer is cut when it reaches this
	}
	if k <= 0 {
		size = 0
	}
	return Set[T]{k: k, cmp: cmp, buf: make([]T, 0, size)}
}

// Add offers x.
func (s *Set[T]) Add(x T) {
	s.added++
	if s.k <= 0 || s.bounded && s.cmp(x, s.bound) >= 0 {
		return
	}
	s.buf = append(s.buf, x)
	if len(s.buf)-s.k >= max(s.k, 64) {
		s.cut()
	}
}

// cut sorts buf and keeps its k smallest.
func (s *Set[T]) cut() {
	slices.SortFunc(s.buf, s.cmp)
	if len(s.buf) > s.k {
		clear(s.buf[s.k:]) // let go of what the values reference
		s.buf = s.buf[:s.k]
		s.bound, s.bounded = s.buf[s.k-1], true
	}
}

// Added returns how many values were offered.
func (s *Set[T]) Added() int { return s.added }

// First returns the n smallest of the values kept (all when there are
// fewer, none when n <= 0), sorted; s must not be used afterwards.
func (s *Set[T]) First(n int) []T {
	return s.Sorted()[:max(0, min(n, len(s.buf)))]
}

// Sorted returns the values kept, sorted; s must not be used afterwards.
func (s *Set[T]) Sorted() []T {
	if s.k <= 0 {
		return s.buf[:0]
	}
	s.cut()
	return s.buf
}
