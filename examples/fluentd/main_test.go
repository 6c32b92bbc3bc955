package main

// Example runs the walkthrough and pins its output.
func Example() {
	main()
	// Output:
	// fluentd-elasticsearch on every node:
	//   control-plane run: node is eligible
	//   worker-1      run: node is eligible
	//   worker-2      run: node is eligible
	//   worker-3      no new pod, existing pod stays: untolerated taint dedicated=gpu:NoSchedule
	//
	// limited to nodes labelled app=logging-node:
	//   control-plane no pod: node labels do not match spec.template.spec.nodeSelector
	//   worker-1      run: node is eligible
	//   worker-2      no pod: node labels do not match spec.template.spec.nodeSelector
	//   worker-3      no new pod, existing pod stays: untolerated taint dedicated=gpu:NoSchedule
}
