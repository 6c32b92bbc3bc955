//go:build unix

package e2e

import (
	"fmt"
	"os"
	"slices"
	"strconv"
	"strings"
	"testing"
	"time"

	appsv1 "k8s.io/api/apps/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/util/intstr"

	"github.com/dsplan/dsplan/plan"
	"github.com/dsplan/dsplan/plan/forecast"
)

// TestForecast checks package plan/forecast against the real cluster: a
// rolling update is forecast from the cluster's objects (the DaemonSet with
// its new template, not yet written), then carried out by the DaemonSet
// controller, and the old pods the controller deleted — read from the
// audit log, in the order kube-apiserver received them — are compared with
// the forecast's waves (kwok makes a created pod ready and removes a
// deleted one at once; the forecast's model differs only by a readiness
// delay that keeps its waves apart).
//
// DSPLAN_E2E_FORECAST_CONTROLLERS (comma-separated, default "dsplan";
// "kcm,dsplan" for both) selects the controllers.
func TestForecast(t *testing.T) {
	cfg, ctx := requireE2E(t)
	for _, ctrl := range strings.Split(cmpOr(os.Getenv("DSPLAN_E2E_FORECAST_CONTROLLERS"), "dsplan"), ",") {
		if ctrl != "kcm" && ctrl != "dsplan" {
			t.Fatalf("DSPLAN_E2E_FORECAST_CONTROLLERS: %q is not kcm or dsplan", ctrl)
		}
		t.Run(ctrl, func(t *testing.T) {
			c := newCluster(t, ctx, cfg, clusterSpec{controller: ctrl})
			runScenarios(t, c, []scenarioDef{
				{"forecast-one-by-one", func(s *scenario) { scenarioForecast(s, intstr.FromInt32(1)) }},
				{"forecast-quarter", func(s *scenario) { scenarioForecast(s, intstr.FromString("25%")) }},
			})
		})
	}
}

// scenarioForecast forecasts a rolling update with maxUnavailable and
// compares it with what the controller did.
//
// Every controller must replace the forecast's nodes, each once. With
// maxUnavailable 1 each wave is one node and a sync can replace only one,
// so the real cluster makes as many replacements, one at a time, as the
// forecast has waves. The dsplan controller also starts with the
// forecast's first wave (every old pod is available then, so the first
// sync's picks do not depend on timing) and replaces nodes in the
// forecast's order, node-name order: a node deleted i-th is less than
// maxUnavailable places from i in it (deletes of one sync go out in
// parallel). kube-controller-manager picks among candidates in map order,
// which the forecast does not model. Beyond the first
// wave, how the real deletes group into syncs depends on when the pod
// events arrive, and is not compared: the forecast's waves are what the
// controller does when every pod event of a wave arrives at once.
func scenarioForecast(s *scenario, maxUnavailable intstr.IntOrString) {
	ds := newDS("ds")
	ds.Spec.UpdateStrategy = rollingUpdate(maxUnavailable, intstr.FromInt32(0))
	s.converge("create", "ds", s.createDS(ds), convergeOpts{})

	// The snapshot the forecast starts from: the cluster as it is, with the
	// template change the API server is about to receive.
	snap, nodeOf := s.liveSnapshot("ds")
	next := snap.DaemonSet.DeepCopy()
	next.Spec.Template.Spec.Containers[0].Image = imageV2
	// As kube-apiserver writes a template change: the generation and the
	// template generation (an annotation in apps/v1, which pods carry as
	// pod-template-generation and the controller reads as "updated") go
	// up by one.
	next.Generation++
	tg, err := strconv.ParseInt(next.Annotations[appsv1.DeprecatedTemplateGeneration], 10, 64)
	if err != nil {
		s.t.Fatalf("annotation %s: %v", appsv1.DeprecatedTemplateGeneration, err)
	}
	next.Annotations[appsv1.DeprecatedTemplateGeneration] = strconv.FormatInt(tg+1, 10)
	snap.DaemonSet = next
	// kwok makes a pod ready as soon as it is bound; a delay of one second
	// separates the forecast's waves in time (with none, every sync
	// happens at once and the whole rollout is one wave) without changing
	// which nodes each sync replaces.
	f, err := forecast.Run(snap, forecast.Options{Model: forecast.Model{ReadyAfter: time.Second}})
	if err != nil || !f.Complete || len(f.Waves) == 0 {
		s.t.Fatalf("forecast: complete %v, err %v: %s", f.Complete, err, f.Summary())
	}
	var order []string
	for _, w := range f.Waves {
		order = append(order, w.Nodes...)
	}
	s.t.Logf("forecast: %s", f.Summary())

	_, offset, err := readAudit(s.c.auditPath, 0)
	if err != nil {
		s.t.Fatal(err)
	}
	s.converge("update", "ds", s.setImage("ds", imageV2), convergeOpts{})
	events, _, err := readAudit(s.c.auditPath, offset)
	if err != nil {
		s.t.Fatal(err)
	}
	// The controller's deletes of old pods, each pod once (a pod deleted
	// again while it terminates counts once), in the order received.
	users := s.c.controllerUsers()
	seen := map[string]bool{}
	var real []string
	for _, e := range events {
		if e.Verb != "delete" || e.ObjectRef == nil || e.ObjectRef.Resource != "pods" || e.ObjectRef.Namespace != s.ns ||
			!slices.Contains(users, e.User.Username) || e.ResponseStatus == nil || e.ResponseStatus.Code >= 300 {
			continue
		}
		node, old := nodeOf[e.ObjectRef.Name]
		if !old || seen[e.ObjectRef.Name] {
			continue
		}
		seen[e.ObjectRef.Name] = true
		real = append(real, node)
	}
	s.t.Logf("%d waves forecast, %d old pods replaced; forecast order %s; real order %s",
		len(f.Waves), len(real), short(order), short(real))
	fmt.Printf("E2E-FORECAST scenario=%s controller=%s waves=%d first-wave=%d replaced=%d\n",
		s.name, s.c.spec.controller, len(f.Waves), len(f.Waves[0].Nodes), len(real))

	if got, want := sorted(real), sorted(order); !slices.Equal(got, want) {
		s.t.Errorf("the controller replaced the old pods of %v, the forecast those of %v", got, want)
	}
	first := f.Waves[0].Nodes
	limit, err := intstr.GetScaledValueFromIntOrPercent(&maxUnavailable, f.Desired, true)
	if err != nil {
		s.t.Fatal(err)
	}
	if len(first) != limit {
		s.t.Errorf("the forecast's first wave replaces %d nodes, maxUnavailable allows %d", len(first), limit)
	}
	if limit == 1 && len(f.Waves) != len(real) {
		s.t.Errorf("maxUnavailable 1: %d waves forecast, %d replacements made", len(f.Waves), len(real))
	}
	if s.c.spec.controller != "dsplan" {
		return // kube-controller-manager picks among the candidates in map order
	}
	if len(real) >= len(first) && !slices.Equal(sorted(real[:len(first)]), sorted(first)) {
		s.t.Errorf("first wave: the controller replaced %v first, the forecast %v", sorted(real[:len(first)]), sorted(first))
	}
	at := map[string]int{}
	for i, n := range order {
		at[n] = i
	}
	for i, n := range real {
		if d := at[n] - i; d >= limit || -d >= limit {
			s.t.Errorf("the %d-th replacement is node %s, at %d in the forecast's order (maxUnavailable %d)", i, n, at[n], limit)
		}
	}
}

