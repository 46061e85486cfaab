// Package profilescli holds the `entitle profiles` and `entitle migrate`
// commands. Their words come from the catalog (pkg/i18n, profiles.toml) in
// the language of Deps.Loc. They talk to the running agent through its local API (the
// profile routes of package profiles) with a small client taking the
// agent's base URL and API token, which the root command supplies.
package profilescli

import (
	"bufio"
	"context"
	"errors"
	"fmt"
	"io"
	"net/http"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"text/tabwriter"

	"github.com/spf13/cobra"

	"github.com/entitle/entitle/agent/profiles"
	"github.com/entitle/entitle/agent/profiles/certcheck"
	"github.com/entitle/entitle/agent/terminal"
	"github.com/entitle/entitle/pkg/agentapi"
	"github.com/entitle/entitle/pkg/i18n"
)

// maxSecret bounds a password or passphrase read from the person.
const maxSecret = 1024

// maxInputFile bounds a file given to import (a bundle is at most 64 MiB).
const maxInputFile = 65 << 20

// Deps is what the commands need from the root command.
type Deps struct {
	Stdin  io.Reader
	Stdout io.Writer
	// IsTerminal reports whether a stream is an interactive terminal.
	IsTerminal func(any) bool
	// Connect returns a client of the running agent (base URL and token
	// from the configuration), e.g. via NewClient.
	Connect func(cmd *cobra.Command) (*Client, error)
	// ReadSecret reads a hidden line from the terminal; nil uses the
	// terminal of Stdin with echo turned off.
	ReadSecret func(prompt string) (string, error)
	// Loc is the language of every message (nil: English).
	Loc *i18n.Localizer
}

// Commands returns the `profiles` and `migrate` commands.
func Commands(d Deps) []*cobra.Command {
	if d.Loc == nil {
		d.Loc = i18n.New().Localizer(i18n.English)
	}
	if d.ReadSecret == nil {
		d.ReadSecret = func(prompt string) (string, error) {
			f, ok := d.Stdin.(*os.File)
			if !ok || d.IsTerminal == nil || !d.IsTerminal(f) {
				return "", errors.New(d.Loc.T("profiles_not_terminal", nil))
			}
			s, err := terminal.ReadSecret(f, d.Stdout, prompt, maxSecret)
			if errors.Is(err, terminal.ErrNotTerminal) {
				return "", errors.New(d.Loc.T("profiles_not_terminal", nil))
			}
			return s, err
		}
	}
	return []*cobra.Command{profilesCmd(d), migrateCmd(d)}
}

func profilesCmd(d Deps) *cobra.Command {
	cmd := &cobra.Command{Use: "profiles", Short: d.Loc.T("profiles_cmd_short", nil)}
	cmd.AddCommand(listCmd(d), showCmd(d), createCmd(d), deleteCmd(d), defaultCmd(d), exportCmd(d), importCmd(d))
	return cmd
}

