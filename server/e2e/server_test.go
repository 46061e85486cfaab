package e2e

import (
	"crypto/ed25519"
	"fmt"
	"io"
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/entitle/entitle/server/servertest"

	"github.com/entitle/entitle/pkg/accountapi"
	"github.com/entitle/entitle/pkg/lease"
	"github.com/entitle/entitle/pkg/licensekey"
	"github.com/entitle/entitle/pkg/protocol"
	"github.com/entitle/entitle/pkg/testenv"
	"github.com/entitle/entitle/server/httpapi"
)

const (
	ownerEmail = "owner@example.com"
	ownerPass  = "correct horse battery staple"
)

// fixture is what the CLI set up before the server started.
type fixture struct {
	bin, dsn   string
	main       accountapi.LicenseJSON // 3 seats, owned by ownerEmail
	single     accountapi.LicenseJSON // 1 seat, for the seat race
	expired    accountapi.LicenseJSON
	pinnedKeys *lease.KeySet // from `keys show`
	srv        *server
}

// TestServer runs the binary against each database and drives it as agents,
// a browser and an operator would.
func TestServer(t *testing.T) {
	bin := testenv.BuildBinary(t, "./server/cmd/entitle-server")
	for _, db := range servertest.Databases() {
		t.Run(db.Name, func(t *testing.T) {
			f := setup(t, bin, db.DSN(t))
			t.Run("activate by license key", f.activateByKey)
			t.Run("activate by password", f.activateByPassword)
			t.Run("refused activations change nothing", f.refusals)
			t.Run("seat race", f.seatRace)
			t.Run("device authorization in a browser", f.deviceFlow)
			t.Run("account API releases a lost computer", f.releaseLost)
			t.Run("health and metrics", f.healthMetrics)
			t.Run("graceful shutdown", func(t *testing.T) {
				if err := f.srv.Stop(); err != nil {
					t.Fatalf("SIGTERM: want exit status 0, got %v\n%s", err, f.srv.Stderr.String())
				}
				if !strings.Contains(f.srv.Stderr.String(), `"msg":"stopped"`) {
					t.Fatalf("no clean stop logged:\n%s", f.srv.Stderr.String())
				}
			})
			if strings.Contains(f.srv.Stderr.String(), ownerPass) || strings.Contains(f.srv.Stderr.String(), f.main.Key) {
				t.Fatal("a password or license key reached the server log")
			}
		})
	}
}

// setup prepares the database with the CLI, exactly as an operator would,
// and starts the server.
func setup(t *testing.T, bin, dsn string) *fixture {
	f := &fixture{bin: bin, dsn: dsn}
	cli(t, bin, dsn, "", "migrate")
	var acct accountapi.AccountJSON
	cliJSON(t, bin, dsn, ownerPass+"\n", &acct, "account", "create", "--email", ownerEmail, "--password-stdin")
	if acct.Email != ownerEmail || acct.ID == "" {
		t.Fatalf("account create: %+v", acct)
	}
	if _, errOut, err := cliRun(bin, dsn, "", nil, "account", "create", "--email", "x@example.com"); err == nil {
		t.Fatalf("account create without --password-stdin succeeded: %s", errOut)
	}
	cliJSON(t, bin, dsn, "", &f.main, "license", "create", "--owner", ownerEmail, "--plan", "pro",
		"--features", "sign,stamp", "--max-profiles", "5", "--seats", "3", "--days", "365")
	cliJSON(t, bin, dsn, "", &f.single, "license", "create", "--owner", ownerEmail, "--plan", "solo", "--seats", "1",
		"--term-end", time.Now().AddDate(1, 0, 0).Format(time.DateOnly), "--subscription")
	cliJSON(t, bin, dsn, "", &f.expired, "license", "create", "--owner", ownerEmail, "--plan", "old", "--seats", "5",
		"--term-start", "2019-01-01", "--term-end", "2020-01-01")
	if f.main.Seats != 3 || f.main.Plan != "pro" || len(f.main.Features) != 2 || f.main.MaxProfiles != 5 || f.main.Key == "" {
		t.Fatalf("license create: %+v", f.main)
	}
	if !f.single.Subscription || f.single.TermEnd == nil {
		t.Fatalf("license create --subscription --term-end: %+v", f.single)
	}

	// The environment stands in for --db.
	out, errOut, err := cliRun(bin, "", "", []string{"ENTITLE_SERVER_DB=" + dsn}, "license", "list")
	if err != nil || !strings.Contains(out, f.main.Key) || !strings.Contains(out, "0/3") {
		t.Fatalf("license list with ENTITLE_SERVER_DB: %v\n%s%s", err, out, errOut)
	}

	var before, after struct {
		Keys []struct {
			KID       string `json:"kid"`
			PublicKey string `json:"public_key"`
		} `json:"keys"`
	}
	cliJSON(t, bin, dsn, "", &before, "keys", "show")
	var rotated struct {
		KID string `json:"kid"`
	}
	cliJSON(t, bin, dsn, "", &rotated, "keys", "rotate")
	cliJSON(t, bin, dsn, "", &after, "keys", "show")
	if len(before.Keys) != 1 || len(after.Keys) != 2 || rotated.KID == "" || rotated.KID == before.Keys[0].KID {
		t.Fatalf("keys rotate: before %+v, rotated %q, after %+v", before, rotated.KID, after)
	}
	text := cli(t, bin, dsn, "", "keys", "show")
	var pubs []string
	for _, line := range strings.Split(text, "\n") {
		if line != "" && !strings.HasPrefix(line, "#") && !strings.HasPrefix(line, "{") {
			pubs = append(pubs, line)
		}
	}
	var keys []ed25519.PublicKey
	for _, p := range pubs {
		k, err := lease.DecodePublicKey(p)
		if err != nil {
			t.Fatalf("keys show printed %q: %v", p, err)
		}
		keys = append(keys, k)
	}
	ks, err := lease.NewKeySet(keys...)
	if err != nil || ks.Len() != 2 {
		t.Fatalf("pinned keys from `keys show`: %v (%d)", err, ks.Len())
	}
	f.pinnedKeys = ks

	var demo1, demo2 map[string]any
	cliJSON(t, bin, dsn, "", &demo1, "demo")
	cliJSON(t, bin, dsn, "", &demo2, "demo")
	if demo1["license_key"] == "" || demo1["license_key"] != demo2["license_key"] || demo1["password"] == "" {
		t.Fatalf("demo is not idempotent: %v then %v", demo1, demo2)
	}

	// The server takes the rest of its settings from a TOML file.
	conf := filepath.Join(t.TempDir(), "server.toml")
	toml := fmt.Sprintf("db = %q\nlimit-activations = \"off\"\ntrusted-proxies = [\"127.0.0.1\"]\ncheckin-interval = \"30m\"\n", dsn)
	if err := os.WriteFile(conf, []byte(toml), 0o600); err != nil {
		t.Fatal(err)
	}
	f.srv = startServer(t, bin, "--config", conf)
	return f
}

