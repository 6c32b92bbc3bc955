// Package model is a model cluster for dsplan's property tests: one
// DaemonSet with its nodes, pods and ControllerRevisions, a clock, and the
// failed-pod backoff that kube-controller-manager keeps in memory.
//
// Tests mutate the cluster as the world does (nodes come and go, get
// relabelled and tainted, pods become ready, fail, are deleted), compute a
// plan.Plan from [Cluster.Snapshot] and carry it out with [Cluster.Apply],
// wholly or partly (API errors). The model plays the API server, the
// scheduler (created pods are bound to their node), the kubelet (pods start
// Pending and not ready) and the pod garbage collector ([Cluster.GC]).
//
// Generators (see gen.go) draw nodes, placements, templates and strategies
// from a realistic vocabulary of well-known labels and taints. They draw
// small descriptors ([NodeDesc], [PlacementDesc], ...) whose printed form is
// short, so that rapid's shrunk counterexamples stay readable, and build the
// API objects from them.
//
// Only tests import this package.
package model
