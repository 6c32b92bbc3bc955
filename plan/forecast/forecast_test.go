package forecast_test

import (
	"bytes"
	"encoding/xml"
	"fmt"
	"strings"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
	appsv1 "k8s.io/api/apps/v1"
	corev1 "k8s.io/api/core/v1"
	"k8s.io/apimachinery/pkg/api/resource"
	"k8s.io/apimachinery/pkg/labels"
	"k8s.io/apimachinery/pkg/util/intstr"
	"k8s.io/apimachinery/pkg/util/validation/field"
	"pgregory.net/rapid"

	"github.com/dsplan/dsplan/internal/dstest"
	"github.com/dsplan/dsplan/plan"
	"github.com/dsplan/dsplan/plan/forecast"
	"github.com/dsplan/dsplan/revision"
	"github.com/dsplan/dsplan/rollout"
)

// oldHash is the revision of the pods before the update.
var oldHash = revision.Hash(&dstest.DaemonSet("agent", dstest.Image("registry.example.com/agent:v0")).Spec.Template, nil)

// midUpdate is n nodes, each with an available pod of the old template,
// and ds (the new template).
func midUpdate(ds *appsv1.DaemonSet, n int) plan.Snapshot {
	s := plan.Snapshot{DaemonSet: ds, Nodes: dstest.Nodes(n), Now: dstest.Epoch}
	for _, node := range s.Nodes {
		s.Pods = append(s.Pods, dstest.Pod(ds, "old-"+node.Name, node.Name, oldHash, dstest.ReadySince(dstest.Epoch.Add(-time.Hour))))
	}
	return s
}

func TestRun(t *testing.T) {
	ready := forecast.Model{ReadyAfter: 10 * time.Second}
	for _, tc := range []struct {
		name      string
		ds        *appsv1.DaemonSet
		nodes     int
		opts      forecast.Options
		waves     int
		duration  time.Duration
		complete  bool
		stalls    []forecast.StallReason
		firstWave []string
	}{
		{name: "maxUnavailable 10% of 100: ten waves", ds: dstest.DaemonSet("agent", dstest.RollingUpdate(intstr.FromString("10%"), intstr.FromInt32(0))),
			nodes: 100, opts: forecast.Options{Model: ready}, waves: 10, duration: 100 * time.Second, complete: true,
			firstWave: []string{"node-0000", "node-0001", "node-0002", "node-0003", "node-0004", "node-0005", "node-0006", "node-0007", "node-0008", "node-0009"}},
		{name: "maxUnavailable 1 with minReadySeconds", ds: dstest.DaemonSet("agent", dstest.MinReadySeconds(30)),
			nodes: 3, opts: forecast.Options{Model: ready}, waves: 3, duration: 120 * time.Second, complete: true, firstWave: []string{"node-0000"}},
		{name: "surge 2", ds: dstest.DaemonSet("agent", dstest.RollingUpdate(intstr.FromInt32(0), intstr.FromInt32(2))),
			nodes: 5, opts: forecast.Options{Model: ready}, waves: 3, duration: 30 * time.Second, complete: true, firstWave: []string{"node-0000", "node-0001"}},
		{name: "crash loop stalls with the budget spent", ds: dstest.DaemonSet("agent"),
			nodes: 4, opts: forecast.Options{Model: forecast.Model{ReadyAfter: time.Second, FailureRate: 1}}, waves: 1,
			stalls: []forecast.StallReason{forecast.StallNewPodsFailing}, firstWave: []string{"node-0000"}},
		{name: "partition stalls there", ds: dstest.DaemonSet("agent", dstest.RollingUpdate(intstr.FromInt32(2), intstr.FromInt32(0))),
			nodes: 6, opts: forecast.Options{Model: ready, Plan: plan.Options{Rollout: rollout.Options{Partition: new(intstr.FromInt32(2))}}},
			waves: 2, duration: 20 * time.Second, stalls: []forecast.StallReason{forecast.StallPartition}, firstWave: []string{"node-0000", "node-0001"}},
		{name: "paused", ds: dstest.DaemonSet("agent"), nodes: 2, opts: forecast.Options{Model: ready, Plan: plan.Options{Rollout: rollout.Options{Paused: true}}},
			stalls: []forecast.StallReason{forecast.StallPaused}},
		{name: "selector matching no node", ds: dstest.DaemonSet("agent"), nodes: 2,
			opts:   forecast.Options{Model: ready, Plan: plan.Options{Rollout: rollout.Options{Selector: labels.SelectorFromSet(labels.Set{"zone": "nowhere"})}}},
			stalls: []forecast.StallReason{forecast.StallSelectorMatchesNothing}},
		{name: "OnDelete", ds: dstest.DaemonSet("agent", dstest.OnDelete), nodes: 2, opts: forecast.Options{Model: ready},
			stalls: []forecast.StallReason{forecast.StallOnDelete}},
		{name: "host port with surge", ds: dstest.DaemonSet("agent", dstest.RollingUpdate(intstr.FromInt32(0), intstr.FromInt32(1)), hostPort(9100)),
			nodes: 3, opts: forecast.Options{Model: ready}, waves: 1,
			stalls: []forecast.StallReason{forecast.StallHostPortConflict, forecast.StallNewPodsUnavailable}, firstWave: []string{"node-0000"}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			s := midUpdate(tc.ds, tc.nodes)
			if tc.name == "host port with surge" {
				for _, p := range s.Pods {
					p.Spec.Containers = []corev1.Container{{Name: "agent", Ports: []corev1.ContainerPort{{ContainerPort: 9100, HostPort: 9100}}}}
				}
			}
			f, err := forecast.Run(s, tc.opts)
			if err != nil {
				t.Fatal(err)
			}
			var text bytes.Buffer
			if err := f.Text(&text); err != nil {
				t.Fatal(err)
			}
			if len(f.Waves) != tc.waves || f.Complete != tc.complete || (tc.complete && f.Duration != tc.duration) {
				t.Errorf("waves %d, complete %v, duration %v; want %d, %v, %v\n%s", len(f.Waves), f.Complete, f.Duration, tc.waves, tc.complete, tc.duration, text.String())
			}
			if !tc.complete && !f.Stalled {
				t.Errorf("neither complete nor stalled:\n%s", text.String())
			}
			var stalls []forecast.StallReason
			for _, st := range f.Stalls {
				stalls = append(stalls, st.Reason)
			}
			if diff := cmp.Diff(tc.stalls, stalls); diff != "" {
				t.Errorf("stalls (-want +got):\n%s\n%s", diff, text.String())
			}
			if tc.firstWave != nil && (len(f.Waves) == 0 || !cmp.Equal(tc.firstWave, f.Waves[0].Nodes)) {
				t.Errorf("first wave %v, want %v", f.Waves, tc.firstWave)
			}
		})
	}
}

