// Package profilescli holds the `entitle profiles` and `entitle migrate`
// commands. They talk to the running agent through its local API (the
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
	"strings"
	"text/tabwriter"

	"github.com/spf13/cobra"

	"github.com/entitle/entitle/agent/profiles"
	"github.com/entitle/entitle/agent/profiles/certcheck"
	"github.com/entitle/entitle/pkg/agentapi"
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
}

// Commands returns the `profiles` and `migrate` commands.
func Commands(d Deps) []*cobra.Command {
	if d.ReadSecret == nil {
		d.ReadSecret = func(prompt string) (string, error) {
			f, ok := d.Stdin.(*os.File)
			if !ok || d.IsTerminal == nil || !d.IsTerminal(f) {
				return "", errors.New(txtNotTerminal)
			}
			return readSecretTerminal(f, d.Stdout, prompt)
		}
	}
	return []*cobra.Command{profilesCmd(d), migrateCmd(d)}
}

func profilesCmd(d Deps) *cobra.Command {
	cmd := &cobra.Command{Use: "profiles", Short: "Manage signature profiles (certificate and key)"}
	cmd.AddCommand(listCmd(d), showCmd(d), createCmd(d), deleteCmd(d), defaultCmd(d), exportCmd(d), importCmd(d))
	return cmd
}

func listCmd(d Deps) *cobra.Command {
	var asJSON bool
	cmd := &cobra.Command{
		Use: "list", Short: "List the signature profiles", Args: cobra.NoArgs,
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
			defer printLoose(d.Stdout, loose)
			if len(list) == 0 {
				fmt.Fprintln(d.Stdout, txtListEmpty)
				return nil
			}
			tw := tabwriter.NewWriter(d.Stdout, 2, 4, 2, ' ', 0)
			fmt.Fprintln(tw, txtListHeader)
			for _, p := range list {
				mark, until := "", ""
				if p.Default {
					mark = "*"
				}
				if p.NotAfter != nil {
					until = p.NotAfter.Format("2006-01-02")
				}
				fmt.Fprintf(tw, "%s\t%s\t%s\t%s\t%s\t%s\n", mark, p.ID, p.Name, p.Owner, p.Status, until)
			}
			if err := tw.Flush(); err != nil {
				return err
			}
			for _, p := range list {
				if p.Status == certcheck.StatusInvalid || p.Status == certcheck.StatusUnlicensed {
					fmt.Fprintf(d.Stdout, txtListWhy, p.Name, p.Status, p.Reason)
				}
			}
			return nil
		},
	}
	cmd.Flags().BoolVar(&asJSON, "json", false, "print JSON")
	return cmd
}

func showCmd(d Deps) *cobra.Command {
	var asJSON bool
	cmd := &cobra.Command{
		Use: "show ID", Short: "Show one profile and its certificate", Args: cobra.ExactArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			c, err := d.Connect(cmd)
			if err != nil {
				return err
			}
			p, err := resolve(cmd, c, args[0])
			if err != nil {
				return err
			}
			if asJSON {
				return writeJSON(d.Stdout, p)
			}
			printProfile(d.Stdout, p)
			return nil
		},
	}
	cmd.Flags().BoolVar(&asJSON, "json", false, "print JSON")
	return cmd
}

func printProfile(w io.Writer, p agentapi.ProfileInfo) {
	tw := tabwriter.NewWriter(w, 2, 4, 2, ' ', 0)
	kind := txtShowCA
	if p.SelfSigned {
		kind = txtShowSelfSigned
	}
	issuer := p.Issuer + " (" + kind + ")"
	if p.Issuer == "" {
		issuer = ""
	}
	adopted := ""
	if p.Adopted {
		adopted = txtShowAdopted
	}
	rows := [][2]string{
		{"Profile", p.Name}, {"ID", p.ID}, {"Owner", p.Owner}, {"Default", yesNo(p.Default)},
		{"Status", p.Status}, {"Details", p.Reason}, {"Metadata", adopted}, {"Subject", p.Subject}, {"Issued by", issuer},
		{"Serial", p.Serial}, {"Private key", yesNo(p.HasKey)},
	}
	if p.NotBefore != nil && p.NotAfter != nil {
		rows = append(rows, [2]string{"Valid from", p.NotBefore.Format("2006-01-02 15:04:05 -07:00")},
			[2]string{"Valid until", p.NotAfter.Format("2006-01-02 15:04:05 -07:00")})
	}
	for _, r := range rows {
		if r[1] != "" {
			fmt.Fprintf(tw, "%s:\t%s\n", r[0], r[1])
		}
	}
	tw.Flush()
}

