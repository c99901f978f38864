package emulator

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"fmt"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb"

	"numberrelease/shared/table"
)

// tableTimeout bounds creating a table and deleting it again.
const tableTimeout = 30 * time.Second

// NewTable creates a uniquely named table (nr-test-<hex>) from the project's
// one table definition, table.TableSchema, waits until it is ACTIVE and
// deletes it when the test ends. It returns a DynamoDB client for this server
// and the table's name. Failures end the test.
func (s *Server) NewTable(t testing.TB) (*dynamodb.Client, string) {
	t.Helper()
	client := s.DynamoDB()
	name := "nr-test-" + randomHex(8)

	ctx, cancel := context.WithTimeout(context.Background(), tableTimeout)
	defer cancel()
	if _, err := client.CreateTable(ctx, table.TableSchema().CreateTableInput(name)); err != nil {
		t.Fatalf("emulator: create table %s: %v", name, err)
	}
	// Registered before waiting so a table that never becomes ACTIVE is
	// still removed.
	t.Cleanup(func() {
		ctx, cancel := context.WithTimeout(context.Background(), tableTimeout)
		defer cancel()
		if _, err := client.DeleteTable(ctx, &dynamodb.DeleteTableInput{TableName: aws.String(name)}); err != nil {
			t.Errorf("emulator: delete table %s: %v", name, err)
		}
	})
	waiter := dynamodb.NewTableExistsWaiter(client, func(o *dynamodb.TableExistsWaiterOptions) {
		o.MinDelay = pollInterval
		o.MaxDelay = time.Second
	})
	if err := waiter.Wait(ctx, &dynamodb.DescribeTableInput{TableName: aws.String(name)}, tableTimeout); err != nil {
		t.Fatalf("emulator: wait for table %s to be ACTIVE: %v", name, err)
	}
	return client, name
}

// DynamoDB returns a DynamoDB client for this server.
func (s *Server) DynamoDB() *dynamodb.Client {
	return dynamodb.NewFromConfig(s.AWSConfig(), func(o *dynamodb.Options) {
		o.BaseEndpoint = aws.String(s.endpoint)
	})
}

// randomHex returns n random bytes as hex.
func randomHex(n int) string {
	b := make([]byte, n)
	if _, err := rand.Read(b); err != nil {
		// crypto/rand.Read does not fail on supported platforms.
		panic(fmt.Sprintf("emulator: crypto/rand: %v", err))
	}
	return hex.EncodeToString(b)
}
