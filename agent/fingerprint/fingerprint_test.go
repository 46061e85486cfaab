package fingerprint

import (
	"errors"
	"testing"

	"github.com/denisbrodbeck/machineid"

	"github.com/entitle/entitle/pkg/lease"
	"github.com/entitle/entitle/pkg/testenv"
)

func TestFingerprint(t *testing.T) {
	fixed := func(id string) Source { return func() (string, error) { return id, nil } }
	a, err := New(fixed("0123456789abcdef0123456789abcdef")).Fingerprint("p1")
	if err != nil {
		t.Fatal(err)
	}
	tests := []struct {
		name    string
		src     Source
		product string
		same    bool
		wantErr bool
	}{
		{"same id and product", fixed("0123456789abcdef0123456789abcdef\n"), "p1", true, false},
		{"other product", fixed("0123456789abcdef0123456789abcdef"), "p2", false, false},
		{"other machine", fixed("fedcba9876543210fedcba9876543210"), "p1", false, false},
		{"source error", func() (string, error) { return "", errors.New("boom") }, "p1", false, true},
		{"empty id", fixed("  "), "p1", false, true},
		{"empty product", fixed("0123456789abcdef0123456789abcdef"), "", false, true},
		{"nil source", nil, "p1", false, true},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			got, err := New(tc.src).Fingerprint(tc.product)
			if tc.wantErr {
				if err == nil {
					t.Fatalf("want error, got %q", got)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			if !lease.ValidFingerprint(got) {
				t.Fatalf("%q is not 64 lowercase hex", got)
			}
			if (got == a) != tc.same {
				t.Fatalf("same=%v, got %q vs %q", tc.same, got, a)
			}
			if got == "0123456789abcdef0123456789abcdef" {
				t.Fatal("raw machine id leaked")
			}
		})
	}
}

// The package's computation must equal machineid.ProtectedID, which other
// components (pkg/client in a signing app) use.
func TestMatchesProtectedID(t *testing.T) {
	_, err := machineid.ID()
	testenv.Require(t, err == nil, "an OS machine id")
	want, err := machineid.ProtectedID("entitle-signing")
	if err != nil {
		t.Fatal(err)
	}
	got, err := Fingerprint("entitle-signing")
	if err != nil {
		t.Fatal(err)
	}
	if got != want {
		t.Fatalf("Fingerprint = %q, machineid.ProtectedID = %q", got, want)
	}
}
