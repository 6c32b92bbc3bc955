// Package e2e is an end-to-end harness for DaemonSet controllers: it starts a
// real control plane on 127.0.0.1 (etcd, kube-apiserver,
// kube-controller-manager, kube-scheduler) with kwok-simulated nodes, runs
// DaemonSet scenarios against a DaemonSet controller (the one in
// kube-controller-manager, or the dsplan example controller) and checks
// invariants on every state the cluster passes through; it compares the two
// controllers' end states (TestSideBySide), injects faults mid-rollout
// (TestFaults), checks the dsplan rollout controls (TestControls),
// compares plan/forecast with real rollouts (TestForecast) and
// measures both at scale (TestScale).
//
// The tests are skipped unless DSPLAN_E2E=1; run ./e2e/run.sh. See README.md.
package e2e
