// Package expiry ends release requests nobody acted on: a number left
// PENDING_APPROVAL for longer than the time to live (TTL) becomes EXPIRED,
// and before that the customer's contacts are reminded (by default 7 days
// and 1 day before), once per reminder.
//
// The sweep reads the pending partitions of the InFlight index
// (store.PendingBefore), never the whole table: only the numbers pending
// since before the first reminder is due. Every write is the store's
// conditional write on the number's version and status, so a number
// approved, rejected or cancelled after it was read is left alone (the
// write is refused as a conflict). A reminder is recorded on the number
// (Number.Reminders) before its email is sent: a sweep run again, or two
// sweeps at once, send it at most once. The emails go out per customer and
// provider: one reminder for all of a provider's numbers due for the same
// reminder, one notice for all that expired in the run.
//
// Before it reads, every run takes one bounded step of the store's backfill
// of the pending keys (store.BackfillPending): a table written before the
// keys existed holds pending numbers the index does not list, and the
// backfill gives them their keys, once per table.
package expiry

import (
	"cmp"
	"context"
	"errors"
	"fmt"
	"log/slog"
	"slices"
	"strings"
	"time"

	"numberrelease/shared/domain"
	"numberrelease/shared/mail"
	"numberrelease/shared/store"
)

// Actor signs the sweep's history entries.
const Actor = "expiry"

// Defaults of the time to live and the reminders before it.
const (
	DefaultTTL = 30 * 24 * time.Hour
)

// DefaultReminders are when reminders go out before expiry.
var DefaultReminders = []time.Duration{7 * 24 * time.Hour, 24 * time.Hour}

// Store is what the sweep needs from storage (*store.Store).
type Store interface {
	PendingBefore(ctx context.Context, cutoff time.Time, fn func(domain.Number) error) error
	Apply(ctx context.Context, c domain.Change) (domain.Number, error)
	GetCustomer(ctx context.Context, customerID string) (domain.Customer, error)
}

// Backfiller gives the pending numbers of an older table their index keys
// (*store.Store), one bounded step a call.
type Backfiller interface {
	BackfillPending(ctx context.Context, lim store.BackfillLimits) (store.BackfillResult, error)
}

// DefaultBackfill bounds the backfill's step in one run: well under the
// function's 5-minute timeout, leaving the sweep its time. A page of 1,000
// items whose every one needs a write takes a few seconds more than the
// budget.
var DefaultBackfill = store.BackfillLimits{Pages: 200, PageSize: 1000, Budget: time.Minute}

// Sweeper expires stale requests and sends the reminders before.
type Sweeper struct {
	Store Store
	// Backfill, when set, takes one step of the backfill of the pending
	// keys before every run (nil: none).
	Backfill Backfiller
	// BackfillLimits bound that step (zero: DefaultBackfill).
	BackfillLimits store.BackfillLimits
	// Mailer sends the emails; nil when no sender is configured: the
	// sweep still expires and records reminders, and logs that no email
	// went out.
	Mailer mail.Mailer
	// Events publishes each reminder as a notification event (nil: none).
	Events Notifier
	// TTL is how long a number may stay PENDING_APPROVAL.
	TTL time.Duration
	// Reminders are how long before expiry each reminder goes out
	// (durations shorter than TTL; any order).
	Reminders []time.Duration
	Log       *slog.Logger
	Now       func() time.Time
}

// Report counts what one run found and did.
type Report struct {
	Checked  int `json:"checked"`
	Reminded int `json:"reminded"`
	Expired  int `json:"expired"`
	Emails   int `json:"emails"`
	Events   int `json:"events"`
	Skipped  int `json:"skipped"`
	// Backfilled pending numbers got their index keys in this run.
	Backfilled int `json:"backfilled"`
}

// Check validates the configuration, naming the field at fault.
func (s *Sweeper) Check() error {
	if s.TTL <= 0 {
		return fmt.Errorf("expiry TTL: %s; must be positive", s.TTL)
	}
	for i, r := range s.Reminders {
		if r <= 0 || r >= s.TTL {
			return fmt.Errorf("expiry reminders[%d]: %s; must be positive and shorter than the TTL %s", i, r, s.TTL)
		}
	}
	return nil
}

// group is what one email tells one customer about one provider's numbers.
type group struct {
	customerID, providerID string
	numbers                []string
	at                     time.Time // the earliest expiry among them
}

