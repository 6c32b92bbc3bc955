package rollout_test

import (
	"iter"
	"slices"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"
	"github.com/google/go-cmp/cmp/cmpopts"
	corev1 "k8s.io/api/core/v1"
	"pgregory.net/rapid"

	"github.com/dsplan/dsplan/internal/dstest"
	"github.com/dsplan/dsplan/rollout"
)

// listed is rollout.Nodes kept plainly: every node's class, by kind.
type listed struct {
	byKind    map[rollout.NodeKind][]string
	old       map[string]*corev1.Pod
	available int
}

func (l *listed) Count(k rollout.NodeKind) int { return len(l.byKind[k]) }
func (l *listed) Available() int               { return l.available }
func (l *listed) First(k rollout.NodeKind, n int) iter.Seq2[string, *corev1.Pod] {
	names := slices.Sorted(slices.Values(l.byKind[k]))
	return func(yield func(string, *corev1.Pod) bool) {
		for _, name := range names[:max(0, min(n, len(names)))] {
			if !yield(name, l.old[name]) {
				return
			}
		}
	}
}

// TestDecideIsUpdate: deciding from every node's class (Classify) gives
// Update's plan, and the kinds Decide reads are the ones that act.
func TestDecideIsUpdate(t *testing.T) {
	rapid.Check(t, func(t *rapid.T) {
		in := genInput(t)
		g := dstest.Group(in.ds, "new", dstest.Epoch, in.nodes, in.pods)
		want, wantErr := rollout.Update(in.ds, g, rollout.Options{})
		b, err := rollout.Budgets(in.ds, g.Desired())
		if err != nil {
			t.Fatal(err)
		}
		l := &listed{byKind: map[rollout.NodeKind][]string{}, old: map[string]*corev1.Pod{}}
		for _, n := range g.All() {
			c := rollout.Classify(n, b.MaxSurge > 0)
			l.byKind[c.Kind] = append(l.byKind[c.Kind], n.Name())
			l.old[n.Name()] = c.Old
			if c.Available {
				l.available++
			}
			if (c.Kind == rollout.NodeIgnored) != (n.Len() == 0 && !(n.Exists() && n.Decision().ShouldRun())) {
				t.Fatalf("node %s: kind %d", n.Name(), c.Kind)
			}
		}
		got, gotErr := rollout.Decide(in.ds, g.Desired(), l)
		if diff := cmp.Diff(want, got, cmpopts.EquateEmpty()); diff != "" {
			t.Fatalf("Decide differs from Update (-Update +Decide):\n%s", diff)
		}
		if !cmp.Equal(wantErr, gotErr, dstest.ErrorText) {
			t.Fatalf("Decide's error %v, Update's %v", gotErr, wantErr)
		}
	})
}

// TestNodeKindActs lists the kinds the rolling update acts on.
func TestNodeKindActs(t *testing.T) {
	var acts []string
	for k := rollout.NodeIgnored; k <= rollout.NodeSurgeReplaced; k++ {
		if k.Acts() {
			acts = append(acts, map[rollout.NodeKind]string{
				rollout.NodeReplaceUnavailable: "ReplaceUnavailable", rollout.NodeReplaceCandidate: "ReplaceCandidate",
				rollout.NodeMissing: "Missing", rollout.NodeSurgeIneligible: "SurgeIneligible", rollout.NodeSurgeUnavailable: "SurgeUnavailable",
				rollout.NodeSunset: "Sunset", rollout.NodeSurgeCandidate: "SurgeCandidate", rollout.NodeSurgeReplaced: "SurgeReplaced",
			}[k])
		}
	}
	if got, want := strings.Join(acts, " "), "ReplaceUnavailable ReplaceCandidate Missing SurgeIneligible SurgeUnavailable Sunset SurgeCandidate SurgeReplaced"; got != want {
		t.Errorf("kinds that act: %s, want %s", got, want)
	}
}
