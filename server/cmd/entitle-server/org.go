package main

import (
	"fmt"

	"github.com/spf13/cobra"

	"github.com/entitle/entitle/pkg/adminapi"
	"github.com/entitle/entitle/pkg/i18n"
	"github.com/entitle/entitle/pkg/paging"
	domains "github.com/entitle/entitle/server/app"
	"github.com/entitle/entitle/server/authz"
)

// orgCmd is the operator's `org` commands.
func (a *app) orgCmd() *cobra.Command {
	loc := a.loc
	cmd := &cobra.Command{Use: "org", Short: loc.T("org_cmd_short", nil)}
	var name, owner string
	create := &cobra.Command{
		Use: "create", Short: loc.T("org_create_short", nil), Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			return a.admin(cmd.Context(), func(svc *domains.App) error {
				ctx := cmd.Context()
				var ownerID string
				if owner != "" {
					id, err := svc.Organizations.AccountIDByEmail(ctx, owner)
					if err != nil {
						return err
					}
					ownerID = id
				}
				o, err := svc.Organizations.Create(ctx, cliOperator.Actor(), name, ownerID)
				if err != nil {
					return a.failure(err)
				}
				if a.jsonOut {
					return a.printJSON(orgJSON(o))
				}
				_, err = fmt.Fprintln(a.stdout, loc.T("org_created", map[string]any{"id": o.ID, "name": o.Name}))
				return err
			})
		},
	}
	create.Flags().StringVar(&name, "name", "", loc.T("org_flag_name", nil))
	create.Flags().StringVar(&owner, "owner", "", loc.T("org_flag_owner", nil))
	_ = create.MarkFlagRequired("name")

	var page paging.Request
	list := &cobra.Command{
		Use: "list", Short: loc.T("org_list_short", nil), Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			if err := page.Validate(); err != nil {
				return a.failure(err)
			}
			return a.admin(cmd.Context(), func(svc *domains.App) error {
				p, err := svc.Organizations.ListFor(cmd.Context(), "", page)
				if err != nil {
					return a.failure(err)
				}
				out := paging.Page[adminapi.OrgJSON]{Items: []adminapi.OrgJSON{}, NextCursor: p.NextCursor, Total: p.Total}
				rows := [][]string{}
				for _, m := range p.Items {
					out.Items = append(out.Items, orgJSON(m.Organization))
					rows = append(rows, []string{m.ID, m.Name, m.Created.UTC().Format("2006-01-02")})
				}
				if a.jsonOut {
					return a.printJSON(out)
				}
				return a.pageTable(loc, []string{loc.T("org_col_id", nil), loc.T("org_col_name", nil), loc.T("org_col_created", nil)}, rows, p.NextCursor)
			})
		},
	}
	pageFlags(list, &page, loc)

	show := &cobra.Command{
		Use: "show ORG", Short: loc.T("org_show_short", nil), Args: cobra.ExactArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			return a.admin(cmd.Context(), func(svc *domains.App) error {
				o, err := svc.Organizations.Get(cmd.Context(), args[0])
				if err != nil {
					return a.failure(err)
				}
				if a.jsonOut {
					return a.printJSON(orgJSON(o))
				}
				return a.table([]string{loc.T("org_col_id", nil), loc.T("org_col_name", nil), loc.T("org_col_locale", nil), loc.T("org_col_created", nil)},
					[][]string{{o.ID, o.Name, o.DefaultLocale, o.Created.UTC().Format("2006-01-02")}})
			})
		},
	}
	cmd.AddCommand(create, list, show, a.orgMemberCmd(loc), a.orgDomainCmd(loc))
	return cmd
}

func pageFlags(cmd *cobra.Command, p *paging.Request, loc *i18n.Localizer) {
	cmd.Flags().IntVar(&p.Limit, "limit", 0, loc.T("org_flag_limit", nil))
	cmd.Flags().StringVar(&p.Cursor, "cursor", "", loc.T("org_flag_cursor", nil))
}

