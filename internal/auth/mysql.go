package auth

import (
	"crypto/sha1" //nolint:gosec // mysql_native_password is defined as SHA1(SHA1(pw)); MariaDB verifies nothing else
	"encoding/hex"
	"strings"
)

// MySQLNativeHash returns the mysql_native_password hash of password, the
// form MariaDB's PASSWORD() returns and CREATE USER … IDENTIFIED BY
// PASSWORD takes: "*" and the upper-case hex of SHA1(SHA1(password)). The
// web process derives it while it holds the plaintext, so the agent can
// set the database login's password without ever seeing it (DESIGN rule 5).
func MySQLNativeHash(password string) string {
	first := sha1.Sum([]byte(password))
	second := sha1.Sum(first[:])
	return "*" + strings.ToUpper(hex.EncodeToString(second[:]))
}
