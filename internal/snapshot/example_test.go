package snapshot_test

import (
	"fmt"

	"github.com/dsplan/dsplan/internal/snapshot"
)

func ExampleDecode() {
	objs, err := snapshot.Decode([]byte(`apiVersion: v1
kind: List
items:
- apiVersion: apps/v1
  kind: DaemonSet
  metadata: {name: fluentd, namespace: kube-system}
- apiVersion: v1
  kind: Node
  metadata: {name: worker-1}
- apiVersion: v1
  kind: Service
  metadata: {name: web}
`))
	if err != nil {
		fmt.Println(err)
		return
	}
	fmt.Println(objs.DaemonSet.Name, len(objs.Nodes), "node")
	fmt.Println(objs.Warnings)

	_, err = snapshot.Decode([]byte(`{"apiVersion": "v1", "kind": "Node", "metadata": {"name": "worker-1"}}`))
	fmt.Println(err)
	// Output:
	// fluentd 1 node
	// [items[2] (Service "web"): skipped: dsplan reads no v1 Service]
	// no apps/v1 DaemonSet in the input
}

func ExampleNormalize() {
	objs, err := snapshot.Decode([]byte(`apiVersion: apps/v1
kind: DaemonSet
metadata: {name: fluentd}
spec:
  template:
    spec:
      containers:
      - name: fluentd
        args: []
`))
	if err != nil {
		fmt.Println(err)
		return
	}
	norm, err := snapshot.Normalize(objs)
	if err != nil {
		fmt.Println(err)
		return
	}
	fmt.Println(objs.DaemonSet.Spec.Template.Spec.Containers[0].Args == nil)
	fmt.Println(norm.DaemonSet.Spec.Template.Spec.Containers[0].Args == nil)
	// Output:
	// false
	// true
}

func ExampleDecodeAll() {
	objs, err := snapshot.DecodeAll([]byte(`apiVersion: v1
kind: List
items:
- apiVersion: apps/v1
  kind: DaemonSet
  metadata: {name: fluentd, namespace: kube-system}
- apiVersion: apps/v1
  kind: DaemonSet
  metadata: {name: node-exporter, namespace: monitoring}
- apiVersion: node.k8s.io/v1
  kind: RuntimeClass
  metadata: {name: gvisor}
  handler: runsc
- apiVersion: v1
  kind: Node
  metadata: {name: worker-1}
`))
	if err != nil {
		fmt.Println(err)
		return
	}
	for _, ds := range objs.DaemonSets {
		fmt.Println(ds.Namespace + "/" + ds.Name)
	}
	fmt.Println(len(objs.RuntimeClasses), "RuntimeClass,", len(objs.Nodes), "node")
	// Output:
	// kube-system/fluentd
	// monitoring/node-exporter
	// 1 RuntimeClass, 1 node
}
