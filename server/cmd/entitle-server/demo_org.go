package main

import (
	"context"
	"database/sql"
	"encoding/json"
	"errors"
	"fmt"

	"github.com/entitle/entitle/pkg/accountapi"
	"github.com/entitle/entitle/pkg/adminapi"
	domains "github.com/entitle/entitle/server/app"
	"github.com/entitle/entitle/server/authz"
	"github.com/entitle/entitle/server/internal/column"
	"github.com/entitle/entitle/server/internal/ids"
	"github.com/entitle/entitle/server/licenses"
	"github.com/entitle/entitle/server/store"
	"github.com/entitle/entitle/server/workspaces"
)

// The demo organization `entitle-server demo` seeds next to the demo
// account, so that `make run` opens on a living console.
const (
	demoOrgSetting = "demo_org"
	demoOrgName    = "Cabinet Démo" // i18n:ignore demo data (a name), not interface text
	demoOrgDomain  = "cabinet-demo.test"
	demoPlanCode   = "demo-pro"
)

// demoPerson is one sign-in of the demo organization.
type demoPerson struct {
	Email    string `json:"email"`
	Password string `json:"password"`
	Role     string `json:"role"`
	Seat     bool   `json:"seat"` // holds a seat of the subscription
}

// demoWorkspace is one of the demo organization's workspaces.
type demoWorkspace struct {
	ID   string `json:"id"`
	Name string `json:"name"`
	Mode string `json:"management_mode"`
}

// demoOrg is what the seed made, kept in the settings table so that every
// later run prints the same sign-ins (it guards only demo data).
type demoOrg struct {
	ID              string          `json:"id"`
	Name            string          `json:"name"`
	Admin           demoPerson      `json:"admin"`
	Members         []demoPerson    `json:"members"`
	SubscriptionID  string          `json:"subscription_id"`
	OrderID         string          `json:"order_id"`
	Workspaces      []demoWorkspace `json:"workspaces"`
	EnrollmentToken string          `json:"enrollment_token"` // joins the first workspace
}

// The demo organization's people and workspaces: the admin holds the
// workspace of computers managed from both ends; each workspace holds the
// license of the account that made it, as the workspaces rules require.
var (
	demoAdminEmail   = "direction@" + demoOrgDomain
	demoMemberEmails = []string{"camille.durand@" + demoOrgDomain, "hugo.lefevre@" + demoOrgDomain, "lea.martin@" + demoOrgDomain}
)

type demoWorkspaceSpec struct{ name, mode string }

var demoWorkspaceSpecs = []demoWorkspaceSpec{
	{"Secrétariat", licenses.ManagedLocalRemote}, // the admin's license; the demo computer joins it // i18n:ignore demo data (a name), not interface text
	{"Associés", licenses.ManagedLocal},          // the first member's // i18n:ignore demo data (a name), not interface text
	{"Accueil", licenses.ManagedRemote},          // the second member's // i18n:ignore demo data (a name), not interface text
}

