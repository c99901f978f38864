// Package domain holds Number Release's core types: the release lifecycle
// (Status and the transitions allowed between statuses), a number's record
// and its history, tenants, listings, an Idempotency-Key's record, and the
// errors every layer shares. It knows no storage, transport or AWS: the
// store maps these types to DynamoDB items, the API to its JSON views.
package domain

import (
	"errors"
	"fmt"
	"slices"
	"strings"
	"time"
)

// Sentinel errors callers test with errors.Is.
var (
	ErrNotFound  = errors.New("not found")
	ErrConflict  = errors.New("conflicting concurrent update")
	ErrBadCursor = errors.New("cursor is not valid for this listing")
	// ErrZoomAccountTaken says a Zoom account belongs to another customer;
	// it is a conflict (errors.Is(err, ErrConflict) holds).
	ErrZoomAccountTaken = fmt.Errorf("zoom account belongs to another customer: %w", ErrConflict)
)

// ConflictError names the numbers whose conditional write was refused
// because someone else changed them first.
type ConflictError struct{ Numbers []string }

func (e *ConflictError) Error() string {
	return fmt.Sprintf("conflicting concurrent update of %s", strings.Join(e.Numbers, ", "))
}

// Unwrap lets errors.Is(err, ErrConflict) match.
func (e *ConflictError) Unwrap() error { return ErrConflict }

// Assignee is who holds a number in Zoom (user, call queue, ...).
type Assignee struct {
	ID              string
	Name            string
	Type            string
	ExtensionNumber string
}

// Number is the current state of one number at one customer.
type Number struct {
	CustomerID  string
	Number      string
	Status      Status
	ProviderID  string
	RequestID   string
	Reason      string
	Message     string
	Assignee    *Assignee
	RequestedAt time.Time
	UpdatedAt   time.Time
	// Version counts the writes to this number; conditional writes compare it.
	Version int
	// Transitions counts the status changes; the n-th has history entry n,
	// so a number's history is numbered 1, 2, 3, ... without gaps.
	Transitions int
	// Attempt counts approvals; it names the workflow execution.
	Attempt   int
	TaskToken string
	Execution string
	// RemovalStarted is set once the workflow has asked Zoom to remove the
	// number and no outcome is recorded yet: the number may already be gone
	// from Zoom, so it must not be cancelled or rejected until a check of
	// Zoom settles it (the workflow clears it when it finds the number
	// still in the account).
	RemovalStarted bool
	// PendingSince is when the number last entered PENDING_APPROVAL (the
	// store sets it); its request expires a time to live after it.
	PendingSince time.Time
	// Reminders counts the expiry reminders sent for the number since it
	// entered PENDING_APPROVAL, so a sweep run again does not send one twice.
	Reminders int
}

// HistoryEntry is one immutable record of a status change. It names its
// number, so that on the table's stream it is a complete status-change event.
type HistoryEntry struct {
	CustomerID string
	Number     string
	ProviderID string
	// Version numbers a number's status changes 1, 2, 3, ... (Number.Transitions).
	Version int
	// Attempt is the number's approval attempt after the change (the
	// workflow execution that owns it while it is in flight).
	Attempt   int
	At        time.Time
	Actor     string
	From      Status
	To        Status
	Why       string
	RequestID string
}

// Change moves one number from the state it was read in (Prev; a zero Prev
// means the number was never seen) to Next. A change of status must be an
// allowed transition and appends a history entry in the same transaction;
// a change that keeps the status only updates the number.
type Change struct {
	Prev  Number
	Next  Number
	Actor string
	Why   string
}

// Customer is a Zoom Phone customer (tenant).
type Customer struct {
	ID            string
	Name          string
	ZoomAccountID string
	// ContactEmails are whom the operators contact about the customer.
	ContactEmails []string
	// Providers are the providers linked to the customer, sorted. Reads
	// fill it; writes of the customer leave the links as they are (they
	// change only by linking and unlinking).
	Providers []string
}

// CustomerPage is one page of customers, by id, and the opaque cursor of
// the next ("" at the end).
type CustomerPage struct {
	Items      []Customer
	NextCursor string
}

// Link says a provider supplies numbers to a customer and may act for it.
type Link struct {
	ProviderID string
	CustomerID string
}

// Page sizes of listings.
const (
	DefaultPageSize = 50
	MaxPageSize     = 100
)

// ListQuery selects one page of a customer's numbers.
type ListQuery struct {
	CustomerID string
	// ProviderID, when set, lists only the numbers that provider asked for.
	ProviderID string
	// Status filters by status; None lists every status but RELEASED.
	Status Status
	// Statuses, when not empty, lists the numbers in any of these statuses
	// (RELEASED included when named) and takes the place of Status.
	Statuses []Status
	// Prefix, when set, lists only the numbers whose E.164 form begins
	// with it ("+" and digits).
	Prefix string
	// Limit is the page size: DefaultPageSize when 0, at most MaxPageSize.
	Limit  int
	Cursor string
}

// ListedStatuses is the statuses a listing reads, each once, in the order
// of the listing (by name, as the indexes sort numbers), or nil for every
// status but RELEASED.
func (q ListQuery) ListedStatuses() []Status {
	all := q.Statuses
	if len(all) == 0 && q.Status != None {
		all = []Status{q.Status}
	}
	if len(all) == 0 {
		return nil
	}
	out := slices.Clone(all)
	slices.Sort(out)
	return slices.Compact(out)
}

// Page is one page of numbers and the opaque cursor of the next ("" at the end).
type Page struct {
	Items      []Number
	NextCursor string
}

// ReleaseMode says how a release removes a number on the Zoom side.
type ReleaseMode string

const (
	// ModeCustomer removes the number from the customer's account
	// (DELETE /number_management/numbers by id, unassigned numbers only).
	ModeCustomer ReleaseMode = "customer"
	// ModeCarrier has the carrier remove a number it added through the
	// Provider Exchange (DELETE /number_management/peering_numbers with
	// its carrier code).
	ModeCarrier ReleaseMode = "carrier"
)

// NotConnectedMessage is the message of a release that waits because its
// customer has not authorized the Zoom app (or the authorization ended): it
// goes on by itself once an admin connects Zoom in Settings.
const NotConnectedMessage = "Zoom is not connected — connect it in Settings"
