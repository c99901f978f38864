package tasks

import (
	"context"
	"strings"
	"sync"
	"time"

	"numberrelease/shared/domain"
	"numberrelease/shared/zoom"
)

// What a check may reuse of an earlier lookup.
//
// A check is a hint: the release's delete is what Zoom refuses for a
// number assigned meanwhile (Zoom.Assigned, and the workflow checks
// again), so a check may use what Zoom said a few seconds ago. When many
// numbers of one account are checked together (a bulk approval), one check
// lists the whole block of 1,000 numbers its number belongs to, and the
// other checks of that block use the list instead of a lookup each.
const (
	// lookupTTL is how long a listing stays usable.
	lookupTTL = 30 * time.Second
	// blockDigits is how many final digits a block spans (1,000 numbers).
	blockDigits = 3
	// blockPages bounds one block's listing: 1,000 numbers, 200 a page.
	blockPages = 5
	// maxRemembered bounds the numbers kept; past it the memory starts over.
	maxRemembered = 50000
)

// prefixLister lists an account's numbers by prefix (*zoom.Client and
// *zoom.Lazy have it). A Zoom without it is asked one number at a time.
type prefixLister interface {
	ListPrefix(ctx context.Context, accountID, prefix string, pages int) ([]zoom.PhoneNumber, bool, error)
}

// lookups remembers block listings per Zoom account, in memory: a warm
// release-tasks instance serves its later checks from it. Safe for
// concurrent use.
type lookups struct {
	mu      sync.Mutex
	blocks  map[string]time.Time // account|block → when listed (complete lists only)
	numbers map[string]sighting  // account|e164 → what the listing said
}

type sighting struct {
	pn zoom.PhoneNumber
	at time.Time
}

// block is the listing prefix of e164: its digits without the last
// blockDigits ("" for numbers too short to share a block).
func block(e164 string) string {
	digits := strings.TrimPrefix(e164, "+")
	if len(digits) < 8 {
		return ""
	}
	return digits[:len(digits)-blockDigits]
}

// recall answers what a listing since after said of e164: the number, or
// found false for a number a complete listing of its block did not hold.
// ok is false when there is no such listing within lookupTTL of now.
func (l *lookups) recall(account, e164 string, after, now time.Time) (pn zoom.PhoneNumber, found, ok bool) {
	fresh := func(at time.Time) bool { return !at.Before(after) && now.Sub(at) < lookupTTL }
	l.mu.Lock()
	defer l.mu.Unlock()
	if s, hit := l.numbers[account+"|"+e164]; hit && fresh(s.at) {
		return s.pn, true, true
	}
	if at, hit := l.blocks[account+"|"+block(e164)]; hit && fresh(at) {
		return zoom.PhoneNumber{}, false, true
	}
	return zoom.PhoneNumber{}, false, false
}

// remember keeps a block's listing taken at at.
func (l *lookups) remember(account, prefix string, listed []zoom.PhoneNumber, complete bool, at time.Time) {
	l.mu.Lock()
	defer l.mu.Unlock()
	if l.numbers == nil || len(l.numbers)+len(listed) > maxRemembered {
		l.numbers, l.blocks = map[string]sighting{}, map[string]time.Time{}
	}
	for _, pn := range listed {
		l.numbers[account+"|"+pn.Number] = sighting{pn: pn, at: at}
	}
	if complete {
		l.blocks[account+"|"+prefix] = at
	}
}

// lookUpCustomer finds e164 in the customer's Zoom account: from a recent
// listing of its block when one is newer than the number's last change
// (so a check after Zoom refused a delete, or after a wait, looks again),
// else by listing its block (one to five Light calls that serve every
// check of the block for lookupTTL), else by a lookup of its own.
func (t *Tasks) lookUpCustomer(ctx context.Context, account string, n domain.Number) (inZoom, error) {
	now := t.now()
	if pn, found, ok := t.seen.recall(account, n.Number, n.UpdatedAt, now); ok {
		return customerFound(pn, found), nil
	}
	prefix := block(n.Number)
	if bl, ok := t.zoom.(prefixLister); ok && prefix != "" {
		listed, complete, err := bl.ListPrefix(ctx, account, prefix, blockPages)
		if err != nil {
			return inZoom{}, zoomErr("list the number's block in Zoom", err)
		}
		t.seen.remember(account, prefix, listed, complete, now)
		if pn, found, ok := t.seen.recall(account, n.Number, now, now); ok {
			return customerFound(pn, found), nil
		}
		// A block too big to list whole: look the number up alone.
	}
	pn, err := t.zoom.FindNumber(ctx, account, n.Number)
	switch {
	case zoom.KindOf(err) == zoom.NotFound:
		return inZoom{}, nil
	case err != nil:
		return inZoom{}, zoomErr("find number in Zoom", err)
	}
	return customerFound(pn, true), nil
}

func customerFound(pn zoom.PhoneNumber, found bool) inZoom {
	if !found {
		return inZoom{}
	}
	return inZoom{listed: true, assigned: pn.Assignee != nil, id: pn.ID, assignee: pn.Assignee}
}
