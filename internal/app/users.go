package app

import (
	"context"

	"kontor/internal/panel"
	"kontor/internal/store"
)

// The services of the Users menu beyond creation (USR-2, USR-3), shared by
// the pages, the JSON API and the CLI.

// ProfileInput is the personal-data form (USR-2 step 3, USR-3).
type ProfileInput struct {
	Profile  panel.Profile
	Language string // "" keeps the user's language
	Design   string // "" keeps the user's design
}

// ChangeProfile replaces a user's personal data. Name and e-mail are
// required, as the form marks them.
func (a *App) ChangeProfile(ctx context.Context, actor panel.Actor, userID int64, in ProfileInput) error {
	prof, err := in.Profile.Clean(true)
	if err != nil {
		return err
	}
	return a.Store.SetUserProfile(ctx, actor, userID, prof, in.Language, in.Design)
}

// ChangePlan sets limits (only those given) and, when services is not nil,
// the services of a user; it returns the resources whose grant passes a
// reseller maximum.
func (a *App) ChangePlan(ctx context.Context, actor panel.Actor, userID int64, limits panel.Limits, services panel.ServiceSet) ([]panel.Resource, error) {
	return a.Store.SetUserPlan(ctx, actor, userID, limits, services, "")
}

// ApplyTemplate copies a template's limits and services to a user now
// (USR-3 "services from a template"). Later changes of the template do not
// reach the user (TPL-2). A resource the template leaves out becomes 0,
// so the user ends up with exactly the template's plan.
func (a *App) ApplyTemplate(ctx context.Context, actor panel.Actor, userID, templateID int64) ([]panel.Resource, error) {
	if templateID <= 0 {
		return nil, panel.Invalid("template", "err.required")
	}
	// The user is looked up first so that a foreign user id is "not found"
	// whatever the template id.
	if _, err := a.Store.User(ctx, actor, userID); err != nil {
		return nil, err
	}
	t, err := a.Store.Template(ctx, actor, templateID)
	if err != nil {
		if panel.ErrorKind(err) == panel.KindNotFound {
			return nil, panel.Invalid("template", "err.notfound", "template")
		}
		return nil, err
	}
	limits := panel.Limits{}
	for _, r := range panel.Resources() {
		limits[r] = t.Limits[r]
	}
	services := panel.ServiceSet{}
	for sv, lvl := range t.Services {
		services[sv] = lvl
	}
	name := t.Name
	if name == "" {
		name = "#"
	}
	return a.Store.SetUserPlan(ctx, actor, userID, limits, services, name)
}

// ChangeUserPassword sets a user's password, or a generated one when pw is
// empty; pw2 must repeat pw when given. It returns the password so that it
// can be shown once; the user's sessions end.
func (a *App) ChangeUserPassword(ctx context.Context, actor panel.Actor, userID int64, pw, pw2 string) (string, error) {
	if pw != "" && pw != pw2 {
		return "", panel.Invalid("password2", "err.password.mismatch")
	}
	pw, err := a.password(ctx, "password", pw)
	if err != nil {
		return "", err
	}
	h, err := a.hash(pw)
	if err != nil {
		return "", err
	}
	sec, err := a.secrets(panel.RoleUser, pw)
	if err != nil {
		return "", err
	}
	return pw, a.Store.SetUserPasswordSecrets(ctx, actor, userID, h, sec)
}

// SetUserStatus locks or unlocks a user. A locked user cannot log in; its
// sessions end at once (USR-3).
func (a *App) SetUserStatus(ctx context.Context, actor panel.Actor, userID int64, st panel.Status) error {
	if _, err := a.Store.User(ctx, actor, userID); err != nil {
		return err
	}
	return a.Store.SetStatus(ctx, actor, userID, st)
}

// DeleteUser deletes a user in the actor's subtree; a reseller's own
// default account is refused.
func (a *App) DeleteUser(ctx context.Context, actor panel.Actor, userID int64) error {
	if _, err := a.Store.User(ctx, actor, userID); err != nil {
		return err
	}
	return a.Store.DeleteAccount(ctx, actor, userID)
}

// DomainChange is what may change of an existing domain; nil keeps it.
type DomainChange struct {
	DNS, DNR *bool
	IPID     *int64 // 0: the server's shared default
}

// ChangeDomain applies flags and IP to a domain of a user in the actor's
// subtree (USR-3 "domains and IP").
func (a *App) ChangeDomain(ctx context.Context, actor panel.Actor, domainID int64, c DomainChange) (panel.Domain, error) {
	d, err := a.Store.Domain(ctx, actor, domainID)
	if err != nil {
		return d, err
	}
	if c.DNS != nil || c.DNR != nil {
		dns, dnr := d.DNS, d.DNR
		if c.DNS != nil {
			dns = *c.DNS
		}
		if c.DNR != nil {
			dnr = *c.DNR
		}
		if err := a.Store.SetDomainFlags(ctx, actor, domainID, dns, dnr); err != nil {
			return d, err
		}
	}
	if c.IPID != nil && *c.IPID != d.IPID {
		if *c.IPID < 0 {
			return d, panel.Invalid("ip", "err.notfound", "ip")
		}
		if err := a.Store.SetDomainIP(ctx, actor, domainID, *c.IPID); err != nil {
			return d, err
		}
	}
	return a.Store.Domain(ctx, actor, domainID)
}

// ExclusiveIPs lists the exclusive addresses of the actor's pool that the
// user may take: free ones and those the user already has (USR-2 step 4:
// "only for this user"; shared addresses are not offered). A zero User is
// one still being created in the wizard.
func (a *App) ExclusiveIPs(ctx context.Context, actor panel.Actor, u panel.User) ([]store.IP, error) {
	all, err := a.Store.IPs(ctx, actor)
	if err != nil {
		return nil, err
	}
	mine := map[int64]int{}
	for _, d := range u.Domains {
		if d.IPID != 0 {
			mine[d.IPID]++
		}
	}
	var out []store.IP
	for _, ip := range all {
		if ip.Shared || ip.ResellerID != actor.ID {
			continue
		}
		if ip.Domains > mine[ip.ID] {
			continue // used by another user
		}
		out = append(out, ip)
	}
	return out, nil
}
