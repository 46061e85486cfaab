package organizations

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"net"
	"slices"
	"strings"
	"time"

	"golang.org/x/net/idna"

	"github.com/entitle/entitle/pkg/adminapi"
	"github.com/entitle/entitle/pkg/paging"
	"github.com/entitle/entitle/pkg/protocol"
	"github.com/entitle/entitle/server/authz"
	"github.com/entitle/entitle/server/internal/fault"
	"github.com/entitle/entitle/server/internal/ids"
	"github.com/entitle/entitle/server/journal"
	"github.com/entitle/entitle/server/store"
)

// ChallengePrefix is the label under which a domain's challenge TXT record
// is published: _entitle-challenge.<domain>.
const ChallengePrefix = "_entitle-challenge."

// Domain statuses and how a domain was verified.
const (
	DomainPending  = "pending"
	DomainVerified = "verified"

	MethodDNS      = "dns"
	MethodOperator = "operator"
)

// Domain is an email domain claimed by an organization.
type Domain struct {
	ID, OrganizationID string
	Domain             string // ASCII (punycode) form, lower case
	Challenge          string // the TXT record's value
	Status             string // DomainPending or DomainVerified
	Method             string // MethodDNS, MethodOperator, or "" while pending
	Created            time.Time
	VerifiedAt         time.Time // zero while pending
	CheckedAt          time.Time // last DNS look-up, zero if never
	FailingSince       time.Time // set while a verified domain's record is missing
}

// RecordName is where the challenge must be published.
func (d Domain) RecordName() string { return ChallengePrefix + d.Domain }

// NormalizeDomain validates a domain name and returns its lower-case ASCII
// form (internationalized names are converted with IDNA).
func NormalizeDomain(name string) (string, error) {
	d := strings.TrimSuffix(strings.ToLower(strings.TrimSpace(name)), ".")
	if d == "" {
		return "", fault.Invalid("a domain is required")
	}
	a, err := idna.Lookup.ToASCII(d)
	if err != nil {
		return "", fault.Invalid("%q is not a domain name", name)
	}
	if len(a) > 253 || !strings.Contains(a, ".") {
		return "", fault.Invalid("%q is not a domain name such as example.com", name)
	}
	for _, label := range strings.Split(a, ".") {
		if label == "" || len(label) > 63 || strings.HasPrefix(label, "-") || strings.HasSuffix(label, "-") {
			return "", fault.Invalid("%q is not a domain name such as example.com", name)
		}
		for _, r := range label {
			if !(r >= 'a' && r <= 'z' || r >= '0' && r <= '9' || r == '-') {
				return "", fault.Invalid("%q is not a domain name such as example.com", name)
			}
		}
	}
	return a, nil
}

func errNoDomain() *fault.Error {
	return fault.Errorf(protocol.ErrNotFound, "no such domain in this organization")
}

const domainCols = "id, organization_id, domain, challenge, status, method, created_at, verified_at, checked_at, failing_since"

func scanDomain(sc interface{ Scan(...any) error }) (Domain, error) {
	var (
		d                          Domain
		created                    int64
		verified, checked, failing sql.NullInt64
	)
	if err := sc.Scan(&d.ID, &d.OrganizationID, &d.Domain, &d.Challenge, &d.Status, &d.Method, &created, &verified, &checked, &failing); err != nil {
		return Domain{}, err
	}
	d.Created = store.FromMillis(created)
	d.VerifiedAt, d.CheckedAt, d.FailingSince = nullTime(verified), nullTime(checked), nullTime(failing)
	return d, nil
}

func nullTime(n sql.NullInt64) time.Time {
	if !n.Valid {
		return time.Time{}
	}
	return store.FromMillis(n.Int64)
}

func domainByName(ctx context.Context, tx *store.Tx, orgID, name string) (Domain, error) {
	d, err := scanDomain(tx.QueryRow(ctx, "SELECT "+domainCols+" FROM domains WHERE organization_id = ? AND domain = ?", orgID, name))
	if errors.Is(err, sql.ErrNoRows) {
		return Domain{}, errNoDomain()
	}
	if err != nil {
		return Domain{}, fmt.Errorf("get domain: %w", err)
	}
	return d, nil
}

