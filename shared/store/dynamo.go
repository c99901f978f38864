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
	"numberrelease/shared/pause"
	"numberrelease/shared/table"
)

// DynamoDB's limits, respected even where an emulator does not enforce them.
const (
	maxTransactItems = 100
	maxBatchGet      = 100
	maxBatchWrite    = 25
	maxBatchRetries  = 8
)

// DB is the part of the DynamoDB API the store uses.
type DB interface {
	GetItem(ctx context.Context, in *dynamodb.GetItemInput, opts ...func(*dynamodb.Options)) (*dynamodb.GetItemOutput, error)
	PutItem(ctx context.Context, in *dynamodb.PutItemInput, opts ...func(*dynamodb.Options)) (*dynamodb.PutItemOutput, error)
	UpdateItem(ctx context.Context, in *dynamodb.UpdateItemInput, opts ...func(*dynamodb.Options)) (*dynamodb.UpdateItemOutput, error)
	DeleteItem(ctx context.Context, in *dynamodb.DeleteItemInput, opts ...func(*dynamodb.Options)) (*dynamodb.DeleteItemOutput, error)
	Query(ctx context.Context, in *dynamodb.QueryInput, opts ...func(*dynamodb.Options)) (*dynamodb.QueryOutput, error)
	// Scan serves only the one-time backfill of the pending keys
	// (BackfillPending); every listing is a Query.
	Scan(ctx context.Context, in *dynamodb.ScanInput, opts ...func(*dynamodb.Options)) (*dynamodb.ScanOutput, error)
	BatchGetItem(ctx context.Context, in *dynamodb.BatchGetItemInput, opts ...func(*dynamodb.Options)) (*dynamodb.BatchGetItemOutput, error)
	BatchWriteItem(ctx context.Context, in *dynamodb.BatchWriteItemInput, opts ...func(*dynamodb.Options)) (*dynamodb.BatchWriteItemOutput, error)
	TransactWriteItems(ctx context.Context, in *dynamodb.TransactWriteItemsInput, opts ...func(*dynamodb.Options)) (*dynamodb.TransactWriteItemsOutput, error)
}

var _ DB = (*dynamodb.Client)(nil)

// Store is the DynamoDB-backed store.
type Store struct {
	db    DB
	table string
	now   func() time.Time
	// backoff is the pause before retry n of unprocessed batch items.
	backoff func(n int) time.Duration
}

// New returns a store over one table.
func New(db DB, table string) *Store {
	return &Store{
		db: db, table: table, now: time.Now,
		backoff: func(n int) time.Duration { return time.Duration(1<<n) * 25 * time.Millisecond },
	}
}

func keyOf(pk, sk string) map[string]types.AttributeValue {
	return map[string]types.AttributeValue{
		table.AttrPK: &types.AttributeValueMemberS{Value: pk},
		table.AttrSK: &types.AttributeValueMemberS{Value: sk},
	}
}

// GetNumber reads one number's current state (strongly consistent).
func (s *Store) GetNumber(ctx context.Context, customerID, e164 string) (domain.Number, error) {
	out, err := s.db.GetItem(ctx, &dynamodb.GetItemInput{
		TableName: aws.String(s.table), Key: keyOf(numberPK(customerID, e164), skState), ConsistentRead: aws.Bool(true),
	})
	if err != nil {
		return domain.Number{}, fmt.Errorf("get number %s of %s: %w", e164, customerID, err)
	}
	if out.Item == nil {
		return domain.Number{}, fmt.Errorf("number %s of %s: %w", e164, customerID, domain.ErrNotFound)
	}
	var it numberItem
	if err := attributevalue.UnmarshalMap(out.Item, &it); err != nil {
		return domain.Number{}, fmt.Errorf("decode number %s: %w", e164, err)
	}
	return it.number(), nil
}

