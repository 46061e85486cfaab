// Package dnstest runs a real DNS server on loopback (github.com/miekg/dns)
// answering TXT queries from a table a test changes, and a net.Resolver that
// asks only it, for the tests of the domain-verification code. Only tests
// import it.
package dnstest

import (
	"context"
	"net"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/miekg/dns"
)

// Server is a real DNS server on loopback answering TXT queries from a
// table the test changes.
type Server struct {
	mu   sync.Mutex
	txt  map[string][]string // fully qualified name -> values
	addr string
}

// Start runs a server until t ends.
func Start(t testing.TB) *Server {
	t.Helper()
	d := &Server{txt: map[string][]string{}}
	pc, err := net.ListenPacket("udp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	d.addr = pc.LocalAddr().String()
	started := make(chan struct{})
	srv := &dns.Server{PacketConn: pc, Handler: dns.HandlerFunc(d.serve), NotifyStartedFunc: func() { close(started) }}
	done := make(chan struct{})
	go func() {
		defer close(done)
		_ = srv.ActivateAndServe()
	}()
	<-started
	t.Cleanup(func() {
		_ = srv.Shutdown()
		<-done
	})
	return d
}

func (d *Server) serve(w dns.ResponseWriter, req *dns.Msg) {
	m := new(dns.Msg)
	m.SetReply(req)
	m.Authoritative = true
	d.mu.Lock()
	found := false
	for _, q := range req.Question {
		vals, ok := d.txt[strings.ToLower(q.Name)]
		found = found || ok
		if q.Qtype != dns.TypeTXT {
			continue
		}
		for _, v := range vals {
			m.Answer = append(m.Answer, &dns.TXT{Hdr: dns.RR_Header{Name: q.Name, Rrtype: dns.TypeTXT, Class: dns.ClassINET, Ttl: 0}, Txt: []string{v}})
		}
	}
	d.mu.Unlock()
	if !found {
		m.Rcode = dns.RcodeNameError
	}
	_ = w.WriteMsg(m)
}

// Set publishes TXT values at name (nil removes it).
func (d *Server) Set(name string, vals ...string) {
	d.mu.Lock()
	defer d.mu.Unlock()
	fq := dns.Fqdn(strings.ToLower(name))
	if vals == nil {
		delete(d.txt, fq)
		return
	}
	d.txt[fq] = vals
}

// Resolver is a net.Resolver that asks only this server.
func (d *Server) Resolver() *net.Resolver {
	return &net.Resolver{PreferGo: true, Dial: func(ctx context.Context, _, _ string) (net.Conn, error) {
		var dl net.Dialer
		dl.Timeout = 2 * time.Second
		return dl.DialContext(ctx, "udp", d.addr)
	}}
}

// Addr is the server's host:port (UDP), for a program that takes a DNS
// server address (entitle-server serve --dns-resolver).
func (d *Server) Addr() string { return d.addr }
