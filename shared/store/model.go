// Package store is the DynamoDB adapter of Number Release: it keeps
// numbers, their immutable history, customer↔provider links and
// idempotency records in one table (README "Table design"). The item
// layout (keys, index keys, attribute names) is this package's alone: the
// types it reads and writes are package domain's, mapped to and from the
// private item types below.
package store

import (
	"slices"
	"time"

	"numberrelease/shared/domain"
)

// numberItem is a number's state as stored, with its keys.
type numberItem struct {
	PK     string `dynamodbav:"PK"`
	SK     string `dynamodbav:"SK"`
	GSI1PK string `dynamodbav:"GSI1PK"`
	GSI1SK string `dynamodbav:"GSI1SK"`
	GSI2PK string `dynamodbav:"GSI2PK"`
	GSI2SK string `dynamodbav:"GSI2SK"`
	// GSI3 keys exist only while a workflow should be moving the number.
	GSI3PK string `dynamodbav:"GSI3PK,omitempty"`
	GSI3SK string `dynamodbav:"GSI3SK,omitempty"`

	CustomerID     string        `dynamodbav:"customer_id"`
	Number         string        `dynamodbav:"number"`
	Status         domain.Status `dynamodbav:"status"`
	ProviderID     string        `dynamodbav:"provider_id"`
	RequestID      string        `dynamodbav:"request_id"`
	Reason         string        `dynamodbav:"reason,omitempty"`
	Message        string        `dynamodbav:"message,omitempty"`
	Assignee       *assigneeItem `dynamodbav:"zoom_assignee,omitempty"`
	RequestedAt    time.Time     `dynamodbav:"requested_at"`
	UpdatedAt      time.Time     `dynamodbav:"updated_at"`
	Version        int           `dynamodbav:"version"`
	Transitions    int           `dynamodbav:"transitions,omitempty"`
	Attempt        int           `dynamodbav:"attempt,omitempty"`
	TaskToken      string        `dynamodbav:"task_token,omitempty"`
	Execution      string        `dynamodbav:"execution,omitempty"`
	RemovalStarted bool          `dynamodbav:"removal_started,omitempty"`
	PendingSince   *time.Time    `dynamodbav:"pending_since,omitempty"`
	Reminders      int           `dynamodbav:"reminders,omitempty"`
}

// assigneeItem is a number's Zoom assignee (the zoom_assignee map).
type assigneeItem struct {
	ID              string `dynamodbav:"id"`
	Name            string `dynamodbav:"name"`
	Type            string `dynamodbav:"type"`
	ExtensionNumber string `dynamodbav:"extension_number,omitempty"`
}

// numberItemOf is n as stored: its attributes and keys.
func numberItemOf(n domain.Number) *numberItem {
	it := &numberItem{
		PK: numberPK(n.CustomerID, n.Number), SK: skState,
		GSI1PK: customerIndexPK(n.CustomerID, n.Status), GSI1SK: indexSK(n.Status, n.Number),
		GSI2PK: providerIndexPK(n.ProviderID, n.CustomerID, n.Status), GSI2SK: indexSK(n.Status, n.Number),
		CustomerID: n.CustomerID, Number: n.Number, Status: n.Status, ProviderID: n.ProviderID, RequestID: n.RequestID,
		Reason: n.Reason, Message: n.Message, RequestedAt: n.RequestedAt, UpdatedAt: n.UpdatedAt,
		Version: n.Version, Transitions: n.Transitions, Attempt: n.Attempt, TaskToken: n.TaskToken,
		Execution: n.Execution, RemovalStarted: n.RemovalStarted, Reminders: n.Reminders,
	}
	if !n.PendingSince.IsZero() {
		since := n.PendingSince
		it.PendingSince = &since
	}
	if a := n.Assignee; a != nil {
		it.Assignee = &assigneeItem{ID: a.ID, Name: a.Name, Type: a.Type, ExtensionNumber: a.ExtensionNumber}
	}
	switch {
	case n.Status.InFlight():
		it.GSI3PK, it.GSI3SK = inFlightKeys(n)
	case n.Status == domain.PendingApproval:
		it.GSI3PK, it.GSI3SK = pendingKeys(n)
	}
	return it
}

// number is the number an item holds.
func (it numberItem) number() domain.Number {
	n := domain.Number{
		CustomerID: it.CustomerID, Number: it.Number, Status: it.Status, ProviderID: it.ProviderID, RequestID: it.RequestID,
		Reason: it.Reason, Message: it.Message, RequestedAt: it.RequestedAt, UpdatedAt: it.UpdatedAt,
		Version: it.Version, Transitions: it.Transitions, Attempt: it.Attempt, TaskToken: it.TaskToken,
		Execution: it.Execution, RemovalStarted: it.RemovalStarted, Reminders: it.Reminders,
	}
	if it.PendingSince != nil {
		n.PendingSince = *it.PendingSince
	}
	if a := it.Assignee; a != nil {
		n.Assignee = &domain.Assignee{ID: a.ID, Name: a.Name, Type: a.Type, ExtensionNumber: a.ExtensionNumber}
	}
	return n
}

