// Package ident is the one syntax of the identifiers that name tenants
// (customers), providers and users. Storage keys are built from them, so an
// identifier may not contain a key delimiter or anything else that could let
// one identifier spell another's key.
//
// An identifier is 1 to 64 characters: lower-case ASCII letters, digits, '.',
// '_' and '-', starting with a letter or digit. Lower case only, so two
// identifiers that differ only in case cannot name two tenants. Examples:
// "acme", "pxc", "alice", and UUIDs as identity providers such as Cognito
// use for a user's "sub" ("5f2c8e1a-93b4-4c1e-b3a2-0d6c1c6e7f10").
//
// Token claims, path and body customer ids, and the local token issuer check
// identifiers with Check; an operator API that creates customers and
// providers must do the same.
package ident

import (
	"errors"
	"fmt"
)

// MaxLength is the longest identifier, in bytes (all its characters are ASCII).
const MaxLength = 64

// Pattern is the identifier syntax as a regular expression, for documents
// such as the OpenAPI description. Check implements exactly it.
const Pattern = `^[a-z0-9][a-z0-9._-]{0,63}$`

// Check returns nil for an identifier, or an error saying what is wrong
// with id without repeating it (it may be long, or come from a token).
func Check(id string) error {
	switch {
	case id == "":
		return errors.New("it is empty")
	case len(id) > MaxLength:
		return fmt.Errorf("it is %d bytes long; at most %d are allowed", len(id), MaxLength)
	}
	for i := 0; i < len(id); i++ {
		c := id[i]
		if isLowerAlnum(c) || (i > 0 && (c == '.' || c == '_' || c == '-')) {
			continue
		}
		if i == 0 && (c == '.' || c == '_' || c == '-') {
			return fmt.Errorf("it starts with %q; it must start with a lower-case letter or digit", c)
		}
		return fmt.Errorf("character %d is %s; only lower-case letters, digits, '.', '_' and '-' are allowed", i+1, describe(c))
	}
	return nil
}

func isLowerAlnum(c byte) bool { return ('a' <= c && c <= 'z') || ('0' <= c && c <= '9') }

// describe names a refused byte: printable ASCII quoted, anything else in hex.
func describe(c byte) string {
	if c >= 0x20 && c < 0x7f {
		return fmt.Sprintf("%q", c)
	}
	return fmt.Sprintf("byte 0x%02x", c)
}

// ZoomAccountPattern is the syntax of a Zoom account id: Zoom's own ids,
// such as "Q4ZqBuXlQ0agHvmM6cSgYA", are mixed-case base64url, so case is
// kept (Zoom tells accounts apart by it), and '.', '_' and '-' are allowed
// anywhere. Storage keys escape what could delimit them (shared/store), so
// this syntax only bounds what is stored. CheckZoomAccount implements it.
const ZoomAccountPattern = `^[A-Za-z0-9._-]{1,64}$`

// CheckZoomAccount returns nil for a Zoom account id, or an error saying
// what is wrong without repeating it.
func CheckZoomAccount(id string) error {
	switch {
	case id == "":
		return errors.New("it is empty")
	case len(id) > MaxLength:
		return fmt.Errorf("it is %d bytes long; at most %d are allowed", len(id), MaxLength)
	}
	for i := 0; i < len(id); i++ {
		c := id[i]
		if isLowerAlnum(c) || ('A' <= c && c <= 'Z') || c == '.' || c == '_' || c == '-' {
			continue
		}
		return fmt.Errorf("character %d is %s; only letters, digits, '.', '_' and '-' are allowed", i+1, describe(c))
	}
	return nil
}
