package store

import (
	"context"
	"errors"
	"fmt"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/feature/dynamodb/attributevalue"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb/types"

	"numberrelease/shared/domain"
	"numberrelease/shared/table"
)

// The backfill of the pending index keys.
//
// A table written before the expiry sweep existed holds PENDING_APPROVAL
// numbers without pending_since and without their PENDING# InFlight keys.
// PendingBefore never sees them, so nothing would ever expire them.
// BackfillPending finds them with a filtered Scan (once per table, in
// bounded steps) and writes each the attributes it would have had.
//
// Its progress is one marker item (keys.go):
//
//	backfill  PK=BACKFILL#pending-keys  SK=BACKFILL
//
// with the Scan's position (cursor_pk, cursor_sk: a base table scan's
// LastEvaluatedKey is the item key), the pass, what it counted, and done.
// The backfill is done when a whole pass over the table found nothing to
// fix. After a pass that fixed numbers, the next call starts one more pass:
// it begins at least one call later (a sweep, 15 minutes), so it also finds
// a number written without the keys by code of the previous release that
// was still running while the first pass went by. Once done, a call costs
// one GetItem.
const (
	backfillPK = "BACKFILL#pending-keys"
	skBackfill = "BACKFILL"
)

// backfillItem is the backfill's marker. Version guards it: two calls at
// once cannot move it back (the later write is refused and its call ends).
type backfillItem struct {
	PK        string     `dynamodbav:"PK"`
	SK        string     `dynamodbav:"SK"`
	Version   int        `dynamodbav:"version"`
	Pass      int        `dynamodbav:"pass"`
	CursorPK  string     `dynamodbav:"cursor_pk,omitempty"`
	CursorSK  string     `dynamodbav:"cursor_sk,omitempty"`
	PassFixed int        `dynamodbav:"pass_fixed"`
	Scanned   int        `dynamodbav:"scanned"`
	Fixed     int        `dynamodbav:"fixed"`
	Done      bool       `dynamodbav:"done"`
	UpdatedAt time.Time  `dynamodbav:"updated_at"`
	DoneAt    *time.Time `dynamodbav:"done_at,omitempty"`
}

// BackfillLimits bound one call of BackfillPending.
type BackfillLimits struct {
	// Pages is the most Scan pages one call reads (at least 1).
	Pages int
	// PageSize is how many items each page reads (Scan's Limit; 0:
	// DynamoDB's 1 MB).
	PageSize int32
	// Budget: no page starts after this long (0: no limit but Pages).
	Budget time.Duration
}

// BackfillResult is what one call of BackfillPending did.
type BackfillResult struct {
	Pages   int
	Scanned int
	// Fixed numbers now carry pending_since and their pending keys.
	Fixed int
	// Skipped numbers changed between the Scan and the write; the change
	// wrote their keys.
	Skipped int
	// Done: every pending number carries its keys; later calls do nothing.
	Done bool
}

