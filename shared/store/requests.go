package store

import (
	"context"
	"fmt"
	"slices"
	"strings"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/feature/dynamodb/attributevalue"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb/types"

	"numberrelease/shared/domain"
	"numberrelease/shared/table"
)

// A provider's release request is kept in a partition of its own:
//
//	request  PK=REQ#<request>  SK=META
//	member   PK=REQ#<request>  SK=N#<e164>   (one per number of the request)
//
// The request item is written in the first transaction of the request's
// numbers (ApplyRequest), so it exists as soon as any of its numbers does.
// A member item is written in the same transaction as the change that
// puts its number into the request; it holds no status while the number
// belongs to the request (the number's own state item is the one truth,
// read when the request is read), and when the number is asked for again
// under a newer request, that change's transaction writes the status the
// number ended this request in into its member item. A request's counts
// per status are therefore computed when it is read, from at most 500
// numbers: they cannot drift from the numbers, however many workflows
// move them at once, and no write of a number's status touches a shared
// counter item (which concurrent transitions of one request's numbers
// would contend for).
//
// Request items carry index keys of their own partitions, so a provider's
// requests are listed newest first with one Query and no Scan:
//
//	ByProvider  GSI2PK=REQS#<provider>               GSI2SK=<created_at>#<request>
//	ByCustomer  GSI1PK=REQS#<provider>#C#<customer>  GSI1SK=<created_at>#<request>
//
// No number's or customer list's index partition begins with "REQS#"
// (theirs begin with "P#", "C#" or are CUSTOMERS).
const (
	skRequestMember = "N#"
	requestTime     = "2006-01-02T15:04:05.000Z07:00"
)

func requestPK(requestID string) string           { return "REQ#" + idPart(requestID) }
func requestMemberSK(e164 string) string          { return skRequestMember + e164 }
func providerRequestsPK(providerID string) string { return "REQS#" + idPart(providerID) }
func providerCustomerRequestsPK(providerID, customerID string) string {
	return "REQS#" + idPart(providerID) + "#C#" + idPart(customerID)
}
func requestIndexSK(r domain.Request) string {
	return r.CreatedAt.UTC().Format(requestTime) + "#" + idPart(r.ID)
}

// requestItem is a release request as stored.
type requestItem struct {
	PK         string    `dynamodbav:"PK"`
	SK         string    `dynamodbav:"SK"`
	GSI1PK     string    `dynamodbav:"GSI1PK"`
	GSI1SK     string    `dynamodbav:"GSI1SK"`
	GSI2PK     string    `dynamodbav:"GSI2PK"`
	GSI2SK     string    `dynamodbav:"GSI2SK"`
	RequestID  string    `dynamodbav:"request_id"`
	ProviderID string    `dynamodbav:"provider_id"`
	CustomerID string    `dynamodbav:"customer_id"`
	CreatedAt  time.Time `dynamodbav:"created_at"`
	Reason     string    `dynamodbav:"reason,omitempty"`
}

func requestItemOf(r domain.Request) *requestItem {
	return &requestItem{
		PK: requestPK(r.ID), SK: skMeta,
		GSI1PK: providerCustomerRequestsPK(r.ProviderID, r.CustomerID), GSI1SK: requestIndexSK(r),
		GSI2PK: providerRequestsPK(r.ProviderID), GSI2SK: requestIndexSK(r),
		RequestID: r.ID, ProviderID: r.ProviderID, CustomerID: r.CustomerID, CreatedAt: r.CreatedAt, Reason: r.Reason,
	}
}

func (it requestItem) request() domain.Request {
	return domain.Request{ID: it.RequestID, ProviderID: it.ProviderID, CustomerID: it.CustomerID, CreatedAt: it.CreatedAt, Reason: it.Reason}
}

// memberItem says a number belongs to a request. Status is set only once
// the number has left the request (asked for again under a newer one).
type memberItem struct {
	PK         string        `dynamodbav:"PK"`
	SK         string        `dynamodbav:"SK"`
	RequestID  string        `dynamodbav:"request_id"`
	CustomerID string        `dynamodbav:"customer_id"`
	Number     string        `dynamodbav:"number"`
	Status     domain.Status `dynamodbav:"status,omitempty"`
	Message    string        `dynamodbav:"message,omitempty"`
}

