//go:build unix

package e2e

import (
	"bufio"
	"encoding/json"
	"fmt"
	"io"
	"maps"
	"os"
	"slices"
	"strings"
	"time"
)

// The DaemonSet controllers' API requests are counted from kube-apiserver's
// audit log (Metadata level, one JSON line per request and stage), by user:
// kube-controller-manager runs with --use-service-account-credentials, so
// its DaemonSet controller is the service account below; every replica of
// the dsplan controller has its own client certificate (user
// dsplan-controller-<i>, group dsplanControllersGroup). The policy logs
// nothing else.
const (
	kcmDaemonSetUser       = "system:serviceaccount:kube-system:daemon-set-controller"
	dsplanControllersGroup = "dsplan-e2e:controllers"
	// kcmUser is kube-controller-manager's own identity, under which its
	// shared informers list and watch for every controller (the
	// DaemonSet controller's reads included); only its lists and watches
	// are audited.
	kcmUser = "kube-controller-manager-e2e"
)

func dsplanUser(replica int) string { return fmt.Sprintf("dsplan-controller-%d", replica) }

// auditPolicy logs every request of the two DaemonSet controllers, and the
// lists and watches of kube-controller-manager's shared informers, at
// Metadata level (verb, user, object reference, response code, times), from
// the ResponseStarted (watches) and ResponseComplete stages.
const auditPolicy = `apiVersion: audit.k8s.io/v1
kind: Policy
omitStages: ["RequestReceived"]
rules:
- level: Metadata
  users: ["` + kcmDaemonSetUser + `"]
- level: Metadata
  userGroups: ["` + dsplanControllersGroup + `"]
- level: Metadata
  users: ["` + kcmUser + `"]
  verbs: ["list", "watch"]
- level: None
`

// auditEvent is the part of an audit.k8s.io/v1 Event the harness reads.
type auditEvent struct {
	Stage string `json:"stage"`
	Verb  string `json:"verb"`
	User  struct {
		Username string `json:"username"`
	} `json:"user"`
	UserAgent string `json:"userAgent"`
	ObjectRef *struct {
		Resource    string `json:"resource"`
		Namespace   string `json:"namespace"`
		Name        string `json:"name"`
		Subresource string `json:"subresource"`
	} `json:"objectRef"`
	ResponseStatus *struct {
		Code int `json:"code"`
	} `json:"responseStatus"`
	RequestReceived time.Time `json:"requestReceivedTimestamp"`
}

// counted reports whether e is the one line counted for its request: the
// ResponseStarted stage of a watch (which may never complete), the
// ResponseComplete stage of anything else.
func (e *auditEvent) counted() bool {
	if e.Verb == "watch" {
		return e.Stage == "ResponseStarted"
	}
	return e.Stage == "ResponseComplete" || e.Stage == "Panic"
}

// resource is "pods", "daemonsets/status", ...
func (e *auditEvent) resource() string {
	if e.ObjectRef == nil {
		return "(none)"
	}
	if e.ObjectRef.Subresource != "" {
		return e.ObjectRef.Resource + "/" + e.ObjectRef.Subresource
	}
	return e.ObjectRef.Resource
}

// isWrite: the verb changes state.
func isWrite(verb string) bool {
	switch verb {
	case "create", "update", "patch", "delete", "deletecollection":
		return true
	}
	return false
}

func (e *auditEvent) code() int {
	if e.ResponseStatus == nil {
		return 0
	}
	return e.ResponseStatus.Code
}

// readAudit returns the counted events of the audit log at path from byte
// offset on, and the offset after the last complete line.
func readAudit(path string, offset int64) ([]auditEvent, int64, error) {
	f, err := os.Open(path)
	if err != nil {
		return nil, offset, err
	}
	defer f.Close()
	if _, err := f.Seek(offset, io.SeekStart); err != nil {
		return nil, offset, err
	}
	r := bufio.NewReaderSize(f, 1<<20)
	var out []auditEvent
	for {
		line, err := r.ReadBytes('\n')
		if err != nil { // io.EOF: an incomplete last line is read next time
			return out, offset, nil
		}
		offset += int64(len(line))
		var e auditEvent
		if json.Unmarshal(line, &e) != nil || !e.counted() {
			continue
		}
		out = append(out, e)
	}
}

// requestCounts are request counts by "verb resource".
type requestCounts map[string]int

// countRequests counts the events of users (all if empty) received in
// [from, to) (a zero bound is open).
func countRequests(events []auditEvent, users []string, from, to time.Time) requestCounts {
	c := requestCounts{}
	for i := range events {
		e := &events[i]
		if len(users) > 0 && !slices.Contains(users, e.User.Username) {
			continue
		}
		if (!from.IsZero() && e.RequestReceived.Before(from)) || (!to.IsZero() && !e.RequestReceived.Before(to)) {
			continue
		}
		c[e.Verb+" "+e.resource()]++
	}
	return c
}

// countFailed counts, like countRequests, the requests whose response
// code was 400 or more, by "verb resource code".
func countFailed(events []auditEvent, users []string, from, to time.Time) requestCounts {
	c := requestCounts{}
	for i := range events {
		e := &events[i]
		if e.code() < 400 || (len(users) > 0 && !slices.Contains(users, e.User.Username)) {
			continue
		}
		if (!from.IsZero() && e.RequestReceived.Before(from)) || (!to.IsZero() && !e.RequestReceived.Before(to)) {
			continue
		}
		c[fmt.Sprintf("%s %s %d", e.Verb, e.resource(), e.code())]++
	}
	return c
}

func (c requestCounts) total() int {
	n := 0
	for _, v := range c {
		n += v
	}
	return n
}

// writes is the number of requests with a write verb.
func (c requestCounts) writes() int {
	n := 0
	for k, v := range c {
		if isWrite(strings.Fields(k)[0]) {
			n += v
		}
	}
	return n
}

// String lists the counts as "verb resource=n", sorted, comma-separated.
func (c requestCounts) String() string {
	var parts []string
	for _, k := range slices.Sorted(maps.Keys(c)) {
		parts = append(parts, fmt.Sprintf("%s=%d", k, c[k]))
	}
	if len(parts) == 0 {
		return "none"
	}
	return strings.Join(parts, ", ")
}
