package journal_test

import (
	"context"
	"fmt"
	"sync"
	"testing"
	"time"

	"github.com/entitle/entitle/server/journal"
	"github.com/entitle/entitle/server/store"
	"github.com/entitle/entitle/server/store/storetest"
)

// fill writes n rows in org (one transaction each).
func fill(t *testing.T, db *store.DB, org string, n int) {
	t.Helper()
	ctx := journal.WithRequest(context.Background(), journal.Request{IP: "198.51.100.1", UserAgent: "test", RequestID: "r"})
	for i := 1; i <= n; i++ {
		record(t, db, ctx, journal.Entry{At: time.UnixMilli(int64(1_900_000_000_000 + i)), Actor: "admin", Action: "test.row",
			Target: fmt.Sprintf("t%d", i), Organization: org, Details: map[string]any{"i": i}})
	}
}

// forge inserts a row whose own hash is right (as an attacker who knows the
// encoding would write it), linked to prev.
func forge(t *testing.T, db *store.DB, org string, seq int64, prev string) {
	t.Helper()
	r := journal.Row{Organization: org, Seq: seq, At: time.UnixMilli(1_900_000_000_100), Actor: "admin", Action: "forged", Details: "{}", PrevHash: prev}
	r.Hash = journal.Hash(r)
	if _, err := db.Exec(context.Background(), `INSERT INTO audit_events (organization_id, seq, at, actor, account_id, action, subject, ip, user_agent,
		request_id, detail, prev_hash, hash) VALUES (?, ?, ?, ?, '', ?, '', '', '', '', ?, ?, ?)`,
		r.Organization, r.Seq, store.Millis(r.At), r.Actor, r.Action, r.Details, r.PrevHash, r.Hash); err != nil {
		t.Fatal(err)
	}
}

func hashAt(t *testing.T, db *store.DB, org string, seq int64) string {
	t.Helper()
	var h string
	if err := db.QueryRow(context.Background(), "SELECT hash FROM audit_events WHERE organization_id = ? AND seq = ?", org, seq).Scan(&h); err != nil {
		t.Fatal(err)
	}
	return h
}

