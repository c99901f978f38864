// Package storetest is an in-memory stand-in for the DynamoDB store
// (package store), for unit tests that run without the emulator. It keeps
// the store's rules: a write of a number lands only if the number is still
// as it was read (same version and status, or still absent), a status
// change must be an allowed transition and appends the number's history
// entry (numbered 1, 2, 3, ... without gaps), writes of many numbers go in
// transactions of at most 50 numbers, listings page through an index order
// with cursors valid for their listing only, and Idempotency-Key records
// are reserved, completed and released under the same conditions.
//
// A test may also seed state as it likes (Put, PutTenants), make an
// operation fail (Fail), count calls (Calls), see every change written
// (Changes) and slip a competing write in before the next one
// (BeforeWrite).
package storetest

import (
	"cmp"
	"context"
	"crypto/rand"
	"encoding/base64"
	"fmt"
	"slices"
	"strings"
	"sync"
	"time"

	"numberrelease/shared/domain"
)

// Op names a store operation, for Fail and Calls.
type Op string

// The operations a test can fail or count. OpWrite is every write of
// numbers: Apply, ApplyAll and ApplyEach.
const (
	OpGetNumber             Op = "GetNumber"
	OpGetNumbers            Op = "GetNumbers"
	OpWrite                 Op = "Write"
	OpHistory               Op = "History"
	OpListNumbers           Op = "ListNumbers"
	OpInFlightBefore        Op = "InFlightBefore"
	OpIsLinked              Op = "IsLinked"
	OpGetCustomer           Op = "GetCustomer"
	OpCustomerByZoomAccount Op = "CustomerByZoomAccount"
	OpPutCustomer           Op = "PutCustomer"
	OpLink                  Op = "Link"
	OpUnlink                Op = "Unlink"
	OpListCustomers         Op = "ListCustomers"
	OpLinkedCustomers       Op = "LinkedCustomers"
	OpReserveIdempotency    Op = "ReserveIdempotency"
	OpGetIdempotency        Op = "GetIdempotency"
	OpCompleteIdempotency   Op = "CompleteIdempotency"
	OpReleaseIdempotency    Op = "ReleaseIdempotency"
	OpGetRequest            Op = "GetRequest"
	OpRequestNumbers        Op = "RequestNumbers"
	OpListRequests          Op = "ListRequests"
)

// transactionNumbers is how many numbers one transaction of ApplyAll or
// ApplyEach holds at most: DynamoDB's 100 items, a number and its history
// entry each.
const transactionNumbers = 50

// releasedGrace dates a released reservation's expiry this far in the
// past, as the store does.
const releasedGrace = time.Minute

type numberKey struct{ customer, number string }

// Store is the in-memory store. The zero value is not ready: use New.
type Store struct {
	// Now is the clock of writes and idempotency records (default time.Now).
	Now func() time.Time

	mu           sync.Mutex
	numbers      map[numberKey]domain.Number
	history      map[numberKey][]domain.HistoryEntry
	customers    map[string]domain.Customer
	zoomAccounts map[string]domain.Customer
	links        map[domain.Link]bool
	idempotency  map[[2]string]domain.Idempotency
	changes      []domain.Change
	fail         map[Op]error
	calls        map[Op]int
	beforeWrite  []func()
	requests     map[string]domain.Request
	// members are each request's numbers: "" while the number belongs to
	// the request, the status it ended the request in once it left.
	members map[string]map[string]domain.RequestNumber
}

// New returns an empty store.
func New() *Store {
	return &Store{
		numbers: map[numberKey]domain.Number{}, history: map[numberKey][]domain.HistoryEntry{},
		customers: map[string]domain.Customer{}, zoomAccounts: map[string]domain.Customer{},
		links: map[domain.Link]bool{}, idempotency: map[[2]string]domain.Idempotency{},
		fail: map[Op]error{}, calls: map[Op]int{},
		requests: map[string]domain.Request{}, members: map[string]map[string]domain.RequestNumber{},
	}
}

