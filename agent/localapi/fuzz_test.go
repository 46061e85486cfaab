package localapi

import (
	"strings"
	"testing"

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
