package domain

import "testing"

func TestTransitions(t *testing.T) {
	tests := []struct {
		from, to Status
		ok       bool
	}{
		{None, PendingApproval, true},
		{PendingApproval, Releasing, true},
		{PendingApproval, Released, false},
		{Releasing, WaitingForUnassign, true},
		{Releasing, Cancelled, false},
		{WaitingForUnassign, PendingApproval, true},
		{Released, PendingApproval, false},
		{Rejected, PendingApproval, true},
		{Failed, Releasing, true},
		{Failed, Cancelled, true},
		{PendingApproval, Expired, true},
		{Expired, PendingApproval, true},
		{Releasing, Expired, false},
		{WaitingForUnassign, Expired, false},
		{Failed, Expired, false},
		{Expired, Releasing, false},
	}
	for _, tt := range tests {
		if got := CanTransition(tt.from, tt.to); got != tt.ok {
			t.Errorf("CanTransition(%q, %q) = %v; want %v", tt.from, tt.to, got, tt.ok)
		}
	}
	// Every non-terminal status has a way out, so nothing is stranded.
	for _, s := range Statuses {
		if s == Released {
			continue
		}
		if len(transitions[s]) == 0 {
			t.Errorf("status %s has no way out", s)
		}
	}
}

func TestParseStatus(t *testing.T) {
	for _, s := range Statuses {
		if got, err := ParseStatus(string(s)); got != s || err != nil {
			t.Errorf("ParseStatus(%q) = %q, %v", s, got, err)
		}
	}
	for _, bad := range []string{"", "released", "PENDING"} {
		if got, err := ParseStatus(bad); got != None || err == nil {
			t.Errorf("ParseStatus(%q) = %q, %v; want an error", bad, got, err)
		}
	}
}

// TestOpenAndInFlight: a request is open until it is released, rejected or
// cancelled; a workflow moves only RELEASING and WAITING_FOR_UNASSIGN numbers.
func TestOpenAndInFlight(t *testing.T) {
	tests := []struct {
		s              Status
		open, inFlight bool
	}{
		{PendingApproval, true, false},
		{Releasing, true, true},
		{WaitingForUnassign, true, true},
		{Failed, true, false},
		{Released, false, false},
		{Rejected, false, false},
		{Cancelled, false, false},
	}
	for _, tt := range tests {
		if tt.s.Open() != tt.open || tt.s.InFlight() != tt.inFlight {
			t.Errorf("%s: Open %v, InFlight %v; want %v, %v", tt.s, tt.s.Open(), tt.s.InFlight(), tt.open, tt.inFlight)
		}
	}
}
