package emulator_test

import (
	"errors"
	"testing"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb/types"
	"github.com/aws/aws-sdk-go-v2/service/dynamodbstreams"
	streamtypes "github.com/aws/aws-sdk-go-v2/service/dynamodbstreams/types"
)

// TestTransactionRollback proves moto_server.py's rollback by key: a
// cancelled TransactWriteItems leaves every item it named as it was (new ones
// absent, overwritten, updated and deleted ones back) and adds no stream
// record; a committed one writes all and streams one record per write.
func TestTransactionRollback(t *testing.T) {
	const (
		existing = "NUM#+15551239001"
		updated  = "NUM#+15551239002"
		deleted  = "NUM#+15551239003"
		fresh    = "NUM#+15551239004"
		guard    = "NUM#+15551239005"
	)
	withStatus := func(pk, status string) map[string]types.AttributeValue {
		item := key(pk, "META")
		item["status"] = str(status)
		return item
	}
	writes := func(table string) []types.TransactWriteItem {
		return []types.TransactWriteItem{
			{Put: &types.Put{TableName: aws.String(table), Item: withStatus(fresh, "NEW")}},
			{Put: &types.Put{TableName: aws.String(table), Item: withStatus(existing, "OVERWRITTEN")}},
			{Update: &types.Update{
				TableName:                 aws.String(table),
				Key:                       key(updated, "META"),
				UpdateExpression:          aws.String("SET #s = :s"),
				ExpressionAttributeNames:  map[string]string{"#s": "status"},
				ExpressionAttributeValues: map[string]types.AttributeValue{":s": str("UPDATED")},
			}},
			{Delete: &types.Delete{TableName: aws.String(table), Key: key(deleted, "META")}},
		}
	}
	tests := []struct {
		name        string
		last        func(table string) types.TransactWriteItem // appended after writes
		wantErr     func(error) bool
		want        map[string]string // pk -> status, "" = absent
		wantRecords int
	}{
		{
			name: "condition fails on the last item",
			last: func(table string) types.TransactWriteItem {
				return types.TransactWriteItem{ConditionCheck: &types.ConditionCheck{
					TableName: aws.String(table), Key: key(guard, "META"),
					ConditionExpression: aws.String("attribute_exists(PK)"),
				}}
			},
			wantErr: func(err error) bool { var e *types.TransactionCanceledException; return errors.As(err, &e) },
			want:    map[string]string{existing: "OLD", updated: "OLD", deleted: "OLD", fresh: ""},
		},
		{
			name: "same key twice",
			last: func(table string) types.TransactWriteItem {
				return types.TransactWriteItem{Put: &types.Put{TableName: aws.String(table), Item: withStatus(fresh, "AGAIN")}}
			},
			wantErr: func(err error) bool { return err != nil },
			want:    map[string]string{existing: "OLD", updated: "OLD", deleted: "OLD", fresh: ""},
		},
		{
			name: "committed",
			last: func(table string) types.TransactWriteItem {
				return types.TransactWriteItem{Put: &types.Put{TableName: aws.String(table), Item: withStatus(guard, "NEW")}}
			},
			wantErr:     func(err error) bool { return err == nil },
			want:        map[string]string{existing: "OVERWRITTEN", updated: "UPDATED", deleted: "", fresh: "NEW", guard: "NEW"},
			wantRecords: 5,
		},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			db, table := moto.NewTable(t)
			for _, pk := range []string{existing, updated, deleted} {
				putItem(t, db, table, withStatus(pk, "OLD"))
			}
			before := streamRecords(t, table)

			_, err := db.TransactWriteItems(ctxT(t), &dynamodb.TransactWriteItemsInput{
				TransactItems: append(writes(table), tc.last(table)),
			})
			if !tc.wantErr(err) {
				t.Fatalf("TransactWriteItems err = %v", err)
			}
			for pk, want := range tc.want {
				out, err := db.GetItem(ctxT(t), &dynamodb.GetItemInput{TableName: aws.String(table), Key: key(pk, "META"), ConsistentRead: aws.Bool(true)})
				if err != nil {
					t.Fatalf("GetItem %s: %v", pk, err)
				}
				got := ""
				if s, ok := out.Item["status"].(*types.AttributeValueMemberS); ok {
					got = s.Value
				}
				if got != want {
					t.Errorf("%s status = %q, want %q", pk, got, want)
				}
			}
			if got := streamRecords(t, table) - before; got != tc.wantRecords {
				t.Errorf("stream records added = %d, want %d", got, tc.wantRecords)
			}
		})
	}
}

// streamRecords counts the records on the table's stream from its start.
func streamRecords(t *testing.T, table string) int {
	t.Helper()
	srv := moto.Server(t)
	db := srv.DynamoDB()
	desc, err := db.DescribeTable(ctxT(t), &dynamodb.DescribeTableInput{TableName: aws.String(table)})
	if err != nil {
		t.Fatalf("DescribeTable: %v", err)
	}
	streams := dynamodbstreams.NewFromConfig(srv.AWSConfig(), func(o *dynamodbstreams.Options) {
		o.BaseEndpoint = aws.String(srv.Endpoint())
	})
	sd, err := streams.DescribeStream(ctxT(t), &dynamodbstreams.DescribeStreamInput{StreamArn: desc.Table.LatestStreamArn})
	if err != nil {
		t.Fatalf("DescribeStream: %v", err)
	}
	total := 0
	for _, shard := range sd.StreamDescription.Shards {
		it, err := streams.GetShardIterator(ctxT(t), &dynamodbstreams.GetShardIteratorInput{
			StreamArn: desc.Table.LatestStreamArn, ShardId: shard.ShardId,
			ShardIteratorType: streamtypes.ShardIteratorTypeTrimHorizon,
		})
		if err != nil {
			t.Fatalf("GetShardIterator: %v", err)
		}
		out, err := streams.GetRecords(ctxT(t), &dynamodbstreams.GetRecordsInput{ShardIterator: it.ShardIterator, Limit: aws.Int32(1000)})
		if err != nil {
			t.Fatalf("GetRecords: %v", err)
		}
		total += len(out.Records)
	}
	return total
}