// liveSnapshot reads the DaemonSet name, the nodes, and the pods and
// ControllerRevisions of the scenario's namespace from the API server as a
// plan.Snapshot at the current time, and maps each pod's name to its node.
func (s *scenario) liveSnapshot(name string) (plan.Snapshot, map[string]string) {
	s.t.Helper()
	ds, err := s.c.client.AppsV1().DaemonSets(s.ns).Get(s.ctx, name, metav1.GetOptions{})
	if err != nil {
		s.t.Fatal(err)
	}
	nodes, err := s.c.client.CoreV1().Nodes().List(s.ctx, metav1.ListOptions{})
	if err != nil {
		s.t.Fatal(err)
	}
	pods, err := s.c.client.CoreV1().Pods(s.ns).List(s.ctx, metav1.ListOptions{})
	if err != nil {
		s.t.Fatal(err)
	}
	revs, err := s.c.client.AppsV1().ControllerRevisions(s.ns).List(s.ctx, metav1.ListOptions{})
	if err != nil {
		s.t.Fatal(err)
	}
	snap := plan.Snapshot{DaemonSet: ds, Now: metav1.Now().Time}
	nodeOf := map[string]string{}
	for i := range nodes.Items {
		snap.Nodes = append(snap.Nodes, &nodes.Items[i])
	}
	for i := range pods.Items {
		p := &pods.Items[i]
		snap.Pods = append(snap.Pods, p)
		nodeOf[p.Name] = p.Spec.NodeName
	}
	for i := range revs.Items {
		snap.Revisions = append(snap.Revisions, &revs.Items[i])
	}
	return snap, nodeOf
}

func sorted(xs []string) []string { return slices.Sorted(slices.Values(xs)) }

// short abbreviates a long list of node names for a log line.
func short(xs []string) string {
	if len(xs) <= 12 {
		return fmt.Sprint(xs)
	}
	return fmt.Sprintf("%v ... (%d more)", xs[:12], len(xs)-12)
}
