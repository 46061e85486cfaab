// Package mailtest is a real SMTP server for tests (github.com/emersion/go-smtp)
// on loopback: it keeps every mail it receives, and can be stopped and started
// again on the same port to play a relay that goes down mid-run.
package mailtest

import (
	"bytes"
	"encoding/base64"
	"io"
	"mime"
	"mime/multipart"
	"mime/quotedprintable"
	"net"
	"net/mail"
	"net/textproto"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	smtp "github.com/emersion/go-smtp"
)

// Mail is one received mail.
type Mail struct {
	From      string
	To        []string
	MessageID string
	Subject   string // decoded (RFC 2047)
	Text      string // the text/plain part, transfer encoding undone
	Raw       []byte
}

// Server is a test SMTP server.
type Server struct {
	t    testing.TB
	addr string

	mu    sync.Mutex
	srv   *smtp.Server
	ln    net.Listener
	mails []Mail
	recv  chan struct{}
}

// Start starts a server on a free loopback port; it stops with the test.
func Start(t testing.TB) *Server {
	t.Helper()
	s := &Server{t: t, recv: make(chan struct{}, 10000)}
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	s.addr = ln.Addr().String()
	s.serve(ln)
	t.Cleanup(s.Stop)
	return s
}

// Host is the server's IP address.
func (s *Server) Host() string { h, _, _ := net.SplitHostPort(s.addr); return h }

// Port is the server's port.
func (s *Server) Port() int {
	_, p, _ := net.SplitHostPort(s.addr)
	n, _ := strconv.Atoi(p)
	return n
}

func (s *Server) serve(ln net.Listener) {
	srv := smtp.NewServer(smtp.BackendFunc(func(*smtp.Conn) (smtp.Session, error) { return &session{s: s}, nil }))
	srv.Domain = "mailtest.localhost"
	srv.ReadTimeout, srv.WriteTimeout = 10*time.Second, 10*time.Second
	srv.MaxMessageBytes = 1 << 20
	s.mu.Lock()
	s.srv, s.ln = srv, ln
	s.mu.Unlock()
	go func() { _ = srv.Serve(ln) }() // ends when Stop closes srv
}

// Stop stops the server: connections are refused until Restart.
func (s *Server) Stop() {
	s.mu.Lock()
	srv, ln := s.srv, s.ln
	s.srv, s.ln = nil, nil
	s.mu.Unlock()
	if srv != nil {
		// Close the listener too: Serve may not have taken it yet.
		_ = ln.Close()
		_ = srv.Close()
	}
}

// Restart starts the server again on the same port.
func (s *Server) Restart() {
	s.t.Helper()
	var ln net.Listener
	var err error
	for range 50 { // the old socket may linger a moment
		if ln, err = net.Listen("tcp", s.addr); err == nil {
			break
		}
		time.Sleep(20 * time.Millisecond)
	}
	if err != nil {
		s.t.Fatalf("mailtest: restart on %s: %v", s.addr, err)
	}
	s.serve(ln)
}

// Mails returns the mails received so far.
func (s *Server) Mails() []Mail {
	s.mu.Lock()
	defer s.mu.Unlock()
	return append([]Mail(nil), s.mails...)
}

// Wait waits until at least n mails arrived or timeout passes, and returns
// the mails received.
func (s *Server) Wait(n int, timeout time.Duration) []Mail {
	deadline := time.After(timeout)
	for {
		if m := s.Mails(); len(m) >= n {
			return m
		}
		select {
		case <-s.recv:
		case <-deadline:
			return s.Mails()
		}
	}
}

type session struct {
	s    *Server
	from string
	to   []string
}

func (x *session) Reset()        { x.from, x.to = "", nil }
func (x *session) Logout() error { return nil }
func (x *session) Mail(from string, _ *smtp.MailOptions) error {
	x.from = from
	return nil
}
func (x *session) Rcpt(to string, _ *smtp.RcptOptions) error {
	x.to = append(x.to, to)
	return nil
}

func (x *session) Data(r io.Reader) error {
	raw, err := io.ReadAll(r)
	if err != nil {
		return err
	}
	m := Mail{From: x.from, To: x.to, Raw: raw}
	if msg, err := mail.ReadMessage(bytes.NewReader(raw)); err == nil {
		m.MessageID = msg.Header.Get("Message-Id")
		subj := msg.Header.Get("Subject")
		if d, err := new(mime.WordDecoder).DecodeHeader(subj); err == nil {
			subj = d
		}
		m.Subject = subj
		m.Text = plainText(textproto.MIMEHeader(msg.Header), msg.Body)
	}
	x.s.mu.Lock()
	x.s.mails = append(x.s.mails, m)
	x.s.mu.Unlock()
	select {
	case x.s.recv <- struct{}{}:
	default:
	}
	return nil
}

// plainText finds the first text/plain part of a body with header h
// (walking multipart bodies) and undoes its transfer encoding; "" if none.
func plainText(h textproto.MIMEHeader, body io.Reader) string {
	mt, params, err := mime.ParseMediaType(h.Get("Content-Type"))
	if err != nil {
		mt = "text/plain"
	}
	if strings.HasPrefix(mt, "multipart/") {
		mr := multipart.NewReader(body, params["boundary"])
		for {
			p, err := mr.NextRawPart()
			if err != nil {
				return ""
			}
			if t := plainText(p.Header, p); t != "" {
				return t
			}
		}
	}
	if mt != "text/plain" {
		return ""
	}
	var r io.Reader = body
	switch strings.ToLower(h.Get("Content-Transfer-Encoding")) {
	case "quoted-printable":
		r = quotedprintable.NewReader(body)
	case "base64":
		r = base64.NewDecoder(base64.StdEncoding, body)
	}
	b, err := io.ReadAll(r)
	if err != nil {
		return ""
	}
	return string(b)
}
