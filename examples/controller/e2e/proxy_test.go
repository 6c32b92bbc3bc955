//go:build unix

package e2e

import (
	"io"
	"net"
	"sync"
)

// tcpProxy forwards TCP connections from a port on 127.0.0.1 to target
// (kube-apiserver: TLS passes through untouched) and can cut every
// connection it carries at once, as a network failure would: both sides get
// a reset. New connections are accepted again right away.
type tcpProxy struct {
	ln     net.Listener
	target string

	mu    sync.Mutex
	conns map[*net.TCPConn]struct{}
	wg    sync.WaitGroup
}

func startProxy(target string) (*tcpProxy, error) {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return nil, err
	}
	p := &tcpProxy{ln: ln, target: target, conns: map[*net.TCPConn]struct{}{}}
	p.wg.Go(p.accept)
	return p, nil
}

// addr is the proxy's host:port.
func (p *tcpProxy) addr() string { return p.ln.Addr().String() }

func (p *tcpProxy) accept() {
	for {
		c, err := p.ln.Accept()
		if err != nil {
			return // closed
		}
		p.wg.Go(func() { p.serve(c.(*net.TCPConn)) })
	}
}

func (p *tcpProxy) serve(client *net.TCPConn) {
	up, err := net.Dial("tcp", p.target)
	if err != nil {
		client.Close()
		return
	}
	upstream := up.(*net.TCPConn)
	if !p.track(client, upstream) {
		return
	}
	var wg sync.WaitGroup
	pipe := func(dst, src *net.TCPConn) {
		_, _ = io.Copy(dst, src)
		_ = dst.CloseWrite()
	}
	wg.Go(func() { pipe(upstream, client) })
	wg.Go(func() { pipe(client, upstream) })
	wg.Wait()
	p.untrack(client, upstream)
	client.Close()
	upstream.Close()
}

func (p *tcpProxy) track(conns ...*net.TCPConn) bool {
	p.mu.Lock()
	defer p.mu.Unlock()
	if p.conns == nil { // closed
		for _, c := range conns {
			c.Close()
		}
		return false
	}
	for _, c := range conns {
		p.conns[c] = struct{}{}
	}
	return true
}

func (p *tcpProxy) untrack(conns ...*net.TCPConn) {
	p.mu.Lock()
	defer p.mu.Unlock()
	for _, c := range conns {
		delete(p.conns, c)
	}
}

// cutAll resets every connection the proxy carries and returns how many
// client connections that was.
func (p *tcpProxy) cutAll() int {
	p.mu.Lock()
	defer p.mu.Unlock()
	for c := range p.conns {
		_ = c.SetLinger(0) // close sends a reset
		c.Close()
	}
	n := len(p.conns) / 2
	clear(p.conns)
	return n
}

// close stops accepting, cuts every connection and waits for the copies.
func (p *tcpProxy) close() {
	p.ln.Close()
	p.cutAll()
	p.mu.Lock()
	p.conns = nil
	p.mu.Unlock()
	p.wg.Wait()
}
