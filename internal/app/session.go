package app

import (
	"context"
	"math"
	"strings"

	"kontor/internal/auth"
	"kontor/internal/panel"
	"kontor/internal/store"
)

// LoginResult is a new session: the token goes into the cookie.
type LoginResult struct {
	Token string
	CSRF  string
	Actor panel.Actor
}

// dummyHash is verified for unknown logins so that their answer takes as
// long as a wrong password (no login enumeration by timing).
const dummyHash = "$argon2id$v=19$m=19456,t=2,p=1$c29tZXNhbHRzb21lc2FsdA$qLml5cov0O2ZyPE9M1oZVxGTaU6yKxS6wRy6ZPvvWrQ"

// Login checks credentials and opens a session. A user's panel also opens
// with its reseller's password; the session then records the reseller as
// acting (ROLE-3). Failures are throttled per account and per address.
func (a *App) Login(ctx context.Context, login, password, ip string) (LoginResult, error) {
	login = strings.ToLower(strings.TrimSpace(login))
	if login == "" || password == "" || len(login) > panel.MaxLoginLen || len(password) > 1024 {
		return LoginResult{}, &panel.Error{Kind: panel.KindUnauthorized, Key: "err.login.failed"}
	}
	acctKey, ipKey := "acct:"+login, "ip:"+ip
	for _, k := range []string{acctKey, ipKey} {
		until, err := a.Store.LoginLockedUntil(ctx, k)
		if err != nil {
			return LoginResult{}, err
		}
		if !until.IsZero() {
			mins := int(math.Ceil(until.Sub(a.Now()).Minutes()))
			if mins < 1 {
				mins = 1
			}
			return LoginResult{}, &panel.Error{Kind: panel.KindThrottled, Key: "err.login.throttled", Args: []any{mins}}
		}
	}
	cred, err := a.Store.CredentialsByLogin(ctx, login)
	if err != nil && panel.ErrorKind(err) != panel.KindNotFound {
		return LoginResult{}, err
	}
	found := err == nil
	acting := int64(0)
	ok := false
	if found {
		ok, _ = auth.Verify(cred.PasswordHash, password)
		if !ok && cred.Account.Role == panel.RoleUser && cred.ParentHash != "" {
			if okp, _ := auth.Verify(cred.ParentHash, password); okp {
				ok, acting = true, cred.Account.ParentID
			}
		}
	} else {
		_, _ = auth.Verify(dummyHash, password)
	}
	if !ok {
		if _, err := a.Store.RecordLoginFailure(ctx, acctKey, a.Throttle.Max, a.Throttle.Window, a.Throttle.Lock); err != nil {
			return LoginResult{}, err
		}
		if _, err := a.Store.RecordLoginFailure(ctx, ipKey, a.Throttle.MaxPerIP, a.Throttle.Window, a.Throttle.Lock); err != nil {
			return LoginResult{}, err
		}
		return LoginResult{}, &panel.Error{Kind: panel.KindUnauthorized, Key: "err.login.failed"}
	}
	if cred.Account.Status != panel.StatusEnabled || (cred.Account.Role == panel.RoleUser && cred.ParentStatus != panel.StatusEnabled) {
		return LoginResult{}, &panel.Error{Kind: panel.KindForbidden, Key: "err.login.locked"}
	}
	if err := a.Store.ClearLoginFailures(ctx, acctKey); err != nil {
		return LoginResult{}, err
	}
	token, th, err := auth.NewToken()
	if err != nil {
		return LoginResult{}, panel.Internal(err)
	}
	csrf, _, err := auth.NewToken()
	if err != nil {
		return LoginResult{}, panel.Internal(err)
	}
	now := a.Now()
	if err := a.Store.CreateSession(ctx, store.Session{TokenHash: th, AccountID: cred.Account.ID, ActingID: acting,
		CSRF: csrf, CreatedAt: now, ExpiresAt: now.Add(a.SessionTTL)}); err != nil {
		return LoginResult{}, err
	}
	act := panel.Actor{ID: cred.Account.ID, Role: cred.Account.Role, Login: cred.Account.Login, ActingID: acting}
	switch act.Role {
	case panel.RoleReseller:
		act.ResellerID = act.ID
	case panel.RoleUser:
		act.ResellerID = cred.Account.ParentID
		key := "msg.user.login"
		if acting != 0 {
			key = "msg.reseller.visit"
		}
		if err := a.Store.AddMessage(ctx, cred.Account.ParentID, panel.MsgNotice, login, key); err != nil {
			return LoginResult{}, err
		}
	}
	return LoginResult{Token: token, CSRF: csrf, Actor: act}, nil
}

// Session resolves a cookie token to its session and actor.
func (a *App) Session(ctx context.Context, token string) (store.Session, panel.Actor, error) {
	if token == "" || len(token) > 100 {
		return store.Session{}, panel.Actor{}, &panel.Error{Kind: panel.KindUnauthorized, Key: "err.session"}
	}
	return a.Store.SessionActor(ctx, auth.HashToken(token))
}

// Logout ends the session; a user's log-off is a notice for its reseller.
func (a *App) Logout(ctx context.Context, token string, actor panel.Actor) error {
	if err := a.Store.DeleteSession(ctx, auth.HashToken(token)); err != nil {
		return err
	}
	if actor.Role == panel.RoleUser && actor.ActingID == 0 {
		return a.Store.AddMessage(ctx, actor.ResellerID, panel.MsgNotice, actor.Login, "msg.user.logout")
	}
	return nil
}

// ChangePassword changes the actor's own password after checking the old
// one and the policy (GEN-2). Other sessions of the account end.
func (a *App) ChangePassword(ctx context.Context, actor panel.Actor, token, old, new1, new2 string) error {
	if actor.ActingID != 0 {
		return panel.Forbidden("old", "err.password.acting")
	}
	h, err := a.Store.PasswordHash(ctx, actor)
	if err != nil {
		return err
	}
	if ok, _ := auth.Verify(h, old); !ok {
		return panel.Invalid("old", "err.password.old")
	}
	nh, err := a.newPassword(ctx, new1, new2, a.hash)
	if err != nil {
		return err
	}
	// new1 passed the policy check in newPassword.
	sec, err := a.secrets(actor.Role, new1)
	if err != nil {
		return err
	}
	if err := a.Store.SetPasswordSecrets(ctx, actor, actor.ID, nh, sec); err != nil {
		return err
	}
	return a.Store.DeleteOtherSessions(ctx, actor.ID, auth.HashToken(token))
}

// newPassword checks a new password entered twice (fields "new" and
// "new2") against the policy and returns its hash made by hash.
func (a *App) newPassword(ctx context.Context, new1, new2 string, hash func(string) (string, error)) (string, error) {
	set, err := a.Settings(ctx)
	if err != nil {
		return "", err
	}
	if err := set.Password.Check("new", new1); err != nil {
		return "", err
	}
	if new1 != new2 {
		return "", panel.Invalid("new2", "err.password.mismatch")
	}
	return hash(new1)
}
