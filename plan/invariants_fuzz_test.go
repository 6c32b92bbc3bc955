package plan_test

import (
	"testing"

	"pgregory.net/rapid"

	"github.com/dsplan/dsplan/plan"
)

// FuzzInvariantStateMachine is TestInvariantStateMachine as a fuzz target:
// go test ./plan -run '^$' -fuzz FuzzInvariantStateMachine -fuzztime 2m
func FuzzInvariantStateMachine(f *testing.F) {
	f.Fuzz(rapid.MakeFuzz(stateMachine(plan.New, allChecks)))
}

// FuzzInvariantSnapshot is TestInvariantSnapshot as a fuzz target.
func FuzzInvariantSnapshot(f *testing.F) {
	f.Fuzz(rapid.MakeFuzz(snapshotProperty))
}
