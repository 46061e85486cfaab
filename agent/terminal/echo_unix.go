//go:build linux || darwin

package terminal

import (
	"bufio"
	"errors"
	"io"
	"os"
	"strings"

	"golang.org/x/sys/unix"
)

// readSecret turns echo off before writing the prompt, so even what the
// person types ahead is not shown.
func readSecret(f *os.File, out io.Writer, prompt string, max int) (string, error) {
	restore, err := echoOff(f)
	if err != nil {
		return "", err
	}
	defer restore()
	if _, err := io.WriteString(out, prompt); err != nil {
		return "", err
	}
	line, err := bufio.NewReaderSize(io.LimitReader(f, int64(max)+2), max+2).ReadString('\n')
	if err != nil && !errors.Is(err, io.EOF) {
		return "", err
	}
	return strings.TrimRight(line, "\r\n"), nil
}

// echoOff turns echo off on f (keeping line editing and signals) and
// returns the function that restores the terminal.
func echoOff(f *os.File) (func(), error) {
	fd := int(f.Fd())
	old, err := unix.IoctlGetTermios(fd, ioctlGetTermios)
	if err != nil {
		return nil, ErrNotTerminal
	}
	noEcho := *old
	noEcho.Lflag &^= unix.ECHO
	noEcho.Lflag |= unix.ICANON | unix.ISIG
	if err := unix.IoctlSetTermios(fd, ioctlSetTermios, &noEcho); err != nil {
		return nil, err
	}
	return func() { _ = unix.IoctlSetTermios(fd, ioctlSetTermios, old) }, nil
}
