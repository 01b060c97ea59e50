package panel

// Template is a reseller's named set of limits and services (TPL-2). Users
// created from it get a copy; changing or deleting it changes no user.
type Template struct {
	ID         int64
	ResellerID int64
	Name       string
	Limits     Limits
	Services   ServiceSet
}

// MailTemplate is a registration e-mail (TPL-3): one per template, and one
// default (TemplateID 0) for users with no template.
type MailTemplate struct {
	TemplateID int64
	FromName   string
	From       string
	Subject    string
	Body       string
}
