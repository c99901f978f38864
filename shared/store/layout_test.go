package store

import (
	"context"
	"fmt"
	"reflect"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/service/dynamodb"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb/types"

	"numberrelease/shared/domain"
)

// captureDB records the items the store writes and answers reads with the
// last item written under the same key: enough to pin the table's item
// layout without an emulator.
type captureDB struct {
	DB
	written []map[string]types.AttributeValue
}

func (c *captureDB) PutItem(_ context.Context, in *dynamodb.PutItemInput, _ ...func(*dynamodb.Options)) (*dynamodb.PutItemOutput, error) {
	c.written = append(c.written, in.Item)
	return &dynamodb.PutItemOutput{}, nil
}

func (c *captureDB) TransactWriteItems(_ context.Context, in *dynamodb.TransactWriteItemsInput, _ ...func(*dynamodb.Options)) (*dynamodb.TransactWriteItemsOutput, error) {
	for _, it := range in.TransactItems {
		c.written = append(c.written, it.Put.Item)
	}
	return &dynamodb.TransactWriteItemsOutput{}, nil
}

func (c *captureDB) BatchWriteItem(_ context.Context, in *dynamodb.BatchWriteItemInput, _ ...func(*dynamodb.Options)) (*dynamodb.BatchWriteItemOutput, error) {
	for _, reqs := range in.RequestItems {
		for _, r := range reqs {
			c.written = append(c.written, r.PutRequest.Item)
		}
	}
	return &dynamodb.BatchWriteItemOutput{}, nil
}

func (c *captureDB) GetItem(_ context.Context, in *dynamodb.GetItemInput, _ ...func(*dynamodb.Options)) (*dynamodb.GetItemOutput, error) {
	for _, it := range slices.Backward(c.written) {
		if reflect.DeepEqual(it["PK"], in.Key["PK"]) && reflect.DeepEqual(it["SK"], in.Key["SK"]) {
			return &dynamodb.GetItemOutput{Item: it}, nil
		}
	}
	return &dynamodb.GetItemOutput{}, nil
}

// render writes an item as sorted "name type value" lines.
func render(item map[string]types.AttributeValue) string {
	var lines []string
	for name, v := range item {
		lines = append(lines, name+" "+renderValue(v))
	}
	slices.Sort(lines)
	return strings.Join(lines, "\n")
}

func renderValue(v types.AttributeValue) string {
	switch v := v.(type) {
	case *types.AttributeValueMemberS:
		return "S " + v.Value
	case *types.AttributeValueMemberN:
		return "N " + v.Value
	case *types.AttributeValueMemberBOOL:
		return fmt.Sprintf("BOOL %v", v.Value)
	case *types.AttributeValueMemberB:
		return fmt.Sprintf("B %q", v.Value)
	case *types.AttributeValueMemberM:
		return "M {" + strings.ReplaceAll(render(v.Value), "\n", "; ") + "}"
	case *types.AttributeValueMemberSS:
		return "SS " + strings.Join(slices.Sorted(slices.Values(v.Value)), " ")
	case *types.AttributeValueMemberL:
		var items []string
		for _, e := range v.Value {
			items = append(items, renderValue(e))
		}
		return "L [" + strings.Join(items, "; ") + "]"
	}
	return fmt.Sprintf("%T", v)
}

// customerLayout is a customer's item as PutTenants and PutCustomer (then
// Link) write it: its place in the customer list (ByCustomer, partition
// CUSTOMERS), its contact emails in order, its providers.
const customerLayout = `GSI1PK S CUSTOMERS
GSI1SK S acme
PK S CUST#acme
SK S META
contact_emails L [S ops@acme.example]
customer_id S acme
name S Acme Corp
providers SS pxc
zoom_account_id S zoom-acme`

