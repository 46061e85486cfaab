// Package config loads the agent's configuration: built-in per-OS defaults,
// overridden by a TOML file, then (on Windows) by the values the MSI writes to
// the registry key HKLM\SOFTWARE\Entitle\Agent, then by ENTITLE_* environment
// variables, then by command-line flags that were explicitly set.
package config

import (
	"crypto/ed25519"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net/netip"
	"net/url"
	"os"
	"regexp"
	"strconv"
	"strings"

	"github.com/BurntSushi/toml"
	"github.com/spf13/pflag"

	"github.com/entitle/entitle/pkg/lease"
)

// Config is the agent's configuration.
type Config struct {
	Listen         string   `toml:"listen"`
	StateDir       string   `toml:"state_dir"`
	ProfileDir     string   `toml:"profile_dir"`
	ServerURL      string   `toml:"server_url"`
	ProductID      string   `toml:"product_id"`
	HelpURL        string   `toml:"help_url"`
	LogLevel       string   `toml:"log_level"`
	PinnedKeys     []string `toml:"pinned_keys"` // base64url Ed25519 public keys (lease.DecodePublicKey)
	ExpiringDays   int      `toml:"expiring_days"`
	ManagementMode string   `toml:"management_mode"`
	// Language overrides the language of the CLI and the tray ("en", "fr";
	// empty: the system's locale).
	Language string `toml:"language"`
	// EnrollmentToken is a license key, or a workspace's enrollment token
	// ("ent_..."), the agent activates with by itself
	// when its state folder has never held an activation (see the engine).
	EnrollmentToken Secret `toml:"enrollment_token"`
}

// Secret is a configuration value that must never be printed or logged (the
// enrollment token). Every formatting path (fmt verbs, slog, JSON and text
// marshaling) shows only whether it is set; Reveal returns the value.
type Secret string

// Redacted is how a set Secret is shown.
const Redacted = "set"

// Reveal returns the secret value, for the one place that sends it.
func (s Secret) Reveal() string { return string(s) }

// IsSet reports whether the secret holds a value.
func (s Secret) IsSet() bool { return s != "" }

// String shows "set" or "".
func (s Secret) String() string {
	if s.IsSet() {
		return Redacted
	}
	return ""
}

// GoString keeps %#v from printing the value.
func (s Secret) GoString() string { return fmt.Sprintf("config.Secret(%q)", s.String()) }

// LogValue keeps slog from printing the value.
func (s Secret) LogValue() slog.Value { return slog.StringValue(s.String()) }

// MarshalText keeps encoders (JSON, TOML) from writing the value.
func (s Secret) MarshalText() ([]byte, error) { return []byte(s.String()), nil }

// Default values shared by every OS.
const (
	DefaultServerURL    = "http://127.0.0.1:8780"
	DefaultProductID    = "entitle-signing"
	DefaultLogLevel     = "info"
	DefaultExpiringDays = 30
)

// MaxEnrollmentToken bounds the enrollment token (a license key).
const MaxEnrollmentToken = 256

// MaxFileSize bounds the configuration file.
const MaxFileSize = 256 << 10

// Defaults returns the built-in configuration for this OS (see the
// defaults_*.go files for the folders).
func Defaults() Config {
	return Config{
		Listen:       "127.0.0.1:7343",
		StateDir:     defaultStateDir(),
		ProfileDir:   defaultProfileDir(),
		ServerURL:    DefaultServerURL,
		ProductID:    DefaultProductID,
		LogLevel:     DefaultLogLevel,
		ExpiringDays: DefaultExpiringDays,
	}
}

