package main

import (
	"errors"
	"strings"

	"github.com/BurntSushi/toml"
	"golang.org/x/text/language"

	"github.com/entitle/entitle/pkg/adminapi"
	"github.com/entitle/entitle/pkg/i18n"
	"github.com/entitle/entitle/pkg/paging"
	"github.com/entitle/entitle/pkg/protocol"
	"github.com/entitle/entitle/server/internal/fault"
)

// langFlag names the language option; in the configuration it is the
// setting lang, in the environment ENTITLE_SERVER_LANG.
const langFlag = "lang"

// detectLanguage picks the language of the messages before the commands are
// built (their help is localized too), as the agent's CLI does: --lang, then
// ENTITLE_LANG, then the configuration's language (ENTITLE_SERVER_LANG, then
// lang in the --config file), then the system's locale (LC_ALL, LC_MESSAGES,
// LANG; the user's UI language on Windows and macOS).
func detectLanguage(b *i18n.Bundle, args []string, lookupEnv func(string) (string, bool)) language.Tag {
	flag := flagValue(args, langFlag)
	configured, _ := lookupEnv(envPrefix + "LANG")
	if configured == "" {
		file := flagValue(args, "config")
		if file == "" {
			file, _ = lookupEnv(envPrefix + "CONFIG")
		}
		if file != "" {
			var conf struct {
				Lang string `toml:"lang"`
			}
			if _, err := toml.DecodeFile(file, &conf); err == nil {
				configured = conf.Lang
			} // a bad file is reported by the real parse
		}
	}
	return b.Match(i18n.Preferences(flag, configured, lookupEnv)...)
}

// flagValue returns the value of --name in args ("--name V" or
// "--name=V"), the last one given, before a "--".
func flagValue(args []string, name string) string {
	v := ""
	for i := 0; i < len(args); i++ {
		a := args[i]
		switch {
		case a == "--":
			return v
		case a == "--"+name && i+1 < len(args):
			v = args[i+1]
			i++
		case strings.HasPrefix(a, "--"+name+"="):
			v = strings.TrimPrefix(a, "--"+name+"=")
		}
	}
	return v
}

// faultIDs word the server's refusals by their code.
var faultIDs = map[string]string{
	protocol.ErrNotFound: "srv_err_not_found", protocol.ErrInvalidCredentials: "srv_err_invalid_credentials",
	protocol.ErrUnknownLicense: "srv_err_unknown_license", protocol.ErrLicenseExpired: "srv_err_license_expired",
	protocol.ErrLicenseSuspended: "srv_err_license_suspended", protocol.ErrManagedRemotely: "srv_err_managed_remotely",
	protocol.ErrNoSeats: "srv_err_no_seats", protocol.ErrNoLicense: "srv_err_no_license",
	protocol.ErrDeviceRevoked: "srv_err_device_revoked", protocol.ErrWorkspaceNameTaken: "srv_err_conflict",
	protocol.ErrLicenseInWorkspace: "srv_err_conflict",
	adminapi.ErrAlreadyMember:      "org_err_already_member", adminapi.ErrLastOwner: "org_err_last_owner",
	adminapi.ErrDomainNotApproved: "org_err_domain_not_approved", adminapi.ErrDomainUnverified: "org_err_domain_unverified",
	adminapi.ErrInvitationExpired: "org_err_invitation_expired", adminapi.ErrInvitationUsed: "org_err_invitation_used",
	adminapi.ErrForbidden: "org_err_forbidden", adminapi.ErrInvitationMismatch: "org_err_invitation_mismatch",
	adminapi.ErrAccountExists:     "org_err_account_exists",
	adminapi.ErrIdempotencyReused: "org_err_idempotency_key_reused", adminapi.ErrTooManyDevices: "org_err_too_many_devices",
	adminapi.ErrSeatsAssigned: "org_err_seats_assigned", protocol.ErrLicenseRevoked: "srv_err_license_revoked",
	adminapi.ErrOrderState: "order_err_state", adminapi.ErrOrderEmpty: "order_err_empty",
	adminapi.ErrPlanInactive: "order_err_plan_inactive", adminapi.ErrCurrencyMismatch: "order_err_currency",
	adminapi.ErrPlanCodeTaken: "order_err_code_taken",
}

// failure words an error of the server's domains for the reader from its
// code (server/internal/fault): the code chooses the sentence; an invalid
// request keeps the domain's English detail, the only words that name the
// field. Other errors (the database, the system) pass through.
func (a *app) failure(err error) error {
	var fe *fault.Error
	var pe *protocol.Error // a wire type's Validate
	var code, detail string
	switch {
	case errors.Is(err, paging.ErrLimit):
		return errors.New(a.loc.T("srv_err_page_limit", i18n.Args{"max": paging.MaxLimit}))
	case errors.Is(err, paging.ErrCursor):
		return errors.New(a.loc.T("srv_err_page_cursor", nil))
	case errors.As(err, &fe):
		code, detail = fe.Code, fe.Message
	case errors.As(err, &pe):
		code, detail = pe.Code, pe.Message
	default:
		return err
	}
	if id, ok := faultIDs[code]; ok {
		return errors.New(a.loc.T(id, nil))
	}
	if code == protocol.ErrInvalidRequest {
		return errors.New(a.loc.T("srv_err_invalid_request", i18n.Args{"detail": detail}))
	}
	return errors.New(a.loc.T("srv_err_refused", i18n.Args{"code": code}))
}
