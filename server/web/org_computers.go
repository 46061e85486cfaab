package web

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"net/http"
	"net/url"
	"slices"
	"strings"
	"time"
	"unicode/utf8"

	"github.com/entitle/entitle/pkg/accountapi"
	"github.com/entitle/entitle/pkg/adminapi"
	"github.com/entitle/entitle/pkg/i18n"
	"github.com/entitle/entitle/pkg/paging"
	"github.com/entitle/entitle/pkg/protocol"
	"github.com/entitle/entitle/server/authz"
	"github.com/entitle/entitle/server/commands"
	"github.com/entitle/entitle/server/devices"
	"github.com/entitle/entitle/server/usage"
)

// OrgDevices is the part of *devices.Service the organization's computer
// pages use.
type OrgDevices interface {
	PageOrgDevices(ctx context.Context, orgID string, f adminapi.DeviceFilter, req paging.Request) (paging.Page[devices.OrgDevice], error)
	OrgDevice(ctx context.Context, orgID, deviceID string) (devices.OrgDevice, error)
	RenameOrgDevice(ctx context.Context, actor, orgID, deviceID, name string) (devices.OrgDevice, error)
	ReleaseOrgDevice(ctx context.Context, actor, orgID, deviceID string) error
}

// Commands is the part of *commands.Service the computer pages use.
type Commands interface {
	EnqueueBulk(ctx context.Context, b commands.Bulk) (commands.BulkOutcome, error)
	List(ctx context.Context, deviceID string, req paging.Request) (paging.Page[commands.Record], error)
}

// Usage is the part of *usage.Service the overview uses.
type Usage interface {
	Overview(ctx context.Context, org string, now time.Time) (usage.Overview, error)
	History(ctx context.Context, org string, from, to time.Time) ([]usage.Snapshot, error)
}

// computersRoutes are an organization's overview, its computers and their
// remote commands, for its admins (org_overview.go, org_computers*.go).
func (p *Pages) computersRoutes() []route {
	if p.d.Organizations == nil || p.d.OrgDevices == nil || p.d.Commands == nil {
		return nil
	}
	rs := []route{
		admin("GET /orgs/{org}/computers", p.orgComputersPage),
		admin("GET /orgs/{org}/computers/commands/confirm", p.bulkConfirm),
		admin("POST /orgs/{org}/computers/commands", p.bulkSend),
		admin("GET /orgs/{org}/computers/{id}", p.orgComputerPage),
		admin("GET /orgs/{org}/computers/{id}/commands.json", p.orgComputerCommandsJSON),
		admin("POST /orgs/{org}/computers/{id}/name", p.renameComputer),
		admin("GET /orgs/{org}/computers/{id}/release", p.releaseComputerConfirm),
		admin("POST /orgs/{org}/computers/{id}/release", p.releaseComputer),
	}
	if p.d.Usage != nil {
		rs = append(rs, admin("GET /orgs/{org}/overview", p.overviewPage))
	}
	return rs
}

// admin is an organization page for its admins.
func admin(pattern string, h func(http.ResponseWriter, *http.Request, *call)) route {
	return route{pattern: pattern, gate: org, role: authz.Admin, h: h}
}

// statusNames are the catalog words of the computers' statuses.
var statusNames = map[string]string{
	adminapi.StatusOnline: "web_pc_status_online", adminapi.StatusOffline: "web_pc_status_offline",
	adminapi.StatusSuspended: "web_pc_status_suspended", adminapi.StatusDeactivated: "web_pc_status_deactivated",
}

// sortNames are the catalog words of the list's sorts.
var sortNames = []struct{ value, label string }{
	{adminapi.SortLastSeen, "web_pc_sort_last_seen"}, {adminapi.SortHostname, "web_pc_sort_hostname"},
	{adminapi.SortActivated, "web_pc_sort_activated"}, {adminapi.SortUser, "web_pc_sort_user"},
}

// commandNames are the catalog words of the command types, in the form's order.
var commandNames = []struct{ value, label string }{
	{protocol.CmdRefreshLease, "web_pc_cmd_refresh_lease"}, {protocol.CmdShowMessage, "web_pc_cmd_show_message"},
	{protocol.CmdSuspend, "web_pc_cmd_suspend"}, {protocol.CmdResume, "web_pc_cmd_resume"},
	{protocol.CmdSendInventory, "web_pc_cmd_send_inventory"}, {protocol.CmdDeactivate, "web_pc_cmd_deactivate"},
}

