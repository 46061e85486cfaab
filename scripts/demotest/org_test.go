package demotest

import (
	"bytes"
	"encoding/json"
	"fmt"
	"html"
	"io"
	"net/http"
	"net/http/cookiejar"
	"net/url"
	"os/exec"
	"path/filepath"
	"regexp"
	"strings"
	"testing"
	"time"
)

// demoOrgOut is the organization part of `entitle-server demo --json`.
type demoOrgOut struct {
	Organization struct {
		ID    string `json:"id"`
		Name  string `json:"name"`
		Admin struct {
			Email    string `json:"email"`
			Password string `json:"password"`
		} `json:"admin"`
		Members []struct {
			Email string `json:"email"`
			Seat  bool   `json:"seat"`
		} `json:"members"`
		Workspaces []struct {
			ID   string `json:"id"`
			Name string `json:"name"`
			Mode string `json:"management_mode"`
		} `json:"workspaces"`
	} `json:"organization"`
	LicenseKey string `json:"license_key"`
}

var csrfField = regexp.MustCompile(`name="csrf" value="([^"]+)"`)

// TestRunDemoOrganization: `make run` seeds the demo organization (its
// owner, three members, a paid subscription with three seats taken, a
// workspace in each mode), enrolls the demo computer into it, prints the
// console's address and the sign-ins, and the admin signs in to the
// console's organization pages; seeding again changes nothing.
func TestRunDemoOrganization(t *testing.T) {
	bin := Bin(t)
	d := Start(t, bin, 0, 0)
	d.WaitReady(t, 120*time.Second)
	server := filepath.Join(bin, "entitle-server")
	db := "sqlite:" + filepath.Join(d.Dir, "server.db")
	cli := func(args ...string) []byte {
		t.Helper()
		out, err := exec.Command(server, append([]string{"--db", db}, args...)...).Output()
		if err != nil {
			t.Fatalf("entitle-server %v: %v", args, err)
		}
		return out
	}

	// Seeding again prints the same, in JSON and in words.
	first, second := cli("demo", "--json"), cli("demo", "--json")
	if !bytes.Equal(first, second) {
		t.Errorf("demo --json changed between runs:\n%s\n%s", first, second)
	}
	if a, b := cli("demo"), cli("demo"); !bytes.Equal(a, b) {
		t.Errorf("demo changed between runs:\n%s\n%s", a, b)
	}
	var demo demoOrgOut
	if err := json.Unmarshal(first, &demo); err != nil || demo.LicenseKey == "" {
		t.Fatalf("demo --json: %v\n%s", err, first)
	}
	org := demo.Organization
	if org.Name != "Cabinet Démo" || len(org.Members) != 3 || len(org.Workspaces) != 3 {
		t.Fatalf("demo organization: %+v", org)
	}

	out := d.Stdout.String()
	console := fmt.Sprintf("http://127.0.0.1:%d/login", d.ServerPort)
	for _, w := range []string{console, org.Admin.Email, org.Admin.Password, org.Members[2].Email} {
		if !strings.Contains(out, w) {
			t.Errorf("banner lacks %q:\n%s", w, out)
		}
	}

	var members struct {
		Items []struct{ Email, Role string } `json:"items"`
	}
	mustJSON(t, cli("org", "member", "list", org.ID, "--json"), &members)
	if len(members.Items) != 4 {
		t.Errorf("members: %+v, want the owner and three members", members.Items)
	}
	var subs struct {
		Items []struct{ Seats, Assigned int } `json:"items"`
	}
	mustJSON(t, cli("subscription", "list", "--org", org.ID, "--json"), &subs)
	if len(subs.Items) != 1 || subs.Items[0].Seats != 5 || subs.Items[0].Assigned != 3 {
		t.Errorf("subscriptions: %+v, want one of 5 seats with 3 assigned", subs.Items)
	}
	var devs struct {
		Items []struct {
			WorkspaceID string `json:"workspace_id"`
		} `json:"items"`
	}
	mustJSON(t, cli("device", "list", "--org", org.ID, "--json"), &devs)
	if len(devs.Items) != 1 || devs.Items[0].WorkspaceID != org.Workspaces[0].ID {
		t.Errorf("organization computers: %+v, want the demo computer in workspace %s", devs.Items, org.Workspaces[0].ID)
	}
	modes := map[string]bool{}
	for _, w := range org.Workspaces {
		modes[w.Mode] = true
	}
	if !modes["local_remote"] || !modes["local"] || !modes["remote"] {
		t.Errorf("workspace modes: %+v, want one of each", org.Workspaces)
	}

	// The admin signs in to the console and sees the organization.
	base := fmt.Sprintf("http://127.0.0.1:%d", d.ServerPort)
	c := signIn(t, base, org.Admin.Email, org.Admin.Password)
	for path, wants := range map[string][]string{
		"/orgs/" + org.ID + "/members":    {org.Members[0].Email, org.Members[1].Email, org.Members[2].Email},
		"/orgs/" + org.ID + "/workspaces": {org.Workspaces[0].Name, org.Workspaces[1].Name, org.Workspaces[2].Name},
	} {
		st, body := get(t, c, base+path)
		if st != 200 {
			t.Fatalf("GET %s as the admin: %d\n%s", path, st, body)
		}
		for _, w := range wants {
			if !strings.Contains(html.UnescapeString(body), w) {
				t.Errorf("GET %s lacks %q", path, w)
			}
		}
	}
}

func mustJSON(t *testing.T, b []byte, v any) {
	t.Helper()
	if err := json.Unmarshal(b, v); err != nil {
		t.Fatalf("%v:\n%s", err, b)
	}
}

// signIn signs in on the console's sign-in page as a browser does and
// returns the browser; it fails the test unless the sign-in succeeds.
func signIn(t *testing.T, base, email, password string) *http.Client {
	t.Helper()
	jar, err := cookiejar.New(nil)
	if err != nil {
		t.Fatal(err)
	}
	c := &http.Client{Jar: jar, Timeout: 10 * time.Second,
		CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }}
	_, body := get(t, c, base+"/login")
	m := csrfField.FindStringSubmatch(body)
	if m == nil {
		t.Fatalf("no CSRF token on /login:\n%s", body)
	}
	req, err := http.NewRequest("POST", base+"/login", strings.NewReader(url.Values{
		"csrf": {html.UnescapeString(m[1])}, "email": {email}, "password": {password}}.Encode()))
	if err != nil {
		t.Fatal(err)
	}
	req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	req.Header.Set("Origin", base)
	resp, err := c.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if resp.StatusCode != http.StatusSeeOther {
		t.Fatalf("POST /login as %s: %d, want 303", email, resp.StatusCode)
	}
	return c
}

func get(t *testing.T, c *http.Client, u string) (int, string) {
	t.Helper()
	resp, err := c.Get(u)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	return resp.StatusCode, string(b)
}
