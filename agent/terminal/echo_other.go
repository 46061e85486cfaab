//go:build !linux && !darwin

package terminal

import (
	"io"
	"os"

	"golang.org/x/term"
)

// readSecret reads with golang.org/x/term (the Windows console turns echo
// off for the read itself, so typed-ahead keys are not shown either).
func readSecret(f *os.File, out io.Writer, prompt string, _ int) (string, error) {
	fd := int(f.Fd())
	if !term.IsTerminal(fd) {
		return "", ErrNotTerminal
	}
	if _, err := io.WriteString(out, prompt); err != nil {
		return "", err
	}
	b, err := term.ReadPassword(fd)
	return string(b), err
}
