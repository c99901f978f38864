package domain

import "time"

// Request is a provider's release request: the numbers it asked one
// customer to release in one call, under one id.
type Request struct {
	ID         string
	ProviderID string
	CustomerID string
	CreatedAt  time.Time
	Reason     string
}

// RequestNumber is one number of a request, as it stands for that request:
// its current status while it belongs to the request, or, once the number
// was asked for again under a newer request, the status it ended this
// request in.
type RequestNumber struct {
	Number  string
	Status  Status
	Message string
}

// RequestQuery selects one page of a provider's requests, newest first.
type RequestQuery struct {
	ProviderID string
	// CustomerID, when set, lists only the requests made to that customer.
	CustomerID string
	Limit      int
	Cursor     string
}

// RequestPage is one page of requests, newest first, and the opaque cursor
// of the next ("" at the end).
type RequestPage struct {
	Items      []Request
	NextCursor string
}

// Page sizes of request listings: each request listed is answered with
// its counts per status, read from its numbers.
const (
	DefaultRequestPageSize = 20
	MaxRequestPageSize     = 50
	// MaxRequestNumbers is how many numbers one request holds at most.
	MaxRequestNumbers = 500
)
