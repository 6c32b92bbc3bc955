// Package labelmatch matches label requirements against many label sets:
// the result of labels.Requirement.Matches, with one map lookup per
// requirement, no interface call and no allocation. Package placement
// matches node affinity terms with it (every node of a cluster, for every
// DaemonSet), package plan the DaemonSet's selector (every pod).
package labelmatch

import (
	"slices"
	"strings"

	"k8s.io/apimachinery/pkg/labels"
	"k8s.io/apimachinery/pkg/selection"
)

// Op is a requirement's operator, as matching needs it.
type Op uint8

// Operators.
const (
	In           Op = iota // In, Equals, DoubleEquals
	NotIn                  // NotIn, NotEquals
	Exists                 // Exists
	DoesNotExist           // DoesNotExist
	Ordered                // GreaterThan, LessThan
)

// Requirement is one compiled label requirement.
type Requirement struct {
	Key    string
	Op     Op
	Values []string // In, NotIn
	req    *labels.Requirement
}

// Compile compiles r; the result keeps r to match Ordered requirements.
func Compile(r *labels.Requirement) Requirement {
	op := Ordered
	switch r.Operator() {
	case selection.In, selection.Equals, selection.DoubleEquals:
		op = In
	case selection.NotIn, selection.NotEquals:
		op = NotIn
	case selection.Exists:
		op = Exists
	case selection.DoesNotExist:
		op = DoesNotExist
	}
	return Requirement{Key: r.Key(), Op: op, Values: r.ValuesUnsorted(), req: r}
}

// Matches reports whether l satisfies every requirement of reqs, as
// labels.Requirement.Matches does for each. The loop is the whole cost of
// matching six requirements, so it makes one inlined map lookup each.
func Matches(reqs []Requirement, l map[string]string) bool {
	for i := range reqs {
		r := &reqs[i]
		v, ok := l[r.Key]
		switch r.Op {
		case In:
			if !ok || !slices.Contains(r.Values, v) {
				return false
			}
		case NotIn:
			if ok && slices.Contains(r.Values, v) {
				return false
			}
		case Exists:
			if !ok {
				return false
			}
		case DoesNotExist:
			if ok {
				return false
			}
		default:
			// labels.Requirement.Matches also returns false for a value
			// that is not an integer, but allocates to log it.
			if !ok || !IsInt64(v) || !r.req.Matches(labels.Set(l)) {
				return false
			}
		}
	}
	return true
}

// IsInt64 reports whether strconv.ParseInt(s, 10, 64) succeeds: an optional
// sign and decimal digits, within the int64 range. Unlike ParseInt, it does
// not allocate when s is not one.
func IsInt64(s string) bool {
	limit := "9223372036854775807" // math.MaxInt64
	if s != "" && (s[0] == '+' || s[0] == '-') {
		if s[0] == '-' {
			limit = "9223372036854775808" // -math.MinInt64
		}
		s = s[1:]
	}
	if s == "" {
		return false
	}
	for i := 0; i < len(s); i++ {
		if s[i] < '0' || s[i] > '9' {
			return false
		}
	}
	s = strings.TrimLeft(s, "0")
	if len(s) != len(limit) {
		return len(s) < len(limit)
	}
	return s <= limit
}