func listCmd(d Deps) *cobra.Command {
	var asJSON bool
	cmd := &cobra.Command{
		Use: "list", Short: d.Loc.T("profiles_list_short", nil), Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			c, err := d.Connect(cmd)
			if err != nil {
				return err
			}
			var list []agentapi.ProfileInfo
			if err := c.JSON(ctxOf(cmd), http.MethodGet, agentapi.PathProfiles, nil, &list); err != nil {
				return err
			}
			if asJSON {
				return writeJSON(d.Stdout, list)
			}
			var loose []agentapi.NotAProfile
			var st agentapi.Status
			if c.JSON(ctxOf(cmd), http.MethodGet, agentapi.PathStatus, nil, &st) == nil && st.Profiles != nil {
				loose = st.Profiles.NotProfiles
			}
			defer printLoose(d.Loc, d.Stdout, loose)
			if len(list) == 0 {
				fmt.Fprintln(d.Stdout, d.Loc.T("profiles_list_empty", nil))
				return nil
			}
			tw := tabwriter.NewWriter(d.Stdout, 2, 4, 2, ' ', 0)
			fmt.Fprintln(tw, d.Loc.T("profiles_list_header", nil))
			for _, p := range list {
				mark, until := "", ""
				if p.Default {
					mark = "*"
				}
				if p.NotAfter != nil {
					until = d.Loc.Date(p.NotAfter.Local())
				}
				fmt.Fprintf(tw, "%s\t%s\t%s\t%s\t%s\t%s\n", mark, p.ID, p.Name, p.Owner, statusName(d.Loc, p.Status), until)
			}
			if err := tw.Flush(); err != nil {
				return err
			}
			for _, p := range list {
				if p.Status == certcheck.StatusInvalid || p.Status == certcheck.StatusUnlicensed {
					fmt.Fprintln(d.Stdout, d.Loc.T("profiles_list_why", i18n.Args{"name": safe(p.Name), "status": statusName(d.Loc, p.Status), "reason": p.Reason}))
				}
			}
			return nil
		},
	}
	cmd.Flags().BoolVar(&asJSON, "json", false, d.Loc.T("cli_flag_json", nil))
	return cmd
}

func showCmd(d Deps) *cobra.Command {
	var asJSON bool
	cmd := &cobra.Command{
		Use: "show ID", Short: d.Loc.T("profiles_show_short", nil), Args: cobra.ExactArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			c, err := d.Connect(cmd)
			if err != nil {
				return err
			}
			p, err := d.resolve(cmd, c, args[0])
			if err != nil {
				return err
			}
			if asJSON {
				return writeJSON(d.Stdout, p)
			}
			printProfile(d.Loc, d.Stdout, p)
			return nil
		},
	}
	cmd.Flags().BoolVar(&asJSON, "json", false, d.Loc.T("cli_flag_json", nil))
	return cmd
}

func printProfile(loc *i18n.Localizer, w io.Writer, p agentapi.ProfileInfo) {
	tw := tabwriter.NewWriter(w, 2, 4, 2, ' ', 0)
	kind := loc.T("profiles_show_ca", nil)
	if p.SelfSigned {
		kind = loc.T("profiles_show_self_signed", nil)
	}
	issuer := ""
	if p.Issuer != "" {
		issuer = loc.T("profiles_show_issuer", i18n.Args{"issuer": p.Issuer, "kind": kind})
	}
	adopted := ""
	if p.Adopted {
		adopted = loc.T("profiles_show_adopted", nil)
	}
	rows := [][2]string{
		{"profiles_field_profile", p.Name}, {"profiles_field_id", p.ID}, {"profiles_field_owner", p.Owner},
		{"profiles_field_default", yesNo(loc, p.Default)}, {"profiles_field_status", statusName(loc, p.Status)},
		{"profiles_field_details", p.Reason}, {"profiles_field_metadata", adopted}, {"profiles_field_subject", p.Subject},
		{"profiles_field_issued_by", issuer}, {"profiles_field_serial", p.Serial}, {"profiles_field_private_key", yesNo(loc, p.HasKey)},
	}
	if p.NotBefore != nil && p.NotAfter != nil {
		rows = append(rows, [2]string{"profiles_field_valid_from", loc.DateTime(p.NotBefore.Local())},
			[2]string{"profiles_field_valid_until", loc.DateTime(p.NotAfter.Local())})
	}
	for _, r := range rows {
		if r[1] != "" {
			fmt.Fprintln(tw, loc.T("profiles_field_row", i18n.Args{"label": loc.T(r[0], nil), "value": r[1]}))
		}
	}
	tw.Flush()
}

// statusIDs name each profile status (certcheck.Status*).
var statusIDs = map[string]string{
	certcheck.StatusValid: "profiles_status_valid", certcheck.StatusExpiring: "profiles_status_expiring",
	certcheck.StatusExpired: "profiles_status_expired", certcheck.StatusNotYetValid: "profiles_status_not_yet_valid",
	certcheck.StatusInvalid: "profiles_status_invalid", certcheck.StatusUnlicensed: "profiles_status_unlicensed",
}

