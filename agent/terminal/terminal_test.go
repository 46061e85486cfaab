package terminal

import (
	"bytes"
	"errors"
	"os"
	"testing"
)

// TestNotATerminal: a pipe is refused with ErrNotTerminal and nothing is
// prompted or read (the terminal path is agent/e2e TestActivatePasswordAtTerminal).
func TestNotATerminal(t *testing.T) {
	r, w, err := os.Pipe()
	if err != nil {
		t.Fatal(err)
	}
	defer r.Close()
	defer w.Close()
	if _, err := w.WriteString("secret\n"); err != nil {
		t.Fatal(err)
	}
	var out bytes.Buffer
	if _, err := ReadSecret(r, &out, "Password: ", 64); !errors.Is(err, ErrNotTerminal) {
		t.Fatalf("err %v, want ErrNotTerminal", err)
	}
	if bytes.Contains(out.Bytes(), []byte("Password")) {
		t.Fatalf("prompted on a pipe: %q", out.String())
	}
}
