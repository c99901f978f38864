package zoom

import (
	"context"
	"fmt"
)

// Label is a Zoom rate-limit label: the "Rate Limit Label" each endpoint of
// Zoom's API reference names. Zoom counts calls per account and label.
type Label string

// Zoom's rate-limit labels.
const (
	Light  Label = "Light"
	Medium Label = "Medium"
	Heavy  Label = "Heavy"
)

// Labels of the calls the client makes, from the "Rate Limit Label" of each
// operation in Zoom's Number Management OpenAPI document (see docs/ZOOM.md):
//
//	GET    /number_management/numbers          LIGHT  (list, FindNumber)
//	DELETE /number_management/numbers          MEDIUM (RemoveNumbers)
//	DELETE /number_management/peering_numbers  LIGHT  (RemovePeeringNumbers)
//
// The peering removal is labelled LIGHT in both of Zoom's published OpenAPI
// documents for it (the Phone API's /phone/peering/numbers and the Number
// Management API's /number_management/peering_numbers).
//
// The carrier's view, GET /number_management/carrier/peering_numbers ("List
// peering phone numbers for provider"), is LIGHT in the Number Management
// API's document.
const (
	labelList       = Light
	labelRemove     = Medium
	labelPeeringDel = Light
)

// labelCarrierView is the label of the carrier's view.
const labelCarrierView = Light

// Limits are the calls per second one Zoom account may make per label.
// Zoom applies them per account, shared by every app on the account.
type Limits struct {
	Light, Medium, Heavy int
}

// ProLimits are the Zoom Phone API's limits for Pro accounts. The client
// holds its Number Management calls to them too: Zoom's rate-limit page does
// not say which table that API falls under, and the Phone table is the
// lower one.
func ProLimits() Limits { return Limits{Light: 20, Medium: 10, Heavy: 5} }

// BusinessLimits are the Zoom Phone API's limits for Business, Enterprise,
// Education and Partner accounts.
func BusinessLimits() Limits { return Limits{Light: 40, Medium: 20, Heavy: 10} }

// Of returns the limit of label, or 0 for a label Zoom does not have.
func (l Limits) Of(label Label) int {
	switch label {
	case Light:
		return l.Light
	case Medium:
		return l.Medium
	case Heavy:
		return l.Heavy
	}
	return 0
}

// OrPro returns l with every zero (unset) label taken from ProLimits.
func (l Limits) OrPro() Limits {
	pro := ProLimits()
	if l.Light <= 0 {
		l.Light = pro.Light
	}
	if l.Medium <= 0 {
		l.Medium = pro.Medium
	}
	if l.Heavy <= 0 {
		l.Heavy = pro.Heavy
	}
	return l
}

// Share returns percent per cent of l, each label rounded down but at
// least 1 call a second: the part of an account's limits one app may use
// when Zoom counts every app of the account against the same limits.
func (l Limits) Share(percent int) Limits {
	part := func(n int) int { return max(1, n*percent/100) }
	return Limits{Light: part(l.Light), Medium: part(l.Medium), Heavy: part(l.Heavy)}
}

func (l Limits) String() string {
	return fmt.Sprintf("light=%d,medium=%d,heavy=%d", l.Light, l.Medium, l.Heavy)
}

// Limiter paces calls to Zoom so that all callers together stay within an
// account's limits. Wait returns when one call of label for accountID may
// be made. When no slot comes soon enough it returns an *Error of Kind
// Throttled (retry later); a failure of the limiter itself is any other
// error. It must be safe for concurrent use.
type Limiter interface {
	Wait(ctx context.Context, accountID string, label Label) error
}
