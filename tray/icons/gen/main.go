// Command gen writes the tray icons (PNG per size, ICO per kind) drawn by
// package icons into a folder; `go generate ./tray/icons` runs it.
package main

import (
	"flag"
	"fmt"
	"log/slog"
	"os"
	"path/filepath"

	"github.com/entitle/entitle/tray/icons"
)

func main() {
	out := flag.String("out", "data", "folder to write the icons to")
	flag.Parse()
	if err := run(*out); err != nil {
		slog.Error("generate icons", "err", err)
		os.Exit(1)
	}
}

func run(out string) error {
	if err := os.MkdirAll(out, 0o755); err != nil {
		return fmt.Errorf("create %s: %w", out, err)
	}
	for _, k := range icons.Kinds {
		for _, s := range icons.Sizes {
			b, err := icons.EncodePNG(k, s)
			if err != nil {
				return err
			}
			if err := os.WriteFile(filepath.Join(out, icons.PNGName(k, s)), b, 0o644); err != nil {
				return fmt.Errorf("write icon: %w", err)
			}
		}
		b, err := icons.EncodeICO(k)
		if err != nil {
			return err
		}
		if err := os.WriteFile(filepath.Join(out, icons.ICOName(k)), b, 0o644); err != nil {
			return fmt.Errorf("write icon: %w", err)
		}
	}
	return nil
}
