package main

import (
	"bytes"
	"context"
	"encoding/csv"
	"encoding/json"
	"errors"
	"log/slog"
	"os"
	"os/exec"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/entitle/entitle/pkg/accountapi"
	"github.com/entitle/entitle/pkg/paging"
	"github.com/entitle/entitle/pkg/testenv"
	"github.com/entitle/entitle/server/journal"
	"github.com/entitle/entitle/server/store"
	"github.com/entitle/entitle/server/store/storetest"
)

var (
	serverBinOnce sync.Once
	serverBinPath string
)

// serverBinary builds the real entitle-server once per test process.
func serverBinary(t *testing.T) string {
	t.Helper()
	serverBinOnce.Do(func() { serverBinPath = testenv.BuildBinary(t, "./server/cmd/entitle-server") })
	if serverBinPath == "" {
		t.Fatal("entitle-server was not built")
	}
	return serverBinPath
}

// runBin runs the real binary and returns stdout, stderr and the exit code.
func runBin(t *testing.T, bin, dsn string, env []string, args ...string) (string, string, int) {
	t.Helper()
	cmd := exec.Command(bin, append(args, "--db", dsn)...)
	cmd.Env = append(append(os.Environ(), "LANG=C", "LC_ALL=", "LC_MESSAGES=", "ENTITLE_LANG="), env...)
	var out, errb bytes.Buffer
	cmd.Stdout, cmd.Stderr = &out, &errb
	err := cmd.Run()
	code := 0
	if ee, ok := errors.AsType[*exec.ExitError](err); ok {
		code = ee.ExitCode()
	} else if err != nil {
		t.Fatalf("run entitle-server: %v", err)
	}
	return out.String(), errb.String(), code
}

