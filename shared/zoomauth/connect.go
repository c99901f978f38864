package zoomauth

import (
	"context"
	"crypto/rand"
	"crypto/sha256"
	"encoding/base64"
	"encoding/hex"
	"errors"
	"fmt"
	"log/slog"
	"strings"
	"time"

	"numberrelease/shared/apperr"
	"numberrelease/shared/auth"
	"numberrelease/shared/domain"
	"numberrelease/shared/zoom"
)

// StateTTL is how long a Connect Zoom link stays usable.
const StateTTL = 10 * time.Minute

// maxCode bounds the authorization code and state a caller may send.
const maxCode = 2048

// Status of a customer's connection.
const (
	StatusConnected    = "connected"
	StatusNotConnected = "not_connected"
)

// View is a customer's Zoom connection as the API shows it.
type View struct {
	Status string `json:"status"`
	// Required says whether releases need the connection (customer mode);
	// in carrier mode the carrier's own app does every Zoom call.
	Required    bool       `json:"required"`
	AccountID   string     `json:"account_id,omitempty"`
	ConnectedAt *time.Time `json:"connected_at,omitempty"`
	ConnectedBy string     `json:"connected_by,omitempty"`
	ChangedAt   *time.Time `json:"changed_at,omitempty"`
	Reason      string     `json:"reason,omitempty"`
}

// AuthorizeView is where to send the admin's browser.
type AuthorizeView struct {
	URL       string    `json:"authorize_url"`
	ExpiresAt time.Time `json:"expires_at"`
}

// OAuthApp is what connecting needs from the Zoom app (zoom.App).
type OAuthApp interface {
	AuthorizeURL(redirectURI, state string) (string, error)
	Exchange(ctx context.Context, code, redirectURI string) (zoom.UserTokens, error)
	Me(ctx context.Context, access string) (zoom.Me, error)
	Revoke(ctx context.Context, token string) error
}

// Customers is what connecting needs of the tenants.
type Customers interface {
	GetCustomer(ctx context.Context, customerID string) (domain.Customer, error)
	// SetZoomAccount records the Zoom account a customer connected;
	// domain.ErrConflict when another customer has it.
	SetZoomAccount(ctx context.Context, customerID, accountID string) error
}

// States keeps the single-use state of Connect Zoom links.
type States interface {
	PutState(ctx context.Context, hash string, s PendingState) error
	// TakeState removes and returns the state; ok is false when there is
	// none (unknown, or used already).
	TakeState(ctx context.Context, hash string) (PendingState, bool, error)
}

// PendingState binds one Connect Zoom link to who asked for it.
type PendingState struct {
	CustomerID string    `dynamodbav:"customer_id"`
	Subject    string    `dynamodbav:"subject"`
	Expires    time.Time `dynamodbav:"expires"`
}

// Waker wakes a customer's releases that wait for its connection.
type Waker interface {
	WakeNotConnected(ctx context.Context, customerID string) (int, error)
}

// Connections are the Connect Zoom use cases.
type Connections struct {
	Grants interface {
		Get(ctx context.Context, accountID string) (Grant, bool, error)
		Put(ctx context.Context, gr Grant, prev int) error
		End(ctx context.Context, accountID string, version int, reason string, now time.Time) error
	}
	States    States
	Customers Customers
	Box       Box
	// App returns the OAuth app (credentials loaded lazily).
	App func(ctx context.Context) (OAuthApp, error)
	// RedirectURL is the customer app's address registered with the app.
	RedirectURL string
	// Required: releases need the customer's connection (customer mode).
	Required bool
	Waker    Waker
	Log      *slog.Logger
	Now      func() time.Time
}

func (c *Connections) now() time.Time {
	if c.Now != nil {
		return c.Now()
	}
	return time.Now()
}

func customerOf(p auth.Principal) (string, error) {
	if p.Role != auth.RoleCustomerAdmin || p.TenantID == "" {
		return "", apperr.New(apperr.Forbidden, "only a customer admin can manage the Zoom connection")
	}
	return p.TenantID, nil
}

// Status is the caller's customer's connection.
func (c *Connections) Status(ctx context.Context, p auth.Principal) (View, error) {
	v, err := c.status(ctx, p)
	v.Required = c.Required
	return v, err
}

func (c *Connections) status(ctx context.Context, p auth.Principal) (View, error) {
	customerID, err := customerOf(p)
	if err != nil {
		return View{}, err
	}
	cust, err := c.Customers.GetCustomer(ctx, customerID)
	if errors.Is(err, domain.ErrNotFound) || (err == nil && cust.ZoomAccountID == "") {
		return View{Status: StatusNotConnected, Reason: "never connected"}, nil
	}
	if err != nil {
		return View{}, fmt.Errorf("read customer: %w", err)
	}
	g, ok, err := c.Grants.Get(ctx, cust.ZoomAccountID)
	if err != nil {
		return View{}, err
	}
	if !ok {
		return View{Status: StatusNotConnected, AccountID: cust.ZoomAccountID, Reason: "never connected"}, nil
	}
	return viewOf(g), nil
}

