package smallest

import (
	"cmp"
	"fmt"
	"math/rand/v2"
	"slices"
	"strings"
	"testing"

	"pgregory.net/rapid"
)

// TestFirstIsSortedPrefix checks that a Set keeps what sorting and keeping a
// prefix keeps, through First and Sorted.
func TestFirstIsSortedPrefix(t *testing.T) {
	rapid.Check(t, func(t *rapid.T) {
		values := rapid.SliceOfDistinct(rapid.IntRange(0, 50), rapid.ID).Draw(t, "values")
		k := rapid.IntRange(0, len(values)+2).Draw(t, "k")
		n := rapid.IntRange(-1, k+1).Draw(t, "n")
		a, b := New(k, len(values), cmp.Compare[int]), New(k, len(values), cmp.Compare[int])
		for _, v := range values {
			a.Add(v)
			b.Add(v)
		}
		if a.Added() != len(values) {
			t.Fatalf("Added() = %d, want %d", a.Added(), len(values))
		}
		sorted := slices.Sorted(slices.Values(values))
		want := sorted[:max(0, min(n, k, len(values)))]
		if got := slices.Sorted(slices.Values(a.First(n))); !slices.Equal(got, want) && len(got)+len(want) > 0 {
			t.Fatalf("k %d, First(%d) of %v = %v, want %v", k, n, values, got, want)
		}
		if got, want := b.Sorted(), sorted[:min(k, len(values))]; !slices.Equal(got, want) && len(got)+len(want) > 0 {
			t.Fatalf("k %d, Sorted() of %v = %v, want %v", k, values, got, want)
		}
	})
}

// TestNegativeK: a negative k (an invalid, unvalidated budget) keeps
// nothing and does not panic.
func TestNegativeK(t *testing.T) {
	s := New(-3, 10, cmp.Compare[int])
	s.Add(1)
	if got := s.First(-3); len(got) != 0 {
		t.Errorf("First(-3) = %v, want none", got)
	}
}

// TestManyValuesWithRepeats exercises the cut of a full buffer (more than
// 2k and 64 values), with repeated values and in several arrival orders.
func TestManyValuesWithRepeats(t *testing.T) {
	rapid.Check(t, func(t *rapid.T) {
		values := rapid.SliceOfN(rapid.IntRange(0, 300), 0, 600).Draw(t, "values")
		switch rapid.IntRange(0, 2).Draw(t, "order") {
		case 1:
			slices.Sort(values)
		case 2:
			slices.Sort(values)
			slices.Reverse(values)
		}
		k := rapid.IntRange(0, 200).Draw(t, "k")
		s := New(k, len(values), cmp.Compare[int])
		for _, v := range values {
			s.Add(v)
		}
		sorted := slices.Sorted(slices.Values(values))
		if got, want := s.Sorted(), sorted[:min(k, len(values))]; !slices.Equal(got, want) && len(got)+len(want) > 0 {
			t.Fatalf("k %d: Sorted() = %v, want %v", k, got, want)
		}
	})
}

// TestInOrderStreamIsLinear checks the point of the bound: a stream that
// arrives sorted costs about one comparison per value.
func TestInOrderStreamIsLinear(t *testing.T) {
	const n, k = 100000, 10000
	compares := 0
	s := New(k, n, func(a, b int) int { compares++; return cmp.Compare(a, b) })
	for i := range n {
		s.Add(i)
	}
	if got := s.Sorted(); len(got) != k || got[0] != 0 || got[k-1] != k-1 {
		t.Fatalf("Sorted() kept %d values, %d..%d", len(got), got[0], got[len(got)-1])
	}
	if compares > 2*n {
		t.Errorf("%d comparisons for %d values in order, want at most %d", compares, n, 2*n)
	}
}

// TestSelectSmallest checks the quickselect on its own: v[:k] holds the k
// smallest values, the largest of them at v[k-1], also with many equal
// values (which defeat the pivots) and sorted or reversed input.
func TestSelectSmallest(t *testing.T) {
	rapid.Check(t, func(t *rapid.T) {
		v := rapid.SliceOfN(rapid.IntRange(0, rapid.SampledFrom([]int{1, 3, 1000}).Draw(t, "spread")), 2, 300).Draw(t, "values")
		switch rapid.IntRange(0, 2).Draw(t, "order") {
		case 1:
			slices.Sort(v)
		case 2:
			slices.Sort(v)
			slices.Reverse(v)
		}
		k := rapid.IntRange(1, len(v)-1).Draw(t, "k")
		sorted := slices.Sorted(slices.Values(v))
		selectSmallest(v, k, cmp.Compare[int])
		if got := slices.Sorted(slices.Values(v[:k])); !slices.Equal(got, sorted[:k]) {
			t.Fatalf("k %d: v[:k] = %v, want the values %v", k, v[:k], sorted[:k])
		}
		if v[k-1] != sorted[k-1] {
			t.Fatalf("k %d: v[k-1] = %d, want %d", k, v[k-1], sorted[k-1])
		}
	})
}

// BenchmarkSmallest keeps the 250 smallest of n names, as plan's burst
// limit does with a fresh DaemonSet's creates, against the plain
// alternative: collect every value, slices.SortFunc, keep the prefix. order
// is the order the names arrive in: sorted (nodes listed by name) or
// shuffled (informer order).
func BenchmarkSmallest(b *testing.B) {
	for _, n := range []int{10000, 100000} {
		sorted := make([]string, n)
		for i := range sorted {
			sorted[i] = fmt.Sprintf("node-%06d", i)
		}
		shuffled := slices.Clone(sorted)
		rand.New(rand.NewPCG(1, 2)).Shuffle(n, func(i, j int) { shuffled[i], shuffled[j] = shuffled[j], shuffled[i] })
		for _, in := range []struct {
			order  string
			values []string
		}{{"sorted", sorted}, {"shuffled", shuffled}} {
			b.Run(fmt.Sprintf("impl=Set/order=%s/n=%d", in.order, n), func(b *testing.B) {
				b.ReportAllocs()
				for b.Loop() {
					s := New(250, n, strings.Compare)
					for _, v := range in.values {
						s.Add(v)
					}
					if len(s.Sorted()) != 250 {
						b.Fatal("wrong count")
					}
				}
			})
			b.Run(fmt.Sprintf("impl=SortFunc/order=%s/n=%d", in.order, n), func(b *testing.B) {
				b.ReportAllocs()
				for b.Loop() {
					all := slices.Clone(in.values)
					slices.SortFunc(all, strings.Compare)
					if len(all[:250]) != 250 {
						b.Fatal("wrong count")
					}
				}
			})
		}
	}
}
