package app

import (
	"context"

	"kontor/internal/panel"
)

// MailTemplateFor returns the registration mail a reseller works with for
// templateID (TPL-3): the one stored for the template; else the reseller's
// stored default (template 0); else the built-in default text in the
// reseller's language. stored tells whether the first of these exists, so
// the e-mail setup can say that the form shows a starting text.
// resellerID 0 means the actor's own.
func (a *App) MailTemplateFor(ctx context.Context, actor panel.Actor, resellerID, templateID int64) (m panel.MailTemplate, stored bool, err error) {
	m, stored, err = a.Store.MailTemplate(ctx, actor, resellerID, templateID)
	if err != nil || stored {
		return m, stored, err
	}
	if templateID != 0 {
		t, err := a.Store.Template(ctx, actor, templateID)
		if err != nil {
			return m, false, err
		}
		resellerID = t.ResellerID
		def, found, err := a.Store.MailTemplate(ctx, actor, resellerID, 0)
		if err != nil {
			return m, false, err
		}
		if found {
			def.TemplateID = templateID
			return def, false, nil
		}
	}
	if resellerID == 0 {
		resellerID = actor.ID
	}
	res, err := a.Store.Reseller(ctx, actor, resellerID)
	if err != nil {
		return m, false, err
	}
	return panel.DefaultMail(res.Language, templateID), false, nil
}

// SaveMailTemplate checks and stores a reseller's registration mail
// (resellerID 0: the actor's own). Ownership of the template is checked
// before the input, so a foreign template is "not found" whatever is sent.
func (a *App) SaveMailTemplate(ctx context.Context, actor panel.Actor, resellerID int64, m panel.MailTemplate) error {
	return a.Store.SetMailTemplate(ctx, actor, resellerID, m)
}
