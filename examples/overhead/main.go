// Command overhead prints, for every node and node template of a cluster
// dump, the DaemonSets whose pods kube-controller-manager puts there, what
// they request, and what is left of the node's allocatable resources: the
// DaemonSet overhead a cluster autoscaler must reserve before it sizes a
// node.
//
//	kubectl get daemonsets,nodes,pods,runtimeclasses -A -o yaml > cluster.yaml
//	go run ./examples/overhead -f cluster.yaml [-v]
//
// The input is YAML or JSON, a v1 List or several documents, from a file or
// standard input (-f - or no -f), with any number of apps/v1 DaemonSets, v1
// Nodes and Pods and node.k8s.io/v1 RuntimeClasses; objects of other kinds
// are skipped with a warning. A Node without a name (a node template,
// possibly with only metadata.generateName) is a node that does not exist
// yet: it is evaluated as a node whose name no DaemonSet mentions (see
// package placement/overhead). For an existing node the DaemonSets are
// marked present (a pod of theirs targets the node, bound or pending) or
// missing (kube-controller-manager's next sync creates it), and what is
// left of the allocatable resources counts the pods on the node (bound to
// it or, pending daemon pods, pinned to it; not Succeeded or Failed) and
// the missing daemon pods. Without pods in the input, an existing node
// lists every DaemonSet that should run there.
//
// The DaemonSets get the API server's defaults first (plan.Default), so a
// hand-written manifest is measured as a cluster would store it. -v also
// lists the DaemonSets that do not land on each node, with the reason, and
// what the API server or kube-controller-manager would make of
// questionable DaemonSets.
package main

import (
	"errors"
	"flag"
	"fmt"
	"io"
	"os"

	appsv1 "k8s.io/api/apps/v1"

	"github.com/dsplan/dsplan/internal/snapshot"
	"github.com/dsplan/dsplan/placement/overhead"
	"github.com/dsplan/dsplan/plan"
)

func main() {
	if err := run(os.Args[1:], os.Stdin, os.Stdout, os.Stderr); err != nil {
		fmt.Fprintln(os.Stderr, "overhead:", err)
		os.Exit(1)
	}
}

func run(args []string, stdin io.Reader, stdout, stderr io.Writer) error {
	fs := flag.NewFlagSet("overhead", flag.ContinueOnError)
	fs.SetOutput(stderr)
	fs.Usage = func() {
		fmt.Fprint(stderr, "usage: overhead [-f cluster.yaml] [-v]\n\n"+
			"Prints, for every node and node template (a Node without a name) of a\n"+
			"`kubectl get daemonsets,nodes,pods,runtimeclasses -A -o yaml` dump, the\n"+
			"DaemonSets whose pods land there and what they request.\n\n")
		fs.PrintDefaults()
	}
	file := fs.String("f", "-", "cluster dump: a v1 List or YAML documents; - reads standard input")
	verbose := fs.Bool("v", false, "also list the DaemonSets that do not land, with the reason, and DaemonSet warnings")
	if err := fs.Parse(args); err != nil {
		if errors.Is(err, flag.ErrHelp) {
			return nil
		}
		return err
	}
	if fs.NArg() > 0 {
		return fmt.Errorf("unexpected arguments %q", fs.Args())
	}
	var data []byte
	var err error
	if *file == "-" {
		data, err = io.ReadAll(stdin)
	} else {
		data, err = os.ReadFile(*file)
	}
	if err != nil {
		return err
	}
	objs, err := snapshot.DecodeAll(data)
	if err != nil {
		return err
	}
	if objs, err = snapshot.Normalize(objs); err != nil {
		return err
	}
	for _, w := range objs.Warnings {
		fmt.Fprintln(stderr, "overhead: warning:", w)
	}
	if len(objs.Nodes) == 0 {
		return errors.New("no nodes or node templates in the input: want v1 Nodes (without a name for a template)")
	}
	dss := make([]*appsv1.DaemonSet, len(objs.DaemonSets))
	for i, ds := range objs.DaemonSets {
		dss[i], _ = plan.Default(ds)
	}
	set := overhead.New(dss, overhead.Options{RuntimeClasses: objs.RuntimeClasses})
	return write(stdout, report{set: set, nodes: objs.Nodes, pods: objs.Pods, verbose: *verbose})
}
