package pkgtest

import (
	"encoding/xml"
	"fmt"
	"io"
	"os"
	"os/exec"
	"path/filepath"
	"reflect"
	"strings"
	"testing"

	"github.com/entitle/entitle/pkg/testenv"
)

// parsePlist decodes an XML property list into Go values: map[string]any,
// []any, string, bool and int64 (the types launchd plists use).
func parsePlist(r io.Reader) (any, error) {
	d := xml.NewDecoder(r)
	for {
		tok, err := d.Token()
		if err != nil {
			return nil, fmt.Errorf("no <plist>: %w", err)
		}
		if se, ok := tok.(xml.StartElement); ok && se.Name.Local == "plist" {
			v, end, err := plistValue(d)
			if err != nil {
				return nil, err
			}
			if end {
				return nil, fmt.Errorf("empty <plist>")
			}
			return v, nil
		}
	}
}

// plistValue reads the next value; end reports a closing tag instead.
func plistValue(d *xml.Decoder) (v any, end bool, err error) {
	for {
		tok, err := d.Token()
		if err != nil {
			return nil, false, err
		}
		switch tok := tok.(type) {
		case xml.EndElement:
			return nil, true, nil
		case xml.StartElement:
			switch tok.Name.Local {
			case "dict":
				m := map[string]any{}
				for {
					tok, err := nextElement(d)
					if err != nil {
						return nil, false, err
					}
					se, ok := tok.(xml.StartElement)
					if !ok {
						return m, false, nil // </dict>
					}
					if se.Name.Local != "key" {
						return nil, false, fmt.Errorf("<dict> holds <%s> where a <key> belongs", se.Name.Local)
					}
					var key string
					if err := d.DecodeElement(&key, &se); err != nil {
						return nil, false, err
					}
					val, end, err := plistValue(d)
					if err != nil || end {
						return nil, false, fmt.Errorf("key %q has no value (%v)", key, err)
					}
					if _, dup := m[key]; dup {
						return nil, false, fmt.Errorf("key %q twice", key)
					}
					m[key] = val
				}
			case "array":
				a := []any{}
				for {
					val, end, err := plistValue(d)
					if err != nil {
						return nil, false, err
					}
					if end {
						return a, false, nil
					}
					a = append(a, val)
				}
			case "string":
				var s string
				err := d.DecodeElement(&s, &tok)
				return s, false, err
			case "integer":
				var n int64
				err := d.DecodeElement(&n, &tok)
				return n, false, err
			case "true", "false":
				return tok.Name.Local == "true", false, d.Skip()
			default:
				return nil, false, fmt.Errorf("unexpected <%s>", tok.Name.Local)
			}
		}
	}
}

// nextElement returns the next start or end element, skipping text and comments.
func nextElement(d *xml.Decoder) (xml.Token, error) {
	for {
		tok, err := d.Token()
		if err != nil {
			return nil, err
		}
		switch tok.(type) {
		case xml.StartElement, xml.EndElement:
			return tok, nil
		}
	}
}

// entitleBinary builds the agent for this computer once per test.
func entitleBinary(t *testing.T) string {
	t.Helper()
	return testenv.BuildBinary(t, "./agent/cmd/entitle")
}

func TestMacOSPlists(t *testing.T) {
	dir := filepath.Join(testenv.RepoRoot(t), "installer", "macos")
	buildPkg, err := os.ReadFile(filepath.Join(dir, "build-pkg.sh"))
	if err != nil {
		t.Fatal(err)
	}
	tests := []struct {
		file, destination string
		want              map[string]any
	}{
		{
			file:        "com.entitle.agent.plist",
			destination: "Library/LaunchDaemons",
			want: map[string]any{
				"Label": "com.entitle.agent",
				// --token-group staff: the signed-in person's tray and CLI
				// read the API token (root:staff 0640), as on Linux.
				"ProgramArguments": []any{"/usr/local/bin/entitle", "service", "run", "--config",
					"/Library/Application Support/Entitle/agent.toml", "--token-group", "staff"},
				"RunAtLoad": true,
				"KeepAlive": true,
				"Umask":     int64(0o027),
			},
		},
		{
			file:        "com.entitle.tray.plist",
			destination: "Library/LaunchAgents",
			want: map[string]any{
				"Label":                  "com.entitle.tray",
				"ProgramArguments":       []any{"/usr/local/bin/entitle-tray"},
				"RunAtLoad":              true,
				"KeepAlive":              map[string]any{"SuccessfulExit": false},
				"LimitLoadToSessionType": "Aqua",
			},
		},
	}
	for _, tt := range tests {
		t.Run(tt.file, func(t *testing.T) {
			f, err := os.Open(filepath.Join(dir, tt.file))
			if err != nil {
				t.Fatal(err)
			}
			defer f.Close()
			v, err := parsePlist(f)
			if err != nil {
				t.Fatalf("parse: %v", err)
			}
			m, ok := v.(map[string]any)
			if !ok {
				t.Fatalf("top level is %T, want a dict", v)
			}
			for k, want := range tt.want {
				if !reflect.DeepEqual(m[k], want) {
					t.Errorf("%s = %#v, want %#v", k, m[k], want)
				}
			}
			// The agent knows every flag the LaunchDaemon passes it.
			if args := m["ProgramArguments"].([]any); tt.file == "com.entitle.agent.plist" {
				var argv []string
				for _, a := range args[1:] {
					argv = append(argv, a.(string))
				}
				if out, err := exec.Command(entitleBinary(t), append(argv, "--help")...).CombinedOutput(); err != nil {
					t.Errorf("entitle %s --help: %v\n%s", strings.Join(argv, " "), err, out)
				}
			}
			// build-pkg.sh puts the plist where launchd looks and the
			// program where the plist points.
			for _, s := range []string{tt.file, tt.destination, strings.TrimPrefix(tt.want["ProgramArguments"].([]any)[0].(string), "/")} {
				if !strings.Contains(string(buildPkg), s) {
					t.Errorf("build-pkg.sh never mentions %s", s)
				}
			}
		})
	}
}

func TestParsePlistRejects(t *testing.T) {
	for _, tt := range []struct{ name, doc string }{
		{"no plist", `<dict/>`},
		{"value without key", `<plist><dict><string>x</string></dict></plist>`},
		{"key without value", `<plist><dict><key>Label</key></dict></plist>`},
		{"duplicate key", `<plist><dict><key>A</key><true/><key>A</key><false/></dict></plist>`},
		{"unknown type", `<plist><date>2026-01-01T00:00:00Z</date></plist>`},
	} {
		t.Run(tt.name, func(t *testing.T) {
			if v, err := parsePlist(strings.NewReader(tt.doc)); err == nil {
				t.Errorf("parsed %#v, want an error", v)
			}
		})
	}
}