// commandEffects say what each command does to n computers, on the
// confirmation page.
var commandEffects = map[string]string{
	protocol.CmdRefreshLease: "web_pc_effect_refresh_lease", protocol.CmdShowMessage: "web_pc_effect_show_message",
	protocol.CmdSuspend: "web_pc_effect_suspend", protocol.CmdResume: "web_pc_effect_resume",
	protocol.CmdSendInventory: "web_pc_effect_send_inventory", protocol.CmdDeactivate: "web_pc_effect_deactivate",
}

// commandStates are the catalog words of a command's states.
var commandStates = map[string]string{
	protocol.CommandPending: "web_pc_state_pending", protocol.CommandDelivered: "web_pc_state_delivered",
	protocol.CommandSucceeded: "web_pc_state_succeeded", protocol.CommandFailed: "web_pc_state_failed",
	protocol.CommandRefused: "web_pc_state_refused", protocol.CommandExpired: "web_pc_state_expired",
}

// refusalTexts word a bulk request's per-computer refusals and the
// computer pages' own errors.
var refusalTexts = map[string]string{
	protocol.ErrNotFound: "web_pc_refused_not_found", protocol.ErrDeviceRevoked: "web_pc_refused_device_revoked",
	protocol.ErrLocalOnly: "web_pc_refused_local_only", protocol.ErrCommandPending: "web_pc_refused_command_pending",
	adminapi.ErrTooManyDevices: "web_pc_refused_too_many", adminapi.ErrIdempotencyReused: "web_pc_refused_key_reused",
}

func (c *call) refusal(code string) string {
	if id, ok := refusalTexts[code]; ok {
		return c.T(id, nil)
	}
	return c.codeText(code)
}

// failPC is c.fail with the computer pages' own refusals worded.
func (c *call) failPC(w http.ResponseWriter, r *http.Request, op string, err error) {
	if code, _, ok := serviceError(err); ok {
		if id, ok := refusalTexts[code]; ok {
			v := c.view("web_refused_title", nil)
			v.Data = c.T(id, nil)
			c.show(w, r, httpStatus(code), "message", v)
			return
		}
	}
	c.fail(w, r, op, err)
}

func (c *call) label(id string) string { return c.T(id, nil) }

func (c *call) commandName(typ string) string {
	for _, cn := range commandNames {
		if cn.value == typ {
			return c.T(cn.label, nil)
		}
	}
	return typ
}

// ComputerRow is a computer as the list shows it.
type ComputerRow struct {
	devices.OrgDevice
	Display, StatusName string
}

func (c *call) computerRow(d devices.OrgDevice) ComputerRow {
	name := d.Name
	if name == "" {
		name = d.Facts.Hostname
	}
	return ComputerRow{OrgDevice: d, Display: name, StatusName: c.T(statusNames[d.Status], nil)}
}

type computersListView struct {
	Filter     adminapi.DeviceFilter
	Statuses   []Option
	Sorts      []Option
	Orders     []Option
	Workspaces []Option
	Commands   []Option
	Rows       []ComputerRow
	Pager      Pager
	Back       string // this page with its filter, where the forms return
}

// orgComputersPage lists the organization's computers: the API's filter
// (status, user, workspace, plan, search) and sorts, keyset pages with the
// total, and a form that sends a command to the checked ones.
func (p *Pages) orgComputersPage(w http.ResponseWriter, r *http.Request, c *call) {
	f, ferr := adminapi.DeviceFilterFromQuery(r.URL.Query())
	cv := computersListView{Filter: f}
	cv.fill(c, p, r)
	if ferr != nil {
		v := c.orgView("web_pc_list_title", cv)
		v.Error = c.T("web_pc_bad_filter", nil)
		c.show(w, r, http.StatusBadRequest, "org_computers", v)
		return
	}
	pg, pr, err := listPage(r, pageSize, "web_total_computers", func(req paging.Request) (paging.Page[devices.OrgDevice], error) {
		return p.d.OrgDevices.PageOrgDevices(r.Context(), c.org.ID, f, req)
	})
	if err != nil {
		c.failPC(w, r, "list organization devices", err)
		return
	}
	cv.Pager = pr
	for _, d := range pg.Items {
		cv.Rows = append(cv.Rows, c.computerRow(d))
	}
	v := c.orgView("web_pc_list_title", cv)
	c.noticePC(r, &v)
	c.show(w, r, http.StatusOK, "org_computers", v)
}

