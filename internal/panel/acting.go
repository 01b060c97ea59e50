package panel

// Acting reports whether a reseller opened this user's panel with the
// reseller's own password (ROLE-3). Such a visit sees the whole user panel
// except the protected sections; CheckProtected is the one rule for them.
//
// Protected sections are the user's own credentials that the reseller must
// not read or reset by walking in with its password: FTP accounts, POP3
// accounts (UP-2, UP-3) and the FrontPage/WebDAV password (UP-5). Every store
// or app method that lists, creates, changes or deletes one of them calls
// CheckProtected first, so hiding a link is never the only guard.
func (a Actor) Acting() bool { return a.ActingID != 0 }

// CheckProtected refuses an acting reseller in a protected section; field
// names the form field the message belongs to.
func (a Actor) CheckProtected(field string) error {
	if a.Acting() {
		return Forbidden(field, "err.acting.protected")
	}
	return nil
}
