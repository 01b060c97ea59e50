package panel

import (
	"crypto/rand"
	"math/big"
	"unicode/utf8"
)

// PasswordPolicy is the admin's rule for passwords (GEN-2).
type PasswordPolicy struct {
	Min, Max int
}

// DefaultPasswordPolicy is the guide's rule: 6 to 12 characters.
func DefaultPasswordPolicy() PasswordPolicy { return PasswordPolicy{Min: 6, Max: 12} }

// Check refuses a password outside the policy, naming the rule.
func (p PasswordPolicy) Check(field, pw string) error {
	if pw == "" {
		return Invalid(field, "err.required")
	}
	if !utf8.ValidString(pw) || hasControl(pw) {
		return Invalid(field, "err.password.chars")
	}
	n := utf8.RuneCountInString(pw)
	if n < p.Min || n > p.Max {
		return Invalid(field, "err.password.length", p.Min, p.Max)
	}
	return nil
}

// Validate checks the policy itself as the admin enters it.
func (p PasswordPolicy) Validate() error {
	if p.Min < 6 || p.Min > 128 {
		return Invalid("password_min", "err.policy.min")
	}
	if p.Max < p.Min || p.Max > 128 {
		return Invalid("password_max", "err.policy.max")
	}
	return nil
}

const alnum = "abcdefghijkmnpqrstuvwxyzABCDEFGHJKLMNPQRSTUVWXYZ23456789"

// GeneratePassword makes a strong alphanumeric password as long as the
// policy allows (at most 16), with at least one lower-case letter, one
// upper-case letter and one digit. Look-alike characters are left out.
func (p PasswordPolicy) GeneratePassword() (string, error) {
	n := p.Max
	if n > 16 {
		n = 16
	}
	if n < p.Min {
		n = p.Min
	}
	max := big.NewInt(int64(len(alnum)))
	for {
		b := make([]byte, n)
		for i := range b {
			k, err := rand.Int(rand.Reader, max)
			if err != nil {
				return "", Internal(err)
			}
			b[i] = alnum[k.Int64()]
		}
		var lo, up, dg bool
		for _, c := range b {
			switch {
			case c >= 'a' && c <= 'z':
				lo = true
			case c >= 'A' && c <= 'Z':
				up = true
			default:
				dg = true
			}
		}
		if lo && up && dg {
			return string(b), nil
		}
	}
}
