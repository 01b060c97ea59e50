package app

import (
	"context"

	"kontor/internal/auth"
	"kontor/internal/panel"
)

// htpasswdHash hashes a publishing password in the form Apache verifies
// (bcrypt), as the WebDAV endpoint checks it, not the panel.
func htpasswdHash(pw string) (string, error) {
	h, err := auth.HashHtpasswd(pw)
	if err != nil {
		return "", panel.Internal(err)
	}
	return h, nil
}

// FrontPageResult is what switching FrontPage on hands out once: the
// publishing login and its generated password. Only the password's bcrypt
// hash is stored (Apache's own format), so it cannot be shown again.
type FrontPageResult struct {
	Login    string
	Password string
}

// SetFrontPage switches FrontPage on or off for a user of the actor
// (USR-5). On issues a publishing login and a generated password by the
// server's password policy; off removes them.
func (a *App) SetFrontPage(ctx context.Context, actor panel.Actor, userID int64, on bool) (FrontPageResult, error) {
	if !on {
		return FrontPageResult{}, a.Store.SetFrontPageOff(ctx, actor, userID)
	}
	set, err := a.Settings(ctx)
	if err != nil {
		return FrontPageResult{}, err
	}
	pw, err := set.Password.GeneratePassword()
	if err != nil {
		return FrontPageResult{}, err
	}
	h, err := htpasswdHash(pw)
	if err != nil {
		return FrontPageResult{}, err
	}
	login, err := a.Store.SetFrontPageOn(ctx, actor, userID, h)
	if err != nil {
		return FrontPageResult{}, err
	}
	return FrontPageResult{Login: login, Password: pw}, nil
}

// ChangeFrontPagePassword sets the actor's own publishing password (UP-5):
// the new password twice, by the server's policy. The person is logged in,
// so no old password is asked; a reseller visiting with its own password is
// refused, as the FrontPage credentials are a protected section (ROLE-3).
func (a *App) ChangeFrontPagePassword(ctx context.Context, actor panel.Actor, new1, new2 string) error {
	if err := actor.CheckProtected("new"); err != nil {
		return err
	}
	h, err := a.newPassword(ctx, new1, new2, htpasswdHash)
	if err != nil {
		return err
	}
	return a.Store.SetFrontPagePassword(ctx, actor, h)
}
