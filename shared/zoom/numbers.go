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

// The Number Management API's phone-number endpoints (Zoom's changelog of
// 2 October 2025 deprecates the Phone API's /phone/numbers in their favour).
const (
	numbersRoute = "/number_management/numbers"
	// MaxRemoveIDs is how many ids one DELETE /number_management/numbers
	// accepts (its numbers parameter has maxItems 10).
	MaxRemoveIDs = 10
	// listPageSize is the page size FindNumber asks for (Zoom's maximum).
	listPageSize = 200
	// maxPages bounds FindNumber's paging against a server that never stops.
	maxPages = 1000
)

// Assignee is what a phone number is assigned to in Zoom. Type keeps the
// Phone API's spelling (user, callQueue, autoReceptionist, commonArea,
// emergencyNumberPool, companyLocation, meetingService, sharedLineGroup,
// ...): the Number Management API's assigned_to_type (User, CallQueue, ...)
// with its first letter in lower case.
type Assignee struct {
	ID              string `json:"id"`
	Name            string `json:"name"`
	Type            string `json:"type"`
	ExtensionNumber string `json:"extension_number,omitempty"`
}

// UnmarshalJSON accepts extension_number as a string or as a JSON number
// (the Phone API sent an integer).
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
	ext, err := extensionNumber(raw.ExtensionNumber)
	if err != nil {
		return err
	}
	*a = Assignee{ID: raw.ID, Name: raw.Name, Type: raw.Type, ExtensionNumber: ext}
	return nil
}

// extensionNumber reads an extension number given as a JSON string, a
// JSON number, null or nothing.
func extensionNumber(raw json.RawMessage) (string, error) {
	ext := bytes.TrimSpace(raw)
	switch {
	case len(ext) == 0 || string(ext) == "null":
		return "", nil
	case ext[0] == '"':
		var s string
		if err := json.Unmarshal(ext, &s); err != nil {
			return "", fmt.Errorf("extension_number: %w", err)
		}
		return s, nil
	default:
		var n json.Number
		if err := json.Unmarshal(ext, &n); err != nil {
			return "", fmt.Errorf("extension_number: %w", err)
		}
		return n.String(), nil
	}
}

// PhoneNumber is a phone number of a Zoom account. Assignee is nil when the
// number is not assigned; Status (Normal, Pending) says nothing about
// assignment.
type PhoneNumber struct {
	ID       string    `json:"id"`
	Number   string    `json:"number"`
	Status   string    `json:"status"`
	Assignee *Assignee `json:"assignee,omitempty"`
}

// listedNumber is a number as GET /number_management/numbers lists it: a
// number is assigned when assigned_list has an entry.
type listedNumber struct {
	ID           string `json:"id"`
	Number       string `json:"number"`
	Status       string `json:"status"`
	AssignedList []struct {
		ID              string          `json:"assigned_to_id"`
		Name            string          `json:"assigned_to_name"`
		Type            string          `json:"assigned_to_type"`
		ExtensionNumber json.RawMessage `json:"extension_number"`
	} `json:"assigned_list"`
}

// phoneNumber returns n with its first assignment as Assignee.
func (n listedNumber) phoneNumber() (PhoneNumber, error) {
	pn := PhoneNumber{ID: n.ID, Number: n.Number, Status: n.Status}
	if len(n.AssignedList) == 0 {
		return pn, nil
	}
	a := n.AssignedList[0]
	ext, err := extensionNumber(a.ExtensionNumber)
	if err != nil {
		return PhoneNumber{}, err
	}
	typ := a.Type
	if typ != "" {
		typ = strings.ToLower(typ[:1]) + typ[1:]
	}
	pn.Assignee = &Assignee{ID: a.ID, Name: a.Name, Type: typ, ExtensionNumber: ext}
	return pn, nil
}

// listResponse is a page of GET /number_management/numbers.
type listResponse struct {
	Numbers       []listedNumber `json:"numbers"`
	NextPageToken string         `json:"next_page_token"`
}

// FindNumber looks e164 up in the Zoom account accountID and returns it with
// its assignee: GET /number_management/numbers?keyword=<digits>, a Light
// call per page. Zoom matches keyword as a prefix of the number, so longer
// numbers may come back too; only the exact number counts. A number Zoom
// does not list gives an *Error of Kind NotFound.
func (c *Client) FindNumber(ctx context.Context, accountID, e164 string) (PhoneNumber, error) {
	want, err := number.Parse(e164)
	if err != nil {
		return PhoneNumber{}, &Error{Kind: Rejected, op: "find number", Message: fmt.Sprintf("%q: %v", e164, err)}
	}
	// The keyword is the number's digits, as in Zoom's example ("1205").
	var found *PhoneNumber
	err = c.walk(ctx, accountID, strings.TrimPrefix(want, "+"), maxPages, func(pn PhoneNumber) bool {
		if got, err := number.Parse(pn.Number); err == nil && got == want {
			found = &pn
			return false
		}
		return true
	})
	if errors.Is(err, errMorePages) {
		// Never "not found" on a list cut short: that would release it.
		err = &Error{Kind: Rejected, op: "find number", Message: fmt.Sprintf("Zoom listed more than %d pages", maxPages)}
	}
	if err != nil {
		return PhoneNumber{}, fmt.Errorf("find number %s: %w", want, err)
	}
	if found == nil {
		return PhoneNumber{}, fmt.Errorf("find number %s: %w", want,
			&Error{Kind: NotFound, op: "find number", Message: "number not in the Zoom account"})
	}
	return *found, nil
}

