// Command whatif prints what kube-controller-manager's DaemonSet controller
// would do in one sync of a cluster snapshot.
//
//	kubectl get daemonset/NAME nodes pods controllerrevisions -o yaml > cluster.yaml
//	go run ./examples/whatif -f cluster.yaml [-now 2026-01-01T00:00:00Z] [-o table|json]
//
// The input is a v1 List (YAML or JSON), several YAML documents or *List
// kinds, from a file or standard input (-f - or no -f), holding exactly one
// apps/v1 DaemonSet and any number of Nodes, Pods and ControllerRevisions;
// other kinds are an error. The DaemonSet gets
// the API server's defaults first, so a hand-written manifest plans as it
// would in a cluster. -now defaults to 2026-01-01T00:00:00Z, the clock of
// the upstream oracle (../shared/oracle), so that both agree on
// minReadySeconds; pass -now to judge availability at another time.
//
// -o json prints the oracle's schema for hash, creates, deletes,
// podPatches, claims, status, revisions, statusUpdated and error, with
// lists sorted as the oracle sorts them.
package main

import (
	"errors"
	"flag"
	"fmt"
	"io"
	"os"
	"strings"
	"time"

	"github.com/dsplan/dsplan/plan"
)

// defaultNow is the oracle's default clock.
const defaultNow = "2026-01-01T00:00:00Z"

func main() {
	if err := run(os.Args[1:], os.Stdin, os.Stdout); err != nil {
		fmt.Fprintln(os.Stderr, "whatif:", err)
		os.Exit(1)
	}
}

func run(args []string, stdin io.Reader, stdout io.Writer) error {
	fs := flag.NewFlagSet("whatif", flag.ContinueOnError)
	file := fs.String("f", "-", "snapshot file: a v1 List or YAML documents; - reads standard input")
	nowFlag := fs.String("now", defaultNow, "the time availability is judged at (RFC 3339)")
	output := fs.String("o", "table", "output format: table or json")
	if err := fs.Parse(args); err != nil {
		return err
	}
	if fs.NArg() > 0 {
		return fmt.Errorf("unexpected arguments %q", fs.Args())
	}
	now, err := time.Parse(time.RFC3339, *nowFlag)
	if err != nil {
		return fmt.Errorf("-now: %w", err)
	}
	if *output != "table" && *output != "json" {
		return fmt.Errorf("-o: unknown format %q (want table or json)", *output)
	}

	var data []byte
	if *file == "-" {
		data, err = io.ReadAll(stdin)
	} else {
		data, err = os.ReadFile(*file)
	}
	if err != nil {
		return err
	}
	if len(data) == 0 {
		return errors.New("empty input: want a List with one DaemonSet and its nodes, pods and revisions")
	}
	snap, skipped, err := plan.Decode(data)
	if err != nil {
		return err
	}
	if len(skipped) > 0 {
		// The planner reads DaemonSets, Nodes, Pods and ControllerRevisions
		// only; anything else means the dump is not what whatif expects.
		return fmt.Errorf("unsupported objects in the input:\n  %s", strings.Join(skipped, "\n  "))
	}
	snap.DaemonSet, _ = plan.Default(snap.DaemonSet)
	snap.Now = now
	p := plan.New(snap, plan.Options{})

	if *output == "json" {
		return writeJSON(stdout, snap.DaemonSet, p)
	}
	return writeTable(stdout, snap, p, now)
}
