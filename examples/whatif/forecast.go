package main

import (
	"flag"
	"fmt"
	"time"

	"github.com/dsplan/dsplan/internal/report"
	"github.com/dsplan/dsplan/plan/forecast"
)

const forecastUsage = `Usage:
  whatif forecast [DAEMONSET] -f FILE [-o text|svg] [flags]

Plays each DaemonSet's rollout forward from the dump, sync after sync, with
the exact controller, on a simulated cluster where a created pod is ready
--ready-after later and a deleted pod is gone --delete-after later, and
prints the waves (the nodes each sync starts replacing, and why the others
wait), the least duration, and whether the rollout completes or stalls and
why. Warnings about the spec (a host port with maxSurge, a partition that
keeps every node, placement matching no node, requests no node can hold)
come first.

  -o, --output FORMAT   text (default), or svg: a timeline picture of one
                        DaemonSet (select it when the dump has several)
      --ready-after D   from a pod's create to Ready (default 30s)
      --delete-after D  from a pod's delete to its removal (default 0s)
      --failure-rate F  share of new pods that never become ready (0 to 1)
      --seed N          draws the failures (default 1)
  -f, -n, --name, --now, --strict: see whatif -h

Exit status: 0 every rollout completes, 1 error or invalid DaemonSet,
2 a rollout stalls or does not finish within a week.
`

// forecast is the forecast command.
func (c *cli) forecast(args []string) int {
	fs := flag.NewFlagSet("whatif forecast", flag.ContinueOnError)
	var f inputFlags
	f.register(fs)
	output := outputFlag(fs, "text")
	readyAfter := fs.Duration("ready-after", 30*time.Second, "")
	deleteAfter := fs.Duration("delete-after", 0, "")
	failureRate := fs.Float64("failure-rate", 0, "")
	seed := fs.Uint64("seed", 1, "")
	pos, done, err := c.parse(fs, forecastUsage, args)
	if done {
		return exitOK
	}
	if err != nil {
		return c.fail(err)
	}
	if err := f.setDaemonSetArg("forecast", pos); err != nil {
		return c.fail(err)
	}
	if *output != "text" && *output != "svg" {
		return c.fail(fmt.Errorf("-o %q: the formats are text and svg", *output))
	}
	if *failureRate < 0 || *failureRate > 1 || *readyAfter < 0 || *deleteAfter < 0 {
		return c.fail(fmt.Errorf("--failure-rate must be from 0 to 1, --ready-after and --delete-after not negative"))
	}
	now, err := f.clock(time.Now())
	if err != nil {
		return c.fail(err)
	}
	in, err := c.load(&f)
	if err != nil {
		return c.fail(err)
	}
	if *output == "svg" && len(in.DaemonSets) != 1 {
		return c.fail(fmt.Errorf("-o svg draws one DaemonSet, the dump has %d: select one with --name NAMESPACE/NAME", len(in.DaemonSets)))
	}
	sections := report.Forecast(in, now, forecast.Model{ReadyAfter: *readyAfter, DeleteAfter: *deleteAfter, FailureRate: *failureRate, Seed: *seed})
	if *output == "svg" {
		s := sections[0]
		if len(s.Invalid) > 0 {
			return c.fail(fmt.Errorf("DaemonSet %s is invalid: %v", report.Key(s.DaemonSet), s.Invalid.ToAggregate()))
		}
		for _, l := range s.Lints {
			fmt.Fprintf(c.stderr, "whatif: warning: %s: %s\n", l.Field, l.Detail)
		}
		if err := s.Forecast.WriteSVG(c.stdout, report.Key(s.DaemonSet)); err != nil {
			return c.fail(err)
		}
		return report.ForecastExitCode(sections)
	}
	if err := report.ForecastText(c.stdout, sections); err != nil {
		return c.fail(err)
	}
	return report.ForecastExitCode(sections)
}