// fill builds the filter form's choices.
func (cv *computersListView) fill(c *call, p *Pages, r *http.Request) {
	f := cv.Filter
	cv.Statuses = []Option{{Value: "", Label: c.label("web_pc_status_any"), Selected: f.Status == ""}}
	for _, s := range []string{adminapi.StatusOnline, adminapi.StatusOffline, adminapi.StatusSuspended, adminapi.StatusDeactivated} {
		cv.Statuses = append(cv.Statuses, Option{Value: s, Label: c.label(statusNames[s]), Selected: f.Status == s})
	}
	for _, s := range sortNames {
		cv.Sorts = append(cv.Sorts, Option{Value: s.value, Label: c.label(s.label),
			Selected: f.Sort == s.value || f.Sort == "" && s.value == adminapi.SortLastSeen})
	}
	cv.Orders = []Option{{Value: "desc", Label: c.label("web_pc_order_desc"), Selected: f.Order != "asc"},
		{Value: "asc", Label: c.label("web_pc_order_asc"), Selected: f.Order == "asc"}}
	cv.Workspaces = []Option{{Value: "", Label: c.label("web_pc_workspace_any"), Selected: f.Workspace == ""}}
	if p.d.Workspaces != nil {
		ws, err := p.d.Workspaces.List(r.Context(), c.owner(), paging.Request{Limit: paging.MaxLimit})
		if err != nil {
			p.logger.ErrorContext(r.Context(), "computers page: list workspaces", "org", c.org.ID, "error", err)
		}
		for _, w := range ws.Items {
			cv.Workspaces = append(cv.Workspaces, Option{Value: w.ID, Label: w.Name, Selected: f.Workspace == w.ID})
		}
	}
	for _, cn := range commandNames {
		cv.Commands = append(cv.Commands, Option{Value: cn.value, Label: c.label(cn.label)})
	}
	cv.Back = r.URL.RequestURI()
}

// noticesPC are what ?done= on the computer pages may say.
var noticesPC = map[string]string{"renamed": "web_pc_renamed", "released": "web_pc_released"}

func (c *call) noticePC(r *http.Request, v *View) {
	if id, ok := noticesPC[r.URL.Query().Get("done")]; ok {
		v.Notice = c.T(id, nil)
	}
}

// bulkForm is a bulk command as the list's form (then the confirmation's
// hidden fields) carries it.
type bulkForm struct {
	IDs           []string
	Type, Message string
	Key, Back     string
}

// maxMessage bounds show_message's text.
const maxMessage = 500

// readBulk reads and checks the form (the list's, a query; the
// confirmation's, posted); ok false when it cannot be used.
func readBulk(form url.Values) (bulkForm, bool) {
	b := bulkForm{IDs: form["device"], Type: form.Get("type"), Message: strings.TrimSpace(form.Get("message")),
		Key: form.Get("key"), Back: form.Get("back")}
	if !strings.HasPrefix(b.Back, "/orgs/") || safeNext(b.Back) != b.Back {
		b.Back = ""
	}
	if len(b.IDs) > adminapi.MaxBulkDevices || len(b.Key) > adminapi.MaxIdempotencyKey {
		return b, false
	}
	for _, id := range b.IDs {
		if !accountapi.ValidDeviceID(id) {
			return b, false
		}
	}
	slices.Sort(b.IDs)
	b.IDs = slices.Compact(b.IDs)
	if !slices.Contains(protocol.CommandTypes(), b.Type) || utf8.RuneCountInString(b.Message) > maxMessage {
		return b, false
	}
	if b.Type != protocol.CmdShowMessage {
		b.Message = ""
	}
	return b, true
}

func (b bulkForm) args() map[string]string {
	if b.Type == protocol.CmdShowMessage {
		return map[string]string{"message": b.Message}
	}
	return nil
}

