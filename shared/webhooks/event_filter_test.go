package webhooks

import (
	"testing"

	"numberrelease/shared/domain"
)

// Every status a number can move to can be filtered on, EXPIRED included.
func TestEveryStatusIsAnEventType(t *testing.T) {
	for _, s := range domain.Statuses {
		if err := CheckEvents([]string{TypeOf(s)}); err != nil {
			t.Errorf("a filter on %s is refused: %v", TypeOf(s), err)
		}
	}
	if err := CheckEvents([]string{"number.unknown"}); err == nil {
		t.Error("an unknown event type is accepted")
	}
}
