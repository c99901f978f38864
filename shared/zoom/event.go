package zoom

// EventNumberUnassigned is the event of the unbind notification. It is the
// project's own event, not Zoom's: Zoom publishes no webhook for a phone
// number being unassigned, so the number-management app that performs the
// unbind (the simulator, locally) sends it in Zoom's envelope and signature
// format.
const EventNumberUnassigned = "number_release.phone_number.unassigned"

// UnassignedEvent is the body of an EventNumberUnassigned notification:
// Zoom's envelope {event, event_ts (ms), payload:{account_id, object}}.
type UnassignedEvent struct {
	Event   string            `json:"event"`
	EventTS int64             `json:"event_ts"`
	Payload UnassignedPayload `json:"payload"`
}

// UnassignedPayload is the payload of an UnassignedEvent.
type UnassignedPayload struct {
	AccountID string           `json:"account_id"`
	Object    UnassignedObject `json:"object"`
}

// UnassignedObject names the number that was unassigned and from what.
type UnassignedObject struct {
	PhoneNumber      string   `json:"phone_number"`    // E.164
	PhoneNumberID    string   `json:"phone_number_id"` // Zoom's id
	PreviousAssignee Assignee `json:"previous_assignee"`
}

// EventAppDeauthorized is Zoom's event when an account's admin (or a user)
// removes an OAuth app: after it, none of the app's tokens for that account
// work and the app must delete the account's data.
const EventAppDeauthorized = "app_deauthorized"

// DeauthorizedEvent is the body of an EventAppDeauthorized notification:
// {event, event_ts (ms), payload:{account_id, user_id, signature,
// deauthorization_time, client_id, user_data_retention}}.
type DeauthorizedEvent struct {
	Event   string              `json:"event"`
	EventTS int64               `json:"event_ts"`
	Payload DeauthorizedPayload `json:"payload"`
}

// DeauthorizedPayload is the payload of a DeauthorizedEvent. Signature is
// Zoom's own opaque value (for its Data Compliance API), not the request's
// signature; UserDataRetention is "true", "false" or null.
type DeauthorizedPayload struct {
	AccountID           string  `json:"account_id"`
	UserID              string  `json:"user_id"`
	Signature           string  `json:"signature"`
	DeauthorizationTime string  `json:"deauthorization_time"` // RFC 3339, milliseconds, UTC
	ClientID            string  `json:"client_id"`
	UserDataRetention   *string `json:"user_data_retention"`
}
