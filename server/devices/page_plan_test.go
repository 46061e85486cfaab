package devices_test

import (
	"database/sql"
	"fmt"
	"strings"
	"testing"
	"time"

	"github.com/entitle/entitle/pkg/paging"
	"github.com/entitle/entitle/server/devices"
	"github.com/entitle/entitle/server/licenses"
	"github.com/entitle/entitle/server/store"
	"github.com/entitle/entitle/server/store/storetest"
)

// explain returns the database's plan of q, one line per node: SQLite's
// EXPLAIN QUERY PLAN as "parent:detail", PostgreSQL's EXPLAIN text.
// With noSeqScan, PostgreSQL plans without sequential scans where it can
// (on a table of a few rows it rightly prefers one): what is then checked is
// that an index gives the order.
func explain(t *testing.T, f *fixture, noSeqScan bool, q string, args ...any) []string {
	t.Helper()
	var out []string
	err := f.DB.InTx(f.Ctx, func(tx *store.Tx) error {
		prefix := "EXPLAIN "
		if f.D == store.SQLite {
			prefix = "EXPLAIN QUERY PLAN "
		} else if noSeqScan {
			if _, err := tx.Exec(f.Ctx, "SET LOCAL enable_seqscan = off"); err != nil {
				return err
			}
		}
		rows, err := tx.Query(f.Ctx, prefix+q, args...)
		if err != nil {
			return err
		}
		defer rows.Close()
		out, err = planLines(f.D, rows)
		return err
	})
	if err != nil {
		t.Fatalf("explain: %v", err)
	}
	return out
}

func planLines(d store.Dialect, rows *sql.Rows) ([]string, error) {
	var out []string
	for rows.Next() {
		if d == store.SQLite {
			var id, parent, unused int
			var detail string
			if err := rows.Scan(&id, &parent, &unused, &detail); err != nil {
				return nil, err
			}
			out = append(out, fmt.Sprintf("%d:%s", parent, detail))
			continue
		}
		var line string
		if err := rows.Scan(&line); err != nil {
			return nil, err
		}
		out = append(out, line)
	}
	return out, rows.Err()
}

// Issue 15: a page of the account's device list and of its license list
// stays fast at a million rows. Their plans, on both databases, walk the
// indexes from the cursor and never sort the account's whole set: on
// SQLite every devices access is a SEARCH of devices_license_active_page or
// devices_license_released_page and the only sort is the top one, over the
// union of the arms (a page per license and state); on PostgreSQL the
// scans of devices are index scans of those indexes, with at most that one
// sort. (The 1k and 1M timings are BenchmarkDevicePage in scripts/bench.sh.)
func TestPageQueriesUseTheIndexes(t *testing.T) {
	storetest.Each(t, func(t *testing.T, d store.Dialect) {
		f := newFixture(t, d, noChurnLimit)
		acct := f.Account("owner@example.com")
		big := f.License("owner@example.com", 100, time.Time{})
		small := f.License("owner@example.com", 100, time.Time{})
		base := time.Now().Add(-time.Hour).UnixMilli()
		seedDevices(t, f.DB, namedKeys, big.ID, 20000, 3, 7, base)
		if _, err := f.DB.Exec(f.Ctx, "ANALYZE"); err != nil {
			t.Fatal(err)
		}
		// The arms of the large license (a license with no device
		// rightly gets whatever plan reads nothing fastest).
		ids := []string{big.ID}
		if d == store.SQLite {
			ids = append(ids, small.ID) // SQLite plans by the indexes alone
		}
		at := base + 5000
		for _, tc := range []struct {
			name     string
			first    bool
			released bool
			indexes  []string
		}{
			{"first page", true, false, []string{"devices_license_active_page", "devices_license_released_page"}},
			{"after an active device", false, false, []string{"devices_license_active_page", "devices_license_released_page"}},
			{"after a released device", false, true, []string{"devices_license_released_page"}},
		} {
			t.Run(tc.name, func(t *testing.T) {
				q, args := devices.PageDevicesQuery(ids, tc.released, at, "dev_seed_15000", tc.first, 51)
				plan := explain(t, f, false, q, args...)
				text := strings.Join(plan, "\n")
				for _, ix := range tc.indexes {
					if !strings.Contains(text, ix) {
						t.Errorf("plan does not use %s:\n%s", ix, text)
					}
				}
				sorts := 0
				for _, line := range plan {
					switch d {
					case store.SQLite:
						parent, detail, _ := strings.Cut(line, ":")
						if strings.Contains(detail, " d ") || strings.HasSuffix(detail, " d") {
							if !strings.HasPrefix(detail, "SEARCH d USING INDEX devices_license_") || !strings.Contains(detail, "_page (license_id=?") {
								t.Errorf("devices read other than by a page index: %q\n%s", detail, text)
							}
						}
						if strings.Contains(detail, "TEMP B-TREE") {
							sorts++
							if parent != "0" {
								t.Errorf("a sort inside an arm: %q\n%s", line, text)
							}
						}
					case store.Postgres:
						if strings.Contains(line, "on devices") && !strings.Contains(line, "Index Scan") {
							t.Errorf("devices read other than by an index scan: %q\n%s", line, text)
						}
						if strings.Contains(line, "Sort  (") {
							sorts++
						}
					}
				}
				if sorts > 1 {
					t.Errorf("%d sorts, want at most the one over the arms:\n%s", sorts, text)
				}
			})
		}

		t.Run("license list", func(t *testing.T) {
			for range 30 {
				f.License("owner@example.com", 1, time.Time{})
			}
			if _, err := f.DB.Exec(f.Ctx, "ANALYZE"); err != nil {
				t.Fatal(err)
			}
			for _, after := range []*licenses.PageKey{nil, {Created: base, ID: big.ID}} {
				q, args := licenses.PageQuery(acct.ID, after, 11)
				plan := explain(t, f, true, q, args...)
				text := strings.Join(plan, "\n")
				if !strings.Contains(text, "licenses_owner_created_id") {
					t.Errorf("license page does not use licenses_owner_created_id:\n%s", text)
				}
				if strings.Contains(text, "TEMP B-TREE") || strings.Contains(text, "Sort  (") {
					t.Errorf("license page sorts:\n%s", text)
				}
			}
		})
	})
}

