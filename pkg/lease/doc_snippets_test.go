package lease

import (
	"bufio"
	"context"
	"crypto/ed25519"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/entitle/entitle/pkg/testenv"
)

// docSnippet returns the one fenced code block of language lang in
// docs/lease.md.
func docSnippet(t *testing.T, doc, lang string) string {
	t.Helper()
	m := regexp.MustCompile("(?s)\n```"+regexp.QuoteMeta(lang)+"\n(.*?)\n```\n").FindAllStringSubmatch(doc, -1)
	if len(m) != 1 {
		t.Fatalf("docs/lease.md has %d %s blocks, want 1", len(m), lang)
	}
	return m[0][1] + "\n"
}

// runner runs one language's program with the given environment and returns
// its output and whether it exited 0.
type runner func(t *testing.T, env []string) (string, bool)

func runCmd(t *testing.T, dir string, env []string, name string, args ...string) (string, bool) {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
	defer cancel()
	cmd := exec.CommandContext(ctx, name, args...)
	cmd.Dir = dir
	cmd.Env = append(os.Environ(), env...)
	out, err := cmd.CombinedOutput()
	if err != nil {
		if _, ok := err.(*exec.ExitError); !ok {
			t.Fatalf("%s: %v\n%s", name, err, out)
		}
	}
	return strings.TrimSpace(string(out)), err == nil
}

func write(t *testing.T, path, content string) {
	t.Helper()
	if err := os.WriteFile(path, []byte(content), 0o600); err != nil {
		t.Fatal(err)
	}
}

// goRunner builds the Go program in a module of its own that requires the
// go-jose version this repository pins.
func goRunner(t *testing.T, src string) runner {
	dir := t.TempDir()
	goBin := testenv.LookPath(t, "go")
	root := testenv.RepoRoot(t)
	sum, err := os.ReadFile(filepath.Join(root, "go.sum"))
	if err != nil {
		t.Fatal(err)
	}
	var joseSum []string
	version := ""
	sc := bufio.NewScanner(strings.NewReader(string(sum)))
	for sc.Scan() {
		if f := strings.Fields(sc.Text()); len(f) == 3 && f[0] == "github.com/go-jose/go-jose/v4" {
			joseSum = append(joseSum, sc.Text())
			version = strings.TrimSuffix(f[1], "/go.mod")
		}
	}
	if version == "" {
		t.Fatal("go.sum has no go-jose/v4")
	}
	write(t, filepath.Join(dir, "go.mod"), "module leasecheck\n\ngo 1.24\n\nrequire github.com/go-jose/go-jose/v4 "+version+"\n")
	write(t, filepath.Join(dir, "go.sum"), strings.Join(joseSum, "\n")+"\n")
	write(t, filepath.Join(dir, "main.go"), src)
	if out, ok := runCmd(t, dir, []string{"GOWORK=off", "GOFLAGS=-mod=mod"}, goBin, "build", "-o", "verify", "."); !ok {
		t.Fatalf("go build of the documented Go program: %s", out)
	}
	return func(t *testing.T, env []string) (string, bool) {
		return runCmd(t, dir, env, filepath.Join(dir, "verify"))
	}
}

// joseVersion is the npm jose the JavaScript program is tested with (5.x
// runs on Debian's Node 18 as well as on newer ones).
const joseVersion = "5.9.5"

func nodeRunner(t *testing.T, src string) runner {
	dir := t.TempDir()
	node := testenv.LookPath(t, "node")
	npm := testenv.LookPath(t, "npm")
	write(t, filepath.Join(dir, "package.json"), `{"name":"leasecheck","private":true,"type":"module"}`)
	out, ok := runCmd(t, dir, nil, npm, "install", "--no-audit", "--no-fund", "--ignore-scripts", "jose@"+joseVersion)
	testenv.Require(t, ok, "the npm registry (npm install jose: "+out+")")
	write(t, filepath.Join(dir, "verify.mjs"), src)
	return func(t *testing.T, env []string) (string, bool) {
		return runCmd(t, dir, env, node, "verify.mjs")
	}
}

