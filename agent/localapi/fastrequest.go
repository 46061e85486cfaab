package localapi

import (
	"bytes"
	"net/http"
	"sync/atomic"
	"time"

	"golang.org/x/net/http/httpguts"
)

// fastRequestLine is the only request line the fast path answers.
const fastRequestLine = "GET /v1/entitlement HTTP/1.1\r\n"

// recognize reports whether buf starts with a whole request the fast path
// answers exactly as the guard and serveHot would (see fast.go), and if so
// the length of its header block and its Accept-Language value (nil when
// absent). Anything it is not sure of is false: net/http reads it instead.
//
// It accepts: the request line above; header lines "name:value" ending in
// CRLF, the name a token, the value (spaces and tabs around it are not part
// of it, as for net/http) without control characters but tab; exactly one
// Host, equal to one of hosts; at most one Accept-Language; Connection only
// as keep-alive. Any Content-Length, Transfer-Encoding, Expect or Upgrade
// (the request is not bodiless and plain), or a browser header (the guard
// refuses it) makes it false, as do folded lines, bare LFs and a header block
// not yet whole.
func recognize(buf []byte, hosts *[2]string) (n int, acceptLanguage []byte, ok bool) {
	if hosts == nil || len(buf) < len(fastRequestLine) || string(buf[:len(fastRequestLine)]) != fastRequestLine {
		return 0, nil, false
	}
	i := len(fastRequestLine)
	host := false
	for {
		rest := buf[i:]
		eol := bytes.IndexByte(rest, '\n')
		if eol < 1 || rest[eol-1] != '\r' {
			return 0, nil, false // not whole yet, or a bare LF
		}
		line := rest[:eol-1]
		i += eol + 1
		if len(line) == 0 {
			break // the blank line ending the header block
		}
		colon := bytes.IndexByte(line, ':')
		if colon < 1 || !isToken(line[:colon]) {
			return 0, nil, false
		}
		name, value := line[:colon], trimOWS(line[colon+1:])
		if !isFieldValue(value) {
			return 0, nil, false
		}
		switch headerOf(name) {
		case hdrOther:
		case hdrHost:
			if host || (string(value) != hosts[0] && string(value) != hosts[1]) {
				return 0, nil, false
			}
			host = true
		case hdrAcceptLanguage:
			if acceptLanguage != nil {
				return 0, nil, false
			}
			acceptLanguage = value
		case hdrConnection:
			if !bytes.EqualFold(value, []byte("keep-alive")) {
				return 0, nil, false
			}
		default: // hdrRefused
			return 0, nil, false
		}
	}
	if !host {
		return 0, nil, false
	}
	if acceptLanguage != nil && len(acceptLanguage) == 0 {
		acceptLanguage = nil // an empty value is no preference, as absent
	}
	return i, acceptLanguage, true
}

type headerKind int

const (
	hdrOther headerKind = iota
	hdrHost
	hdrAcceptLanguage
	hdrConnection
	hdrRefused
)

// headerOf classifies a header name (any case).
func headerOf(name []byte) headerKind {
	is := func(s string) bool { return bytes.EqualFold(name, []byte(s)) }
	switch len(name) {
	case 4:
		if is("Host") {
			return hdrHost
		}
	case 6:
		if is("Origin") || is("Expect") {
			return hdrRefused
		}
	case 7:
		if is("Referer") || is("Upgrade") {
			return hdrRefused
		}
	case 10:
		if is("Connection") {
			return hdrConnection
		}
	case 14:
		if is("Content-Length") || is("Sec-Fetch-Site") {
			return hdrRefused
		}
	case 15:
		if is("Accept-Language") {
			return hdrAcceptLanguage
		}
	case 17:
		if is("Transfer-Encoding") {
			return hdrRefused
		}
	}
	return hdrOther
}

// isToken reports whether b is an RFC 9110 token (a valid header name).
func isToken(b []byte) bool {
	for _, c := range b {
		if !httpguts.IsTokenRune(rune(c)) {
			return false
		}
	}
	return len(b) > 0
}

// isFieldValue reports whether b has no control character but tab.
func isFieldValue(b []byte) bool {
	for _, c := range b {
		if (c < ' ' && c != '\t') || c == 0x7f {
			return false
		}
	}
	return true
}

func trimOWS(b []byte) []byte {
	for len(b) > 0 && (b[0] == ' ' || b[0] == '\t') {
		b = b[1:]
	}
	for len(b) > 0 && (b[len(b)-1] == ' ' || b[len(b)-1] == '\t') {
		b = b[:len(b)-1]
	}
	return b
}

// dateCache is the Date header value of the current second.
type dateCache struct {
	p atomic.Pointer[dateStamp]
}

type dateStamp struct {
	sec int64
	val []byte
}

func (d *dateCache) get(now time.Time) []byte {
	sec := now.Unix()
	if p := d.p.Load(); p != nil && p.sec == sec {
		return p.val
	}
	v := now.UTC().AppendFormat(make([]byte, 0, len(http.TimeFormat)), http.TimeFormat)
	d.p.Store(&dateStamp{sec: sec, val: v})
	return v
}
