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

// viewLister lists a carrier's whole view (*zoom.Client and *zoom.Lazy).
type viewLister interface {
	CarrierView(ctx context.Context, carrierAccountID string, pages int) ([]zoom.PeeringNumber, bool, error)
}

// carrierViewPages bounds one listing of a carrier's view (300 a page):
// a larger carrier is asked one number at a time.
const carrierViewPages = 5

// wholeView is the block of every number of a carrier's view.
const wholeView = "*"

// lookups remembers block listings per Zoom account, in memory: a warm
// release-tasks instance serves its later checks from it. Safe for
// concurrent use.
type lookups struct {
	mu      sync.Mutex
	blocks  map[string]time.Time // account|block → when listed (complete lists only)
	numbers map[string]sighting  // account|e164 → what the listing said
}

type sighting struct {
	z  inZoom
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

// recall answers what a listing since after said of e164, of the block
// blk: what was found, or not listed for a number a complete listing of
// its block did not hold. ok is false when there is no such listing
// within lookupTTL of now.
func (l *lookups) recall(account, blk, e164 string, after, now time.Time) (z inZoom, ok bool) {
	fresh := func(at time.Time) bool { return !at.Before(after) && now.Sub(at) < lookupTTL }
	l.mu.Lock()
	defer l.mu.Unlock()
	if s, hit := l.numbers[account+"|"+e164]; hit && fresh(s.at) {
		return s.z, true
	}
	if at, hit := l.blocks[account+"|"+blk]; hit && fresh(at) {
		return inZoom{}, true // not listed
	}
	return inZoom{}, false
}

// remember keeps a block's listing taken at at.
func (l *lookups) remember(account, blk string, listed map[string]inZoom, complete bool, at time.Time) {
	l.mu.Lock()
	defer l.mu.Unlock()
	if l.numbers == nil || len(l.numbers)+len(listed) > maxRemembered {
		l.numbers, l.blocks = map[string]sighting{}, map[string]time.Time{}
	}
	for e164, z := range listed {
		l.numbers[account+"|"+e164] = sighting{z: z, at: at}
	}
	if complete {
		l.blocks[account+"|"+blk] = at
	}
}

// lookUpCustomer finds e164 in the customer's Zoom account: from a recent
// listing of its block when one is newer than the number's last change
// (so a check after Zoom refused a delete, or after a wait, looks again),
// else by listing its block (one to five Light calls that serve every
// check of the block for lookupTTL), else by a lookup of its own.
func (t *Tasks) lookUpCustomer(ctx context.Context, account string, n domain.Number) (inZoom, error) {
	now := t.now()
	prefix := block(n.Number)
	if z, ok := t.seen.recall(account, prefix, n.Number, n.UpdatedAt, now); ok {
		return z, nil
	}
	if bl, ok := t.zoom.(prefixLister); ok && prefix != "" {
		listed, complete, err := bl.ListPrefix(ctx, account, prefix, blockPages)
		if err != nil {
			return inZoom{}, zoomErr("list the number's block in Zoom", err)
		}
		found := make(map[string]inZoom, len(listed))
		for _, pn := range listed {
			found[pn.Number] = customerFound(pn)
		}
		t.seen.remember(account, prefix, found, complete, now)
		if z, ok := t.seen.recall(account, prefix, n.Number, now, now); ok {
			return z, nil
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
	return customerFound(pn), nil
}

// lookUpCarrier finds e164 in the carrier's view: from a recent listing of
// the whole view (newer than the number's last change), else by listing
// the view when it fits in carrierViewPages pages, else alone.
func (t *Tasks) lookUpCarrier(ctx context.Context, n domain.Number) (inZoom, error) {
	account, now := t.cfg.CarrierAccountID, t.now()
	if z, ok := t.seen.recall(account, wholeView, n.Number, n.UpdatedAt, now); ok {
		return z, nil
	}
	if vl, ok := t.zoom.(viewLister); ok {
		listed, complete, err := vl.CarrierView(ctx, account, carrierViewPages)
		if err != nil {
			return inZoom{}, zoomErr("list the carrier's view of Zoom", err)
		}
		found := make(map[string]inZoom, len(listed))
		for _, pn := range listed {
			// Listed twice, it counts as assigned if either says so.
			z := carrierFound(pn)
			z.assigned = z.assigned || found[pn.Number].assigned
			found[pn.Number] = z
		}
		t.seen.remember(account, wholeView, found, complete, now)
		if z, ok := t.seen.recall(account, wholeView, n.Number, now, now); ok {
			return z, nil
		}
	}
	view, err := t.zoom.CarrierPeeringNumbers(ctx, account, []string{n.Number})
	if err != nil {
		return inZoom{}, zoomErr("look the number up in the carrier's view of Zoom", err)
	}
	pn, ok := view[n.Number]
	if !ok {
		return inZoom{}, nil
	}
	return carrierFound(pn), nil
}

func customerFound(pn zoom.PhoneNumber) inZoom {
	return inZoom{listed: true, assigned: pn.Assignee != nil, id: pn.ID, assignee: pn.Assignee}
}

// carrierFound: the Provider Exchange removes by number, and the view has
// no ids, so the number is its own zoom_id.
func carrierFound(pn zoom.PeeringNumber) inZoom {
	return inZoom{listed: true, assigned: pn.Assigned, id: pn.Number}
}
