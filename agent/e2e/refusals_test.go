package e2e

import (
	"bytes"
	"encoding/json"
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/entitle/entitle/pkg/agentapi"
	"github.com/entitle/entitle/pkg/licensekey"
)

// Issue 13, item 6, end to end: the real server's refusals reach a program
// calling the real agent's local API with their own status and code; before,
// every one of them was 502 server_error.
func TestRefusalsThroughRealAgent(t *testing.T) {
	w := newWorld(t)
	stateDir := filepath.Join(t.TempDir(), "state")
	a := w.startAgent(stateDir)
	tok, err := os.ReadFile(filepath.Join(stateDir, agentapi.TokenFile))
	if err != nil {
		t.Fatal(err)
	}
	activate := func(body string) (int, agentapi.Error) {
		req, _ := http.NewRequest("POST", "http://"+a.addr+agentapi.PathActivation, bytes.NewReader([]byte(body)))
		req.Header.Set("Content-Type", "application/json")
		req.Header.Set(agentapi.TokenHeader, strings.TrimSpace(string(tok)))
		c := &http.Client{Timeout: 30 * time.Second}
		resp, err := c.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		defer resp.Body.Close()
		var e agentapi.Error
		json.NewDecoder(resp.Body).Decode(&e)
		return resp.StatusCode, e
	}
	unknown, _ := licensekey.Generate()
	if st, e := activate(`{"method":"license_key","license_key":"` + unknown + `"}`); st != 404 || e.Code != agentapi.ErrUnknownLicense || strings.Contains(e.Message, unknown) {
		t.Fatalf("unknown key: %d %+v", st, e)
	}
	wrong := `{"method":"password","email":"` + w.email + `","password":"not-the-password"}`
	if st, e := activate(wrong); st != 401 || e.Code != agentapi.ErrInvalidCredentials {
		t.Fatalf("wrong password: %d %+v", st, e)
	}
	locked := false
	for i := 0; i < 50 && !locked; i++ {
		st, e := activate(wrong)
		switch {
		case st == 429 && e.Code == agentapi.ErrRateLimited:
			locked = true
		case st != 401 || e.Code != agentapi.ErrInvalidCredentials:
			t.Fatalf("attempt %d: %d %+v", i+2, st, e)
		}
	}
	if !locked {
		t.Fatal("no lockout (429 rate_limited) after 50 wrong passwords")
	}
}
