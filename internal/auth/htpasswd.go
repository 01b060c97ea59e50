package auth

import (
	"fmt"
	"strings"

	"golang.org/x/crypto/bcrypt"
)

// HtpasswdCost is the bcrypt cost of the hashes Apache verifies.
const HtpasswdCost = 11

// HashHtpasswd returns a bcrypt hash in the "$2y$" form that Apache's
// htpasswd -B writes. Credentials that a daemon verifies itself (the
// WebDAV publishing login of FrontPage, USR-5) must be in the daemon's own
// format (DESIGN rule 5); Apache cannot verify argon2id.
func HashHtpasswd(password string) (string, error) {
	if len(password) > 72 {
		return "", fmt.Errorf("bcrypt: password longer than 72 bytes")
	}
	return hashBcrypt(password, HtpasswdCost)
}

// HashHtpasswd is HashHtpasswd with the params' BcryptCost, for the
// daemon-side secrets derived from every account password (Webalizer's
// basic auth, STA-4). A password longer than 72 bytes is hashed by its
// first 72 bytes: bcrypt never reads further, so Apache accepts the whole
// password against that hash, and a long password the policy allows does
// not make the account impossible to create.
func (p Params) HashHtpasswd(password string) (string, error) {
	if len(password) > 72 {
		password = password[:72]
	}
	cost := p.BcryptCost
	if cost == 0 {
		cost = bcrypt.MinCost
	}
	return hashBcrypt(password, cost)
}

func hashBcrypt(password string, cost int) (string, error) {
	h, err := bcrypt.GenerateFromPassword([]byte(password), cost)
	if err != nil {
		return "", fmt.Errorf("bcrypt: %w", err)
	}
	return "$2y$" + strings.TrimPrefix(string(h), "$2a$"), nil
}

// verifyBcrypt checks a "$2a$", "$2b$" or "$2y$" hash.
func verifyBcrypt(encoded, password string) (bool, error) {
	err := bcrypt.CompareHashAndPassword([]byte(encoded), []byte(password))
	switch err {
	case nil:
		return true, nil
	case bcrypt.ErrMismatchedHashAndPassword:
		return false, nil
	}
	return false, ErrMalformedHash
}
