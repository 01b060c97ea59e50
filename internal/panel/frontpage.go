package panel

import (
	"fmt"
	"strings"
)

// FrontPage publishing (USR-5) writes into the document root through its own
// server-side handling of directories; custom error files and password
// protection rewrite the same per-directory configuration. The guide allows
// FrontPage only while both are off, and the rule holds in both directions:
// switching FrontPage on, and switching one of the two services on while
// FrontPage is on.

// frontPageBlockers are the services that exclude FrontPage.
var frontPageBlockers = []Service{SvcErrorFiles, SvcProtectedDirs}

// FrontPageBlockers returns the services that must be off for FrontPage.
func FrontPageBlockers() []Service { return append([]Service(nil), frontPageBlockers...) }

// CheckFrontPage refuses the combination of FrontPage with custom error
// files or password-protected directories. services is the user's service
// set as it is to be stored and frontpage whether FrontPage is (or is to
// be) on. The error names the offending service's form field; its message
// names both rules, so the person knows what to switch off.
//
// The change-user code calls it with the new services and the user's
// current FrontPage state; the FrontPage toggle calls it with the user's
// current services and true.
func CheckFrontPage(services ServiceSet, frontpage bool) error {
	if !frontpage {
		return nil
	}
	for _, s := range frontPageBlockers {
		if services.On(s) {
			return Forbidden(s.Field(), "err.frontpage.services", s)
		}
	}
	return nil
}

// FrontPageLogin is the publishing login derived from a user's login: the
// login followed by "fp", and a number when that is taken (n > 1).
func FrontPageLogin(login string, n int) string {
	if n <= 1 {
		return login + "fp"
	}
	return fmt.Sprintf("%sfp%d", login, n)
}

// ValidateFrontPageLogin checks a publishing login as strictly as an account
// login (it becomes a WebDAV user name in a generated file), allowing the few
// extra characters of the suffix.
func ValidateFrontPageLogin(login string) error {
	i := strings.LastIndex(login, "fp")
	if i < 0 || len(login) > MaxLoginLen+8 {
		return Invalid("frontpage_login", "err.login.chars")
	}
	if err := ValidateLogin("frontpage_login", login[:i]); err != nil {
		return err
	}
	for _, c := range login[i+2:] {
		if c < '0' || c > '9' {
			return Invalid("frontpage_login", "err.login.chars")
		}
	}
	return nil
}
