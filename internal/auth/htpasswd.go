package auth

import (
	"fmt"
	"strings"

	"golang.org/x/crypto/bcrypt"
)

// HashHtpasswd returns a bcrypt hash in the "$2y$" form that Apache's
// htpasswd -B writes. Credentials that a daemon verifies itself (the
// WebDAV publishing login of FrontPage, USR-5) must be in the daemon's own
// format (DESIGN rule 5); Apache cannot verify argon2id.
func HashHtpasswd(password string) (string, error) {
	if len(password) > 72 {
		return "", fmt.Errorf("bcrypt: password longer than 72 bytes")
	}
	h, err := bcrypt.GenerateFromPassword([]byte(password), 11)
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
