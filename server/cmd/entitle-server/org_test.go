package main

import (
	"strings"
	"testing"

	"github.com/entitle/entitle/pkg/adminapi"
	"github.com/entitle/entitle/pkg/paging"
	"github.com/entitle/entitle/server/store"
	"github.com/entitle/entitle/server/store/storetest"
)

func TestOrgAndOperatorCommands(t *testing.T) {
	storetest.Each(t, func(t *testing.T, d store.Dialect) {
		t.Setenv("ENTITLE_LANG", "en")
		dsn := storetest.DSN(t, d)
		must := func(stdin string, args ...string) string {
			t.Helper()
			out, err := runIn(t, dsn, stdin, args...)
			if err != nil {
				t.Fatalf("%v: %v\n%s", args, err, out)
			}
			return out
		}
		decode := func(out string, v any) { t.Helper(); decodeJSON(t, out, v) }
		must("correct horse battery\n", "account", "create", "--email", "boss@acme.example", "--password-stdin")
		must("correct horse battery\n", "account", "create", "--email", "ann@acme.example", "--password-stdin")

		var org adminapi.OrgJSON
		decode(must("", "org", "create", "--name", "Acme", "--owner", "boss@acme.example", "--json"), &org)
		if org.ID == "" || org.Name != "Acme" {
			t.Fatalf("org create --json = %+v", org)
		}
		var orgs paging.Page[adminapi.OrgJSON]
		decode(must("", "org", "list", "--json"), &orgs)
		if orgs.Total != 1 || orgs.Items[0].ID != org.ID {
			t.Fatalf("org list --json = %+v", orgs)
		}
		if out := must("", "org", "show", org.ID); !strings.Contains(out, "Acme") {
			t.Fatalf("org show = %s", out)
		}

		// Members at an unapproved domain are refused, in words.
		out, err := runIn(t, dsn, "", "org", "member", "add", org.ID, "--email", "ann@acme.example")
		if err == nil || !strings.Contains(err.Error(), "not approved") {
			t.Fatalf("member add before approval: %v\n%s", err, out)
		}
		var dom adminapi.DomainJSON
		decode(must("", "org", "domain", "approve", org.ID, "ACME.example", "--json"), &dom)
		if dom.Domain != "acme.example" || dom.Status != "verified" || dom.Method != "operator" {
			t.Fatalf("domain approve --json = %+v", dom)
		}
		var m adminapi.MemberJSON
		decode(must("", "org", "member", "add", org.ID, "--email", "ann@acme.example", "--role", "admin", "--json"), &m)
		if m.Email != "ann@acme.example" || m.Role != "admin" {
			t.Fatalf("member add --json = %+v", m)
		}
		var members paging.Page[adminapi.MemberJSON]
		decode(must("", "org", "member", "list", org.ID, "--limit", "1", "--json"), &members)
		if members.Total != 2 || len(members.Items) != 1 || members.NextCursor == "" {
			t.Fatalf("member list --limit 1 = %+v", members)
		}
		decode(must("", "org", "member", "list", org.ID, "--cursor", members.NextCursor, "--json"), &members)
		if len(members.Items) != 1 || members.Items[0].Email != "ann@acme.example" {
			t.Fatalf("member list page 2 = %+v", members)
		}
		if _, err := runIn(t, dsn, "", "org", "member", "list", "org_missing"); err == nil {
			t.Fatal("member list of a missing organization succeeded")
		}

		var tok adminapi.OperatorTokenJSON
		decode(must("", "operator", "token", "create", "--name", "ci", "--json"), &tok)
		if !strings.HasPrefix(tok.Token, "eop_") || tok.ID == "" {
			t.Fatalf("token create --json = %+v", tok)
		}
		var toks []adminapi.OperatorTokenJSON
		decode(must("", "operator", "token", "list", "--json"), &toks)
		if len(toks) != 1 || toks[0].Token != "" || toks[0].Revoked != nil {
			t.Fatalf("token list --json = %+v (the secret must not be listed)", toks)
		}
		must("", "operator", "token", "revoke", tok.ID)
		decode(must("", "operator", "token", "list", "--json"), &toks)
		if toks[0].Revoked == nil {
			t.Fatalf("revoked token listed as %+v", toks[0])
		}

		// French words.
		t.Setenv("ENTITLE_LANG", "fr")
		if out := must("", "org", "domain", "approve", org.ID, "other.example"); !strings.Contains(out, "domaine other.example approuvé") {
			t.Fatalf("French output = %q", out)
		}
		if out := must("", "org", "member", "list", org.ID); !strings.Contains(out, "propriétaire") || !strings.Contains(out, "RÔLE") {
			t.Fatalf("French member list = %q", out)
		}
	})
}
