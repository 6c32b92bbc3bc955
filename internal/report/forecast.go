package report

import (
	"fmt"
	"io"
	"time"

	appsv1 "k8s.io/api/apps/v1"
	"k8s.io/apimachinery/pkg/util/validation/field"

	"github.com/dsplan/dsplan/placement"
	"github.com/dsplan/dsplan/plan"
	"github.com/dsplan/dsplan/plan/forecast"
)

// ForecastSection is one DaemonSet's forecast: the lints of its spec on
// the dump's nodes and its rollout played forward.
type ForecastSection struct {
	DaemonSet *appsv1.DaemonSet
	Invalid   field.ErrorList
	Lints     field.ErrorList
	Forecast  forecast.Forecast
}

// Forecast forecasts the rollout of each DaemonSet of in from now, with
// the model, as Plan plans them (defaults applied, rollout.dsplan.io/
// annotations honoured). An invalid DaemonSet is not forecast.
func Forecast(in Input, now time.Time, model forecast.Model) []ForecastSection {
	var out []ForecastSection
	for _, ds := range in.DaemonSets {
		ds, _ = plan.Default(ds)
		sec := ForecastSection{DaemonSet: ds, Invalid: placement.Validate(ds)}
		if len(sec.Invalid) == 0 {
			s := plan.Snapshot{DaemonSet: ds, Nodes: in.Nodes, Pods: in.Pods, Revisions: in.Revisions, Now: now}
			opts := plan.Options{Annotations: true}
			sec.Lints = forecast.Lint(s, opts)
			sec.Forecast, _ = forecast.Run(s, forecast.Options{Plan: opts, Model: model})
		}
		out = append(out, sec)
	}
	return out
}

// ForecastText writes the sections in words: a heading per DaemonSet, its
// lints as warnings, the forecast.
func ForecastText(w io.Writer, sections []ForecastSection) error {
	for i, s := range sections {
		if i > 0 {
			fmt.Fprintln(w)
		}
		fmt.Fprintf(w, "DaemonSet %s\n", Key(s.DaemonSet))
		if len(s.Invalid) > 0 {
			fmt.Fprintln(w, "invalid, not forecast:")
			for _, e := range s.Invalid {
				fmt.Fprintln(w, "  "+e.Error())
			}
			continue
		}
		for _, l := range s.Lints {
			fmt.Fprintf(w, "warning: %s: %s\n", l.Field, l.Detail)
		}
		if err := s.Forecast.Text(w); err != nil {
			return err
		}
	}
	return nil
}

// ForecastExitCode is 0 when every forecast completes, 1 when a DaemonSet
// is invalid, 2 when a rollout stalls or does not finish within the
// bounds.
func ForecastExitCode(sections []ForecastSection) int {
	code := 0
	for _, s := range sections {
		switch {
		case len(s.Invalid) > 0:
			return 1
		case !s.Forecast.Complete:
			code = 2
		}
	}
	return code
}
