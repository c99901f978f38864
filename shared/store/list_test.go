package store

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"strings"
	"testing"

	"numberrelease/shared/domain"
)

// TestListNumbersOfSeveralStatuses: a listing of several statuses reads
// each status's key range in the order of the statuses' names, fills pages
// across ranges (RELEASED's own partition too), and its cursor carries on
// exactly where the last page stopped, whatever the page size.
func TestListNumbersOfSeveralStatuses(t *testing.T) {
	s, _ := newStore(t)
	ctx := context.Background()
	// 24 numbers of acme: 8 pending, 5 failed, 4 waiting, 3 released,
	// 2 rejected, 2 cancelled; and one pending of globex.
	paths := map[domain.Status][]domain.Status{
		domain.PendingApproval:    nil,
		domain.Failed:             {domain.Releasing, domain.Failed},
		domain.WaitingForUnassign: {domain.Releasing, domain.WaitingForUnassign},
		domain.Released:           {domain.Releasing, domain.Released},
		domain.Rejected:           {domain.Rejected},
		domain.Cancelled:          {domain.Cancelled},
	}
	plan := []domain.Status{}
	for st, n := range map[domain.Status]int{domain.PendingApproval: 8, domain.Failed: 5, domain.WaitingForUnassign: 4, domain.Released: 3, domain.Rejected: 2, domain.Cancelled: 2} {
		for range n {
			plan = append(plan, st)
		}
	}
	var changes []domain.Change
	nums := make([]string, len(plan))
	for i := range plan {
		// Two number ranges, so a prefix picks some of each status.
		nums[i] = fmt.Sprintf("+1415555%04d", i)
		if i%2 == 1 {
			nums[i] = fmt.Sprintf("+1212555%04d", i)
		}
		changes = append(changes, domain.Change{Next: pending("acme", "pxc", nums[i]), Actor: "p", Why: "w"})
	}
	changes = append(changes, domain.Change{Next: pending("globex", "pxc", "+14155559999"), Actor: "p", Why: "w"})
	written, err := s.ApplyAll(ctx, changes)
	if err != nil {
		t.Fatal(err)
	}
	want := map[domain.Status][]string{} // status → numbers, sorted
	for i, st := range plan {
		n := written[i]
		for _, to := range paths[st] {
			next := n
			next.Status = to
			if n, err = s.Apply(ctx, domain.Change{Prev: n, Next: next, Actor: "t", Why: "t"}); err != nil {
				t.Fatal(err)
			}
		}
		want[st] = append(want[st], nums[i])
	}
	expect := func(prefix string, statuses ...domain.Status) []string {
		sorted := slices.Clone(statuses)
		slices.Sort(sorted)
		var out []string
		for _, st := range slices.Compact(sorted) {
			var of []string
			for _, n := range want[st] {
				if strings.HasPrefix(n, prefix) {
					of = append(of, n)
				}
			}
			slices.Sort(of)
			out = append(out, of...)
		}
		return out
	}
	collect := func(t *testing.T, q domain.ListQuery) []string {
		t.Helper()
		var all []string
		for pages := 0; ; pages++ {
			if pages > 40 {
				t.Fatal("cursor does not end")
			}
			p, err := s.ListNumbers(ctx, q)
			if err != nil {
				t.Fatalf("ListNumbers(%+v): %v", q, err)
			}
			if len(p.Items) > q.Limit {
				t.Fatalf("page of %d items; limit %d", len(p.Items), q.Limit)
			}
			for _, n := range p.Items {
				if n.CustomerID != "acme" {
					t.Fatalf("listed %s of %s", n.Number, n.CustomerID)
				}
				all = append(all, n.Number)
			}
			if p.NextCursor == "" {
				return all
			}
			q.Cursor = p.NextCursor
		}
	}
	wait := []domain.Status{domain.PendingApproval, domain.WaitingForUnassign, domain.Failed}
	tests := []struct {
		name     string
		statuses []domain.Status
		prefix   string
		provider string
	}{
		{"wait for release tab", wait, "", ""},
		{"wait for release tab, given in another order with a duplicate", []domain.Status{domain.Failed, domain.PendingApproval, domain.Failed, domain.WaitingForUnassign}, "", ""},
		{"with RELEASED, from its own partition", []domain.Status{domain.Released, domain.Rejected, domain.PendingApproval}, "", ""},
		{"only RELEASED", []domain.Status{domain.Released}, "", ""},
		{"one status", []domain.Status{domain.Failed}, "", ""},
		{"several statuses and a prefix", wait, "+1212", ""},
		{"one status and a prefix", []domain.Status{domain.PendingApproval}, "+1415", ""},
		{"a whole number as the prefix", []domain.Status{domain.Released, domain.Failed}, want[domain.Released][0], ""},
		{"a prefix nothing has", wait, "+44", ""},
		{"provider view", wait, "", "pxc"},
	}
	for _, tt := range tests {
		for _, limit := range []int{1, 2, 3, 5, 8, 100} {
			t.Run(fmt.Sprintf("%s, pages of %d", tt.name, limit), func(t *testing.T) {
				got := collect(t, domain.ListQuery{CustomerID: "acme", ProviderID: tt.provider, Statuses: tt.statuses, Prefix: tt.prefix, Limit: limit})
				if w := expect(tt.prefix, tt.statuses...); !slices.Equal(got, w) {
					t.Fatalf("listed\n%v\nwant\n%v", got, w)
				}
			})
		}
	}
	t.Run("a prefix without statuses lists every status but RELEASED", func(t *testing.T) {
		got := collect(t, domain.ListQuery{CustomerID: "acme", Prefix: "+1415", Limit: 4})
		w := expect("+1415", domain.PendingApproval, domain.Failed, domain.WaitingForUnassign, domain.Rejected, domain.Cancelled)
		if !slices.Equal(got, w) {
			t.Fatalf("listed %v; want %v", got, w)
		}
		all := collect(t, domain.ListQuery{CustomerID: "acme", Limit: 100})
		var filtered []string
		for _, n := range all {
			if strings.HasPrefix(n, "+1415") {
				filtered = append(filtered, n)
			}
		}
		if !slices.Equal(got, filtered) {
			t.Fatalf("with a prefix %v; the unfiltered listing's numbers with it %v", got, filtered)
		}
	})

	t.Run("a cursor of another listing is refused", func(t *testing.T) {
		q := domain.ListQuery{CustomerID: "acme", Statuses: wait, Limit: 9}
		p, err := s.ListNumbers(ctx, q)
		if err != nil || p.NextCursor == "" {
			t.Fatalf("first page: %d items, cursor %q, %v", len(p.Items), p.NextCursor, err)
		}
		for _, other := range []domain.ListQuery{
			{CustomerID: "globex", Statuses: wait, Cursor: p.NextCursor},
			{CustomerID: "acme", ProviderID: "pxc", Statuses: wait, Cursor: p.NextCursor},
			{CustomerID: "acme", Statuses: wait[:2], Cursor: p.NextCursor},
			{CustomerID: "acme", Statuses: wait, Prefix: "+1", Cursor: p.NextCursor},
			{CustomerID: "acme", Cursor: p.NextCursor},
			{CustomerID: "acme", Status: domain.Failed, Cursor: p.NextCursor},
		} {
			if _, err := s.ListNumbers(ctx, other); !errors.Is(err, domain.ErrBadCursor) {
				t.Errorf("ListNumbers(%+v) err = %v; want ErrBadCursor", other, err)
			}
		}
		// The same listing in another order is the same listing.
		again := domain.ListQuery{CustomerID: "acme", Statuses: []domain.Status{domain.WaitingForUnassign, domain.Failed, domain.PendingApproval}, Limit: 9, Cursor: p.NextCursor}
		if _, err := s.ListNumbers(ctx, again); err != nil {
			t.Errorf("the same statuses in another order: %v", err)
		}
	})
}
