package labelmatch

import (
	"strconv"
	"testing"

	"pgregory.net/rapid"
)

func TestIsInt64(t *testing.T) {
	for _, tc := range []struct {
		in   string
		want bool
	}{
		{"0", true}, {"-0", true}, {"+0", true}, {"007", true}, {"-9223372036854775808", true}, {"+9223372036854775807", true},
		{"00009223372036854775807", true}, {"9223372036854775808", false}, {"-9223372036854775809", false},
		{"", false}, {"-", false}, {"+", false}, {"1_000", false}, {"0x1", false}, {"1.0", false}, {" 1", false}, {"--1", false},
	} {
		if got := IsInt64(tc.in); got != tc.want {
			t.Errorf("IsInt64(%q) = %v, want %v", tc.in, got, tc.want)
		}
	}
	rapid.Check(t, func(t *rapid.T) {
		s := rapid.StringMatching(`[-+]?0{0,3}[0-9a_]{0,21}`).Draw(t, "s")
		_, err := strconv.ParseInt(s, 10, 64)
		if got := IsInt64(s); got != (err == nil) {
			t.Fatalf("IsInt64(%q) = %v, strconv.ParseInt error: %v", s, got, err)
		}
	})
}
