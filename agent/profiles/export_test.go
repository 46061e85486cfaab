package profiles

import (
	"context"
	"errors"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// Issue 13 item 1: a migration carries every file of every profile folder
// it cannot prove worthless, or refuses with the list of what it would
// leave; the import says what it restored.
func TestMigrateExportLeavesNothingBehind(t *testing.T) {
	ctx := context.Background()
	const pass = "a long enough passphrase"
	dir := t.TempDir()
	src := newTestManager(t, dir)
	work, err := src.Create(ctx, CreateRequest{Owner: "Jeanne", Name: "Work"})
	if err != nil {
		t.Fatal(err)
	}
	write := func(rel string, b []byte) {
		t.Helper()
		p := filepath.Join(dir, rel)
		if err := os.MkdirAll(filepath.Dir(p), 0o700); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(p, b, 0o600); err != nil {
			t.Fatal(err)
		}
	}
	nometa := goodFiles(t, certSpec{cn: "Dropped Owner"})
	broken := goodFiles(t, certSpec{cn: "Broken Owner"})
	write("nometa/"+CertFile, nometa[CertFile])
	write("nometa/"+KeyFile, nometa[KeyFile])
	write("broken/"+MetaFile, []byte(`{"format":1,"id":`))
	write("broken/"+CertFile, broken[CertFile])
	write("broken/"+KeyFile, broken[KeyFile])
	write(work.ID+"/notes.txt", []byte("the PIN is on the card"))
	write(work.ID+"/.DS_Store", []byte("worthless"))
	src.Rescan()

	data, err := src.ExportBundle(ctx, pass)
	if err != nil {
		t.Fatalf("export: %v", err)
	}
	dst := newTestManager(t, t.TempDir())
	res, err := dst.ImportBundle(ctx, data, pass, "", ImportOptions{})
	if err != nil {
		t.Fatalf("import: %v", err)
	}
	if len(res.Imported) != 3 {
		t.Fatalf("imported %d profiles, want 3: %+v", len(res.Imported), res.Imported)
	}
	byName := map[string]string{}
	for _, p := range res.Imported {
		byName[p.Name] = p.ID
	}
	same := func(id, file string, want []byte) {
		t.Helper()
		got, err := os.ReadFile(filepath.Join(dst.Dir(), id, file))
		if err != nil || string(got) != string(want) {
			t.Errorf("%s/%s not restored byte for byte (%v)", id, file, err)
		}
	}
	same(byName["Work"], "notes.txt", []byte("the PIN is on the card"))
	same("nometa", KeyFile, nometa[KeyFile])
	same(byName["Broken Owner"], KeyFile, broken[KeyFile])
	same(byName["Broken Owner"], MetaFile+".broken", []byte(`{"format":1,"id":`))
	if _, err := os.Stat(filepath.Join(dst.Dir(), byName["Work"], ".DS_Store")); err == nil {
		t.Error(".DS_Store travelled")
	}
	if f := res.Files[byName["Work"]]; strings.Join(f, ",") != "certificate.pem,key.pem,notes.txt,profile.json" && strings.Join(f, ",") != "profile.json,certificate.pem,key.pem,notes.txt" {
		t.Errorf("import reports files %v for Work", f)
	}
	for _, p := range dst.List(0) {
		if p.Status != "valid" {
			t.Errorf("restored %q: %s %s", p.Name, p.Status, p.Reason)
		}
	}
	// Importing the same bundle again is harmless: the extra files are not
	// credentials, so every profile is recognised and skipped.
	again, err := dst.ImportBundle(ctx, data, pass, "", ImportOptions{})
	if err != nil || len(again.Imported) != 0 || len(again.Skipped) != 3 {
		t.Fatalf("second import: %+v %v, want 3 skipped", again, err)
	}

	// What cannot travel makes the export refuse, listing it.
	write("stray.p12", []byte("x"))
	if err := os.Symlink("/etc/hostname", filepath.Join(dir, work.ID, "link.pem")); err != nil {
		t.Fatal(err)
	}
	write(work.ID+"/sub/x", []byte("x"))
	_, err = src.ExportBundle(ctx, pass)
	var lb *LeftBehindError
	if !errors.As(err, &lb) || !errors.Is(err, ErrConflict) {
		t.Fatalf("export = %v, want a LeftBehindError", err)
	}
	got := map[string]bool{}
	for _, it := range lb.Items {
		got[it.Path] = true
	}
	for _, p := range []string{"stray.p12", work.ID + "/link.pem", work.ID + "/sub"} {
		if !got[p] {
			t.Errorf("left-behind list %+v misses %s", lb.Items, p)
		}
	}
	if !strings.Contains(err.Error(), "entitle profiles import") {
		t.Errorf("refusal does not say how to import the stray file: %v", err)
	}
}
