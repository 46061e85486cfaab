package mail

import (
	"fmt"
	"html/template"
	"strconv"
	"strings"
	"time"

	"github.com/entitle/entitle/pkg/i18n"
)

// Rendered is a mail made into words: its subject, its plain-text body and
// the HTML alternative of the same text.
type Rendered struct {
	Subject, Text, HTML string
}

// catalogIDs names each kind's subject and body in the catalog. The ids are
// literals so the catalog's tests see them used.
func catalogIDs(kind string) (subject, text string, ok bool) {
	switch kind {
	case KindInvitation:
		return "mail_invitation_subject", "mail_invitation_text", true
	case KindAssignment:
		return "mail_assignment_subject", "mail_assignment_text", true
	case KindPasswordReset:
		return "mail_password_reset_subject", "mail_password_reset_text", true
	case KindRenewalNotice:
		return "mail_renewal_notice_subject", "mail_renewal_notice_text", true
	case KindInvoice:
		return "mail_invoice_subject", "mail_invoice_text", true
	case KindReceipt:
		return "mail_payment_receipt_subject", "mail_payment_receipt_text", true
	case KindLicenseRevoked:
		return "mail_license_revoked_subject", "mail_license_revoked_text", true
	}
	return "", "", false
}

// dateArgs are the arguments that carry a time (RFC 3339 when enqueued):
// they are written as a date in the recipient's language.
var dateArgs = [...]string{"expires", "due", "term_end", "paid"}

var htmlBody = template.Must(template.New("mail").Parse(`<!DOCTYPE html>
<html lang="{{.Lang}}"><head><meta charset="utf-8"><title>{{.Subject}}</title></head>
<body style="font-family: sans-serif; line-height: 1.5">
{{range .Paragraphs}}<p>{{range $i, $l := .}}{{if $i}}<br>
{{end}}{{$l}}{{end}}</p>
{{end}}</body></html>
`))

// Render makes the words of a mail of kind in the language locale (a BCP 47
// tag; unknown or empty means English) from the catalog of b.
func Render(b *i18n.Bundle, kind, locale string, args map[string]string) (Rendered, error) {
	subjectID, textID, ok := catalogIDs(kind)
	if !ok {
		return Rendered{}, fmt.Errorf("mail: no template for kind %q", kind)
	}
	loc := b.Localizer(b.Match(locale))
	a := i18n.Args{}
	for k, v := range args {
		a[k] = v
	}
	for _, k := range dateArgs {
		if t, err := time.Parse(time.RFC3339, args[k]); err == nil {
			a[k] = loc.DateTime(t.UTC())
		}
	}
	// An amount travels as integer cents and a currency code; it is
	// written in the recipient's language as "amount".
	if c, err := strconv.ParseInt(args["amount_cents"], 10, 64); err == nil {
		a["amount"] = loc.Money(c, args["currency"])
	}
	r := Rendered{
		// A subject is one line: a newline in an argument must not start a header.
		Subject: strings.Join(strings.Fields(loc.T(subjectID, a)), " "),
		Text:    strings.TrimSpace(loc.T(textID, a)) + "\n",
	}
	var paras [][]string
	for _, p := range strings.Split(strings.TrimSpace(r.Text), "\n\n") {
		paras = append(paras, strings.Split(p, "\n"))
	}
	var sb strings.Builder
	if err := htmlBody.Execute(&sb, map[string]any{"Lang": loc.Tag().String(), "Subject": r.Subject, "Paragraphs": paras}); err != nil {
		return Rendered{}, fmt.Errorf("mail: html body: %w", err)
	}
	r.HTML = sb.String()
	return r, nil
}