// memberItems are the request bookkeeping of change c (whose number will
// be next): when the number enters a request, its member item there; when
// it leaves an earlier request for it, the status it ended that request
// in. Both are Puts (the only write the table's callers may make anywhere).
func (s *Store) memberItems(c domain.Change, next domain.Number) ([]types.TransactWriteItem, error) {
	if next.RequestID == c.Prev.RequestID || next.RequestID == "" {
		return nil, nil
	}
	put := func(m memberItem) (types.TransactWriteItem, error) {
		av, err := attributevalue.MarshalMap(m)
		if err != nil {
			return types.TransactWriteItem{}, fmt.Errorf("encode request member %s of %s: %w", m.Number, m.RequestID, err)
		}
		return types.TransactWriteItem{Put: &types.Put{TableName: aws.String(s.table), Item: av}}, nil
	}
	joined, err := put(memberItem{PK: requestPK(next.RequestID), SK: requestMemberSK(next.Number),
		RequestID: next.RequestID, CustomerID: next.CustomerID, Number: next.Number})
	if err != nil {
		return nil, err
	}
	items := []types.TransactWriteItem{joined}
	if c.Prev.Version != 0 && c.Prev.RequestID != "" {
		left, err := put(memberItem{PK: requestPK(c.Prev.RequestID), SK: requestMemberSK(next.Number),
			RequestID: c.Prev.RequestID, CustomerID: c.Prev.CustomerID, Number: next.Number,
			Status: c.Prev.Status, Message: c.Prev.Message})
		if err != nil {
			return nil, err
		}
		items = append(items, left)
	}
	return items, nil
}

// ApplyRequest records a new request with its numbers: ApplyAll, with the
// request's item in the first transaction. Every change must put its
// number into r (Next.RequestID == r.ID).
func (s *Store) ApplyRequest(ctx context.Context, r domain.Request, changes []domain.Change) ([]domain.Number, error) {
	if len(changes) == 0 {
		return nil, nil
	}
	for _, c := range changes {
		if c.Next.RequestID != r.ID || c.Next.CustomerID != r.CustomerID || c.Next.ProviderID != r.ProviderID {
			return nil, fmt.Errorf("request %s: the change of %s does not belong to it", r.ID, c.Next.Number)
		}
	}
	if r.CreatedAt.IsZero() {
		r.CreatedAt = s.now()
	}
	r.CreatedAt = r.CreatedAt.UTC().Truncate(time.Millisecond)
	av, err := attributevalue.MarshalMap(requestItemOf(r))
	if err != nil {
		return nil, fmt.Errorf("encode request %s: %w", r.ID, err)
	}
	lead := []types.TransactWriteItem{{Put: &types.Put{
		TableName: aws.String(s.table), Item: av, ConditionExpression: aws.String("attribute_not_exists(PK)"),
	}}}
	return s.applyAll(ctx, lead, changes)
}

// GetRequest reads a request (strongly consistent); domain.ErrNotFound
// when there is none.
func (s *Store) GetRequest(ctx context.Context, requestID string) (domain.Request, error) {
	out, err := s.db.GetItem(ctx, &dynamodb.GetItemInput{
		TableName: aws.String(s.table), Key: keyOf(requestPK(requestID), skMeta), ConsistentRead: aws.Bool(true),
	})
	if err != nil {
		return domain.Request{}, fmt.Errorf("get request %s: %w", requestID, err)
	}
	if out.Item == nil {
		return domain.Request{}, fmt.Errorf("request %s: %w", requestID, domain.ErrNotFound)
	}
	var it requestItem
	if err := attributevalue.UnmarshalMap(out.Item, &it); err != nil {
		return domain.Request{}, fmt.Errorf("decode request %s: %w", requestID, err)
	}
	return it.request(), nil
}

// RequestNumbers returns a request's numbers, by number, each with its
// status for the request: one Query of the request's partition (at most
// 500 small member items) and strongly consistent reads of the numbers'
// states, 100 per call.
func (s *Store) RequestNumbers(ctx context.Context, r domain.Request) ([]domain.RequestNumber, error) {
	members, err := s.requestMembers(ctx, r.ID)
	if err != nil {
		return nil, err
	}
	var live []string
	for _, m := range members {
		if m.Status == domain.None {
			live = append(live, m.Number)
		}
	}
	states, err := s.GetNumbers(ctx, r.CustomerID, live)
	if err != nil {
		return nil, fmt.Errorf("numbers of request %s: %w", r.ID, err)
	}
	out := make([]domain.RequestNumber, 0, len(members))
	for _, m := range members {
		if m.Status != domain.None {
			out = append(out, domain.RequestNumber{Number: m.Number, Status: m.Status, Message: m.Message})
			continue
		}
		n, ok := states[m.Number]
		if ok && n.RequestID == r.ID {
			out = append(out, domain.RequestNumber{Number: n.Number, Status: n.Status, Message: n.Message})
			continue
		}
		// The number left the request between the two reads (or its
		// transaction is still landing): its member item says how it ended.
		left, err := s.requestMember(ctx, r.ID, m.Number)
		if err != nil {
			return nil, err
		}
		if left.Status == domain.None {
			return nil, fmt.Errorf("request %s: number %s is in request %q and its member item has no final status", r.ID, m.Number, n.RequestID)
		}
		out = append(out, domain.RequestNumber{Number: left.Number, Status: left.Status, Message: left.Message})
	}
	slices.SortFunc(out, func(a, b domain.RequestNumber) int { return strings.Compare(a.Number, b.Number) })
	return out, nil
}