// AddDomain claims a domain for orgID and returns it with the challenge to
// publish at RecordName(). Adding a domain already claimed returns it as is.
func (s *Service) AddDomain(ctx context.Context, p authz.Principal, orgID, name string) (Domain, error) {
	dn, err := NormalizeDomain(name)
	if err != nil {
		return Domain{}, err
	}
	var d Domain
	err = s.db.InTx(ctx, func(tx *store.Tx) error {
		if err := lockOrg(ctx, tx, orgID); err != nil {
			return err
		}
		if d, err = domainByName(ctx, tx, orgID, dn); err == nil {
			return nil
		} else if !fault.Is(err, protocol.ErrNotFound) {
			return err
		}
		d, err = s.insertDomain(ctx, tx, p, orgID, dn, DomainPending, "")
		return err
	})
	return d, err
}

func (s *Service) insertDomain(ctx context.Context, tx *store.Tx, p authz.Principal, orgID, dn, status, method string) (Domain, error) {
	id, err := ids.New("dom")
	if err != nil {
		return Domain{}, err
	}
	tok, err := ids.Token(24)
	if err != nil {
		return Domain{}, err
	}
	now := store.Millis(s.now())
	var verified any
	if status == DomainVerified {
		verified = now
	}
	if _, err := tx.Exec(ctx, "INSERT INTO domains (id, organization_id, domain, challenge, status, method, created_at, verified_at) VALUES (?, ?, ?, ?, ?, ?, ?, ?)",
		id, orgID, dn, "entitle-domain-verification="+tok, status, method, now, verified); err != nil {
		return Domain{}, fmt.Errorf("add domain: %w", err)
	}
	if err := journal.Record(ctx, tx, journal.Entry{At: s.now(), Actor: p.Actor(), Action: "org.domain.add", Target: id, Organization: orgID,
		Details: map[string]any{"domain": dn, "status": status}}); err != nil {
		return Domain{}, err
	}
	return domainByName(ctx, tx, orgID, dn)
}

// Domains lists orgID's domains, oldest first.
func (s *Service) Domains(ctx context.Context, orgID string, req paging.Request) (paging.Page[Domain], error) {
	key, err := paging.Decode(req.Cursor, 2)
	if err != nil {
		return paging.Page[Domain]{}, fault.Invalid("%v", err)
	}
	n := req.Size()
	q := "SELECT " + domainCols + " FROM domains WHERE organization_id = ?"
	args := []any{orgID}
	if key != nil {
		after, err := cursorMillis(key[0])
		if err != nil {
			return paging.Page[Domain]{}, err
		}
		q += " AND (created_at > ? OR (created_at = ? AND id > ?))"
		args = append(args, after, after, key[1])
	}
	q += " ORDER BY created_at, id LIMIT ?"
	args = append(args, n+1)
	var (
		out   []Domain
		total int64
	)
	err = s.db.InTx(ctx, func(tx *store.Tx) error {
		if err := tx.QueryRow(ctx, "SELECT COUNT(*) FROM domains WHERE organization_id = ?", orgID).Scan(&total); err != nil {
			return fmt.Errorf("count domains: %w", err)
		}
		rows, err := tx.Query(ctx, q, args...)
		if err != nil {
			return fmt.Errorf("list domains: %w", err)
		}
		defer rows.Close()
		for rows.Next() {
			d, err := scanDomain(rows)
			if err != nil {
				return fmt.Errorf("list domains: %w", err)
			}
			out = append(out, d)
		}
		return rows.Err()
	})
	if err != nil {
		return paging.Page[Domain]{}, err
	}
	return paging.Trim(out, n, total, func(d Domain) []string { return []string{millisKey(d.Created), d.ID} }), nil
}

// lookup reports whether the challenge is published for d. A name that does
// not exist is "not published"; other DNS failures are errors.
func (s *Service) lookup(ctx context.Context, d Domain) (bool, error) {
	ctx, cancel := context.WithTimeout(ctx, 10*time.Second)
	defer cancel()
	txts, err := s.cfg.Resolver.LookupTXT(ctx, d.RecordName())
	var dnsErr *net.DNSError
	if errors.As(err, &dnsErr) && dnsErr.IsNotFound {
		return false, nil
	}
	if err != nil {
		return false, fmt.Errorf("look up %s: %w", d.RecordName(), err)
	}
	return slices.Contains(txts, d.Challenge), nil
}

