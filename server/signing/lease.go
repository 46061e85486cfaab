package signing

import (
	"context"
	"fmt"
	"time"

	"github.com/entitle/entitle/pkg/lease"
	"github.com/entitle/entitle/server/internal/ids"
)

// License is what a lease needs to know about the license.
type License struct {
	ID, Plan, OwnerEmail string
	Mgmt                 string // management mode; "" = not managed
	Features             []string
	MaxProfiles          int
	TermEnd              time.Time
	Subscription         bool
	// Nonce is the activation request's nonce, copied into the lease that
	// answers it ("" for check-ins): it binds the answer to the request.
	Nonce string
}

// SignLease issues a lease for a device at now.
func (s *Service) SignLease(ctx context.Context, deviceID, fingerprint, product string, l License, now time.Time) (string, error) {
	k, err := s.currentKey(ctx, now)
	if err != nil {
		return "", err
	}
	jti, err := ids.Token(16)
	if err != nil {
		return "", err
	}
	exp := now.Add(s.cfg.OfflineGrace)
	if !l.TermEnd.IsZero() && l.TermEnd.Before(exp) {
		exp = l.TermEnd
	}
	var termEnd int64
	if !l.TermEnd.IsZero() {
		termEnd = l.TermEnd.Unix()
	}
	features := l.Features
	if features == nil {
		features = []string{}
	}
	c := lease.Claims{
		Issuer:      s.cfg.Issuer,
		Subject:     deviceID,
		ID:          jti,
		IssuedAt:    now.Unix(),
		NotBefore:   now.Unix(),
		Expiry:      exp.Unix(),
		CheckinAt:   now.Add(s.cfg.CheckinInterval).Unix(),
		Fingerprint: fingerprint,
		Product:     product,
		License: lease.License{
			ID:           l.ID,
			Plan:         l.Plan,
			Features:     features,
			MaxProfiles:  l.MaxProfiles,
			TermEnd:      termEnd,
			Subscription: l.Subscription,
		},
		Account:        l.OwnerEmail,
		ManagementMode: l.Mgmt,
		Nonce:          l.Nonce,
	}
	if l.Mgmt != "" { // managed (licenses.ManagedNot is "")
		// Until organizations exist, whoever owns the license is who
		// manages its computers: the agent and tray name it ("managed
		// remotely by ...").
		c.Organization = l.OwnerEmail
	}
	tok, err := k.signer.Sign(c)
	if err != nil {
		return "", fmt.Errorf("sign lease for device %s: %w", deviceID, err)
	}
	return tok, nil
}