// statusName is a profile status in the reader's words (an unknown one, from
// a newer agent, as its code).
func statusName(loc *i18n.Localizer, status string) string {
	if id, ok := statusIDs[status]; ok {
		return loc.T(id, nil)
	}
	return status
}

// safe is s as %q would print it, without the quotes: control characters
// escaped, so a name cannot drive the terminal.
func safe(s string) string {
	q := strconv.Quote(s)
	return q[1 : len(q)-1]
}

func createCmd(d Deps) *cobra.Command {
	var req profiles.CreateRequest
	cmd := &cobra.Command{
		Use: "create", Short: d.Loc.T("profiles_create_short", nil), Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			c, err := d.Connect(cmd)
			if err != nil {
				return err
			}
			var p agentapi.ProfileInfo
			if err := c.JSON(ctxOf(cmd), http.MethodPost, agentapi.PathProfiles, req, &p); err != nil {
				return err
			}
			fmt.Fprintln(d.Stdout, d.Loc.T("profiles_created", i18n.Args{"name": safe(p.Name), "id": p.ID}))
			warnUnusable(d.Loc, d.Stdout, p)
			return nil
		},
	}
	cmd.Flags().StringVar(&req.Owner, "owner", "", d.Loc.T("profiles_flag_owner", nil))
	cmd.Flags().StringVar(&req.Name, "name", "", d.Loc.T("profiles_flag_name", nil))
	cmd.Flags().StringVar(&req.Email, "email", "", d.Loc.T("profiles_flag_email", nil))
	cmd.Flags().IntVar(&req.ValidYears, "years", 3, d.Loc.T("profiles_flag_years", nil))
	cmd.Flags().BoolVar(&req.MakeDefault, "default", false, d.Loc.T("profiles_flag_default", nil))
	_ = cmd.MarkFlagRequired("owner")
	return cmd
}

func deleteCmd(d Deps) *cobra.Command {
	var yes bool
	cmd := &cobra.Command{
		Use: "delete ID", Short: d.Loc.T("profiles_delete_short", nil), Args: cobra.ExactArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			c, err := d.Connect(cmd)
			if err != nil {
				return err
			}
			p, err := d.resolve(cmd, c, args[0])
			if err != nil {
				return err
			}
			if !yes {
				ok, asked := d.confirm(d.Loc.T("profiles_delete_ask", i18n.Args{"name": safe(p.Name), "id": p.ID}))
				if !asked {
					return errors.New(d.Loc.T("profiles_no_terminal", nil))
				}
				if !ok {
					fmt.Fprintln(d.Stdout, d.Loc.T("profiles_cancelled", nil))
					return nil
				}
			}
			if _, err := c.Do(ctxOf(cmd), http.MethodDelete, agentapi.PathProfiles+"/"+pathID(p.ID), nil); err != nil {
				return err
			}
			fmt.Fprintln(d.Stdout, d.Loc.T("profiles_deleted", i18n.Args{"name": safe(p.Name), "id": p.ID}))
			return nil
		},
	}
	cmd.Flags().BoolVarP(&yes, "yes", "y", false, d.Loc.T("profiles_flag_yes", nil))
	return cmd
}

func defaultCmd(d Deps) *cobra.Command {
	return &cobra.Command{
		Use: "default ID", Short: d.Loc.T("profiles_default_short", nil), Args: cobra.ExactArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			c, err := d.Connect(cmd)
			if err != nil {
				return err
			}
			target, err := d.resolve(cmd, c, args[0])
			if err != nil {
				return err
			}
			var p agentapi.ProfileInfo
			if err := c.JSON(ctxOf(cmd), http.MethodPost, agentapi.PathProfiles+"/"+pathID(target.ID)+"/default", nil, &p); err != nil {
				return err
			}
			fmt.Fprintln(d.Stdout, d.Loc.T("profiles_default_set", i18n.Args{"name": safe(p.Name)}))
			return nil
		},
	}
}