// Run expires every number pending for longer than TTL and sends the
// reminders that are due.
func (s *Sweeper) Run(ctx context.Context) (Report, error) {
	var rep Report
	if err := s.Check(); err != nil {
		return rep, err
	}
	rep.Backfilled = s.backfill(ctx)
	now := s.now()
	first := time.Duration(0)
	for _, r := range s.Reminders {
		first = max(first, r)
	}
	reminders := map[[2]string]*group{}
	expired := map[[2]string]*group{}
	add := func(m map[[2]string]*group, n domain.Number, at time.Time) {
		k := [2]string{n.CustomerID, n.ProviderID}
		g := m[k]
		if g == nil {
			g = &group{customerID: n.CustomerID, providerID: n.ProviderID, at: at}
			m[k] = g
		}
		g.numbers = append(g.numbers, n.Number)
		if at.Before(g.at) {
			g.at = at
		}
	}
	err := s.Store.PendingBefore(ctx, now.Add(-(s.TTL - first)), func(n domain.Number) error {
		rep.Checked++
		since := n.PendingSince
		if since.IsZero() {
			since = n.UpdatedAt
		}
		deadline := since.Add(s.TTL)
		if !now.Before(deadline) {
			ok, err := s.expire(ctx, n)
			switch {
			case err != nil:
				rep.Skipped++
				s.Log.ErrorContext(ctx, "expire number", "customer_id", n.CustomerID, "number", n.Number, "err", err)
			case ok:
				rep.Expired++
				add(expired, n, deadline)
			}
			return nil
		}
		due := 0
		for _, r := range s.Reminders {
			if !now.Before(deadline.Add(-r)) {
				due++
			}
		}
		if due <= n.Reminders {
			return nil
		}
		ok, err := s.remind(ctx, n, due)
		switch {
		case err != nil:
			rep.Skipped++
			s.Log.ErrorContext(ctx, "record reminder", "customer_id", n.CustomerID, "number", n.Number, "err", err)
		case ok:
			rep.Reminded++
			add(reminders, n, deadline)
		}
		return nil
	})
	for _, g := range sorted(reminders) {
		if s.Events != nil {
			if err := s.Events.Remind(ctx, Reminder{CustomerID: g.customerID, ProviderID: g.providerID, Numbers: g.numbers, ExpiresAt: g.at.UTC()}); err != nil {
				s.Log.ErrorContext(ctx, "reminder event not published", "customer_id", g.customerID, "provider_id", g.providerID, "err", err)
			} else {
				rep.Events++
			}
		}
		rep.Emails += s.email(ctx, g, reminderEmail(g))
	}
	for _, g := range sorted(expired) {
		rep.Emails += s.email(ctx, g, expiredEmail(g))
	}
	s.Log.InfoContext(ctx, "expiry sweep", "backfilled", rep.Backfilled, "checked", rep.Checked, "reminded", rep.Reminded, "expired", rep.Expired,
		"emails", rep.Emails, "events", rep.Events, "skipped", rep.Skipped)
	return rep, err
}

// backfill takes one step of the backfill of the pending keys and says how
// many numbers it fixed. An error is logged: the sweep goes on, and the
// next run resumes the backfill.
func (s *Sweeper) backfill(ctx context.Context) int {
	if s.Backfill == nil {
		return 0
	}
	lim := s.BackfillLimits
	if lim == (store.BackfillLimits{}) {
		lim = DefaultBackfill
	}
	res, err := s.Backfill.BackfillPending(ctx, lim)
	if err != nil {
		s.Log.ErrorContext(ctx, "pending keys backfill failed; the sweep goes on", "fixed", res.Fixed, "err", err)
		return res.Fixed
	}
	if res.Pages > 0 { // once done, a run says nothing
		s.Log.InfoContext(ctx, "pending keys backfill", "fixed", res.Fixed, "skipped", res.Skipped,
			"scanned", res.Scanned, "pages", res.Pages, "done", res.Done)
	}
	return res.Fixed
}

func (s *Sweeper) now() time.Time {
	if s.Now != nil {
		return s.Now()
	}
	return time.Now()
}

// expire moves n to EXPIRED unless it changed since it was read (false).
func (s *Sweeper) expire(ctx context.Context, n domain.Number) (bool, error) {
	why := fmt.Sprintf("nobody approved, rejected or cancelled the request within %s, so it expired; the provider may ask again", Human(s.TTL))
	next := n
	next.Status, next.Message, next.TaskToken = domain.Expired, why, ""
	if _, err := s.Store.Apply(ctx, domain.Change{Prev: n, Next: next, Actor: Actor, Why: why}); err != nil {
		if errors.Is(err, domain.ErrConflict) {
			return false, nil // acted on meanwhile
		}
		return false, fmt.Errorf("expire %s: %w", n.Number, err)
	}
	return true, nil
}