// GetNumbers reads many numbers of one customer, consistently, 100 keys
// per call, retrying unprocessed keys (batchGet). Numbers never seen are
// absent from the map.
func (s *Store) GetNumbers(ctx context.Context, customerID string, numbers []string) (map[string]domain.Number, error) {
	keys := make([]map[string]types.AttributeValue, len(numbers))
	for i, n := range numbers {
		keys[i] = keyOf(numberPK(customerID, n), skState)
	}
	found := make(map[string]domain.Number, len(numbers))
	if err := s.batchGet(ctx, keys, true, func(raw map[string]types.AttributeValue) error {
		var it numberItem
		if err := attributevalue.UnmarshalMap(raw, &it); err != nil {
			return fmt.Errorf("decode number: %w", err)
		}
		found[it.Number] = it.number()
		return nil
	}); err != nil {
		return nil, fmt.Errorf("get numbers of %s: %w", customerID, err)
	}
	return found, nil
}

// batchGet reads the items at keys, maxBatchGet keys per BatchGetItem
// (consistent reads if consistent), and hands each item found to fn, in
// no particular order; keys without an item are skipped. Unprocessed keys
// are retried after s.backoff, at most maxBatchRetries times a call.
func (s *Store) batchGet(ctx context.Context, keys []map[string]types.AttributeValue, consistent bool, fn func(map[string]types.AttributeValue) error) error {
	for start := 0; start < len(keys); start += maxBatchGet {
		chunk := keys[start:min(start+maxBatchGet, len(keys))]
		ka := types.KeysAndAttributes{Keys: chunk}
		if consistent {
			ka.ConsistentRead = aws.Bool(true)
		}
		req := map[string]types.KeysAndAttributes{s.table: ka}
		for attempt := 0; len(req) > 0; attempt++ {
			if attempt > maxBatchRetries {
				return fmt.Errorf("unprocessed keys after %d retries", maxBatchRetries)
			}
			if attempt > 0 {
				if err := pause.For(ctx, s.backoff(attempt)); err != nil {
					return err
				}
			}
			out, err := s.db.BatchGetItem(ctx, &dynamodb.BatchGetItemInput{RequestItems: req})
			if err != nil {
				return err
			}
			for _, raw := range out.Responses[s.table] {
				if err := fn(raw); err != nil {
					return err
				}
			}
			req = out.UnprocessedKeys
		}
	}
	return nil
}

// Apply writes one change; see ApplyAll.
func (s *Store) Apply(ctx context.Context, c domain.Change) (domain.Number, error) {
	out, err := s.ApplyAll(ctx, []domain.Change{c})
	if err != nil {
		return domain.Number{}, err
	}
	return out[0], nil
}

// ApplyAll writes changes as conditional puts: each only if the number is
// still exactly as it was read (same version, or still absent). A status
// change adds its immutable history entry in the same transaction. Changes
// are grouped into transactions of at most 100 items; each transaction is
// all-or-nothing, and a refused one returns a *domain.ConflictError naming the
// numbers that had moved (transactions before it stay written).
func (s *Store) ApplyAll(ctx context.Context, changes []domain.Change) ([]domain.Number, error) {
	return s.applyAll(ctx, nil, changes)
}

// applyAll is ApplyAll with lead items written in the first transaction
// (a request's item, ApplyRequest).
func (s *Store) applyAll(ctx context.Context, lead []types.TransactWriteItem, changes []domain.Change) ([]domain.Number, error) {
	now := s.now().UTC().Truncate(time.Millisecond)
	written := make([]domain.Number, 0, len(changes))
	batch := lead
	batchNumbers := make([]string, len(lead)) // the number behind each item of batch ("" for lead items)
	flush := func() error {
		if len(batch) == 0 {
			return nil
		}
		err := s.transact(ctx, batch, batchNumbers)
		batch, batchNumbers = nil, nil
		return err
	}
	for _, c := range changes {
		items, next, err := s.changeItems(c, now)
		if err != nil {
			return nil, err
		}
		if len(batch)+len(items) > maxTransactItems {
			if err := flush(); err != nil {
				return nil, err
			}
		}
		batch = append(batch, items...)
		for range items {
			batchNumbers = append(batchNumbers, next.Number)
		}
		written = append(written, next)
	}
	if err := flush(); err != nil {
		return nil, err
	}
	return written, nil
}

