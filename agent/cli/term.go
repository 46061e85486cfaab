package cli

import (
	"os"

	"github.com/mattn/go-isatty"
)

// isTerminal reports whether f is an *os.File on an interactive terminal.
func isTerminal(f any) bool {
	file, ok := f.(*os.File)
	if !ok {
		return false
	}
	return isatty.IsTerminal(file.Fd()) || isatty.IsCygwinTerminal(file.Fd())
}
