// Package docstest makes the documentation's examples run: it reads the fenced
// code blocks of README.md and docs/**/*.md, and its tests compile, vet and
// run them against the real programs (see docs_test.go).
//
// A block of a language that can run (go, sh, bash, shell, console, python,
// toml) must be tagged by an HTML comment on the line right before its fence,
// so no example is left out silently:
//
//	<!-- docs:run -->                 run it against a demo (make run's server and agent)
//	<!-- docs:run want=TEXT -->       the same, and its output must contain TEXT
//	<!-- docs:config agent -->        a TOML file the agent (entitle config show) accepts
//	<!-- docs:config server -->       a TOML file entitle-server accepts
//	<!-- docs:skip REASON -->         not run, for the reason given (a fragment, needs root, ...)
//
// A Go block that runs is a whole program (package main). Other blocks (plain
// ``` output, json, bat) are text and are not run. Independently of tags,
// TestDocsPathsExist checks that the files and repository paths the docs
// name exist, that `make X` is a Makefile target, and that every entitle and
// entitle-server command line in code (spans and blocks) names a real
// command and real flags.
package docstest

import (
	"bufio"
	"fmt"
	"io"
	"io/fs"
	"os"
	"path/filepath"
	"regexp"
	"slices"
	"strings"
)

// Block is one fenced code block of a Markdown file.
type Block struct {
	File string // relative to the repository root
	Line int    // of the opening fence, from 1
	Lang string // the fence's info string, first word
	Tag  string // run, config, skip or "" (untagged)
	Arg  string // the rest of the tag: want=TEXT, agent/server, the reason
	Code string
}

func (b Block) String() string { return fmt.Sprintf("%s:%d (```%s)", b.File, b.Line, b.Lang) }

// Runnable reports whether blocks of lang must carry a tag.
func Runnable(lang string) bool {
	return slices.Contains([]string{"go", "sh", "bash", "shell", "console", "python", "toml"}, lang)
}

var tagRe = regexp.MustCompile(`^<!--\s*docs:(run|config|skip)\b\s*(.*?)\s*-->$`)

// Parse returns the fenced blocks of one Markdown file.
func Parse(root, rel string) ([]Block, error) {
	f, err := os.Open(filepath.Join(root, rel))
	if err != nil {
		return nil, err
	}
	defer f.Close()
	return ParseReader(rel, f)
}

// ParseReader returns the fenced blocks of the Markdown text r, named rel.
func ParseReader(rel string, r io.Reader) ([]Block, error) {
	var (
		blocks []Block
		cur    *Block
		fence  string
		prev   string // the last line outside a block
		code   strings.Builder
	)
	sc := bufio.NewScanner(r)
	sc.Buffer(make([]byte, 1<<20), 1<<20)
	for n := 1; sc.Scan(); n++ {
		line := sc.Text()
		trimmed := strings.TrimSpace(line)
		if cur != nil {
			if len(trimmed) >= len(fence) && strings.Trim(trimmed, fence[:1]) == "" {
				cur.Code = code.String()
				blocks = append(blocks, *cur)
				cur, prev = nil, ""
				continue
			}
			code.WriteString(line)
			code.WriteByte('\n')
			continue
		}
		if strings.HasPrefix(trimmed, "```") || strings.HasPrefix(trimmed, "~~~") {
			fence = trimmed[:len(trimmed)-len(strings.TrimLeft(trimmed, trimmed[:1]))]
			info := strings.Fields(strings.Trim(trimmed, "`~"))
			cur = &Block{File: rel, Line: n}
			if len(info) > 0 {
				cur.Lang = info[0]
			}
			if m := tagRe.FindStringSubmatch(strings.TrimSpace(prev)); m != nil {
				cur.Tag, cur.Arg = m[1], m[2]
			}
			code.Reset()
			continue
		}
		prev = line
	}
	if err := sc.Err(); err != nil {
		return nil, fmt.Errorf("%s: %w", rel, err)
	}
	if cur != nil {
		return nil, fmt.Errorf("%s:%d: code block never closed", rel, cur.Line)
	}
	return blocks, nil
}

// Files returns README.md and every Markdown file under docs/, relative to root.
func Files(root string) ([]string, error) {
	files := []string{"README.md"}
	err := filepath.WalkDir(filepath.Join(root, "docs"), func(path string, d fs.DirEntry, err error) error {
		if err != nil {
			return err
		}
		if !d.IsDir() && strings.HasSuffix(path, ".md") {
			rel, err := filepath.Rel(root, path)
			if err != nil {
				return err
			}
			files = append(files, filepath.ToSlash(rel))
		}
		return nil
	})
	return files, err
}

// All returns every block of Files.
func All(root string) ([]Block, error) {
	files, err := Files(root)
	if err != nil {
		return nil, err
	}
	var all []Block
	for _, f := range files {
		b, err := Parse(root, f)
		if err != nil {
			return nil, err
		}
		all = append(all, b...)
	}
	return all, nil
}
