package bundle

import (
	"archive/tar"
	"bytes"
	"errors"
	"strings"
	"testing"
	"time"
)

const testPass = "correct horse battery"

func sample() Contents {
	return Contents{
		Created: time.Date(2026, 3, 1, 0, 0, 0, 0, time.UTC),
		Default: "p2",
		Profiles: []Profile{
			{ID: "p1", Files: map[string][]byte{"profile.json": []byte(`{"id":"p1"}`), "certificate.pem": []byte("c1"), "key.pem": []byte("k1")}},
			{ID: "p2", Files: map[string][]byte{"profile.json": []byte(`{"id":"p2"}`), "profile.p12": []byte("p12")}},
		},
	}
}

func TestSealOpen(t *testing.T) {
	data, err := Seal(sample(), testPass, 10)
	if err != nil {
		t.Fatal(err)
	}
	if !IsBundle(data) {
		t.Fatal("not recognized as a bundle")
	}
	c, err := Open(data, testPass)
	if err != nil {
		t.Fatal(err)
	}
	if c.Default != "p2" || len(c.Profiles) != 2 || string(c.Profiles[0].Files["key.pem"]) != "k1" || !c.Created.Equal(sample().Created) {
		t.Fatalf("contents %+v", c)
	}
	damaged := append([]byte(nil), data...)
	damaged[len(damaged)-1] ^= 1
	tests := []struct {
		name string
		data []byte
		pass string
		want error
	}{
		{"wrong passphrase", data, "another passphrase", ErrPassphrase},
		{"damaged", damaged, testPass, ErrDamaged},
		{"truncated", data[:len(data)-30], testPass, ErrDamaged},
		{"not age", []byte("hello"), testPass, ErrDamaged},
		{"too large", make([]byte, MaxDecrypted+(2<<20)), testPass, ErrTooLarge},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			if _, err := Open(tc.data, tc.pass); !errors.Is(err, tc.want) {
				t.Fatalf("error %v, want %v", err, tc.want)
			}
		})
	}
	if _, err := Seal(sample(), "short", 10); err == nil {
		t.Error("short passphrase accepted")
	}
	bad := sample()
	bad.Profiles[0].Files["../../etc/passwd"] = []byte("x")
	if _, err := Seal(bad, testPass, 10); err == nil {
		t.Error("a bad file name was sealed")
	}
}

func tarOf(t testing.TB, entries ...[2]string) []byte {
	t.Helper()
	var buf bytes.Buffer
	tw := tar.NewWriter(&buf)
	for _, e := range entries {
		if err := tw.WriteHeader(&tar.Header{Name: e[0], Mode: 0o600, Size: int64(len(e[1])), Typeflag: tar.TypeReg}); err != nil {
			t.Fatal(err)
		}
		tw.Write([]byte(e[1]))
	}
	tw.Close()
	return buf.Bytes()
}

func TestDecodeTarRejects(t *testing.T) {
	man := `{"format":1,"profiles":["p1"]}`
	tests := []struct {
		name    string
		entries [][2]string
		want    string
	}{
		{"no manifest first", [][2]string{{"profiles/p1/key.pem", "k"}, {"manifest.json", man}}, "manifest must come first"},
		{"traversal", [][2]string{{"manifest.json", man}, {"profiles/../p1/key.pem", "k"}}, "unexpected entry"},
		{"hidden file", [][2]string{{"manifest.json", man}, {"profiles/p1/.run.sh", "k"}}, "unexpected entry"},
		{"nested file", [][2]string{{"manifest.json", man}, {"profiles/p1/sub/run.sh", "k"}}, "unexpected entry"},
		{"unlisted", [][2]string{{"manifest.json", man}, {"profiles/p1/key.pem", "k"}, {"profiles/p9/key.pem", "k"}}, "does not list"},
		{"missing", [][2]string{{"manifest.json", `{"format":1,"profiles":["p1","p2"]}`}, {"profiles/p1/key.pem", "k"}}, "without files"},
		{"bad default", [][2]string{{"manifest.json", `{"format":1,"default":"zz","profiles":["p1"]}`}, {"profiles/p1/key.pem", "k"}}, "default profile"},
		{"format", [][2]string{{"manifest.json", `{"format":9}`}}, "unsupported bundle format"},
		{"duplicate", [][2]string{{"manifest.json", man}, {"profiles/p1/key.pem", "k"}, {"profiles/p1/key.pem", "k"}}, "duplicate entry"},
		{"empty", nil, "no manifest"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			_, err := DecodeTar(tarOf(t, tc.entries...))
			if !errors.Is(err, ErrDamaged) || !strings.Contains(err.Error(), tc.want) {
				t.Fatalf("error %v, want %q", err, tc.want)
			}
		})
	}
	// A symlink entry is refused.
	var buf bytes.Buffer
	tw := tar.NewWriter(&buf)
	tw.WriteHeader(&tar.Header{Name: "manifest.json", Mode: 0o600, Size: int64(len(man)), Typeflag: tar.TypeReg})
	tw.Write([]byte(man))
	tw.WriteHeader(&tar.Header{Name: "profiles/p1/key.pem", Linkname: "/etc/shadow", Typeflag: tar.TypeSymlink})
	tw.Close()
	if _, err := DecodeTar(buf.Bytes()); !errors.Is(err, ErrDamaged) {
		t.Errorf("symlink entry: %v", err)
	}
}

func FuzzDecodeTar(f *testing.F) {
	plain, err := encodeTar(sample())
	if err != nil {
		f.Fatal(err)
	}
	f.Add(plain)
	f.Add(tarOf(f, [2]string{"manifest.json", `{"format":1,"profiles":[]}`}))
	f.Add([]byte("not a tar"))
	f.Fuzz(func(t *testing.T, data []byte) {
		c, err := DecodeTar(data)
		if err != nil {
			return
		}
		for _, p := range c.Profiles {
			if !idRe.MatchString(p.ID) {
				t.Fatalf("accepted id %q", p.ID)
			}
			for n := range p.Files {
				if !AllowedFile(n) {
					t.Fatalf("accepted file %q", n)
				}
			}
		}
		// Whatever was accepted seals again.
		if _, err := encodeTar(c); err != nil {
			t.Fatalf("re-encode: %v", err)
		}
	})
}

func FuzzOpen(f *testing.F) {
	data, err := Seal(sample(), testPass, 10)
	if err != nil {
		f.Fatal(err)
	}
	f.Add(data)
	f.Add([]byte("age-encryption.org/v1\n-> scrypt AAAA 30\n"))
	f.Fuzz(func(t *testing.T, data []byte) {
		_, _ = Open(data, testPass) // must not panic or hang
	})
}