func exportCmd(d Deps) *cobra.Command {
	var format, out string
	var fromStdin, force bool
	cmd := &cobra.Command{
		Use:   "export ID --out FILE",
		Short: d.Loc.T("profiles_export_short", nil),
		Args:  cobra.ExactArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			req := profiles.ExportRequest{Format: format}
			if format == profiles.FormatP12 || format == profiles.FormatProfile {
				pw, err := d.newSecret(fromStdin, d.Loc.T("profiles_export_pass", nil))
				if err != nil {
					return err
				}
				req.Password = pw
			}
			c, err := d.Connect(cmd)
			if err != nil {
				return err
			}
			p, err := d.resolve(cmd, c, args[0])
			if err != nil {
				return err
			}
			data, err := c.Do(ctxOf(cmd), http.MethodPost, agentapi.PathProfiles+"/"+pathID(p.ID)+"/export", req)
			if err != nil {
				return err
			}
			if err := d.writeNewFile(out, data, force); err != nil {
				return err
			}
			fmt.Fprintln(d.Stdout, d.Loc.T("profiles_exported", i18n.Args{"name": safe(p.Name), "file": out}))
			return nil
		},
	}
	cmd.Flags().StringVar(&format, "format", profiles.FormatP12, d.Loc.T("profiles_flag_format", nil))
	cmd.Flags().StringVarP(&out, "out", "o", "", d.Loc.T("profiles_flag_out", nil))
	cmd.Flags().BoolVar(&fromStdin, "passphrase-stdin", false, d.Loc.T("profiles_flag_password_stdin", nil))
	cmd.Flags().BoolVar(&force, "force", false, d.Loc.T("profiles_flag_force_overwrite", nil))
	_ = cmd.MarkFlagRequired("out")
	return cmd
}

func importCmd(d Deps) *cobra.Command {
	var req profiles.ImportRequest
	var fromStdin bool
	cmd := &cobra.Command{
		Use: "import FILE", Short: d.Loc.T("profiles_import_short", nil), Args: cobra.ExactArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			data, err := d.readInput(args[0], profiles.MaxImportSize)
			if err != nil {
				return err
			}
			if !strings.Contains(string(data[:min(len(data), 4096)]), "-----BEGIN ") {
				if req.Password, err = d.secret(fromStdin, d.Loc.T("profiles_import_pass", i18n.Args{"file": filepath.Base(args[0])})); err != nil {
					return err
				}
			}
			req.Data = data
			c, err := d.Connect(cmd)
			if err != nil {
				return err
			}
			var res profiles.ImportResult
			if err := c.JSON(ctxOf(cmd), http.MethodPost, agentapi.PathProfiles+"/import", req, &res); err != nil {
				return err
			}
			printImport(d.Loc, d.Stdout, res)
			return nil
		},
	}
	cmd.Flags().StringVar(&req.Name, "name", "", d.Loc.T("profiles_flag_import_name", nil))
	cmd.Flags().StringVar(&req.Owner, "owner", "", d.Loc.T("profiles_flag_import_owner", nil))
	cmd.Flags().StringVar(&req.OnClash, "on-clash", "fail", d.Loc.T("profiles_flag_on_clash", nil))
	cmd.Flags().BoolVar(&req.Force, "force", false, d.Loc.T("profiles_flag_force_import", nil))
	cmd.Flags().BoolVar(&fromStdin, "passphrase-stdin", false, d.Loc.T("profiles_flag_password_stdin", nil))
	return cmd
}

func printImport(loc *i18n.Localizer, w io.Writer, res profiles.ImportResult) {
	for _, p := range res.Imported {
		fmt.Fprintln(w, loc.T("profiles_imported", i18n.Args{"name": safe(p.Name), "id": p.ID, "status": statusName(loc, p.Status)}))
		if f := res.Files[p.ID]; len(f) > 0 {
			fmt.Fprintln(w, loc.T("profiles_imported_files", i18n.Args{"files": strings.Join(f, ", ")}))
		}
		warnUnusable(loc, w, p)
	}
	if n := len(res.Skipped); n > 0 {
		fmt.Fprintln(w, loc.Plural("profiles_skipped", n, nil))
	}
}

