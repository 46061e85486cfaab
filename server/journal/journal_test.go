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

func TestRecord(t *testing.T) {
	storetest.Each(t, func(t *testing.T, d store.Dialect) {
		db := storetest.Open(t, d)
		ctx := context.Background()
		at := time.Date(2030, 3, 1, 12, 0, 0, 0, time.UTC)
		details := map[string]any{"license": "lic_1"}
		tests := []struct {
			name  string
			entry journal.Entry
			want  string
		}{
			{"no details", journal.Entry{At: at, Actor: "admin", Action: "key.add", Target: "k1"}, "{}"},
			{"details", journal.Entry{At: at, Actor: "device:dev_1", Action: "device.deactivate", Target: "dev_1", Details: details}, `{"license":"lic_1"}`},
			{"ip", journal.Entry{At: at, Actor: "ip:192.0.2.1", Action: "login.lockout", Target: "acc_1", IP: "192.0.2.1"}, `{"ip":"192.0.2.1"}`},
			{"ip and details", journal.Entry{At: at, Actor: "ip:192.0.2.1", Action: "device.activate", Target: "dev_2", IP: "192.0.2.1", Details: details},
				`{"ip":"192.0.2.1","license":"lic_1"}`},
		}
		for _, tc := range tests {
			t.Run(tc.name, func(t *testing.T) {
				if err := db.InTx(ctx, func(tx *store.Tx) error { return journal.Record(ctx, tx, tc.entry) }); err != nil {
					t.Fatal(err)
				}
				var actor, subject, detail string
				var ms int64
				if err := db.QueryRow(ctx, "SELECT actor, subject, detail, at FROM audit_events WHERE action = ? AND subject = ?", tc.entry.Action, tc.entry.Target).
					Scan(&actor, &subject, &detail, &ms); err != nil {
					t.Fatal(err)
				}
				if actor != tc.entry.Actor || detail != tc.want || !store.FromMillis(ms).Equal(at) {
					t.Errorf("row = %s %s %s %v; want %s %s %v", actor, subject, detail, store.FromMillis(ms), tc.entry.Actor, tc.want, at)
				}
			})
		}
		if len(details) != 1 {
			t.Errorf("Record changed the caller's details: %v", details)
		}

		// A change that rolls back leaves no journal row.
		boom := errors.New("boom")
		err := db.InTx(ctx, func(tx *store.Tx) error {
			if err := journal.Record(ctx, tx, journal.Entry{At: at, Actor: "admin", Action: "rolled.back", Target: "x"}); err != nil {
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
	})
}