// ApplyEach writes changes that stand each on its own, grouped into
// transactions of at most 100 items to save round trips. A transaction
// refused because some of its numbers moved is sent again without them, so
// one conflict does not hold up the rest. It returns, for each change in
// order, the number as written or the change's error (a *ConflictError for
// a number that moved; a change it cannot encode; or the error of a
// transaction that failed as a whole).
func (s *Store) ApplyEach(ctx context.Context, changes []domain.Change) ([]domain.Number, []error) {
	now := s.now().UTC().Truncate(time.Millisecond)
	written := make([]domain.Number, len(changes))
	errs := make([]error, len(changes))
	type pending struct {
		at    int
		items []types.TransactWriteItem
	}
	var chunk []pending
	size := 0
	flush := func() {
		for len(chunk) > 0 {
			var items []types.TransactWriteItem
			var owners []string
			for _, p := range chunk {
				items = append(items, p.items...)
				for range p.items {
					owners = append(owners, changes[p.at].Next.Number)
				}
			}
			err := s.transact(ctx, items, owners)
			var ce *domain.ConflictError
			if !errors.As(err, &ce) {
				for _, p := range chunk {
					if errs[p.at] = err; err != nil {
						written[p.at] = domain.Number{}
					}
				}
				break
			}
			moved := map[string]bool{}
			for _, n := range ce.Numbers {
				moved[n] = true
			}
			rest := chunk[:0]
			for _, p := range chunk {
				if moved[changes[p.at].Next.Number] {
					errs[p.at], written[p.at] = &domain.ConflictError{Numbers: []string{changes[p.at].Next.Number}}, domain.Number{}
					continue
				}
				rest = append(rest, p)
			}
			if len(rest) == len(chunk) { // no progress: the refusal named none of them
				for _, p := range chunk {
					errs[p.at], written[p.at] = err, domain.Number{}
				}
				break
			}
			chunk = rest
		}
		chunk, size = nil, 0
	}
	for i, c := range changes {
		items, next, err := s.changeItems(c, now)
		if err != nil {
			errs[i] = err
			continue
		}
		if size+len(items) > maxTransactItems {
			flush()
		}
		chunk = append(chunk, pending{at: i, items: items})
		size += len(items)
		written[i] = next
	}
	flush()
	return written, errs
}

