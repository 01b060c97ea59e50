package app

import (
	"context"
	"errors"
	"net/url"
	"strings"
	"unicode"

	"kontor/internal/mail"
	"kontor/internal/panel"
)

// RegistrationMail builds the registration e-mail for a new user from the
// mail template of templateID (0: the default "no template" mail) with
// every tag filled in (TPL-3, USR-2 step 5). The reseller may edit it
// before SendMail sends it.
//
// The user is loaded again through the store: that is the ownership check
// (a reseller only for its own users, ROLE-4) and makes the tags show what
// is stored, including the domains. The password is the one thing the
// store does not know, so the caller passes it. A user without an e-mail
// address gets a mail with an empty To, for the reseller to fill in.
func (a *App) RegistrationMail(ctx context.Context, actor panel.Actor, templateID int64, u panel.User, password string) (mail.Message, error) {
	user, err := a.Store.User(ctx, actor, u.ID)
	if err != nil {
		return mail.Message{}, err
	}
	rid := user.ParentID
	mt, _, err := a.MailTemplateFor(ctx, actor, rid, templateID)
	if err != nil {
		return mail.Message{}, err
	}
	res, err := a.Store.Reseller(ctx, actor, rid)
	if err != nil {
		return mail.Message{}, err
	}
	phone, err := a.Store.ResellerPhone(ctx, actor, rid)
	if err != nil {
		return mail.Message{}, err
	}
	set, err := a.Settings(ctx)
	if err != nil {
		return mail.Message{}, err
	}
	vals := TagValues(set, res, phone, user, password)
	m := mail.Message{
		FromName: mt.FromName,
		From:     mt.From,
		ToName:   user.Profile.Name,
		To:       user.Profile.Email,
		Subject:  oneLine(panel.RenderTags(mt.Subject, vals)),
		Body:     panel.RenderTags(mt.Body, vals),
	}
	if m.FromName == "" {
		m.FromName = res.Name
		if m.FromName == "" {
			m.FromName = res.Company
		}
	}
	if m.From == "" {
		m.From = res.Email
	}
	return m, nil
}

// TagValues is what each registration-mail tag stands for, for one user.
func TagValues(set Settings, res panel.Reseller, resellerPhone string, u panel.User, password string) map[string]string {
	var doms []string
	for _, d := range u.Domains {
		doms = append(doms, d.Display())
	}
	first := ""
	if len(doms) > 0 {
		first = doms[0]
	}
	host := MailHost(set)
	return map[string]string{
		panel.TagLogin:           u.Login,
		panel.TagUser:            u.Login,
		panel.TagPassword:        password,
		panel.TagPanelURL:        set.PanelURL,
		panel.TagDomains:         strings.Join(doms, ", "),
		panel.TagDomain:          first,
		panel.TagName:            u.Profile.Name,
		panel.TagCompany:         u.Profile.Company,
		panel.TagEmail:           u.Profile.Email,
		panel.TagFTPHost:         host,
		panel.TagPOP3Host:        host,
		panel.TagSMTPHost:        host,
		panel.TagResellerName:    res.Name,
		panel.TagResellerCompany: res.Company,
		panel.TagResellerEmail:   res.Email,
		panel.TagResellerPhone:   resellerPhone,
	}
}

// MailHost is the host name users put into their FTP and mail programs:
// the admin's server name, else the host of the panel URL, else localhost.
func MailHost(set Settings) string {
	if h := strings.TrimSpace(set.ServerName); h != "" {
		return h
	}
	if set.PanelURL != "" {
		if u, err := url.Parse(set.PanelURL); err == nil && u.Hostname() != "" {
			return u.Hostname()
		}
	}
	return "localhost"
}

// oneLine turns every control character into a space: a subject is a
// header, and although every tag value is validated when stored, a line
// break must never reach it.
func oneLine(s string) string {
	return strings.Map(func(r rune) rune {
		if unicode.IsControl(r) {
			return ' '
		}
		return r
	}, s)
}

// SendMail sends m through the configured relay after checking every
// header field; nothing is sent when one is bad. Only the admin and a
// reseller (not one visiting a user's panel) send mail. A relay's refusal
// comes back with the relay's reply for the person to read.
func (a *App) SendMail(ctx context.Context, actor panel.Actor, m mail.Message) error {
	if actor.Role != panel.RoleAdmin && actor.Role != panel.RoleReseller {
		return panel.Forbidden("", "err.forbidden")
	}
	err := a.deliver(ctx, m)
	var pe *panel.Error
	if err == nil || errors.As(err, &pe) {
		return err
	}
	return sendFailure(err)
}
