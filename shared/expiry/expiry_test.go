package expiry

import (
	"context"
	"errors"
	"io"
	"log/slog"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb/types"

	"numberrelease/shared/domain"
	"numberrelease/shared/harness/emulatortest"
	"numberrelease/shared/store"
)

func TestMain(m *testing.M) { emulatortest.Main(m) }

type sent struct {
	to            []string
	subject, body string
}

type outbox struct {
	mu   sync.Mutex
	sent []sent
}

func (o *outbox) Send(_ context.Context, to []string, subject, body string) error {
	o.mu.Lock()
	defer o.mu.Unlock()
	o.sent = append(o.sent, sent{to: to, subject: subject, body: body})
	return nil
}

func (o *outbox) take() []sent {
	o.mu.Lock()
	defer o.mu.Unlock()
	out := o.sent
	o.sent = nil
	return out
}

type reminderLog struct{ got []Reminder }

func (l *reminderLog) Remind(_ context.Context, r Reminder) error {
	l.got = append(l.got, r)
	return nil
}

// racingStore approves one number just before the sweep writes it, as a
// customer acting at the same moment would.
type racingStore struct {
	*store.Store
	approve string
}

func (r *racingStore) Apply(ctx context.Context, c domain.Change) (domain.Number, error) {
	if c.Next.Number == r.approve && c.Next.Status == domain.Expired {
		cur, err := r.Store.GetNumber(ctx, c.Next.CustomerID, c.Next.Number)
		if err != nil {
			return domain.Number{}, err
		}
		next := cur
		next.Status = domain.Releasing
		if _, err := r.Store.Apply(ctx, domain.Change{Prev: cur, Next: next, Actor: "customer:acme/alice", Why: "approved"}); err != nil {
			return domain.Number{}, err
		}
	}
	return r.Store.Apply(ctx, c)
}

func TestSweep(t *testing.T) {
	client, table := emulatortest.NewTable(t)
	st := store.New(client, table)
	ctx := context.Background()
	if err := st.PutTenants(ctx, []domain.Customer{
		{ID: "acme", Name: "Acme", ContactEmails: []string{"ops@acme.example", "it@acme.example"}},
		{ID: "quiet", Name: "Quiet"},
	}, []domain.Link{{ProviderID: "pxc", CustomerID: "acme"}, {ProviderID: "pxc", CustomerID: "quiet"}}); err != nil {
		t.Fatal(err)
	}
	start := time.Now()
	nums := []string{"+97239754561", "+97239754562", "+97239754563"}
	var changes []domain.Change
	for _, n := range nums {
		changes = append(changes, domain.Change{Next: domain.Number{CustomerID: "acme", Number: n, Status: domain.PendingApproval,
			ProviderID: "pxc", RequestID: "r1"}, Actor: "provider:pxc", Why: "asked"})
	}
	changes = append(changes, domain.Change{Next: domain.Number{CustomerID: "quiet", Number: "+97239754569", Status: domain.PendingApproval,
		ProviderID: "pxc", RequestID: "r2"}, Actor: "provider:pxc", Why: "asked"})
	if _, err := st.ApplyAll(ctx, changes); err != nil {
		t.Fatal(err)
	}
	first, err := st.GetNumber(ctx, "acme", nums[0])
	if err != nil {
		t.Fatal(err)
	}
	expires := first.PendingSince.Add(DefaultTTL).UTC() // the earliest: all were written in one call
	box := &outbox{}
	events := &reminderLog{}
	clock := start
	sw := &Sweeper{
		Store: &racingStore{Store: st, approve: nums[1]}, Mailer: box, Events: events,
		TTL: DefaultTTL, Reminders: DefaultReminders,
		Log: slog.New(slog.NewJSONHandler(io.Discard, nil)), Now: func() time.Time { return clock },
	}
	const day = 24 * time.Hour
	steps := []struct {
		name    string
		at      time.Duration
		want    Report
		subject string // of acme's one email, if any
		body    []string
	}{
		{name: "too early", at: 22 * day},
		{name: "first reminder", at: 23*day + time.Minute, want: Report{Checked: 4, Reminded: 4, Emails: 1, Events: 2},
			subject: "3 numbers asked for by pxc await your approval",
			body:    []string{"3 numbers asked for by pxc await your approval; they expire on " + expires.Format(dateLayout), nums[0], nums[2]}},
		{name: "first reminder again", at: 23*day + 2*time.Minute, want: Report{Checked: 4}},
		{name: "second reminder", at: 29*day + time.Minute, want: Report{Checked: 4, Reminded: 4, Emails: 1, Events: 2},
			subject: "3 numbers asked for by pxc await your approval"},
		{name: "second reminder again", at: 29*day + 2*time.Minute, want: Report{Checked: 4}},
		{name: "expiry; one approved meanwhile", at: 30*day + time.Minute, want: Report{Checked: 4, Expired: 3, Emails: 1},
			subject: "the release request of 2 numbers by pxc expired",
			body:    []string{"2 numbers asked for by pxc expired on", nums[0], nums[2]}},
		{name: "after expiry", at: 31 * day},
	}
	for _, step := range steps {
		clock = start.Add(step.at)
		rep, err := sw.Run(ctx)
		if err != nil {
			t.Fatalf("%s: %v", step.name, err)
		}
		if rep != step.want {
			t.Errorf("%s: report %+v; want %+v", step.name, rep, step.want)
		}
		mails := box.take()
		if step.subject == "" {
			if len(mails) != 0 {
				t.Errorf("%s: %d emails; want none", step.name, len(mails))
			}
			continue
		}
		// The quiet customer has no contact emails: only acme's is sent.
		if len(mails) != 1 || !strings.Contains(mails[0].subject, step.subject) || strings.Join(mails[0].to, ",") != "ops@acme.example,it@acme.example" {
			t.Fatalf("%s: emails %+v; want one to acme: %q", step.name, mails, step.subject)
		}
		for _, part := range step.body {
			if !strings.Contains(mails[0].body, part) {
				t.Errorf("%s: body %q lacks %q", step.name, mails[0].body, part)
			}
		}
	}
	if len(events.got) != 4 || events.got[0].CustomerID != "acme" || len(events.got[0].Numbers) != 3 ||
		!events.got[0].ExpiresAt.Equal(expires) || events.got[1].CustomerID != "quiet" {
		t.Errorf("reminder events %+v; want acme's and quiet's, twice", events.got)
	}
	got, err := st.GetNumbers(ctx, "acme", nums)
	if err != nil {
		t.Fatal(err)
	}
	for i, want := range []domain.Status{domain.Expired, domain.Releasing, domain.Expired} {
		if got[nums[i]].Status != want {
			t.Errorf("%s is %s; want %s", nums[i], got[nums[i]].Status, want)
		}
	}
	h, err := st.History(ctx, "acme", nums[0])
	if err != nil || len(h) != 2 {
		t.Fatalf("history = %+v, %v", h, err)
	}
	if last := h[1]; last.Actor != Actor || last.From != domain.PendingApproval || last.To != domain.Expired || !strings.Contains(last.Why, "within 30 days") {
		t.Errorf("expiry history entry = %+v", last)
	}
}