func viewOf(g Grant) View {
	v := View{Status: StatusNotConnected, AccountID: g.AccountID, ConnectedBy: g.ConnectedBy, Reason: g.Reason}
	if g.Connected {
		v.Status, v.Reason = StatusConnected, ""
	}
	if !g.ConnectedAt.IsZero() {
		at := g.ConnectedAt
		v.ConnectedAt = &at
	}
	if !g.ChangedAt.IsZero() {
		at := g.ChangedAt
		v.ChangedAt = &at
	}
	return v
}

// Authorize starts Connect Zoom: a single-use state bound to the admin and
// the tenant, and Zoom's consent page to send the browser to.
func (c *Connections) Authorize(ctx context.Context, p auth.Principal) (AuthorizeView, error) {
	customerID, err := customerOf(p)
	if err != nil {
		return AuthorizeView{}, err
	}
	raw := make([]byte, 32)
	if _, err := rand.Read(raw); err != nil {
		return AuthorizeView{}, fmt.Errorf("random state: %w", err)
	}
	state := base64.RawURLEncoding.EncodeToString(raw)
	expires := c.now().Add(StateTTL)
	app, err := c.App(ctx)
	if err != nil {
		return AuthorizeView{}, zoomProblem(err)
	}
	u, err := app.AuthorizeURL(c.RedirectURL, state)
	if err != nil {
		return AuthorizeView{}, fmt.Errorf("authorize URL: %w", err)
	}
	if err := c.States.PutState(ctx, hashState(state), PendingState{CustomerID: customerID, Subject: p.Subject, Expires: expires}); err != nil {
		return AuthorizeView{}, err
	}
	return AuthorizeView{URL: u, ExpiresAt: expires}, nil
}

func hashState(state string) string {
	sum := sha256.Sum256([]byte(state))
	return hex.EncodeToString(sum[:])
}

// Complete finishes Connect Zoom with what Zoom sent back to the customer
// app: the state must be one this admin of this tenant started, unused and
// unexpired; the code is traded for tokens, Zoom says which account they
// belong to, and the sealed tokens replace any earlier authorization of
// that account. Releases waiting for the connection are woken.
func (c *Connections) Complete(ctx context.Context, p auth.Principal, code, state string) (View, error) {
	customerID, err := customerOf(p)
	if err != nil {
		return View{}, err
	}
	if err := checkParam("code", code); err != nil {
		return View{}, err
	}
	if err := checkParam("state", state); err != nil {
		return View{}, err
	}
	pending, ok, err := c.States.TakeState(ctx, hashState(state))
	if err != nil {
		return View{}, err
	}
	now := c.now()
	switch {
	case !ok:
		return View{}, apperr.New(apperr.Invalid, "state: unknown or already used; start Connect Zoom again")
	case now.After(pending.Expires):
		return View{}, apperr.New(apperr.Invalid, "state: expired (a Connect Zoom link lasts %s); start Connect Zoom again", StateTTL)
	case pending.CustomerID != customerID || pending.Subject != p.Subject:
		return View{}, apperr.New(apperr.Forbidden, "state: this Connect Zoom link was started by another admin or for another customer")
	}
	app, err := c.App(ctx)
	if err != nil {
		return View{}, zoomProblem(err)
	}
	toks, err := app.Exchange(ctx, code, c.RedirectURL)
	if err != nil {
		return View{}, zoomProblem(err)
	}
	me, err := app.Me(ctx, toks.Access)
	if err != nil {
		return View{}, zoomProblem(err)
	}
	account := me.AccountID
	if err := c.Customers.SetZoomAccount(ctx, customerID, account); err != nil {
		if errors.Is(err, domain.ErrConflict) {
			c.revoke(ctx, app, toks.Refresh)
			return View{}, apperr.New(apperr.Conflict, "Zoom account %s is already connected to another customer", account)
		}
		return View{}, err
	}
	sealed, err := c.Box.Seal(ctx, account, toks)
	if err != nil {
		return View{}, err
	}
	g := Grant{AccountID: account, CustomerID: customerID, Connected: true, Sealed: sealed, AccessExpires: toks.ExpiresAt,
		ConnectedAt: now, ConnectedBy: p.Actor(), ChangedAt: now}
	if err := c.put(ctx, g); err != nil {
		return View{}, err
	}
	c.Log.InfoContext(ctx, "zoom connected", "customer_id", customerID, "zoom_account_id", account, "by", p.Actor())
	if n, err := c.Waker.WakeNotConnected(ctx, customerID); err != nil {
		// The waits time out and check again by themselves.
		c.Log.WarnContext(ctx, "waiting releases not all woken", "customer_id", customerID, "woken", n, "error", err)
	} else if n > 0 {
		c.Log.InfoContext(ctx, "woke releases waiting for the zoom connection", "customer_id", customerID, "woken", n)
	}
	stored, _, err := c.Grants.Get(ctx, account)
	if err != nil {
		stored = g
	}
	v := viewOf(stored)
	v.Required = c.Required
	return v, nil
}

