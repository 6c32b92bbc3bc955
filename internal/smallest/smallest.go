// Package smallest keeps the k smallest of a stream of values: what sorting
// all of them and keeping the first k gives, in O(n + k log k) expected
// time and O(k) memory for n values. Package plan uses it for the burst
// limit (250 of possibly 100,000 creates) and package rollout for budgets
// (10% of 100,000 candidates).
package smallest

import (
	"math/bits"
	"slices"
)

// Set keeps the k smallest values added under cmp, a total order; values
// cmp finds equal must be interchangeable. The zero Set keeps nothing.
//
// Values are appended to a buffer of up to 2k; when it is full it is cut
// to its k smallest (a quickselect), whose largest becomes a bound that
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

// cut keeps the k smallest values of buf, the largest of them last, in
// O(len(buf)) expected comparisons.
func (s *Set[T]) cut() {
	if len(s.buf) <= s.k {
		return
	}
	selectSmallest(s.buf, s.k, s.cmp)
	clear(s.buf[s.k:]) // let go of what the values reference
	s.buf = s.buf[:s.k]
	s.bound, s.bounded = s.buf[s.k-1], true
}

// selectSmallest reorders v so that v[:k] holds its k smallest values with
// the largest of them at v[k-1] (0 < k < len(v)): a quickselect with
// median-of-three pivots that sorts what is left once the range is small,
// or once it has partitioned more often than a good run needs (which
// bounds the cost of inputs that defeat the pivots, such as many equal
// values).
func selectSmallest[T any](v []T, k int, cmp func(a, b T) int) {
	lo, hi := 0, len(v) // v[:lo] ≤ v[lo:hi] ≤ v[hi:], and lo ≤ k-1 < hi
	for budget := 2 * bits.Len(uint(len(v))); hi-lo > 12 && budget > 0; budget-- {
		p := lo + partition(v[lo:hi], cmp)
		switch {
		case p < k-1:
			lo = p + 1
		case p > k-1:
			hi = p
		default:
			return
		}
	}
	slices.SortFunc(v[lo:hi], cmp)
}

// partition moves the median of v's first, middle and last values to its
// final place p, the smaller values before it and the others after, and
// returns p (len(v) ≥ 3).
func partition[T any](v []T, cmp func(a, b T) int) int {
	last := len(v) - 1
	a, b, c := 0, last/2, last
	if cmp(v[b], v[a]) < 0 {
		a, b = b, a
	}
	if cmp(v[c], v[b]) < 0 {
		b = c
		if cmp(v[b], v[a]) < 0 {
			b = a
		}
	}
	v[b], v[last] = v[last], v[b]
	pivot := v[last]
	p := 0
	for i := range last {
		if cmp(v[i], pivot) < 0 {
			v[i], v[p] = v[p], v[i]
			p++
		}
	}
	v[p], v[last] = v[last], v[p]
	return p
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
	slices.SortFunc(s.buf, s.cmp)
	return s.buf
}
