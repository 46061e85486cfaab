package mail

import (
	"context"
	"errors"
	"fmt"
	"net/mail"
	"strings"
	"time"

	gomail "github.com/wneessen/go-mail"
)

// TLS modes of an SMTP connection.
const (
	TLSStartTLS      = "starttls"      // STARTTLS required (the default)
	TLSImplicit      = "tls"           // TLS from the first byte (SMTPS, port 465)
	TLSOpportunistic = "opportunistic" // STARTTLS when offered, plain otherwise
	TLSNone          = "none"          // plain text (a relay on localhost only)
)

// SMTPConfig is how the server reaches its mail relay.
type SMTPConfig struct {
	Host     string
	Port     int    // default 587 (465 for TLSImplicit)
	Username string // empty: no authentication
	Password string
	TLS      string // TLSStartTLS (default), TLSImplicit, TLSOpportunistic, TLSNone
	From     string // the From address, e.g. "Entitle <no-reply@example.com>"
	Timeout  time.Duration
}

// Validate checks the settings; it never includes the password in an error.
func (c SMTPConfig) Validate() error {
	if c.Host == "" {
		return errors.New("smtp: host required")
	}
	if c.Port < 0 || c.Port > 65535 {
		return fmt.Errorf("smtp: port %d out of range", c.Port)
	}
	switch c.TLS {
	case "", TLSStartTLS, TLSImplicit, TLSOpportunistic, TLSNone:
	default:
		return fmt.Errorf("smtp: TLS mode %q: want starttls, tls, opportunistic or none", c.TLS)
	}
	if _, err := mail.ParseAddress(c.From); err != nil {
		return fmt.Errorf("smtp: from address %q: %w", c.From, err)
	}
	if c.Password != "" && c.Username == "" {
		return errors.New("smtp: a password needs a user name")
	}
	return nil
}

// FromDomain is the domain of the From address, used in Message-IDs.
func (c SMTPConfig) FromDomain() string {
	a, err := mail.ParseAddress(c.From)
	if err != nil {
		return ""
	}
	_, d, _ := strings.Cut(a.Address, "@")
	return d
}

// SMTPSender sends mail through an SMTP relay with go-mail, one connection
// per mail.
type SMTPSender struct {
	cfg  SMTPConfig
	from *mail.Address
}

// NewSMTPSender checks cfg and returns a sender.
func NewSMTPSender(cfg SMTPConfig) (*SMTPSender, error) {
	if err := cfg.Validate(); err != nil {
		return nil, err
	}
	if cfg.TLS == "" {
		cfg.TLS = TLSStartTLS
	}
	if cfg.Port == 0 {
		cfg.Port = 587
		if cfg.TLS == TLSImplicit {
			cfg.Port = 465
		}
	}
	if cfg.Timeout <= 0 {
		cfg.Timeout = 30 * time.Second
	}
	from, _ := mail.ParseAddress(cfg.From)
	return &SMTPSender{cfg: cfg, from: from}, nil
}

func (s *SMTPSender) client() (*gomail.Client, error) {
	opts := []gomail.Option{gomail.WithPort(s.cfg.Port), gomail.WithTimeout(s.cfg.Timeout)}
	switch s.cfg.TLS {
	case TLSImplicit:
		opts = append(opts, gomail.WithSSL())
	case TLSOpportunistic:
		opts = append(opts, gomail.WithTLSPolicy(gomail.TLSOpportunistic))
	case TLSNone:
		opts = append(opts, gomail.WithTLSPolicy(gomail.NoTLS))
	default:
		opts = append(opts, gomail.WithTLSPolicy(gomail.TLSMandatory))
	}
	if s.cfg.Username != "" {
		opts = append(opts, gomail.WithSMTPAuth(gomail.SMTPAuthAutoDiscover),
			gomail.WithUsername(s.cfg.Username), gomail.WithPassword(s.cfg.Password))
	}
	return gomail.NewClient(s.cfg.Host, opts...)
}

// Send sends e.
func (s *SMTPSender) Send(ctx context.Context, e Envelope) error {
	m := gomail.NewMsg()
	m.FromMailAddress(s.from)
	if err := m.To(e.To); err != nil {
		return fmt.Errorf("smtp: recipient: %w", err)
	}
	m.Subject(e.Subject)
	m.SetMessageIDWithValue(e.MessageID)
	m.SetDate()
	m.SetBodyString(gomail.TypeTextPlain, e.Text)
	if e.HTML != "" {
		m.AddAlternativeString(gomail.TypeTextHTML, e.HTML)
	}
	c, err := s.client()
	if err != nil {
		return fmt.Errorf("smtp: %w", err)
	}
	if err := c.DialAndSendWithContext(ctx, m); err != nil {
		return fmt.Errorf("smtp %s:%d: %w", s.cfg.Host, s.cfg.Port, err)
	}
	return nil
}