// BackfillPending runs one bounded step of the backfill of the pending
// index keys (above), resuming where the last call stopped.
//
// A number's pending_since becomes its updated_at. Nothing before the
// expiry sweep wrote a PENDING_APPROVAL number without changing its status
// (the reminders, the only such write, came with the keys), so updated_at
// is when the number entered PENDING_APPROVAL: the time its last history
// entry records, without a read per number. Each write is the number's
// item as scanned plus pending_since and the keys, conditioned on its
// version and status and on it still lacking the keys; a number changed
// meanwhile is skipped (every write since sets the keys itself). The
// version does not change: the write adds only what the number's state
// implies, so a change read before it still applies.
func (s *Store) BackfillPending(ctx context.Context, lim BackfillLimits) (BackfillResult, error) {
	var res BackfillResult
	m, err := s.backfillMarker(ctx)
	if err != nil {
		return res, err
	}
	if m.Done {
		res.Done = true
		return res, nil
	}
	start := s.now()
	for res.Pages < max(lim.Pages, 1) {
		if res.Pages > 0 && lim.Budget > 0 && s.now().Sub(start) >= lim.Budget {
			break
		}
		// Eventually consistent: an item read stale has changed since,
		// so its write is refused (the version) and that change wrote its
		// keys; an item written too lately to be seen was written with them.
		in := &dynamodb.ScanInput{
			TableName:        aws.String(s.table),
			FilterExpression: aws.String("begins_with(#pk, :num) AND #sk = :state AND #status = :pending AND attribute_not_exists(#gsi3pk)"),
			ExpressionAttributeNames: map[string]string{
				"#pk": table.AttrPK, "#sk": table.AttrSK, "#status": "status", "#gsi3pk": table.AttrGSI3PK,
			},
			ExpressionAttributeValues: map[string]types.AttributeValue{
				":num":     &types.AttributeValueMemberS{Value: "NUM#"},
				":state":   &types.AttributeValueMemberS{Value: skState},
				":pending": &types.AttributeValueMemberS{Value: string(domain.PendingApproval)},
			},
		}
		if lim.PageSize > 0 {
			in.Limit = aws.Int32(lim.PageSize)
		}
		if m.CursorPK != "" {
			in.ExclusiveStartKey = keyOf(m.CursorPK, m.CursorSK)
		}
		out, err := s.db.Scan(ctx, in)
		if err != nil {
			return res, fmt.Errorf("backfill pending keys: scan (pass %d): %w", m.Pass, err)
		}
		res.Pages++
		res.Scanned += int(out.ScannedCount)
		fixed := 0
		for _, raw := range out.Items {
			ok, err := s.backfillNumber(ctx, raw)
			if err != nil {
				// The page is read again next time; what it fixed counts
				// for this pass, so the pass is not taken for one that
				// found nothing.
				res.Fixed += fixed
				m.Fixed, m.PassFixed = m.Fixed+fixed, m.PassFixed+fixed
				if _, serr := s.saveBackfillMarker(ctx, &m); serr != nil {
					err = errors.Join(err, serr)
				}
				return res, err
			}
			if ok {
				fixed++
			} else {
				res.Skipped++
			}
		}
		res.Fixed += fixed
		m.Scanned += int(out.ScannedCount)
		m.Fixed += fixed
		m.PassFixed += fixed
		end := len(out.LastEvaluatedKey) == 0
		switch {
		case !end:
			if m.CursorPK, m.CursorSK, err = cursorOf(out.LastEvaluatedKey); err != nil {
				return res, err
			}
		case m.PassFixed == 0:
			now := s.now().UTC()
			m.Done, m.DoneAt, m.CursorPK, m.CursorSK = true, &now, "", ""
		default:
			m.Pass, m.PassFixed, m.CursorPK, m.CursorSK = m.Pass+1, 0, "", ""
		}
		saved, err := s.saveBackfillMarker(ctx, &m)
		if err != nil {
			return res, err
		}
		if !saved || end {
			// Another call moved the marker on: it goes on from there.
			// Or the pass ended: a next pass begins with the next call.
			break
		}
	}
	res.Done = m.Done
	return res, nil
}

