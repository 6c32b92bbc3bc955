package rollout

import (
	"cmp"
	"slices"
	"testing"

	"pgregory.net/rapid"
)

// TestSmallestIsSortedPrefix checks that smallest keeps what sorting and
// keeping a prefix keeps.
func TestSmallestIsSortedPrefix(t *testing.T) {
	rapid.Check(t, func(t *rapid.T) {
		values := rapid.SliceOfDistinct(rapid.IntRange(0, 50), rapid.ID).Draw(t, "values")
		k := rapid.IntRange(0, len(values)+2).Draw(t, "k")
		n := rapid.IntRange(-1, k+1).Draw(t, "n")
		s := smallest[int]{k: k, cmp: cmp.Compare[int]}
		for _, v := range values {
			s.add(v)
		}
		want := slices.Sorted(slices.Values(values))[:max(0, min(n, k, len(values)))]
		got := slices.Sorted(slices.Values(s.first(n)))
		if !slices.Equal(got, want) && len(got)+len(want) > 0 {
			t.Fatalf("k %d, first(%d) of %v = %v, want %v", k, n, values, got, want)
		}
	})
}

// TestSmallestNegativeBudget: a negative budget (an invalid, unvalidated
// maxUnavailable) keeps nothing and does not panic.
func TestSmallestNegativeBudget(t *testing.T) {
	s := newSmallest(-3, 10, cmp.Compare[int])
	s.add(1)
	if got := s.first(-3); len(got) != 0 {
		t.Errorf("first(-3) = %v, want none", got)
	}
}