// Environment variables read by Load.
const (
	EnvConfig         = "ENTITLE_CONFIG"
	EnvListen         = "ENTITLE_LISTEN"
	EnvStateDir       = "ENTITLE_STATE_DIR"
	EnvProfileDir     = "ENTITLE_PROFILE_DIR"
	EnvServerURL      = "ENTITLE_SERVER_URL"
	EnvProductID      = "ENTITLE_PRODUCT_ID"
	EnvHelpURL        = "ENTITLE_HELP_URL"
	EnvLogLevel       = "ENTITLE_LOG_LEVEL"
	EnvPinnedKeys     = "ENTITLE_PINNED_KEYS" // comma-separated
	EnvExpiringDays   = "ENTITLE_EXPIRING_DAYS"
	EnvManagementMode = "ENTITLE_MANAGEMENT_MODE"
	EnvEnrollment     = "ENTITLE_ENROLLMENT_TOKEN"
	EnvLanguage       = "ENTITLE_LANG" // same as pkg/i18n.EnvLang
)

// RegistryKey is where the Windows installer writes its silent-install
// properties (HKEY_LOCAL_MACHINE, 64-bit view), as REG_SZ values named below.
const RegistryKey = `SOFTWARE\Entitle\Agent`

// Registry values read by Load on Windows. A missing or empty value is unset.
const (
	RegServerURL       = "server_url"
	RegEnrollmentToken = "enrollment_token"
	RegManagementMode  = "management_mode"
	RegPinnedKeys      = "pinned_keys" // comma-separated
)

// RegistryValues lists the registry values Load reads.
func RegistryValues() []string {
	return []string{RegServerURL, RegEnrollmentToken, RegManagementMode, RegPinnedKeys}
}

// Flag names registered by AddFlags.
const (
	FlagConfig     = "config"
	FlagListen     = "listen"
	FlagStateDir   = "state-dir"
	FlagProfileDir = "profile-dir"
	FlagServerURL  = "server-url"
	FlagPinnedKey  = "pinned-key"
	FlagProductID  = "product-id"
	FlagLogLevel   = "log-level"
	FlagEnrollment = "enrollment-token"
	FlagLanguage   = "lang"
)

// AddFlags registers the configuration flags on fs.
func AddFlags(fs *pflag.FlagSet) {
	d := Defaults()
	fs.String(FlagConfig, "", "configuration file (TOML)")
	fs.String(FlagListen, d.Listen, "loopback address of the local API (IP:port)")
	fs.String(FlagStateDir, d.StateDir, "folder holding the activation state")
	fs.String(FlagProfileDir, d.ProfileDir, "folder holding signature profiles")
	fs.String(FlagServerURL, d.ServerURL, "URL of the licensing server")
	fs.StringArray(FlagPinnedKey, nil, "trusted lease signing key, base64url Ed25519 (repeatable)")
	fs.String(FlagProductID, d.ProductID, "product id")
	fs.String(FlagLogLevel, d.LogLevel, "log level: debug, info, warn or error")
	fs.String(FlagLanguage, "", "language of messages: en or fr (default: the system's)")
	fs.String(FlagEnrollment, "", "license key or workspace enrollment token (ent_...) to activate with when this computer was never activated (visible to other local users: prefer the file or "+EnvEnrollment+")")
}

// Load builds the configuration: Defaults, then the TOML file, then (Windows
// only) the values of HKLM\SOFTWARE\Entitle\Agent, then ENTITLE_* variables
// from lookupEnv, then flags of flags that were explicitly set.
//
// The file is, in order of preference, the --config flag, $ENTITLE_CONFIG, or
// path. A file named by the flag or the variable must exist; path is the
// caller's default location and may be missing. An empty path means no file.
// lookupEnv and flags may be nil. The result is validated.
func Load(path string, lookupEnv func(string) (string, bool), flags *pflag.FlagSet) (Config, error) {
	return load(path, lookupEnv, readRegistry, flags)
}

