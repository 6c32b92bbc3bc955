package main

import (
	"context"
	"fmt"
	"maps"
	"net/http"
	"os"
	"slices"
	"strings"
	"sync"
	"time"

	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
)

// requestCounter counts the API requests the controller sends, by verb and
// resource, for comparing its cost with kube-controller-manager's.
type requestCounter struct {
	mu     sync.Mutex
	counts map[string]int
}

func newRequestCounter() *requestCounter { return &requestCounter{counts: map[string]int{}} }

func (c *requestCounter) wrap(rt http.RoundTripper) http.RoundTripper {
	return roundTripper(func(req *http.Request) (*http.Response, error) {
		c.mu.Lock()
		c.counts[requestKey(req)]++
		c.mu.Unlock()
		return rt.RoundTrip(req)
	})
}

type roundTripper func(*http.Request) (*http.Response, error)

func (f roundTripper) RoundTrip(req *http.Request) (*http.Response, error) { return f(req) }

// requestKey is "VERB resource[/subresource]", the verb as
// apiserver_request_total names it (list and watch for collection GETs).
func requestKey(req *http.Request) string {
	// /api/v1/namespaces/ns/pods/name/status, /apis/apps/v1/daemonsets, ...
	parts := strings.Split(strings.Trim(req.URL.Path, "/"), "/")
	if len(parts) > 0 && parts[0] == "apis" && len(parts) > 2 {
		parts = parts[3:]
	} else if len(parts) > 1 {
		parts = parts[2:]
	}
	if len(parts) >= 2 && parts[0] == "namespaces" {
		if len(parts) == 2 {
			parts = []string{"namespaces", parts[1]} // the namespace object itself
		} else {
			parts = parts[2:]
		}
	}
	resource, named, sub := "", false, ""
	if len(parts) > 0 {
		resource = parts[0]
	}
	if len(parts) > 1 {
		named = true
	}
	if len(parts) > 2 {
		sub = "/" + parts[2]
	}
	verb := strings.ToUpper(req.Method)
	switch {
	case req.Method == http.MethodGet && req.URL.Query().Get("watch") == "true":
		verb = "WATCH"
	case req.Method == http.MethodGet && !named:
		verb = "LIST"
	case req.Method == http.MethodPut:
		verb = "UPDATE"
	case req.Method == http.MethodPost:
		verb = "CREATE"
	}
	return verb + " " + resource + sub
}

// write stores the counts as "VERB resource count" lines, sorted.
func (c *requestCounter) write(path string) error {
	c.mu.Lock()
	keys := slices.Sorted(maps.Keys(c.counts))
	var b strings.Builder
	fmt.Fprintf(&b, "# %s\n", metav1.Now().UTC().Format(time.RFC3339))
	for _, k := range keys {
		fmt.Fprintf(&b, "%s %d\n", k, c.counts[k])
	}
	c.mu.Unlock()
	tmp := path + ".tmp"
	if err := os.WriteFile(tmp, []byte(b.String()), 0o644); err != nil {
		return err
	}
	return os.Rename(tmp, path)
}

func (c *requestCounter) writeEvery(ctx context.Context, path string, every time.Duration) {
	t := time.NewTicker(every)
	defer t.Stop()
	for {
		select {
		case <-ctx.Done():
			_ = c.write(path)
			return
		case <-t.C:
			_ = c.write(path)
		}
	}
}