// historyItem is one history entry as stored, under its number's
// partition. It names its number, so that on the table's stream it is a
// complete status-change event (HistoryFromRecord).
type historyItem struct {
	PK         string        `dynamodbav:"PK"`
	SK         string        `dynamodbav:"SK"`
	CustomerID string        `dynamodbav:"customer_id"`
	Number     string        `dynamodbav:"number"`
	ProviderID string        `dynamodbav:"provider_id"`
	Version    int           `dynamodbav:"version"`
	Attempt    int           `dynamodbav:"attempt,omitempty"`
	At         time.Time     `dynamodbav:"at"`
	Actor      string        `dynamodbav:"actor"`
	From       domain.Status `dynamodbav:"from,omitempty"`
	To         domain.Status `dynamodbav:"to"`
	Why        string        `dynamodbav:"why"`
	RequestID  string        `dynamodbav:"request_id,omitempty"`
}

func historyItemOf(h domain.HistoryEntry) *historyItem {
	return &historyItem{
		PK: numberPK(h.CustomerID, h.Number), SK: historySK(h.Version),
		CustomerID: h.CustomerID, Number: h.Number, ProviderID: h.ProviderID, Version: h.Version, Attempt: h.Attempt,
		At: h.At, Actor: h.Actor, From: h.From, To: h.To, Why: h.Why, RequestID: h.RequestID,
	}
}

func (it historyItem) entry() domain.HistoryEntry {
	return domain.HistoryEntry{
		CustomerID: it.CustomerID, Number: it.Number, ProviderID: it.ProviderID, Version: it.Version, Attempt: it.Attempt,
		At: it.At, Actor: it.Actor, From: it.From, To: it.To, Why: it.Why, RequestID: it.RequestID,
	}
}

// customerItem is a customer, stored under its id (with its entry in the
// customer list, its contact emails and its providers) and again under its
// Zoom account (pk; the id, name and account only).
type customerItem struct {
	PK            string   `dynamodbav:"PK"`
	SK            string   `dynamodbav:"SK"`
	GSI1PK        string   `dynamodbav:"GSI1PK,omitempty"`
	GSI1SK        string   `dynamodbav:"GSI1SK,omitempty"`
	ID            string   `dynamodbav:"customer_id"`
	Name          string   `dynamodbav:"name"`
	ZoomAccountID string   `dynamodbav:"zoom_account_id,omitempty"`
	ContactEmails []string `dynamodbav:"contact_emails,omitempty"`
	Providers     []string `dynamodbav:"providers,stringset,omitempty"`
}

// customerItemOf is the lookup copy of c under pk (its Zoom account).
func customerItemOf(pk string, c domain.Customer) *customerItem {
	return &customerItem{PK: pk, SK: skMeta, ID: c.ID, Name: c.Name, ZoomAccountID: c.ZoomAccountID}
}

// customerMetaOf is c's own item, listed, with providers as its links.
func customerMetaOf(c domain.Customer, providers []string) *customerItem {
	return &customerItem{PK: customerPK(c.ID), SK: skMeta, GSI1PK: customerListPK, GSI1SK: customerListSK(c.ID),
		ID: c.ID, Name: c.Name, ZoomAccountID: c.ZoomAccountID, ContactEmails: c.ContactEmails, Providers: providers}
}

func (it customerItem) customer() domain.Customer {
	providers := slices.Clone(it.Providers)
	slices.Sort(providers)
	return domain.Customer{ID: it.ID, Name: it.Name, ZoomAccountID: it.ZoomAccountID,
		ContactEmails: it.ContactEmails, Providers: providers}
}

// linkItem says a provider may act for a customer.
type linkItem struct {
	PK         string `dynamodbav:"PK"`
	SK         string `dynamodbav:"SK"`
	ProviderID string `dynamodbav:"provider_id"`
	CustomerID string `dynamodbav:"customer_id"`
}

// idempotencyItem is an Idempotency-Key's record; expires_at is the
// table's TTL attribute.
type idempotencyItem struct {
	PK        string                  `dynamodbav:"PK"`
	SK        string                  `dynamodbav:"SK"`
	ExpiresAt int64                   `dynamodbav:"expires_at"`
	Scope     string                  `dynamodbav:"scope"`
	Key       string                  `dynamodbav:"key"`
	BodyHash  string                  `dynamodbav:"body_hash"`
	State     domain.IdempotencyState `dynamodbav:"state"`
	Owner     string                  `dynamodbav:"owner,omitempty"`
	Status    int                     `dynamodbav:"status,omitempty"`
	Body      []byte                  `dynamodbav:"body,omitempty"`
	CreatedAt time.Time               `dynamodbav:"created_at"`
}

func idempotencyItemOf(rec domain.Idempotency) *idempotencyItem {
	return &idempotencyItem{
		PK: idempotencyPK(rec.Scope, rec.Key), SK: skIdempotency, ExpiresAt: expiresAt(rec.ExpiresAt),
		Scope: rec.Scope, Key: rec.Key, BodyHash: rec.BodyHash, State: rec.State, Owner: rec.Owner,
		Status: rec.Status, Body: rec.Body, CreatedAt: rec.CreatedAt,
	}
}

func (it idempotencyItem) record() domain.Idempotency {
	rec := domain.Idempotency{
		Scope: it.Scope, Key: it.Key, BodyHash: it.BodyHash, State: it.State, Owner: it.Owner,
		Status: it.Status, Body: it.Body, CreatedAt: it.CreatedAt, ExpiresAt: time.Unix(it.ExpiresAt, 0).UTC(),
	}
	if rec.State == "" {
		// Written before reservations existed: only answers were stored.
		rec.State = domain.IdempotencyCompleted
	}
	return rec
}
