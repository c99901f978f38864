package domain

import "time"

// IdempotencyTTL is how long an Idempotency-Key's answer is remembered.
const IdempotencyTTL = 24 * time.Hour

// IdempotencyState is how far the request holding an Idempotency-Key got.
type IdempotencyState string

// States of an idempotency record (a key with no live record is free):
//
//	free ──reserve──▶ IN_PROGRESS ──complete──▶ COMPLETED
//	  ▲                   │  (lease ends)           │ (TTL ends)
//	  └──────release──────┴─────────────────────────┘
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
	Scope    string
	Key      string
	BodyHash string
	State    IdempotencyState
	// Owner is the reservation's random id; only its holder may complete
	// or release it.
	Owner string
	// Status and Body are the answer (completed records only).
	Status    int
	Body      []byte
	CreatedAt time.Time
	// ExpiresAt ends the record's hold on the key: the end of an
	// in-progress reservation's lease, or of a completed answer's TTL.
	ExpiresAt time.Time
}