// ListPrefix lists the numbers of the Zoom account accountID whose digits
// start with prefix (GET /number_management/numbers?keyword=<prefix>, a
// Light call per page of up to 200), reading at most pages pages. complete
// is false when Zoom had more: a number missing from an incomplete list
// may still be in the account.
func (c *Client) ListPrefix(ctx context.Context, accountID, prefix string, pages int) (numbers []PhoneNumber, complete bool, err error) {
	if prefix == "" || strings.Trim(prefix, "0123456789") != "" {
		return nil, false, &Error{Kind: Rejected, op: "list numbers", Message: fmt.Sprintf("prefix %q: want digits", prefix)}
	}
	complete = true
	err = c.walk(ctx, accountID, prefix, pages, func(pn PhoneNumber) bool {
		numbers = append(numbers, pn)
		return true
	})
	if errors.Is(err, errMorePages) {
		return numbers, false, nil
	}
	if err != nil {
		return nil, false, fmt.Errorf("list numbers %s…: %w", prefix, err)
	}
	return numbers, complete, nil
}

// errMorePages ends a walk that read its pages while Zoom had more.
var errMorePages = errors.New("more pages")

// walk reads the account's numbers matching keyword, page by page (at most
// pages; errMorePages when Zoom had more), handing each to visit until it
// answers false.
func (c *Client) walk(ctx context.Context, accountID, keyword string, pages int, visit func(PhoneNumber) bool) error {
	q := url.Values{}
	q.Set("keyword", keyword)
	q.Set("page_size", strconv.Itoa(listPageSize))
	seen := map[string]bool{}
	for range pages {
		_, body, err := c.call(ctx, accountID, labelList, http.MethodGet, numbersRoute, numbersRoute, q)
		if err != nil {
			return err
		}
		var page listResponse
		if err := json.Unmarshal(body, &page); err != nil {
			return &Error{Kind: Unavailable, Status: http.StatusOK, op: "GET " + numbersRoute, Message: "malformed response: " + err.Error()}
		}
		for _, n := range page.Numbers {
			pn, err := n.phoneNumber()
			if err != nil {
				return &Error{Kind: Unavailable, Status: http.StatusOK, op: "GET " + numbersRoute, Message: "malformed response: " + err.Error()}
			}
			if !visit(pn) {
				return nil
			}
		}
		next := page.NextPageToken
		if next == "" || seen[next] {
			return nil
		}
		seen[next] = true
		q.Set("next_page_token", next)
	}
	return errMorePages
}

// RemoveNumbers removes the unassigned numbers ids from the Zoom account:
// DELETE /number_management/numbers, a Medium call, at most MaxRemoveIDs
// ids per call. An id that no longer exists counts as removed, so a retry
// after a partial failure is safe. A still-assigned number stops the
// removal with an *Error of Kind Assigned (earlier calls stay done).
func (c *Client) RemoveNumbers(ctx context.Context, accountID string, ids []string) error {
	clean := make([]string, 0, len(ids))
	dup := map[string]bool{}
	for _, id := range ids {
		id = strings.TrimSpace(id)
		// Zoom's ids are URL-safe base64; a comma would read as a list.
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

// removeBatch deletes up to MaxRemoveIDs ids. A call that names an id Zoom
// does not know is refused (HTTP 400, code 100002 "Phone number not
// found"), and Zoom does not say whether it removed the others, so then a
// multi-id batch is removed id by id and each such refusal means "already
// removed".
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

// deleteIDs is one DELETE /number_management/numbers?numbers=id1&numbers=id2
// call (an array query parameter, one value per id).
func (c *Client) deleteIDs(ctx context.Context, accountID string, ids []string) error {
	q := url.Values{"numbers": ids}
	_, _, err := c.call(ctx, accountID, labelRemove, http.MethodDelete, numbersRoute, numbersRoute, q)
	return err
}

// missing reports whether err is Zoom saying that a phone number is not in
// the account: HTTP 404, or HTTP 400 with code 100002 or a "not found" or
// "does not exist" message (what DELETE /number_management/numbers
// answers). Only for that endpoint: elsewhere Zoom's codes mean other
// things.
func missing(err error) bool {
	var ze *Error
	if !errors.As(err, &ze) {
		return false
	}
	return ze.Kind == NotFound ||
		(ze.Status == http.StatusBadRequest && ze.Kind == Rejected && (ze.Code == CodePhoneNumberNotFound || looksMissing(ze.Message)))
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
