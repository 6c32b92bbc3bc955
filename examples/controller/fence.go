package main

import (
	"context"
	"errors"
	"net/http"
	"sync"
	"time"

	"k8s.io/client-go/tools/leaderelection/resourcelock"
)

// errNotLeading is returned, without sending anything, for a write while
// the lease is not known to be held.
var errNotLeading = errors.New("not writing: this replica's leader lease is not known to be held (last renewal too old)")

// leaseFence lets the controller's writes through only while this replica
// renewed its Lease less than window ago (by the monotonic clock, measured
// from before the renewal was sent). client-go's elector only notices a
// lost lease when a renewal fails, up to RenewDeadline after the process
// runs again: a leader paused longer than the lease (SIGSTOP, a frozen VM,
// a long GC pause) would otherwise resume and write next to the replica
// that took over. A standby acquires the lease no sooner than
// LeaseDuration after it last saw it renewed; window (RenewDeadline) is
// shorter, so the old leader's writes stop first. A write checked just
// before the pause and sent after it can still pass: only a server-side
// precondition would close that gap.
type leaseFence struct {
	identity string
	window   time.Duration

	mu      sync.Mutex
	renewed time.Time // zero: not holding the lease
}

func (f *leaseFence) holds() bool {
	f.mu.Lock()
	defer f.mu.Unlock()
	return !f.renewed.IsZero() && time.Since(f.renewed) < f.window
}

// wrap fences every request but reads (GET, HEAD: lists, watches, gets).
func (f *leaseFence) wrap(rt http.RoundTripper) http.RoundTripper {
	return roundTripper(func(req *http.Request) (*http.Response, error) {
		if req.Method != http.MethodGet && req.Method != http.MethodHead && !f.holds() {
			return nil, errNotLeading
		}
		return rt.RoundTrip(req)
	})
}

// record notes a successful lease write of holder, sent at start.
func (f *leaseFence) record(holder string, start time.Time) {
	f.mu.Lock()
	defer f.mu.Unlock()
	if holder == f.identity {
		f.renewed = start
	} else {
		f.renewed = time.Time{} // released
	}
}

// fencedLock is the elector's lock; it tells the fence about every
// successful acquisition, renewal and release.
type fencedLock struct {
	resourcelock.Interface
	fence *leaseFence
}

func (l fencedLock) Create(ctx context.Context, ler resourcelock.LeaderElectionRecord) error {
	start := time.Now()
	err := l.Interface.Create(ctx, ler)
	if err == nil {
		l.fence.record(ler.HolderIdentity, start)
	}
	return err
}

func (l fencedLock) Update(ctx context.Context, ler resourcelock.LeaderElectionRecord) error {
	start := time.Now()
	err := l.Interface.Update(ctx, ler)
	if err == nil {
		l.fence.record(ler.HolderIdentity, start)
	}
	return err
}
