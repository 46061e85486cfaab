//go:build !linux && !darwin && !windows

package profilescli

import (
	"errors"
	"io"
	"os"
)

func readSecretTerminal(*os.File, io.Writer, string) (string, error) {
	return "", errors.New("reading a hidden passphrase is not supported here: use --passphrase-stdin")
}
