package store

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb/types"

	"numberrelease/shared/table"
)

// batchGetDB answers BatchGetItem from the partition keys in items, as
// DynamoDB under load does: at most perCall keys of a call are processed
// (0: all; negative: none), the rest handed back as unprocessed. It
// records each call.
type batchGetDB struct {
	DB
	items      map[string]bool
	perCall    int
	err        error
	sizes      []int
	consistent []bool
}

func (d *batchGetDB) BatchGetItem(_ context.Context, in *dynamodb.BatchGetItemInput, _ ...func(*dynamodb.Options)) (*dynamodb.BatchGetItemOutput, error) {
	if d.err != nil {
		return nil, d.err
	}
	out := &dynamodb.BatchGetItemOutput{Responses: map[string][]map[string]types.AttributeValue{}, UnprocessedKeys: map[string]types.KeysAndAttributes{}}
	for name, ka := range in.RequestItems {
		d.sizes = append(d.sizes, len(ka.Keys))
		d.consistent = append(d.consistent, aws.ToBool(ka.ConsistentRead))
		n := len(ka.Keys)
		switch {
		case d.perCall > 0:
			n = min(n, d.perCall)
		case d.perCall < 0:
			n = 0
		}
		for _, k := range ka.Keys[:n] {
			if d.items[k[table.AttrPK].(*types.AttributeValueMemberS).Value] {
				out.Responses[name] = append(out.Responses[name], k)
			}
		}
		if n < len(ka.Keys) {
			out.UnprocessedKeys[name] = types.KeysAndAttributes{Keys: ka.Keys[n:], ConsistentRead: ka.ConsistentRead}
		}
	}
	return out, nil
}

// batchGet reads every key that has an item, at most 100 keys a call,
// retries what DynamoDB left unprocessed, and gives up with an error.
func TestBatchGet(t *testing.T) {
	sdkErr := errors.New("ProvisionedThroughputExceededException")
	tests := []struct {
		name       string
		keys       int // keys asked for: "k0", "k1", …
		items      int // of them, the first items exist
		perCall    int
		err        error
		consistent bool
		wantSizes  []int
		wantErr    string // "" for none
	}{
		{name: "no keys", wantSizes: nil},
		{name: "one call", keys: 3, items: 2, wantSizes: []int{3}},
		{name: "chunks of 100", keys: 250, items: 250, consistent: true, wantSizes: []int{100, 100, 50}},
		{name: "missing keys skipped", keys: 120, items: 7, wantSizes: []int{100, 20}},
		{name: "unprocessed keys retried", keys: 130, items: 130, perCall: 40, consistent: true,
			wantSizes: []int{100, 60, 20, 30}},
		{name: "nothing ever processed", keys: 5, items: 5, perCall: -1,
			wantSizes: slices.Repeat([]int{5}, maxBatchRetries+1), wantErr: fmt.Sprintf("unprocessed keys after %d retries", maxBatchRetries)},
		{name: "DynamoDB error", keys: 5, items: 5, err: sdkErr, wantErr: sdkErr.Error()},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			db := &batchGetDB{items: map[string]bool{}, perCall: tt.perCall, err: tt.err}
			keys := make([]map[string]types.AttributeValue, tt.keys)
			for i := range keys {
				pk := fmt.Sprintf("k%d", i)
				keys[i] = keyOf(pk, skState)
				if i < tt.items {
					db.items[pk] = true
				}
			}
			s := New(db, "t")
			s.backoff = func(int) time.Duration { return 0 }
			var got []string
			err := s.batchGet(context.Background(), keys, tt.consistent, func(item map[string]types.AttributeValue) error {
				got = append(got, item[table.AttrPK].(*types.AttributeValueMemberS).Value)
				return nil
			})
			if tt.wantErr != "" {
				if err == nil || !strings.Contains(err.Error(), tt.wantErr) {
					t.Fatalf("batchGet: %v; want an error saying %q", err, tt.wantErr)
				}
			} else if err != nil || len(got) != tt.items {
				t.Fatalf("batchGet: %d items, %v; want %d", len(got), err, tt.items)
			}
			if tt.err == nil && !slices.Equal(db.sizes, tt.wantSizes) {
				t.Errorf("keys per call %v; want %v", db.sizes, tt.wantSizes)
			}
			for i, c := range db.consistent {
				if c != tt.consistent {
					t.Errorf("call %d: ConsistentRead %v; want %v", i, c, tt.consistent)
				}
			}
		})
	}
}
