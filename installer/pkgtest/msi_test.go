package pkgtest

import (
	"debug/pe"
	"os/exec"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"testing"

	"github.com/entitle/entitle/pkg/testenv"
)

// msiTable exports one table of an MSI (msiinfo export: column names, types,
// key line, then tab-separated rows) as rows keyed by column name.
func msiTable(t *testing.T, msi, table string) []map[string]string {
	t.Helper()
	lines := strings.Split(strings.TrimRight(run(t, "msiinfo", "export", msi, table), "\r\n"), "\n")
	if len(lines) < 3 {
		t.Fatalf("msiinfo export %s: %q", table, lines)
	}
	cols := strings.Split(strings.TrimRight(lines[0], "\r"), "\t")
	var rows []map[string]string
	for _, line := range lines[3:] {
		vals := strings.Split(strings.TrimRight(line, "\r"), "\t")
		row := map[string]string{}
		for i, c := range cols {
			if i < len(vals) {
				row[c] = vals[i]
			}
		}
		rows = append(rows, row)
	}
	return rows
}

// find returns the row whose column key equals value, or nil.
func find(rows []map[string]string, key, value string) map[string]string {
	for _, r := range rows {
		if r[key] == value {
			return r
		}
	}
	return nil
}

func TestMSI(t *testing.T) {
	testenv.LookPath(t, "msiinfo")
	msi := msiFile(t, release(t, oldVersion))

	tables := strings.Fields(run(t, "msiinfo", "tables", msi))
	for _, want := range []string{"File", "Component", "ServiceInstall", "ServiceControl", "Registry", "Property", "CustomAction", "AppSearch", "RegLocator", "Upgrade"} {
		if !slices.Contains(tables, want) {
			t.Errorf("no %s table (tables: %v)", want, tables)
		}
	}

	t.Run("files", func(t *testing.T) {
		files := msiTable(t, msi, "File")
		for _, tt := range []struct{ name, component string }{
			{"entitle.exe", "AgentService"},
			{"entitle-tray.exe", "Tray"},
			{"agent.toml", "Config"},
		} {
			r := find(files, "FileName", tt.name)
			if r == nil || r["Component_"] != tt.component {
				t.Errorf("file %s in component %s: got %v", tt.name, tt.component, r)
			}
		}
		dirs := msiTable(t, msi, "Directory")
		for _, tt := range []struct{ id, parent string }{{"INSTALLDIR", "ProgramFiles64Folder"}, {"DATADIR", "CommonAppDataFolder"}} {
			if r := find(dirs, "Directory", tt.id); r == nil || r["Directory_Parent"] != tt.parent || r["DefaultDir"] != "Entitle" {
				t.Errorf("directory %s: %v", tt.id, r)
			}
		}
	})

	t.Run("service", func(t *testing.T) {
		svc := find(msiTable(t, msi, "ServiceInstall"), "Name", "entitle-agent")
		if svc == nil {
			t.Fatal("no ServiceInstall row for the service entitle-agent (agent/cli ServiceName)")
		}
		want := map[string]string{
			"ServiceType": "16", // own process
			"StartType":   "2",  // automatic
			"StartName":   "LocalSystem",
			"Arguments":   `service run --config "[CommonAppDataFolder]Entitle\agent.toml"`,
			"Component_":  "AgentService",
		}
		for k, v := range want {
			if svc[k] != v {
				t.Errorf("ServiceInstall %s = %q, want %q", k, svc[k], v)
			}
		}
		ctl := find(msiTable(t, msi, "ServiceControl"), "Name", "entitle-agent")
		// 1 start on install + 2 stop on install + 32 stop on uninstall + 128 delete on uninstall.
		if ctl == nil || ctl["Event"] != "163" || ctl["Wait"] != "1" {
			t.Errorf("ServiceControl: %v", ctl)
		}
	})

	t.Run("registry", func(t *testing.T) {
		reg := msiTable(t, msi, "Registry")
		run := find(reg, "Key", `SOFTWARE\Microsoft\Windows\CurrentVersion\Run`)
		if run == nil || run["Root"] != "2" || run["Value"] != `"[INSTALLDIR]entitle-tray.exe"` {
			t.Errorf("tray at logon (HKLM Run): %v", run)
		}
		for name, prop := range map[string]string{
			"server_url": "SERVERURL", "enrollment_token": "ENROLLMENTTOKEN",
			"management_mode": "MANAGEMENTMODE", "pinned_keys": "PINNEDKEYS",
		} {
			r := find(reg, "Name", name)
			if r == nil || r["Root"] != "2" || r["Key"] != `SOFTWARE\Entitle\Agent` || r["Value"] != "["+prop+"]" {
				t.Errorf("registry value %s for %s: %v", name, prop, r)
			}
		}
	})

	t.Run("public properties are secure", func(t *testing.T) {
		// Without SecureCustomProperties, Windows Installer drops public
		// properties when a per-user start elevates through UAC.
		r := find(msiTable(t, msi, "Property"), "Property", "SecureCustomProperties")
		if r == nil {
			t.Fatal("no SecureCustomProperties property")
		}
		secure := strings.Split(r["Value"], ";")
		// wixl's own (MajorUpgrade) stay.
		for _, p := range []string{"SERVERURL", "ENROLLMENTTOKEN", "MANAGEMENTMODE", "PINNEDKEYS", "WIX_UPGRADE_DETECTED", "WIX_DOWNGRADE_DETECTED"} {
			if !slices.Contains(secure, p) {
				t.Errorf("SecureCustomProperties = %q lacks %s", r["Value"], p)
			}
		}
	})

	t.Run("properties kept across upgrades", func(t *testing.T) {
		locs := msiTable(t, msi, "RegLocator")
		search := msiTable(t, msi, "AppSearch")
		actions := msiTable(t, msi, "CustomAction")
		seq := msiTable(t, msi, "InstallExecuteSequence")
		seqOf := func(action string) int {
			r := find(seq, "Action", action)
			if r == nil {
				return -1
			}
			n, _ := strconv.Atoi(r["Sequence"])
			return n
		}
		for _, p := range []struct{ prop, name, action string }{
			{"SERVERURL", "server_url", "RestoreServerURL"},
			{"ENROLLMENTTOKEN", "enrollment_token", "RestoreEnrollmentToken"},
			{"MANAGEMENTMODE", "management_mode", "RestoreManagementMode"},
			{"PINNEDKEYS", "pinned_keys", "RestorePinnedKeys"},
		} {
			s := find(search, "Property", "SAVED_"+p.prop)
			if s == nil {
				t.Errorf("no AppSearch for SAVED_%s", p.prop)
				continue
			}
			if l := find(locs, "Signature_", s["Signature_"]); l == nil || l["Name"] != p.name || l["Key"] != `SOFTWARE\Entitle\Agent` {
				t.Errorf("RegLocator of SAVED_%s: %v", p.prop, l)
			}
			a := find(actions, "Action", p.action)
			if a == nil || a["Source"] != p.prop || a["Target"] != "[SAVED_"+p.prop+"]" || a["Type"] != "2099" && a["Type"] != "51" {
				t.Errorf("custom action %s: %v", p.action, a)
			}
			if n := seqOf(p.action); n <= seqOf("AppSearch") || n >= seqOf("InstallValidate") {
				t.Errorf("%s runs at %d: want after AppSearch (%d), before InstallValidate", p.action, n, seqOf("AppSearch"))
			}
			if r := find(seq, "Action", p.action); r == nil || r["Condition"] != "SAVED_"+p.prop+" AND NOT "+p.prop {
				t.Errorf("%s condition: %v", p.action, r)
			}
		}
	})

	t.Run("product", func(t *testing.T) {
		props := msiTable(t, msi, "Property")
		for k, v := range map[string]string{
			"ProductName": "Entitle", "ProductVersion": oldVersion, "Manufacturer": "Entitle",
			"UpgradeCode": "{bea6d9d2-1485-458a-a974-16844e58d6af}", "ALLUSERS": "1",
		} {
			if r := find(props, "Property", k); r == nil || !strings.EqualFold(r["Value"], v) {
				t.Errorf("property %s: %v, want %s", k, r, v)
			}
		}
		if r := find(props, "Property", "ARPCOMMENTS"); r == nil || !strings.Contains(r["Value"], "entitle deactivate") {
			t.Errorf("ARPCOMMENTS should explain deactivation: %v", r)
		}
		if up := msiTable(t, msi, "Upgrade"); len(up) == 0 {
			t.Error("no Upgrade rows (MajorUpgrade)")
		}
	})

	t.Run("binaries are windows/amd64 executables", func(t *testing.T) {
		testenv.LookPath(t, "msiextract")
		dir := t.TempDir()
		if out, err := exec.Command("msiextract", "-C", dir, msi).CombinedOutput(); err != nil {
			t.Fatalf("msiextract: %v\n%s", err, out)
		}
		// The tray is a GUI program (no console window at logon); the agent a console one.
		for name, subsystem := range map[string]uint16{
			"entitle.exe":      pe.IMAGE_SUBSYSTEM_WINDOWS_CUI,
			"entitle-tray.exe": pe.IMAGE_SUBSYSTEM_WINDOWS_GUI,
		} {
			m, _ := filepath.Glob(filepath.Join(dir, "Entitle", name))
			if len(m) != 1 {
				t.Errorf("%s not extracted: %v", name, m)
				continue
			}
			f, err := pe.Open(m[0])
			if err != nil {
				t.Errorf("%s: %v", name, err)
				continue
			}
			if f.Machine != pe.IMAGE_FILE_MACHINE_AMD64 {
				t.Errorf("%s: machine %#x, want amd64", name, f.Machine)
			}
			if oh, ok := f.OptionalHeader.(*pe.OptionalHeader64); !ok || oh.Subsystem != subsystem {
				t.Errorf("%s: optional header %T, want subsystem %d", name, f.OptionalHeader, subsystem)
			}
			f.Close()
		}
	})
}
