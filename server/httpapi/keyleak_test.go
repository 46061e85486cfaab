package httpapi_test

import (
	"github.com/entitle/entitle/pkg/accountapi"
	"github.com/entitle/entitle/server/accounts"
	"github.com/entitle/entitle/server/app"
	"github.com/entitle/entitle/server/app/apptest"
	"github.com/entitle/entitle/server/httpapi"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/entitle/entitle/pkg/licensekey"
	"github.com/entitle/entitle/pkg/protocol"
	"github.com/entitle/entitle/server/httpapi/apitest"
	"github.com/entitle/entitle/server/store"
	"github.com/entitle/entitle/server/store/storetest"
)

// A failed activation with an unknown key (or a mistyped one) shows only a
// masked form of the key, in the error body and in everything the server
// logs; a failed password activation logs no password.
func TestActivationErrorsDoNotLeakSecrets(t *testing.T) {
	storetest.Each(t, func(t *testing.T, d store.Dialect) {
		e := apitest.Start(t, d)
		e.Account(t, "owner@example.com", "correct horse battery", 1, time.Now().AddDate(1, 0, 0))
		key, err := licensekey.Generate()
		if err != nil {
			t.Fatal(err)
		}
		norm, err := licensekey.Normalize(key)
		if err != nil {
			t.Fatal(err)
		}
		// The same key with its last symbol changed fails its check symbol.
		last := norm[len(norm)-1]
		alt := byte('0')
		if last == '0' {
			alt = '1'
		}
		mistyped := norm[:len(norm)-1] + string(alt)
		for _, k := range []string{key, mistyped} {
			var pe protocol.Error
			status := e.Do(t, "POST", protocol.PathActivations, "", activation(k, "host-a"), &pe)
			if status != 404 && status != 400 {
				t.Fatalf("activate %s: status %d (%+v)", licensekey.Mask(k), status, pe)
			}
			if pe.Message == "" {
				t.Fatalf("no message (%+v)", pe)
			}
			assertNoKey(t, "error body", pe.Message, k)
		}
		var pe protocol.Error
		status := e.Do(t, "POST", protocol.PathActivations, "", protocol.ActivateRequest{
			Method: protocol.MethodPassword, Email: "owner@example.com", Password: "wrong password secret",
			Fingerprint: apitest.Fingerprint("host-b"), Product: "entitle",
			Device: protocol.DeviceFacts{Hostname: "host-b", OS: "linux", Arch: "amd64", AgentVersion: "test"},
		}, &pe)
		if status != 401 {
			t.Fatalf("password activation: status %d (%+v)", status, pe)
		}
		logs := e.Logs.String()
		if logs == "" {
			t.Fatal("the server logged nothing; the check below would prove nothing")
		}
		assertNoKey(t, "server log", logs, key)
		assertNoKey(t, "server log", logs, mistyped)
		if strings.Contains(logs, "wrong password secret") {
			t.Fatal("the server log carries a password")
		}
	})
}

func assertNoKey(t *testing.T, where, text, key string) {
	t.Helper()
	norm := strings.ReplaceAll(strings.ToUpper(key), "-", "")
	flat := strings.ReplaceAll(strings.ToUpper(text), "-", "")
	if strings.Contains(flat, norm) {
		t.Fatalf("%s carries the whole key: %s", where, text)
	}
	// A prefix long enough to narrow a guess is not shown either.
	if strings.Contains(flat, norm[:10]) {
		t.Fatalf("%s carries the key's first ten symbols: %s", where, text)
	}
}

// 50 simultaneous correct sign-ins of one account from one address all
// succeed over real HTTP: attempts in flight are not failures (issue 16
// item 10).
func TestConcurrentCorrectSignInsAllSucceed(t *testing.T) {
	storetest.Each(t, func(t *testing.T, d store.Dialect) {
		// A cheap hash and a long queue wait, so a slow (race-instrumented,
		// shared) machine makes sign-ins wait, never refuses them: this test
		// is about the failure limits, not the hash gate.
		e := apitest.StartWith(t, d, func(c *app.Config) {
			c.PasswordHash = apptest.CheapArgon()
			c.PasswordWork = accounts.HashLimit{Wait: 5 * time.Minute}
		})
		e.Account(t, "owner@example.com", "correct horse battery", 1, time.Now().AddDate(1, 0, 0))
		var wg sync.WaitGroup
		statuses := make([]int, 50)
		for i := range statuses {
			wg.Add(1)
			go func() {
				defer wg.Done()
				statuses[i] = e.Do(t, "POST", httpapi.PathSessions, "", accountapi.SessionRequest{Email: "owner@example.com", Password: "correct horse battery"}, nil)
			}()
		}
		wg.Wait()
		for i, s := range statuses {
			if s != 201 {
				t.Fatalf("sign-in %d: status %d; all: %v", i, s, statuses)
			}
		}
	})
}
