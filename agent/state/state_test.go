package state

import (
	"bytes"
	"errors"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/entitle/entitle/pkg/agentapi"
)

func sample() State {
	now := time.Date(2026, 3, 1, 12, 0, 0, 0, time.UTC)
	return State{
		Lease: "header.payload.sig", DeviceID: "dev_1", Credential: "secret-credential",
		ServerURL: "http://127.0.0.1:8780", Account: "ann@example.com", Organization: "Acme",
		CheckinAfter: 3600, TrustedTime: now, LastCheckin: &now,
		Pending: &Pending{DeviceCode: "dc", UserCode: "ABCD-EFGH", VerificationURI: "http://x/device", ExpiresAt: now, Interval: 5},
	}
}

func TestRoundTripAndMode(t *testing.T) {
	s := NewStore(filepath.Join(t.TempDir(), "state"))
	if st, err := s.Load(); err != nil || st.Activated() {
		t.Fatalf("empty folder: %v %+v", err, st)
	}
	want := sample()
	if err := s.Save(want); err != nil {
		t.Fatal(err)
	}
	got, err := s.Load()
	if err != nil {
		t.Fatal(err)
	}
	if got.Credential != want.Credential || got.Lease != want.Lease || !got.TrustedTime.Equal(want.TrustedTime) ||
		got.Pending == nil || got.Pending.UserCode != "ABCD-EFGH" || got.LastCheckin == nil {
		t.Fatalf("round trip: got %+v", got)
	}
	for _, name := range []string{FileName, KeyName} {
		fi, err := os.Stat(filepath.Join(s.Dir(), name))
		if err != nil {
			t.Fatal(err)
		}
		if fi.Mode().Perm() != 0o600 {
			t.Errorf("%s mode %v, want 0600", name, fi.Mode().Perm())
		}
	}
	data, _ := os.ReadFile(s.Path())
	key, _ := os.ReadFile(filepath.Join(s.Dir(), KeyName))
	if bytes.Contains(data, bytes.TrimSpace(key)) {
		t.Fatal("the state file contains its own key")
	}
}

func TestTamperDetection(t *testing.T) {
	tests := []struct {
		name   string
		mutate func(t *testing.T, dir string)
		want   error
	}{
		{"edited field", func(t *testing.T, dir string) {
			replaceIn(t, filepath.Join(dir, FileName), "Acme", "Evil")
		}, ErrTampered},
		{"edited time", func(t *testing.T, dir string) {
			replaceIn(t, filepath.Join(dir, FileName), "2026-03-01", "2020-03-01")
		}, ErrTampered},
		{"mac replaced", func(t *testing.T, dir string) {
			data, _ := os.ReadFile(filepath.Join(dir, FileName))
			i := bytes.Index(data, []byte(`"mac": "`)) + 8
			if data[i] == 'a' {
				data[i] = 'b'
			} else {
				data[i] = 'a'
			}
			os.WriteFile(filepath.Join(dir, FileName), data, 0o600)
		}, ErrTampered},
		{"key removed", func(t *testing.T, dir string) { os.Remove(filepath.Join(dir, KeyName)) }, ErrTampered},
		{"key replaced", func(t *testing.T, dir string) {
			os.WriteFile(filepath.Join(dir, KeyName), []byte(strings.Repeat("ab", KeySize)), 0o600)
		}, ErrTampered},
		{"key damaged", func(t *testing.T, dir string) { os.WriteFile(filepath.Join(dir, KeyName), []byte("zz"), 0o600) }, ErrTampered},
		{"truncated", func(t *testing.T, dir string) {
			data, _ := os.ReadFile(filepath.Join(dir, FileName))
			os.WriteFile(filepath.Join(dir, FileName), data[:len(data)/2], 0o600)
		}, ErrCorrupt},
		{"empty", func(t *testing.T, dir string) { os.WriteFile(filepath.Join(dir, FileName), nil, 0o600) }, ErrCorrupt},
		{"garbage", func(t *testing.T, dir string) {
			os.WriteFile(filepath.Join(dir, FileName), []byte("\x00\xffnot json"), 0o600)
		}, ErrCorrupt},
		{"oversize", func(t *testing.T, dir string) {
			os.WriteFile(filepath.Join(dir, FileName), bytes.Repeat([]byte(" "), MaxFileSize+1), 0o600)
		}, ErrCorrupt},
		{"future version", func(t *testing.T, dir string) {
			replaceIn(t, filepath.Join(dir, FileName), `"v": 1`, `"v": 2`)
		}, ErrCorrupt},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			s := NewStore(t.TempDir())
			if err := s.Save(sample()); err != nil {
				t.Fatal(err)
			}
			tc.mutate(t, s.Dir())
			st, err := s.Load()
			if !errors.Is(err, tc.want) {
				t.Fatalf("got %v, want %v", err, tc.want)
			}
			if st.Activated() || st.Credential != "" {
				t.Fatal("a refused state must not leak its contents")
			}
			if tc.want == ErrTampered && !strings.Contains(err.Error(), "modified outside the agent; activate again") {
				t.Fatalf("unclear message %q", err)
			}
			// A new activation overwrites the bad file.
			if err := s.Save(sample()); err != nil {
				t.Fatal(err)
			}
			if _, err := s.Load(); err != nil {
				t.Fatalf("after re-save: %v", err)
			}
		})
	}
}

