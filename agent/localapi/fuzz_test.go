package localapi

import (
	"bufio"
	"bytes"
	"net/http"
	"net/textproto"
	"strings"
	"testing"

	"golang.org/x/net/http/httpguts"

	"github.com/entitle/entitle/pkg/agentapi"
)

func FuzzDecodeActivate(f *testing.F) {
	for _, s := range []string{
		`{"method":"browser"}`,
		`{"method":"license_key","license_key":"ABCD-1234"}`,
		`{"method":"password","email":"a@b.c","password":"x"}`,
		`{"method":"password","email":"a@b.c","password":"x"} `,
		`{"method":1}`, `null`, `[]`, `{"method":"browser"}{}`, "{\"method\":\"password\",\"email\":\"a@b\",\"password\":\"\\u0000\"}",
	} {
		f.Add([]byte(s))
	}
	f.Fuzz(func(t *testing.T, body []byte) {
		req, e := decodeActivate(body)
		if e != nil {
			if e.Code != agentapi.ErrBadRequest && e.Code != agentapi.ErrTooLarge {
				t.Fatalf("unexpected error code %q", e.Code)
			}
			if req != (agentapi.ActivateRequest{}) {
				t.Fatal("request returned with an error")
			}
			return
		}
		switch req.Method {
		case agentapi.ActivateBrowser:
			if req.LicenseKey+req.Email+req.Password != "" {
				t.Fatalf("browser request with credentials: %+v", req)
			}
		case agentapi.ActivateLicenseKey:
			if req.LicenseKey == "" || len(req.LicenseKey) > MaxLicenseKeyLen || strings.ContainsAny(req.LicenseKey, " \n\r\t") {
				t.Fatalf("bad license key accepted: %q", req.LicenseKey)
			}
		case agentapi.ActivatePassword:
			if len(req.Email) > MaxEmailLen || len(req.Password) > MaxPasswordLen || !cleanText(req.Password) || req.Password == "" {
				t.Fatalf("bad credentials accepted: %+v", req)
			}
		default:
			t.Fatalf("method %q accepted", req.Method)
		}
	})
}

func FuzzDecodeEmpty(f *testing.F) {
	for _, s := range []string{``, `{}`, ` {} `, `null`, `{"a":1}`, `{}{}`} {
		f.Add([]byte(s))
	}
	f.Fuzz(func(t *testing.T, body []byte) {
		var none struct{}
		_ = decodeJSON(body, &none, true)
	})
}

// FuzzRecognize holds the fast path's recognizer to net/http's reading: every
// request it takes is one http.ReadRequest reads the same way (same length,
// Host and Accept-Language), that net/http's server would not refuse
// (names and values valid, one Host) and that the guard lets through to
// serveHot's general answer.
func FuzzRecognize(f *testing.F) {
	const addr = "127.0.0.1:8080"
	hosts := &[2]string{addr, "localhost:8080"}
	line := "GET /v1/entitlement HTTP/1.1\r\n"
	for _, s := range []string{
		line + "Host: " + addr + "\r\n\r\n",
		line + "host:\tlocalhost:8080 \r\nAccept-Language: fr-FR, fr;q=0.9\r\nConnection: keep-alive\r\n\r\nGET",
		line + "Host: " + addr + "\r\nAccept-Language:\r\n\r\n",
		line + "Host: " + addr + "\r\nX: \xff\xfe\r\n\r\n",
		line + "Host: " + addr + "\r\nOrigin: x\r\n\r\n",
		line + "Host: " + addr + "\r\nContent-Length: 0\r\n\r\n",
		line + "Host: " + addr + "\r\nX-A: a\r\n b\r\n\r\n",
		line + "Host: " + addr + "\nX: y\r\n\r\n",
		line + "Host: " + addr + "\r\n",
		"GET /v1/entitlement?x HTTP/1.1\r\nHost: " + addr + "\r\n\r\n",
	} {
		f.Add([]byte(s))
	}
	f.Fuzz(func(t *testing.T, b []byte) {
		n, lang, ok := recognize(b, hosts)
		if !ok {
			return
		}
		br := bufio.NewReaderSize(bytes.NewReader(b), len(b)+16)
		req, err := http.ReadRequest(br)
		if err != nil {
			t.Fatalf("taken, but net/http cannot read it: %v", err)
		}
		if consumed := len(b) - br.Buffered(); consumed != n {
			t.Fatalf("taken as %d bytes, net/http read %d", n, consumed)
		}
		if req.Method != http.MethodGet || req.URL.Path != agentapi.PathEntitlement || req.URL.RawQuery != "" || req.URL.Host != "" ||
			!req.ProtoAtLeast(1, 1) || req.ProtoMinor != 1 || req.Close || req.ContentLength != 0 || len(req.TransferEncoding) != 0 {
			t.Fatalf("taken, but net/http reads %s %v %s close=%v length=%d te=%v", req.Method, req.URL, req.Proto, req.Close, req.ContentLength, req.TransferEncoding)
		}
		// ReadRequest drops the Host lines net/http's server counts.
		mh, err := textproto.NewReader(bufio.NewReader(bytes.NewReader(b[len(line):]))).ReadMIMEHeader()
		if err != nil || len(mh["Host"]) != 1 || (req.Host != hosts[0] && req.Host != hosts[1]) {
			t.Fatalf("taken with Host %q (%d lines, %v)", req.Host, len(mh["Host"]), err)
		}
		for k, vs := range req.Header {
			if !httpguts.ValidHeaderFieldName(k) {
				t.Fatalf("taken with header name %q", k)
			}
			for _, v := range vs {
				if !httpguts.ValidHeaderFieldValue(v) {
					t.Fatalf("taken with %s value %q", k, v)
				}
			}
		}
		for _, k := range append(browserHeaders[:], "Expect", "Upgrade", "Content-Length") {
			if len(req.Header[k]) > 0 {
				t.Fatalf("taken with %s", k)
			}
		}
		if al := req.Header.Values("Accept-Language"); len(al) > 1 || req.Header.Get("Accept-Language") != string(lang) {
			t.Fatalf("Accept-Language %q taken as %q", al, lang)
		}
	})
}
