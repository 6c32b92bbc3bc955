// Package placement answers, for one DaemonSet, the question everything else
// in dsplan stands on: should this node run a daemon pod, may a pod already
// there stay, and why, exactly as kube-controller-manager (KCM) v1.37.2
// decides it. It also builds the pod KCM creates for a node and holds the
// small daemon-pod helpers the planner needs.
//
// It replaces, as pure functions without logger, clock or feature-gate
// globals, these parts of k8s.io/kubernetes/pkg/controller/daemon:
// NodeShouldRunDaemonPod and predicates (daemon_controller.go); the pod
// template of syncNodes with util.CreatePodTemplate,
// util.AddOrUpdateDaemonPodTolerations and
// util.ReplaceDaemonSetPodNodeNameNodeAffinity, plus the pod metadata of
// controller.GetPodFromTemplate; util.GetTargetNodeName,
// util.GetTemplateGeneration and util.IsPodUpdated.
//
// # Compile once, evaluate many
//
// [New] reads a DaemonSet once: its node name, node selector, required node
// affinity and tolerations (with the daemon defaults added). The resulting
// [Evaluator] then decides each node with [Evaluator.Evaluate], which neither
// fails nor allocates, and returns a [Decision] with a typed [Reason] and the
// offending taint.
//
// A node list grouped against many DaemonSets can be prepared once as a
// [NodeSet], which indexes the nodes by name and numbers their label keys
// and values: [Group] then reads a node's labels from columns instead of
// looking each key up in the node's label map, with the same decisions.
// [Evaluator.EvaluateNodeSet] decides every node of a NodeSet for one
// DaemonSet the same way, for callers that want decisions without pods
// (package overhead evaluates node templates so).
//
// # Lenient decisions, strict validation
//
// Decisions follow KCM even for DaemonSets the API server would reject or
// that do something the user likely did not mean: a required node affinity
// term that does not parse matches no node, a toleration with an unknown
// operator tolerates nothing, an unparsable template-generation annotation is
// ignored. [Evaluator.Warnings] lists such inputs. [Validate] separately
// reports every problem that matters to planning as a field.ErrorList.
//
// # Feature gates
//
// The only gate on this path, TaintTolerationComparisonOperators (alpha, off
// in v1.37.2), is a field of [Options]; the zero Options are KCM's defaults.
//
// # The pod for a node
//
// [Evaluator.NewPod] returns the pod KCM creates for a node: the template
// with the daemon tolerations, the controller-revision-hash and
// pod-template-generation labels, its required node affinity pinned to the
// node, the controller reference and generateName. [TargetNodeName],
// [IsPodUpdated], [IsControlledBy] and [TemplateGeneration] read daemon pods
// and DaemonSets the way KCM does.
//
// # Pods, grouped by node
//
// [Group] is the stage every later one reads: it claims the DaemonSet's
// pods (adopting orphans, releasing pods that no longer match, with the
// [Claim] patches kube-controller-manager sends), groups them by the node
// they target, evaluates every node once, and returns an immutable
// [Grouping]. Each of its entries ([NodePods]) is a node, existing or
// vanished, with its [Decision] and its pods oldest first ([ComparePods]);
// each [Pod] answers what the controller reads of it — being deleted,
// failed or succeeded, ready, available, updated — judged against one
// revision hash and one time. Package rollout's Update and package
// status's Compute take a Grouping, so a controller loop or a test can
// call them without package plan. A [Grouper] reuses the grouping's memory
// between calls.
//
// Group decides each pod with a [PodJudge] (claim, target node, state),
// which a caller that keeps its own index of pods between events uses for
// each pod that changes; a [NodeBuilder] presents one node of such an
// index as a [NodePods], as the stages that read a Grouping node by node
// expect.
//
// Group reads every node and pod once, and keeps what the later stages
// need of a pod in a byte beside it: at 100,000 pods, walking the pods'
// memory is what planning costs.
//
// No function here modifies its inputs.
package placement
