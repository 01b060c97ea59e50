package app

import (
	"context"
	"errors"

	"kontor/internal/mail"
	"kontor/internal/panel"
)

// RegistrationMail builds the registration e-mail for a new user from the
// mail template of templateID (0: the default "no template" mail) with
// every tag filled in (TPL-3, USR-2 step 5). The reseller may edit it
// before SendMail sends it. The templates feature replaces this stub.
func (a *App) RegistrationMail(ctx context.Context, actor panel.Actor, templateID int64, u panel.User, password string) (mail.Message, error) {
	return mail.Message{}, panel.Internal(errors.New("registration mail: not built yet"))
}

// SendMail sends m through the configured relay after checking every
// header field; the mail feature replaces this stub.
func (a *App) SendMail(ctx context.Context, actor panel.Actor, m mail.Message) error {
	return panel.Internal(errors.New("send mail: not built yet"))
}