// Put sets a number's stored state as given: no condition, no history.
func (s *Store) Put(n domain.Number) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.numbers[numberKey{n.CustomerID, n.Number}] = n
}

// Number returns a number's stored state, and whether there is one.
func (s *Store) Number(customerID, e164 string) (domain.Number, bool) {
	s.mu.Lock()
	defer s.mu.Unlock()
	n, ok := s.numbers[numberKey{customerID, e164}]
	return n, ok
}

// Numbers returns every stored number, in no particular order.
func (s *Store) Numbers() []domain.Number {
	s.mu.Lock()
	defer s.mu.Unlock()
	out := make([]domain.Number, 0, len(s.numbers))
	for _, n := range s.numbers {
		out = append(out, n)
	}
	return out
}

// Changes returns every change written so far, in order.
func (s *Store) Changes() []domain.Change {
	s.mu.Lock()
	defer s.mu.Unlock()
	return slices.Clone(s.changes)
}

// Fail makes every later call of op return err (nil: succeed again).
func (s *Store) Fail(op Op, err error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.fail[op] = err
}

// Calls is how often op has been called.
func (s *Store) Calls(op Op) int {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.calls[op]
}

// BeforeWrite runs fn once, before the next write of numbers, outside the
// store's lock: a test's competing write lands just before the one under
// test.
func (s *Store) BeforeWrite(fn func()) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.beforeWrite = append(s.beforeWrite, fn)
}

// call counts op and returns its injected error, if any. The caller holds
// no lock.
func (s *Store) call(op Op) error {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.calls[op]++
	return s.fail[op]
}

func (s *Store) now() time.Time {
	if s.Now != nil {
		return s.Now()
	}
	return time.Now()
}

// GetNumber reads one number's current state.
func (s *Store) GetNumber(_ context.Context, customerID, e164 string) (domain.Number, error) {
	if err := s.call(OpGetNumber); err != nil {
		return domain.Number{}, err
	}
	n, ok := s.Number(customerID, e164)
	if !ok {
		return domain.Number{}, fmt.Errorf("number %s of %s: %w", e164, customerID, domain.ErrNotFound)
	}
	return n, nil
}

