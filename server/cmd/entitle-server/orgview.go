package main

import (
	"errors"
	"fmt"
	"os"
	"text/tabwriter"
	"time"

	"github.com/entitle/entitle/pkg/adminapi"
	"github.com/entitle/entitle/pkg/i18n"
	"github.com/entitle/entitle/server/authz"
	"github.com/entitle/entitle/server/internal/fault"
	"github.com/entitle/entitle/server/organizations"
)

// cliOperator is the principal of the operator commands: whoever runs
// entitle-server against the database is the vendor's operator.
var cliOperator = authz.Principal{Operator: true, TokenID: "cli"}

// localizer is the language of the operator commands' output: $ENTITLE_LANG,
// then the POSIX locale, else English.
func (a *app) localizer() *i18n.Localizer {
	b := i18n.New()
	return b.Localizer(b.Match(i18n.Preferences("", "", os.LookupEnv)...))
}

// orgError words a refusal of the organizations domain in the reader's
// language when the catalog has words for its code.
func orgError(loc *i18n.Localizer, err error) error {
	var fe *fault.Error
	if !errors.As(err, &fe) {
		return err
	}
	if id := orgErrorMessage(fe.Code); id != "" {
		return errors.New(loc.T(id, nil))
	}
	return err
}

func orgErrorMessage(code string) string {
	switch code {
	case adminapi.ErrAlreadyMember:
		return "org_err_already_member"
	case adminapi.ErrLastOwner:
		return "org_err_last_owner"
	case adminapi.ErrDomainNotApproved:
		return "org_err_domain_not_approved"
	case adminapi.ErrDomainUnverified:
		return "org_err_domain_unverified"
	case adminapi.ErrInvitationExpired:
		return "org_err_invitation_expired"
	case adminapi.ErrInvitationUsed:
		return "org_err_invitation_used"
	case adminapi.ErrForbidden:
		return "org_err_forbidden"
	case adminapi.ErrInvitationMismatch:
		return "org_err_invitation_mismatch"
	case adminapi.ErrAccountExists:
		return "org_err_account_exists"
	case adminapi.ErrIdempotencyReused:
		return "org_err_idempotency_key_reused"
	case adminapi.ErrTooManyDevices:
		return "org_err_too_many_devices"
	case adminapi.ErrSeatsAssigned:
		return "org_err_seats_assigned"
	case adminapi.ErrOrderState:
		return "order_err_state"
	case adminapi.ErrOrderEmpty:
		return "order_err_empty"
	case adminapi.ErrPlanInactive:
		return "order_err_plan_inactive"
	case adminapi.ErrCurrencyMismatch:
		return "order_err_currency"
	case adminapi.ErrPlanCodeTaken:
		return "order_err_code_taken"
	}
	return ""
}

func orgJSON(o organizations.Organization) adminapi.OrgJSON {
	return adminapi.OrgJSON{ID: o.ID, Name: o.Name, DefaultLocale: o.DefaultLocale, Created: o.Created}
}

func memberJSON(m organizations.Member) adminapi.MemberJSON {
	return adminapi.MemberJSON{AccountID: m.AccountID, Email: m.Email, Role: string(m.Role), Billing: m.Billing, Created: m.Created}
}

func optTime(t time.Time) *time.Time {
	if t.IsZero() {
		return nil
	}
	return &t
}

func domainJSON(d organizations.Domain) adminapi.DomainJSON {
	return adminapi.DomainJSON{Domain: d.Domain, Status: d.Status, Method: d.Method, RecordName: d.RecordName(), Challenge: d.Challenge,
		Created: d.Created, Verified: optTime(d.VerifiedAt), Checked: optTime(d.CheckedAt), FailingSince: optTime(d.FailingSince)}
}

func tokenJSON(t organizations.OperatorToken) adminapi.OperatorTokenJSON {
	return adminapi.OperatorTokenJSON{ID: t.ID, Name: t.Name, Created: t.Created, LastUsed: optTime(t.LastUsed), Revoked: optTime(t.RevokedAt)}
}

// table prints rows under a header, aligned.
func (a *app) table(header []string, rows [][]string) error {
	w := tabwriter.NewWriter(a.stdout, 0, 4, 2, ' ', 0)
	line := func(cols []string) {
		for i, c := range cols {
			if i > 0 {
				fmt.Fprint(w, "\t")
			}
			fmt.Fprint(w, c)
		}
		fmt.Fprintln(w)
	}
	line(header)
	for _, r := range rows {
		line(r)
	}
	return w.Flush()
}
