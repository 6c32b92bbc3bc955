package main

import (
	"fmt"
	"os"
)

// The README's cluster: fluentd mid-rollout on six nodes.
func Example_plan() {
	code := run([]string{"-f", "testdata/cluster.yaml", "--now", "2026-12-05T21:05:00Z"}, nil, os.Stdout, os.Stdout)
	fmt.Println("exit status", code)
	// Output:
	// DaemonSet kube-system/fluentd: revision 2 (6dc64ff4fc), RollingUpdate (maxUnavailable 1, maxSurge 0)
	//
	// NODE     STATE          ACTION                     REASON
	// cp-1     Ineligible     -                          UntoleratedTaint: untolerated taint node-role.kubernetes.io/control-plane:NoSchedule
	// db-1     Misscheduled   -                          UntoleratedTaint: untolerated taint dedicated=db:NoSchedule; pod fluentd-4kq7z stays, counted in numberMisscheduled
	// node-1   UpToDate       -                          pod fluentd-x8w2n: current revision, available
	// node-2   Old            wait                       pod fluentd-7bd5m runs old revision 1; waits: BudgetSpent (maxUnavailable 1: 1 node in flight)
	// node-3   ToDelete       delete pod/fluentd-tq9lc   ReplaceUnavailable: pod of old revision 1 is not available, so it is replaced at once, outside the budget (maxUnavailable 1 of 3 desired nodes)
	// win-1    Ineligible     -                          NodeSelectorMismatch: nodeSelector wants kubernetes.io/os=linux, node has kubernetes.io/os=windows
	//
	// NAME      DESIRED   CURRENT   READY   UP-TO-DATE   AVAILABLE   MISSCHEDULED   NODE SELECTOR            AGE
	// fluentd   3         3         2       1            2           1              kubernetes.io/os=linux   15d
	//
	// Plan: 1 pod to delete.
	// exit status 2
}

// Why is there no pod on win-1?
func Example_explain() {
	run([]string{"explain", "win-1", "-f", "testdata/cluster.yaml", "--now", "2026-12-05T21:05:00Z"}, nil, os.Stdout, os.Stdout)
	// Output:
	// Node:       win-1
	// DaemonSet:  kube-system/fluentd, revision 2 (6dc64ff4fc)
	// State:      Ineligible
	// Reason:     NodeSelectorMismatch: nodeSelector wants kubernetes.io/os=linux, node has kubernetes.io/os=windows
	// Rule:       spec.template.spec.nodeSelector[kubernetes.io/os]
	// Placement:  no daemon pod may run here
	// Labels:     kubernetes.io/arch=amd64
	//             kubernetes.io/hostname=win-1
	//             kubernetes.io/os=windows
	//             topology.kubernetes.io/zone=eu-west-1a
	// Taints:     <none>
	// Pods:       <none>
	// This sync:  nothing
}

// kubectl rollout status's verdict on the dump.
func Example_rolloutStatus() {
	code := run([]string{"rollout", "status", "ds/fluentd", "-f", "testdata/cluster.yaml"}, nil, os.Stdout, os.Stdout)
	fmt.Println("exit status", code)
	// Output:
	// Waiting for daemon set "fluentd" rollout to finish: 1 out of 3 new pods have been updated...
	// exit status 2
}
