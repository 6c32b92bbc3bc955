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
// A node list evaluated against many DaemonSets can be prepared once as a
// [NodeSet], which numbers its label keys and values: an Evaluator bound
// to it ([Evaluator.On]) then reads a node's labels from columns instead
// of looking each key up in the node's label map, with the same decisions.
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
// [NodePods] is the unit packages rollout, status and plan share: one node,
// its decision and the daemon pods targeting it, oldest first
// ([ComparePods]). What the controller reads of those pods — being
// deleted, failed or succeeded, ready, available, updated — is a
// [PodState], computed by a [PodClassifier] for one revision hash and one
// time. A planner that visits every pod anyway can store the states in
// [NodePods.States], and the later passes read those bytes instead of the
// pods: at 100,000 pods, walking the pods' memory is what planning costs.
//
// No function here modifies its inputs.
package placement
