package auth

import (
	"strings"
	"testing"
)

func TestHashVerify(t *testing.T) {
	p := Params{Memory: 1024, Time: 1, Threads: 1}
	h, err := p.Hash("s3cret!")
	if err != nil {
		t.Fatal(err)
	}
	if !strings.HasPrefix(h, "$argon2id$v=19$m=1024,t=1,p=1$") {
		t.Fatalf("hash %q is not argon2id PHC", h)
	}
	if ok, err := Verify(h, "s3cret!"); err != nil || !ok {
		t.Fatalf("right password refused: %v %v", ok, err)
	}
	if ok, _ := Verify(h, "s3cret"); ok {
		t.Fatal("wrong password accepted")
	}
	h2, _ := p.Hash("s3cret!")
	if h == h2 {
		t.Fatal("two hashes of one password are equal: salt missing")
	}
	for _, bad := range []string{"", "plain", "$argon2i$v=19$m=1,t=1,p=1$AA$AA", "$argon2id$v=19$m=x$AA$AA"} {
		if _, err := Verify(bad, "x"); err == nil {
			t.Errorf("Verify(%q) gave no error", bad)
		}
	}
}

func TestToken(t *testing.T) {
	a, ha, err := NewToken()
	if err != nil {
		t.Fatal(err)
	}
	b, _, _ := NewToken()
	if a == b || len(a) < 40 {
		t.Fatalf("tokens %q %q not random enough", a, b)
	}
	if HashToken(a) != ha || ha == a {
		t.Fatal("token hash mismatch")
	}
}

func TestHtpasswd(t *testing.T) {
	h, err := HashHtpasswd("webdav-pw1")
	if err != nil {
		t.Fatal(err)
	}
	if !strings.HasPrefix(h, "$2y$11$") || len(h) != 60 {
		t.Fatalf("hash %q is not an htpasswd -B hash", h)
	}
	if ok, err := Verify(h, "webdav-pw1"); !ok || err != nil {
		t.Fatalf("right password refused: %v", err)
	}
	if ok, _ := Verify(h, "webdav-pw2"); ok {
		t.Fatal("wrong password accepted")
	}
	if _, err := HashHtpasswd(strings.Repeat("x", 73)); err == nil {
		t.Fatal("over-long password hashed")
	}
}
