package orders

import (
	"bytes"
	"context"
	"crypto/sha256"
	_ "embed"
	"encoding/base64"
	"fmt"
	"html/template"
	"strings"

	"github.com/entitle/entitle/pkg/adminapi"
	"github.com/entitle/entitle/pkg/i18n"
	"github.com/entitle/entitle/server/internal/fault"
	"github.com/entitle/entitle/server/organizations"
	"github.com/entitle/entitle/server/store"
)

//go:embed invoice.html
var invoiceHTML string

var invoicePage = template.Must(template.New("invoice").Parse(invoiceHTML))

// InvoiceCSP is the Content-Security-Policy of the invoice page: nothing
// but its own inline style (by hash), so a printed or saved page loads
// nothing from anywhere.
func InvoiceCSP() string {
	_, rest, _ := strings.Cut(invoiceHTML, "<style>")
	style, _, _ := strings.Cut(rest, "</style>")
	sum := sha256.Sum256([]byte(style))
	return "default-src 'none'; style-src 'sha256-" + base64.StdEncoding.EncodeToString(sum[:]) + "'; frame-ancestors 'none'; base-uri 'none'; form-action 'none'"
}

type invoiceLine struct {
	Item, Quantity, Unit, Amount string
}

// RenderInvoice returns the printable HTML invoice of a confirmed (or paid,
// or cancelled after confirmation) order of orgID, in lang, else the
// organization's default language. Amounts are totals: the plans carry no
// VAT rate, so no VAT is broken out, and the page says so.
func (s *Service) RenderInvoice(ctx context.Context, orgID, orderID, lang string) ([]byte, error) {
	var (
		o Order
		b organizations.Billing
	)
	err := s.db.InTx(ctx, func(tx *store.Tx) error {
		var err error
		if o, err = load(ctx, tx, orgID, orderID, false); err != nil {
			return err
		}
		b, err = organizations.BillingOf(ctx, tx, o.OrganizationID)
		return err
	})
	if err != nil {
		return nil, err
	}
	if o.InvoiceNumber == "" {
		return nil, fault.Errorf(adminapi.ErrOrderState, "the order is %s: it has an invoice once confirmed", o.Status)
	}
	loc := s.bundle.Localizer(s.bundle.Match(lang, b.Locale))
	t := map[string]string{
		"title": loc.T("invoice_title", nil), "seller": loc.T("invoice_seller", nil), "buyer": loc.T("invoice_buyer", nil),
		"number": loc.T("invoice_number", nil), "date": loc.T("invoice_date", nil), "due": loc.T("invoice_due", nil),
		"po": loc.T("invoice_po", nil), "item": loc.T("invoice_item", nil), "quantity": loc.T("invoice_quantity", nil),
		"unit": loc.T("invoice_unit_price", nil), "amount": loc.T("invoice_amount", nil), "total": loc.T("invoice_total", nil),
		"vat_note": loc.T("invoice_vat_note", nil), "tax_id": loc.T("invoice_tax_id", nil),
	}
	lines := make([]invoiceLine, 0, len(o.Lines))
	for _, l := range o.Lines {
		item := loc.T("invoice_line_item", i18n.Args{"plan": l.PlanName, "code": l.PlanCode})
		if o.Kind == adminapi.OrderRenewal {
			item = loc.T("invoice_line_renewal", i18n.Args{"plan": l.PlanName, "code": l.PlanCode})
		}
		lines = append(lines, invoiceLine{Item: item, Quantity: loc.Number(l.Quantity),
			Unit: loc.Money(l.UnitPriceCents, o.Currency), Amount: loc.Money(l.AmountCents(), o.Currency)})
	}
	status := ""
	switch o.Status {
	case adminapi.OrderPaid:
		status = loc.T("invoice_paid", i18n.Args{"date": loc.Date(o.Paid), "reference": o.PaymentReference})
	case adminapi.OrderCancelled:
		status = loc.T("invoice_cancelled", i18n.Args{"date": loc.Date(o.Cancelled)})
	}
	var buf bytes.Buffer
	if err := invoicePage.Execute(&buf, map[string]any{
		"Lang": loc.Tag().String(), "T": t, "Seller": s.cfg.Seller, "Buyer": b.Name, "Number": o.InvoiceNumber,
		"Date": loc.Date(o.Confirmed), "Due": loc.Date(o.Due), "PurchaseOrder": o.PurchaseOrder, "Lines": lines,
		"Total": loc.Money(o.TotalCents, o.Currency), "Status": status,
	}); err != nil {
		return nil, fmt.Errorf("render invoice: %w", err)
	}
	return buf.Bytes(), nil
}
