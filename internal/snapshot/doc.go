// Package snapshot reads the cluster objects dsplan plans over and
// normalises them as kube-controller-manager receives them.
//
// [Decode] reads what the oracle (../shared/oracle) reads: one YAML or JSON
// stream holding a v1 List as `kubectl get daemonset/NAME nodes pods
// controllerrevisions -o yaml` prints it, several YAML documents or JSON
// objects, or typed lists (NodeList, PodList, ...). The rules:
//
//  1. Exactly one apps/v1 DaemonSet; any number of v1 Nodes, v1 Pods and
//     apps/v1 ControllerRevisions, kept in input order.
//  2. A document or item whose kind ends in "List" contributes its items,
//     also nested lists. null documents and items are skipped.
//  3. Objects of other kinds are skipped with a warning in
//     [Objects.Warnings], as the oracle does.
//  4. Unlike the oracle, apiVersion must match the kind (the oracle decodes
//     a DaemonSet of any apiVersion as apps/v1 with a warning) and every
//     object needs a kind (the oracle skips one without kind).
//  5. Errors name the item: `items[3] (Pod "x"): ...`; with several
//     documents the item path starts with `document N`.
//
// [DecodeAll] reads the same streams with rule 1 relaxed, for tools that
// look at every DaemonSet of a cluster (`kubectl get
// daemonsets,nodes,pods,runtimeclasses -A -o yaml`): any number of
// DaemonSets, none included, in Objects.DaemonSets, and node.k8s.io/v1
// RuntimeClasses in Objects.RuntimeClasses (Decode skips those with a
// warning, rule 3).
//
// Objects are decoded with encoding/json, as the oracle does (field names
// match case-insensitively; unknown fields are ignored).
//
// [Normalize] and [NormalizeObject] return protobuf round trips of objects:
// kube-controller-manager receives objects as protobuf, so explicit empty
// lists and maps (`args: []`) arrive as nil. That matters for revision
// hashes, which hash the Go value. The protobuf encoding carries no
// apiVersion and kind, so normalized objects have an empty TypeMeta, like
// the objects kube-controller-manager's informers hand out. Neither
// function mutates its input.
package snapshot
