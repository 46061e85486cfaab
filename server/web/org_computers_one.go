package web

import (
	"encoding/json"
	"net/http"
	"time"

	"github.com/entitle/entitle/pkg/accountapi"
	"github.com/entitle/entitle/pkg/adminapi"
	"github.com/entitle/entitle/pkg/i18n"
	"github.com/entitle/entitle/pkg/paging"
	"github.com/entitle/entitle/pkg/protocol"
	"github.com/entitle/entitle/server/commands"
	"github.com/entitle/entitle/server/devices"
	"github.com/entitle/entitle/server/journal"
)

// CommandRow is a command as the computer page shows it.
type CommandRow struct {
	commands.Record
	TypeName, StateName string
	Open                bool // pending or delivered: the page's script keeps asking
}

func (c *call) commandRow(rec commands.Record) CommandRow {
	state := rec.Status
	if id, ok := commandStates[state]; ok {
		state = c.T(id, nil)
	}
	return CommandRow{Record: rec, TypeName: c.commandName(rec.Type), StateName: state,
		Open: rec.Status == protocol.CommandPending || rec.Status == protocol.CommandDelivered}
}

type computerView struct {
	Computer  ComputerRow
	Profiles  *protocol.ProfileSummary
	CertUntil string // the earliest certificate's end, worded; "" without one
	Commands  []CommandRow
	CmdPager  Pager
	Journal   []journal.Row
	Types     []Option // the one-computer command form's choices
	JSON      string   // the command states' address, for the script
}

// computerID is the {id} of the path when it can name a device.
func computerID(w http.ResponseWriter, r *http.Request, c *call) (string, bool) {
	id := r.PathValue("id")
	if !accountapi.ValidDeviceID(id) {
		c.message(w, r, http.StatusNotFound, "web_not_found_title", "web_code_not_found", nil)
		return "", false
	}
	return id, true
}

// orgComputer is the organization's computer the path names, or the
// refusal shown.
func (p *Pages) orgComputer(w http.ResponseWriter, r *http.Request, c *call) (devices.OrgDevice, bool) {
	id, ok := computerID(w, r, c)
	if !ok {
		return devices.OrgDevice{}, false
	}
	d, err := p.d.OrgDevices.OrgDevice(r.Context(), c.org.ID, id)
	if err != nil {
		c.failPC(w, r, "get organization device", err)
		return devices.OrgDevice{}, false
	}
	return d, true
}

// commandPage is the page of the computer's commands the request's cursor
// names (the computer page's and its JSON's).
func (p *Pages) commandPage(r *http.Request, id string) (paging.Page[commands.Record], Pager, error) {
	return listPage(r, pageSize, "web_total_commands", func(req paging.Request) (paging.Page[commands.Record], error) {
		return p.d.Commands.List(r.Context(), id, req)
	})
}

// orgComputerPage is one computer: its facts and name, its inventory, its
// commands with their states (refreshed by computers.js, the same on a
// reload), its journal rows, and its release.
func (p *Pages) orgComputerPage(w http.ResponseWriter, r *http.Request, c *call) {
	d, ok := p.orgComputer(w, r, c)
	if !ok {
		return
	}
	id := d.ID
	base := "/orgs/" + c.org.ID + "/computers/" + id
	cv := computerView{Computer: c.computerRow(d), Profiles: d.Profiles, JSON: base + "/commands.json"}
	if d.Profiles != nil && d.Profiles.EarliestCertUntil > 0 {
		cv.CertUntil = c.loc.Date(time.Unix(d.Profiles.EarliestCertUntil, 0).UTC())
	}
	cmds, pr, err := p.commandPage(r, id)
	if err != nil {
		c.fail(w, r, "list commands", err)
		return
	}
	cv.CmdPager = pr
	for _, rec := range cmds.Items {
		cv.Commands = append(cv.Commands, c.commandRow(rec))
	}
	if p.d.Journal != nil {
		rows, err := p.d.Journal.List(r.Context(), journal.Filter{Organization: c.org.ID, Target: id, Page: paging.Request{Limit: pageSize}})
		if err != nil {
			c.fail(w, r, "computer journal", err)
			return
		}
		cv.Journal = rows.Items
	}
	for _, cn := range commandNames {
		cv.Types = append(cv.Types, Option{Value: cn.value, Label: c.label(cn.label)})
	}
	v := c.orgView("web_pc_title", cv)
	v.Title = c.T("web_pc_title", i18n.Args{"name": cv.Computer.Display, "org": c.org.Name})
	c.noticePC(r, &v)
	c.show(w, r, http.StatusOK, "org_computer", v)
}