// pythonWithJWT finds a python3 that has PyJWT and cryptography (Debian's
// python3-jwt and python3-cryptography).
func pythonWithJWT(t *testing.T) string {
	t.Helper()
	for _, p := range []string{"/usr/bin/python3", "python3"} {
		bin, err := exec.LookPath(p)
		if err != nil {
			continue
		}
		if exec.Command(bin, "-c", "import jwt, cryptography").Run() == nil {
			return bin
		}
	}
	testenv.Require(t, false, "python3 with PyJWT and cryptography (python3-jwt, python3-cryptography)")
	return ""
}

func pythonRunner(t *testing.T, src string) runner {
	dir := t.TempDir()
	py := pythonWithJWT(t)
	write(t, filepath.Join(dir, "verify.py"), src)
	return func(t *testing.T, env []string) (string, bool) {
		return runCmd(t, dir, env, py, "verify.py")
	}
}

func javaRunner(t *testing.T, src string) runner {
	dir := t.TempDir()
	javac := testenv.LookPath(t, "javac")
	java := testenv.LookPath(t, "java")
	write(t, filepath.Join(dir, "VerifyLease.java"), src)
	if out, ok := runCmd(t, dir, nil, javac, "VerifyLease.java"); !ok {
		t.Fatalf("javac of the documented Java program: %s", out)
	}
	return func(t *testing.T, env []string) (string, bool) {
		return runCmd(t, dir, env, java, "-cp", dir, "VerifyLease")
	}
}