func createCmd(d Deps) *cobra.Command {
	var req profiles.CreateRequest
	cmd := &cobra.Command{
		Use: "create", Short: "Create a profile with a new self-signed signing certificate", Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			c, err := d.Connect(cmd)
			if err != nil {
				return err
			}
			var p agentapi.ProfileInfo
			if err := c.JSON(ctxOf(cmd), http.MethodPost, agentapi.PathProfiles, req, &p); err != nil {
				return err
			}
			fmt.Fprintf(d.Stdout, txtCreated, p.Name, p.ID)
			warnUnusable(d.Stdout, p)
			return nil
		},
	}
	cmd.Flags().StringVar(&req.Owner, "owner", "", "owner's name, put in the certificate (required)")
	cmd.Flags().StringVar(&req.Name, "name", "", "profile name (default: the owner)")
	cmd.Flags().StringVar(&req.Email, "email", "", "owner's email address, put in the certificate")
	cmd.Flags().IntVar(&req.ValidYears, "years", 3, "validity in years (1-10)")
	cmd.Flags().BoolVar(&req.MakeDefault, "default", false, "make it the default profile")
	_ = cmd.MarkFlagRequired("owner")
	return cmd
}

func deleteCmd(d Deps) *cobra.Command {
	var yes bool
	cmd := &cobra.Command{
		Use: "delete ID", Short: "Delete a profile (its private key is destroyed)", Args: cobra.ExactArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			c, err := d.Connect(cmd)
			if err != nil {
				return err
			}
			p, err := resolve(cmd, c, args[0])
			if err != nil {
				return err
			}
			if !yes {
				ok, asked := d.confirm(fmt.Sprintf(txtDeleteAsk, p.Name, p.ID))
				if !asked {
					return errors.New(txtNoTerminal)
				}
				if !ok {
					fmt.Fprintln(d.Stdout, txtCancelled)
					return nil
				}
			}
			if _, err := c.Do(ctxOf(cmd), http.MethodDelete, agentapi.PathProfiles+"/"+pathID(p.ID), nil); err != nil {
				return err
			}
			fmt.Fprintf(d.Stdout, txtDeleted, p.Name, p.ID)
			return nil
		},
	}
	cmd.Flags().BoolVarP(&yes, "yes", "y", false, "do not ask for confirmation")
	return cmd
}

func defaultCmd(d Deps) *cobra.Command {
	return &cobra.Command{
		Use: "default ID", Short: "Make a profile the default", Args: cobra.ExactArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			c, err := d.Connect(cmd)
			if err != nil {
				return err
			}
			target, err := resolve(cmd, c, args[0])
			if err != nil {
				return err
			}
			var p agentapi.ProfileInfo
			if err := c.JSON(ctxOf(cmd), http.MethodPost, agentapi.PathProfiles+"/"+pathID(target.ID)+"/default", nil, &p); err != nil {
				return err
			}
			fmt.Fprintf(d.Stdout, txtDefault, p.Name)
			return nil
		},
	}
}

func exportCmd(d Deps) *cobra.Command {
	var format, out string
	var fromStdin, force bool
	cmd := &cobra.Command{
		Use:   "export ID --out FILE",
		Short: "Export a profile: p12 (certificate and key), pem or der (certificate only), profile (for 'profiles import')",
		Args:  cobra.ExactArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			req := profiles.ExportRequest{Format: format}
			if format == profiles.FormatP12 || format == profiles.FormatProfile {
				pw, err := d.newSecret(fromStdin, txtExportPass)
				if err != nil {
					return err
				}
				req.Password = pw
			}
			c, err := d.Connect(cmd)
			if err != nil {
				return err
			}
			p, err := resolve(cmd, c, args[0])
			if err != nil {
				return err
			}
			data, err := c.Do(ctxOf(cmd), http.MethodPost, agentapi.PathProfiles+"/"+pathID(p.ID)+"/export", req)
			if err != nil {
				return err
			}
			if err := writeNewFile(out, data, force); err != nil {
				return err
			}
			fmt.Fprintf(d.Stdout, txtExported, p.Name, out)
			return nil
		},
	}
	cmd.Flags().StringVar(&format, "format", profiles.FormatP12, "p12, pem, pem-chain, der or profile")
	cmd.Flags().StringVarP(&out, "out", "o", "", "file to write (required)")
	cmd.Flags().BoolVar(&fromStdin, "passphrase-stdin", false, "read the password from the first line of stdin")
	cmd.Flags().BoolVar(&force, "force", false, "overwrite an existing file")
	_ = cmd.MarkFlagRequired("out")
	return cmd
}