// TestVerifyDetectsTampering changes the database behind the server's back,
// one way per case, and checks that Verify names the first broken row and
// leaves the other organization's chain intact.
func TestVerifyDetectsTampering(t *testing.T) {
	exec := func(q string, args ...any) func(*testing.T, *store.DB) {
		return func(t *testing.T, db *store.DB) {
			if _, err := db.Exec(context.Background(), q, args...); err != nil {
				t.Fatal(err)
			}
		}
	}
	tests := []struct {
		name   string
		tamper func(*testing.T, *store.DB)
		kind   string
		seq    int64
	}{
		{"untouched", func(*testing.T, *store.DB) {}, "", 0},
		{"actor edited", exec("UPDATE audit_events SET actor = 'someone' WHERE organization_id = 'org_a' AND seq = 3"), journal.BreakEdited, 3},
		{"ip edited", exec("UPDATE audit_events SET ip = '203.0.113.9' WHERE organization_id = 'org_a' AND seq = 2"), journal.BreakEdited, 2},
		{"details edited", exec(`UPDATE audit_events SET detail = '{"i":99}' WHERE organization_id = 'org_a' AND seq = 4`), journal.BreakEdited, 4},
		{"time edited", exec("UPDATE audit_events SET at = at + 1 WHERE organization_id = 'org_a' AND seq = 1"), journal.BreakEdited, 1},
		{"edited and rehashed", func(t *testing.T, db *store.DB) {
			// The attacker recomputes the row's own hash: the next row's
			// link no longer matches.
			exec("UPDATE audit_events SET actor = 'someone' WHERE organization_id = 'org_a' AND seq = 3")(t, db)
			rows, _ := journal.List(context.Background(), db, journal.Filter{Organization: "org_a", Action: "test.row"})
			for _, r := range rows.Items {
				if r.Seq == 3 {
					exec("UPDATE audit_events SET hash = ? WHERE id = ?", journal.Hash(r), r.ID)(t, db)
				}
			}
		}, journal.BreakInserted, 4},
		{"row deleted", exec("DELETE FROM audit_events WHERE organization_id = 'org_a' AND seq = 3"), journal.BreakDeleted, 3},
		{"first row deleted", exec("DELETE FROM audit_events WHERE organization_id = 'org_a' AND seq = 1"), journal.BreakDeleted, 1},
		{"last row deleted", exec("DELETE FROM audit_events WHERE organization_id = 'org_a' AND seq = 5"), journal.BreakTruncated, 5},
		{"rows reordered", func(t *testing.T, db *store.DB) {
			exec("UPDATE audit_events SET seq = 100 WHERE organization_id = 'org_a' AND seq = 2")(t, db)
			exec("UPDATE audit_events SET seq = 2 WHERE organization_id = 'org_a' AND seq = 3")(t, db)
			exec("UPDATE audit_events SET seq = 3 WHERE organization_id = 'org_a' AND seq = 100")(t, db)
		}, journal.BreakEdited, 2},
		{"row inserted past the head", func(t *testing.T, db *store.DB) { forge(t, db, "org_a", 6, hashAt(t, db, "org_a", 5)) }, journal.BreakInserted, 6},
		{"row replaced with a forged one", func(t *testing.T, db *store.DB) {
			exec("DELETE FROM audit_events WHERE organization_id = 'org_a' AND seq = 3")(t, db)
			forge(t, db, "org_a", 3, "0000")
		}, journal.BreakInserted, 3},
		{"row inserted into the chain", func(t *testing.T, db *store.DB) {
			// Shift rows 3..5 up and put a well-linked forged row at 3.
			for seq := 5; seq >= 3; seq-- {
				exec("UPDATE audit_events SET seq = ? WHERE organization_id = 'org_a' AND seq = ?", seq+1, seq)(t, db)
			}
			forge(t, db, "org_a", 3, hashAt(t, db, "org_a", 2))
		}, journal.BreakEdited, 4},
		{"row moved to another organization", exec("UPDATE audit_events SET organization_id = 'org_b', seq = 6 WHERE organization_id = 'org_a' AND seq = 2"), journal.BreakDeleted, 2},
		{"head edited", exec("UPDATE journal_heads SET hash = 'ff' WHERE organization_id = 'org_a'"), journal.BreakHead, 5},
		{"head deleted", exec("DELETE FROM journal_heads WHERE organization_id = 'org_a'"), journal.BreakHead, 1},
		{"head rewound", exec("UPDATE journal_heads SET seq = 4 WHERE organization_id = 'org_a'"), journal.BreakHead, 4},
	}
	storetest.Each(t, func(t *testing.T, d store.Dialect) {
		for _, tc := range tests {
			t.Run(tc.name, func(t *testing.T) {
				db := storetest.Open(t, d)
				fill(t, db, "org_a", 5)
				fill(t, db, "org_c", 2)
				tc.tamper(t, db)
				reps, err := journal.Verify(context.Background(), db, []string{"org_a", "org_c"})
				if err != nil {
					t.Fatal(err)
				}
				a, c := reps[0], reps[1]
				if !c.OK() {
					t.Errorf("org_c: %+v; want intact", c.Break)
				}
				switch {
				case tc.kind == "" && !a.OK():
					t.Errorf("untouched chain reported broken: %+v", a.Break)
				case tc.kind != "" && a.OK():
					t.Errorf("tampering not detected: %+v", a)
				case tc.kind != "" && (a.Break.Kind != tc.kind || a.Break.Seq != tc.seq):
					t.Errorf("break = %+v; want %s at seq %d", a.Break, tc.kind, tc.seq)
				}
			})
		}
	})
}

// TestConcurrentRecordsKeepOneChain: 50 transactions of one organization
// racing give seqs 1..50 with no gap and a chain that verifies.
func TestConcurrentRecordsKeepOneChain(t *testing.T) {
	storetest.Each(t, func(t *testing.T, d store.Dialect) {
		db := storetest.Open(t, d)
		ctx := context.Background()
		const n = 50
		var wg sync.WaitGroup
		errs := make(chan error, n)
		start := make(chan struct{})
		for i := range n {
			wg.Add(1)
			go func() {
				defer wg.Done()
				<-start
				errs <- db.InTx(ctx, func(tx *store.Tx) error {
					if _, err := tx.Exec(ctx, "INSERT INTO settings (name, value) VALUES (?, 'x')", fmt.Sprintf("race-%d", i)); err != nil {
						return err
					}
					return journal.Record(ctx, tx, journal.Entry{At: time.Now(), Actor: "admin", Action: "race", Target: fmt.Sprint(i), Organization: "org_race"})
				})
			}()
		}
		close(start)
		wg.Wait()
		close(errs)
		for err := range errs {
			if err != nil {
				t.Fatal(err)
			}
		}
		var count, maxSeq, distinct int64
		if err := db.QueryRow(ctx, "SELECT COUNT(*), MAX(seq), COUNT(DISTINCT seq) FROM audit_events WHERE organization_id = 'org_race'").Scan(&count, &maxSeq, &distinct); err != nil {
			t.Fatal(err)
		}
		if count != n || maxSeq != n || distinct != n {
			t.Errorf("rows %d, max seq %d, distinct seqs %d; want %d each", count, maxSeq, distinct, n)
		}
		reps, err := journal.Verify(ctx, db, []string{"org_race"})
		if err != nil || !reps[0].OK() || reps[0].Rows != n {
			t.Errorf("Verify = %+v, %v", reps, err)
		}
	})
}