func TestCheck(t *testing.T) {
	tests := []struct {
		name      string
		ttl       time.Duration
		reminders []time.Duration
		field     string
	}{
		{name: "defaults", ttl: DefaultTTL, reminders: DefaultReminders},
		{name: "no reminders", ttl: time.Hour},
		{name: "no ttl", field: "expiry TTL"},
		{name: "reminder past ttl", ttl: time.Hour, reminders: []time.Duration{2 * time.Hour}, field: "expiry reminders[0]"},
		{name: "negative reminder", ttl: time.Hour, reminders: []time.Duration{time.Minute, -time.Minute}, field: "expiry reminders[1]"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			err := (&Sweeper{TTL: tt.ttl, Reminders: tt.reminders}).Check()
			if (err != nil) != (tt.field != "") || (err != nil && !strings.HasPrefix(err.Error(), tt.field)) {
				t.Fatalf("Check = %v; want an error naming %q", err, tt.field)
			}
		})
	}
}

// A sweep without a mailer still expires, and says no email went out.
func TestSweepWithoutMailer(t *testing.T) {
	client, table := emulatortest.NewTable(t)
	st := store.New(client, table)
	ctx := context.Background()
	if _, err := st.Apply(ctx, domain.Change{Next: domain.Number{CustomerID: "acme", Number: "+97239754561", Status: domain.PendingApproval,
		ProviderID: "pxc", RequestID: "r1"}, Actor: "provider:pxc", Why: "asked"}); err != nil {
		t.Fatal(err)
	}
	var logs strings.Builder
	sw := &Sweeper{Store: st, TTL: time.Hour, Log: slog.New(slog.NewJSONHandler(&logs, nil)),
		Now: func() time.Time { return time.Now().Add(2 * time.Hour) }}
	rep, err := sw.Run(ctx)
	if err != nil || rep != (Report{Checked: 1, Expired: 1}) {
		t.Fatalf("Run = %+v, %v", rep, err)
	}
	if !strings.Contains(logs.String(), "no sender address is configured") {
		t.Errorf("logs %s do not say no email went out", logs.String())
	}
}

func TestParseReminders(t *testing.T) {
	tests := []struct {
		in      string
		want    []time.Duration
		wantErr string
	}{
		{in: ""},
		{in: "604800,86400", want: DefaultReminders},
		{in: " 10, 5", want: []time.Duration{10 * time.Second, 5 * time.Second}},
		{in: "10,", wantErr: "REMINDER_SECONDS[1]"},
		{in: "ten", wantErr: "REMINDER_SECONDS[0]"},
		{in: "0", wantErr: "REMINDER_SECONDS[0]"},
		{in: "1.5", wantErr: "REMINDER_SECONDS[0]"},
	}
	for _, tt := range tests {
		got, err := ParseReminders("REMINDER_SECONDS", tt.in)
		if tt.wantErr != "" {
			if err == nil || !strings.HasPrefix(err.Error(), tt.wantErr) {
				t.Errorf("ParseReminders(%q) = %v, %v; want an error naming %s", tt.in, got, err, tt.wantErr)
			}
			continue
		}
		if err != nil || !slices.Equal(got, tt.want) {
			t.Errorf("ParseReminders(%q) = %v, %v; want %v", tt.in, got, err, tt.want)
		}
	}
}