func activation(key, name string) protocol.ActivateRequest {
	return protocol.ActivateRequest{
		Method: protocol.MethodLicenseKey, LicenseKey: key, Fingerprint: fingerprint(name), Product: "entitle",
		Device: protocol.DeviceFacts{Hostname: name, OS: "linux", Arch: "amd64", AgentVersion: "e2e"},
	}
}

// licenses reads the licenses through the operator's CLI.
func (f *fixture) licenses(t *testing.T) map[string]accountapi.LicenseJSON {
	t.Helper()
	var ls []accountapi.LicenseJSON
	cliJSON(t, f.bin, f.dsn, "", &ls, "license", "list")
	out := map[string]accountapi.LicenseJSON{}
	for _, l := range ls {
		out[l.ID] = l
	}
	return out
}

func (f *fixture) seatsUsed(t *testing.T) map[string]int {
	t.Helper()
	out := map[string]int{}
	for id, l := range f.licenses(t) {
		out[id] = l.SeatsUsed
	}
	return out
}

func (f *fixture) activateByKey(t *testing.T) {
	c := http.DefaultClient
	ks := f.fetchKeys(t)
	var first protocol.ActivateResponse
	if st := f.srv.Call(t, c, "POST", protocol.PathActivations, "", activation(f.main.Key, "key-laptop"), &first); st != http.StatusCreated {
		t.Fatalf("activate: %d", st)
	}
	for name, set := range map[string]*lease.KeySet{"GET /v1/keys": ks, "keys show": f.pinnedKeys} {
		claims, err := lease.Verify(first.Lease, set, fingerprint("key-laptop"), time.Now())
		if err != nil {
			t.Fatalf("lease does not verify with %s: %v", name, err)
		}
		if claims.License.Plan != "pro" || !claims.HasFeature("stamp") || claims.DeviceID() != first.DeviceID {
			t.Fatalf("lease claims %+v", claims)
		}
	}
	if first.CheckinAfter != 1800 {
		t.Fatalf("checkin_after %d, want 1800 from the config file", first.CheckinAfter)
	}
	seats := f.seatsUsed(t)[f.main.ID]

	var again protocol.ActivateResponse
	if st := f.srv.Call(t, c, "POST", protocol.PathActivations, "", activation(f.main.Key, "key-laptop"), &again); st != http.StatusOK || !again.Existing || again.DeviceID != first.DeviceID {
		t.Fatalf("re-activation: %d %+v", st, again)
	}
	if got := f.seatsUsed(t)[f.main.ID]; got != seats {
		t.Fatalf("re-activation changed seats used from %d to %d", seats, got)
	}

	var ci protocol.CheckinResponse
	ciReq := protocol.CheckinRequest{Fingerprint: fingerprint("key-laptop"), Device: protocol.DeviceFacts{Hostname: "key-laptop"}}
	if st := f.srv.Call(t, c, "POST", protocol.PathCheckin, again.Credential, ciReq, &ci); st != 200 {
		t.Fatalf("checkin: %d", st)
	}
	if _, err := lease.Verify(ci.Lease, ks, fingerprint("key-laptop"), time.Now()); err != nil {
		t.Fatalf("checkin lease: %v", err)
	}
	if st := f.srv.Call(t, c, "DELETE", protocol.PathDevice, again.Credential, nil, nil); st != http.StatusNoContent {
		t.Fatalf("DELETE /v1/device: %d", st)
	}
	if got := f.seatsUsed(t)[f.main.ID]; got != seats-1 {
		t.Fatalf("DELETE /v1/device: seats used %d, want %d", got, seats-1)
	}
	var pe protocol.Error
	if st := f.srv.Call(t, c, "POST", protocol.PathCheckin, again.Credential, ciReq, &pe); st < 400 {
		t.Fatalf("checkin after deactivation: %d", st)
	}
}

