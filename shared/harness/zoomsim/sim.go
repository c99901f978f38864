// Package zoomsim is an in-memory Zoom Phone simulator for local mode and
// tests: server-to-server OAuth, a customer's authorization of the app (the
// authorization code grant with rotating refresh tokens, revocation and the
// app_deauthorized event), the Number Management phone-number
// endpoints the zoom client uses, the Provider Exchange removal of peering
// numbers and the carrier's view of them (for carriers' own accounts,
// AddCarrier), the unbind
// endpoints (which also send the project's signed unassign notification),
// admin endpoints to seed and change numbers silently, Zoom's per-account
// per-label rate limits (when configured), and injectable faults (errors,
// 429 bursts, latency). Everything is served under /zoom-sim/ (Sim.Handler).
package zoomsim

import (
	"net/http"
	"sort"
	"strings"
	"sync"
	"time"

	"numberrelease/shared/number"
	"numberrelease/shared/zoom"
)

const (
	defaultTokenTTL      = 3600 * time.Second
	defaultRefreshTTL    = 90 * 24 * time.Hour
	authCodeTTL          = 5 * time.Minute
	notifyTimeout        = 5 * time.Second
	numberStatus         = "Normal"
	idPrefix             = "pn_"
	tokenScope           = "number_management:read:list_numbers:admin number_management:delete:numbers:admin number_management:delete:peering_number:admin"
	maxAdminBody         = 1 << 20
	defaultPageSize      = 30
	maxPageSize          = 200
	pageTokenTTL         = 15 * time.Minute
	maxRemoveIDs         = zoom.MaxRemoveIDs
	maxPeeringNumbers    = zoom.MaxPeeringNumbers
	webhookContentType   = "application/json"
	problemContentType   = "application/problem+json"
	zoomErrorContentType = "application/json;charset=UTF-8"
)

// Config configures a Sim.
type Config struct {
	// ClientID and ClientSecret are the only OAuth credentials accepted.
	ClientID, ClientSecret string
	// WebhookURL receives unbind notifications, e.g.
	// http://localhost:8080/zoom/webhook; "" sends none.
	WebhookURL string
	// WebhookSecret signs notifications (zoomsig.Sign).
	WebhookSecret []byte
	// HTTPClient sends notifications; optional.
	HTTPClient *http.Client
	// Now is optional; it defaults to time.Now.
	Now func() time.Time
	// TokenTTL is the access tokens' lifetime; default 3600 s.
	TokenTTL time.Duration
	// RateLimits, when set, enforces Zoom's per-second limits per account
	// and label (see RateLimits); nil enforces none.
	RateLimits *RateLimits
	// RedirectURIs are the OAuth app's registered redirect URIs (Zoom's
	// "OAuth allow list"); a redirect_uri must equal one of them. Empty
	// allows any http(s) URL on localhost, 127.0.0.1 or [::1].
	RedirectURIs []string
	// RefreshTokenTTL is the refresh tokens' lifetime; default 90 days.
	RefreshTokenTTL time.Duration
	// VerificationToken, when set, is sent in the Authorization header of
	// every notification, as Zoom's legacy (deprecated) Verification Token.
	VerificationToken string
}

// AdminNumber is a number as the admin endpoints show it.
type AdminNumber struct {
	AccountID string         `json:"account_id"`
	ID        string         `json:"id"`
	Number    string         `json:"number"`
	Assignee  *zoom.Assignee `json:"assignee,omitempty"`
	// CarrierCode is the carrier that added the number through the
	// Provider Exchange; 0 for a number that is not a peering number.
	CarrierCode int `json:"carrier_code,omitempty"`
}

// Sim is the simulator. It is safe for concurrent use.
type Sim struct {
	cfg Config
	now func() time.Time
	hc  *http.Client

	mu      sync.Mutex
	numbers map[string]*entry  // by E.164 number
	byID    map[string]string  // id → number
	tokens  map[string]session // access token → session
	fault   Fault
	// carriers are the carrier codes that ever added a number or were
	// given an account: the carriers "peered" with this Zoom.
	carriers map[int]bool
	// carrierAccounts are the carriers' own Zoom accounts (AddCarrier):
	// account id → carrier code. A token of such an account acts as
	// that carrier.
	carrierAccounts map[string]int

	limits *limiter

	// The customer-authorized (authorization code) OAuth state.
	codes   map[string]authCode      // authorization code → grant it starts
	refresh map[string]refreshToken  // refresh token → what it renews
	grants  map[grantKey]*grantStats // per account and app
}

