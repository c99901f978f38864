package emulator_test

import (
	"fmt"
	"slices"
	"testing"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb/types"

	schema "numberrelease/shared/table"
)

// TestQueryByPartition covers moto_server.py's Query by partition: a Query on
// the table's own key returns that partition's items only, in sort-key
// order either way, page by page, with key conditions and filters applied,
// as DynamoDB does, while other partitions (before and after it in the
// table's order) hold items too.
func TestQueryByPartition(t *testing.T) {
	db, table := moto.NewTable(t)
	for _, pk := range []string{"A#1", "B#1", "C#1"} {
		for i := 5; i >= 1; i-- { // written out of order
			item := key(pk, fmt.Sprintf("H#%02d", i))
			item["odd"] = &types.AttributeValueMemberBOOL{Value: i%2 == 1}
			putItem(t, db, table, item)
		}
	}
	tests := []struct {
		name    string
		cond    string
		values  map[string]types.AttributeValue
		filter  string
		forward bool
		limit   int32
		want    []string
	}{
		{"the whole partition, in order", "PK = :pk", nil, "", true, 0, []string{"H#01", "H#02", "H#03", "H#04", "H#05"}},
		{"backwards, two per page", "PK = :pk", nil, "", false, 2, []string{"H#05", "H#04", "H#03", "H#02", "H#01"}},
		{"a sort-key condition", "PK = :pk AND SK > :sk", map[string]types.AttributeValue{":sk": str("H#03")}, "", true, 0, []string{"H#04", "H#05"}},
		{"a filter", "PK = :pk", nil, "odd = :t", true, 0, []string{"H#01", "H#03", "H#05"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			values := map[string]types.AttributeValue{":pk": str("B#1")}
			for k, v := range tt.values {
				values[k] = v
			}
			if tt.filter != "" {
				values[":t"] = &types.AttributeValueMemberBOOL{Value: true}
			}
			in := &dynamodb.QueryInput{
				TableName: aws.String(table), KeyConditionExpression: aws.String(tt.cond),
				ExpressionAttributeValues: values, ScanIndexForward: aws.Bool(tt.forward),
			}
			if tt.filter != "" {
				in.FilterExpression = aws.String(tt.filter)
			}
			if tt.limit > 0 {
				in.Limit = aws.Int32(tt.limit)
			}
			var got []string
			for page := 0; ; page++ {
				out, err := db.Query(ctxT(t), in)
				if err != nil {
					t.Fatal(err)
				}
				for _, it := range out.Items {
					if pk := it[schema.AttrPK].(*types.AttributeValueMemberS).Value; pk != "B#1" {
						t.Fatalf("item of partition %s in a query of B#1", pk)
					}
					got = append(got, it[schema.AttrSK].(*types.AttributeValueMemberS).Value)
				}
				if len(out.LastEvaluatedKey) == 0 || page > 10 {
					break
				}
				in.ExclusiveStartKey = out.LastEvaluatedKey
			}
			if !slices.Equal(got, tt.want) {
				t.Errorf("got %v, want %v", got, tt.want)
			}
		})
	}
}
