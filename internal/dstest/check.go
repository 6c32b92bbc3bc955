package dstest

import (
	"flag"
	"fmt"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"
	"github.com/google/go-cmp/cmp/cmpopts"
)

// Recorder is a rapid.TB that records a failing check instead of failing
// the test, so that a test can expect rapid to find a counterexample (a
// deliberately broken planner must be caught).
type Recorder struct {
	name   string
	failed bool
	out    strings.Builder
}

// NewRecorder returns a Recorder named name (the test's name).
func NewRecorder(name string) *Recorder { return &Recorder{name: name} }

// Output is everything logged so far, failures included.
func (r *Recorder) Output() string { return r.out.String() }

func (r *Recorder) Helper()                      {}
func (r *Recorder) Name() string                 { return r.name }
func (r *Recorder) Logf(f string, args ...any)   { fmt.Fprintf(&r.out, f+"\n", args...) }
func (r *Recorder) Log(args ...any)              { fmt.Fprintln(&r.out, args...) }
func (r *Recorder) Skipf(f string, args ...any)  { r.Logf(f, args...) }
func (r *Recorder) Skip(args ...any)             { r.Log(args...) }
func (r *Recorder) SkipNow()                     {}
func (r *Recorder) Errorf(f string, args ...any) { r.failed = true; r.Logf(f, args...) }
func (r *Recorder) Error(args ...any)            { r.failed = true; r.Log(args...) }
func (r *Recorder) Fatalf(f string, args ...any) { r.Errorf(f, args...) }
func (r *Recorder) Fatal(args ...any)            { r.Error(args...) }
func (r *Recorder) FailNow()                     { r.failed = true }
func (r *Recorder) Fail()                        { r.failed = true }
func (r *Recorder) Failed() bool                 { return r.failed }

// SetFlag sets the command-line flag name (rapid's -rapid.checks, say) to
// value for the rest of the test.
func SetFlag(t testing.TB, name, value string) {
	f := flag.Lookup(name)
	old := f.Value.String()
	if err := f.Value.Set(value); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = f.Value.Set(old) })
}

// ErrorText compares errors by message, nil only with nil.
var ErrorText = cmp.Comparer(func(a, b error) bool {
	if a == nil || b == nil {
		return a == nil && b == nil
	}
	return a.Error() == b.Error()
})

// PlanCmp compares plans (or any results holding errors): errors by
// message, nil and empty slices and maps alike.
var PlanCmp = cmp.Options{cmpopts.EquateEmpty(), ErrorText}