// GetNumbers reads many numbers of one customer; numbers never seen are
// absent from the map.
func (s *Store) GetNumbers(_ context.Context, customerID string, numbers []string) (map[string]domain.Number, error) {
	if err := s.call(OpGetNumbers); err != nil {
		return nil, err
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	found := make(map[string]domain.Number, len(numbers))
	for _, e164 := range numbers {
		if n, ok := s.numbers[numberKey{customerID, e164}]; ok {
			found[e164] = n
		}
	}
	return found, nil
}

// Apply writes one change as a transaction of its own.
func (s *Store) Apply(_ context.Context, c domain.Change) (domain.Number, error) {
	if err := s.beginWrite(); err != nil {
		return domain.Number{}, err
	}
	written, err := s.transact([]domain.Change{c})
	if err != nil {
		return domain.Number{}, err
	}
	return written[0], nil
}

// ApplyAll writes changes in transactions of at most 50 numbers, each all
// or nothing; a refused transaction returns a *domain.ConflictError naming
// the numbers that had moved, and the transactions before it stay written.
func (s *Store) ApplyAll(_ context.Context, changes []domain.Change) ([]domain.Number, error) {
	if err := s.beginWrite(); err != nil {
		return nil, err
	}
	written := make([]domain.Number, 0, len(changes))
	for chunk := range slices.Chunk(changes, transactionNumbers) {
		out, err := s.transact(chunk)
		if err != nil {
			return nil, err
		}
		written = append(written, out...)
	}
	return written, nil
}

// ApplyEach writes changes that stand each on its own: a change whose
// number moved fails with a *domain.ConflictError, the others land.
func (s *Store) ApplyEach(_ context.Context, changes []domain.Change) ([]domain.Number, []error) {
	written, errs := make([]domain.Number, len(changes)), make([]error, len(changes))
	if err := s.beginWrite(); err != nil {
		for i := range errs {
			errs[i] = err
		}
		return written, errs
	}
	for i, c := range changes {
		out, err := s.transact([]domain.Change{c})
		if err != nil {
			errs[i] = err
			continue
		}
		written[i] = out[0]
	}
	return written, errs
}

// beginWrite counts a write, runs the hooks waiting for it and returns its
// injected error.
func (s *Store) beginWrite() error {
	s.mu.Lock()
	hooks := s.beforeWrite
	s.beforeWrite = nil
	s.mu.Unlock()
	for _, fn := range hooks {
		fn()
	}
	return s.call(OpWrite)
}

// transact writes changes all or nothing.
func (s *Store) transact(changes []domain.Change) ([]domain.Number, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	now := s.now().UTC().Truncate(time.Millisecond)
	conflict := &domain.ConflictError{}
	for _, c := range changes {
		if c.Prev.Version != 0 && (c.Prev.CustomerID != c.Next.CustomerID || c.Prev.Number != c.Next.Number) {
			return nil, fmt.Errorf("change of %s: prev and next name different numbers", c.Next.Number)
		}
		if statusChange(c) && !domain.CanTransition(c.Prev.Status, c.Next.Status) {
			return nil, fmt.Errorf("change of %s: %q → %q is not an allowed transition", c.Next.Number, c.Prev.Status, c.Next.Status)
		}
		cur, exists := s.numbers[numberKey{c.Next.CustomerID, c.Next.Number}]
		if c.Prev.Version == 0 && exists || c.Prev.Version != 0 && (!exists || cur.Version != c.Prev.Version || cur.Status != c.Prev.Status) {
			conflict.Numbers = append(conflict.Numbers, c.Next.Number)
		}
	}
	if len(conflict.Numbers) > 0 {
		return nil, conflict
	}
	written := make([]domain.Number, len(changes))
	for i, c := range changes {
		next := c.Next
		next.Version = c.Prev.Version + 1
		next.Transitions = c.Prev.Transitions
		next.UpdatedAt = now
		if next.RequestedAt.IsZero() {
			next.RequestedAt = now
		}
		key := numberKey{next.CustomerID, next.Number}
		if statusChange(c) {
			next.Transitions++
			s.history[key] = append(s.history[key], domain.HistoryEntry{
				CustomerID: next.CustomerID, Number: next.Number, ProviderID: next.ProviderID, Version: next.Transitions,
				Attempt: next.Attempt, At: now, Actor: c.Actor, From: c.Prev.Status, To: next.Status, Why: c.Why, RequestID: next.RequestID,
			})
		}
		if next.RequestID != "" && next.RequestID != c.Prev.RequestID {
			s.member(next.RequestID)[next.Number] = domain.RequestNumber{Number: next.Number}
			if c.Prev.Version != 0 && c.Prev.RequestID != "" {
				s.member(c.Prev.RequestID)[next.Number] = domain.RequestNumber{Number: next.Number, Status: c.Prev.Status, Message: c.Prev.Message}
			}
		}
		s.numbers[key] = next
		s.changes = append(s.changes, c)
		written[i] = next
	}
	return written, nil
}

func statusChange(c domain.Change) bool { return c.Prev.Status != c.Next.Status || c.Prev.Version == 0 }

// History returns a number's history, oldest first.
func (s *Store) History(_ context.Context, customerID, e164 string) ([]domain.HistoryEntry, error) {
	if err := s.call(OpHistory); err != nil {
		return nil, err
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	return slices.Clone(s.history[numberKey{customerID, e164}]), nil
}

// ListNumbers returns one page of a customer's numbers ordered by status
// then number, RELEASED ones only when asked for by status, as the store's
// indexes give them. The cursor is only valid for the same listing.
func (s *Store) ListNumbers(_ context.Context, q domain.ListQuery) (domain.Page, error) {
	if err := s.call(OpListNumbers); err != nil {
		return domain.Page{}, err
	}
	statuses := q.ListedStatuses()
	listing := fmt.Sprintf("%q %q %v %q", q.CustomerID, q.ProviderID, statuses, q.Prefix)
	listed := func(n domain.Number) bool {
		if statuses == nil {
			return n.Status != domain.Released
		}
		return slices.Contains(statuses, n.Status)
	}
	after := ""
	if q.Cursor != "" {
		raw, err := base64.RawURLEncoding.DecodeString(q.Cursor)
		l, sk, ok := strings.Cut(string(raw), "\n")
		if err != nil || !ok || l != listing {
			return domain.Page{}, domain.ErrBadCursor
		}
		after = sk
	}
	limit := q.Limit
	if limit <= 0 {
		limit = domain.DefaultPageSize
	}
	limit = min(limit, domain.MaxPageSize)
	s.mu.Lock()
	var match []domain.Number
	for _, n := range s.numbers {
		switch {
		case n.CustomerID != q.CustomerID, q.ProviderID != "" && n.ProviderID != q.ProviderID,
			!listed(n), !strings.HasPrefix(n.Number, q.Prefix), indexKey(n) <= after:
			continue
		}
		match = append(match, n)
	}
	s.mu.Unlock()
	slices.SortFunc(match, func(a, b domain.Number) int { return cmp.Compare(indexKey(a), indexKey(b)) })
	page := domain.Page{Items: match[:min(limit, len(match))]}
	if len(match) > limit {
		last := indexKey(page.Items[len(page.Items)-1])
		page.NextCursor = base64.RawURLEncoding.EncodeToString([]byte(listing + "\n" + last))
	}
	return page, nil
}

// indexKey orders a listing as the store's index sort key does.
func indexKey(n domain.Number) string { return string(n.Status) + "#" + n.Number }

// InFlightBefore calls fn for every number a workflow should be moving
// that has not changed since before cutoff.
func (s *Store) InFlightBefore(_ context.Context, cutoff time.Time, fn func(domain.Number) error) error {
	if err := s.call(OpInFlightBefore); err != nil {
		return err
	}
	var due []domain.Number
	for _, n := range s.Numbers() {
		if n.Status.InFlight() && n.UpdatedAt.Before(cutoff) {
			due = append(due, n)
		}
	}
	for _, n := range due {
		if err := fn(n); err != nil {
			return err
		}
	}
	return nil
}

// PutTenants writes customers and provider links.
func (s *Store) PutTenants(_ context.Context, customers []domain.Customer, links []domain.Link) error {
	s.mu.Lock()
	defer s.mu.Unlock()
	for _, c := range customers {
		s.customers[c.ID] = c
		if c.ZoomAccountID != "" {
			s.zoomAccounts[c.ZoomAccountID] = c
		}
	}
	for _, l := range links {
		s.links[l] = true
	}
	return nil
}

// IsLinked reports whether a provider may act for a customer.
func (s *Store) IsLinked(_ context.Context, providerID, customerID string) (bool, error) {
	if err := s.call(OpIsLinked); err != nil {
		return false, err
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.links[domain.Link{ProviderID: providerID, CustomerID: customerID}], nil
}

// GetCustomer reads a customer.
func (s *Store) GetCustomer(_ context.Context, customerID string) (domain.Customer, error) {
	if err := s.call(OpGetCustomer); err != nil {
		return domain.Customer{}, err
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	c, ok := s.customers[customerID]
	if !ok {
		return domain.Customer{}, fmt.Errorf("customer %s: %w", customerID, domain.ErrNotFound)
	}
	return s.withProviders(c), nil
}

// withProviders is c as read: a copy, with the providers linked to it.
func (s *Store) withProviders(c domain.Customer) domain.Customer {
	c.ContactEmails = slices.Clone(c.ContactEmails)
	c.Providers = nil
	for l := range s.links {
		if l.CustomerID == c.ID {
			c.Providers = append(c.Providers, l.ProviderID)
		}
	}
	slices.Sort(c.Providers)
	return c
}

// PutCustomer writes a customer and moves its Zoom account's lookup, under
// the store's conditions: prev is the customer as read (nil: absent), and
// the write lands only if it still is (domain.ErrConflict), and only if no
// other customer has the Zoom account (domain.ErrZoomAccountTaken).
func (s *Store) PutCustomer(_ context.Context, c domain.Customer, prev *domain.Customer) error {
	if err := s.call(OpPutCustomer); err != nil {
		return err
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	cur, exists := s.customers[c.ID]
	switch {
	case prev == nil && exists, prev != nil && !exists, prev != nil && cur.ZoomAccountID != prev.ZoomAccountID:
		return fmt.Errorf("put customer %s: it changed meanwhile: %w", c.ID, domain.ErrConflict)
	}
	if holder, ok := s.zoomAccounts[c.ZoomAccountID]; ok && c.ZoomAccountID != "" && holder.ID != c.ID {
		return fmt.Errorf("customer %s: zoom account %s: %w", c.ID, c.ZoomAccountID, domain.ErrZoomAccountTaken)
	}
	if old := cur.ZoomAccountID; exists && old != "" && old != c.ZoomAccountID && s.zoomAccounts[old].ID == c.ID {
		delete(s.zoomAccounts, old)
	}
	c.ContactEmails, c.Providers = slices.Clone(c.ContactEmails), nil
	s.customers[c.ID] = c
	if c.ZoomAccountID != "" {
		s.zoomAccounts[c.ZoomAccountID] = domain.Customer{ID: c.ID, Name: c.Name, ZoomAccountID: c.ZoomAccountID}
	}
	return nil
}

// Link lets a provider act for an existing customer (domain.ErrNotFound
// otherwise).
func (s *Store) Link(_ context.Context, providerID, customerID string) error {
	if err := s.call(OpLink); err != nil {
		return err
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	if _, ok := s.customers[customerID]; !ok {
		return fmt.Errorf("customer %s: %w", customerID, domain.ErrNotFound)
	}
	s.links[domain.Link{ProviderID: providerID, CustomerID: customerID}] = true
	return nil
}

// Unlink removes a link, if there is one.
func (s *Store) Unlink(_ context.Context, providerID, customerID string) error {
	if err := s.call(OpUnlink); err != nil {
		return err
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	delete(s.links, domain.Link{ProviderID: providerID, CustomerID: customerID})
	return nil
}

// ListCustomers returns one page of every customer, by id, with its
// providers. The cursor is only valid for this listing.
func (s *Store) ListCustomers(_ context.Context, cursor string, limit int) (domain.CustomerPage, error) {
	if err := s.call(OpListCustomers); err != nil {
		return domain.CustomerPage{}, err
	}
	const listing = "customers"
	after := ""
	if cursor != "" {
		raw, err := base64.RawURLEncoding.DecodeString(cursor)
		l, id, ok := strings.Cut(string(raw), "\n")
		if err != nil || !ok || l != listing {
			return domain.CustomerPage{}, domain.ErrBadCursor
		}
		after = id
	}
	if limit <= 0 {
		limit = domain.DefaultPageSize
	}
	limit = min(limit, domain.MaxPageSize)
	s.mu.Lock()
	var match []domain.Customer
	for id, c := range s.customers {
		if id > after {
			match = append(match, s.withProviders(c))
		}
	}
	s.mu.Unlock()
	slices.SortFunc(match, func(a, b domain.Customer) int { return cmp.Compare(a.ID, b.ID) })
	page := domain.CustomerPage{Items: match[:min(limit, len(match))]}
	if len(match) > limit {
		page.NextCursor = base64.RawURLEncoding.EncodeToString([]byte(listing + "\n" + page.Items[len(page.Items)-1].ID))
	}
	return page, nil
}

// LinkedCustomers returns the existing customers linked to a provider, by id.
func (s *Store) LinkedCustomers(_ context.Context, providerID string) ([]domain.Customer, error) {
	if err := s.call(OpLinkedCustomers); err != nil {
		return nil, err
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	var out []domain.Customer
	for l := range s.links {
		if c, ok := s.customers[l.CustomerID]; ok && l.ProviderID == providerID {
			out = append(out, s.withProviders(c))
		}
	}
	slices.SortFunc(out, func(a, b domain.Customer) int { return cmp.Compare(a.ID, b.ID) })
	return out, nil
}

// CustomerByZoomAccount finds the customer that owns a Zoom account.
func (s *Store) CustomerByZoomAccount(_ context.Context, accountID string) (domain.Customer, error) {
	if err := s.call(OpCustomerByZoomAccount); err != nil {
		return domain.Customer{}, err
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	c, ok := s.zoomAccounts[accountID]
	if !ok {
		return domain.Customer{}, fmt.Errorf("zoom account %s: %w", accountID, domain.ErrNotFound)
	}
	return c, nil
}

// ReserveIdempotency claims a free key for lease: the reservation and
// true, or the live record holding the key and false.
func (s *Store) ReserveIdempotency(_ context.Context, scope, key, bodyHash string, lease time.Duration) (domain.Idempotency, bool, error) {
	if err := s.call(OpReserveIdempotency); err != nil {
		return domain.Idempotency{}, false, err
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	now := s.now().UTC()
	if held, ok := s.idempotency[[2]string{scope, key}]; ok && held.ExpiresAt.After(now) {
		return held, false, nil
	}
	rec := domain.Idempotency{Scope: scope, Key: key, BodyHash: bodyHash, State: domain.IdempotencyInProgress,
		Owner: rand.Text(), CreatedAt: now, ExpiresAt: now.Add(lease)}
	s.idempotency[[2]string{scope, key}] = rec
	return rec, true, nil
}

// GetIdempotency returns the live record of a key, or domain.ErrNotFound
// when the key is free.
func (s *Store) GetIdempotency(_ context.Context, scope, key string) (domain.Idempotency, error) {
	if err := s.call(OpGetIdempotency); err != nil {
		return domain.Idempotency{}, err
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	rec, ok := s.idempotency[[2]string{scope, key}]
	if !ok || !rec.ExpiresAt.After(s.now()) {
		return domain.Idempotency{}, domain.ErrNotFound
	}
	return rec, nil
}

// CompleteIdempotency stores the answer of a reservation for
// domain.IdempotencyTTL; domain.ErrConflict if res no longer holds the key.
func (s *Store) CompleteIdempotency(_ context.Context, res domain.Idempotency, status int, body []byte) error {
	if err := s.call(OpCompleteIdempotency); err != nil {
		return err
	}
	res.State, res.Status, res.Body = domain.IdempotencyCompleted, status, body
	res.ExpiresAt = s.now().UTC().Add(domain.IdempotencyTTL)
	return s.putOwned(res, "complete")
}

// ReleaseIdempotency gives up a reservation, so the key is free at once;
// domain.ErrConflict if res no longer holds the key.
func (s *Store) ReleaseIdempotency(_ context.Context, res domain.Idempotency) error {
	if err := s.call(OpReleaseIdempotency); err != nil {
		return err
	}
	res.Status, res.Body = 0, nil
	res.ExpiresAt = s.now().UTC().Add(-releasedGrace)
	return s.putOwned(res, "release")
}

func (s *Store) putOwned(res domain.Idempotency, what string) error {
	s.mu.Lock()
	defer s.mu.Unlock()
	k := [2]string{res.Scope, res.Key}
	if s.idempotency[k].Owner != res.Owner {
		return fmt.Errorf("%s idempotency key: the reservation is no longer held: %w", what, domain.ErrConflict)
	}
	s.idempotency[k] = res
	return nil
}