// VerifyDomain looks up the domain's challenge record and, when it is
// published, marks the domain verified.
func (s *Service) VerifyDomain(ctx context.Context, p authz.Principal, orgID, name string) (Domain, error) {
	dn, err := NormalizeDomain(name)
	if err != nil {
		return Domain{}, errNoDomain()
	}
	var d Domain
	if err := s.db.InTx(ctx, func(tx *store.Tx) error {
		d, err = domainByName(ctx, tx, orgID, dn)
		return err
	}); err != nil {
		return Domain{}, err
	}
	// The look-up happens outside any transaction: it can take seconds.
	found, err := s.lookup(ctx, d)
	if err != nil {
		return Domain{}, fault.Errorf(adminapi.ErrDomainUnverified, "the DNS look-up of %s failed; try again later", d.RecordName())
	}
	if !found {
		return Domain{}, fault.Errorf(adminapi.ErrDomainUnverified, "no TXT record %q was found at %s", d.Challenge, d.RecordName())
	}
	err = s.db.InTx(ctx, func(tx *store.Tx) error {
		now := store.Millis(s.now())
		n, err := tx.ExecAffected(ctx, `UPDATE domains SET status = 'verified', method = 'dns', verified_at = ?, checked_at = ?, failing_since = NULL
			WHERE organization_id = ? AND id = ? AND status = 'pending'`, now, now, orgID, d.ID)
		if err != nil {
			return fmt.Errorf("verify domain: %w", err)
		}
		if n == 1 {
			if err := journal.Record(ctx, tx, journal.Entry{At: s.now(), Actor: p.Actor(), Action: "org.domain.verify", Target: d.ID, Organization: orgID,
				Details: map[string]any{"domain": dn, "method": MethodDNS}}); err != nil {
				return err
			}
		}
		d, err = domainByName(ctx, tx, orgID, dn)
		return err
	})
	return d, err
}

// ApproveDomain is the operator approving a domain by hand, claiming it for
// the organization first if needed.
func (s *Service) ApproveDomain(ctx context.Context, p authz.Principal, orgID, name string) (Domain, error) {
	if !p.Operator {
		return Domain{}, errForbidden("only the operator can approve a domain by hand")
	}
	dn, err := NormalizeDomain(name)
	if err != nil {
		return Domain{}, err
	}
	var d Domain
	err = s.db.InTx(ctx, func(tx *store.Tx) error {
		if err := lockOrg(ctx, tx, orgID); err != nil {
			return err
		}
		d, err = domainByName(ctx, tx, orgID, dn)
		if fault.Is(err, protocol.ErrNotFound) {
			d, err = s.insertDomain(ctx, tx, p, orgID, dn, DomainPending, "")
		}
		if err != nil {
			return err
		}
		if d.Status == DomainVerified && d.Method == MethodOperator {
			return nil
		}
		now := store.Millis(s.now())
		if _, err := tx.Exec(ctx, `UPDATE domains SET status = 'verified', method = 'operator', verified_at = ?, failing_since = NULL
			WHERE organization_id = ? AND id = ?`, now, orgID, d.ID); err != nil {
			return fmt.Errorf("approve domain: %w", err)
		}
		if err := journal.Record(ctx, tx, journal.Entry{At: s.now(), Actor: p.Actor(), Action: "org.domain.verify", Target: d.ID, Organization: orgID,
			Details: map[string]any{"domain": dn, "method": MethodOperator}}); err != nil {
			return err
		}
		d, err = domainByName(ctx, tx, orgID, dn)
		return err
	})
	return d, err
}

// RemoveDomain gives up a domain: people with an email there can no longer
// be invited or added (existing members stay).
func (s *Service) RemoveDomain(ctx context.Context, p authz.Principal, orgID, name string) error {
	dn, err := NormalizeDomain(name)
	if err != nil {
		return errNoDomain()
	}
	return s.db.InTx(ctx, func(tx *store.Tx) error {
		d, err := domainByName(ctx, tx, orgID, dn)
		if err != nil {
			return err
		}
		if _, err := tx.Exec(ctx, "DELETE FROM domains WHERE organization_id = ? AND id = ?", orgID, d.ID); err != nil {
			return fmt.Errorf("remove domain: %w", err)
		}
		return journal.Record(ctx, tx, journal.Entry{At: s.now(), Actor: p.Actor(), Action: "org.domain.remove", Target: d.ID, Organization: orgID,
			Details: map[string]any{"domain": dn}})
	})
}

// requireApproved refuses an email whose domain is not verified for orgID.
func requireApproved(ctx context.Context, tx *store.Tx, orgID, email string) error {
	at := strings.LastIndexByte(email, '@')
	dn, err := NormalizeDomain(email[at+1:])
	if err != nil {
		return err
	}
	var n int
	if err := tx.QueryRow(ctx, "SELECT COUNT(*) FROM domains WHERE organization_id = ? AND domain = ? AND status = 'verified'", orgID, dn).Scan(&n); err != nil {
		return fmt.Errorf("check domain: %w", err)
	}
	if n == 0 {
		return fault.Errorf(adminapi.ErrDomainNotApproved, "the domain %s is not approved for this organization", dn)
	}
	return nil
}