// load is Load with the registry source injected: readReg returns the
// registry values by name (nil map: none). Tests pass a map; Load passes the
// per-OS reader (a no-op outside Windows).
func load(path string, lookupEnv func(string) (string, bool), readReg func() (map[string]string, error), flags *pflag.FlagSet) (Config, error) {
	if lookupEnv == nil {
		lookupEnv = func(string) (string, bool) { return "", false }
	}
	cfg := Defaults()
	file, required := path, false
	if v, ok := lookupEnv(EnvConfig); ok && v != "" {
		file, required = v, true
	}
	if v, ok := changedString(flags, FlagConfig); ok && v != "" {
		file, required = v, true
	}
	if file != "" {
		if err := loadFile(file, required, &cfg); err != nil {
			return Config{}, err
		}
	}
	if readReg != nil {
		reg, err := readReg()
		if err != nil {
			return Config{}, err
		}
		applyRegistry(reg, &cfg)
	}
	if err := applyEnv(lookupEnv, &cfg); err != nil {
		return Config{}, err
	}
	if err := applyFlags(flags, &cfg); err != nil {
		return Config{}, err
	}
	if err := cfg.Validate(); err != nil {
		return Config{}, err
	}
	return cfg, nil
}

func loadFile(path string, required bool, cfg *Config) error {
	f, err := os.Open(path)
	if errors.Is(err, os.ErrNotExist) && !required {
		return nil
	}
	if err != nil {
		return fmt.Errorf("config file: %w", err)
	}
	defer f.Close()
	data, err := io.ReadAll(io.LimitReader(f, MaxFileSize+1))
	if err != nil {
		return fmt.Errorf("config file %s: %w", path, err)
	}
	if len(data) > MaxFileSize {
		return fmt.Errorf("config file %s: larger than %d bytes", path, MaxFileSize)
	}
	md, err := toml.Decode(string(data), cfg)
	if err != nil {
		fe := &FileError{Path: path, err: err}
		var pe toml.ParseError
		if errors.As(err, &pe) {
			fe.Line, fe.Key = pe.Position.Line, pe.LastKey
		} else if m := typeErrPos.FindStringSubmatch(err.Error()); m != nil {
			// A value of the wrong type: the library says where only in
			// its message ("toml: line 3 (last key "x"): ...").
			fe.Line, _ = strconv.Atoi(m[1])
			fe.Key = m[2]
		}
		return fe
	}
	if und := md.Undecoded(); len(und) > 0 {
		fe := &FileError{Path: path}
		for _, k := range und {
			fe.UnknownKeys = append(fe.UnknownKeys, k.String())
		}
		return fe
	}
	return nil
}

// typeErrPos finds the position in the TOML library's type errors.
var typeErrPos = regexp.MustCompile(`line (\d+) \(last key "([^"]*)"\)`)

// FileError is a configuration file that does not parse (Line, and Key when
// the parser knows the setting) or names settings that do not exist
// (UnknownKeys). Programs that show it to a person render these fields in
// their words; Error is the English form for logs, without the TOML
// library's own wording.
type FileError struct {
	Path        string
	Line        int
	Key         string
	UnknownKeys []string
	err         error // the parser's error, kept for errors.Is/As
}

func (e *FileError) Error() string {
	switch {
	case len(e.UnknownKeys) > 0:
		return fmt.Sprintf("config file %s: unknown key %q", e.Path, strings.Join(e.UnknownKeys, `", "`))
	case e.Key != "":
		return fmt.Sprintf("config file %s, line %d: the value of %q is not valid here (check quotes, brackets and the value's type)", e.Path, e.Line, e.Key)
	default:
		return fmt.Sprintf("config file %s, line %d: this line is not valid TOML (check quotes, brackets and = signs)", e.Path, e.Line)
	}
}

func (e *FileError) Unwrap() error { return e.err }

// applyRegistry overrides cfg with the registry values that are set; an
// empty (or blank) value is unset, as the MSI writes every value, empty when
// its property was not given.
func applyRegistry(reg map[string]string, cfg *Config) {
	get := func(name string) (string, bool) {
		v := strings.TrimSpace(reg[name])
		return v, v != ""
	}
	if v, ok := get(RegServerURL); ok {
		cfg.ServerURL = v
	}
	if v, ok := get(RegEnrollmentToken); ok {
		cfg.EnrollmentToken = Secret(v)
	}
	if v, ok := get(RegManagementMode); ok {
		cfg.ManagementMode = v
	}
	if v, ok := get(RegPinnedKeys); ok {
		if keys := splitList(v); len(keys) > 0 {
			cfg.PinnedKeys = keys
		}
	}
}

