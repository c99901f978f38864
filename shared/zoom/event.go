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
