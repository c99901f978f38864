package zoom

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"net/url"
	"strconv"
	"strings"

	"numberrelease/shared/number"
)

const (
	// MaxRemoveIDs is how many ids one DELETE /phone/numbers accepts.
	MaxRemoveIDs = 20
	// listPageSize is the page size FindNumber asks for (Zoom's maximum).
	listPageSize = 100
	// maxPages bounds FindNumber's paging against a server that never stops.
	maxPages = 1000
)

// Assignee is what a phone number is assigned to in Zoom Phone. Type is one
// of user, callQueue, autoReceptionist, commonArea, emergencyNumberPool,
// companyLocation, meetingService, sharedLineGroup.
type Assignee struct {
	ID              string `json:"id"`
	Name            string `json:"name"`
	Type            string `json:"type"`
	ExtensionNumber string `json:"extension_number,omitempty"`
}

// UnmarshalJSON accepts extension_number as a string or as a JSON number
// (Zoom sends an integer).
func (a *Assignee) UnmarshalJSON(b []byte) error {
	var raw struct {
		ID              string          `json:"id"`
		Name            string          `json:"name"`
		Type            string          `json:"type"`
		ExtensionNumber json.RawMessage `json:"extension_number"`
	}
	if err := json.Unmarshal(b, &raw); err != nil {
		return err
	}
	*a = Assignee{ID: raw.ID, Name: raw.Name, Type: raw.Type}
	ext := bytes.TrimSpace(raw.ExtensionNumber)
	switch {
	case len(ext) == 0 || string(ext) == "null":
	case ext[0] == '"':
		if err := json.Unmarshal(ext, &a.ExtensionNumber); err != nil {
			return fmt.Errorf("extension_number: %w", err)
		}
	default:
		var n json.Number
		if err := json.Unmarshal(ext, &n); err != nil {
			return fmt.Errorf("extension_number: %w", err)
		}
		a.ExtensionNumber = n.String()
	}
	return nil
}

// PhoneNumber is a Zoom Phone number. Assignee is nil when the number is not
// assigned; Status (pending, available) says nothing about assignment.
type PhoneNumber struct {
	ID       string    `json:"id"`
	Number   string    `json:"number"`
	Status   string    `json:"status"`
	Assignee *Assignee `json:"assignee,omitempty"`
}

// listResponse is a page of GET /phone/numbers.
type listResponse struct {
	PhoneNumbers  []PhoneNumber `json:"phone_numbers"`
	NextPageToken string        `json:"next_page_token"`
	PageSize      int           `json:"page_size"`
	TotalRecords  int           `json:"total_records"`
}

// FindNumber looks e164 up in the Zoom account accountID and returns it with
// its assignee. A number Zoom does not list gives an *Error of Kind
// NotFound.
func (c *Client) FindNumber(ctx context.Context, accountID, e164 string) (PhoneNumber, error) {
	want, err := number.Parse(e164)
	if err != nil {
		return PhoneNumber{}, &Error{Kind: Rejected, op: "find number", Message: fmt.Sprintf("%q: %v", e164, err)}
	}
	q := url.Values{}
	q.Set("phone_number", want)
	q.Set("type", "all")
	q.Set("page_size", strconv.Itoa(listPageSize))
	seen := map[string]bool{}
	for range maxPages {
		_, body, err := c.call(ctx, accountID, labelList, http.MethodGet, "/phone/numbers", "/phone/numbers", q)
		if err != nil {
			return PhoneNumber{}, fmt.Errorf("find number %s: %w", want, err)
		}
		var page listResponse
		if err := json.Unmarshal(body, &page); err != nil {
			return PhoneNumber{}, fmt.Errorf("find number %s: %w", want,
				&Error{Kind: Unavailable, Status: http.StatusOK, op: "GET /phone/numbers", Message: "malformed response: " + err.Error()})
		}
		for _, pn := range page.PhoneNumbers {
			if got, err := number.Parse(pn.Number); err == nil && got == want {
				return pn, nil
			}
		}
		next := page.NextPageToken
		if next == "" || seen[next] {
			break
		}
		seen[next] = true
		q.Set("next_page_token", next)
	}
	return PhoneNumber{}, fmt.Errorf("find number %s: %w", want,
		&Error{Kind: NotFound, op: "find number", Message: "number not in the Zoom account"})
}

// RemoveNumbers removes the unassigned numbers ids from the Zoom account
// (DELETE /phone/numbers, Medium), at most MaxRemoveIDs per call. An id
// that no longer exists counts as removed, so a retry after a partial
// failure is safe. A still-assigned number stops the removal with an *Error
// of Kind Assigned (Zoom removes nothing of that call; earlier calls stay
// done).
func (c *Client) RemoveNumbers(ctx context.Context, accountID string, ids []string) error {
	clean := make([]string, 0, len(ids))
	dup := map[string]bool{}
	for _, id := range ids {
		id = strings.TrimSpace(id)
		if id == "" || strings.ContainsAny(id, ",") {
			return &Error{Kind: Rejected, op: "remove numbers", Message: fmt.Sprintf("invalid phone number id %q", id)}
		}
		if !dup[id] {
			dup[id] = true
			clean = append(clean, id)
		}
	}
	for start := 0; start < len(clean); start += MaxRemoveIDs {
		batch := clean[start:min(start+MaxRemoveIDs, len(clean))]
		if err := c.removeBatch(ctx, accountID, batch); err != nil {
			return fmt.Errorf("remove numbers: %w", err)
		}
	}
	return nil
}

// removeBatch deletes up to MaxRemoveIDs ids. Zoom refuses a whole call
// that names an id it does not know (HTTP 400, code 1001, "does not
// exist"), so then a multi-id batch is removed id by id and each such
// refusal means "already removed".
func (c *Client) removeBatch(ctx context.Context, accountID string, batch []string) error {
	err := c.deleteIDs(ctx, accountID, batch)
	if !missing(err) {
		return err
	}
	if len(batch) == 1 {
		return nil // already gone
	}
	for _, id := range batch {
		if err := c.deleteIDs(ctx, accountID, []string{id}); err != nil && !missing(err) {
			return err
		}
	}
	return nil
}

// deleteIDs is one DELETE /phone/numbers call.
func (c *Client) deleteIDs(ctx context.Context, accountID string, ids []string) error {
	q := url.Values{}
	q.Set("phone_numbers", strings.Join(ids, ","))
	_, _, err := c.call(ctx, accountID, labelRemove, http.MethodDelete, "/phone/numbers", "/phone/numbers", q)
	return err
}

// missing reports whether err is Zoom saying that a phone number does not
// exist: HTTP 404, or HTTP 400 with code 1001 or a "does not exist"
// message (what DELETE /phone/numbers answers). Only for the phone-number
// endpoints: elsewhere 1001 means other things (e.g. "Carrier not found").
func missing(err error) bool {
	var ze *Error
	if !errors.As(err, &ze) {
		return false
	}
	return ze.Kind == NotFound ||
		(ze.Status == http.StatusBadRequest && ze.Kind == Rejected && (ze.Code == CodeNotFound || looksMissing(ze.Message)))
}

// asKind returns err with its *Error's Kind set to k.
func asKind(err error, k Kind) error {
	var ze *Error
	if !errors.As(err, &ze) {
		return err
	}
	cp := *ze
	cp.Kind = k
	return &cp
}
