// Package outbox is the local system's stand-in for Amazon SES: a
// mail.Mailer that sends nothing and keeps every message, so a test or a
// person can read what would have gone out (GET /local/outbox).
package outbox

import (
	"context"
	"encoding/json"
	"errors"
	"net/http"
	"slices"
	"sync"
	"time"

	"numberrelease/shared/mail"
)

// Message is one email as the outbox keeps and serves it.
type Message struct {
	To      []string  `json:"to"`
	Subject string    `json:"subject"`
	Body    string    `json:"body"`
	SentAt  time.Time `json:"sent_at"`
}

// Outbox keeps every message sent through it, oldest first.
type Outbox struct {
	mu   sync.Mutex
	msgs []Message
	// Now stamps messages (time.Now when nil).
	Now func() time.Time
}

var _ mail.Mailer = (*Outbox)(nil)

// Send keeps the message; like SES it refuses one with no recipients.
func (o *Outbox) Send(_ context.Context, to []string, subject, body string) error {
	if len(to) == 0 {
		return errors.New("send email: no recipients")
	}
	now := time.Now
	if o.Now != nil {
		now = o.Now
	}
	o.mu.Lock()
	defer o.mu.Unlock()
	o.msgs = append(o.msgs, Message{To: slices.Clone(to), Subject: subject, Body: body, SentAt: now().UTC()})
	return nil
}

// Messages returns a copy of every message kept, oldest first.
func (o *Outbox) Messages() []Message {
	o.mu.Lock()
	defer o.mu.Unlock()
	return slices.Clone(o.msgs)
}

// Handler serves the messages as a JSON list (GET /local/outbox).
func (o *Outbox) Handler() http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		msgs := o.Messages()
		if msgs == nil {
			msgs = []Message{}
		}
		w.Header().Set("Content-Type", "application/json")
		_ = json.NewEncoder(w).Encode(msgs)
	})
}
