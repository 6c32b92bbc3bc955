// Command controller is a DaemonSet controller whose every decision is
// dsplan's: it watches DaemonSets, Nodes, Pods and ControllerRevisions with
// client-go's shared informers and, for each DaemonSet, carries out the
// plan.Plan of one plan.Cluster.Plan call, as kube-controller-manager's own
// DaemonSet controller would act. Run it instead of that controller
// (kube-controller-manager --controllers='*,-daemonset'):
//
//	go run . --kubeconfig ~/.kube/config
//
// Two or more replicas elect a leader through a coordination.k8s.io Lease
// (--leader-elect, on by default); only the leader writes, and a replica
// that loses the lease exits at once. A leader whose last renewal is older
// than the renew deadline sends no write at all (see leaseFence), so that a
// leader paused past its lease cannot write next to its successor.
//
// By default (--incremental) the informers' handlers feed every event to a
// plan/incremental Planner and each sync plans from its index: plan.New's
// plan, at the cost of what changed since the last sync instead of a pass
// over every node and pod of the DaemonSet. The Planner is rebuilt from the
// listers every --resync period. --incremental=false plans from the
// listers' lists on every sync.
package main

import (
	"context"
	"flag"
	"fmt"
	"os"
	"os/signal"
	"syscall"
	"time"

	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/client-go/informers"
	"k8s.io/client-go/kubernetes"
	"k8s.io/client-go/kubernetes/scheme"
	typedcorev1 "k8s.io/client-go/kubernetes/typed/core/v1"
	"k8s.io/client-go/rest"
	"k8s.io/client-go/tools/clientcmd"
	"k8s.io/client-go/tools/leaderelection"
	"k8s.io/client-go/tools/leaderelection/resourcelock"
	"k8s.io/client-go/tools/record"
	"k8s.io/klog/v2"
)

func main() {
	klog.InitFlags(nil)
	kubeconfig := flag.String("kubeconfig", "", "path to a kubeconfig; empty for in-cluster configuration")
	workers := flag.Int("workers", 2, "DaemonSets synced in parallel")
	qps := flag.Float64("kube-api-qps", 200, "client-side rate limit of API requests per second")
	burst := flag.Int("kube-api-burst", 400, "client-side burst of API requests")
	resync := flag.Duration("resync", 10*time.Minute, "informers' resync period, and how often the incremental planner is rebuilt from the listers")
	incrementalPlanning := flag.Bool("incremental", true, "plan from a plan/incremental Planner fed by the informers' events; false plans from the listers' lists on every sync (plan.Cluster)")
	leaderElect := flag.Bool("leader-elect", true, "elect a leader through a Lease before writing")
	leaseNamespace := flag.String("leader-elect-namespace", "kube-system", "namespace of the leader-election Lease")
	leaseName := flag.String("leader-elect-name", "dsplan-controller", "name of the leader-election Lease")
	identity := flag.String("id", "", "this replica's identity in the Lease (default: hostname_pid)")
	stats := flag.String("stats-file", "", "write API request counts by verb and resource to this file every second and on exit")
	flag.Parse()

	ctx, stop := signal.NotifyContext(context.Background(), syscall.SIGINT, syscall.SIGTERM)
	defer stop()
	if err := run(ctx, options{
		kubeconfig: *kubeconfig, workers: *workers, incremental: *incrementalPlanning, qps: float32(*qps), burst: *burst, resync: *resync,
		leaderElect: *leaderElect, leaseNamespace: *leaseNamespace, leaseName: *leaseName, identity: *identity, stats: *stats,
	}); err != nil {
		klog.ErrorS(err, "controller failed")
		os.Exit(1)
	}
}

type options struct {
	kubeconfig                string
	workers                   int
	incremental               bool
	qps                       float32
	burst                     int
	resync                    time.Duration
	leaderElect               bool
	leaseNamespace, leaseName string
	identity                  string
	stats                     string
}

func run(ctx context.Context, o options) error {
	config, err := clientcmd.BuildConfigFromFlags("", o.kubeconfig)
	if err != nil {
		return fmt.Errorf("kubeconfig: %w", err)
	}
	config.QPS, config.Burst = o.qps, o.burst
	config.UserAgent = "dsplan-controller"
	counter := newRequestCounter()
	config.Wrap(counter.wrap)
	if o.stats != "" {
		go counter.writeEvery(ctx, o.stats, time.Second)
	}
	// The elector's client is not fenced; the controller's is, when it
	// elects a leader.
	electionClient, err := kubernetes.NewForConfig(config)
	if err != nil {
		return err
	}
	const leaseDuration, renewDeadline = 15 * time.Second, 10 * time.Second
	id := o.identity
	if id == "" {
		host, _ := os.Hostname()
		id = fmt.Sprintf("%s_%d", host, os.Getpid())
	}
	fence := &leaseFence{identity: id, window: renewDeadline}
	if o.leaderElect {
		config = rest.CopyConfig(config)
		config.Wrap(fence.wrap)
	}
	client, err := kubernetes.NewForConfig(config)
	if err != nil {
		return err
	}

	broadcaster := record.NewBroadcaster(record.WithContext(ctx))
	broadcaster.StartRecordingToSink(&typedcorev1.EventSinkImpl{Interface: client.CoreV1().Events("")})
	defer broadcaster.Shutdown()
	recorder := broadcaster.NewRecorder(scheme.Scheme, corev1.EventSource{Component: "dsplan-controller"})

	start := func(ctx context.Context) {
		factory := informers.NewSharedInformerFactory(client, o.resync)
		c := NewController(client, factory, recorder, o.incremental, o.resync)
		factory.Start(ctx.Done())
		if err := c.Run(ctx, o.workers); err != nil {
			klog.ErrorS(err, "controller stopped")
		}
		factory.Shutdown()
	}
	if !o.leaderElect {
		start(ctx)
		return nil
	}
	lock := fencedLock{Interface: &resourcelock.LeaseLock{
		LeaseMeta:  metaFor(o.leaseNamespace, o.leaseName),
		Client:     electionClient.CoordinationV1(),
		LockConfig: resourcelock.ResourceLockConfig{Identity: id},
	}, fence: fence}
	lost := make(chan struct{})
	leaderelection.RunOrDie(ctx, leaderelection.LeaderElectionConfig{
		Lock:            lock,
		LeaseDuration:   leaseDuration,
		RenewDeadline:   renewDeadline,
		RetryPeriod:     2 * time.Second,
		ReleaseOnCancel: true,
		Name:            o.leaseName,
		Callbacks: leaderelection.LeaderCallbacks{
			OnStartedLeading: func(ctx context.Context) {
				klog.InfoS("Leading", "identity", id)
				start(ctx)
			},
			OnStoppedLeading: func() {
				// Writes after the lease is lost could race the new
				// leader's: stop now.
				klog.InfoS("Leadership lost or released", "identity", id)
				close(lost)
			},
		},
	})
	if ctx.Err() == nil {
		select {
		case <-lost:
			return fmt.Errorf("lost the leader lease")
		default:
		}
	}
	if o.stats != "" {
		_ = counter.write(o.stats)
	}
	return nil
}

func metaFor(namespace, name string) metav1.ObjectMeta {
	return metav1.ObjectMeta{Namespace: namespace, Name: name}
}
