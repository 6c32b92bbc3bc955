package smallest

import (
	"cmp"
	"slices"
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
