package app

import (
	"context"

	"kontor/internal/auth"
	"kontor/internal/panel"
	"kontor/internal/store"
)

// ResellerInput is the admin's create-reseller form.
type ResellerInput struct {
	Login    string // optional; the next resN when empty
	Password string // optional; generated when empty
	Name     string
	Company  string
	Email    string
	Language string
	Design   string
	Limits   panel.ResellerLimits
	Services panel.ServiceSet
}

// CreateAdmin creates an admin account (CLI).
func (a *App) CreateAdmin(ctx context.Context, login, password string) (panel.Account, error) {
	set, err := a.Settings(ctx)
	if err != nil {
		return panel.Account{}, err
	}
	if err := set.Password.Check("password", password); err != nil {
		return panel.Account{}, err
	}
	h, err := a.hash(password)
	if err != nil {
		return panel.Account{}, err
	}
	return a.Store.CreateAdmin(ctx, login, h)
}

// password returns pw checked against the policy, or a generated one when
// pw is empty.
func (a *App) password(ctx context.Context, field, pw string) (string, error) {
	set, err := a.Settings(ctx)
	if err != nil {
		return "", err
	}
	if pw == "" {
		return set.Password.GeneratePassword()
	}
	return pw, set.Password.Check(field, pw)
}

// CreateReseller creates a reseller and its default account; it returns
// the password (generated when none was given).
func (a *App) CreateReseller(ctx context.Context, actor panel.Actor, in ResellerInput) (panel.Reseller, string, error) {
	pw, err := a.password(ctx, "password", in.Password)
	if err != nil {
		return panel.Reseller{}, "", err
	}
	h, err := a.hash(pw)
	if err != nil {
		return panel.Reseller{}, "", err
	}
	// The default account gets a random password of its own: it is opened
	// with the reseller's password (ROLE-1, ROLE-3).
	dpw, err := panel.PasswordPolicy{Min: 16, Max: 16}.GeneratePassword()
	if err != nil {
		return panel.Reseller{}, "", err
	}
	dh, err := a.hash(dpw)
	if err != nil {
		return panel.Reseller{}, "", err
	}
	sec, err := a.secrets(panel.RoleReseller, pw)
	if err != nil {
		return panel.Reseller{}, "", err
	}
	dsec, err := a.secrets(panel.RoleUser, dpw)
	if err != nil {
		return panel.Reseller{}, "", err
	}
	r, err := a.Store.CreateReseller(ctx, actor, store.NewReseller{Login: in.Login, PasswordHash: h, DefaultHash: dh,
		Name: in.Name, Company: in.Company, Email: in.Email, Language: in.Language, Design: in.Design,
		Limits: in.Limits, Services: in.Services, Secrets: sec, DefaultSecrets: dsec})
	return r, pw, err
}

// UserInput is what creates a user.
type UserInput struct {
	ResellerID int64
	Password   string // optional; generated when empty
	Language   string
	Design     string
	Profile    panel.Profile
	Limits     panel.Limits
	Services   panel.ServiceSet
	Domains    []store.NewDomain
}

// CreateUser creates a user; it returns the result and the password.
func (a *App) CreateUser(ctx context.Context, actor panel.Actor, in UserInput) (store.CreateResult, string, error) {
	pw, err := a.password(ctx, "password", in.Password)
	if err != nil {
		return store.CreateResult{}, "", err
	}
	h, err := a.hash(pw)
	if err != nil {
		return store.CreateResult{}, "", err
	}
	sec, err := a.secrets(panel.RoleUser, pw)
	if err != nil {
		return store.CreateResult{}, "", err
	}
	if actor.Role == panel.RoleReseller && in.ResellerID == 0 {
		in.ResellerID = actor.ID
	}
	res, err := a.Store.CreateUser(ctx, actor, store.NewUser{ResellerID: in.ResellerID, PasswordHash: h,
		Language: in.Language, Design: in.Design, Profile: in.Profile, Limits: in.Limits,
		Services: in.Services, Domains: in.Domains, Secrets: sec})
	return res, pw, err
}

// SetUserPassword sets a user's password (its reseller or the admin), with
// the secrets derived from it; the user's sessions end.
func (a *App) SetUserPassword(ctx context.Context, actor panel.Actor, userID int64, pw string) (string, error) {
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

// secrets derives the daemon-side credentials of an account from its
// plaintext password, here, the one place that holds it (DESIGN rule 5):
// the agent only copies them. A user gets its database login's
// mysql_native_password hash and the bcrypt line that opens its Webalizer
// pages; a reseller the bcrypt line that opens its users' pages (STA-4);
// an admin nothing, since it has no presence on the hosting server.
func (a *App) secrets(role panel.Role, pw string) (map[string]string, error) {
	switch role {
	case panel.RoleUser, panel.RoleReseller:
	default:
		return nil, nil
	}
	ht, err := a.Hasher.HashHtpasswd(pw)
	if err != nil {
		return nil, panel.Internal(err)
	}
	sec := map[string]string{store.SecretHtpasswd: ht}
	if role == panel.RoleUser {
		sec[store.SecretMySQL] = auth.MySQLNativeHash(pw)
	}
	return sec, nil
}
