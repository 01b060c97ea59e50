// Package panel holds the business of Kontor: roles, accounts, limits,
// services, domains and the rules that decide what each role may do. It has
// no SQL, no HTTP and no knowledge of the system daemons.
package panel

import (
	"errors"
	"fmt"
	"strings"
)

// Kind classifies an Error so that every front end (web, API, CLI) can map
// it to a status in one place.
type Kind int

// The kinds of Error.
const (
	KindInvalid      Kind = iota + 1 // bad input; Field names the form field
	KindNotFound                     // no such object, or not visible to the actor
	KindForbidden                    // visible but not allowed (locked, hard limit, role)
	KindConflict                     // duplicate login, domain, …
	KindUnauthorized                 // wrong credentials or no session
	KindThrottled                    // too many attempts
	KindInternal                     // anything else; the cause is logged, not shown
)

// Error is the one error type the panel hands to its front ends. Key is a
// message-catalogue key and Args its arguments, so that the message reaches
// the person in their language; Err is a cause for the log only.
type Error struct {
	Kind  Kind
	Field string
	Key   string
	Args  []any
	Err   error
}

func (e *Error) Error() string {
	var b strings.Builder
	if e.Field != "" {
		b.WriteString(e.Field)
		b.WriteString(": ")
	}
	b.WriteString(e.Key)
	if len(e.Args) > 0 {
		fmt.Fprint(&b, " ", e.Args)
	}
	if e.Err != nil {
		b.WriteString(": ")
		b.WriteString(e.Err.Error())
	}
	return b.String()
}

func (e *Error) Unwrap() error { return e.Err }

// Invalid reports bad input in field.
func Invalid(field, key string, args ...any) *Error {
	return &Error{Kind: KindInvalid, Field: field, Key: key, Args: args}
}

// Forbidden reports an action the actor may not take.
func Forbidden(field, key string, args ...any) *Error {
	return &Error{Kind: KindForbidden, Field: field, Key: key, Args: args}
}

// Conflict reports a clash with an existing object.
func Conflict(field, key string, args ...any) *Error {
	return &Error{Kind: KindConflict, Field: field, Key: key, Args: args}
}

// NotFound reports an object that does not exist or is outside the actor's
// subtree; both look the same so that ids of others leak nothing.
func NotFound(what string) *Error {
	return &Error{Kind: KindNotFound, Key: "err.notfound", Args: []any{what}}
}

// Internal wraps an unexpected failure.
func Internal(err error) *Error {
	return &Error{Kind: KindInternal, Key: "err.internal", Err: err}
}

// ErrorKind returns the kind of err, KindInternal for foreign errors.
func ErrorKind(err error) Kind {
	var pe *Error
	if errors.As(err, &pe) {
		return pe.Kind
	}
	return KindInternal
}

// AsError returns err as *Error, wrapping foreign errors as internal.
func AsError(err error) *Error {
	var pe *Error
	if errors.As(err, &pe) {
		return pe
	}
	return Internal(err)
}