func hostPort(port int32) func(*appsv1.DaemonSet) {
	return func(ds *appsv1.DaemonSet) {
		ds.Spec.Template.Spec.Containers[0].Ports = []corev1.ContainerPort{{ContainerPort: port, HostPort: port}}
	}
}

func TestRunIsDeterministicAndPure(t *testing.T) {
	ds := dstest.DaemonSet("agent", dstest.RollingUpdate(intstr.FromInt32(3), intstr.FromInt32(0)))
	s := midUpdate(ds, 20)
	before := s.Pods[0].DeepCopy()
	opts := forecast.Options{Model: forecast.Model{ReadyAfter: 5 * time.Second, FailureRate: 0.3, Seed: 7}}
	a, _ := forecast.Run(s, opts)
	b, _ := forecast.Run(s, opts)
	if diff := cmp.Diff(a, b); diff != "" {
		t.Errorf("two runs differ (-first +second):\n%s", diff)
	}
	if diff := cmp.Diff(before, s.Pods[0]); diff != "" {
		t.Errorf("Run modified the snapshot:\n%s", diff)
	}
	opts.Model.Seed = 8
	if c, _ := forecast.Run(s, opts); cmp.Equal(a, c) {
		t.Log("another seed gave the same forecast") // possible, rare
	}
}

func TestStalls(t *testing.T) {
	ds := dstest.DaemonSet("agent", dstest.RollingUpdate(intstr.FromInt32(1), intstr.FromInt32(0)))
	hash := revision.Hash(&ds.Spec.Template, nil)
	s := plan.Snapshot{DaemonSet: ds, Now: dstest.Epoch, Nodes: []*corev1.Node{dstest.Node("a"), dstest.Node("b"),
		dstest.Node("c", dstest.Taint("dedicated", "db", corev1.TaintEffectNoSchedule))},
		Pods: []*corev1.Pod{
			dstest.Pod(ds, "new-a", "a", hash, dstest.NotReady),
			dstest.Pod(ds, "old-b", "b", oldHash),
			dstest.Pod(ds, "old-c", "c", oldHash, dstest.NotReady),
			dstest.Pod(ds, "old-gone", "gone", oldHash),
		}}
	got := map[forecast.StallReason][]string{}
	for _, st := range forecast.Stalls(s, plan.Options{}) {
		got[st.Reason] = st.Nodes
	}
	want := map[forecast.StallReason][]string{
		forecast.StallNewPodsUnavailable:    {"a"},
		forecast.StallIneligibleUnavailable: {"c"},
		forecast.StallVanishedNodes:         {"gone"},
	}
	if diff := cmp.Diff(want, got); diff != "" {
		t.Errorf("Stalls (-want +got):\n%s", diff)
	}
}