// remind records that due reminders were sent for n, unless it changed
// since it was read (false): then someone acted, or another run did.
func (s *Sweeper) remind(ctx context.Context, n domain.Number, due int) (bool, error) {
	next := n
	next.Reminders = due
	if _, err := s.Store.Apply(ctx, domain.Change{Prev: n, Next: next, Actor: Actor, Why: "expiry reminder"}); err != nil {
		if errors.Is(err, domain.ErrConflict) {
			return false, nil
		}
		return false, fmt.Errorf("record reminder of %s: %w", n.Number, err)
	}
	return true, nil
}

type message struct{ subject, body string }

// email sends m to g's customer's contacts; it reports 1 when sent.
func (s *Sweeper) email(ctx context.Context, g *group, m message) int {
	log := s.Log.With("customer_id", g.customerID, "provider_id", g.providerID, "numbers", len(g.numbers), "subject", m.subject)
	if s.Mailer == nil {
		log.WarnContext(ctx, "email not sent: no sender address is configured")
		return 0
	}
	c, err := s.Store.GetCustomer(ctx, g.customerID)
	if err != nil {
		log.ErrorContext(ctx, "email not sent: read the customer", "err", err)
		return 0
	}
	if len(c.ContactEmails) == 0 {
		log.WarnContext(ctx, "email not sent: the customer has no contact emails")
		return 0
	}
	if err := s.Mailer.Send(ctx, c.ContactEmails, m.subject, m.body); err != nil {
		log.ErrorContext(ctx, "email not sent", "err", err)
		return 0
	}
	log.InfoContext(ctx, "email sent", "recipients", len(c.ContactEmails))
	return 1
}

func sorted(m map[[2]string]*group) []*group {
	out := make([]*group, 0, len(m))
	for _, g := range m {
		slices.Sort(g.numbers)
		out = append(out, g)
	}
	slices.SortFunc(out, func(a, b *group) int {
		return cmp.Or(strings.Compare(a.customerID, b.customerID), strings.Compare(a.providerID, b.providerID))
	})
	return out
}

// dateLayout is how the emails write a time.
const dateLayout = "2 January 2006 15:04 MST"

func plural(n int) string {
	if n == 1 {
		return "1 number"
	}
	return fmt.Sprintf("%d numbers", n)
}

func reminderEmail(g *group) message {
	verb, they := "await", "they expire"
	if len(g.numbers) == 1 {
		verb, they = "awaits", "it expires"
	}
	return message{
		subject: fmt.Sprintf("Number Release: %s asked for by %s %s your approval", plural(len(g.numbers)), g.providerID, verb),
		body: fmt.Sprintf("%s asked for by %s %s your approval; %s on %s.\n\n%s\n\n"+
			"Approve or reject them in Number Release before then. A request nobody acts on expires, and the provider may ask again.\n",
			plural(len(g.numbers)), g.providerID, verb, they, g.at.UTC().Format(dateLayout), strings.Join(g.numbers, "\n")),
	}
}

func expiredEmail(g *group) message {
	return message{
		subject: fmt.Sprintf("Number Release: the release request of %s by %s expired", plural(len(g.numbers)), g.providerID),
		body: fmt.Sprintf("%s asked for by %s expired on %s: nobody approved or rejected the request in time.\n\n%s\n\n"+
			"The numbers stay in your account. The provider may ask for them again.\n",
			plural(len(g.numbers)), g.providerID, g.at.UTC().Format(dateLayout), strings.Join(g.numbers, "\n")),
	}
}

// Human writes a duration as people say it: "30 days", "1 day", "20s".
func Human(d time.Duration) string {
	const day = 24 * time.Hour
	switch {
	case d == day:
		return "1 day"
	case d > day && d%day == 0:
		return fmt.Sprintf("%d days", d/day)
	}
	return d.String()
}

// ParseReminders reads reminder offsets as whole seconds separated by
// commas ("604800,86400"); "" is no reminders. field names the setting in
// an error.
func ParseReminders(field, s string) ([]time.Duration, error) {
	var out []time.Duration
	for i, part := range strings.Split(s, ",") {
		part = strings.TrimSpace(part)
		if part == "" && s == "" {
			return nil, nil
		}
		var n int64
		if _, err := fmt.Sscanf(part, "%d", &n); err != nil || fmt.Sprint(n) != part || n <= 0 {
			return nil, fmt.Errorf("%s[%d]: %q is not a positive whole number of seconds", field, i, part)
		}
		out = append(out, time.Duration(n)*time.Second)
	}
	return out, nil
}
