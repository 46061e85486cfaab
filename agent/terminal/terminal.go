// Package terminal reads secrets (passwords, passphrases) from the person at
// a terminal: echo is turned off before the prompt is written, so nothing
// typed after the prompt appears, even typed ahead.
package terminal

import (
	"errors"
	"io"
	"os"
)

// ErrNotTerminal is returned when the file is not a terminal: the caller
// should tell the person which flag reads the secret from stdin instead.
var ErrNotTerminal = errors.New("not a terminal") // i18n:ignore sentinel, callers word it

// ReadSecret writes prompt to out and reads one line of at most max bytes
// from the terminal f without echo; the line break the person typed is
// echoed back as a newline.
func ReadSecret(f *os.File, out io.Writer, prompt string, max int) (string, error) {
	line, err := readSecret(f, out, prompt, max)
	_, _ = io.WriteString(out, "\n")
	if err != nil {
		return "", err
	}
	if len(line) > max {
		line = line[:max+1] // the caller's length check refuses it
	}
	return line, nil
}