// entry is one number's state.
type entry struct {
	accountID string
	id        string
	number    string
	assignee  *zoom.Assignee
	carrier   int // carrier code of a peering number, else 0
}

// session is an issued access token. A user-level token (user) comes from
// a customer's authorization of clientID and acts as userID; a
// server-to-server token does not.
type session struct {
	accountID string
	userID    string
	clientID  string
	user      bool
	expires   time.Time
}

// New returns a simulator with no numbers.
func New(cfg Config) *Sim {
	s := &Sim{
		cfg:      cfg,
		now:      cfg.Now,
		hc:       cfg.HTTPClient,
		numbers:  map[string]*entry{},
		byID:     map[string]string{},
		tokens:   map[string]session{},
		carriers: map[int]bool{},
		limits:   newLimiter(cfg.RateLimits),

		carrierAccounts: map[string]int{},

		codes:   map[string]authCode{},
		refresh: map[string]refreshToken{},
		grants:  map[grantKey]*grantStats{},
	}
	if s.now == nil {
		s.now = time.Now
	}
	if s.hc == nil {
		s.hc = &http.Client{Timeout: notifyTimeout}
	}
	if s.cfg.TokenTTL <= 0 {
		s.cfg.TokenTTL = defaultTokenTTL
	}
	if s.cfg.RefreshTokenTTL <= 0 {
		s.cfg.RefreshTokenTTL = defaultRefreshTTL
	}
	return s
}

// Put adds or replaces a number in accountID (moving it if another account
// held it) with an optional assignee. The number is normalised to E.164;
// input that cannot be normalised is stored as given. It is not a peering
// number.
func (s *Sim) Put(accountID, e164 string, assignee *zoom.Assignee) {
	s.PutPeering(accountID, e164, 0, assignee)
}

// PutPeering is Put for a number the carrier carrierCode added through the
// Provider Exchange (0: not a peering number).
func (s *Sim) PutPeering(accountID, e164 string, carrierCode int, assignee *zoom.Assignee) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.putLocked(accountID, e164, carrierCode, assignee)
}

// putLocked is PutPeering with s.mu held; it reports whether the number
// existed.
func (s *Sim) putLocked(accountID, raw string, carrierCode int, assignee *zoom.Assignee) (AdminNumber, bool) {
	n, err := number.Parse(raw)
	if err != nil {
		n = raw
	}
	e, existed := s.numbers[n]
	if !existed {
		e = &entry{id: numberID(n), number: n}
		s.numbers[n] = e
		s.byID[e.id] = n
	}
	e.accountID = accountID
	e.carrier = carrierCode
	if carrierCode > 0 {
		s.carriers[carrierCode] = true
	}
	e.assignee = cloneAssignee(assignee)
	return e.admin(), existed
}

// Numbers returns a snapshot of every number, sorted by account then number.
func (s *Sim) Numbers() []AdminNumber {
	s.mu.Lock()
	defer s.mu.Unlock()
	out := make([]AdminNumber, 0, len(s.numbers))
	for _, e := range s.numbers {
		out = append(out, e.admin())
	}
	sort.Slice(out, func(i, j int) bool {
		if out[i].AccountID != out[j].AccountID {
			return out[i].AccountID < out[j].AccountID
		}
		return out[i].Number < out[j].Number
	})
	return out
}

// numberID derives a number's Zoom-style id: "pn_" and its digits.
func numberID(e164 string) string {
	return idPrefix + strings.Map(func(r rune) rune {
		if r >= '0' && r <= '9' {
			return r
		}
		return -1
	}, e164)
}

// lookupLocked finds a number of accountID by id or by number (with or
// without '+'). s.mu must be held.
func (s *Sim) lookupLocked(accountID, idOrNumber string) *entry {
	key := idOrNumber
	if n, ok := s.byID[idOrNumber]; ok {
		key = n
	} else if n, err := number.Parse(idOrNumber); err == nil {
		key = n
	}
	e, ok := s.numbers[key]
	if !ok || (e.accountID != accountID && accountID != consoleAccount) {
		return nil
	}
	return e
}

func (e *entry) admin() AdminNumber {
	return AdminNumber{AccountID: e.accountID, ID: e.id, Number: e.number, Assignee: cloneAssignee(e.assignee), CarrierCode: e.carrier}
}

func cloneAssignee(a *zoom.Assignee) *zoom.Assignee {
	if a == nil {
		return nil
	}
	c := *a
	return &c
}