// newKey is a fresh idempotency key: the confirmation page carries it, so
// the same confirmation sent twice queues once.
func newKey() (string, error) {
	var b [16]byte
	if _, err := rand.Read(b[:]); err != nil {
		return "", err
	}
	return "web-" + hex.EncodeToString(b[:]), nil
}

// bulkConfirm states what the command will do to the checked computers,
// before anything is queued.
func (p *Pages) bulkConfirm(w http.ResponseWriter, r *http.Request, c *call) {
	b, ok := readBulk(r.URL.Query())
	base := "/orgs/" + c.org.ID
	if b.Back == "" {
		b.Back = base + "/computers"
	}
	switch {
	case !ok:
		c.message(w, r, http.StatusBadRequest, "web_refused_title", "web_code_invalid_request", nil)
		return
	case len(b.IDs) == 0:
		c.message(w, r, http.StatusBadRequest, "web_refused_title", "web_pc_none_selected", nil)
		return
	case b.Type == protocol.CmdShowMessage && b.Message == "":
		c.message(w, r, http.StatusBadRequest, "web_refused_title", "web_pc_message_required", nil)
		return
	}
	key, err := newKey()
	if err != nil {
		c.fail(w, r, "idempotency key", err)
		return
	}
	fields := []Field{{"type", b.Type}, {"key", key}, {"back", b.Back}}
	if b.Message != "" {
		fields = append(fields, Field{"message", b.Message})
	}
	for _, id := range b.IDs {
		fields = append(fields, Field{"device", id})
	}
	n := len(b.IDs)
	consequence := c.loc.Plural(commandEffects[b.Type], n, i18n.Args{"message": b.Message})
	v := c.view("", Confirm{Consequence: consequence, Button: c.loc.Plural("web_pc_send_button", n, i18n.Args{"command": c.commandName(b.Type)}),
		Action: base + "/computers/commands", Cancel: b.Back, Fields: fields})
	v.Title = c.loc.Plural("web_pc_confirm_title", n, i18n.Args{"command": c.commandName(b.Type), "org": c.org.Name})
	c.show(w, r, http.StatusOK, "confirm", v)
}

// BulkRow is one computer's outcome of a bulk command.
type BulkRow struct {
	DeviceID, Display string
	Queued            bool
	Outcome           string
}

type bulkView struct {
	Command         string
	Queued, Refused int
	Rows            []BulkRow
	Replayed        bool
	Back            string
}

// bulkSend queues the confirmed command and shows each computer's outcome.
// The confirmation's key makes a second submission answer the first one's
// outcome without queuing again.
func (p *Pages) bulkSend(w http.ResponseWriter, r *http.Request, c *call) {
	b, ok := readBulk(r.PostForm)
	if !ok || len(b.IDs) == 0 || b.Key == "" || b.Type == protocol.CmdShowMessage && b.Message == "" {
		c.message(w, r, http.StatusBadRequest, "web_refused_title", "web_code_invalid_request", nil)
		return
	}
	if b.Back == "" {
		b.Back = "/orgs/" + c.org.ID + "/computers"
	}
	out, err := p.d.Commands.EnqueueBulk(r.Context(), commands.Bulk{Organization: c.org.ID, Actor: c.principal().Actor(), Key: b.Key,
		Type: b.Type, Args: b.args(), DeviceIDs: b.IDs})
	if err != nil {
		c.failPC(w, r, "bulk command", err)
		return
	}
	bv := bulkView{Command: c.commandName(b.Type), Replayed: out.Replayed, Back: b.Back}
	for _, res := range out.Results {
		row := BulkRow{DeviceID: res.DeviceID, Display: res.DeviceID, Queued: res.Code == ""}
		if d, err := p.d.OrgDevices.OrgDevice(r.Context(), c.org.ID, res.DeviceID); err == nil {
			row.Display = c.computerRow(d).Display
		}
		if row.Queued {
			bv.Queued++
			row.Outcome = c.T("web_pc_outcome_queued", nil)
		} else {
			bv.Refused++
			row.Outcome = c.refusal(res.Code)
		}
		bv.Rows = append(bv.Rows, row)
	}
	v := c.orgView("web_pc_bulk_title", bv)
	if out.Replayed {
		v.Notice = c.T("web_pc_bulk_replayed", nil)
	}
	c.show(w, r, http.StatusOK, "org_bulk_result", v)
}
