package expiry

import (
	"context"
	"encoding/json"
	"fmt"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/eventbridge"
	"github.com/aws/aws-sdk-go-v2/service/eventbridge/types"

	"numberrelease/shared/notify"
)

// ReminderDetailType is the detail-type of a reminder event, on the same
// bus and with the same source as the status changes (notify.Source). The
// status changes' rules (webhooks, carriers' buses) match their own
// detail-type only, so reminders reach the archive and the event log and
// whoever subscribes to them.
const ReminderDetailType = "Number Release Expiry Reminder"

// Reminder is the detail of a reminder event: a provider's numbers at a
// customer that await approval and expire at ExpiresAt (the earliest of
// them), as the reminder email tells the customer's contacts.
type Reminder struct {
	CustomerID string    `json:"customer_id"`
	ProviderID string    `json:"provider_id"`
	Numbers    []string  `json:"numbers"`
	ExpiresAt  time.Time `json:"expires_at"`
}

// Notifier publishes reminders as notification events.
type Notifier interface {
	Remind(ctx context.Context, r Reminder) error
}

// Events publishes reminders on an EventBridge bus.
type Events struct {
	Client notify.EventBridge
	Bus    string
}

var _ Notifier = (*Events)(nil)

// Remind puts one reminder event on the bus.
func (e *Events) Remind(ctx context.Context, r Reminder) error {
	detail, err := json.Marshal(r)
	if err != nil {
		return fmt.Errorf("encode reminder of %s: %w", r.CustomerID, err)
	}
	out, err := e.Client.PutEvents(ctx, &eventbridge.PutEventsInput{Entries: []types.PutEventsRequestEntry{{
		EventBusName: aws.String(e.Bus), Source: aws.String(notify.Source), DetailType: aws.String(ReminderDetailType),
		Detail: aws.String(string(detail)), Time: aws.Time(time.Now()),
	}}})
	if err != nil {
		return fmt.Errorf("publish reminder of %s: %w", r.CustomerID, err)
	}
	if out.FailedEntryCount > 0 && len(out.Entries) > 0 {
		return fmt.Errorf("publish reminder of %s: %s %s", r.CustomerID, aws.ToString(out.Entries[0].ErrorCode), aws.ToString(out.Entries[0].ErrorMessage))
	}
	return nil
}