func (a *app) pageTable(loc *i18n.Localizer, header []string, rows [][]string, next string) error {
	if err := a.table(header, rows); err != nil {
		return err
	}
	if next != "" {
		_, err := fmt.Fprintln(a.stdout, loc.T("org_next_page", map[string]any{"cursor": next}))
		return err
	}
	return nil
}

func (a *app) orgMemberCmd(loc *i18n.Localizer) *cobra.Command {
	cmd := &cobra.Command{Use: "member", Short: loc.T("org_member_short", nil)}
	var page paging.Request
	list := &cobra.Command{
		Use: "list ORG", Short: loc.T("org_member_list_short", nil), Args: cobra.ExactArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			if err := page.Validate(); err != nil {
				return a.failure(err)
			}
			return a.admin(cmd.Context(), func(svc *domains.App) error {
				if _, err := svc.Organizations.Get(cmd.Context(), args[0]); err != nil {
					return a.failure(err)
				}
				p, err := svc.Organizations.Members(cmd.Context(), args[0], page)
				if err != nil {
					return a.failure(err)
				}
				out := paging.Page[adminapi.MemberJSON]{Items: []adminapi.MemberJSON{}, NextCursor: p.NextCursor, Total: p.Total}
				rows := [][]string{}
				for _, m := range p.Items {
					out.Items = append(out.Items, memberJSON(m))
					billing := ""
					if m.Billing {
						billing = loc.T("org_billing_yes", nil)
					}
					rows = append(rows, []string{m.AccountID, m.Email, roleWord(loc, m.Role), billing})
				}
				if a.jsonOut {
					return a.printJSON(out)
				}
				return a.pageTable(loc, []string{loc.T("org_col_account", nil), loc.T("org_col_email", nil), loc.T("org_col_role", nil), loc.T("org_col_billing", nil)}, rows, p.NextCursor)
			})
		},
	}
	pageFlags(list, &page, loc)
	var email, role string
	add := &cobra.Command{
		Use: "add ORG", Short: loc.T("org_member_add_short", nil), Args: cobra.ExactArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			return a.admin(cmd.Context(), func(svc *domains.App) error {
				m, err := svc.Organizations.AddMember(cmd.Context(), cliOperator, args[0], email, authz.Role(role))
				if err != nil {
					return a.failure(err)
				}
				if a.jsonOut {
					return a.printJSON(memberJSON(m))
				}
				_, err = fmt.Fprintln(a.stdout, loc.T("org_member_added", map[string]any{"email": m.Email, "role": roleWord(loc, m.Role)}))
				return err
			})
		},
	}
	add.Flags().StringVar(&email, "email", "", loc.T("org_flag_email", nil))
	add.Flags().StringVar(&role, "role", "member", loc.T("org_flag_role", nil))
	_ = add.MarkFlagRequired("email")
	cmd.AddCommand(list, add)
	return cmd
}

func (a *app) orgDomainCmd(loc *i18n.Localizer) *cobra.Command {
	cmd := &cobra.Command{Use: "domain", Short: loc.T("org_domain_short", nil)}
	approve := &cobra.Command{
		Use: "approve ORG DOMAIN", Short: loc.T("org_domain_approve_short", nil), Args: cobra.ExactArgs(2),
		RunE: func(cmd *cobra.Command, args []string) error {
			return a.admin(cmd.Context(), func(svc *domains.App) error {
				d, err := svc.Organizations.ApproveDomain(cmd.Context(), cliOperator, args[0], args[1])
				if err != nil {
					return a.failure(err)
				}
				if a.jsonOut {
					return a.printJSON(domainJSON(d))
				}
				_, err = fmt.Fprintln(a.stdout, loc.T("org_domain_approved", map[string]any{"domain": d.Domain}))
				return err
			})
		},
	}
	cmd.AddCommand(approve)
	return cmd
}

// roleWord is a role in the reader's language.
func roleWord(loc *i18n.Localizer, r authz.Role) string {
	switch r {
	case authz.RoleOwner:
		return loc.T("org_role_owner", nil)
	case authz.RoleAdmin:
		return loc.T("org_role_admin", nil)
	case authz.RoleMember:
		return loc.T("org_role_member", nil)
	}
	return string(r)
}
