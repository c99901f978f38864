package zoom

import (
	"context"
	"strings"
	"sync"
)

// Lazy is a Client whose OAuth credentials are loaded on first use (e.g.
// from Secrets Manager) rather than at start. It has the Client's methods
// and is safe for concurrent use.
//
// On first use it calls Credentials, puts the result into Config and builds
// the Client with New; the Client is then reused. A failure is not kept: the
// next call tries again. When Zoom refuses the credentials (Kind
// BadCredentials) the Client is dropped too, so rotated credentials are
// picked up by the next call.
type Lazy struct {
	// Config is the Client's configuration; its ClientID and ClientSecret
	// are overwritten by what Credentials returns.
	Config Config
	// Credentials returns the OAuth app's client ID and secret. When nil,
	// Config's own ClientID and ClientSecret are used.
	Credentials func(ctx context.Context) (clientID, clientSecret string, err error)

	mu     sync.Mutex
	client *Client
}

// FindNumber is Client.FindNumber with the Client built on first use.
func (l *Lazy) FindNumber(ctx context.Context, accountID, e164 string) (PhoneNumber, error) {
	c, err := l.get(ctx)
	if err != nil {
		return PhoneNumber{}, err
	}
	pn, err := c.FindNumber(ctx, accountID, e164)
	return pn, l.check(c, err)
}

// CarrierView is Client.CarrierView with the Client built on first use.
func (l *Lazy) CarrierView(ctx context.Context, carrierAccountID string, pages int) ([]PeeringNumber, bool, error) {
	c, err := l.get(ctx)
	if err != nil {
		return nil, false, err
	}
	numbers, complete, err := c.CarrierView(ctx, carrierAccountID, pages)
	return numbers, complete, l.check(c, err)
}

// ListPrefix is Client.ListPrefix with the Client built on first use.
func (l *Lazy) ListPrefix(ctx context.Context, accountID, prefix string, pages int) ([]PhoneNumber, bool, error) {
	c, err := l.get(ctx)
	if err != nil {
		return nil, false, err
	}
	numbers, complete, err := c.ListPrefix(ctx, accountID, prefix, pages)
	return numbers, complete, l.check(c, err)
}

// RemoveNumbers is Client.RemoveNumbers with the Client built on first use.
func (l *Lazy) RemoveNumbers(ctx context.Context, accountID string, ids []string) error {
	c, err := l.get(ctx)
	if err != nil {
		return err
	}
	return l.check(c, c.RemoveNumbers(ctx, accountID, ids))
}

// RemovePeeringNumbers is Client.RemovePeeringNumbers with the Client built
// on first use.
func (l *Lazy) RemovePeeringNumbers(ctx context.Context, accountID string, carrierCode int, numbers []string) ([]PeeringFailure, error) {
	c, err := l.get(ctx)
	if err != nil {
		return nil, err
	}
	f, err := c.RemovePeeringNumbers(ctx, accountID, carrierCode, numbers)
	return f, l.check(c, err)
}

// get returns the Client, building it if needed. Every error is an *Error:
// Unavailable when Credentials fails (retry later), BadCredentials when it
// returns an empty ID or secret, Rejected when Config is invalid.
func (l *Lazy) get(ctx context.Context) (*Client, error) {
	l.mu.Lock()
	defer l.mu.Unlock()
	if l.client != nil {
		return l.client, nil
	}
	const op = "load credentials"
	cfg := l.Config
	if l.Credentials != nil {
		id, secret, err := l.Credentials(ctx)
		if err != nil {
			msg := err.Error()
			if secret != "" {
				msg = strings.ReplaceAll(msg, secret, "[redacted]")
			}
			return nil, &Error{Kind: Unavailable, op: op, Message: msg, cause: err}
		}
		cfg.ClientID, cfg.ClientSecret = id, secret
	}
	var missing []string
	// With a token source, it holds the credentials it needs.
	if cfg.Tokens == nil && strings.TrimSpace(cfg.ClientID) == "" {
		missing = append(missing, "client ID")
	}
	if cfg.Tokens == nil && cfg.ClientSecret == "" {
		missing = append(missing, "client secret")
	}
	if len(missing) > 0 {
		return nil, &Error{Kind: BadCredentials, op: op, Message: "no " + strings.Join(missing, " and ")}
	}
	c, err := New(cfg)
	if err != nil {
		// New names the invalid fields, never their values.
		return nil, &Error{Kind: Rejected, op: "configure", Message: strings.TrimPrefix(err.Error(), "zoom: ")}
	}
	l.client = c
	return c, nil
}

// check drops c when err says Zoom refused its credentials, so the next call
// loads them again. It returns err.
func (l *Lazy) check(c *Client, err error) error {
	if KindOf(err) != BadCredentials {
		return err
	}
	l.mu.Lock()
	if l.client == c {
		l.client = nil
	}
	l.mu.Unlock()
	return err
}

// CarrierPeeringNumbers is Client.CarrierPeeringNumbers with the Client
// built on first use.
func (l *Lazy) CarrierPeeringNumbers(ctx context.Context, carrierAccountID string, numbers []string) (map[string]PeeringNumber, error) {
	c, err := l.get(ctx)
	if err != nil {
		return nil, err
	}
	found, err := c.CarrierPeeringNumbers(ctx, carrierAccountID, numbers)
	return found, l.check(c, err)
}