// TestLeaseSnippets runs the verification programs of docs/lease.md
// (extracted from the page) in Go, JavaScript, Python and Java: the worked
// example verifies at the documented clock and is refused when expired, on
// another machine, altered or signed by an unpinned key; a lease signed for
// the current time verifies with the real clock. (The C# program is not run:
// there is no .NET here.)
func TestLeaseSnippets(t *testing.T) {
	raw, err := os.ReadFile(filepath.Join(testenv.RepoRoot(t), "docs", "lease.md"))
	if err != nil {
		t.Fatal(err)
	}
	doc := string(raw)
	example := regexp.MustCompile(`(?m)^(eyJ[A-Za-z0-9_-]+\.[A-Za-z0-9_-]+\.[A-Za-z0-9_-]+)$`).FindString(doc)
	jwks := regexp.MustCompile(`(?m)^\{"keys":.*\}$`).FindString(doc)
	clock := regexp.MustCompile("`NOW=([0-9]+)`").FindStringSubmatch(doc)
	if example == "" || jwks == "" || clock == nil {
		t.Fatal("docs/lease.md lost its example token, key set or documented clock")
	}
	const fpr = "3f6c1b0e9a4d7c2e8b5f0a1d6e3c9b7a2f4e8d1c5b9a3e7f0c2d6b8a4e1f5c9d"
	if !strings.Contains(doc, "`"+fpr+"`") {
		t.Fatal("docs/lease.md lost the example fingerprint")
	}

	// The documented key: seed 0x00..0x1f.
	seed := make([]byte, ed25519.SeedSize)
	for i := range seed {
		seed[i] = byte(i)
	}
	signer, err := NewSigner(ed25519.NewKeyFromSeed(seed))
	if err != nil {
		t.Fatal(err)
	}
	ks, _ := NewKeySet(signer.Public())
	example0, err := Parse(example, ks)
	if err != nil {
		t.Fatalf("the example does not parse: %v", err)
	}
	now := time.Now()
	fresh := *example0
	fresh.IssuedAt, fresh.NotBefore = now.Add(-time.Minute).Unix(), now.Add(-time.Minute).Unix()
	fresh.CheckinAt, fresh.Expiry = now.Add(15*time.Minute).Unix(), now.Add(7*24*time.Hour).Unix()
	freshTok, err := signer.Sign(fresh)
	if err != nil {
		t.Fatal(err)
	}
	other, _ := NewSigner(ed25519.NewKeyFromSeed(make([]byte, ed25519.SeedSize)))
	otherJWKS, _ := mustKeySet(t, other.Public()).MarshalJSON()
	// One bit of one base64 character of the payload flipped.
	parts := strings.Split(example, ".")
	b := []byte(parts[1])
	b[10] ^= 1
	tampered := parts[0] + "." + string(b) + "." + parts[2]

	at := clock[1]
	wantOK := "ok Pro lic_7QX4 2026-11-29T12:00:00Z"
	cases := []struct {
		name string
		env  []string
		want string // the output of an acceptance, "" for a refusal
	}{
		{"example at the documented clock", []string{"LEASE=" + example, "JWKS=" + jwks, "FINGERPRINT=" + fpr, "NOW=" + at}, wantOK},
		{"example a week after expiry", []string{"LEASE=" + example, "JWKS=" + jwks, "FINGERPRINT=" + fpr, "NOW=" + fmt.Sprint(example0.Expiry+7*86400)}, ""},
		{"example at its expiry", []string{"LEASE=" + example, "JWKS=" + jwks, "FINGERPRINT=" + fpr, "NOW=" + fmt.Sprint(example0.Expiry)}, ""},
		{"example before it was issued", []string{"LEASE=" + example, "JWKS=" + jwks, "FINGERPRINT=" + fpr, "NOW=" + fmt.Sprint(example0.IssuedAt-3600)}, ""},
		{"example on another machine", []string{"LEASE=" + example, "JWKS=" + jwks, "FINGERPRINT=" + strings.Repeat("ab", 32), "NOW=" + at}, ""},
		{"example altered", []string{"LEASE=" + tampered, "JWKS=" + jwks, "FINGERPRINT=" + fpr, "NOW=" + at}, ""},
		{"example with its key unpinned", []string{"LEASE=" + example, "JWKS=" + string(otherJWKS), "FINGERPRINT=" + fpr, "NOW=" + at}, ""},
		{"fresh lease, real clock", []string{"LEASE=" + freshTok, "JWKS=" + jwks, "FINGERPRINT=" + fpr, "NOW="}, "ok Pro lic_7QX4 " + time.Unix(fresh.Expiry, 0).UTC().Format(time.RFC3339)},
	}
	// The cases must hold for pkg/lease itself, or the table is wrong.
	for _, tc := range cases {
		env := map[string]string{}
		for _, kv := range tc.env {
			k, v, _ := strings.Cut(kv, "=")
			env[k] = v
		}
		keys, err := ParseKeySet([]byte(env["JWKS"]))
		if err != nil {
			t.Fatal(err)
		}
		when := now
		if env["NOW"] != "" {
			var n int64
			fmt.Sscan(env["NOW"], &n)
			when = time.Unix(n, 0)
		}
		_, err = Verify(env["LEASE"], keys, env["FINGERPRINT"], when)
		if (err == nil) != (tc.want != "") {
			t.Fatalf("pkg/lease disagrees with the case %q: %v", tc.name, err)
		}
	}

	for _, lang := range []struct {
		name, fence string
		build       func(*testing.T, string) runner
	}{
		{"go", "go", goRunner},
		{"javascript", "js", nodeRunner},
		{"python", "python", pythonRunner},
		{"java", "java", javaRunner},
	} {
		t.Run(lang.name, func(t *testing.T) {
			run := lang.build(t, docSnippet(t, doc, lang.fence))
			for _, tc := range cases {
				out, ok := run(t, tc.env)
				if tc.want != "" && (!ok || out != tc.want) {
					t.Errorf("%s: got %q (exit ok %v), want %q", tc.name, out, ok, tc.want)
				}
				if tc.want == "" && (ok || !strings.HasPrefix(out, "refused:")) {
					t.Errorf("%s: got %q (exit ok %v), want a refusal", tc.name, out, ok)
				}
				t.Logf("%s: %s", tc.name, out)
			}
		})
	}
	// The C# program is shown, not run: it must at least be there.
	if !strings.Contains(docSnippet(t, doc, "csharp"), "SignatureAlgorithm.Ed25519") {
		t.Fatal("the C# program lost its Ed25519 verification")
	}
}

func mustKeySet(t *testing.T, pub ed25519.PublicKey) *KeySet {
	t.Helper()
	ks, err := NewKeySet(pub)
	if err != nil {
		t.Fatal(err)
	}
	return ks
}
