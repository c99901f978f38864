// Package store keeps numbers, their immutable history, customer↔provider
// links and idempotency records in one DynamoDB table (README "Table design").
package store

import (
	"errors"
	"fmt"
	"strings"
	"time"

	"numberrelease/shared/number"
)

// Sentinel errors callers test with errors.Is.
var (
	ErrNotFound  = errors.New("not found")
	ErrConflict  = errors.New("conflicting concurrent update")
	ErrBadCursor = errors.New("cursor is not valid for this listing")
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
	ID              string `dynamodbav:"id" json:"id"`
	Name            string `dynamodbav:"name" json:"name"`
	Type            string `dynamodbav:"type" json:"type"`
	ExtensionNumber string `dynamodbav:"extension_number,omitempty" json:"extension_number,omitempty"`
}

// Number is the current state of one number at one customer.
type Number struct {
	CustomerID  string        `dynamodbav:"customer_id"`
	Number      string        `dynamodbav:"number"`
	Status      number.Status `dynamodbav:"status"`
	ProviderID  string        `dynamodbav:"provider_id"`
	RequestID   string        `dynamodbav:"request_id"`
	Reason      string        `dynamodbav:"reason,omitempty"`
	Message     string        `dynamodbav:"message,omitempty"`
	Assignee    *Assignee     `dynamodbav:"zoom_assignee,omitempty"`
	RequestedAt time.Time     `dynamodbav:"requested_at"`
	UpdatedAt   time.Time     `dynamodbav:"updated_at"`
	// Version counts the writes to this number; conditional writes compare it.
	Version int `dynamodbav:"version"`
	// Transitions counts the status changes; the n-th has history entry n,
	// so a number's history is numbered 1, 2, 3, ... without gaps.
	Transitions int `dynamodbav:"transitions,omitempty"`
	// Attempt counts approvals; it names the workflow execution.
	Attempt   int    `dynamodbav:"attempt,omitempty"`
	TaskToken string `dynamodbav:"task_token,omitempty"`
	Execution string `dynamodbav:"execution,omitempty"`
	// RemovalStarted is set once the workflow has asked Zoom to remove the
	// number and no outcome is recorded yet: the number may already be gone
	// from Zoom, so it must not be cancelled or rejected until a check of
	// Zoom settles it (the workflow clears it when it finds the number
	// still in the account).
	RemovalStarted bool `dynamodbav:"removal_started,omitempty"`
}

// HistoryEntry is one immutable record of a status change. It names its
// number, so that on the table's stream it is a complete status-change event.
type HistoryEntry struct {
	CustomerID string `dynamodbav:"customer_id"`
	Number     string `dynamodbav:"number"`
	ProviderID string `dynamodbav:"provider_id"`
	// Version numbers a number's status changes 1, 2, 3, ... (Number.Transitions).
	Version int `dynamodbav:"version"`
	// Attempt is the number's approval attempt after the change (the
	// workflow execution that owns it while it is in flight).
	Attempt   int           `dynamodbav:"attempt,omitempty"`
	At        time.Time     `dynamodbav:"at"`
	Actor     string        `dynamodbav:"actor"`
	From      number.Status `dynamodbav:"from,omitempty"`
	To        number.Status `dynamodbav:"to"`
	Why       string        `dynamodbav:"why"`
	RequestID string        `dynamodbav:"request_id,omitempty"`
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
	ID            string `dynamodbav:"customer_id"`
	Name          string `dynamodbav:"name"`
	ZoomAccountID string `dynamodbav:"zoom_account_id,omitempty"`
}

// Link says a provider supplies numbers to a customer and may act for it.
type Link struct {
	ProviderID string `dynamodbav:"provider_id"`
	CustomerID string `dynamodbav:"customer_id"`
}

// IdempotencyState is how far the request holding an Idempotency-Key got.
type IdempotencyState string

// States of an idempotency record (a key with no live record is free).
const (
	// IdempotencyInProgress: a request reserved the key and is doing the
	// work; the reservation lapses at ExpiresAt if it never finishes.
	IdempotencyInProgress IdempotencyState = "IN_PROGRESS"
	// IdempotencyCompleted: the answer is stored, to be replayed until
	// ExpiresAt.
	IdempotencyCompleted IdempotencyState = "COMPLETED"
)

// Idempotency is one Idempotency-Key's record: first the reservation of the
// request doing the work, then the answer it gave.
type Idempotency struct {
	Scope    string           `dynamodbav:"scope"`
	Key      string           `dynamodbav:"key"`
	BodyHash string           `dynamodbav:"body_hash"`
	State    IdempotencyState `dynamodbav:"state"`
	// Owner is the reservation's random id; only its holder may complete
	// or release it.
	Owner string `dynamodbav:"owner,omitempty"`
	// Status and Body are the answer (completed records only).
	Status    int       `dynamodbav:"status,omitempty"`
	Body      []byte    `dynamodbav:"body,omitempty"`
	CreatedAt time.Time `dynamodbav:"created_at"`
	// ExpiresAt ends the record's hold on the key: the end of an
	// in-progress reservation's lease, or of a completed answer's TTL.
	ExpiresAt time.Time `dynamodbav:"-"`
}

// ListQuery selects one page of a customer's numbers.
type ListQuery struct {
	CustomerID string
	// ProviderID, when set, lists only the numbers that provider asked for.
	ProviderID string
	// Status filters by status; None lists every status but RELEASED.
	Status number.Status
	Limit  int
	Cursor string
}

// Page is one page of numbers and the opaque cursor of the next ("" at the end).
type Page struct {
	Items      []Number
	NextCursor string
}
