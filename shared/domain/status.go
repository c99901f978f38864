package domain

import "fmt"

// Status is where a number stands in its release lifecycle.
type Status string

// The statuses of a number release.
const (
	// None is the status of a number the service has never seen.
	None Status = ""
	// PendingApproval: a provider asked for the release; the customer has
	// not decided yet.
	PendingApproval Status = "PENDING_APPROVAL"
	// Releasing: approved; the release workflow is checking Zoom and
	// removing the number.
	Releasing Status = "RELEASING"
	// WaitingForUnassign: the number is still assigned in Zoom; the
	// workflow waits for the customer to unassign it.
	WaitingForUnassign Status = "WAITING_FOR_UNASSIGN"
	// Released: removed from the customer's Zoom account. Final.
	Released Status = "RELEASED"
	// Rejected: the customer declined the release.
	Rejected Status = "REJECTED"
	// Cancelled: the provider withdrew its request.
	Cancelled Status = "CANCELLED"
	// Failed: the release workflow gave up; the customer may approve again.
	Failed Status = "FAILED"
	// Expired: nobody acted on the request within its time to live (the
	// expiry sweep, package expiry); the provider may ask again.
	Expired Status = "EXPIRED"
)

// Statuses lists every real status, in lifecycle order.
var Statuses = []Status{PendingApproval, Releasing, WaitingForUnassign, Released, Rejected, Cancelled, Failed, Expired}

// transitions is the one place that says which status may follow which.
// FAILED may also be rejected by the customer or cancelled by the provider, so
// a failed request is never left where no one can move it.
var transitions = map[Status][]Status{
	None:               {PendingApproval},
	PendingApproval:    {Releasing, Rejected, Cancelled, Expired},
	Releasing:          {Released, WaitingForUnassign, Failed},
	WaitingForUnassign: {Releasing, Released, Cancelled, PendingApproval},
	Released:           {},
	Rejected:           {PendingApproval},
	Cancelled:          {PendingApproval},
	Failed:             {Releasing, Rejected, Cancelled},
	Expired:            {PendingApproval},
}

// Stopped is where a number goes when its release workflow stops without
// finishing: FAILED, except that a number waiting for its Zoom unassignment
// returns to PENDING_APPROVAL, as when its wait expires (the lifecycle has
// no WAITING_FOR_UNASSIGN → FAILED). Either way the customer approves it
// again to retry, and the message says why.
func (s Status) Stopped() Status {
	if s == WaitingForUnassign {
		return PendingApproval
	}
	return Failed
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

// InFlight reports whether a release workflow should be moving a number in
// this status (the reconciler's candidates).
func (s Status) InFlight() bool {
	return s == Releasing || s == WaitingForUnassign
}
