// Package emulatortest gives a test package the AWS emulator (package
// emulator): one moto server for all the tests of a test binary, started
// by the first test that asks for it, and a fresh table per test. Tests
// that ask for it are skipped under `go test -short`, so the unit tests
// run without Python:
//
//	func TestMain(m *testing.M) { emulatortest.Main(m) }
//
//	func TestSomething(t *testing.T) {
//		client, table := emulatortest.NewTable(t)
//		...
//	}
package emulatortest

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"errors"
	"fmt"
	"os"
	"sync"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb/types"

	"numberrelease/shared/harness/emulator"
	"numberrelease/shared/table"
)

// tableTimeout bounds creating a table and deleting it again.
const tableTimeout = 30 * time.Second

// Shared is one emulator for the tests of a test binary: started by the
// first test that asks for it (Server), stopped by Run. The zero value
// starts a plain moto server; set Options before the first test runs for
// another.
type Shared struct {
	Options emulator.Options

	mu  sync.Mutex
	srv *emulator.Server
	err error
}

// Default is the emulator of Server, NewTable and Main.
var Default = &Shared{}

// Server returns the Default emulator (Shared.Server).
func Server(t testing.TB) *emulator.Server { return Default.Server(t) }

// NewTable makes a table on the Default emulator (Shared.NewTable).
func NewTable(t testing.TB) (*dynamodb.Client, string) { return Default.NewTable(t) }

// Main runs a test package's tests, stops the emulators they started
// (Default when none is named) and exits with the tests' result.
func Main(m *testing.M, shared ...*Shared) { os.Exit(Run(m, shared...)) }

// Run is Main without the exit: it returns the exit code.
func Run(m *testing.M, shared ...*Shared) int {
	if len(shared) == 0 {
		shared = []*Shared{Default}
	}
	code := m.Run()
	for _, s := range shared {
		if err := s.stop(); err != nil {
			fmt.Fprintf(os.Stderr, "FAIL: stop the AWS emulator: %v\n", err)
			code = max(code, 1)
		}
	}
	return code
}

// Server returns the emulator, starting it on first use. Under -short it
// skips t: the test needs moto (Python). A server that cannot start fails
// t, and every later test that asks, with the reason.
func (s *Shared) Server(t testing.TB) *emulator.Server {
	t.Helper()
	SkipShort(t)
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.srv == nil && s.err == nil {
		s.srv, s.err = emulator.Start(context.Background(), s.Options)
	}
	if s.err != nil {
		t.Fatalf("cannot start the AWS emulator: %v", s.err)
	}
	return s.srv
}

// SkipShort skips t under -short: t needs moto, which needs Python.
// Shared.Server does it for the tests that take the shared server; a test
// that starts a server of its own calls it first.
func SkipShort(t testing.TB) {
	t.Helper()
	if testing.Short() {
		t.Skip("needs the AWS emulator (moto, Python); not run with -short")
	}
}

func (s *Shared) stop() error {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.srv == nil {
		return nil
	}
	err := s.srv.Stop()
	s.srv = nil
	return err
}

// NewTable creates a uniquely named table (nr-test-<hex>) from the
// project's one table definition, table.TableSchema, on the emulator,
// waits until it is ACTIVE and deletes it when the test ends. It returns a
// DynamoDB client for the emulator and the table's name. Failures end the
// test.
func (s *Shared) NewTable(t testing.TB) (*dynamodb.Client, string) {
	t.Helper()
	client := s.Server(t).DynamoDB()
	name := "nr-test-" + randomHex(8)

	ctx, cancel := context.WithTimeout(context.Background(), tableTimeout)
	defer cancel()
	// The name is random, so "already exists" means an earlier attempt of
	// this very call landed: the SDK sent it again after losing the answer
	// (a connection the emulator closed as the request went out).
	var inUse *types.ResourceInUseException
	if _, err := client.CreateTable(ctx, table.TableSchema().CreateTableInput(name)); err != nil && !errors.As(err, &inUse) {
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
		o.MinDelay = 50 * time.Millisecond
		o.MaxDelay = time.Second
	})
	if err := waiter.Wait(ctx, &dynamodb.DescribeTableInput{TableName: aws.String(name)}, tableTimeout); err != nil {
		t.Fatalf("emulator: wait for table %s to be ACTIVE: %v", name, err)
	}
	return client, name
}

// randomHex returns n random bytes as hex.
func randomHex(n int) string {
	b := make([]byte, n)
	_, _ = rand.Read(b) // crypto/rand.Read does not fail on supported platforms
	return hex.EncodeToString(b)
}