func (f *fixture) fetchKeys(t *testing.T) *lease.KeySet { return f.srv.Keys(t, http.DefaultClient) }

func (f *fixture) activateByPassword(t *testing.T) {
	before := f.seatsUsed(t)
	req := protocol.ActivateRequest{Method: protocol.MethodPassword, Email: ownerEmail, Password: ownerPass,
		Fingerprint: fingerprint("pw-desktop"), Product: "entitle", Device: protocol.DeviceFacts{Hostname: "pw-desktop", OS: "windows"}}
	var resp protocol.ActivateResponse
	if st := f.srv.Call(t, http.DefaultClient, "POST", protocol.PathActivations, "", req, &resp); st != http.StatusCreated {
		t.Fatalf("activate by password: %d", st)
	}
	if _, err := lease.Verify(resp.Lease, f.fetchKeys(t), fingerprint("pw-desktop"), time.Now()); err != nil {
		t.Fatal(err)
	}
	after := f.seatsUsed(t)
	total := 0
	for id := range after {
		total += after[id] - before[id]
	}
	if total != 1 {
		t.Fatalf("activation by password took %d seats", total)
	}
}

// refusals sends requests the server must refuse and checks that the
// licenses' seats did not move.
func (f *fixture) refusals(t *testing.T) {
	pw := func(p string) protocol.ActivateRequest {
		return protocol.ActivateRequest{Method: protocol.MethodPassword, Email: ownerEmail, Password: p, Fingerprint: fingerprint("r"), Product: "entitle"}
	}
	tests := []struct {
		name   string
		body   any
		status int
		code   string
	}{
		{"wrong password", pw("not the password"), 401, protocol.ErrInvalidCredentials},
		{"unknown key", activation(unknownKey(t), "r"), 404, protocol.ErrUnknownLicense},
		{"bad check character", activation(badCheckKey(f.main.Key), "r"), 400, protocol.ErrInvalidRequest},
		{"expired license", activation(f.expired.Key, "r"), 403, protocol.ErrLicenseExpired},
		{"malformed JSON", `{"method":"license_key",`, 400, protocol.ErrInvalidRequest},
		{"oversize body", `{"product":"` + strings.Repeat("a", protocol.MaxBodyBytes) + `"}`, 413, protocol.ErrTooLarge},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			before := f.seatsUsed(t)
			var pe protocol.Error
			st := f.srv.Call(t, http.DefaultClient, "POST", protocol.PathActivations, "", tt.body, &pe)
			if st != tt.status || pe.Code != tt.code || pe.Message == "" {
				t.Fatalf("got %d %+v, want %d %s", st, pe, tt.status, tt.code)
			}
			if after := f.seatsUsed(t); fmt.Sprint(after) != fmt.Sprint(before) {
				t.Fatalf("seats changed: %v -> %v", before, after)
			}
		})
	}
}