// A number an older release left PENDING_APPROVAL, without the pending
// keys the sweep reads, expires once its time to live has passed: the
// run's backfill step gives it its keys first. The backfill is done after
// its second pass; later runs fix nothing.
func TestSweepExpiresNumbersOfAnOlderRelease(t *testing.T) {
	client, table := emulatortest.NewTable(t)
	st := store.New(client, table)
	ctx := context.Background()
	now := time.Now().UTC()
	since := now.Add(-31 * 24 * time.Hour).Truncate(time.Millisecond)
	// As the store wrote it before pending_since and the PENDING# keys.
	old := map[string]types.AttributeValue{
		"PK": attrS("NUM#acme#+97239754561"), "SK": attrS("STATE"),
		"GSI1PK": attrS("C#acme"), "GSI1SK": attrS("PENDING_APPROVAL#+97239754561"),
		"GSI2PK": attrS("P#pxc#C#acme"), "GSI2SK": attrS("PENDING_APPROVAL#+97239754561"),
		"customer_id": attrS("acme"), "number": attrS("+97239754561"), "status": attrS("PENDING_APPROVAL"),
		"provider_id": attrS("pxc"), "request_id": attrS("r1"),
		"requested_at": attrS(since.Format(time.RFC3339Nano)), "updated_at": attrS(since.Format(time.RFC3339Nano)),
		"version": &types.AttributeValueMemberN{Value: "1"}, "transitions": &types.AttributeValueMemberN{Value: "1"},
	}
	if _, err := client.PutItem(ctx, &dynamodb.PutItemInput{TableName: aws.String(table), Item: old}); err != nil {
		t.Fatal(err)
	}
	var logs strings.Builder
	sw := &Sweeper{Store: st, Backfill: st, BackfillLimits: store.BackfillLimits{Pages: 1, PageSize: 1},
		TTL: DefaultTTL, Log: slog.New(slog.NewJSONHandler(&logs, nil)), Now: func() time.Time { return now }}
	var total Report
	for run := 0; run < 10 && total.Expired == 0; run++ {
		rep, err := sw.Run(ctx)
		if err != nil {
			t.Fatal(err)
		}
		total.Backfilled += rep.Backfilled
		total.Expired += rep.Expired
	}
	if total != (Report{Backfilled: 1, Expired: 1}) {
		t.Fatalf("runs = %+v; want the number backfilled and expired", total)
	}
	got, err := st.GetNumber(ctx, "acme", "+97239754561")
	if err != nil || got.Status != domain.Expired {
		t.Fatalf("number = %+v, %v; want EXPIRED", got, err)
	}
	if !strings.Contains(logs.String(), `"msg":"pending keys backfill"`) || !strings.Contains(logs.String(), `"fixed":1`) {
		t.Errorf("logs %s do not say the backfill fixed the number", logs.String())
	}
	for run := 0; run < 10; run++ {
		if rep, err := sw.Run(ctx); err != nil || rep.Backfilled != 0 {
			t.Fatalf("later run = %+v, %v; want nothing backfilled", rep, err)
		}
	}
	if !strings.Contains(logs.String(), `"done":true`) {
		t.Errorf("logs %s never say the backfill is done", logs.String())
	}
}

// A backfill that fails is logged, and the sweep goes on.
func TestSweepGoesOnWhenTheBackfillFails(t *testing.T) {
	client, table := emulatortest.NewTable(t)
	st := store.New(client, table)
	ctx := context.Background()
	if _, err := st.Apply(ctx, domain.Change{Next: domain.Number{CustomerID: "acme", Number: "+97239754561", Status: domain.PendingApproval,
		ProviderID: "pxc", RequestID: "r1"}, Actor: "provider:pxc", Why: "asked"}); err != nil {
		t.Fatal(err)
	}
	var logs strings.Builder
	sw := &Sweeper{Store: st, Backfill: failingBackfill{}, TTL: time.Hour, Log: slog.New(slog.NewJSONHandler(&logs, nil)),
		Now: func() time.Time { return time.Now().Add(2 * time.Hour) }}
	rep, err := sw.Run(ctx)
	if err != nil || rep != (Report{Checked: 1, Expired: 1}) {
		t.Fatalf("Run = %+v, %v; want the number expired", rep, err)
	}
	if !strings.Contains(logs.String(), "pending keys backfill failed") || !strings.Contains(logs.String(), "throttled") {
		t.Errorf("logs %s do not say the backfill failed", logs.String())
	}
}

type failingBackfill struct{}

func (failingBackfill) BackfillPending(context.Context, store.BackfillLimits) (store.BackfillResult, error) {
	return store.BackfillResult{}, errors.New("scan: throttled")
}

func attrS(v string) types.AttributeValue { return &types.AttributeValueMemberS{Value: v} }