func TestLint(t *testing.T) {
	small := func(n *corev1.Node) {
		n.Status.Allocatable = corev1.ResourceList{corev1.ResourceCPU: resource.MustParse("1"), corev1.ResourceMemory: resource.MustParse("1Gi")}
	}
	requests := func(cpu string) func(*appsv1.DaemonSet) {
		return func(ds *appsv1.DaemonSet) {
			ds.Spec.Template.Spec.Containers[0].Resources.Requests = corev1.ResourceList{corev1.ResourceCPU: resource.MustParse(cpu)}
		}
	}
	for _, tc := range []struct {
		name string
		ds   *appsv1.DaemonSet
		opts plan.Options
		want []string // paths
	}{
		{name: "clean", ds: dstest.DaemonSet("agent")},
		{name: "host port with surge", ds: dstest.DaemonSet("agent", dstest.RollingUpdate(intstr.FromInt32(0), intstr.FromInt32(1)), hostPort(9100)),
			want: []string{"spec.template.spec.containers[0].ports[0].hostPort"}},
		{name: "host port without surge is fine", ds: dstest.DaemonSet("agent", hostPort(9100))},
		{name: "both budgets zero", ds: dstest.DaemonSet("agent", dstest.RollingUpdate(intstr.FromInt32(0), intstr.FromInt32(0))),
			want: []string{"spec.updateStrategy.rollingUpdate"}},
		{name: "partition at desired", ds: dstest.DaemonSet("agent"), opts: plan.Options{Rollout: rollout.Options{Partition: new(intstr.FromString("100%"))}},
			want: []string{"rollout.partition"}},
		{name: "partition annotation", ds: dstest.DaemonSet("agent", func(ds *appsv1.DaemonSet) {
			ds.Annotations = map[string]string{rollout.AnnotationPartition: "5"}
		}), opts: plan.Options{Annotations: true}, want: []string{"metadata.annotations[rollout.dsplan.io/partition]"}},
		{name: "selector matching no node", ds: dstest.DaemonSet("agent", dstest.NodeSelector(map[string]string{"gpu": "a100"})),
			want: []string{"spec.template.spec.nodeSelector"}},
		{name: "requests too large", ds: dstest.DaemonSet("agent", requests("2")), want: []string{"spec.template.spec.containers[0].resources.requests"}},
		{name: "no room to surge", ds: dstest.DaemonSet("agent", requests("600m"), dstest.RollingUpdate(intstr.FromInt32(0), intstr.FromInt32(1))),
			want: []string{"spec.updateStrategy.rollingUpdate.maxSurge"}},
		{name: "tolerates everything", ds: dstest.DaemonSet("agent", dstest.Tolerate(corev1.Toleration{Operator: corev1.TolerationOpExists})),
			want: []string{"spec.template.spec.tolerations[0]"}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			nodes := []*corev1.Node{dstest.Node("a", small), dstest.Node("b", small)}
			errs := forecast.Lint(plan.Snapshot{DaemonSet: tc.ds, Nodes: nodes}, tc.opts)
			var got []string
			for _, e := range errs {
				got = append(got, e.Field)
				if e.Type != field.ErrorTypeInvalid || e.Detail == "" {
					t.Errorf("%s: %v, want an Invalid with a detail", e.Field, e)
				}
			}
			if diff := cmp.Diff(tc.want, got); diff != "" {
				t.Errorf("Lint paths (-want +got):\n%s\n%v", diff, errs)
			}
		})
	}
}

