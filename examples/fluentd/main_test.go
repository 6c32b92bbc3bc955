package main

// Example runs the walkthrough and pins its output: placement per node,
// then every sync of the story as plans, statuses and rollout messages.
func Example() {
	main()
	// Output:
	// fluentd-elasticsearch on every node:
	//   control-plane run: node is eligible
	//   worker-1      run: node is eligible
	//   worker-2      run: node is eligible
	//   worker-3      no new pod; a pod already there may stay: untolerated taint dedicated=gpu:NoSchedule
	//
	// limited to nodes labelled app=logging-node:
	//   control-plane no pod: node labels do not match spec.template.spec.nodeSelector
	//   worker-1      run: node is eligible
	//   worker-2      no pod: node labels do not match spec.template.spec.nodeSelector
	//   worker-3      no new pod; a pod already there may stay: untolerated taint dedicated=gpu:NoSchedule
	//
	// the controller's syncs, step by step (plan, apply, repeat):
	//
	// 1. create the DaemonSet:
	//     create revision 1 fluentd-elasticsearch-56987d494f
	//     create pod on control-plane Missing
	//     create pod on worker-1      Missing
	//     create pod on worker-2      Missing
	//     NAME                    DESIRED   CURRENT   READY   UP-TO-DATE   AVAILABLE   NODE SELECTOR   AGE
	//     fluentd-elasticsearch   3         0         0       0            0           <none>          60s
	//
	// 2. the pods start; the next sync records it:
	//     no pod to create or delete
	//     NAME                    DESIRED   CURRENT   READY   UP-TO-DATE   AVAILABLE   NODE SELECTOR   AGE
	//     fluentd-elasticsearch   3         3         3       3            3           <none>          70s
	//
	// 3. add worker-4:
	//     create pod on worker-4      Missing
	//     no pod to create or delete
	//     NAME                    DESIRED   CURRENT   READY   UP-TO-DATE   AVAILABLE   NODE SELECTOR   AGE
	//     fluentd-elasticsearch   4         4         4       4            4           <none>          80s
	//
	// 4. taint worker-1 with maintenance=true:NoExecute:
	//     delete fluentd-elasticsearch-00002 Evicted on worker-1
	//     no pod to create or delete
	//     NAME                    DESIRED   CURRENT   READY   UP-TO-DATE   AVAILABLE   NODE SELECTOR   AGE
	//     fluentd-elasticsearch   3         3         3       3            3           <none>          80s
	//
	// 5. update the image to v2.6.0 (RollingUpdate, maxUnavailable 1):
	//   sync 1:
	//     create revision 2 fluentd-elasticsearch-988b65b66
	//     delete fluentd-elasticsearch-00001 Replace on control-plane
	//     rollout status: Waiting for daemon set "fluentd-elasticsearch" rollout to finish: 0 out of 3 new pods have been updated...
	//   sync 2:
	//     create pod on control-plane Missing
	//     rollout status: Waiting for daemon set "fluentd-elasticsearch" rollout to finish: 0 out of 3 new pods have been updated...
	//   sync 3:
	//     delete fluentd-elasticsearch-00003 Replace on worker-2
	//     rollout status: Waiting for daemon set "fluentd-elasticsearch" rollout to finish: 1 out of 3 new pods have been updated...
	//   sync 4:
	//     create pod on worker-2      Missing
	//     rollout status: Waiting for daemon set "fluentd-elasticsearch" rollout to finish: 1 out of 3 new pods have been updated...
	//   sync 5:
	//     delete fluentd-elasticsearch-00004 Replace on worker-4
	//     rollout status: Waiting for daemon set "fluentd-elasticsearch" rollout to finish: 2 out of 3 new pods have been updated...
	//   sync 6:
	//     create pod on worker-4      Missing
	//     rollout status: Waiting for daemon set "fluentd-elasticsearch" rollout to finish: 2 out of 3 new pods have been updated...
	//   sync 7:
	//     no pod to create or delete
	//     rollout status: daemon set "fluentd-elasticsearch" successfully rolled out
	//     NAME                    DESIRED   CURRENT   READY   UP-TO-DATE   AVAILABLE   NODE SELECTOR   AGE
	//     fluentd-elasticsearch   3         3         3       3            3           <none>          2m20s
	//
	// 6. switch to OnDelete and update the image to v2.7.0:
	//     create revision 3 fluentd-elasticsearch-7c9fb6f47c
	//     no pod to create or delete
	//     NAME                    DESIRED   CURRENT   READY   UP-TO-DATE   AVAILABLE   NODE SELECTOR   AGE
	//     fluentd-elasticsearch   3         3         3       0            3           <none>          2m20s
	//   delete the pod on control-plane by hand; the next sync replaces it with v2.7.0:
	//     create pod on control-plane Missing
	//     new pod image quay.io/fluentd_elasticsearch/fluentd:v2.7.0, revision hash 7c9fb6f47c
}
