package state

import (
	"crypto/rand"
	"encoding/hex"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strings"

	"github.com/entitle/entitle/pkg/agentapi"
)

// TokenMode is the API token file's mode: the owner (the service) reads and
// writes it; members of the token group (people allowed to drive the agent)
// read it. See setTokenGroup in token_*.go for each OS.
const TokenMode = 0o640

// EnsureToken returns the local API token from dir/agentapi.TokenFile,
// creating the file with 32 random bytes in hex when it is missing or
// malformed. group, when not empty, names the OS group given read access
// (Unix: the file's group; Windows: unsupported, the file inherits the ACL of
// %ProgramData%\Entitle, readable by administrators and SYSTEM).
func EnsureToken(dir, group string) (string, error) {
	if err := os.MkdirAll(dir, 0o755); err != nil {
		return "", fmt.Errorf("api token: %w", err)
	}
	path := filepath.Join(dir, agentapi.TokenFile)
	tok, err := ReadToken(dir)
	if err != nil {
		if !errors.Is(err, os.ErrNotExist) && !errors.Is(err, errBadToken) {
			return "", err
		}
		var b [32]byte
		if _, err := rand.Read(b[:]); err != nil {
			return "", fmt.Errorf("api token: %w", err)
		}
		tok = hex.EncodeToString(b[:])
		if err := writeAtomic(dir, agentapi.TokenFile, []byte(tok+"\n"), TokenMode, nil); err != nil {
			return "", fmt.Errorf("api token: %w", err)
		}
	}
	if err := setTokenGroup(path, group); err != nil {
		return "", fmt.Errorf("api token: %w", err)
	}
	return tok, nil
}

var errBadToken = errors.New("api token file is malformed")

// ReadToken reads the local API token from dir (for clients such as the CLI).
func ReadToken(dir string) (string, error) {
	data, err := readLimited(filepath.Join(dir, agentapi.TokenFile), 1024)
	if err != nil {
		return "", err
	}
	tok := strings.TrimSpace(string(data))
	if b, err := hex.DecodeString(tok); err != nil || len(b) != 32 {
		return "", errBadToken
	}
	return tok, nil
}
