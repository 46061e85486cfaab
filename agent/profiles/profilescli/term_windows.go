package profilescli

import (
	"bufio"
	"errors"
	"fmt"
	"io"
	"os"
	"strings"

	"golang.org/x/sys/windows"
)

// readSecretTerminal reads one line from the console f with echo off.
func readSecretTerminal(f *os.File, out io.Writer, prompt string) (string, error) {
	h := windows.Handle(f.Fd())
	var mode uint32
	if err := windows.GetConsoleMode(h, &mode); err != nil {
		return "", errors.New("stdin is not a console")
	}
	if err := windows.SetConsoleMode(h, (mode&^windows.ENABLE_ECHO_INPUT)|windows.ENABLE_LINE_INPUT|windows.ENABLE_PROCESSED_INPUT); err != nil {
		return "", fmt.Errorf("cannot turn off echo: %w", err)
	}
	defer windows.SetConsoleMode(h, mode)
	fmt.Fprint(out, prompt)
	line, err := bufio.NewReader(io.LimitReader(f, maxSecret+2)).ReadString('\n')
	fmt.Fprintln(out)
	if err != nil && !errors.Is(err, io.EOF) {
		return "", err
	}
	return strings.TrimRight(line, "\r\n"), nil
}
