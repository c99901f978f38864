// Package zoomsim is an in-memory Zoom Phone simulator for local mode and
// tests: server-to-server OAuth, the phone-number endpoints the zoom client
// uses, the unbind endpoints (which also send the project's signed unassign
// notification), admin endpoints to seed and change numbers silently, and
// injectable faults. Everything is served under /zoom-sim/ (SPEC §4).
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
	notifyTimeout        = 5 * time.Second
	numberStatus         = "available"
	idPrefix             = "pn_"
	tokenScope           = "phone:read:admin phone:write:admin"
	maxAdminBody         = 1 << 20
	defaultPageSize      = 30
	maxPageSize          = 100
	maxRemoveIDs         = zoom.MaxRemoveIDs
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
}

// AdminNumber is a number as the admin endpoints show it.
type AdminNumber struct {
	AccountID string         `json:"account_id"`
	ID        string         `json:"id"`
	Number    string         `json:"number"`
	Assignee  *zoom.Assignee `json:"assignee,omitempty"`
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
}

// entry is one number's state.
type entry struct {
	accountID string
	id        string
	number    string
	assignee  *zoom.Assignee
}

// session is an issued access token.
type session struct {
	accountID string
	expires   time.Time
}

// New returns a simulator with no numbers.
func New(cfg Config) *Sim {
	s := &Sim{
		cfg:     cfg,
		now:     cfg.Now,
		hc:      cfg.HTTPClient,
		numbers: map[string]*entry{},
		byID:    map[string]string{},
		tokens:  map[string]session{},
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
	return s
}

// Put adds or replaces a number in accountID (moving it if another account
// held it) with an optional assignee. The number is normalised to E.164;
// input that cannot be normalised is stored as given.
func (s *Sim) Put(accountID, e164 string, assignee *zoom.Assignee) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.putLocked(accountID, e164, assignee)
}

// putLocked is Put with s.mu held; it reports whether the number existed.
func (s *Sim) putLocked(accountID, raw string, assignee *zoom.Assignee) (AdminNumber, bool) {
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
	return AdminNumber{AccountID: e.accountID, ID: e.id, Number: e.number, Assignee: cloneAssignee(e.assignee)}
}

func cloneAssignee(a *zoom.Assignee) *zoom.Assignee {
	if a == nil {
		return nil
	}
	c := *a
	return &c
}
