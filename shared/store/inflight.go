package store

import (
	"context"
	"fmt"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/feature/dynamodb/attributevalue"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb/types"

	"numberrelease/shared/domain"
	"numberrelease/shared/table"
)

// InFlightBefore calls fn for every number that a workflow should be moving
// (RELEASING or WAITING_FOR_UNASSIGN) and that has not changed since before
// cutoff — the reconciler's candidates. It reads the sparse InFlight index,
// shard by shard, page by page; it never scans the table.
func (s *Store) InFlightBefore(ctx context.Context, cutoff time.Time, fn func(domain.Number) error) error {
	return s.indexedBefore(ctx, "INFLIGHT#", "in-flight", cutoff, fn)
}

// PendingBefore calls fn for every PENDING_APPROVAL number that entered
// PENDING_APPROVAL before cutoff (Number.PendingSince) — the expiry sweep's
// candidates. It reads the pending partitions of the InFlight index, shard
// by shard; it never scans the table.
func (s *Store) PendingBefore(ctx context.Context, cutoff time.Time, fn func(domain.Number) error) error {
	return s.indexedBefore(ctx, pendingPrefix, "pending", cutoff, fn)
}

func (s *Store) indexedBefore(ctx context.Context, prefix, what string, cutoff time.Time, fn func(domain.Number) error) error {
	upper := cutoff.UTC().Format(inFlightTime)
	for shard := 0; shard < inFlightShards; shard++ {
		p := dynamodb.NewQueryPaginator(s.db, &dynamodb.QueryInput{
			TableName:                aws.String(s.table),
			IndexName:                aws.String(table.IndexInFlight),
			KeyConditionExpression:   aws.String("#pk = :pk AND #sk < :upper"),
			ExpressionAttributeNames: map[string]string{"#pk": table.AttrGSI3PK, "#sk": table.AttrGSI3SK},
			ExpressionAttributeValues: map[string]types.AttributeValue{
				":pk":    &types.AttributeValueMemberS{Value: fmt.Sprintf("%s%d", prefix, shard)},
				":upper": &types.AttributeValueMemberS{Value: upper},
			},
		})
		for p.HasMorePages() {
			page, err := p.NextPage(ctx)
			if err != nil {
				return fmt.Errorf("list %s numbers (shard %d): %w", what, shard, err)
			}
			for _, raw := range page.Items {
				var it numberItem
				if err := attributevalue.UnmarshalMap(raw, &it); err != nil {
					return fmt.Errorf("decode %s number: %w", what, err)
				}
				if err := fn(it.number()); err != nil {
					return err
				}
			}
		}
	}
	return nil
}
