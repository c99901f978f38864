package devstack

import (
	"context"
	"net/http"
	"net/http/httptest"
	"sync/atomic"
	"testing"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/credentials"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb/types"
	"github.com/aws/smithy-go/middleware"
)

// TestCallCounterCountsOperationsAndAttempts: one GetItem that the SDK
// retries once after a 500 is one call and two attempts; Since leaves out
// what an earlier snapshot already had.
func TestCallCounterCountsOperationsAndAttempts(t *testing.T) {
	var hits atomic.Int32
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Type", "application/x-amz-json-1.0")
		if hits.Add(1) == 1 {
			w.WriteHeader(http.StatusInternalServerError)
			_, _ = w.Write([]byte(`{"__type":"com.amazonaws.dynamodb.v20120810#InternalServerError","message":"try again"}`))
			return
		}
		_, _ = w.Write([]byte(`{}`))
	}))
	defer srv.Close()

	var counter CallCounter
	before := counter.Snapshot()
	cfg := aws.Config{
		Region:      "us-east-1",
		Credentials: credentials.NewStaticCredentialsProvider("test", "test", ""),
		APIOptions:  []func(*middleware.Stack) error{counter.AddMiddleware},
	}
	db := dynamodb.NewFromConfig(cfg, func(o *dynamodb.Options) { o.BaseEndpoint = aws.String(srv.URL) })
	if _, err := db.GetItem(context.Background(), &dynamodb.GetItemInput{
		TableName: aws.String("t"), Key: map[string]types.AttributeValue{"PK": &types.AttributeValueMemberS{Value: "k"}},
	}); err != nil {
		t.Fatalf("GetItem: %v", err)
	}
	got := counter.Snapshot().Since(before)
	call := Call{Service: "DynamoDB", Operation: "GetItem"}
	if got.Calls[call] != 1 || got.Attempts[call] != 2 || len(got.Calls) != 1 {
		t.Fatalf("calls %v, attempts %v; want 1 GetItem in 2 attempts", got.Calls, got.Attempts)
	}
	if again := counter.Snapshot().Since(counter.Snapshot()); len(again.Calls) != 0 {
		t.Errorf("Since of the same counts = %v, want nothing", again.Calls)
	}
}