// seatRace activates a 1-seat license from 50 computers at once.
func (f *fixture) seatRace(t *testing.T) {
	const n = 50
	c := &http.Client{Transport: &http.Transport{MaxIdleConnsPerHost: n}}
	var wg sync.WaitGroup
	statuses := make([]int, n)
	errs := make([]protocol.Error, n)
	for i := range n {
		wg.Go(func() {
			statuses[i] = f.srv.Call(t, c, "POST", protocol.PathActivations, "", activation(f.single.Key, fmt.Sprintf("race-%d", i)), &errs[i])
		})
	}
	wg.Wait()
	won, denied := 0, 0
	for i, st := range statuses {
		switch {
		case st == http.StatusCreated || st == http.StatusOK:
			won++
		case st == http.StatusConflict && errs[i].Code == protocol.ErrNoSeats && errs[i].Message != "":
			denied++
		default:
			t.Errorf("activation %d: %d %+v", i, st, errs[i])
		}
	}
	if won != 1 || denied != n-1 {
		t.Fatalf("%d won and %d were denied, want 1 and %d", won, denied, n-1)
	}
	if l := f.licenses(t)[f.single.ID]; l.SeatsUsed != 1 {
		t.Fatalf("seats used %d after the race, want 1", l.SeatsUsed)
	}
}

// releaseLost signs in through the account API and releases a computer.
func (f *fixture) releaseLost(t *testing.T) {
	c := http.DefaultClient
	var act protocol.ActivateResponse
	if st := f.srv.Call(t, c, "POST", protocol.PathActivations, "", activation(f.main.Key, "stolen-laptop"), &act); st != http.StatusCreated {
		t.Fatalf("activate: %d", st)
	}
	var sess accountapi.SessionResponse
	if st := f.srv.Call(t, c, "POST", httpapi.PathSessions, "", accountapi.SessionRequest{Email: ownerEmail, Password: ownerPass}, &sess); st != 201 {
		t.Fatalf("sign in: %d", st)
	}
	var dp accountapi.DevicePage
	f.srv.Call(t, c, "GET", httpapi.PathAccountDevices, sess.Token, nil, &dp)
	found := false
	for _, d := range dp.Items {
		found = found || (d.ID == act.DeviceID && d.Device.Hostname == "stolen-laptop" && d.Active)
	}
	if !found {
		t.Fatalf("device list lacks the new computer: %+v", dp)
	}
	before := f.seatsUsed(t)[f.main.ID]
	if st := f.srv.Call(t, c, "DELETE", httpapi.PathAccountDevices+"/"+act.DeviceID, sess.Token, nil, nil); st != http.StatusNoContent {
		t.Fatalf("release: %d", st)
	}
	if after := f.seatsUsed(t)[f.main.ID]; after != before-1 {
		t.Fatalf("release: seats %d -> %d", before, after)
	}
	var pe protocol.Error
	if st := f.srv.Call(t, c, "POST", protocol.PathCheckin, act.Credential, protocol.CheckinRequest{Fingerprint: fingerprint("stolen-laptop")}, &pe); st != http.StatusGone || pe.Code != protocol.ErrDeviceRevoked {
		t.Fatalf("released computer's checkin: %d %+v", st, pe)
	}
}

func (f *fixture) healthMetrics(t *testing.T) {
	var h httpapi.HealthResponse
	if st := f.srv.Call(t, http.DefaultClient, "GET", protocol.PathHealth, "", nil, &h); st != 200 || h.Database != "ok" {
		t.Fatalf("health: %d %+v", st, h)
	}
	// The trusted proxy from the config file is believed about the client.
	req, _ := http.NewRequest("GET", f.srv.Base+protocol.PathHealth, nil)
	req.Header.Set("X-Forwarded-For", "198.51.100.77")
	if resp, err := http.DefaultClient.Do(req); err == nil {
		resp.Body.Close()
	}
	testenv.WaitFor(t, 5*time.Second, "the access log line", func() bool {
		return strings.Contains(f.srv.Stderr.String(), `"client_ip":"198.51.100.77"`)
	})
	resp, err := http.Get(f.srv.Base + "/metrics")
	if err != nil {
		t.Fatal(err)
	}
	body, _ := io.ReadAll(resp.Body)
	resp.Body.Close()
	for _, want := range []string{
		"entitle_seat_denials_total 49",
		`entitle_activations_total{method="license_key",result="ok"}`,
		`entitle_checkins_total{result="ok"}`,
		`entitle_http_requests_total{method="POST",route="POST /v1/activations",status="409"} 49`,
	} {
		if !strings.Contains(string(body), want) {
			t.Errorf("metrics lack %q", want)
		}
	}
}

// unknownKey returns a well-formed key (its check symbol is right) that no
// license has.
func unknownKey(t *testing.T) string {
	t.Helper()
	k, err := licensekey.Generate()
	if err != nil {
		t.Fatal(err)
	}
	return k
}

// badCheckKey changes the last symbol of a real key, so only the check
// symbol can tell the key was mistyped.
func badCheckKey(key string) string {
	last := key[len(key)-1]
	repl := licensekey.Alphabet[0]
	if last == repl {
		repl = licensekey.Alphabet[1]
	}
	return key[:len(key)-1] + string(repl)
}