// TestJournalCommands drives journal verify, list and export through the
// real binary on each database, then edits a row behind the server's back:
// verify must exit 1 and name the row, and an untouched chain still passes.
func TestJournalCommands(t *testing.T) {
	bin := serverBinary(t)
	storetest.Each(t, func(t *testing.T, d store.Dialect) {
		dsn := storetest.DSN(t, d)
		if out, err := runIn(t, dsn, "correct horse battery\n", "account", "create", "--email", "cmd@example.com", "--password-stdin"); err != nil {
			t.Fatalf("account create: %v\n%s", err, out)
		}
		ctx := context.Background()
		db, err := store.Open(ctx, dsn, slog.New(slog.DiscardHandler))
		if err != nil {
			t.Fatal(err)
		}
		defer db.Close()
		rctx := journal.WithRequest(ctx, journal.Request{IP: "203.0.113.5", UserAgent: "=HYPERLINK(\"x\")", RequestID: "req-cli"})
		for i, org := range []string{"org_a", "org_a", "org_a", "org_b"} {
			if err := db.InTx(ctx, func(tx *store.Tx) error {
				return journal.Record(rctx, tx, journal.Entry{At: time.Now().Add(time.Duration(i) * time.Millisecond), Actor: "account:acc_x",
					Action: "member.add", Target: "t", Organization: org})
			}); err != nil {
				t.Fatal(err)
			}
		}

		out, stderr, code := runBin(t, bin, dsn, nil, "journal", "verify")
		// account.create and the first signing key (key.add) are server-wide rows.
		if code != 0 || !strings.Contains(out, "org_a: 3 rows, intact") || !strings.Contains(out, "personal accounts and server: 2 rows, intact") {
			t.Fatalf("verify of an intact journal: exit %d\n%s%s", code, out, stderr)
		}
		out, _, code = runBin(t, bin, dsn, []string{"ENTITLE_LANG=fr"}, "journal", "verify", "--org", "org_a")
		if code != 0 || !strings.Contains(out, "org_a\u00a0: 3 lignes, intactes") {
			t.Errorf("verify in French: exit %d\n%s", code, out)
		}

		out, stderr, code = runBin(t, bin, dsn, nil, "journal", "list", "--json", "--org", "org_a", "--limit", "2")
		var page paging.Page[accountapi.JournalEntry]
		if code != 0 || json.Unmarshal([]byte(out), &page) != nil || page.Total != 3 || len(page.Items) != 2 || page.NextCursor == "" ||
			page.Items[0].Seq != 3 || page.Items[0].IP != "203.0.113.5" || page.Items[0].RequestID != "req-cli" {
			t.Fatalf("list --json: exit %d %+v\n%s%s", code, page, out, stderr)
		}
		out, _, code = runBin(t, bin, dsn, nil, "journal", "list", "--json", "--org", "org_a", "--limit", "2", "--cursor", page.NextCursor)
		var next paging.Page[accountapi.JournalEntry]
		if code != 0 || json.Unmarshal([]byte(out), &next) != nil || len(next.Items) != 1 || next.Items[0].Seq != 1 || next.NextCursor != "" {
			t.Errorf("second page: exit %d\n%s", code, out)
		}
		out, _, code = runBin(t, bin, dsn, nil, "journal", "list", "--action", "account.*")
		if code != 0 || !strings.Contains(out, "account.create") || strings.Contains(out, "member.add") || !strings.Contains(out, "1 row in all") {
			t.Errorf("list --action account.*: exit %d\n%s", code, out)
		}
		if _, stderr, code = runBin(t, bin, dsn, nil, "journal", "list", "--since", "yesterday"); code != 1 || !strings.Contains(stderr, "RFC 3339") {
			t.Errorf("list with a bad time: exit %d %s", code, stderr)
		}

		out, stderr, code = runBin(t, bin, dsn, nil, "journal", "export", "--format", "csv")
		recs, err := csv.NewReader(strings.NewReader(out)).ReadAll()
		if code != 0 || err != nil || len(recs) != 7 || recs[0][0] != "at" || !strings.Contains(out, "\r\n") {
			t.Fatalf("export: exit %d, %v, %d records\n%s%s", code, err, len(recs), out, stderr)
		}
		for _, rec := range recs[1:] {
			for _, cell := range rec {
				if cell != "" && strings.ContainsRune("=+-@", rune(cell[0])) {
					t.Errorf("export cell %q would run as a formula", cell)
				}
			}
		}
		if !strings.Contains(out, `'=HYPERLINK`) {
			t.Errorf("export did not neutralize formulas:\n%s", out)
		}
		if _, stderr, code = runBin(t, bin, dsn, nil, "journal", "export", "--format", "xlsx"); code != 1 || !strings.Contains(stderr, "csv") {
			t.Errorf("export --format xlsx: exit %d %s", code, stderr)
		}

		// Edit a row in the database: verify names it and exits 1.
		if _, err := db.Exec(ctx, "UPDATE audit_events SET ip = '198.51.100.66' WHERE organization_id = 'org_a' AND seq = 2"); err != nil {
			t.Fatal(err)
		}
		out, stderr, code = runBin(t, bin, dsn, nil, "journal", "verify")
		if code != 1 || !strings.Contains(out, "org_a: broken at row 2: the row was changed") || !strings.Contains(stderr, "1 journal chain was changed") {
			t.Errorf("verify after an edit: exit %d\n%s%s", code, out, stderr)
		}
		out, _, code = runBin(t, bin, dsn, nil, "journal", "verify", "--json")
		var rep struct {
			OK     bool                  `json:"ok"`
			Chains []journal.ChainReport `json:"chains"`
		}
		if code != 1 || json.Unmarshal([]byte(out), &rep) != nil || rep.OK {
			t.Errorf("verify --json after an edit: exit %d\n%s", code, out)
		}
		if _, _, code = runBin(t, bin, dsn, nil, "journal", "verify", "--org", "org_b"); code != 0 {
			t.Errorf("verify --org org_b (untouched): exit %d", code)
		}
		// Deleting a row breaks it too.
		if _, err := db.Exec(ctx, "DELETE FROM audit_events WHERE organization_id = 'org_b'"); err != nil {
			t.Fatal(err)
		}
		if out, _, code = runBin(t, bin, dsn, nil, "journal", "verify", "--org", "org_b"); code != 1 || !strings.Contains(out, "newest rows") {
			t.Errorf("verify --org org_b after a delete: exit %d\n%s", code, out)
		}
	})
}