func (s *Store) changeItems(c domain.Change, now time.Time) ([]types.TransactWriteItem, domain.Number, error) {
	next := c.Next
	if c.Prev.Version != 0 && (c.Prev.CustomerID != next.CustomerID || c.Prev.Number != next.Number) {
		return nil, domain.Number{}, fmt.Errorf("change of %s: prev and next name different numbers", next.Number)
	}
	statusChange := c.Prev.Status != next.Status || c.Prev.Version == 0
	if statusChange && !domain.CanTransition(c.Prev.Status, next.Status) {
		return nil, domain.Number{}, fmt.Errorf("change of %s: %q → %q is not an allowed transition", next.Number, c.Prev.Status, next.Status)
	}
	next.Version = c.Prev.Version + 1
	next.Transitions = c.Prev.Transitions
	if statusChange {
		next.Transitions++
	}
	next.UpdatedAt = now
	switch {
	case next.Status != domain.PendingApproval:
		next.PendingSince, next.Reminders = time.Time{}, 0
	case statusChange:
		next.PendingSince, next.Reminders = now, 0
	case next.PendingSince.IsZero():
		next.PendingSince = c.Prev.PendingSince
	}
	if next.RequestedAt.IsZero() {
		next.RequestedAt = now
	}
	av, err := attributevalue.MarshalMap(numberItemOf(next))
	if err != nil {
		return nil, domain.Number{}, fmt.Errorf("encode number %s: %w", next.Number, err)
	}
	put := &types.Put{TableName: aws.String(s.table), Item: av}
	if c.Prev.Version == 0 {
		put.ConditionExpression = aws.String("attribute_not_exists(PK)")
	} else {
		put.ConditionExpression = aws.String("#v = :v AND #s = :s")
		put.ExpressionAttributeNames = map[string]string{"#v": "version", "#s": "status"}
		put.ExpressionAttributeValues = map[string]types.AttributeValue{
			":v": &types.AttributeValueMemberN{Value: fmt.Sprint(c.Prev.Version)},
			":s": &types.AttributeValueMemberS{Value: string(c.Prev.Status)},
		}
	}
	items := []types.TransactWriteItem{{Put: put}}
	members, err := s.memberItems(c, next)
	if err != nil {
		return nil, domain.Number{}, err
	}
	items = append(items, members...)
	if statusChange {
		h := historyItemOf(domain.HistoryEntry{
			CustomerID: next.CustomerID, Number: next.Number, ProviderID: next.ProviderID,
			Version: next.Transitions, Attempt: next.Attempt, At: now, Actor: c.Actor, From: c.Prev.Status, To: next.Status,
			Why: c.Why, RequestID: next.RequestID,
		})
		hav, err := attributevalue.MarshalMap(h)
		if err != nil {
			return nil, domain.Number{}, fmt.Errorf("encode history of %s: %w", next.Number, err)
		}
		items = append(items, types.TransactWriteItem{Put: &types.Put{
			TableName: aws.String(s.table), Item: hav, ConditionExpression: aws.String("attribute_not_exists(PK)"),
		}})
	}
	return items, next, nil
}

func (s *Store) transact(ctx context.Context, items []types.TransactWriteItem, numbers []string) error {
	_, err := s.db.TransactWriteItems(ctx, &dynamodb.TransactWriteItemsInput{TransactItems: items})
	if err == nil {
		return nil
	}
	var tce *types.TransactionCanceledException
	if errors.As(err, &tce) {
		conflict := &domain.ConflictError{}
		seen := map[string]bool{}
		for i, r := range tce.CancellationReasons {
			// ConditionalCheckFailed: the number moved. TransactionConflict:
			// another transaction was writing it at that moment. Either way
			// the caller re-reads and decides again.
			code := aws.ToString(r.Code)
			if (code == "ConditionalCheckFailed" || code == "TransactionConflict") && i < len(numbers) && numbers[i] != "" && !seen[numbers[i]] {
				seen[numbers[i]] = true
				conflict.Numbers = append(conflict.Numbers, numbers[i])
			}
		}
		if len(conflict.Numbers) > 0 {
			return conflict
		}
	}
	return fmt.Errorf("write %d items: %w", len(items), err)
}

// History returns a number's history, oldest first.
func (s *Store) History(ctx context.Context, customerID, e164 string) ([]domain.HistoryEntry, error) {
	var out []domain.HistoryEntry
	p := dynamodb.NewQueryPaginator(s.db, &dynamodb.QueryInput{
		TableName:              aws.String(s.table),
		KeyConditionExpression: aws.String("PK = :pk AND begins_with(SK, :h)"),
		ExpressionAttributeValues: map[string]types.AttributeValue{
			":pk": &types.AttributeValueMemberS{Value: numberPK(customerID, e164)},
			":h":  &types.AttributeValueMemberS{Value: historyPrefix},
		},
		ConsistentRead: aws.Bool(true),
	})
	for p.HasMorePages() {
		page, err := p.NextPage(ctx)
		if err != nil {
			return nil, fmt.Errorf("history of %s: %w", e164, err)
		}
		for _, raw := range page.Items {
			var h historyItem
			if err := attributevalue.UnmarshalMap(raw, &h); err != nil {
				return nil, fmt.Errorf("decode history of %s: %w", e164, err)
			}
			out = append(out, h.entry())
		}
	}
	return out, nil
}
