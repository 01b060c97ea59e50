package auth

import (
	"strings"
	"testing"
)

// TestMySQLNativeHash checks the hash against MariaDB's own
// PASSWORD('password') and the empty password's known value.
func TestMySQLNativeHash(t *testing.T) {
	for pw, want := range map[string]string{
		"password": "*2470C0C06DEE42FD1618BB99005ADCA2EC9D1E19",
		"":         "*BE1BDEC0AA74B4DCB079943E70528096CCA985F8",
	} {
		if got := MySQLNativeHash(pw); got != want {
			t.Errorf("MySQLNativeHash(%q) = %s, want %s", pw, got, want)
		}
	}
}

func TestParamsHashHtpasswd(t *testing.T) {
	p := Params{}
	h, err := p.HashHtpasswd("s3cret!")
	if err != nil {
		t.Fatal(err)
	}
	if !strings.HasPrefix(h, "$2y$04$") {
		t.Fatalf("hash %q: want Apache's $2y$ form at the minimum cost", h)
	}
	if ok, _ := Verify(h, "s3cret!"); !ok {
		t.Fatal("right password refused")
	}
	if ok, _ := Verify(h, "s3cret"); ok {
		t.Fatal("wrong password accepted")
	}
	// A password past bcrypt's 72 bytes still gets a hash that the whole
	// password opens, as Apache checks it.
	long := strings.Repeat("ab", 50)
	h, err = p.HashHtpasswd(long)
	if err != nil {
		t.Fatal(err)
	}
	if ok, _ := Verify(h, long[:72]); !ok {
		t.Fatal("long password: first 72 bytes refused")
	}
	if DefaultParams().BcryptCost != HtpasswdCost {
		t.Fatal("production params must use the htpasswd cost")
	}
}