func applyEnv(lookup func(string) (string, bool), cfg *Config) error {
	strs := []struct {
		name string
		dst  *string
	}{
		{EnvListen, &cfg.Listen}, {EnvStateDir, &cfg.StateDir}, {EnvProfileDir, &cfg.ProfileDir},
		{EnvServerURL, &cfg.ServerURL}, {EnvProductID, &cfg.ProductID}, {EnvHelpURL, &cfg.HelpURL},
		{EnvLogLevel, &cfg.LogLevel}, {EnvManagementMode, &cfg.ManagementMode}, {EnvLanguage, &cfg.Language},
	}
	for _, s := range strs {
		if v, ok := lookup(s.name); ok {
			*s.dst = strings.TrimSpace(v)
		}
	}
	if v, ok := lookup(EnvPinnedKeys); ok {
		cfg.PinnedKeys = splitList(v)
	}
	if v, ok := lookup(EnvEnrollment); ok {
		cfg.EnrollmentToken = Secret(strings.TrimSpace(v))
	}
	if v, ok := lookup(EnvExpiringDays); ok {
		n, err := strconv.Atoi(strings.TrimSpace(v))
		if err != nil {
			return fmt.Errorf("%s: %q is not a whole number of days", EnvExpiringDays, v)
		}
		cfg.ExpiringDays = n
	}
	return nil
}

func splitList(v string) []string {
	var out []string
	for _, p := range strings.Split(v, ",") {
		if p = strings.TrimSpace(p); p != "" {
			out = append(out, p)
		}
	}
	return out
}

func changedString(fs *pflag.FlagSet, name string) (string, bool) {
	if fs == nil {
		return "", false
	}
	f := fs.Lookup(name)
	if f == nil || !f.Changed {
		return "", false
	}
	return f.Value.String(), true
}

func applyFlags(fs *pflag.FlagSet, cfg *Config) error {
	for name, dst := range map[string]*string{
		FlagListen: &cfg.Listen, FlagStateDir: &cfg.StateDir, FlagProfileDir: &cfg.ProfileDir,
		FlagServerURL: &cfg.ServerURL, FlagProductID: &cfg.ProductID, FlagLogLevel: &cfg.LogLevel,
		FlagLanguage: &cfg.Language,
	} {
		if v, ok := changedString(fs, name); ok {
			*dst = strings.TrimSpace(v)
		}
	}
	if v, ok := changedString(fs, FlagEnrollment); ok {
		cfg.EnrollmentToken = Secret(strings.TrimSpace(v))
	}
	if fs != nil {
		if f := fs.Lookup(FlagPinnedKey); f != nil && f.Changed {
			keys, err := fs.GetStringArray(FlagPinnedKey)
			if err != nil {
				return fmt.Errorf("--%s: %w", FlagPinnedKey, err)
			}
			cfg.PinnedKeys = nil
			for _, k := range keys {
				cfg.PinnedKeys = append(cfg.PinnedKeys, splitList(k)...)
			}
		}
	}
	return nil
}

