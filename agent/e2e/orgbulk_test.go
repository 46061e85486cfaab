package e2e

import (
	"context"
	"encoding/json"
	"net/http"
	"path/filepath"
	"testing"
	"time"

	"github.com/entitle/entitle/pkg/accountapi"
	"github.com/entitle/entitle/pkg/adminapi"
	"github.com/entitle/entitle/pkg/agentapi"
	"github.com/entitle/entitle/pkg/paging"
	"github.com/entitle/entitle/pkg/protocol"
	"github.com/entitle/entitle/pkg/testenv"
	"github.com/entitle/entitle/server/store"
)

// orgLicense makes an organization owned by the world's person and a
// license of it (the row an assigned seat is: licenses.organization_id
// set), managed remotely; it returns the organization's id and the key.
func (w *world) orgLicense(seats int) (string, string) {
	w.t.Helper()
	out, err := run(w.t, "", w.serverBin, "org", "create", "--name", "Acme", "--owner", w.email, "--json", "--db", w.db)
	if err != nil {
		w.t.Fatal(err)
	}
	var org adminapi.OrgJSON
	if err := json.Unmarshal([]byte(out), &org); err != nil || org.ID == "" {
		w.t.Fatalf("org create: %q: %v", out, err)
	}
	out, err = run(w.t, "", w.serverBin, "license", "create", "--owner", w.email, "--plan", "Team", "--features", "sign",
		"--seats", "2", "--management-mode", "remote", "--json", "--db", w.db)
	if err != nil {
		w.t.Fatal(err)
	}
	var lic struct{ ID, Key string }
	if err := json.Unmarshal([]byte(out), &lic); err != nil || lic.ID == "" {
		w.t.Fatalf("license create: %q: %v", out, err)
	}
	ctx := context.Background()
	db, err := store.Open(ctx, w.db, nil)
	if err != nil {
		w.t.Fatal(err)
	}
	defer db.Close()
	if _, err := db.Exec(ctx, "UPDATE licenses SET organization_id = ? WHERE id = ?", org.ID, lic.ID); err != nil {
		w.t.Fatal(err)
	}
	return org.ID, lic.Key
}

// commandOf is deviceID's one command of type typ, from the organization's
// route.
func (w *world) commandOf(tok, org, deviceID, typ string) (accountapi.CommandJSON, bool) {
	w.t.Helper()
	var page paging.Page[accountapi.CommandJSON]
	if code := w.api("GET", "/v1/orgs/"+org+"/devices/"+deviceID+"/commands", tok, nil, &page); code != http.StatusOK {
		w.t.Fatalf("list commands: %d", code)
	}
	for _, c := range page.Items {
		if c.Type == typ {
			return c, true
		}
	}
	return accountapi.CommandJSON{}, false
}

// TestOrgBulkCommandReachesTwoComputers: two real agents, each in its own
// machine namespace (its own machine id, so its own fingerprint), on one
// license of an organization. The organization's admin sends one bulk
// show_message: it reaches both over their push streams (check-ins are an
// hour apart) and each command goes pending -> delivered -> succeeded. A
// bulk deactivate then frees both seats, and both computers learn it at once.
func TestOrgBulkCommandReachesTwoComputers(t *testing.T) {
	testenv.RequireRoot(t)
	testenv.LookPath(t, "unshare")
	w := newWorld(t)
	w.slowServer()
	org, key := w.orgLicense(2)
	agents := []*agent{
		migStartOtherComputer(t, w, filepath.Join(t.TempDir(), "state"), "11111111111111111111111111111111"),
		migStartOtherComputer(t, w, filepath.Join(t.TempDir(), "state"), "22222222222222222222222222222222"),
	}
	var ids []string
	for _, a := range agents {
		if _, err := a.cli("", "activate", "--license-key", key); err != nil {
			t.Fatal(err)
		}
		a.waitDelivery(15*time.Second, agentapi.DeliveryStream)
		ids = append(ids, a.status().Entitlement.DeviceID)
	}
	if ids[0] == ids[1] {
		t.Fatalf("the two computers share device %s: the namespaces did not give them their own machine ids", ids[0])
	}
	tok := w.session()
	var list paging.Page[adminapi.OrgDeviceJSON]
	if code := w.api("GET", "/v1/orgs/"+org+"/devices?status=online", tok, nil, &list); code != http.StatusOK || list.Total != 2 {
		t.Fatalf("organization devices: %d %+v", code, list)
	}
	for _, d := range list.Items {
		if !d.Connected {
			t.Errorf("device %s: not connected to the push stream", d.ID)
		}
	}

	bulk := func(typ string, args map[string]string, key string) adminapi.BulkCommandResponse {
		t.Helper()
		var out adminapi.BulkCommandResponse
		if code := w.api("POST", "/v1/orgs/"+org+"/commands", tok, adminapi.BulkCommandRequest{DeviceIDs: ids, Type: typ, Args: args,
			IdempotencyKey: key}, &out); code != http.StatusCreated || out.Queued != 2 {
			t.Fatalf("bulk %s: %d %+v", typ, code, out)
		}
		return out
	}
	sent := time.Now()
	bulk(protocol.CmdShowMessage, map[string]string{"message": "Maintenance ce soir à 18 h"}, "e2e-message")
	for _, id := range ids {
		c, ok := w.commandOf(tok, org, id, protocol.CmdShowMessage)
		if !ok {
			t.Fatalf("device %s: no show_message command", id)
		}
		t.Logf("device %s: show_message %s right after the request", id, c.Status)
		testenv.WaitFor(t, 5*time.Second, "show_message succeeded on "+id, func() bool {
			c, _ = w.commandOf(tok, org, id, protocol.CmdShowMessage)
			return c.Status == protocol.CommandSucceeded
		})
		if c.DeliveredAt == nil || c.CompletedAt == nil || c.DeliveredAt.Before(c.CreatedAt) || c.CompletedAt.Before(*c.DeliveredAt) {
			t.Errorf("device %s: lifecycle created %s, delivered %v, completed %v", id, c.CreatedAt, c.DeliveredAt, c.CompletedAt)
		}
	}
	if took := time.Since(sent); took > 5*time.Second {
		t.Errorf("both computers reported after %s; over the push stream it takes about a second", took)
	}
	// A retry of the request changes nothing.
	var again adminapi.BulkCommandResponse
	if code := w.api("POST", "/v1/orgs/"+org+"/commands", tok, adminapi.BulkCommandRequest{DeviceIDs: ids, Type: protocol.CmdShowMessage,
		Args: map[string]string{"message": "Maintenance ce soir à 18 h"}, IdempotencyKey: "e2e-message"}, &again); code != http.StatusOK || !again.Replayed {
		t.Fatalf("retry: %d %+v", code, again)
	}

	bulk(protocol.CmdDeactivate, nil, "e2e-deactivate")
	for _, a := range agents {
		a.within(2*time.Second, agentapi.StateInactive)
	}
	for _, id := range ids {
		if c, ok := w.commandOf(tok, org, id, protocol.CmdDeactivate); !ok || c.Status != protocol.CommandSucceeded {
			t.Errorf("device %s: deactivate %+v", id, c)
		}
	}
	if code := w.api("GET", "/v1/orgs/"+org+"/devices?status=deactivated", tok, nil, &list); code != http.StatusOK || list.Total != 2 {
		t.Errorf("deactivated devices: %d %+v", code, list)
	}
}