// backfillNumber writes one scanned number's pending_since and pending keys
// (true), unless it changed since it was scanned (false).
func (s *Store) backfillNumber(ctx context.Context, raw map[string]types.AttributeValue) (bool, error) {
	var it numberItem
	if err := attributevalue.UnmarshalMap(raw, &it); err != nil {
		return false, fmt.Errorf("backfill pending keys: decode %v: %w", raw[table.AttrPK], err)
	}
	n := it.number()
	n.PendingSince = n.UpdatedAt
	if n.PendingSince.IsZero() { // never written by the store; start its time to live now
		n.PendingSince = s.now().UTC().Truncate(time.Millisecond)
	}
	since, err := attributevalue.Marshal(n.PendingSince)
	if err != nil {
		return false, fmt.Errorf("backfill pending keys: encode pending_since of %s: %w", n.Number, err)
	}
	pk, sk := pendingKeys(n)
	item := make(map[string]types.AttributeValue, len(raw)+3)
	for k, v := range raw {
		item[k] = v
	}
	item["pending_since"] = since
	item[table.AttrGSI3PK] = &types.AttributeValueMemberS{Value: pk}
	item[table.AttrGSI3SK] = &types.AttributeValueMemberS{Value: sk}
	_, err = s.db.PutItem(ctx, &dynamodb.PutItemInput{
		TableName:                aws.String(s.table),
		Item:                     item,
		ConditionExpression:      aws.String("#v = :v AND #status = :pending AND attribute_not_exists(#gsi3pk)"),
		ExpressionAttributeNames: map[string]string{"#v": "version", "#status": "status", "#gsi3pk": table.AttrGSI3PK},
		ExpressionAttributeValues: map[string]types.AttributeValue{
			":v":       &types.AttributeValueMemberN{Value: fmt.Sprint(it.Version)},
			":pending": &types.AttributeValueMemberS{Value: string(domain.PendingApproval)},
		},
	})
	var ccf *types.ConditionalCheckFailedException
	switch {
	case errors.As(err, &ccf):
		return false, nil
	case err != nil:
		return false, fmt.Errorf("backfill pending keys of %s of %s: %w", n.Number, n.CustomerID, err)
	}
	return true, nil
}

// backfillMarker reads the marker; before the first call, a fresh one.
func (s *Store) backfillMarker(ctx context.Context) (backfillItem, error) {
	out, err := s.db.GetItem(ctx, &dynamodb.GetItemInput{
		TableName: aws.String(s.table), Key: keyOf(backfillPK, skBackfill), ConsistentRead: aws.Bool(true),
	})
	if err != nil {
		return backfillItem{}, fmt.Errorf("read the backfill marker: %w", err)
	}
	m := backfillItem{PK: backfillPK, SK: skBackfill, Pass: 1}
	if out.Item == nil {
		return m, nil
	}
	if err := attributevalue.UnmarshalMap(out.Item, &m); err != nil {
		return backfillItem{}, fmt.Errorf("decode the backfill marker: %w", err)
	}
	return m, nil
}

// saveBackfillMarker writes m as its next version, if nobody wrote it since
// it was read (false: someone did).
func (s *Store) saveBackfillMarker(ctx context.Context, m *backfillItem) (bool, error) {
	read := m.Version
	m.Version++
	m.UpdatedAt = s.now().UTC()
	av, err := attributevalue.MarshalMap(m)
	if err != nil {
		return false, fmt.Errorf("encode the backfill marker: %w", err)
	}
	in := &dynamodb.PutItemInput{TableName: aws.String(s.table), Item: av}
	if read == 0 {
		in.ConditionExpression = aws.String("attribute_not_exists(PK)")
	} else {
		in.ConditionExpression = aws.String("#v = :v")
		in.ExpressionAttributeNames = map[string]string{"#v": "version"}
		in.ExpressionAttributeValues = map[string]types.AttributeValue{":v": &types.AttributeValueMemberN{Value: fmt.Sprint(read)}}
	}
	_, err = s.db.PutItem(ctx, in)
	var ccf *types.ConditionalCheckFailedException
	switch {
	case errors.As(err, &ccf):
		return false, nil
	case err != nil:
		return false, fmt.Errorf("write the backfill marker: %w", err)
	}
	return true, nil
}

// cursorOf is a base table Scan's LastEvaluatedKey as the marker keeps it.
func cursorOf(key map[string]types.AttributeValue) (string, string, error) {
	pk, ok1 := key[table.AttrPK].(*types.AttributeValueMemberS)
	sk, ok2 := key[table.AttrSK].(*types.AttributeValueMemberS)
	if !ok1 || !ok2 || len(key) != 2 {
		return "", "", fmt.Errorf("backfill pending keys: scan position %v is not a table key", key)
	}
	return pk.Value, sk.Value, nil
}
