package docstest

import (
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strconv"
	"strings"
	"testing"

	"github.com/entitle/entitle/pkg/testenv"
	"github.com/entitle/entitle/scripts/demotest"
)

var (
	linkRe   = regexp.MustCompile(`\]\(([^)\s]+)\)`)
	spanRe   = regexp.MustCompile("`([^`\n]+)`")
	repoPath = regexp.MustCompile(`^(\.ci|agent|docs|installer|internal|pkg|scripts|server|tray)/[A-Za-z0-9_./-]*$|^(Makefile|go\.mod|README\.md)$`)
	makeRe   = regexp.MustCompile(`(?:^|[\s;&(])make ([a-z][a-z-]*)`)
	targetRe = regexp.MustCompile(`(?m)^([a-z][a-z-]*):`)
	wordRe   = regexp.MustCompile(`^[a-z][a-z-]*$`)
	goIdent  = regexp.MustCompile(`\.[A-Z][A-Za-z0-9]*$`)
	flagRe   = regexp.MustCompile(`^(--[a-z][a-z0-9-]*)(?:=.*)?$`)
)

// docText is the Markdown text of every documentation file, by name.
func docText(t *testing.T, root string) map[string]string {
	t.Helper()
	files, err := Files(root)
	if err != nil {
		t.Fatal(err)
	}
	out := map[string]string{}
	for _, f := range files {
		b, err := os.ReadFile(filepath.Join(root, f))
		if err != nil {
			t.Fatal(err)
		}
		out[f] = string(b)
	}
	return out
}

// TestDocsPathsExist: what README.md and docs/ name exists: files they link
// to, repository paths in `code`, make targets, and entitle / entitle-server
// commands.
func TestDocsPathsExist(t *testing.T) {
	root := testenv.RepoRoot(t)
	docs := docText(t, root)
	makefile, err := os.ReadFile(filepath.Join(root, "Makefile"))
	if err != nil {
		t.Fatal(err)
	}
	targets := map[string]bool{}
	for _, m := range targetRe.FindAllStringSubmatch(string(makefile), -1) {
		targets[m[1]] = true
	}
	commands := map[string]map[string]bool{} // program -> "sub sub" -> seen in file:line
	for name, text := range docs {
		dir := filepath.Dir(name)
		fence := ""
		for i, line := range strings.Split(text, "\n") {
			where := name + ":" + itoa(i+1)
			inBlock := fence != ""
			if t := strings.TrimSpace(line); strings.HasPrefix(t, "```") {
				switch {
				case fence == "":
					fence = t[:len(t)-len(strings.TrimLeft(t, "`"))]
				case strings.Trim(t, "`") == "" && len(t) >= len(fence):
					fence = ""
				}
				continue
			}
			for _, m := range linkRe.FindAllStringSubmatch(line, -1) {
				link := m[1]
				if strings.Contains(link, "://") || strings.HasPrefix(link, "mailto:") || strings.HasPrefix(link, "#") {
					continue
				}
				link, _, _ = strings.Cut(link, "#")
				if _, err := os.Stat(filepath.Join(root, dir, link)); err != nil {
					t.Errorf("%s: link to %s, which does not exist", where, m[1])
				}
			}
			spans := spanRe.FindAllStringSubmatch(line, -1)
			paths := []string{}
			for _, m := range spans {
				paths = append(paths, m[1])
			}
			if inBlock {
				paths = append(paths, strings.Fields(line)...)
			}
			for _, p := range paths {
				p = strings.TrimRight(p, ".,:;")
				p = goIdent.ReplaceAllString(p, "") // pkg/lease.Verify names the folder pkg/lease
				if repoPath.MatchString(p) && !strings.ContainsAny(p, "<>*") {
					if _, err := os.Stat(filepath.Join(root, p)); err != nil {
						t.Errorf("%s: names %s, which does not exist", where, p)
					}
				}
			}
			// make targets and commands, in code spans and in code blocks.
			var code []string
			for _, m := range spans {
				code = append(code, m[1])
			}
			if inBlock {
				code = append(code, line)
			}
			for _, c := range code {
				for _, m := range makeRe.FindAllStringSubmatch(c, -1) {
					if !targets[m[1]] {
						t.Errorf("%s: make %s: the Makefile has no target %s", where, m[1], m[1])
					}
				}
				if prog, words, flags := command(c); prog != "" {
					if commands[prog] == nil {
						commands[prog] = map[string]bool{}
					}
					commands[prog][strings.Join(words, " ")+"\x00"+where+"\x00"+strings.Join(flags, " ")] = true
				}
			}
		}
	}
	if len(commands) == 0 {
		t.Fatal("found no entitle or entitle-server command in the docs")
	}
	n := 0
	for _, uses := range commands {
		n += len(uses)
	}
	t.Logf("checking %d command uses", n)
	bin := demotest.Bin(t)
	help := map[string]string{} // "prog words" -> its --help, "" if not a command
	for prog, uses := range commands {
		for use := range uses {
			parts := strings.SplitN(use, "\x00", 3)
			words, where, flags := parts[0], parts[1], strings.Fields(parts[2])
			key := strings.TrimSpace(prog + " " + words)
			out, seen := help[key]
			if !seen {
				args := append(strings.Fields(words), "--help")
				cmd := exec.Command(filepath.Join(bin, prog), args...)
				cmd.Env = []string{"PATH=/usr/bin:/bin", "HOME=" + t.TempDir()}
				b, err := cmd.CombinedOutput()
				out = string(b)
				if err != nil || !strings.Contains(out, key) {
					t.Errorf("%s: `%s` is not a command: %v\n%s", where, key, err, out)
					out = ""
				}
				help[key] = out
			}
			for _, f := range flags {
				if out != "" && !regexp.MustCompile(regexp.QuoteMeta(f)+`\b`).MatchString(out) {
					t.Errorf("%s: `%s` has no flag %s", where, key, f)
				}
			}
		}
	}
}

// command returns the program (entitle or entitle-server) a line of code
// runs, its subcommand words and the --flags it passes, or "" when it runs
// neither.
func command(code string) (string, []string, []string) {
	fields := strings.Fields(code)
	for i, f := range fields {
		prog := filepath.Base(f)
		if prog != "entitle" && prog != "entitle-server" {
			continue
		}
		// A word before it must be a command position: start, sudo, a pipe...
		if i > 0 && !strings.Contains("sudo|&&;(--", fields[i-1]) && !strings.HasSuffix(fields[i-1], "=") && !strings.Contains(fields[i-1], "=") {
			continue
		}
		var words, flags []string
		rest := fields[i+1:]
		inWords := true
		for j := 0; j < len(rest); j++ {
			w := rest[j]
			if w == "#" || strings.ContainsAny(w, "|&;<>") && !strings.HasPrefix(w, "--") {
				break // a comment, a pipe, another command
			}
			if m := flagRe.FindStringSubmatch(w); m != nil {
				flags = append(flags, m[1])
				// Global flags before the subcommand: skip the flag and its
				// value (a word that cannot be a subcommand).
				if len(words) == 0 && !strings.Contains(w, "=") && j+1 < len(rest) && !wordRe.MatchString(rest[j+1]) && !strings.HasPrefix(rest[j+1], "-") {
					j++
				}
				if len(words) > 0 {
					inWords = false
				}
				continue
			}
			if inWords && wordRe.MatchString(w) {
				words = append(words, w)
				continue
			}
			inWords = false
		}
		return prog, words, flags
	}
	return "", nil, nil
}

func itoa(n int) string { return strconv.Itoa(n) }
