package number

import (
	"fmt"
	"strings"

	"github.com/nyaruka/phonenumbers"
)

// referenceParse is Parse as it was when it called
// github.com/nyaruka/phonenumbers: the behaviour Parse must keep.
func referenceParse(raw string) (string, error) {
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
	pn, err := phonenumbers.Parse(s, "")
	if err != nil || !phonenumbers.IsValidNumber(pn) {
		return "", ErrNotPhoneNumber
	}
	return phonenumbers.Format(pn, phonenumbers.E164), nil
}
