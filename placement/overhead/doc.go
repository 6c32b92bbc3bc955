// Package overhead predicts, for a node or a node that does not exist yet
// (a template), which DaemonSets land on it, why the others do not, and what
// the daemon pods that land request: the DaemonSet overhead a cluster
// autoscaler must add to a node before it knows whether workloads fit. It
// answers with kube-controller-manager (KCM) v1.37.2's own rules, through
// package placement, rather than a re-implementation of them.
//
// [New] compiles a list of DaemonSets once into a [Set]; [Set.Template],
// [Set.Node] and [Set.Missing] then evaluate one node each, and
// [Set.Templates] many templates at once, and return a [Result]: the
// number of daemon pods that land, their summed requests and the host
// ports they take, and one [Entry] per DaemonSet with its [Outcome] and
// [placement.Decision].
//
// # When a DaemonSet lands
//
// A DaemonSet lands on a node when KCM creates its pod there:
//
//  1. KCM does not ignore the DaemonSet ([Ignored]): its spec.selector is
//     not empty ({} selects every pod and KCM skips the DaemonSet), it is
//     not being deleted, and its selector parses;
//  2. its [placement.Decision] on the node has ShouldRun
//     ([placement.Evaluator.Evaluate]): spec.template.spec.nodeName,
//     nodeSelector, required node affinity (terms ORed) and the NoSchedule
//     and NoExecute taints against the template's tolerations plus the
//     daemon pods' default ones (not-ready and unreachable NoExecute;
//     disk-, memory-, pid-pressure and unschedulable NoSchedule;
//     network-unavailable NoSchedule with hostNetwork); PreferNoSchedule
//     taints are ignored. A toleration with operator Exists and no key
//     tolerates every taint. Otherwise the entry is [Excluded] and its
//     Decision's Reason (and Taint) says why;
//  3. for [Set.Missing] only: it has no pod on the node yet (else it is
//     [Present]).
//
// A DaemonSet that only ShouldContinueRunning (an untolerated NoSchedule
// taint) does not land: KCM keeps a pod that is already there but creates
// none. Read the entry's Decision for that distinction.
//
// # Templates
//
// A template has no name yet, and placement, like component-helpers'
// nodeaffinity, ignores matchFields for a node without a name: a DaemonSet
// pinned with `matchFields: metadata.name In [x]` would land on every
// template. The node the template becomes will have a fresh name, one no
// DaemonSet can know in advance. So [Set.Template] evaluates a template
// as a node whose name is none of the names the Set's DaemonSets mention
// (in spec.template.spec.nodeName or in matchFields values): "<template>",
// which cannot be a node name ('<' is not allowed in one), with a
// numeric suffix in the unlikely case a DaemonSet mentions it. Hence, on a
// template:
//
//   - matchFields metadata.name In [...] fails and NotIn holds;
//   - a DaemonSet whose template sets spec.nodeName does not land
//     (NodeNameMismatch);
//   - everything else is evaluated as on any node, on the template's labels
//     and taints.
//
// A template should carry the labels and taints the node will have once it
// is registered and ready: the kubelet's well-known labels
// (kubernetes.io/os, kubernetes.io/arch, kubernetes.io/hostname,
// node.kubernetes.io/instance-type, topology labels) and labels added later
// by other controllers if DaemonSets select on them; without the startup
// taints a node sheds (KCM creates no daemon pod while an untolerated
// NoSchedule taint such as node.kubernetes.io/not-ready:NoSchedule is
// there, and creates them when it is removed).
//
// # Requests and host ports
//
// A DaemonSet's requests are the same on every node, so New computes them
// once, on the pod KCM would create ([placement.Evaluator.NewPod]) as the
// API server stores it:
//
//  1. the API server's defaults for a created Pod that a pod template does
//     not get: container and init container requests default to their
//     limits (a template with limits only requests them), hostNetwork pods'
//     ports get hostPort = containerPort, and pod-level requests are
//     defaulted (PodLevelResources);
//  2. the RuntimeClass admission plugin's pod overhead: a pod naming a
//     RuntimeClass of [Options].RuntimeClasses gets its overhead.podFixed;
//  3. component-helpers' resource.PodRequests with the scheduler's
//     options: the sum of the containers' requests, at least the largest
//     init container's (restartable init containers, sidecars, add to
//     both), pod-level requests where set, plus the pod overhead.
//
// Host ports are those the scheduler's NodePorts plugin records: ports
// with hostPort > 0 of the containers and the restartable init containers
// (other init containers have ended before the pod runs), with an empty
// hostIP read as 0.0.0.0 and an empty protocol as TCP.
//
// Not modelled, as neither the DaemonSets nor the nodes hold them:
// LimitRange defaults and mutating webhooks (which may add requests or
// containers), and whether the scheduler can bind a daemon pod that KCM
// creates (enough allocatable left, a host port another pod holds, a
// RuntimeClass's scheduling.nodeSelector). [Result].Requests is the sum
// KCM's pods request; compare it with the node's allocatable yourself, and
// count [Result].Pods against its allocatable "pods".
//
// # Order, errors and warnings
//
// A Set's DaemonSets, and so every Result's entries, are in namespace,
// then name order; host ports and resource names are sorted. Nothing here
// modifies its inputs, and nil DaemonSets, nodes and pods are skipped or
// reported, never dereferenced. New never fails: like KCM, it copes with
// any DaemonSet, and [DaemonSet].Warnings and [DaemonSet].Invalid say what
// KCM or the API server would make of a questionable or invalid one.
// [Set.Missing] fails for a node without a name and for DaemonSets
// without the identity claiming needs.
//
// # Cost
//
// New does the per-DaemonSet work once: the placement evaluator, the pod,
// its requests and host ports. [Set.Template] then costs one placement
// evaluation per DaemonSet (no allocation; a map lookup per label
// requirement) and an addition per requested resource of each DaemonSet
// that lands; a Result allocates its entries (a few bytes each), its
// request list and its host ports. [Set.Templates] evaluates each
// DaemonSet over blocks of templates whose labels are numbered once
// ([placement.NodeSet], [placement.Evaluator.EvaluateNodeSet]) and adds
// up each distinct set of landing DaemonSets once: at 100 DaemonSets and
// 10,000 templates, 45–55 ms against 60–65 ms for 10,000 Template calls
// on the 2-core development machine (BenchmarkTemplates), more so for
// DaemonSets with many label requirements. [Set.Missing] also claims the node's pods for
// each DaemonSet that should run there, as placement.Group does.
package overhead