// TestItemLayout pins every attribute name, type and value the store
// writes for a number, its history entry, a customer (and its Zoom account
// copy), a provider link and an idempotency record: stored data must stay
// readable, and the stream's consumers read history items. Each item also
// reads back as it was written.
func TestItemLayout(t *testing.T) {
	now := time.Date(2026, 11, 27, 12, 0, 0, 123456789, time.UTC)
	db := &captureDB{}
	s := New(db, "t")
	s.now = func() time.Time { return now }
	ctx := context.Background()

	prev := domain.Number{CustomerID: "acme", Number: "+97239754569", Status: domain.Releasing, ProviderID: "pxc", RequestID: "req-1",
		Attempt: 2, Version: 4, Transitions: 3, RequestedAt: now.Add(-time.Hour), UpdatedAt: now.Add(-time.Minute)}
	next := prev
	next.Status, next.TaskToken, next.Execution, next.Message, next.Reason = domain.WaitingForUnassign, "tok", "acme-97239754569-2", "assigned", "returned"
	next.Assignee = &domain.Assignee{ID: "u1", Name: "Dana", Type: "user", ExtensionNumber: "1001"}
	next.RemovalStarted = true
	written, err := s.Apply(ctx, domain.Change{Prev: prev, Next: next, Actor: "workflow", Why: "assigned in Zoom"})
	if err != nil {
		t.Fatal(err)
	}
	if err := s.PutTenants(ctx, []domain.Customer{{ID: "acme", Name: "Acme Corp", ZoomAccountID: "zoom-acme", ContactEmails: []string{"ops@acme.example"}}},
		[]domain.Link{{ProviderID: "pxc", CustomerID: "acme"}}); err != nil {
		t.Fatal(err)
	}
	res, ok, err := s.ReserveIdempotency(ctx, "pxc", "key-1", "hash", time.Minute)
	if err != nil || !ok {
		t.Fatalf("reserve: %v, %v", ok, err)
	}
	if err := s.CompleteIdempotency(ctx, res, 201, []byte(`{"ok":true}`)); err != nil {
		t.Fatal(err)
	}

	want := []string{
		// the number
		`GSI1PK S C#acme
GSI1SK S WAITING_FOR_UNASSIGN#+97239754569
GSI2PK S P#pxc#C#acme
GSI2SK S WAITING_FOR_UNASSIGN#+97239754569
GSI3PK S INFLIGHT#3
GSI3SK S 2026-11-27T12:00:00.123Z#acme#+97239754569
PK S NUM#acme#+97239754569
SK S STATE
attempt N 2
customer_id S acme
execution S acme-97239754569-2
message S assigned
number S +97239754569
provider_id S pxc
reason S returned
removal_started BOOL true
request_id S req-1
requested_at S 2026-11-27T11:00:00.123456789Z
status S WAITING_FOR_UNASSIGN
task_token S tok
transitions N 4
updated_at S 2026-11-27T12:00:00.123Z
version N 5
zoom_assignee M {extension_number S 1001; id S u1; name S Dana; type S user}`,
		// its history entry
		`PK S NUM#acme#+97239754569
SK S H#00000004
actor S workflow
at S 2026-11-27T12:00:00.123Z
attempt N 2
customer_id S acme
from S RELEASING
number S +97239754569
provider_id S pxc
request_id S req-1
to S WAITING_FOR_UNASSIGN
version N 4
why S assigned in Zoom`,
		// the customer, listed, and its copy under its Zoom account
		customerLayout,
		`PK S ZACCT#zoom-acme
SK S META
customer_id S acme
name S Acme Corp
zoom_account_id S zoom-acme`,
		// the provider link
		`PK S PROV#pxc
SK S CUST#acme
customer_id S acme
provider_id S pxc`,
		// the idempotency record: reserved, then completed
		`PK S IDEM#pxc#key-1
SK S IDEM
body_hash S hash
created_at S 2026-11-27T12:00:00.123456789Z
expires_at N 1795780861
key S key-1
owner S OWNER
scope S pxc
state S IN_PROGRESS`,
		`PK S IDEM#pxc#key-1
SK S IDEM
body B "{\"ok\":true}"
body_hash S hash
created_at S 2026-11-27T12:00:00.123456789Z
expires_at N 1795867201
key S key-1
owner S OWNER
scope S pxc
state S COMPLETED
status N 201`,
	}
	if len(db.written) != len(want) {
		t.Fatalf("%d items written; want %d", len(db.written), len(want))
	}
	for i, it := range db.written {
		got := strings.ReplaceAll(render(it), "owner S "+res.Owner, "owner S OWNER")
		if got != want[i] {
			t.Errorf("item %d:\n%s\nwant:\n%s", i, got, want[i])
		}
	}

	// Read back as written.
	back, err := s.GetNumber(ctx, "acme", "+97239754569")
	if err != nil || !reflect.DeepEqual(back, written) {
		t.Errorf("number read back = %+v, %v; want %+v", back, err, written)
	}
	c, err := s.CustomerByZoomAccount(ctx, "zoom-acme")
	if err != nil || !reflect.DeepEqual(c, domain.Customer{ID: "acme", Name: "Acme Corp", ZoomAccountID: "zoom-acme"}) {
		t.Errorf("customer read back by its Zoom account = %+v, %v", c, err)
	}
	c, err = s.GetCustomer(ctx, "acme")
	if want := (domain.Customer{ID: "acme", Name: "Acme Corp", ZoomAccountID: "zoom-acme", ContactEmails: []string{"ops@acme.example"},
		Providers: []string{"pxc"}}); err != nil || !reflect.DeepEqual(c, want) {
		t.Errorf("customer read back = %+v, %v; want %+v", c, err, want)
	}
	if linked, err := s.IsLinked(ctx, "pxc", "acme"); err != nil || !linked {
		t.Errorf("link read back = %v, %v", linked, err)
	}
	rec, err := s.GetIdempotency(ctx, "pxc", "key-1")
	if err != nil || rec.State != domain.IdempotencyCompleted || rec.Status != 201 || string(rec.Body) != `{"ok":true}` || rec.Owner != res.Owner {
		t.Errorf("idempotency record read back = %+v, %v", rec, err)
	}
}