// put replaces the account's grant whatever its version, retrying when a
// refresh or an end lands in between.
func (c *Connections) put(ctx context.Context, g Grant) error {
	for range 5 {
		cur, _, err := c.Grants.Get(ctx, g.AccountID)
		if err != nil {
			return err
		}
		err = c.Grants.Put(ctx, g, cur.Version)
		if !errors.Is(err, ErrChanged) {
			return err
		}
	}
	return apperr.New(apperr.Unavailable, "the Zoom authorization kept changing; try again")
}

// Disconnect ends the caller's customer's authorization: marked not
// connected at once, and revoked at Zoom (best effort: a refusal there
// does not keep it connected here).
func (c *Connections) Disconnect(ctx context.Context, p auth.Principal) (View, error) {
	customerID, err := customerOf(p)
	if err != nil {
		return View{}, err
	}
	cust, err := c.Customers.GetCustomer(ctx, customerID)
	if err != nil && !errors.Is(err, domain.ErrNotFound) {
		return View{}, fmt.Errorf("read customer: %w", err)
	}
	if cust.ZoomAccountID == "" {
		return c.Status(ctx, p)
	}
	g, ok, err := c.Grants.Get(ctx, cust.ZoomAccountID)
	if err != nil {
		return View{}, err
	}
	if !ok || !g.Connected {
		return c.Status(ctx, p)
	}
	var toks zoom.UserTokens
	if len(g.Sealed) > 0 {
		toks, err = c.Box.Open(ctx, g.AccountID, g.Sealed)
		if err != nil {
			c.Log.WarnContext(ctx, "tokens of a disconnected authorization not readable; not revoked at Zoom", "zoom_account_id", g.AccountID, "error", err)
		}
	}
	if err := c.Grants.End(ctx, g.AccountID, 0, "disconnected by "+p.Actor(), c.now()); err != nil {
		return View{}, err
	}
	c.Log.InfoContext(ctx, "zoom disconnected", "customer_id", customerID, "zoom_account_id", g.AccountID, "by", p.Actor())
	if toks.Refresh != "" {
		if app, err := c.App(ctx); err == nil {
			c.revoke(ctx, app, toks.Refresh)
		}
	}
	return c.Status(ctx, p)
}

func (c *Connections) revoke(ctx context.Context, app OAuthApp, token string) {
	if err := app.Revoke(ctx, token); err != nil {
		c.Log.WarnContext(ctx, "zoom authorization not revoked at Zoom", "error", err)
	}
}

// Revocations records the authorizations Zoom ended: its app_deauthorized
// event (the webhook's use of this package).
type Revocations struct {
	Grants interface {
		End(ctx context.Context, accountID string, version int, reason string, now time.Time) error
	}
	Log *slog.Logger
}

// Deauthorized acts on Zoom's app_deauthorized event: the account's
// authorization is over. An account without one is ignored.
func (r *Revocations) Deauthorized(ctx context.Context, accountID string) error {
	err := r.Grants.End(ctx, accountID, 0, "the app was removed from the Zoom account (Zoom app_deauthorized)", time.Now())
	if errors.Is(err, ErrChanged) {
		r.Log.InfoContext(ctx, "app_deauthorized for an account without an authorization ignored", "zoom_account_id", accountID)
		return nil
	}
	if err != nil {
		return err
	}
	r.Log.InfoContext(ctx, "zoom authorization ended by app_deauthorized", "zoom_account_id", accountID)
	return nil
}

func checkParam(name, v string) error {
	switch {
	case strings.TrimSpace(v) == "":
		return apperr.New(apperr.Invalid, "%s: required", name)
	case len(v) > maxCode:
		return apperr.New(apperr.Invalid, "%s: longer than %d characters", name, maxCode)
	case strings.ContainsAny(v, " \t\r\n"):
		return apperr.New(apperr.Invalid, "%s: must not contain white space", name)
	}
	return nil
}

// zoomProblem turns a Zoom failure into the API's problem.
func zoomProblem(err error) error {
	switch zoom.KindOf(err) {
	case zoom.Rejected, zoom.NotConnected:
		return apperr.New(apperr.ZoomRefused, "Zoom refused the authorization: %v; start Connect Zoom again", err)
	case zoom.BadCredentials:
		return apperr.New(apperr.ZoomRefused, "Zoom refused the service's app credentials; tell the operator")
	case zoom.Throttled, zoom.Unavailable:
		return apperr.New(apperr.Unavailable, "Zoom is not reachable right now: %v", err)
	}
	return fmt.Errorf("zoom: %w", err)
}
