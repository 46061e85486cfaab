package main

import (
	"bytes"
	"context"
	"crypto/ed25519"
	"crypto/sha256"
	"encoding/base64"
	"fmt"
	"io"
	"log/slog"
	"os"
	"strings"
	"testing"

	"github.com/entitle/entitle/pkg/lease"
	"github.com/entitle/entitle/server/store"
	"github.com/entitle/entitle/server/store/storetest"
)

// dashKey returns, deterministically, an Ed25519 key whose id (the
// base64url thumbprint agents and `keys show` use) begins with '-', as about
// one in 64 real keys does.
func dashKey(t *testing.T) (kid string, pub ed25519.PublicKey, seed []byte) {
	t.Helper()
	for i := range 10000 {
		s := sha256.Sum256(fmt.Appendf(nil, "entitle dash key %d", i))
		priv := ed25519.NewKeyFromSeed(s[:])
		p := priv.Public().(ed25519.PublicKey)
		id, err := lease.KeyID(p)
		if err != nil {
			t.Fatal(err)
		}
		if strings.HasPrefix(id, "-") {
			return id, p, s[:]
		}
	}
	t.Fatal("no key id beginning with '-' in 10000 seeds")
	return "", nil, nil
}

// runRaw runs the CLI in-process with exactly args.
func runRaw(args ...string) (string, string, error) {
	var out, errb bytes.Buffer
	root := newRoot(strings.NewReader(""), &out, &errb)
	root.SetOut(&out)
	root.SetArgs(args)
	err := root.Execute()
	return out.String(), errb.String(), err
}

// TestKeysActivateIDBeginningWithDash: a key id beginning with '-' is an id
// for `keys activate`, in every position and after "--", never a flag.
func TestKeysActivateIDBeginningWithDash(t *testing.T) {
	for _, kv := range os.Environ() {
		if k, _, _ := strings.Cut(kv, "="); strings.HasPrefix(k, envPrefix) {
			t.Setenv(k, "")
			os.Unsetenv(k)
		}
	}
	storetest.Each(t, func(t *testing.T, d store.Dialect) {
		dsn := storetest.DSN(t, d)
		var before shownKeys
		runJSON(t, dsn, &before, "keys", "show") // migrates, creates the first key
		old := before.Keys[0].KID

		kid, pub, seed := dashKey(t)
		db, err := store.Open(context.Background(), dsn, slog.New(slog.NewTextHandler(io.Discard, nil)))
		if err != nil {
			t.Fatal(err)
		}
		_, err = db.Exec(context.Background(), "INSERT INTO signing_keys (kid, public_key, private_key, created_at, active) VALUES (?, ?, ?, ?, ?)",
			kid, lease.EncodePublicKey(pub), base64.RawURLEncoding.EncodeToString(seed), store.Millis(before.Keys[0].Created)+1, false)
		db.Close()
		if err != nil {
			t.Fatal(err)
		}

		for _, tc := range []struct {
			name string
			args []string
		}{
			{"id first", []string{"keys", "activate", kid, "--db", dsn}},
			{"id last", []string{"keys", "activate", "--db", dsn, kid}},
			{"after --", []string{"--db", dsn, "keys", "activate", "--", kid}},
			{"flags with =", []string{"keys", "activate", "--db=" + dsn, "--json", kid}},
		} {
			args := tc.args
			t.Run(tc.name, func(t *testing.T) {
				if _, _, err := runRaw("keys", "activate", old, "--db", dsn); err != nil {
					t.Fatalf("keys activate %s: %v", old, err)
				}
				out, errOut, err := runRaw(args...)
				if err != nil {
					t.Fatalf("entitle-server %s: %v\n%s", strings.Join(args, " "), err, errOut)
				}
				if !strings.Contains(out, kid) {
					t.Fatalf("entitle-server %s printed:\n%s", strings.Join(args, " "), out)
				}
				var shown shownKeys
				runJSON(t, dsn, &shown, "keys", "show")
				if got, want := shown.statuses(), old+"=retired "+kid+"=active"; got != want {
					t.Fatalf("keys show: %s, want %s", got, want)
				}
			})
		}

		// Flags are still flags, and the count is still checked.
		for _, tc := range []struct {
			args []string
			want string
		}{
			{[]string{"keys", "activate", "--nope", kid, "--db", dsn}, "unknown option --nope"},
			{[]string{"keys", "activate", "--db", dsn}, "expects 1 id, got 0"},
			{[]string{"keys", "activate", kid, old, "--db", dsn}, "expects 1 id, got 2"},
			{[]string{"keys", "activate", "--db"}, "the option --db needs a value"},
		} {
			if _, _, err := runRaw(tc.args...); err == nil || !strings.Contains(err.Error(), tc.want) {
				t.Errorf("entitle-server %s: %v, want %q", strings.Join(tc.args, " "), err, tc.want)
			}
		}
		out, _, err := runRaw("keys", "activate", "--help")
		if err != nil || !strings.Contains(out, "activate KID") {
			t.Errorf("keys activate --help: %v\n%s", err, out)
		}
	})
}
