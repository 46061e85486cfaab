package main

import (
	"fmt"
	"text/tabwriter"
	"time"

	"github.com/entitle/entitle/pkg/adminapi"
	"github.com/entitle/entitle/server/authz"
	"github.com/entitle/entitle/server/organizations"
)

// cliOperator is the principal of the operator commands: whoever runs
// entitle-server against the database is the vendor's operator.
var cliOperator = authz.Principal{Operator: true, TokenID: "cli"}

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