// TestWriteSVG checks the picture's structure: well-formed XML, a series
// per counter with a point per sync, a line per wave, the title.
func TestWriteSVG(t *testing.T) {
	ds := dstest.DaemonSet("agent", dstest.RollingUpdate(intstr.FromInt32(2), intstr.FromInt32(0)))
	f, _ := forecast.Run(midUpdate(ds, 6), forecast.Options{Model: forecast.Model{ReadyAfter: time.Second}})
	var b bytes.Buffer
	if err := f.WriteSVG(&b, "agent <default>"); err != nil {
		t.Fatal(err)
	}
	type elem struct {
		XMLName xml.Name
		Class   string `xml:"class,attr"`
		Points  string `xml:"points,attr"`
		Elems   []elem `xml:",any"`
	}
	var root elem
	if err := xml.Unmarshal(b.Bytes(), &root); err != nil {
		t.Fatalf("not well-formed: %v\n%s", err, b.String())
	}
	series, waves := map[string]int{}, 0
	var walk func(e elem)
	walk = func(e elem) {
		if strings.HasPrefix(e.Class, "series ") {
			series[strings.TrimPrefix(e.Class, "series ")] = len(strings.Fields(e.Points))
		}
		if e.Class == "wave" {
			waves++
		}
		for _, c := range e.Elems {
			walk(c)
		}
	}
	walk(root)
	if waves != len(f.Waves) || len(series) != 3 {
		t.Errorf("%d wave lines for %d waves, series %v", waves, len(f.Waves), series)
	}
	for name, n := range series {
		if want := 2*len(f.Timeline) - 1 + 1; n != want {
			t.Errorf("series %s has %d points, want %d (steps for %d syncs)", name, n, want, len(f.Timeline))
		}
	}
	if !strings.Contains(b.String(), "agent &lt;default&gt;") {
		t.Error("title not escaped into the picture")
	}
}

// forecastProperty: on random clusters mid-update, a forecast never breaks
// the rolling update's invariants — no more than maxUnavailable desired
// nodes unavailable beyond those already unavailable at the start, no more
// surged nodes than maxSurge beyond those already surging — and a larger
// maxUnavailable never makes it slower.
func forecastProperty(t *rapid.T) {
	n := rapid.IntRange(1, 25).Draw(t, "nodes")
	mu := rapid.IntRange(1, 5).Draw(t, "maxUnavailable")
	ms := rapid.SampledFrom([]int{0, 0, 1, 3}).Draw(t, "maxSurge")
	if ms > 0 {
		mu = 0
	}
	ds := dstest.DaemonSet("agent", dstest.RollingUpdate(intstr.FromInt(mu), intstr.FromInt(ms)), dstest.MinReadySeconds(int32(rapid.SampledFrom([]int{0, 5}).Draw(t, "minReady"))))
	s := midUpdate(ds, n)
	unavailableAtStart := 0
	for i, p := range s.Pods {
		if rapid.IntRange(0, 4).Draw(t, fmt.Sprintf("unready%d", i)) == 0 {
			dstest.NotReady(p)
			unavailableAtStart++
		}
	}
	model := forecast.Model{ReadyAfter: time.Duration(rapid.IntRange(0, 20).Draw(t, "readyAfter")) * time.Second,
		DeleteAfter: time.Duration(rapid.IntRange(0, 3).Draw(t, "deleteAfter")) * time.Second}
	f, err := forecast.Run(s, forecast.Options{Model: model})
	if err != nil {
		t.Fatal(err)
	}
	if !f.Complete {
		t.Fatalf("a plain rollout did not complete: %s", f.Summary())
	}
	for _, p := range f.Timeline {
		if ms == 0 && p.Unavailable > max(mu, unavailableAtStart)+mu {
			t.Fatalf("at %v: %d unavailable, maxUnavailable %d (%d at the start)", p.At, p.Unavailable, mu, unavailableAtStart)
		}
		// Surging next to an unavailable old pod is free.
		if ms > 0 && p.Surged > ms+unavailableAtStart {
			t.Fatalf("at %v: %d surged, maxSurge %d (%d unavailable at the start)", p.At, p.Surged, ms, unavailableAtStart)
		}
	}
	if ms == 0 {
		wider := dstest.DaemonSet("agent", dstest.RollingUpdate(intstr.FromInt(mu+rapid.IntRange(1, 3).Draw(t, "more")), intstr.FromInt32(0)), dstest.MinReadySeconds(ds.Spec.MinReadySeconds))
		s.DaemonSet = wider
		g, _ := forecast.Run(s, forecast.Options{Model: model})
		if g.Duration > f.Duration {
			t.Fatalf("maxUnavailable %d took %v, more took %v", mu, f.Duration, g.Duration)
		}
	}
}

func TestForecastProperties(t *testing.T) {
	rapid.Check(t, forecastProperty)
}

// BenchmarkRun forecasts a rollout of 10,000 nodes with maxUnavailable
// 10% (ten waves).
func BenchmarkRun(b *testing.B) {
	ds := dstest.DaemonSet("agent", dstest.RollingUpdate(intstr.FromString("10%"), intstr.FromInt32(0)))
	s := midUpdate(ds, 10000)
	b.ReportAllocs()
	var f forecast.Forecast
	for b.Loop() {
		f, _ = forecast.Run(s, forecast.Options{Model: forecast.Model{ReadyAfter: 10 * time.Second}})
	}
	if !f.Complete || len(f.Waves) != 10 {
		b.Fatalf("forecast: %s", f.Summary())
	}
}
