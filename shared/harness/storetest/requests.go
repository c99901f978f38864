package storetest

import (
	"cmp"
	"context"
	"encoding/base64"
	"fmt"
	"slices"
	"strings"
	"time"

	"numberrelease/shared/domain"
)

// member is request id's member set; the caller holds s.mu.
func (s *Store) member(requestID string) map[string]domain.RequestNumber {
	m, ok := s.members[requestID]
	if !ok {
		m = map[string]domain.RequestNumber{}
		s.members[requestID] = m
	}
	return m
}

// ApplyRequest records a new request and writes its numbers as ApplyAll
// does; the request is recorded with the first transaction.
func (s *Store) ApplyRequest(ctx context.Context, r domain.Request, changes []domain.Change) ([]domain.Number, error) {
	if len(changes) == 0 {
		return nil, nil
	}
	for _, c := range changes {
		if c.Next.RequestID != r.ID || c.Next.CustomerID != r.CustomerID || c.Next.ProviderID != r.ProviderID {
			return nil, fmt.Errorf("request %s: the change of %s does not belong to it", r.ID, c.Next.Number)
		}
	}
	if r.CreatedAt.IsZero() {
		r.CreatedAt = s.now()
	}
	r.CreatedAt = r.CreatedAt.UTC().Truncate(time.Millisecond)
	s.mu.Lock()
	if _, taken := s.requests[r.ID]; taken {
		s.mu.Unlock()
		return nil, fmt.Errorf("request %s already exists", r.ID)
	}
	s.requests[r.ID] = r
	s.mu.Unlock()
	written, err := s.ApplyAll(ctx, changes)
	if err != nil {
		// As in the store: the request stays once its first transaction landed.
		s.mu.Lock()
		if len(s.members[r.ID]) == 0 {
			delete(s.requests, r.ID)
		}
		s.mu.Unlock()
	}
	return written, err
}

// GetRequest reads a request; domain.ErrNotFound when there is none.
func (s *Store) GetRequest(_ context.Context, requestID string) (domain.Request, error) {
	if err := s.call(OpGetRequest); err != nil {
		return domain.Request{}, err
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	r, ok := s.requests[requestID]
	if !ok {
		return domain.Request{}, fmt.Errorf("request %s: %w", requestID, domain.ErrNotFound)
	}
	return r, nil
}

// RequestNumbers returns a request's numbers, by number, with their status
// for the request.
func (s *Store) RequestNumbers(_ context.Context, r domain.Request) ([]domain.RequestNumber, error) {
	if err := s.call(OpRequestNumbers); err != nil {
		return nil, err
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	out := make([]domain.RequestNumber, 0, len(s.members[r.ID]))
	for e164, m := range s.members[r.ID] {
		if m.Status == domain.None {
			n := s.numbers[numberKey{r.CustomerID, e164}]
			m = domain.RequestNumber{Number: e164, Status: n.Status, Message: n.Message}
		}
		out = append(out, m)
	}
	slices.SortFunc(out, func(a, b domain.RequestNumber) int { return strings.Compare(a.Number, b.Number) })
	return out, nil
}

// ListRequests returns one page of a provider's requests, newest first.
func (s *Store) ListRequests(_ context.Context, q domain.RequestQuery) (domain.RequestPage, error) {
	if err := s.call(OpListRequests); err != nil {
		return domain.RequestPage{}, err
	}
	listing := fmt.Sprintf("requests %q %q", q.ProviderID, q.CustomerID)
	before := ""
	if q.Cursor != "" {
		raw, err := base64.RawURLEncoding.DecodeString(q.Cursor)
		l, sk, ok := strings.Cut(string(raw), "\n")
		if err != nil || !ok || l != listing {
			return domain.RequestPage{}, domain.ErrBadCursor
		}
		before = sk
	}
	limit := q.Limit
	if limit <= 0 {
		limit = domain.DefaultRequestPageSize
	}
	limit = min(limit, domain.MaxRequestPageSize)
	s.mu.Lock()
	var match []domain.Request
	for _, r := range s.requests {
		if r.ProviderID != q.ProviderID || q.CustomerID != "" && r.CustomerID != q.CustomerID || before != "" && requestKey(r) >= before {
			continue
		}
		match = append(match, r)
	}
	s.mu.Unlock()
	slices.SortFunc(match, func(a, b domain.Request) int { return cmp.Compare(requestKey(b), requestKey(a)) })
	page := domain.RequestPage{Items: match[:min(limit, len(match))]}
	if len(match) > limit {
		last := requestKey(page.Items[len(page.Items)-1])
		page.NextCursor = base64.RawURLEncoding.EncodeToString([]byte(listing + "\n" + last))
	}
	return page, nil
}

// requestKey orders requests as the store's index sort key does.
func requestKey(r domain.Request) string {
	return r.CreatedAt.UTC().Format("2006-01-02T15:04:05.000Z07:00") + "#" + r.ID
}
