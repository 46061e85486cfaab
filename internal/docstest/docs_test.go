package docstest

import (
	"context"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/entitle/entitle/pkg/testenv"
	"github.com/entitle/entitle/scripts/demotest"
)

// TestParse reads fences, languages, tags and code.
func TestParse(t *testing.T) {
	doc := "text\n<!-- docs:run want=\"entitled\":true -->\n```sh\ncurl -s x\n```\n\n" +
		"<!-- docs:skip a fragment -->\n```go\nx := 1\n```\n" +
		"```toml\na = 1\n```\n" +
		"<!-- docs:config agent -->\n\n```toml\nb = 2\n```\n" +
		"````md\n```go\nnested\n```\n````\n"
	blocks, err := ParseReader("x.md", strings.NewReader(doc))
	if err != nil {
		t.Fatal(err)
	}
	want := []Block{
		{File: "x.md", Line: 3, Lang: "sh", Tag: "run", Arg: `want="entitled":true`, Code: "curl -s x\n"},
		{File: "x.md", Line: 8, Lang: "go", Tag: "skip", Arg: "a fragment", Code: "x := 1\n"},
		{File: "x.md", Line: 11, Lang: "toml", Code: "a = 1\n"},
		{File: "x.md", Line: 16, Lang: "toml", Code: "b = 2\n"}, // a blank line between tag and fence: untagged
		{File: "x.md", Line: 19, Lang: "md", Code: "```go\nnested\n```\n"},
	}
	if len(blocks) != len(want) {
		t.Fatalf("got %d blocks %+v, want %d", len(blocks), blocks, len(want))
	}
	for i := range want {
		if blocks[i] != want[i] {
			t.Errorf("block %d: got %+v, want %+v", i, blocks[i], want[i])
		}
	}
	if _, err := ParseReader("y.md", strings.NewReader("```sh\nopen\n")); err == nil {
		t.Error("an unclosed block parsed without error")
	}
}

func FuzzParse(f *testing.F) {
	f.Add("<!-- docs:run -->\n```sh\necho\n```\n")
	f.Add("````\n```\n````\n~~~go\n~~~\n")
	f.Fuzz(func(t *testing.T, doc string) {
		blocks, err := ParseReader("f.md", strings.NewReader(doc))
		if err != nil {
			return
		}
		for _, b := range blocks {
			if b.Line < 1 || !strings.Contains(doc, b.Code) {
				t.Fatalf("block %+v not in the document", b)
			}
		}
	})
}

// TestDocsBlocksTagged: every block of a language that can run says what
// the tests do with it (run, config or skip with a reason).
func TestDocsBlocksTagged(t *testing.T) {
	blocks, err := All(testenv.RepoRoot(t))
	if err != nil {
		t.Fatal(err)
	}
	for _, b := range blocks {
		switch {
		case !Runnable(b.Lang):
		case b.Tag == "":
			t.Errorf("%s: untagged example: put <!-- docs:run -->, <!-- docs:config agent|server --> or <!-- docs:skip REASON --> on the line before the fence", b)
		case b.Tag == "skip" && b.Arg == "":
			t.Errorf("%s: docs:skip without a reason", b)
		case b.Tag == "config" && (b.Lang != "toml" || (b.Arg != "agent" && b.Arg != "server")):
			t.Errorf("%s: docs:config %q: want a toml block and agent or server", b, b.Arg)
		case b.Tag == "run" && b.Lang == "toml":
			t.Errorf("%s: a toml block is checked with docs:config, not run", b)
		}
	}
}

// env is what examples run against: a demo (make run's script), the programs
// on PATH and in ./bin, make run's folder as ./run.
type env struct {
	demo    *demotest.Demo
	bin     string
	workdir string
	key     string // the demo server's signing public key
}

// substitute points an example at the demo: the documented default ports
// become the demo's, the public key placeholder the demo's key.
func (e *env) substitute(code string) string {
	return strings.NewReplacer(
		"127.0.0.1:7343", fmt.Sprintf("127.0.0.1:%d", e.demo.AgentPort),
		"127.0.0.1:8780", fmt.Sprintf("127.0.0.1:%d", e.demo.ServerPort),
		"<base64url-public-key>", e.key,
	).Replace(code)
}

func (e *env) environ() []string {
	var out []string
	for _, kv := range os.Environ() {
		if k, _, _ := strings.Cut(kv, "="); !strings.HasPrefix(k, "ENTITLE_") && k != "PATH" {
			out = append(out, kv)
		}
	}
	return append(out,
		"PATH="+e.bin+string(os.PathListSeparator)+os.Getenv("PATH"),
		"ENTITLE_CONFIG="+filepath.Join(e.demo.Dir, "agent.toml"),
		fmt.Sprintf("ENTITLE_LISTEN=127.0.0.1:%d", e.demo.AgentPort),
		"ENTITLE_STATE_DIR="+filepath.Join(e.demo.Dir, "agent"),
	)
}

