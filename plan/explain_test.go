package plan_test

import (
	"slices"
	"strings"
	"testing"
	"time"

	gocmp "github.com/google/go-cmp/cmp"
	appsv1 "k8s.io/api/apps/v1"
	corev1 "k8s.io/api/core/v1"
	"k8s.io/apimachinery/pkg/util/intstr"
	"pgregory.net/rapid"

	"github.com/dsplan/dsplan/internal/dstest"
	"github.com/dsplan/dsplan/plan"
	"github.com/dsplan/dsplan/rollout"
)

// TestExplain plans a rollout in progress over nodes in every state and
// checks each node's report line.
func TestExplain(t *testing.T) {
	ds := dstest.DaemonSet("agent", dstest.RollingUpdate(intstr.FromInt32(1), intstr.FromInt32(0)),
		dstest.NodeSelector(map[string]string{"pool": "logging"}))
	hash := hashOf(ds)
	now := dstest.Epoch.Add(time.Hour)
	logging := dstest.Labels("pool", "logging")
	s := plan.Snapshot{DaemonSet: ds, Now: now, Revisions: []*appsv1.ControllerRevision{currentRevision(t, ds, 2)},
		Nodes: []*corev1.Node{
			dstest.Node("a-current", logging),
			dstest.Node("b-old", logging),
			dstest.Node("c-old", logging),
			dstest.Node("d-empty", logging),
			dstest.Node("e-hdd", dstest.Labels("pool", "batch")),
			dstest.Node("f-evict", logging, dstest.Taint("dedicated", "db", corev1.TaintEffectNoExecute)),
		},
		Pods: []*corev1.Pod{
			dstest.Pod(ds, "agent-a", "a-current", hash),
			dstest.Pod(ds, "agent-b", "b-old", "5d4b86d8bb"),
			dstest.Pod(ds, "agent-c", "c-old", "5d4b86d8bb"),
			dstest.Pod(ds, "agent-f", "f-evict", hash),
			dstest.Pod(ds, "agent-g", "g-gone", hash),
		},
	}
	p := plan.New(s, plan.Options{Explain: true})
	var got []string
	for _, r := range p.Nodes {
		got = append(got, r.String())
	}
	want := []string{
		"a-current: UpToDate; pods agent-a (revision " + hash + ")",
		"b-old: Old; pods agent-b (revision 5d4b86d8bb); waits: ManagePassFirst (1 creates and 1 deletes first)",
		"c-old: Old; pods agent-c (revision 5d4b86d8bb); waits: ManagePassFirst (1 creates and 1 deletes first)",
		"d-empty: ToCreate: create (Missing)",
		"e-hdd: Ineligible: no pod: nodeSelector wants pool=logging, node has pool=batch",
		"f-evict: ToDelete: delete agent-f (Evicted); no pod: untolerated taint dedicated=db:NoExecute",
		"g-gone: Gone: the node does not exist; pods agent-g (revision " + hash + ")",
	}
	if diff := gocmp.Diff(want, got); diff != "" {
		t.Errorf("reports (-want +got):\n%s", diff)
	}

	// Once the manage pass is done, the rolling update replaces one old
	// pod, and the other waits for the budget.
	s.Nodes = slices.DeleteFunc(slices.Clone(s.Nodes), func(n *corev1.Node) bool { return n.Name == "f-evict" })
	s.Pods = []*corev1.Pod{dstest.Pod(ds, "agent-a", "a-current", hash), dstest.Pod(ds, "agent-b", "b-old", "5d4b86d8bb"),
		dstest.Pod(ds, "agent-c", "c-old", "5d4b86d8bb"), dstest.Pod(ds, "agent-d", "d-empty", hash)}
	p = plan.New(s, plan.Options{Explain: true})
	got = nil
	for _, r := range p.Nodes {
		if strings.HasPrefix(r.Node, "b-") || strings.HasPrefix(r.Node, "c-") {
			got = append(got, r.String())
		}
	}
	want = []string{
		"b-old: ToDelete: delete agent-b (Replace)",
		"c-old: Old; pods agent-c (revision 5d4b86d8bb); waits: BudgetSpent (maxUnavailable 1: 1 node in flight)",
	}
	if diff := gocmp.Diff(want, got); diff != "" {
		t.Errorf("reports (-want +got):\n%s", diff)
	}
}

// explainProperty: explaining changes nothing else in a plan; every node
// is reported once, and its state agrees with the plan's actions.
func explainProperty(t *rapid.T) {
	s, opts := randomSnapshot(t)
	p := plan.New(s, opts)
	opts.Explain = true
	q := plan.New(s, opts)
	nodes := q.Nodes
	q.Nodes = nil
	if diff := gocmp.Diff(p, q, dstest.PlanCmp); diff != "" {
		t.Fatalf("Explain changed the plan (-without +with):\n%s", diff)
	}
	if p.Err != nil || p.Hash == "" {
		return // the sync stopped before grouping
	}
	creates, deletes := map[string]rollout.CreateReason{}, map[string]int{}
	for _, c := range p.Creates {
		creates[c.Node] = c.Reason
	}
	for _, d := range p.Deletes {
		deletes[d.Node]++
	}
	for i, r := range nodes {
		if i > 0 && nodes[i-1].Node >= r.Node {
			t.Fatalf("reports not sorted or repeated at %s", r.Node)
		}
		if r.Create != creates[r.Node] || len(r.Deletes) != deletes[r.Node] {
			t.Fatalf("%s: report has create %q and %d deletes, the plan %q and %d", r.Node, r.Create, len(r.Deletes), creates[r.Node], deletes[r.Node])
		}
		if (r.State == plan.StateToDelete) != (deletes[r.Node] > 0) || (r.State == plan.StateToCreate) != (creates[r.Node] != "" && deletes[r.Node] == 0) {
			t.Fatalf("%s: state %s with create %q, %d deletes", r.Node, r.State, creates[r.Node], deletes[r.Node])
		}
		if r.Wait != nil && r.State != plan.StateOld && r.State != plan.StateMissing {
			t.Fatalf("%s: %s waits (%v)", r.Node, r.State, r.Wait)
		}
		if r.State == plan.StateOld && r.Wait == nil {
			t.Fatalf("%s: an old pod stays without a reason", r.Node)
		}
	}
}

func TestExplainProperty(t *testing.T) {
	rapid.Check(t, explainProperty)
}