// TestPageDevicesAcrossManyLicenses pages the devices of an account with
// more licenses than one page query reads (its chunks are merged): every
// device once, in the list's order, with the total.
func TestPageDevicesAcrossManyLicenses(t *testing.T) {
	storetest.Each(t, func(t *testing.T, d store.Dialect) {
		f := newFixture(t, d, noChurnLimit)
		acct := f.Account("owner@example.com")
		f.Account("other@example.com")
		const nLicenses, perLicense = 70, 4
		base := time.Now().Add(-time.Hour).UnixMilli()
		want := 0
		for i := range nLicenses {
			lic := f.License("owner@example.com", 10, time.Time{})
			for j := range perLicense {
				var deact any
				if (i+j)%3 == 0 {
					deact = base + 99999
				}
				id := fmt.Sprintf("dev_%03d_%d", i, j)
				if _, err := f.DB.Exec(f.Ctx, `INSERT INTO devices (id, license_id, fingerprint, product, credential_hash, activated_at, last_seen_at, deactivated_at)
					VALUES (?, ?, ?, 'bench', ?, ?, ?, ?)`, id, lic.ID, id, id, base+int64((i*7+j*13)%50), base, deact); err != nil {
					t.Fatal(err)
				}
				want++
			}
		}
		seen := map[string]bool{}
		var last devices.Device
		cursor := ""
		for {
			p, err := f.Devices.PageDevices(f.Ctx, acct.ID, paging.Request{Limit: 9, Cursor: cursor})
			if err != nil {
				t.Fatal(err)
			}
			if p.Total != int64(want) {
				t.Fatalf("total %d, want %d", p.Total, want)
			}
			for _, dv := range p.Items {
				if seen[dv.ID] {
					t.Fatalf("%s listed twice", dv.ID)
				}
				seen[dv.ID] = true
				if last.ID != "" {
					ordered := (last.Active && !dv.Active) || (last.Active == dv.Active &&
						(dv.ActivatedAt.Before(last.ActivatedAt) || (dv.ActivatedAt.Equal(last.ActivatedAt) && dv.ID < last.ID)))
					if !ordered {
						t.Fatalf("out of order: %s (%v %v) after %s (%v %v)", dv.ID, dv.Active, dv.ActivatedAt, last.ID, last.Active, last.ActivatedAt)
					}
				}
				last = dv
			}
			if p.NextCursor == "" {
				break
			}
			cursor = p.NextCursor
		}
		if len(seen) != want {
			t.Errorf("listed %d devices, want %d", len(seen), want)
		}
		// The total follows deletes and moves between licenses (the
		// triggers of licenses.device_count), and equals a count.
		if _, err := f.DB.Exec(f.Ctx, `DELETE FROM devices WHERE id = 'dev_000_0'`); err != nil {
			t.Fatal(err)
		}
		other := f.License("other@example.com", 10, time.Time{})
		if _, err := f.DB.Exec(f.Ctx, `UPDATE devices SET license_id = ? WHERE id = 'dev_001_1'`, other.ID); err != nil {
			t.Fatal(err)
		}
		p, err := f.Devices.PageDevices(f.Ctx, acct.ID, paging.Request{Limit: 1})
		if err != nil {
			t.Fatal(err)
		}
		counted := f.Count(`SELECT COUNT(*) FROM devices d JOIN licenses l ON l.id = d.license_id WHERE l.owner_account_id = ?`, acct.ID)
		if p.Total != int64(want-2) || counted != want-2 {
			t.Errorf("total %d, counted %d, want %d", p.Total, counted, want-2)
		}
		if n := f.Count(`SELECT COUNT(*) FROM licenses l WHERE device_count <> (SELECT COUNT(*) FROM devices d WHERE d.license_id = l.id)`); n != 0 {
			t.Errorf("%d licenses whose device_count is not their devices' count", n)
		}
	})
}