func (s *Store) requestMembers(ctx context.Context, requestID string) ([]memberItem, error) {
	var out []memberItem
	p := dynamodb.NewQueryPaginator(s.db, &dynamodb.QueryInput{
		TableName:              aws.String(s.table),
		KeyConditionExpression: aws.String("PK = :pk AND begins_with(SK, :n)"),
		ExpressionAttributeValues: map[string]types.AttributeValue{
			":pk": &types.AttributeValueMemberS{Value: requestPK(requestID)},
			":n":  &types.AttributeValueMemberS{Value: skRequestMember},
		},
		ConsistentRead: aws.Bool(true),
	})
	for p.HasMorePages() {
		page, err := p.NextPage(ctx)
		if err != nil {
			return nil, fmt.Errorf("members of request %s: %w", requestID, err)
		}
		for _, raw := range page.Items {
			var m memberItem
			if err := attributevalue.UnmarshalMap(raw, &m); err != nil {
				return nil, fmt.Errorf("decode member of request %s: %w", requestID, err)
			}
			out = append(out, m)
		}
	}
	return out, nil
}

func (s *Store) requestMember(ctx context.Context, requestID, e164 string) (memberItem, error) {
	out, err := s.db.GetItem(ctx, &dynamodb.GetItemInput{
		TableName: aws.String(s.table), Key: keyOf(requestPK(requestID), requestMemberSK(e164)), ConsistentRead: aws.Bool(true),
	})
	if err != nil {
		return memberItem{}, fmt.Errorf("member %s of request %s: %w", e164, requestID, err)
	}
	var m memberItem
	if out.Item == nil {
		return m, nil
	}
	if err := attributevalue.UnmarshalMap(out.Item, &m); err != nil {
		return memberItem{}, fmt.Errorf("decode member %s of request %s: %w", e164, requestID, err)
	}
	return m, nil
}

// ListRequests returns one page of a provider's requests (of one customer,
// if q names one), newest first, from an index (never a Scan). The cursor
// is opaque and valid only for the same listing.
func (s *Store) ListRequests(ctx context.Context, q domain.RequestQuery) (domain.RequestPage, error) {
	index, pkAttr := table.IndexProvider, table.AttrGSI2PK
	pk := providerRequestsPK(q.ProviderID)
	if q.CustomerID != "" {
		index, pkAttr = table.IndexCustomer, table.AttrGSI1PK
		pk = providerCustomerRequestsPK(q.ProviderID, q.CustomerID)
	}
	limit := q.Limit
	if limit <= 0 {
		limit = domain.DefaultRequestPageSize
	}
	limit = min(limit, domain.MaxRequestPageSize)
	in := &dynamodb.QueryInput{
		TableName:                 aws.String(s.table),
		IndexName:                 aws.String(index),
		KeyConditionExpression:    aws.String("#pk = :pk"),
		ExpressionAttributeNames:  map[string]string{"#pk": pkAttr},
		ExpressionAttributeValues: map[string]types.AttributeValue{":pk": &types.AttributeValueMemberS{Value: pk}},
		ScanIndexForward:          aws.Bool(false),
		Limit:                     aws.Int32(int32(limit)),
	}
	if q.Cursor != "" {
		start, err := decodeCursor(q.Cursor, pkAttr, pk)
		if err != nil {
			return domain.RequestPage{}, err
		}
		in.ExclusiveStartKey = start
	}
	out, err := s.db.Query(ctx, in)
	if err != nil {
		return domain.RequestPage{}, fmt.Errorf("list requests of %s: %w", q.ProviderID, err)
	}
	page := domain.RequestPage{Items: make([]domain.Request, 0, len(out.Items))}
	for _, raw := range out.Items {
		var it requestItem
		if err := attributevalue.UnmarshalMap(raw, &it); err != nil {
			return domain.RequestPage{}, fmt.Errorf("decode listed request: %w", err)
		}
		page.Items = append(page.Items, it.request())
	}
	if len(out.LastEvaluatedKey) > 0 {
		if page.NextCursor, err = encodeCursor(out.LastEvaluatedKey); err != nil {
			return domain.RequestPage{}, err
		}
	}
	return page, nil
}
