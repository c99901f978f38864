package webhooks

import (
	"context"
	"fmt"
	"log/slog"
	"time"

	"numberrelease/shared/apperr"
)

// Service is the provider's webhook API (/provider/v1/webhook).
type Service struct {
	Store  *Registrations
	Box    *SecretBox
	Policy Policy
	Sender *Sender
	Log    *slog.Logger
	// Now is the clock (time.Now if nil).
	Now func() time.Time
}

// View is the answer to PUT: the registration and its secret, shown this
// once.
type View struct {
	URL       string    `json:"url"`
	Events    []string  `json:"events"`
	Secret    string    `json:"secret"`
	UpdatedAt time.Time `json:"updated_at"`
}

// Status is the answer to GET: the registration without its secret, and
// its last deliveries, newest first.
type Status struct {
	URL        string     `json:"url"`
	Events     []string   `json:"events"`
	UpdatedAt  time.Time  `json:"updated_at"`
	Deliveries []Delivery `json:"deliveries"`
}

// TestResult is the answer to a test delivery.
type TestResult struct {
	ID        string `json:"id"`
	Type      string `json:"type"`
	Succeeded bool   `json:"succeeded"`
	Result
}

func (s *Service) now() time.Time {
	if s.Now != nil {
		return s.Now()
	}
	return time.Now()
}

func shownEvents(events []string) []string {
	if len(events) == 0 {
		return append([]string(nil), EventTypes...)
	}
	return events
}

// Put registers (or replaces) providerID's webhook with a new secret: a
// second PUT replaces the URL and the filter and rotates the secret.
func (s *Service) Put(ctx context.Context, providerID, rawURL string, events []string) (View, error) {
	if rawURL == "" {
		return View{}, apperr.New(apperr.Invalid, "url: required")
	}
	u, err := s.Policy.CheckURL(ctx, rawURL)
	if err != nil {
		return View{}, apperr.New(apperr.Invalid, "url: %v", err)
	}
	if err := CheckEvents(events); err != nil {
		return View{}, apperr.New(apperr.Invalid, "%v", err)
	}
	secret, err := NewSecret()
	if err != nil {
		return View{}, err
	}
	sealed, err := s.Box.Seal(ctx, providerID, secret)
	if err != nil {
		return View{}, err
	}
	reg := Registration{ProviderID: providerID, URL: u, Events: events, Sealed: sealed, UpdatedAt: s.now().UTC()}
	if err := s.Store.Put(ctx, reg); err != nil {
		return View{}, err
	}
	s.Log.InfoContext(ctx, "webhook registered", "provider_id", providerID, "events", len(events))
	return View{URL: u, Events: shownEvents(events), Secret: secret, UpdatedAt: reg.UpdatedAt}, nil
}

// Get shows providerID's webhook, without its secret, and its last
// deliveries.
func (s *Service) Get(ctx context.Context, providerID string) (Status, error) {
	reg, ok, err := s.Store.Get(ctx, providerID)
	if err != nil {
		return Status{}, err
	}
	if !ok {
		return Status{}, apperr.New(apperr.NotFound, "provider %s has no webhook; register one with PUT /provider/v1/webhook", providerID)
	}
	ds, err := s.Store.Recent(ctx, providerID, RecentDeliveries)
	if err != nil {
		return Status{}, err
	}
	return Status{URL: reg.URL, Events: shownEvents(reg.Events), UpdatedAt: reg.UpdatedAt, Deliveries: ds}, nil
}

// Delete removes providerID's webhook (nothing is delivered from then on);
// deleting none is no error.
func (s *Service) Delete(ctx context.Context, providerID string) error {
	existed, err := s.Store.Delete(ctx, providerID)
	if err != nil {
		return err
	}
	s.Log.InfoContext(ctx, "webhook deleted", "provider_id", providerID, "existed", existed)
	return nil
}

// Test sends a signed webhook.test event to providerID's webhook now and
// answers with the result (recorded as a delivery too). It is not retried.
func (s *Service) Test(ctx context.Context, providerID string) (TestResult, error) {
	reg, ok, err := s.Store.Get(ctx, providerID)
	if err != nil {
		return TestResult{}, err
	}
	if !ok {
		return TestResult{}, apperr.New(apperr.NotFound, "provider %s has no webhook; register one with PUT /provider/v1/webhook", providerID)
	}
	secret, err := s.Box.Open(ctx, providerID, reg.Sealed)
	if err != nil {
		return TestResult{}, err
	}
	key, err := DecodeSecret(secret)
	if err != nil {
		return TestResult{}, fmt.Errorf("webhook of %s: %w", providerID, err)
	}
	msg, err := TestMessage(providerID, s.now())
	if err != nil {
		return TestResult{}, err
	}
	res := s.Sender.Send(ctx, reg.URL, key, msg.ID, msg.Body)
	d := Delivery{ID: msg.ID, Type: msg.Type, Attempt: 1, StatusCode: res.StatusCode, Error: res.Error,
		Succeeded: res.OK(), DurationMS: res.DurationMS, At: s.now().UTC()}
	if err := s.Store.Record(ctx, providerID, d); err != nil {
		s.Log.WarnContext(ctx, "test delivery not recorded", "provider_id", providerID, "err", err)
	}
	s.Log.InfoContext(ctx, "webhook test sent", "provider_id", providerID, "webhook_id", msg.ID,
		"status_code", res.StatusCode, "error", res.Error)
	return TestResult{ID: msg.ID, Type: msg.Type, Succeeded: res.OK(), Result: res}, nil
}
