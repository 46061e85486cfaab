package profiles

import (
	"context"
	"errors"
	"os"
	"path/filepath"
	"sort"
	"strings"
	"testing"
	"time"
)

// folderState lists every file under dir with its content, to prove that a
// refused import wrote nothing.
func folderState(t *testing.T, dir string) map[string]string {
	t.Helper()
	out := map[string]string{}
	filepath.WalkDir(dir, func(p string, d os.DirEntry, err error) error {
		if err != nil {
			return nil
		}
		rel, _ := filepath.Rel(dir, p)
		if d.IsDir() {
			out[rel+"/"] = ""
			return nil
		}
		b, _ := os.ReadFile(p)
		out[rel] = string(b)
		return nil
	})
	return out
}

func sameState(a, b map[string]string) bool {
	if len(a) != len(b) {
		return false
	}
	for k, v := range a {
		if b[k] != v {
			return false
		}
	}
	return true
}

func TestBundleMigration(t *testing.T) {
	ctx := context.Background()
	const pass = "a long enough passphrase"
	src := newTestManager(t, t.TempDir())
	var names []string
	for _, n := range []string{"Work", "Personal", "Association"} {
		if _, err := src.Create(ctx, CreateRequest{Owner: "Jeanne Dupont", Name: n}); err != nil {
			t.Fatal(err)
		}
		names = append(names, n)
	}
	list := src.List(0)
	if err := src.SetDefault(ctx, list[2].ID); err != nil {
		t.Fatal(err)
	}
	wantDefault := list[2].ID
	if _, err := src.ExportBundle(ctx, "short"); !errors.Is(err, ErrBadInput) {
		t.Errorf("short passphrase: %v", err)
	}
	data, err := src.ExportBundle(ctx, pass)
	if err != nil {
		t.Fatal(err)
	}

	dstDir := filepath.Join(t.TempDir(), "new-computer")
	dst := newTestManager(t, dstDir)
	// Wrong passphrase and damaged files: clear error, nothing written.
	damaged := append([]byte(nil), data...)
	damaged[len(damaged)-20] ^= 0xff
	for _, tc := range []struct {
		name string
		data []byte
		pass string
		want error
	}{
		{"wrong passphrase", data, "not the passphrase", ErrWrongPassword},
		{"damaged", damaged, pass, ErrBadInput},
		{"truncated", data[:len(data)/2], pass, ErrBadInput},
	} {
		t.Run(tc.name, func(t *testing.T) {
			_, err := dst.ImportBundle(ctx, tc.data, tc.pass, "", ImportOptions{})
			if !errors.Is(err, tc.want) {
				t.Fatalf("error %v, want %v", err, tc.want)
			}
			if _, serr := os.Stat(dstDir); !os.IsNotExist(serr) {
				t.Fatalf("something was written: %v", folderState(t, dstDir))
			}
		})
	}
	res, err := dst.ImportBundle(ctx, data, pass, "", ImportOptions{})
	if err != nil {
		t.Fatal(err)
	}
	if len(res.Imported) != 3 {
		t.Fatalf("imported %+v", res)
	}
	got := dst.List(0)
	if d := defaults(got); len(d) != 1 || d[0] != wantDefault {
		t.Errorf("default %v, want %s", d, wantDefault)
	}
	var gotNames []string
	for _, p := range got {
		gotNames = append(gotNames, p.Name)
		if st, err := os.Stat(filepath.Join(dstDir, p.ID, KeyFile)); err != nil || st.Mode().Perm() != 0o600 {
			t.Errorf("%s key mode %v %v", p.ID, st, err)
		}
	}
	sort.Strings(gotNames)
	sort.Strings(names)
	if len(gotNames) != 3 || gotNames[0] != names[0] || gotNames[2] != names[2] {
		t.Errorf("names %v", gotNames)
	}
	// Importing twice is idempotent.
	before := folderState(t, dstDir)
	res, err = dst.ImportBundle(ctx, data, pass, "", ImportOptions{})
	if err != nil || len(res.Imported) != 0 || len(res.Skipped) != 3 {
		t.Fatalf("second import %+v %v", res, err)
	}
	if !sameState(before, folderState(t, dstDir)) {
		t.Error("second import changed the folder")
	}
}

