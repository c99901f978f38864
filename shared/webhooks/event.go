package webhooks

import (
	"crypto/rand"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"slices"
	"strconv"
	"strings"
	"time"

	"numberrelease/shared/domain"
	"numberrelease/shared/notify"
)

// TypeTest is the type of the test event (POST /provider/v1/webhook/test).
const TypeTest = "webhook.test"

// EventTypes are the event types a registration may filter on: one per
// status a number can move to ("number." and the status in lower case),
// and the test event, which is always sent when asked for.
var EventTypes = func() []string {
	var out []string
	for _, s := range domain.Statuses {
		out = append(out, TypeOf(s))
	}
	return out
}()

// TypeOf is the event type of a change to status s.
func TypeOf(s domain.Status) string { return "number." + strings.ToLower(string(s)) }

// CheckEvents validates a registration's event filter: known types, no
// duplicates; empty means every type. It returns the error naming the
// offending element.
func CheckEvents(types []string) error {
	seen := map[string]bool{}
	for i, t := range types {
		if !slices.Contains(EventTypes, t) {
			return fmt.Errorf("events[%d]: unknown event type %q; one of %s", i, t, strings.Join(EventTypes, ", "))
		}
		if seen[t] {
			return fmt.Errorf("events[%d]: %q is listed twice", i, t)
		}
		seen[t] = true
	}
	return nil
}

// Payload is the JSON body of every delivery (Standard Webhooks' shape).
type Payload struct {
	Type      string    `json:"type"`
	Timestamp time.Time `json:"timestamp"`
	Data      any       `json:"data"`
}

// ChangeData is the data of a status-change event.
type ChangeData struct {
	Number         string    `json:"number"`
	CustomerID     string    `json:"customer_id"`
	ProviderID     string    `json:"provider_id"`
	RequestID      string    `json:"request_id,omitempty"`
	Status         string    `json:"status"`
	PreviousStatus string    `json:"previous_status,omitempty"`
	Message        string    `json:"message"`
	At             time.Time `json:"at"`
	// Version is the change's place in the number's history (1, 2, ...):
	// receivers order by it; Attempt is the customer's approval attempt.
	Version int `json:"version"`
	Attempt int `json:"attempt,omitempty"`
}

// TestData is the data of the test event.
type TestData struct {
	ProviderID string `json:"provider_id"`
	Message    string `json:"message"`
}

// Message is one delivery: its stable id (webhook-id), type and body.
type Message struct {
	ID, Type, Number, CustomerID string
	Body                         []byte
}

// ChangeMessage builds the message of a status change. Its id is derived
// from (customer, number, version), so every retry and every duplicate of
// the same change carries the same webhook-id and receivers deduplicate by
// it.
func ChangeMessage(d notify.Detail) (Message, error) {
	typ := TypeOf(domain.Status(d.To))
	body, err := json.Marshal(Payload{Type: typ, Timestamp: d.At.UTC(), Data: ChangeData{
		Number: d.Number, CustomerID: d.CustomerID, ProviderID: d.ProviderID, RequestID: d.RequestID,
		Status: d.To, PreviousStatus: d.From, Message: d.Why, At: d.At.UTC(), Version: d.Version, Attempt: d.Attempt,
	}})
	if err != nil {
		return Message{}, fmt.Errorf("encode webhook payload: %w", err)
	}
	sum := sha256.Sum256([]byte(d.CustomerID + "\x00" + d.Number + "\x00" + strconv.Itoa(d.Version)))
	return Message{ID: "msg_" + hex.EncodeToString(sum[:16]), Type: typ, Number: d.Number, CustomerID: d.CustomerID, Body: body}, nil
}

// TestMessage builds a fresh test event for providerID.
func TestMessage(providerID string, now time.Time) (Message, error) {
	b := make([]byte, 16)
	if _, err := rand.Read(b); err != nil {
		return Message{}, fmt.Errorf("test event id: %w", err)
	}
	body, err := json.Marshal(Payload{Type: TypeTest, Timestamp: now.UTC(), Data: TestData{
		ProviderID: providerID, Message: "This is a test event from Number Release.",
	}})
	if err != nil {
		return Message{}, fmt.Errorf("encode test payload: %w", err)
	}
	return Message{ID: "msg_test_" + hex.EncodeToString(b), Type: TypeTest, Body: body}, nil
}

// Wants reports whether a registration with filter events takes typ.
func Wants(events []string, typ string) bool {
	return len(events) == 0 || typ == TypeTest || slices.Contains(events, typ)
}
