package profiles

import (
	"context"
	"testing"
)

func FuzzParseMeta(f *testing.F) {
	for _, s := range []string{
		`{"format":1,"id":"0b1c2d3e-aaaa-4bbb-8ccc-123456789abc","name":"Work","owner":"Jeanne","created":"2026-01-01T00:00:00Z","updated":"2026-01-01T00:00:00Z"}`,
		`{"format":2,"id":"x","name":"n","owner":"o","created":"2026-01-01T00:00:00Z","updated":"2026-01-01T00:00:00Z"}`,
		`{"format":1,"id":"../etc","name":"n"}`,
		`{"format":1,"id":"a","name":"\u0000"}`,
		`{} {}`, `[]`, `null`, ``, `{"format":1e999}`,
	} {
		f.Add([]byte(s))
	}
	f.Fuzz(func(t *testing.T, data []byte) {
		m, err := ParseMeta(data)
		if err != nil {
			return
		}
		if !ValidID(m.ID) || m.Validate() != nil {
			t.Fatalf("accepted invalid metadata %+v", m)
		}
		b, err := m.Marshal()
		if err != nil {
			t.Fatal(err)
		}
		again, err := ParseMeta(b)
		if err != nil || again.ID != m.ID || again.Name != m.Name || !again.Created.Equal(m.Created) {
			t.Fatalf("round trip: %+v %v", again, err)
		}
	})
}

func FuzzScanFiles(f *testing.F) {
	f.Add([]byte("-----BEGIN CERTIFICATE-----\nMIIB\n-----END CERTIFICATE-----\n"), []byte("-----BEGIN PRIVATE KEY-----\nMIIB\n-----END PRIVATE KEY-----\n"), []byte{})
	f.Add([]byte{0x30, 0x82, 0x01}, []byte{}, []byte{0x30, 0x80, 0x02, 0x01, 0x03})
	f.Fuzz(func(t *testing.T, cert, key, p12 []byte) {
		r := &record{dir: "fuzz"}
		files := map[string][]byte{CertFile: cert, KeyFile: key}
		if len(p12) > 0 {
			files = map[string][]byte{PKCS12File: p12}
		}
		r.parse(context.Background(), files)
		if r.problem == "" && (r.cert == nil || r.key == nil) {
			t.Fatal("a profile without certificate or key was judged usable")
		}
	})
}