func importCmd(d Deps) *cobra.Command {
	var req profiles.ImportRequest
	var fromStdin bool
	cmd := &cobra.Command{
		Use: "import FILE", Short: "Import a PKCS#12 (.p12/.pfx), PEM certificate with key, or exported profile", Args: cobra.ExactArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			data, err := readInput(args[0], profiles.MaxImportSize)
			if err != nil {
				return err
			}
			if !strings.Contains(string(data[:min(len(data), 4096)]), "-----BEGIN ") {
				if req.Password, err = d.secret(fromStdin, fmt.Sprintf(txtImportPass, filepath.Base(args[0]))); err != nil {
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
			printImport(d.Stdout, res)
			return nil
		},
	}
	cmd.Flags().StringVar(&req.Name, "name", "", "profile name (default: from the certificate)")
	cmd.Flags().StringVar(&req.Owner, "owner", "", "owner (default: from the certificate)")
	cmd.Flags().StringVar(&req.OnClash, "on-clash", "fail", "when the name is taken: fail, rename or replace")
	cmd.Flags().BoolVar(&req.Force, "force", false, "import a certificate that cannot sign documents (e.g. TLS-only); it is listed as invalid")
	cmd.Flags().BoolVar(&fromStdin, "passphrase-stdin", false, "read the password from the first line of stdin")
	return cmd
}

func printImport(w io.Writer, res profiles.ImportResult) {
	for _, p := range res.Imported {
		fmt.Fprintf(w, txtImported, p.Name, p.ID, p.Status)
		if f := res.Files[p.ID]; len(f) > 0 {
			fmt.Fprintf(w, txtImportedFiles, strings.Join(f, ", "))
		}
		warnUnusable(w, p)
	}
	if n := len(res.Skipped); n > 0 {
		fmt.Fprintf(w, txtSkipped, n)
	}
}

// warnUnusable warns when a profile just created or imported is beyond
// the plan's limit: it exists, but the signing application cannot use it.
func warnUnusable(w io.Writer, p agentapi.ProfileInfo) {
	if p.Status == certcheck.StatusUnlicensed {
		fmt.Fprintf(w, txtLimitWarn, p.Name, p.Reason)
	}
}

func printLoose(w io.Writer, loose []agentapi.NotAProfile) {
	for _, l := range loose {
		fmt.Fprintf(w, txtListLoose, l.Name, l.Reason)
		if l.Command != "" {
			fmt.Fprintf(w, txtListLooseHint, l.Command)
		}
	}
}

// resolve finds the profile an argument names: its exact id, its exact
// name (ignoring case and surrounding spaces), or a prefix of one id.
func resolve(cmd *cobra.Command, c *Client, arg string) (agentapi.ProfileInfo, error) {
	var list []agentapi.ProfileInfo
	if err := c.JSON(ctxOf(cmd), http.MethodGet, agentapi.PathProfiles, nil, &list); err != nil {
		return agentapi.ProfileInfo{}, err
	}
	return pick(list, arg)
}

func pick(list []agentapi.ProfileInfo, arg string) (agentapi.ProfileInfo, error) {
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
		return agentapi.ProfileInfo{}, fmt.Errorf(txtNoMatch, arg)
	}
	var cands []string
	for _, p := range matches {
		cands = append(cands, fmt.Sprintf(txtCandidate, p.ID, p.Name))
	}
	return agentapi.ProfileInfo{}, fmt.Errorf(txtAmbiguous, arg, strings.Join(cands, ", "))
}

// pathID keeps an id argument from changing the request path.
func pathID(id string) string {
	return strings.NewReplacer("/", "%2F", "?", "%3F", "#", "%23", "..", "%2E%2E").Replace(id)
}

func yesNo(b bool) string {
	if b {
		return "yes"
	}
	return "no"
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
			return "", errors.New(txtSecretTooLong)
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
	again, err := d.ReadSecret(txtAgain)
	if err != nil {
		return "", err
	}
	if again != s {
		return "", errors.New(txtSecretsDiffer)
	}
	return s, nil
}

// readInput reads a file given on the command line, bounded.
func readInput(path string, limit int64) ([]byte, error) {
	f, err := os.Open(path)
	if err != nil {
		return nil, err
	}
	defer f.Close()
	data, err := io.ReadAll(io.LimitReader(f, limit+1))
	if err != nil {
		return nil, fmt.Errorf("read %s: %w", path, err)
	}
	if int64(len(data)) > limit {
		return nil, fmt.Errorf(txtFileTooLarge, path, limit)
	}
	return data, nil
}

// writeNewFile writes data to path with mode 0600 (exports may hold a
// private key), refusing to overwrite unless force.
func writeNewFile(path string, data []byte, force bool) error {
	flag := os.O_WRONLY | os.O_CREATE | os.O_EXCL
	if force {
		flag = os.O_WRONLY | os.O_CREATE | os.O_TRUNC
	}
	f, err := os.OpenFile(path, flag, 0o600)
	if err != nil {
		if errors.Is(err, os.ErrExist) {
			return fmt.Errorf(txtFileExists, path)
		}
		return err
	}
	if _, err := f.Write(data); err != nil {
		f.Close()
		return fmt.Errorf("write %s: %w", path, err)
	}
	if err := f.Sync(); err != nil {
		f.Close()
		return fmt.Errorf("write %s: %w", path, err)
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
