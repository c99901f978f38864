// Package number holds the phone-number release lifecycle: the statuses of
// SPEC §3, the transitions allowed between them, and E.164 parsing.
package number

import "fmt"

// Status is where a number stands in its release lifecycle.
type Status string

// The statuses of a number release (SPEC §3).
const (
	// None is the status of a number the service has never seen.
	None               Status = ""
	PendingApproval    Status = "PENDING_APPROVAL"
	Releasing          Status = "RELEASING"
	WaitingForUnassign Status = "WAITING_FOR_UNASSIGN"
	Released           Status = "RELEASED"
	Rejected           Status = "REJECTED"
	Cancelled          Status = "CANCELLED"
	Failed             Status = "FAILED"
)

// Statuses lists every real status, in lifecycle order.
var Statuses = []Status{PendingApproval, Releasing, WaitingForUnassign, Released, Rejected, Cancelled, Failed}

// transitions is the one place that says which status may follow which.
// FAILED may also be rejected by the customer or cancelled by the provider, so
// a failed request is never left where no one can move it.
var transitions = map[Status][]Status{
	None:               {PendingApproval},
	PendingApproval:    {Releasing, Rejected, Cancelled},
	Releasing:          {Released, WaitingForUnassign, Failed},
	WaitingForUnassign: {Releasing, Released, Cancelled, PendingApproval},
	Released:           {},
	Rejected:           {PendingApproval},
	Cancelled:          {PendingApproval},
	Failed:             {Releasing, Rejected, Cancelled},
}

// CanTransition reports whether a number may move from one status to another.
func CanTransition(from, to Status) bool {
	for _, s := range transitions[from] {
		if s == to {
			return true
		}
	}
	return false
}

// Sources lists the statuses from which a number may move to the given one.
func Sources(to Status) []Status {
	var out []Status
	for _, from := range append([]Status{None}, Statuses...) {
		if CanTransition(from, to) {
			out = append(out, from)
		}
	}
	return out
}

// ParseStatus validates a status name as it arrives in a query string.
func ParseStatus(s string) (Status, error) {
	for _, st := range Statuses {
		if string(st) == s {
			return st, nil
		}
	}
	return None, fmt.Errorf("unknown status %q", s)
}

// Open reports whether a release request in this status has not finished:
// the provider may still cancel it or it is still on its way.
func (s Status) Open() bool {
	return s == PendingApproval || s == Releasing || s == WaitingForUnassign || s == Failed
}
