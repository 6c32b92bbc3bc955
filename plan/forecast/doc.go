// Package forecast plays a DaemonSet rollout forward with the exact
// controller: plan, carry the plan out on a simulated cluster, let pods
// start, become ready and go after the model's delays, plan again — until
// the rollout is complete or can go no further. It answers what
// kube-controller-manager itself cannot: how long will this rollout take,
// in which waves, and why is it stuck?
//
//   - [Run] forecasts a rollout from a snapshot: the waves (the nodes each
//     sync starts replacing, and how many wait for which reason), the
//     number of syncs, the least duration under the model's delays, the
//     counts over time, and whether it completes, stalls or was cut short.
//   - [Stalls] classifies a snapshot mid-rollout: the reasons no progress
//     is possible or progress is slow, with the nodes and pods involved.
//   - [Lint] warns about a DaemonSet before a change is applied: settings
//     that stall or surprise (a host port with maxSurge, budgets of zero,
//     a partition at or over the desired nodes, placement that matches no
//     node, requests no node can hold, tolerations of everything).
//   - [Forecast.WriteSVG] draws the forecast as a timeline; [Forecast.Text]
//     writes it as text.
//
// Everything is pure and deterministic: the clock is the snapshot's, the
// model's failures are drawn from its seed.
package forecast
