package journal_test

import (
	"context"
	"errors"
	"testing"
	"time"

	"github.com/entitle/entitle/server/journal"
	"github.com/entitle/entitle/server/store"
	"github.com/entitle/entitle/server/store/storetest"
)

func record(t *testing.T, db *store.DB, ctx context.Context, e journal.Entry) {
	t.Helper()
	if err := db.InTx(ctx, func(tx *store.Tx) error { return journal.Record(ctx, tx, e) }); err != nil {
		t.Fatal(err)
	}
}

func TestRecord(t *testing.T) {
	storetest.Each(t, func(t *testing.T, d store.Dialect) {
		db := storetest.Open(t, d)
		ctx := journal.WithRequest(context.Background(), journal.Request{IP: "192.0.2.7", UserAgent: "agent/1", RequestID: "req-1"})
		at := time.Date(2030, 3, 1, 12, 0, 0, 0, time.UTC)
		details := map[string]any{"license": "lic_1"}
		tests := []struct {
			name                  string
			entry                 journal.Entry
			detail, ip, ua, reqID string
			account               string
		}{
			{"no details", journal.Entry{At: at, Actor: "admin", Action: "key.add", Target: "k1"}, "{}", "192.0.2.7", "agent/1", "req-1", ""},
			{"details", journal.Entry{At: at, Actor: "device:dev_1", Action: "device.deactivate", Target: "dev_1", Details: details},
				`{"license":"lic_1"}`, "192.0.2.7", "agent/1", "req-1", ""},
			{"explicit ip wins", journal.Entry{At: at, Actor: "ip:192.0.2.1", Action: "login.lockout", Target: "acc_1", Account: "acc_1", IP: "192.0.2.1"},
				"{}", "192.0.2.1", "agent/1", "req-1", "acc_1"},
			{"account from actor", journal.Entry{At: at, Actor: "account:acc_9", Action: "session.create", Target: "acc_9"},
				"{}", "192.0.2.7", "agent/1", "req-1", "acc_9"},
		}
		for _, tc := range tests {
			t.Run(tc.name, func(t *testing.T) {
				record(t, db, ctx, tc.entry)
				var actor, detail, ip, ua, reqID, account string
				var ms int64
				if err := db.QueryRow(ctx, "SELECT actor, detail, at, ip, user_agent, request_id, account_id FROM audit_events WHERE action = ? AND subject = ?",
					tc.entry.Action, tc.entry.Target).Scan(&actor, &detail, &ms, &ip, &ua, &reqID, &account); err != nil {
					t.Fatal(err)
				}
				if actor != tc.entry.Actor || detail != tc.detail || !store.FromMillis(ms).Equal(at) || ip != tc.ip || ua != tc.ua || reqID != tc.reqID || account != tc.account {
					t.Errorf("row = %s %s %v ip=%s ua=%s req=%s acct=%s; want %s %s %v %s %s %s %s", actor, detail, store.FromMillis(ms), ip, ua, reqID, account,
						tc.entry.Actor, tc.detail, at, tc.ip, tc.ua, tc.reqID, tc.account)
				}
			})
		}
		if len(details) != 1 {
			t.Errorf("Record changed the caller's details: %v", details)
		}
		// Outside input is bounded.
		long := make([]byte, 5000)
		for i := range long {
			long[i] = 'x'
		}
		record(t, db, journal.WithRequest(context.Background(), journal.Request{UserAgent: string(long) + "\xff", RequestID: string(long)}),
			journal.Entry{At: at, Actor: "admin", Action: "bounded", Target: "b"})
		var ua, reqID string
		if err := db.QueryRow(ctx, "SELECT user_agent, request_id FROM audit_events WHERE action = 'bounded'").Scan(&ua, &reqID); err != nil {
			t.Fatal(err)
		}
		if len(ua) != journal.MaxUserAgent || len(reqID) != journal.MaxRequestID {
			t.Errorf("user agent %d bytes, request id %d bytes; want %d and %d", len(ua), len(reqID), journal.MaxUserAgent, journal.MaxRequestID)
		}
		reps, err := journal.Verify(ctx, db, nil)
		if err != nil || len(reps) != 1 || !reps[0].OK() || reps[0].Rows != 5 || reps[0].HeadSeq != 5 {
			t.Errorf("Verify = %+v, %v; want one intact chain of 5 rows", reps, err)
		}
	})
}

// TestRolledBackChangeLeavesNoRow: a transaction that fails after Record
// leaves neither its row nor a moved head, and the next row continues the
// chain without a gap.
func TestRolledBackChangeLeavesNoRow(t *testing.T) {
	storetest.Each(t, func(t *testing.T, d store.Dialect) {
		db := storetest.Open(t, d)
		ctx := context.Background()
		at := time.Date(2030, 3, 1, 12, 0, 0, 0, time.UTC)
		record(t, db, ctx, journal.Entry{At: at, Actor: "admin", Action: "first", Organization: "org_1"})
		boom := errors.New("boom")
		err := db.InTx(ctx, func(tx *store.Tx) error {
			if err := journal.Record(ctx, tx, journal.Entry{At: at, Actor: "admin", Action: "rolled.back", Target: "x", Organization: "org_1"}); err != nil {
				return err
			}
			if _, err := tx.Exec(ctx, "INSERT INTO settings (name, value) VALUES ('journal-test', 'x')"); err != nil {
				return err
			}
			return boom
		})
		if !errors.Is(err, boom) {
			t.Fatalf("InTx = %v", err)
		}
		var n int
		if err := db.QueryRow(ctx, "SELECT COUNT(*) FROM audit_events WHERE action = 'rolled.back'").Scan(&n); err != nil || n != 0 {
			t.Errorf("rolled-back journal rows = %d, %v; want 0", n, err)
		}
		if err := db.QueryRow(ctx, "SELECT COUNT(*) FROM settings WHERE name = 'journal-test'").Scan(&n); err != nil || n != 0 {
			t.Errorf("rolled-back change = %d, %v; want 0", n, err)
		}
		record(t, db, ctx, journal.Entry{At: at, Actor: "admin", Action: "second", Organization: "org_1"})
		var seq int64
		if err := db.QueryRow(ctx, "SELECT seq FROM audit_events WHERE action = 'second'").Scan(&seq); err != nil || seq != 2 {
			t.Errorf("seq after a rollback = %d, %v; want 2", seq, err)
		}
		reps, err := journal.Verify(ctx, db, []string{"org_1"})
		if err != nil || !reps[0].OK() || reps[0].Rows != 2 {
			t.Errorf("Verify = %+v, %v", reps, err)
		}
	})
}

func TestHashIsUnambiguous(t *testing.T) {
	at := time.UnixMilli(1_900_000_000_000).UTC()
	base := journal.Row{Organization: "org", Seq: 1, At: at, Actor: "ab", Action: "c", Details: "{}"}
	moved := base
	moved.Actor, moved.Account = "a", "bc" // same bytes, different split
	if journal.Hash(base) == journal.Hash(moved) {
		t.Error("moving bytes between fields does not change the hash")
	}
	later := base
	later.At = at.Add(time.Millisecond)
	if journal.Hash(base) == journal.Hash(later) {
		t.Error("the time is not covered by the hash")
	}
	if journal.Hash(base) != journal.Hash(base) || len(journal.Hash(base)) != 64 {
		t.Error("hash not stable or not hex SHA-256")
	}
}