// CommandStateJSON is one command's state, as computers.js reads it.
type CommandStateJSON struct {
	ID    string `json:"id"`
	State string `json:"state"` // protocol.Command*
	Text  string `json:"text"`  // the state in the page's language
	Open  bool   `json:"open"`
}

// orgComputerCommandsJSON answers the command states of the computer page's
// list (the same page of it: ?cursor=), for its script.
func (p *Pages) orgComputerCommandsJSON(w http.ResponseWriter, r *http.Request, c *call) {
	id := r.PathValue("id")
	writeJSON := func(status int, v any) {
		h := w.Header()
		h.Set("Content-Type", "application/json")
		h.Set("Cache-Control", "no-store")
		h.Set("X-Content-Type-Options", "nosniff")
		w.WriteHeader(status)
		_ = json.NewEncoder(w).Encode(v)
	}
	if !accountapi.ValidDeviceID(id) {
		writeJSON(http.StatusNotFound, map[string]string{"code": protocol.ErrNotFound})
		return
	}
	if _, err := p.d.OrgDevices.OrgDevice(r.Context(), c.org.ID, id); err != nil {
		code, _, _ := serviceError(err)
		if code == "" {
			code = protocol.ErrInternal
		}
		writeJSON(httpStatus(code), map[string]string{"code": code})
		return
	}
	cmds, _, err := p.commandPage(r, id)
	if err != nil {
		p.logger.ErrorContext(r.Context(), "command states", "device", id, "error", err)
		writeJSON(http.StatusInternalServerError, map[string]string{"code": protocol.ErrInternal})
		return
	}
	out := []CommandStateJSON{}
	for _, rec := range cmds.Items {
		row := c.commandRow(rec)
		out = append(out, CommandStateJSON{ID: rec.ID, State: rec.Status, Text: row.StateName, Open: row.Open})
	}
	writeJSON(http.StatusOK, map[string]any{"commands": out})
}

func (p *Pages) renameComputer(w http.ResponseWriter, r *http.Request, c *call) {
	id, ok := computerID(w, r, c)
	if !ok {
		return
	}
	name := r.PostFormValue("name")
	if (adminapi.RenameDeviceRequest{Name: &name}).Validate() != nil {
		c.message(w, r, http.StatusBadRequest, "web_refused_title", "web_pc_bad_name", nil)
		return
	}
	if _, err := p.d.OrgDevices.RenameOrgDevice(r.Context(), c.principal().Actor(), c.org.ID, id, name); err != nil {
		c.failPC(w, r, "rename organization device", err)
		return
	}
	c.back(w, r, "/computers/"+id, "renamed")
}

func (p *Pages) releaseComputerConfirm(w http.ResponseWriter, r *http.Request, c *call) {
	d, ok := p.orgComputer(w, r, c)
	if !ok {
		return
	}
	id := d.ID
	base := "/orgs/" + c.org.ID + "/computers/" + id
	row := c.computerRow(d)
	c.show(w, r, http.StatusOK, "confirm", c.orgConfirm("web_pc_release_title", Confirm{
		Consequence: c.T("web_pc_release_consequence", i18n.Args{"name": row.Display, "email": d.Email}),
		Button:      c.T("web_pc_release_button", nil), Action: base + "/release", Cancel: base,
	}))
}

func (p *Pages) releaseComputer(w http.ResponseWriter, r *http.Request, c *call) {
	id, ok := computerID(w, r, c)
	if !ok {
		return
	}
	if err := p.d.OrgDevices.ReleaseOrgDevice(r.Context(), c.principal().Actor(), c.org.ID, id); err != nil {
		c.failPC(w, r, "release organization device", err)
		return
	}
	if p.d.Nudge != nil {
		p.d.Nudge.Notify(r.Context(), id) // an online computer learns it at once
	}
	c.back(w, r, "/computers/"+id, "released")
}
