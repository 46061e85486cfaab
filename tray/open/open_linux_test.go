package open

import (
	"context"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

func TestOpenerLinux(t *testing.T) {
	bin := t.TempDir()
	rec := filepath.Join(bin, "rec")
	script := "#!/bin/sh\nprintf '%s\\n' \"$*\" >> '" + rec + "'\n"
	if err := os.WriteFile(filepath.Join(bin, "xdg-open"), []byte(script), 0o755); err != nil {
		t.Fatal(err)
	}
	t.Setenv("PATH", bin+string(os.PathListSeparator)+os.Getenv("PATH"))
	dir := t.TempDir()
	file := filepath.Join(dir, "f")
	if err := os.WriteFile(file, nil, 0o600); err != nil {
		t.Fatal(err)
	}
	ctx := context.Background()
	var o Opener
	tests := []struct {
		name string
		call func() error
		ok   bool
		want string
	}{
		{"https", func() error { return o.OpenURL(ctx, "https://a.example/x?y=1") }, true, "https://a.example/x?y=1"},
		{"file url", func() error { return o.OpenURL(ctx, "file:///etc/passwd") }, false, ""},
		{"option-like", func() error { return o.OpenURL(ctx, "--help") }, false, ""},
		{"folder", func() error { return o.OpenFolder(ctx, dir+"/") }, true, dir},
		{"relative folder", func() error { return o.OpenFolder(ctx, "profiles") }, false, ""},
		{"missing folder", func() error { return o.OpenFolder(ctx, filepath.Join(dir, "nope")) }, false, ""},
		{"file not folder", func() error { return o.OpenFolder(ctx, file) }, false, ""},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			os.Remove(rec)
			err := tc.call()
			if (err == nil) != tc.ok {
				t.Fatalf("err %v, want ok=%v", err, tc.ok)
			}
			b, _ := os.ReadFile(rec)
			if got := strings.TrimSpace(string(b)); got != tc.want {
				t.Errorf("xdg-open got %q, want %q", got, tc.want)
			}
		})
	}
	// A failing opener is reported.
	if err := os.WriteFile(filepath.Join(bin, "xdg-open"), []byte("#!/bin/sh\necho no >&2\nexit 3\n"), 0o755); err != nil {
		t.Fatal(err)
	}
	if err := o.OpenURL(ctx, "https://a.example"); err == nil || !strings.Contains(err.Error(), "no") {
		t.Errorf("failure not reported: %v", err)
	}
}
