//go:build unix

package e2e

import (
	"bufio"
	"errors"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"runtime"
	"strings"
	"sync"
	"syscall"
	"time"
)

// proc is one component process, started in its own process group with its
// stdout and stderr in a log file. Stopping it signals the whole group.
type proc struct {
	name    string
	bin     string
	args    []string
	cmd     *exec.Cmd
	logPath string
	done    chan struct{} // closed when the process has exited
	err     error         // Wait's result, valid after done is closed

	mu       sync.Mutex
	stopping bool // an exit is expected (stop was called)
}

// spawner starts every child process from one goroutine locked to its OS
// thread. Linux's parent-death signal (Pdeathsig, set in procattr_linux_test.go)
// fires when the thread that forked the child exits, not the process; a
// thread that never exits makes it mean "when the test binary dies", which
// covers what t.Cleanup cannot: a `go test -timeout` panic or a SIGKILL.
var spawner = sync.OnceValue(func() chan func() {
	ch := make(chan func())
	go func() {
		runtime.LockOSThread() // never unlocked: this thread lives as long as the process
		for f := range ch {
			f()
		}
	}()
	return ch
})

// startProc starts bin with args; the log goes to dir/name.log.
func startProc(dir, name, bin string, args ...string) (*proc, error) {
	logPath := filepath.Join(dir, name+".log")
	logFile, err := os.OpenFile(logPath, os.O_CREATE|os.O_WRONLY|os.O_APPEND, 0o644)
	if err != nil {
		return nil, err
	}
	fmt.Fprintf(logFile, "+ %s %s\n", bin, strings.Join(args, " "))
	cmd := exec.Command(bin, args...)
	cmd.Stdout = logFile
	cmd.Stderr = logFile
	cmd.SysProcAttr = procAttr()
	p := &proc{name: name, bin: bin, args: args, cmd: cmd, logPath: logPath, done: make(chan struct{})}
	errc := make(chan error, 1)
	spawner() <- func() { errc <- cmd.Start() }
	if err := <-errc; err != nil {
		logFile.Close()
		return nil, fmt.Errorf("start %s: %w", name, err)
	}
	go func() {
		p.err = cmd.Wait()
		logFile.Close()
		close(p.done)
	}()
	return p, nil
}

// exited reports whether the process has exited.
func (p *proc) exited() bool {
	select {
	case <-p.done:
		return true
	default:
		return false
	}
}

// unexpectedExit returns an error if the process exited without stop being called.
func (p *proc) unexpectedExit() error {
	p.mu.Lock()
	stopping := p.stopping
	p.mu.Unlock()
	if stopping || !p.exited() {
		return nil
	}
	return fmt.Errorf("%s exited unexpectedly (%v); log %s:\n%s", p.name, p.err, p.logPath, tail(p.logPath, 30))
}

// signal sends sig to the process group of p.
func (p *proc) signal(sig syscall.Signal) {
	if p.cmd.Process == nil || p.exited() {
		return
	}
	// The process is its own group leader (Setpgid), so -pid is its group.
	if err := syscall.Kill(-p.cmd.Process.Pid, sig); err != nil && !errors.Is(err, syscall.ESRCH) {
		_ = p.cmd.Process.Signal(sig)
	}
}

// kill marks the process as stopping, SIGKILLs its group and waits (up to
// 10 s) for it to exit: a crash, no cleanup.
func (p *proc) kill() {
	p.mu.Lock()
	p.stopping = true
	p.mu.Unlock()
	p.signal(syscall.SIGKILL)
	select {
	case <-p.done:
	case <-time.After(10 * time.Second):
	}
}

// pid returns the process id (0 if not started).
func (p *proc) pid() int {
	if p.cmd.Process == nil {
		return 0
	}
	return p.cmd.Process.Pid
}

// cpuSeconds returns the user plus system CPU time the process has used,
// from /proc/<pid>/stat (Linux; 0 elsewhere or once it has exited).
func (p *proc) cpuSeconds() float64 {
	if p.exited() {
		return 0
	}
	return procCPUSeconds(p.pid())
}

// stopProcs stops all processes: SIGTERM to every process group at once, then
// SIGKILL to the groups still alive after grace. It returns the names of the
// processes that needed SIGKILL. Safe to call more than once and concurrently.
func stopProcs(procs []*proc, grace time.Duration) (killed []string) {
	for _, p := range procs {
		p.mu.Lock()
		p.stopping = true
		p.mu.Unlock()
		p.signal(syscall.SIGTERM)
	}
	deadline := time.NewTimer(grace)
	defer deadline.Stop()
wait:
	for _, p := range procs {
		select {
		case <-p.done:
		case <-deadline.C:
			break wait // fires once: the remaining processes get SIGKILL
		}
	}
	for _, p := range procs {
		if !p.exited() {
			killed = append(killed, p.name)
			p.signal(syscall.SIGKILL)
			select {
			case <-p.done:
			case <-time.After(5 * time.Second):
			}
		}
	}
	// No signal goes to a group whose leader has been reaped: its id could
	// be reused. (The components start no children of their own.)
	return killed
}

// tail returns the last n lines of the file at path.
func tail(path string, n int) string {
	f, err := os.Open(path)
	if err != nil {
		return fmt.Sprintf("(%v)", err)
	}
	defer f.Close()
	var lines []string
	sc := bufio.NewScanner(f)
	sc.Buffer(make([]byte, 64*1024), 1024*1024)
	for sc.Scan() {
		lines = append(lines, sc.Text())
		if len(lines) > 4*n {
			lines = append(lines[:0], lines[len(lines)-n:]...)
		}
	}
	if len(lines) > n {
		lines = lines[len(lines)-n:]
	}
	return strings.Join(lines, "\n")
}
