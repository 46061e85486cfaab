package e2e

import (
	"encoding/json"
	"fmt"
	"html"
	"io"
	"net/http"
	"net/http/cookiejar"
	"net/url"
	"regexp"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/entitle/entitle/pkg/lease"
	"github.com/entitle/entitle/pkg/protocol"
)

var csrfField = regexp.MustCompile(`name="csrf" value="([^"]+)"`)

// browser is a cookie-keeping client that shows each redirect to the test.
type browser struct {
	t *testing.T
	c *http.Client
}

func newBrowser(t *testing.T) *browser {
	jar, _ := cookiejar.New(nil)
	return &browser{t: t, c: &http.Client{Jar: jar, CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }}}
}

func (b *browser) do(method, u string, form url.Values) (int, string, string) {
	b.t.Helper()
	var resp *http.Response
	var err error
	if method == "POST" {
		resp, err = b.c.PostForm(u, form)
	} else {
		resp, err = b.c.Get(u)
	}
	if err != nil {
		b.t.Fatalf("%s %s: %v", method, u, err)
	}
	defer resp.Body.Close()
	body, _ := io.ReadAll(resp.Body)
	return resp.StatusCode, resp.Header.Get("Location"), string(body)
}

func (b *browser) csrf(body string) string {
	b.t.Helper()
	m := csrfField.FindStringSubmatch(body)
	if m == nil {
		b.t.Fatalf("no CSRF token in:\n%s", body)
	}
	return html.UnescapeString(m[1])
}

// deviceFlow runs RFC 8628 end to end: the agent asks for a code and polls;
// a person opens the verification page, signs in and approves.
func (f *fixture) deviceFlow(t *testing.T) {
	c := http.DefaultClient
	var auth protocol.DeviceAuthorizeResponse
	req := protocol.DeviceAuthorizeRequest{Fingerprint: fingerprint("browser-mac"), Product: "entitle",
		Device: protocol.DeviceFacts{Hostname: "browser-mac", OS: "darwin", Arch: "arm64"}}
	if st := f.srv.Call(t, c, "POST", protocol.PathDeviceAuthorize, "", req.Form(), &auth); st != 200 {
		t.Fatalf("device authorize: %d", st)
	}
	if auth.VerificationURI != f.srv.Base+"/device" {
		t.Fatalf("verification URI %q, want %q", auth.VerificationURI, f.srv.Base+"/device")
	}

	// The agent polls in the background for as long as the person takes.
	type outcome struct {
		resp protocol.ActivateResponse
		err  error
	}
	polled := make(chan outcome, 1)
	stopPoll := make(chan struct{})
	var pending sync.WaitGroup
	pending.Go(func() {
		for {
			var resp protocol.ActivateResponse
			var pe protocol.Error
			st, err := pollOnce(f.srv.Base, auth.DeviceCode, &resp, &pe)
			switch {
			case err != nil:
				polled <- outcome{err: err}
				return
			case st == 200:
				polled <- outcome{resp: resp}
				return
			case pe.Code != protocol.ErrAuthorizationPending && pe.Code != protocol.ErrSlowDown:
				polled <- outcome{err: fmt.Errorf("poll: %d %+v", st, pe)}
				return
			}
			select {
			case <-stopPoll:
				polled <- outcome{err: fmt.Errorf("poll: stopped while %s", pe.Code)}
				return
			case <-time.After(time.Duration(auth.Interval) * time.Second):
			}
		}
	})
	t.Cleanup(func() { close(stopPoll); pending.Wait() })

	b := newBrowser(t)
	st, _, body := b.do("GET", f.srv.Base+"/device?user_code="+url.QueryEscape(auth.UserCode), nil)
	if st != 200 || !strings.Contains(body, auth.UserCode) {
		t.Fatalf("GET /device: %d\n%s", st, body)
	}
	// A login form posted without its CSRF token is refused.
	if st, _, _ := b.do("POST", f.srv.Base+"/login", url.Values{"email": {ownerEmail}, "password": {ownerPass}, "flow": {"device"}, "user_code": {auth.UserCode}}); st != http.StatusForbidden {
		t.Fatalf("login without CSRF token: %d", st)
	}
	st, loc, _ := b.do("POST", f.srv.Base+"/login", url.Values{
		"csrf": {b.csrf(body)}, "email": {ownerEmail}, "password": {ownerPass}, "flow": {"device"}, "user_code": {auth.UserCode},
	})
	if st != http.StatusSeeOther {
		t.Fatalf("login: %d", st)
	}
	st, _, body = b.do("GET", f.srv.Base+loc, nil)
	if st != 200 || !strings.Contains(body, "browser-mac") || !strings.Contains(body, "darwin") {
		t.Fatalf("confirm page: %d\n%s", st, body)
	}
	before := f.seatsUsed(t)
	if st, _, _ := b.do("POST", f.srv.Base+"/device/approve", url.Values{"user_code": {auth.UserCode}}); st != http.StatusForbidden {
		t.Fatalf("approve without CSRF token: %d", st)
	}
	if after := f.seatsUsed(t); fmt.Sprint(after) != fmt.Sprint(before) {
		t.Fatalf("a refused approval changed seats: %v -> %v", before, after)
	}
	st, _, body = b.do("POST", f.srv.Base+"/device/approve", url.Values{"csrf": {b.csrf(body)}, "user_code": {auth.UserCode}})
	if st != 200 || !strings.Contains(body, "approved") {
		t.Fatalf("approve: %d\n%s", st, body)
	}

	var got outcome
	select {
	case got = <-polled:
	case <-time.After(time.Duration(auth.Interval+30) * time.Second):
		t.Fatal("the agent's poll did not finish after approval")
	}
	if got.err != nil {
		t.Fatal(got.err)
	}
	if _, err := lease.Verify(got.resp.Lease, f.fetchKeys(t), fingerprint("browser-mac"), time.Now()); err != nil {
		t.Fatalf("lease from the device flow: %v", err)
	}
}

func pollOnce(base, deviceCode string, resp *protocol.ActivateResponse, pe *protocol.Error) (int, error) {
	r, err := http.PostForm(base+protocol.PathDeviceToken, protocol.DeviceTokenRequest{DeviceCode: deviceCode, ClientID: "entitle"}.Form())
	if err != nil {
		return 0, err
	}
	defer r.Body.Close()
	dec := json.NewDecoder(r.Body)
	if r.StatusCode == 200 {
		var tok protocol.DeviceTokenResponse
		err := dec.Decode(&tok)
		*resp = tok.Activation()
		return 200, err
	}
	var oe protocol.OAuthError
	err = dec.Decode(&oe)
	*pe = protocol.Error{Code: oe.Error, Message: oe.ErrorDescription}
	return r.StatusCode, err
}
