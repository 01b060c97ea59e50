package panel

import (
	"regexp"
	"strings"
	"unicode"
)

// Tags of the registration mail (TPL-3). They are written ##name##, the
// syntax the guide's index setup uses for ##user##, and replaced when the
// mail is generated for a user.
const (
	TagLogin           = "login"
	TagUser            = "user" // same as login; the index setup's name for it
	TagPassword        = "password"
	TagPanelURL        = "panel_url"
	TagDomains         = "domains"
	TagDomain          = "domain"
	TagName            = "name"
	TagCompany         = "company"
	TagEmail           = "email"
	TagFTPHost         = "ftp_host"
	TagPOP3Host        = "pop3_host"
	TagSMTPHost        = "smtp_host"
	TagResellerName    = "reseller_name"
	TagResellerCompany = "reseller_company"
	TagResellerEmail   = "reseller_email"
	TagResellerPhone   = "reseller_phone"
)

// MailTags returns every tag name in the order the e-mail setup lists them.
func MailTags() []string {
	return []string{TagLogin, TagUser, TagPassword, TagPanelURL, TagDomains, TagDomain,
		TagName, TagCompany, TagEmail, TagFTPHost, TagPOP3Host, TagSMTPHost,
		TagResellerName, TagResellerCompany, TagResellerEmail, TagResellerPhone}
}

// tagRe finds anything written like a tag. Names are matched broadly so
// that a misspelt or wrongly cased tag (##Passwort##) is reported instead of
// silently reaching the customer.
var tagRe = regexp.MustCompile(`##([A-Za-z0-9_.-]+)##`)

func knownTag(name string) bool {
	for _, t := range MailTags() {
		if t == name {
			return true
		}
	}
	return false
}

// RenderTags replaces every known ##tag## in text with vals[tag] (empty
// when vals has none). It works in one pass, so a value that itself looks
// like a tag is not expanded again. Unknown tags stay as written; saving
// refuses them, so they only survive in text that was never checked.
func RenderTags(text string, vals map[string]string) string {
	return tagRe.ReplaceAllStringFunc(text, func(m string) string {
		name := m[2 : len(m)-2]
		if !knownTag(name) {
			return m
		}
		return vals[name]
	})
}

// UnknownTags returns the names (without ##) of the tags in text that are
// not MailTags, each once, in order of appearance.
func UnknownTags(text string) []string {
	var out []string
	seen := map[string]bool{}
	for _, m := range tagRe.FindAllStringSubmatch(text, -1) {
		if name := m[1]; !knownTag(name) && !seen[name] {
			seen[name] = true
			out = append(out, name)
		}
	}
	return out
}

// formatTags writes tag names the way the person typed them, for messages.
func formatTags(names []string) string {
	q := make([]string, len(names))
	for i, n := range names {
		q[i] = "##" + n + "##"
	}
	return strings.Join(q, ", ")
}

func isControl(r rune) bool { return unicode.IsControl(r) }

// DefaultMail is the registration mail a reseller starts from before it has
// stored one (TPL-3), in the reseller's language. It is the text the
// reseller then edits and stores, not panel wording, which is why it lives
// here rather than in the message catalogue: its lines and tags are one
// piece.
func DefaultMail(lang string, templateID int64) MailTemplate {
	m := MailTemplate{TemplateID: templateID}
	switch lang {
	case "de":
		m.Subject = "Ihre Zugangsdaten (##login##)"
		m.Body = `Sehr geehrte(r) ##name##,

Ihr Webhosting-Paket ist eingerichtet. Hier sind Ihre Zugangsdaten:

Benutzername: ##login##
Passwort:     ##password##
Konfigurationsmenü: ##panel_url##

Ihre Domains: ##domains##

FTP-Server:  ##ftp_host##
POP3-Server: ##pop3_host##
SMTP-Server: ##smtp_host##

Bitte ändern Sie Ihr Passwort nach der ersten Anmeldung.

Bei Fragen erreichen Sie uns unter ##reseller_email## (Telefon: ##reseller_phone##).

Mit freundlichen Grüßen
##reseller_name##
##reseller_company##`
	default:
		m.Subject = "Your web hosting access data (##login##)"
		m.Body = `Dear ##name##,

your web hosting package is ready. Here are your access data:

Login:    ##login##
Password: ##password##
Panel:    ##panel_url##

Your domains: ##domains##

FTP server:  ##ftp_host##
POP3 server: ##pop3_host##
SMTP server: ##smtp_host##

Please change your password after your first login.

If you have any questions, write to ##reseller_email## or call ##reseller_phone##.

Kind regards
##reseller_name##
##reseller_company##`
	}
	return m
}