// Validate checks every field and returns the first problem found.
func (c Config) Validate() error {
	if err := ValidateListen(c.Listen); err != nil {
		return err
	}
	if c.StateDir == "" {
		return errors.New("config: state_dir is empty")
	}
	if c.ProfileDir == "" {
		return errors.New("config: profile_dir is empty")
	}
	// An empty server_url is allowed: the agent then runs "not configured"
	// (Missing) instead of refusing to start.
	if err := validateURL("server_url", c.ServerURL, false); err != nil {
		return err
	}
	if err := validateURL("help_url", c.HelpURL, false); err != nil {
		return err
	}
	if !validProductID(c.ProductID) {
		return fmt.Errorf("config: product_id %q must be 1-64 characters of a-z, 0-9, '.', '_' or '-'", c.ProductID)
	}
	switch strings.ToLower(c.LogLevel) {
	case "debug", "info", "warn", "warning", "error":
	default:
		return fmt.Errorf("config: log_level %q must be debug, info, warn or error", c.LogLevel)
	}
	if len(c.PinnedKeys) > 16 {
		return fmt.Errorf("config: %d pinned keys, at most 16", len(c.PinnedKeys))
	}
	for i, k := range c.PinnedKeys {
		if _, err := lease.DecodePublicKey(k); err != nil {
			return fmt.Errorf("config: pinned key %d: %w", i+1, err)
		}
	}
	if c.ExpiringDays < 0 || c.ExpiringDays > 365 {
		return fmt.Errorf("config: expiring_days %d must be between 0 and 365", c.ExpiringDays)
	}
	if len(c.Language) > 35 || strings.ContainsFunc(c.Language, func(r rune) bool {
		return !(r == '-' || r == '_' || r == '.' || r == '@' || r >= '0' && r <= '9' || r >= 'a' && r <= 'z' || r >= 'A' && r <= 'Z')
	}) {
		return fmt.Errorf("config: language %q must be a language tag such as en or fr", c.Language)
	}
	if len(c.ManagementMode) > 32 {
		return errors.New("config: management_mode is too long")
	}
	// The token's value never appears in an error: it is a secret.
	if len(c.EnrollmentToken) > MaxEnrollmentToken {
		return fmt.Errorf("config: enrollment_token is longer than %d characters", MaxEnrollmentToken)
	}
	for _, r := range c.EnrollmentToken {
		if r < 0x20 || r == 0x7f {
			return errors.New("config: enrollment_token holds a control character")
		}
	}
	return nil
}

// ValidateListen accepts only a loopback IP and a port: the local API must
// never be reachable from the network.
func ValidateListen(listen string) error {
	ap, err := netip.ParseAddrPort(listen)
	if err != nil {
		return fmt.Errorf("config: listen %q must be a loopback IP:port such as 127.0.0.1:7343 (%v)", listen, err)
	}
	if !ap.Addr().IsLoopback() {
		return fmt.Errorf("config: listen %q is not a loopback address; the local API must only listen on 127.0.0.1 or [::1]", listen)
	}
	return nil
}

func validateURL(name, raw string, required bool) error {
	if raw == "" {
		if required {
			return fmt.Errorf("config: %s is empty", name)
		}
		return nil
	}
	u, err := url.Parse(raw)
	if err != nil {
		return fmt.Errorf("config: %s: %w", name, err)
	}
	if (u.Scheme != "http" && u.Scheme != "https") || u.Host == "" {
		return fmt.Errorf("config: %s %q must be an http or https URL with a host", name, raw)
	}
	return nil
}

func validProductID(s string) bool {
	if len(s) == 0 || len(s) > 64 {
		return false
	}
	for _, r := range s {
		if !(r >= 'a' && r <= 'z' || r >= '0' && r <= '9' || r == '.' || r == '_' || r == '-') {
			return false
		}
	}
	return true
}

// Missing returns the settings an agent needs to activate and that are
// not set, as configuration keys: "server_url", "pinned_keys". An agent
// missing any runs and answers not_configured (it never crash-loops).
func (c Config) Missing() []string {
	var m []string
	if c.ServerURL == "" {
		m = append(m, "server_url")
	}
	if len(c.PinnedKeys) == 0 {
		m = append(m, "pinned_keys")
	}
	return m
}

// KeySet decodes PinnedKeys into a lease key set.
func (c Config) KeySet() (*lease.KeySet, error) {
	var pubs []ed25519.PublicKey
	for i, k := range c.PinnedKeys {
		p, err := lease.DecodePublicKey(k)
		if err != nil {
			return nil, fmt.Errorf("pinned key %d: %w", i+1, err)
		}
		pubs = append(pubs, p)
	}
	return lease.NewKeySet(pubs...)
}