// warnUnusable warns when a profile just created or imported is beyond
// the plan's limit: it exists, but the signing application cannot use it.
func warnUnusable(loc *i18n.Localizer, w io.Writer, p agentapi.ProfileInfo) {
	if p.Status == certcheck.StatusUnlicensed {
		fmt.Fprintln(w, loc.T("profiles_limit_warn", i18n.Args{"name": safe(p.Name), "reason": p.Reason}))
	}
}

// looseIDs word the codes of agentapi.NotAProfile; an unknown code (a newer
// agent) shows the agent's English reason.
var looseIDs = map[string]string{
	profiles.LoosePKCS12: "profiles_loose_pkcs12", profiles.LooseCertificate: "profiles_loose_certificate", profiles.LooseOther: "profiles_loose_other",
}

func printLoose(loc *i18n.Localizer, w io.Writer, loose []agentapi.NotAProfile) {
	for _, l := range loose {
		reason := l.Reason
		if id, ok := looseIDs[l.Code]; ok {
			reason = loc.T(id, nil)
		}
		fmt.Fprintln(w, loc.T("profiles_list_loose", i18n.Args{"file": safe(l.Name), "reason": reason}))
		if l.Command != "" {
			fmt.Fprintln(w, loc.T("profiles_list_loose_hint", i18n.Args{"command": l.Command}))
		}
	}
}

// resolve finds the profile an argument names: its exact id, its exact
// name (ignoring case and surrounding spaces), or a prefix of one id.
func (d Deps) resolve(cmd *cobra.Command, c *Client, arg string) (agentapi.ProfileInfo, error) {
	var list []agentapi.ProfileInfo
	if err := c.JSON(ctxOf(cmd), http.MethodGet, agentapi.PathProfiles, nil, &list); err != nil {
		return agentapi.ProfileInfo{}, err
	}
	return pick(d.Loc, list, arg)
}

func pick(loc *i18n.Localizer, list []agentapi.ProfileInfo, arg string) (agentapi.ProfileInfo, error) {
	fold := func(s string) string { return strings.ToLower(strings.TrimSpace(s)) }
	for _, p := range list {
		if p.ID == arg {
			return p, nil
		}
	}
	var matches []agentapi.ProfileInfo
	for _, p := range list {
		if fold(p.Name) == fold(arg) {
			matches = append(matches, p)
		}
	}
	if len(matches) == 0 && arg != "" {
		for _, p := range list {
			if strings.HasPrefix(p.ID, arg) {
				matches = append(matches, p)
			}
		}
	}
	switch len(matches) {
	case 1:
		return matches[0], nil
	case 0:
		return agentapi.ProfileInfo{}, errors.New(loc.T("profiles_no_match", i18n.Args{"arg": safe(arg)}))
	}
	var cands []string
	for _, p := range matches {
		cands = append(cands, loc.T("profiles_candidate", i18n.Args{"id": p.ID, "name": safe(p.Name)}))
	}
	return agentapi.ProfileInfo{}, errors.New(loc.T("profiles_ambiguous", i18n.Args{"arg": safe(arg), "candidates": strings.Join(cands, ", ")}))
}

// pathID keeps an id argument from changing the request path.
func pathID(id string) string {
	return strings.NewReplacer("/", "%2F", "?", "%3F", "#", "%23", "..", "%2E%2E").Replace(id)
}

func yesNo(loc *i18n.Localizer, b bool) string {
	if b {
		return loc.T("profiles_yes", nil)
	}
	return loc.T("profiles_no", nil)
}

