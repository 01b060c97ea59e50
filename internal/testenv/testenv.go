// Package testenv holds helpers for tests that need real daemons
// (PostgreSQL, Apache, BIND, ...).
//
// Such tests run only when KONTOR_INTEGRATION=1 (set by `make test`). Without
// it they skip; with it a missing daemon is a test failure, never a silent
// skip. The usual pattern for a daemon without a dedicated helper is:
//
//	if !testenv.Integration() || !haveApache() {
//		testenv.Need(t, "Apache (apache2, Debian package apache2)")
//	}
package testenv

import (
	"os"
	"testing"
)

// EnvVar is the environment variable that enables integration tests.
const EnvVar = "KONTOR_INTEGRATION"

// Integration reports whether integration tests are enabled, that is whether
// KONTOR_INTEGRATION=1.
func Integration() bool { return os.Getenv(EnvVar) == "1" }

// Need reports that the test needs what (a daemon or tool, e.g.
// "PostgreSQL (initdb/postgres, Debian package postgresql)") which is not
// available: the test fails when integration tests are enabled and is skipped
// otherwise. Need does not return.
func Need(t testing.TB, what string) {
	t.Helper()
	NeedReason(t, what, "it is not available (install it with `make deps`)")
}

// NeedReason is Need with a more precise reason, used in the failure message:
// "<what> is required (KONTOR_INTEGRATION=1) but <reason>".
func NeedReason(t testing.TB, what, reason string) {
	t.Helper()
	if Integration() {
		t.Fatalf("%s is required (%s=1) but %s", what, EnvVar, reason)
	}
	t.Skipf("skipping: needs %s; set %s=1 (make test) to run", what, EnvVar)
}

// Main is meant to be used as
//
//	func TestMain(m *testing.M) { testenv.Main(m) }
//
// in every package that uses the daemons started by this package (such as
// PostgresDSN). It runs the tests, stops the daemons and removes their
// temporary directories, then exits with the tests' exit code.
func Main(m *testing.M) {
	code := m.Run()
	stopPostgres()
	os.Exit(code)
}
