// Package revision computes DaemonSet revision hashes and ControllerRevision
// history exactly as kube-controller-manager v1.37.2 and kubectl do.
package revision