// runCmd runs cmd in the example's environment and returns its output.
func (e *env) runCmd(t *testing.T, b Block, cmd *exec.Cmd) string {
	t.Helper()
	cmd.Dir, cmd.Env = e.workdir, e.environ()
	out, err := cmd.CombinedOutput()
	if err != nil {
		t.Fatalf("%s: %v\n--- example (as run)\n%s--- output\n%s", b, err, e.substitute(b.Code), out)
	}
	return string(out)
}

var keyRe = regexp.MustCompile(`pinned_keys = \["([A-Za-z0-9_-]{43})"`)

// TestDocsExamples runs every docs:run example of README.md and docs/
// against a real demo (the server and the agent of make run), and checks
// every docs:config file with the program it configures.
func TestDocsExamples(t *testing.T) {
	root := testenv.RepoRoot(t)
	blocks, err := All(root)
	if err != nil {
		t.Fatal(err)
	}
	e := &env{bin: demotest.Bin(t), workdir: t.TempDir()}
	e.demo = demotest.Start(t, e.bin, 0, 0)
	e.demo.WaitReady(t, 120*time.Second)
	toml, err := os.ReadFile(filepath.Join(e.demo.Dir, "agent.toml"))
	if err != nil {
		t.Fatal(err)
	}
	m := keyRe.FindSubmatch(toml)
	if m == nil {
		t.Fatalf("no pinned key in the demo's agent.toml:\n%s", toml)
	}
	e.key = string(m[1])
	for _, link := range [][2]string{{"bin", e.bin}, {"run", e.demo.Dir}} {
		if err := os.Symlink(link[1], filepath.Join(e.workdir, link[0])); err != nil {
			t.Fatal(err)
		}
	}

	ran := 0
	for _, b := range blocks {
		if b.Tag != "run" && b.Tag != "config" {
			continue
		}
		ran++
		t.Run(fmt.Sprintf("%s:%d", b.File, b.Line), func(t *testing.T) {
			var out string
			switch {
			case b.Tag == "config":
				out = e.checkConfig(t, b)
			case b.Lang == "go":
				out = e.runGo(t, root, b)
			case b.Lang == "sh" || b.Lang == "bash" || b.Lang == "shell":
				out = e.runCmd(t, b, exec.Command("bash", "-e", "-o", "pipefail", "-c", e.substitute(b.Code)))
			case b.Lang == "python":
				out = e.runCmd(t, b, exec.Command("python3", "-c", e.substitute(b.Code)))
			default:
				t.Fatalf("%s: cannot run %s blocks", b, b.Lang)
			}
			if want, ok := strings.CutPrefix(b.Arg, "want="); ok && !strings.Contains(out, want) {
				t.Errorf("%s: output lacks %q:\n%s", b, want, out)
			}
		})
	}
	if ran == 0 {
		t.Fatal("no example ran")
	}
}

// runGo vets, builds and runs a Go example as a program of this module.
func (e *env) runGo(t *testing.T, root string, b Block) string {
	t.Helper()
	if !strings.HasPrefix(strings.TrimSpace(b.Code), "package main") {
		t.Fatalf("%s: a Go example that runs is a whole program (package main); tag a fragment docs:skip", b)
	}
	// Inside the module (so it builds against the real packages), in a
	// folder ./... ignores.
	dir, err := os.MkdirTemp(filepath.Join(root, "internal", "docstest"), "_example-")
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { os.RemoveAll(dir) })
	if err := os.WriteFile(filepath.Join(dir, "main.go"), []byte(e.substitute(b.Code)), 0o644); err != nil {
		t.Fatal(err)
	}
	pkg := "./" + filepath.ToSlash(must(filepath.Rel(root, dir)))
	exe := filepath.Join(t.TempDir(), "example")
	for _, args := range [][]string{{"vet", pkg}, {"build", "-o", exe, pkg}} {
		cmd := exec.Command("go", args...)
		cmd.Dir = root
		if out, err := cmd.CombinedOutput(); err != nil {
			t.Fatalf("%s: go %s: %v\n%s", b, strings.Join(args, " "), err, out)
		}
	}
	ctx, cancel := context.WithTimeout(context.Background(), 60*time.Second)
	defer cancel()
	return e.runCmd(t, b, exec.CommandContext(ctx, exe))
}

// checkConfig has the program a TOML example configures load it.
func (e *env) checkConfig(t *testing.T, b Block) string {
	t.Helper()
	file := filepath.Join(t.TempDir(), "example.toml")
	if err := os.WriteFile(file, []byte(b.Code), 0o600); err != nil {
		t.Fatal(err)
	}
	if b.Arg == "agent" {
		return e.runCmd(t, b, exec.Command(filepath.Join(e.bin, "entitle"), "config", "show", "--config", file))
	}
	// The admin commands accept every key of a serve file (one file serves
	// all commands); migrate touches only its own scratch database.
	db := "sqlite:" + filepath.Join(t.TempDir(), "scratch.db")
	return e.runCmd(t, b, exec.Command(filepath.Join(e.bin, "entitle-server"), "--config", file, "--db", db, "migrate"))
}

func must[T any](v T, err error) T {
	if err != nil {
		panic(err)
	}
	return v
}
