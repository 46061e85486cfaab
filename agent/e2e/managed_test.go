package e2e

import (
	"bytes"
	"crypto/rand"
	"encoding/hex"
	"encoding/json"
	"errors"
	"net/http"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/entitle/entitle/pkg/agentapi"
	"github.com/entitle/entitle/pkg/protocol"
)

// createLicense makes a license for the demo account with the given
// management mode through the admin command, and returns its key.
func (w *world) createLicense(mode string, seats int) string {
	w.t.Helper()
	out, err := run(w.t, "", w.serverBin, "license", "create", "--owner", w.email, "--plan", "Team", "--features", "sign",
		"--seats", strconv.Itoa(seats), "--management-mode", mode, "--json", "--db", w.db)
	if err != nil {
		w.t.Fatal(err)
	}
	var lic struct {
		Key            string `json:"key"`
		ManagementMode string `json:"management_mode"`
	}
	if err := json.Unmarshal([]byte(out), &lic); err != nil || lic.Key == "" || lic.ManagementMode != mode {
		w.t.Fatalf("license create: %q: %v", out, err)
	}
	return lic.Key
}

// api calls the server's /v1 API and decodes a JSON answer into out.
func (w *world) api(method, path, bearer string, body, out any) int {
	w.t.Helper()
	var rd bytes.Buffer
	if body != nil {
		json.NewEncoder(&rd).Encode(body)
	}
	req, err := http.NewRequest(method, w.serverURL+path, &rd)
	if err != nil {
		w.t.Fatal(err)
	}
	req.Header.Set("Content-Type", "application/json")
	if bearer != "" {
		req.Header.Set("Authorization", "Bearer "+bearer)
	}
	resp, err := (&http.Client{Timeout: 10 * time.Second}).Do(req)
	if err != nil {
		w.t.Fatal(err)
	}
	defer resp.Body.Close()
	if out != nil {
		json.NewDecoder(resp.Body).Decode(out)
	}
	return resp.StatusCode
}

// TestRemoteManagedLicense: on a license managed remotely the person cannot
// deactivate the computer (agent and server both refuse); the owner releases
// it from the account API and the agent turns inactive.
func TestRemoteManagedLicense(t *testing.T) {
	w := newWorld(t)
	key := w.createLicense("remote", 2)
	a := w.startAgent(filepath.Join(t.TempDir(), "state"))
	if _, err := a.cli("", "activate", "--license-key", key); err != nil {
		t.Fatal(err)
	}

	var ent map[string]any
	if code := getJSON(t, "http://"+a.addr+agentapi.PathEntitlement, &ent); code != http.StatusOK ||
		ent["management_mode"] != "remote" || ent["entitled"] != true {
		t.Fatalf("entitlement: %d %v", code, ent)
	}
	st := a.status()
	wantNote := "managed remotely by " + w.email + "; ask your administrator"
	if st.DeactivateOK || st.DeactivateNote != wantNote || st.DeactivateNoteCode != agentapi.NoteManagedRemotely || st.Organization != w.email {
		t.Fatalf("status: deactivate_allowed %v, note %q, organization %q; want false, %q, %q",
			st.DeactivateOK, st.DeactivateNote, st.Organization, wantNote, w.email)
	}

	_, err := a.cli("", "deactivate", "--yes")
	var exit *exec.ExitError
	wantCLI := w.email + " manages this computer remotely: only " + w.email + " can release its seat"
	if !errors.As(err, &exit) || exit.ExitCode() == 0 || !strings.Contains(err.Error(), wantCLI) {
		t.Fatalf("entitle deactivate --yes: %v; want a non-zero exit saying %q", err, wantCLI)
	}
	if st := a.status(); !st.Activated || !st.Entitlement.Entitled {
		t.Fatalf("after the refused deactivation: %+v", st.Entitlement)
	}

	// The server refuses too, should an agent ignore the lease: a second
	// computer activated through the API cannot deactivate itself.
	fpr := make([]byte, 32)
	rand.Read(fpr)
	var act struct {
		Credential string `json:"credential"`
	}
	if code := w.api("POST", protocol.PathActivations, "", map[string]any{"method": protocol.MethodLicenseKey, "license_key": key,
		"fingerprint": hex.EncodeToString(fpr), "product": "entitle-signing"}, &act); (code != http.StatusOK && code != http.StatusCreated) || act.Credential == "" {
		t.Fatalf("activate through the API: %d", code)
	}
	var refusal struct{ Error, Message string }
	if code := w.api("DELETE", protocol.PathDevice, act.Credential, nil, &refusal); code != http.StatusForbidden ||
		refusal.Error != protocol.ErrManagedRemotely || !strings.Contains(refusal.Message, w.email) {
		t.Fatalf("DELETE /v1/device: %d %+v; want 403 managed_remotely", code, refusal)
	}

	// The owner releases the computer from the account API.
	var session struct {
		Token string `json:"token"`
	}
	if code := w.api("POST", "/v1/sessions", "", map[string]string{"email": w.email, "password": w.password}, &session); code != http.StatusCreated || session.Token == "" {
		t.Fatalf("POST /v1/sessions: %d", code)
	}
	if code := w.api("DELETE", "/v1/account/devices/"+st.Entitlement.DeviceID, session.Token, nil, nil); code != http.StatusNoContent {
		t.Fatalf("DELETE /v1/account/devices/%s: %d", st.Entitlement.DeviceID, code)
	}
	a.cli("", "check") // reports the revocation; the state is what matters
	st = a.waitState(10*time.Second, agentapi.StateInactive)
	if st.Activated || st.Entitlement.Entitled {
		t.Fatalf("after the owner's release: %+v", st.Entitlement)
	}
}

func getJSON(t *testing.T, url string, out any) int {
	t.Helper()
	resp, err := (&http.Client{Timeout: 10 * time.Second}).Get(url)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	if err := json.NewDecoder(resp.Body).Decode(out); err != nil {
		t.Fatalf("GET %s: %v", url, err)
	}
	return resp.StatusCode
}
