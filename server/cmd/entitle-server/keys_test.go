package main

import (
	"bytes"
	"encoding/json"
	"os"
	"strings"
	"testing"

	"github.com/entitle/entitle/pkg/lease"
	"github.com/entitle/entitle/server/store"
	"github.com/entitle/entitle/server/store/storetest"
)

// run runs the CLI in-process against dsn; it returns stdout and the error.
func run(t *testing.T, dsn string, args ...string) (string, error) {
	t.Helper()
	var out, errb bytes.Buffer
	root := newRoot(strings.NewReader(""), &out, &errb)
	root.SetArgs(append(args, "--db", dsn))
	err := root.Execute()
	if errb.Len() > 0 {
		t.Logf("entitle-server %s: stderr:\n%s", strings.Join(args, " "), errb.String())
	}
	return out.String(), err
}

func runJSON(t *testing.T, dsn string, v any, args ...string) {
	t.Helper()
	out, err := run(t, dsn, append(args, "--json")...)
	if err != nil {
		t.Fatalf("entitle-server %s: %v", strings.Join(args, " "), err)
	}
	if err := json.Unmarshal([]byte(out), v); err != nil {
		t.Fatalf("entitle-server %s --json: %v\n%s", strings.Join(args, " "), err, out)
	}
}

type shownKeys struct {
	Keys []keyOut        `json:"keys"`
	JWKS json.RawMessage `json:"jwks"`
}

// statuses returns "kid=status" per key, oldest first.
func (s shownKeys) statuses() string {
	var parts []string
	for _, k := range s.Keys {
		parts = append(parts, k.KID+"="+k.Status)
	}
	return strings.Join(parts, " ")
}

// TestKeysStandbyRotation drives the safe rotation through the CLI on each
// database: keys add, keys show (two keys, one active), keys activate, keys
// show.
func TestKeysStandbyRotation(t *testing.T) {
	for _, kv := range os.Environ() {
		if k, _, _ := strings.Cut(kv, "="); strings.HasPrefix(k, envPrefix) {
			t.Setenv(k, "") // restores the value afterwards
			os.Unsetenv(k)
		}
	}
	storetest.Each(t, func(t *testing.T, d store.Dialect) {
		dsn := storetest.DSN(t, d)
		var before shownKeys
		runJSON(t, dsn, &before, "keys", "show")
		if len(before.Keys) != 1 || before.Keys[0].Status != "active" {
			t.Fatalf("keys show on a new database: %+v", before.Keys)
		}
		old := before.Keys[0]

		var added keyOut
		runJSON(t, dsn, &added, "keys", "add")
		if added.KID == "" || added.KID == old.KID || added.Status != "standby" {
			t.Fatalf("keys add --json: %+v", added)
		}
		pub, err := lease.DecodePublicKey(added.PublicKey)
		if err != nil {
			t.Fatalf("keys add printed public key %q: %v", added.PublicKey, err)
		}
		if kid, err := lease.KeyID(pub); err != nil || kid != added.KID {
			t.Fatalf("keys add: public key has id %s (%v), printed id %s", kid, err, added.KID)
		}

		var shown shownKeys
		runJSON(t, dsn, &shown, "keys", "show")
		if got, want := shown.statuses(), old.KID+"=active "+added.KID+"=standby"; got != want {
			t.Fatalf("keys show after add: %s, want %s", got, want)
		}
		ks, err := lease.ParseKeySet(shown.JWKS)
		if err != nil || ks.Len() != 2 {
			t.Fatalf("keys show JWK set: %d keys, %v; want 2", ks.Len(), err)
		}
		text, err := run(t, dsn, "keys", "show")
		if err != nil {
			t.Fatal(err)
		}
		for _, want := range []string{"# active " + old.KID, "\n" + old.PublicKey + "\n", "# standby " + added.KID, "\n" + added.PublicKey + "\n"} {
			if !strings.Contains(text, want) {
				t.Fatalf("keys show does not print %q:\n%s", want, text)
			}
		}

		// An unknown key is refused and changes nothing.
		if _, err := run(t, dsn, "keys", "activate", "no-such-key"); err == nil || !strings.Contains(err.Error(), "not found") {
			t.Fatalf("keys activate no-such-key: %v, want a not_found error", err)
		}
		if _, err := run(t, dsn, "keys", "activate"); err == nil {
			t.Fatal("keys activate without a key id succeeded")
		}
		var same shownKeys
		runJSON(t, dsn, &same, "keys", "show")
		if same.statuses() != shown.statuses() {
			t.Fatalf("a refused activation changed the keys: %s, was %s", same.statuses(), shown.statuses())
		}

		out, err := run(t, dsn, "keys", "activate", added.KID)
		if err != nil || !strings.Contains(out, "Now signing with key "+added.KID) {
			t.Fatalf("keys activate: %v\n%s", err, out)
		}
		var after shownKeys
		runJSON(t, dsn, &after, "keys", "show")
		if got, want := after.statuses(), old.KID+"=retired "+added.KID+"=active"; got != want {
			t.Fatalf("keys show after activate: %s, want %s", got, want)
		}

		// keys rotate still makes a new key active in one step.
		var rotated struct {
			KID string `json:"kid"`
		}
		runJSON(t, dsn, &rotated, "keys", "rotate")
		var last shownKeys
		runJSON(t, dsn, &last, "keys", "show")
		if got, want := last.statuses(), old.KID+"=retired "+added.KID+"=retired "+rotated.KID+"=active"; got != want {
			t.Fatalf("keys show after rotate: %s, want %s", got, want)
		}
	})
}