func TestBundleClashModes(t *testing.T) {
	ctx := context.Background()
	const pass = "a long enough passphrase"
	src := newTestManager(t, t.TempDir())
	orig, err := src.Create(ctx, CreateRequest{Owner: "Jeanne", Name: "Work"})
	if err != nil {
		t.Fatal(err)
	}
	data, err := src.ExportBundle(ctx, pass)
	if err != nil {
		t.Fatal(err)
	}
	tests := []struct {
		mode      string
		wantErr   error
		wantCount int
		wantNames []string
	}{
		{OnClashFail, ErrConflict, 1, []string{"work"}},
		{OnClashRename, nil, 2, []string{"Work (2)", "work"}},
		{OnClashReplace, nil, 1, []string{"Work"}},
	}
	for _, tc := range tests {
		t.Run(tc.mode, func(t *testing.T) {
			dst := newTestManager(t, t.TempDir())
			local, err := dst.Create(ctx, CreateRequest{Owner: "Someone else", Name: "work"})
			if err != nil {
				t.Fatal(err)
			}
			before := folderState(t, dst.Dir())
			_, err = dst.ImportBundle(ctx, data, pass, tc.mode, ImportOptions{})
			if !errors.Is(err, tc.wantErr) {
				t.Fatalf("error %v, want %v", err, tc.wantErr)
			}
			if err != nil && !sameState(before, folderState(t, dst.Dir())) {
				t.Fatal("a refused import changed the folder")
			}
			list := dst.List(0)
			var got []string
			for _, p := range list {
				got = append(got, p.Name)
			}
			sort.Strings(got)
			if len(list) != tc.wantCount || strings.Join(got, "|") != strings.Join(tc.wantNames, "|") {
				t.Fatalf("names %v, want %v", got, tc.wantNames)
			}
			if d := defaults(list); len(d) != 1 {
				t.Fatalf("defaults %v", d)
			}
			if tc.mode == OnClashReplace {
				if list[0].ID != orig.ID || list[0].ID == local.ID || !list[0].Default {
					t.Errorf("replace kept %+v", list[0])
				}
			}
			// A second import with rename is still idempotent.
			if tc.mode == OnClashRename {
				res, err := dst.ImportBundle(ctx, data, pass, tc.mode, ImportOptions{})
				if err != nil || len(res.Imported) != 0 || len(dst.List(0)) != 2 {
					t.Errorf("second rename import %+v %v", res, err)
				}
			}
		})
	}
}

func TestExportProfileFormat(t *testing.T) {
	ctx := context.Background()
	src := newTestManager(t, t.TempDir())
	a, _ := src.Create(ctx, CreateRequest{Owner: "A", Name: "One"})
	if _, err := src.Create(ctx, CreateRequest{Owner: "B", Name: "Two"}); err != nil {
		t.Fatal(err)
	}
	data, err := src.ExportProfile(ctx, a.ID, FormatProfile, "passphrase-123")
	if err != nil {
		t.Fatal(err)
	}
	dst := newTestManager(t, t.TempDir())
	res, err := dst.Import(ctx, data, "passphrase-123", ImportOptions{Name: "Renamed"})
	if err != nil {
		t.Fatal(err)
	}
	if len(res.Imported) != 1 || res.Imported[0].ID != a.ID || res.Imported[0].Name != "Renamed" ||
		!res.Imported[0].Created.Equal(a.Created.Truncate(time.Second)) {
		t.Fatalf("imported %+v", res)
	}
	if _, err := src.ExportProfile(ctx, a.ID, "zip", ""); !errors.Is(err, ErrBadInput) {
		t.Errorf("bad format: %v", err)
	}
}