// confirm asks a yes/no question on a terminal. asked is false when there
// is no terminal to ask on (then yes is false too).
func (d Deps) confirm(q string) (yes, asked bool) {
	if d.IsTerminal == nil || !d.IsTerminal(d.Stdin) {
		return false, false
	}
	fmt.Fprint(d.Stdout, q)
	line, _ := bufio.NewReader(io.LimitReader(d.Stdin, 256)).ReadString('\n')
	a := strings.ToLower(strings.TrimSpace(line))
	return a == "y" || a == "yes" || a == "o" || a == "oui", true
}

// secret reads one secret: the first line of stdin, or hidden from the terminal.
func (d Deps) secret(fromStdin bool, prompt string) (string, error) {
	if fromStdin {
		line, err := bufio.NewReader(io.LimitReader(d.Stdin, maxSecret+2)).ReadString('\n')
		if err != nil && !errors.Is(err, io.EOF) {
			return "", err
		}
		s := strings.TrimRight(line, "\r\n")
		if len(s) > maxSecret {
			return "", errors.New(d.Loc.T("profiles_secret_too_long", nil))
		}
		return s, nil
	}
	return d.ReadSecret(prompt)
}

// newSecret reads a new secret, twice when typed on the terminal.
func (d Deps) newSecret(fromStdin bool, prompt string) (string, error) {
	s, err := d.secret(fromStdin, prompt)
	if err != nil || fromStdin {
		return s, err
	}
	again, err := d.ReadSecret(d.Loc.T("profiles_again", nil))
	if err != nil {
		return "", err
	}
	if again != s {
		return "", errors.New(d.Loc.T("profiles_secrets_differ", nil))
	}
	return s, nil
}

// readInput reads a file given on the command line, bounded.
func (d Deps) readInput(path string, limit int64) ([]byte, error) {
	f, err := os.Open(path)
	if err != nil {
		return nil, err
	}
	defer f.Close()
	data, err := io.ReadAll(io.LimitReader(f, limit+1))
	if err != nil {
		return nil, d.wrap("profiles_read_failed", i18n.Args{"file": path}, err)
	}
	if int64(len(data)) > limit {
		return nil, errors.New(d.Loc.T("profiles_file_too_large", i18n.Args{"file": path, "max": d.Loc.Number(int(limit))}))
	}
	return data, nil
}

// writeNewFile writes data to path with mode 0600 (exports may hold a
// private key), refusing to overwrite unless force.
func (d Deps) writeNewFile(path string, data []byte, force bool) error {
	flag := os.O_WRONLY | os.O_CREATE | os.O_EXCL
	if force {
		flag = os.O_WRONLY | os.O_CREATE | os.O_TRUNC
	}
	f, err := os.OpenFile(path, flag, 0o600)
	if err != nil {
		if errors.Is(err, os.ErrExist) {
			return errors.New(d.Loc.T("profiles_file_exists", i18n.Args{"file": path}))
		}
		return err
	}
	if _, err := f.Write(data); err != nil {
		f.Close()
		return d.wrap("profiles_write_failed", i18n.Args{"file": path}, err)
	}
	if err := f.Sync(); err != nil {
		f.Close()
		return d.wrap("profiles_write_failed", i18n.Args{"file": path}, err)
	}
	return f.Close()
}

func writeJSON(w io.Writer, v any) error {
	enc := newJSONEncoder(w)
	return enc.Encode(v)
}

// ctxOf returns the command's context, never nil.
func ctxOf(cmd *cobra.Command) context.Context {
	if ctx := cmd.Context(); ctx != nil {
		return ctx
	}
	return context.Background()
}

// wrapped is a catalog message about err that still unwraps to it (so the
// CLI's exit codes see the cause).
type wrapped struct {
	msg string
	err error
}

func (w *wrapped) Error() string { return w.msg }
func (w *wrapped) Unwrap() error { return w.err }

// wrap words err with message id, err as its {{.error}}.
func (d Deps) wrap(id string, args i18n.Args, err error) error {
	a := i18n.Args{"error": err}
	for k, v := range args {
		a[k] = v
	}
	return &wrapped{msg: d.Loc.T(id, a), err: err}
}
