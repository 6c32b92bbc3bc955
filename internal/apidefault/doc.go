// Package apidefault applies the API server's defaults to a DaemonSet, so
// that a hand-written manifest plans (and hashes) as the stored object would.
//
// [DaemonSet] mirrors k8s.io/kubernetes v1.37.2
// pkg/apis/apps/v1.SetObjectDefaults_DaemonSet, which the oracle applies:
//
//  1. spec: updateStrategy.type RollingUpdate; for RollingUpdate,
//     rollingUpdate.maxUnavailable 1 and rollingUpdate.maxSurge 0 where
//     unset; revisionHistoryLimit 10.
//  2. spec.template.spec (core/v1 SetDefaults_PodSpec): serviceAccountName
//     from the deprecated serviceAccount when empty, and serviceAccount
//     always set to serviceAccountName; dnsPolicy ClusterFirst;
//     restartPolicy Always; securityContext {}; terminationGracePeriodSeconds
//     30; schedulerName default-scheduler.
//  3. containers, initContainers and ephemeralContainers: imagePullPolicy
//     by [PullPolicy]; terminationMessagePath /dev/termination-log;
//     terminationMessagePolicy File; ports' protocol TCP; env
//     valueFrom.fieldRef.apiVersion v1 and valueFrom.fileKeyRef.optional
//     false; liveness, readiness and startup probes' timeoutSeconds 1,
//     periodSeconds 10, successThreshold 1, failureThreshold 3, grpc.service
//     ""; httpGet path "/" and scheme HTTP in probes and lifecycle hooks.
//  4. volumes: emptyDir {} when no source is set; image.pullPolicy by
//     [PullPolicy] (the ImageVolume gate is on in v1.37.2); hostPath.type "";
//     defaultMode 0644 for secret, configMap, downwardAPI and projected;
//     fieldRef.apiVersion v1 in downwardAPI items (also projected ones);
//     serviceAccountToken.expirationSeconds 3600; iscsi.iscsiInterface
//     default; rbd pool rbd, user admin, keyring /etc/ceph/keyring;
//     azureDisk cachingMode ReadWrite, fsType ext4, readOnly false, kind
//     Shared; scaleIO storageMode ThinProvisioned, fsType xfs; ephemeral
//     volumeClaimTemplate volumeMode Filesystem.
//  5. Every resource list (container limits and requests, pod overhead,
//     pod-level resources, ephemeral volume claim resources) is rounded up
//     to milli units ("0.0001" becomes "1m").
//
// Not applied, as the API server does not apply them to pod templates
// (they live in SetDefaults_Pod, which runs for Pods only): requests copied
// from limits, enableServiceLinks, hostNetwork host ports, the gated
// pod-level resource and probe protocol defaults, and the negative
// terminationGracePeriodSeconds fix.
//
// [CreatedPod] applies the other half: what the API server does to a Pod it
// creates (SetDefaults_Pod and the pod strategy's pod-level resource
// defaults) that bears on the pod's requests and host ports, so that the
// pod kube-controller-manager builds from a stored template can be measured
// as the scheduler sees it.
//
// Parity with the oracle is tested in package fixture on every golden
// fixture: the changed paths equal the oracle's input.defaultedPaths, and
// the defaulted, normalized template hashes as upstream's ComputeHash did.
package apidefault
