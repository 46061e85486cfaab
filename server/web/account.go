package web

import (
	"context"
	"net/http"

	"github.com/entitle/entitle/pkg/paging"
	"github.com/entitle/entitle/pkg/protocol"
	"github.com/entitle/entitle/server/devices"
	"github.com/entitle/entitle/server/httpapi/httpmw"
	"github.com/entitle/entitle/server/journal"
	"github.com/entitle/entitle/server/licenses"
)

// Journal is the part of *journal.Reader the pages use.
type Journal interface {
	List(ctx context.Context, f journal.Filter) (paging.Page[journal.Row], error)
	Each(ctx context.Context, f journal.Filter, fn func(journal.Row) error) error
}

// accountRoutes are the person's own pages.
func (p *Pages) accountRoutes() []route {
	rs := []route{
		{pattern: "GET /account", gate: person, h: p.licensesPage},
		{pattern: "GET /account/computers", gate: person, h: p.computersPage},
		{pattern: "GET /account/devices/{id}/release", gate: person, h: p.releaseConfirm},
		{pattern: "POST /account/devices/{id}/release", gate: person, h: p.release},
		{pattern: "GET /account/password", gate: person, h: p.passwordPage},
		{pattern: "POST /account/password", gate: person, h: p.changePassword},
	}
	if p.d.Journal != nil {
		rs = append(rs, route{pattern: "GET /account/activity", gate: person, h: p.activityPage})
	}
	return rs
}

type licensesView struct {
	Licenses []licenses.License
	Pager    Pager
}

func (p *Pages) licensesPage(w http.ResponseWriter, r *http.Request, c *call) {
	pg, pr, err := listPage(r, pageSize, "web_total_licenses", func(req paging.Request) (paging.Page[licenses.License], error) {
		return p.d.Licenses.PageLicenses(r.Context(), c.acct.ID, req)
	})
	if err != nil {
		c.fail(w, r, "list licenses", err)
		return
	}
	v := c.view("web_licenses_title", licensesView{Licenses: pg.Items, Pager: pr})
	if r.URL.Query().Get("joined") == "1" {
		v.Notice = c.T("web_accept_done", nil)
	}
	c.show(w, r, http.StatusOK, "licenses", v)
}

type computersView struct {
	Devices []devices.Device
	Pager   Pager
}

// accountDevicesPage is how many computers the computers page shows at once.
const accountDevicesPage = 100

func (p *Pages) computersPage(w http.ResponseWriter, r *http.Request, c *call) {
	pg, pr, err := listPage(r, accountDevicesPage, "web_total_computers", func(req paging.Request) (paging.Page[devices.Device], error) {
		return p.d.Devices.PageDevices(r.Context(), c.acct.ID, req)
	})
	if err != nil {
		c.fail(w, r, "list devices", err)
		return
	}
	v := c.view("web_computers_title", computersView{Devices: pg.Items, Pager: pr})
	if r.URL.Query().Get("released") == "1" {
		v.Notice = c.T("web_release_done", nil)
	}
	c.show(w, r, http.StatusOK, "computers", v)
}

// Confirm is the data of the "confirm" template: what will happen, in words,
// and the form that does it.
type Confirm struct {
	Consequence, Button string
	Action, Cancel      string
	Fields              []Field
}

// Field is a hidden field of a confirmation form.
type Field struct{ Name, Value string }

// releaseConfirm says what releasing a computer does before it is done.
func (p *Pages) releaseConfirm(w http.ResponseWriter, r *http.Request, c *call) {
	id := r.PathValue("id")
	if err := p.d.Devices.CheckOwner(r.Context(), c.acct.ID, id); err != nil {
		c.fail(w, r, "check device owner", err)
		return
	}
	c.show(w, r, http.StatusOK, "confirm", c.view("web_release_title", Confirm{
		Consequence: c.T("web_release_consequence", nil), Button: c.T("web_release_button", nil),
		Action: "/account/devices/" + id + "/release", Cancel: "/account/computers",
	}))
}

func (p *Pages) release(w http.ResponseWriter, r *http.Request, c *call) {
	id := r.PathValue("id")
	if err := p.d.Devices.ReleaseDevice(r.Context(), c.acct.ID, id); err != nil {
		c.fail(w, r, "release device", err)
		return
	}
	if p.d.Nudge != nil {
		p.d.Nudge.Notify(r.Context(), id) // an online computer learns it at once
	}
	http.Redirect(w, r, "/account/computers?released=1", http.StatusSeeOther)
}

type activityView struct {
	Rows  []journal.Row
	Pager Pager
}

// activityPage is the person's own journal: what they and others did to
// their account, licenses and computers.
func (p *Pages) activityPage(w http.ResponseWriter, r *http.Request, c *call) {
	pg, pr, err := listPage(r, pageSize, "web_total_rows", func(req paging.Request) (paging.Page[journal.Row], error) {
		return p.d.Journal.List(r.Context(), journal.Filter{AnyOrganization: true, Account: c.acct.ID, Page: req})
	})
	if err != nil {
		c.fail(w, r, "list activity", err)
		return
	}
	c.show(w, r, http.StatusOK, "activity", c.view("web_activity_title", activityView{Rows: pg.Items, Pager: pr}))
}

func (p *Pages) passwordPage(w http.ResponseWriter, r *http.Request, c *call) {
	v := c.view("web_password_title", nil)
	if r.URL.Query().Get("changed") == "1" {
		v.Notice = c.T("web_password_changed", nil)
	}
	c.show(w, r, http.StatusOK, "password", v)
}

func (p *Pages) changePassword(w http.ResponseWriter, r *http.Request, c *call) {
	cur, pw, again := r.PostFormValue("current_password"), r.PostFormValue("new_password"), r.PostFormValue("new_password_again")
	retry := func(status int, msg string) {
		v := c.view("web_password_title", nil)
		v.Error = c.T(msg, nil)
		c.show(w, r, status, "password", v)
	}
	switch {
	case len(pw) < 8 || len(pw) > maxPassword:
		retry(http.StatusBadRequest, "mail_page_password_rule")
		return
	case pw != again:
		retry(http.StatusBadRequest, "web_password_mismatch")
		return
	}
	err := p.d.Accounts.ChangePassword(r.Context(), c.acct.ID, c.token, cur, pw, httpmw.ClientIP(r.Context()))
	if err != nil {
		code, _, ok := serviceError(err)
		switch {
		case ok && code == protocol.ErrInvalidCredentials:
			retry(http.StatusBadRequest, "web_password_wrong")
		case ok && code == protocol.ErrInvalidRequest:
			retry(http.StatusBadRequest, "mail_page_password_rule")
		default:
			c.fail(w, r, "change password", err)
		}
		return
	}
	http.Redirect(w, r, "/account/password?changed=1", http.StatusSeeOther)
}