// seedDemoOrg creates the demo organization once through the domain
// services and returns what it made; later calls return the same.
func seedDemoOrg(ctx context.Context, db *store.DB, svc *domains.App) (demoOrg, error) {
	if d, ok, err := loadDemoOrg(ctx, db); err != nil || ok {
		return d, err
	}
	d := demoOrg{Name: demoOrgName}
	newPerson := func(email, role string) (demoPerson, string, error) {
		pw, err := ids.Token(12)
		if err != nil {
			return demoPerson{}, "", err
		}
		acc, err := svc.Accounts.CreateAccount(ctx, email, pw)
		if err != nil {
			return demoPerson{}, "", err
		}
		return demoPerson{Email: email, Password: pw, Role: role}, acc.ID, nil
	}
	admin, adminID, err := newPerson(demoAdminEmail, string(authz.RoleOwner))
	if err != nil {
		return demoOrg{}, err
	}
	org, err := svc.Organizations.Create(ctx, "system", demoOrgName, adminID)
	if err != nil {
		return demoOrg{}, err
	}
	d.ID = org.ID
	operator := authz.Principal{Operator: true, OrgID: org.ID}
	owner := authz.Principal{AccountID: adminID, OrgID: org.ID, Role: authz.RoleOwner}
	if _, err := svc.Organizations.ApproveDomain(ctx, operator, org.ID, demoOrgDomain); err != nil {
		return demoOrg{}, err
	}
	memberIDs := make([]string, 0, len(demoMemberEmails))
	for _, e := range demoMemberEmails {
		m, id, err := newPerson(e, string(authz.RoleMember))
		if err != nil {
			return demoOrg{}, err
		}
		if _, err := svc.Organizations.AddMember(ctx, owner, org.ID, e, authz.RoleMember); err != nil {
			return demoOrg{}, err
		}
		d.Members = append(d.Members, m)
		memberIDs = append(memberIDs, id)
	}

	// The catalog's plan, and its purchase: cart, validate, confirm, and
	// the operator recording the payment, which opens the subscription.
	plan, err := svc.Plans.Create(ctx, "operator", adminapi.CreatePlanRequest{
		Code: demoPlanCode, Name: "Pro", Features: []string{"sign", "timestamp"}, MaxProfiles: 5, // i18n:ignore demo data (a plan name)
		DevicesPerSeat: 3, TermMonths: 12, SeatPriceCents: 9900, Currency: "EUR",
	}.Defaults())
	if err != nil {
		return demoOrg{}, err
	}
	actor := owner.Actor()
	o, err := svc.Orders.Create(ctx, actor, org.ID, []adminapi.LineRequest{{PlanID: plan.ID, Quantity: 5}})
	if err == nil {
		o, err = svc.Orders.Validate(ctx, actor, org.ID, o.ID)
	}
	if err == nil {
		o, err = svc.Orders.Confirm(ctx, actor, org.ID, o.ID, "BC-DEMO-1")
	}
	if err == nil {
		o, err = svc.Orders.Pay(ctx, "operator", o.ID, "VIR-DEMO-1")
	}
	if err != nil {
		return demoOrg{}, err
	}
	d.OrderID, d.SubscriptionID = o.ID, o.Lines[0].SubscriptionID

	// Seats: the admin (for the first workspace) and two members.
	holders := []string{adminID, memberIDs[0], memberIDs[1]}
	lics := make([]licenses.License, len(holders))
	for i, id := range holders {
		if lics[i], _, err = svc.Subscriptions.Assign(ctx, owner, org.ID, d.SubscriptionID, id); err != nil {
			return demoOrg{}, err
		}
	}
	admin.Seat, d.Members[0].Seat, d.Members[1].Seat = true, true, true
	d.Admin = admin

	for i, w := range demoWorkspaceSpecs {
		own := workspaces.Owner{AccountID: holders[i], OrganizationID: org.ID}
		ws, err := svc.Workspaces.Create(ctx, own, accountapi.WorkspaceRequest{Name: w.name, LicenseID: lics[i].ID, ManagementMode: w.mode})
		if err != nil {
			return demoOrg{}, err
		}
		d.Workspaces = append(d.Workspaces, demoWorkspace{ID: ws.ID, Name: ws.Name, Mode: ws.ManagementMode})
	}
	tok, err := svc.Workspaces.CreateToken(ctx, workspaces.Owner{AccountID: adminID, OrganizationID: org.ID}, d.Workspaces[0].ID,
		accountapi.EnrollmentTokenRequest{Label: "make run"}) // i18n:ignore demo data (a label)
	if err != nil {
		return demoOrg{}, err
	}
	d.EnrollmentToken = tok.Secret

	if _, err := db.Exec(ctx, "INSERT INTO settings (name, value) VALUES (?, ?)", demoOrgSetting, column.JSON(d)); err != nil { // i18n:ignore SQL
		return demoOrg{}, fmt.Errorf("demo organization record: %w", err) // i18n:ignore internal database failure
	}
	return d, nil
}

func loadDemoOrg(ctx context.Context, db *store.DB) (demoOrg, bool, error) {
	var raw string
	err := db.QueryRow(ctx, "SELECT value FROM settings WHERE name = ?", demoOrgSetting).Scan(&raw) // i18n:ignore SQL
	if errors.Is(err, sql.ErrNoRows) {
		return demoOrg{}, false, nil
	}
	if err != nil {
		return demoOrg{}, false, fmt.Errorf("demo organization record: %w", err) // i18n:ignore internal database failure
	}
	var d demoOrg
	if err := json.Unmarshal([]byte(raw), &d); err != nil {
		return demoOrg{}, false, fmt.Errorf("demo organization record: %w", err) // i18n:ignore internal database failure
	}
	return d, true, nil
}
