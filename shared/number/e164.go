// Package number reads phone numbers as requests give them and normalises
// them to E.164, refusing what is not a valid number (by libphonenumber's
// rules, on generated metadata, without linking the library).
package number

import (
	"errors"
	"fmt"
	"strings"
)

// MaxPerRequest is the most numbers one request may carry.
const MaxPerRequest = 500

// Problem names one input value that was refused and why.
type Problem struct {
	Value  string `json:"value"`
	Reason string `json:"reason"`
}

// InvalidError lists every refused value of a request, so a caller can fix
// them all at once.
type InvalidError struct{ Problems []Problem }

func (e *InvalidError) Error() string {
	parts := make([]string, len(e.Problems))
	for i, p := range e.Problems {
		parts[i] = fmt.Sprintf("%q: %s", p.Value, p.Reason)
	}
	return "invalid numbers: " + strings.Join(parts, "; ")
}

// ErrNotPhoneNumber is returned for input that is not a valid phone number.
var ErrNotPhoneNumber = errors.New("not a valid E.164 phone number")

// Parse normalises one phone number to E.164 (+97239754571). Input without a
// leading + is read as an international number; spaces, dashes, dots and
// parentheses are ignored.
func Parse(raw string) (string, error) {
	s := strings.Map(func(r rune) rune {
		switch r {
		case ' ', '-', '.', '(', ')', '\t':
			return -1
		}
		return r
	}, raw)
	if s == "" {
		return "", fmt.Errorf("empty: %w", ErrNotPhoneNumber)
	}
	if !strings.HasPrefix(s, "+") {
		s = "+" + s
	}
	if len(s) > 16 || strings.ContainsFunc(s[1:], func(r rune) bool { return r < '0' || r > '9' }) {
		return "", ErrNotPhoneNumber
	}
	n, ok := internationalE164(s[1:])
	if !ok {
		return "", ErrNotPhoneNumber
	}
	return n, nil
}

// ParseList normalises a request's numbers all-or-nothing: it returns every
// invalid or duplicate value in one *InvalidError, or the normalised list in
// input order.
func ParseList(raw []string) ([]string, error) {
	if len(raw) == 0 {
		return nil, &InvalidError{Problems: []Problem{{Value: "", Reason: "numbers must list at least one number"}}}
	}
	if len(raw) > MaxPerRequest {
		return nil, &InvalidError{Problems: []Problem{{Value: fmt.Sprint(len(raw)), Reason: fmt.Sprintf("at most %d numbers per request", MaxPerRequest)}}}
	}
	out := make([]string, 0, len(raw))
	seen := make(map[string]string, len(raw))
	var problems []Problem
	for _, r := range raw {
		n, err := Parse(r)
		if err != nil {
			problems = append(problems, Problem{Value: r, Reason: err.Error()})
			continue
		}
		if first, dup := seen[n]; dup {
			problems = append(problems, Problem{Value: r, Reason: fmt.Sprintf("duplicate of %q", first)})
			continue
		}
		seen[n] = r
		out = append(out, n)
	}
	if len(problems) > 0 {
		return nil, &InvalidError{Problems: problems}
	}
	return out, nil
}