func replaceIn(t *testing.T, path, old, new string) {
	t.Helper()
	data, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	if !bytes.Contains(data, []byte(old)) {
		t.Fatalf("%q not in state file", old)
	}
	if err := os.WriteFile(path, bytes.Replace(data, []byte(old), []byte(new), 1), 0o600); err != nil {
		t.Fatal(err)
	}
}

// A crash after the temp file is written but before the rename leaves the
// previous state intact and loadable; the next save cleans the leftover.
func TestCrashBeforeRename(t *testing.T) {
	s := NewStore(t.TempDir())
	old := sample()
	if err := s.Save(old); err != nil {
		t.Fatal(err)
	}
	crash := errors.New("simulated crash")
	s.beforeRename = func() error { return crash }
	next := sample()
	next.Organization = "Next Org"
	if err := s.Save(next); !errors.Is(err, crash) {
		t.Fatalf("got %v", err)
	}
	temps, _ := filepath.Glob(filepath.Join(s.Dir(), FileName+".tmp-*"))
	if len(temps) != 1 {
		t.Fatalf("want the crashed temp file left behind, got %v", temps)
	}
	// A fresh process (new store) loads the old state.
	got, err := NewStore(s.Dir()).Load()
	if err != nil || got.Organization != "Acme" {
		t.Fatalf("after crash: %v %+v", err, got)
	}
	s2 := NewStore(s.Dir())
	if err := s2.Save(next); err != nil {
		t.Fatal(err)
	}
	if got, err := s2.Load(); err != nil || got.Organization != "Next Org" {
		t.Fatalf("after recovery: %v %+v", err, got)
	}
	temps, _ = filepath.Glob(filepath.Join(s.Dir(), FileName+".tmp-*"))
	if len(temps) != 0 {
		t.Fatalf("stale temp files not removed: %v", temps)
	}
}

func TestSaveRejectsInvalid(t *testing.T) {
	s := NewStore(t.TempDir())
	tests := []struct {
		name string
		st   State
	}{
		{"credential without lease", State{Credential: "c"}},
		{"huge lease", State{Lease: strings.Repeat("a", maxLease+1), Credential: "c"}},
		{"newline in account", State{Account: "a\nb"}},
		{"pending without code", State{Pending: &Pending{UserCode: "x"}}},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			if err := s.Save(tc.st); err == nil {
				t.Fatal("want error")
			}
		})
	}
}

func TestClearActivationKeepsMark(t *testing.T) {
	st := sample()
	st.ClearActivation()
	if st.Activated() || st.Pending != nil || st.Credential != "" || st.TrustedTime.IsZero() {
		t.Fatalf("got %+v", st)
	}
}

func TestToken(t *testing.T) {
	dir := t.TempDir()
	tok, err := EnsureToken(dir, "")
	if err != nil {
		t.Fatal(err)
	}
	if len(tok) != 64 {
		t.Fatalf("token %q", tok)
	}
	fi, err := os.Stat(filepath.Join(dir, agentapi.TokenFile))
	if err != nil || fi.Mode().Perm() != TokenMode {
		t.Fatalf("mode: %v %v", err, fi.Mode())
	}
	again, err := EnsureToken(dir, "")
	if err != nil || again != tok {
		t.Fatalf("token changed: %v", err)
	}
	if r, err := ReadToken(dir); err != nil || r != tok {
		t.Fatalf("ReadToken: %v", err)
	}
	os.WriteFile(filepath.Join(dir, agentapi.TokenFile), []byte("short"), 0o666)
	fresh, err := EnsureToken(dir, "")
	if err != nil || fresh == tok || len(fresh) != 64 {
		t.Fatalf("malformed token not replaced: %v %q", err, fresh)
	}
	if _, err := EnsureToken(dir, "no-such-group-entitle"); err == nil {
		t.Fatal("unknown group accepted")
	}
}

func FuzzDecode(f *testing.F) {
	key := bytes.Repeat([]byte{7}, KeySize)
	good, err := Encode(sample(), key)
	if err != nil {
		f.Fatal(err)
	}
	f.Add(good)
	f.Add([]byte(`{"v":1,"state":{},"mac":""}`))
	f.Add([]byte(`{"v":1,"state":null,"mac":"00"}`))
	f.Add([]byte(`[]`))
	f.Fuzz(func(t *testing.T, data []byte) {
		st, err := Decode(data, key)
		if err != nil {
			if !errors.Is(err, ErrCorrupt) && !errors.Is(err, ErrTampered) {
				t.Fatalf("unclassified error %v", err)
			}
			return
		}
		// Anything accepted must re-encode and decode to the same state.
		again, err := Encode(st, key)
		if err != nil {
			t.Fatal(err)
		}
		if _, err := Decode(again, key); err != nil {
			t.Fatalf("re-decode: %v", err)
		}
	})
}
