package emulator_test

import (
	"bytes"
	"context"
	"crypto/rand"
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"net/url"
	"os"
	"path/filepath"
	"runtime"
	"strconv"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb/types"
	"github.com/aws/aws-sdk-go-v2/service/sfn"
	sfntypes "github.com/aws/aws-sdk-go-v2/service/sfn/types"

	"numberrelease/shared/harness/emulator"
	"numberrelease/shared/harness/emulatortest"
	schema "numberrelease/shared/table"
)

// moto is the package's shared server, with real state-machine execution on.
var moto = &emulatortest.Shared{Options: emulator.Options{ExecuteStateMachines: true}}

func TestMain(m *testing.M) { emulatortest.Main(m, moto) }

func ctxT(t *testing.T) context.Context {
	t.Helper()
	ctx, cancel := context.WithTimeout(t.Context(), 30*time.Second)
	t.Cleanup(cancel)
	return ctx
}

func str(v string) types.AttributeValue { return &types.AttributeValueMemberS{Value: v} }

func key(pk, sk string) map[string]types.AttributeValue {
	return map[string]types.AttributeValue{schema.AttrPK: str(pk), schema.AttrSK: str(sk)}
}

func putItem(t *testing.T, db *dynamodb.Client, table string, item map[string]types.AttributeValue) {
	t.Helper()
	if _, err := db.PutItem(ctxT(t), &dynamodb.PutItemInput{TableName: aws.String(table), Item: item}); err != nil {
		t.Fatalf("PutItem: %v", err)
	}
}

func TestEndpointAndConfig(t *testing.T) {
	srv := moto.Server(t)
	if !strings.HasPrefix(srv.Endpoint(), "http://127.0.0.1:") {
		t.Errorf("Endpoint() = %q, want http://127.0.0.1:<port>", srv.Endpoint())
	}
	cfg := srv.AWSConfig()
	if cfg.Region != "us-east-1" {
		t.Errorf("Region = %q, want us-east-1", cfg.Region)
	}
	if cfg.BaseEndpoint == nil || *cfg.BaseEndpoint != srv.Endpoint() {
		t.Errorf("BaseEndpoint = %v, want %q", cfg.BaseEndpoint, srv.Endpoint())
	}
	creds, err := cfg.Credentials.Retrieve(ctxT(t))
	if err != nil {
		t.Fatalf("Credentials.Retrieve: %v", err)
	}
	if creds.AccessKeyID != "test" || creds.SecretAccessKey != "test" {
		t.Errorf("credentials = %q/%q, want test/test", creds.AccessKeyID, creds.SecretAccessKey)
	}
	if got := cfg.Retryer().MaxAttempts(); got > 5 {
		t.Errorf("retryer MaxAttempts = %d, want a few", got)
	}
}

func TestNewTableUsesSchema(t *testing.T) {
	db, table := moto.NewTable(t)
	_, other := moto.NewTable(t)
	if table == other {
		t.Fatalf("two tables share the name %q", table)
	}
	if !strings.HasPrefix(table, "nr-test-") {
		t.Errorf("table name %q, want prefix nr-test-", table)
	}
	out, err := db.DescribeTable(ctxT(t), &dynamodb.DescribeTableInput{TableName: aws.String(table)})
	if err != nil {
		t.Fatalf("DescribeTable: %v", err)
	}
	if out.Table.TableStatus != types.TableStatusActive {
		t.Errorf("status = %s, want ACTIVE", out.Table.TableStatus)
	}
	var got []string
	for _, ix := range out.Table.GlobalSecondaryIndexes {
		got = append(got, aws.ToString(ix.IndexName))
	}
	for _, want := range schema.TableSchema().Indexes {
		if !strings.Contains(strings.Join(got, ","), want.Name) {
			t.Errorf("indexes %v lack %s", got, want.Name)
		}
	}
}

func TestNewTableIsDeletedOnCleanup(t *testing.T) {
	var table string
	t.Run("inner", func(t *testing.T) { _, table = moto.NewTable(t) })
	_, err := moto.Server(t).DynamoDB().DescribeTable(ctxT(t), &dynamodb.DescribeTableInput{TableName: aws.String(table)})
	var notFound *types.ResourceNotFoundException
	if !errors.As(err, &notFound) {
		t.Fatalf("DescribeTable after cleanup: err = %v, want ResourceNotFoundException", err)
	}
}

func TestPutGetRoundTrip(t *testing.T) {
	db, table := moto.NewTable(t)
	item := key("NUM#+15551230001", "META")
	item["status"] = str("ACTIVE")
	item["count"] = &types.AttributeValueMemberN{Value: "3"}
	putItem(t, db, table, item)

	out, err := db.GetItem(ctxT(t), &dynamodb.GetItemInput{
		TableName:      aws.String(table),
		Key:            key("NUM#+15551230001", "META"),
		ConsistentRead: aws.Bool(true),
	})
	if err != nil {
		t.Fatalf("GetItem: %v", err)
	}
	if got := out.Item["status"].(*types.AttributeValueMemberS).Value; got != "ACTIVE" {
		t.Errorf("status = %q, want ACTIVE", got)
	}
	if got := out.Item["count"].(*types.AttributeValueMemberN).Value; got != "3" {
		t.Errorf("count = %q, want 3", got)
	}
}

func TestConditionalWrites(t *testing.T) {
	db, table := moto.NewTable(t)
	item := key("NUM#+15551230002", "META")
	item["status"] = str("ACTIVE")
	putItem(t, db, table, item)

	tests := []struct {
		name      string
		condition string
		values    map[string]types.AttributeValue
		wantFail  bool
	}{
		{name: "attribute_not_exists on existing item", condition: "attribute_not_exists(PK)", wantFail: true},
		{name: "status mismatch", condition: "#s = :want", values: map[string]types.AttributeValue{":want": str("RELEASED")}, wantFail: true},
		{name: "status matches", condition: "#s = :want", values: map[string]types.AttributeValue{":want": str("ACTIVE")}},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			in := &dynamodb.UpdateItemInput{
				TableName:                 aws.String(table),
				Key:                       key("NUM#+15551230002", "META"),
				UpdateExpression:          aws.String("SET #s = :new"),
				ConditionExpression:       aws.String(tc.condition),
				ExpressionAttributeNames:  map[string]string{"#s": "status"},
				ExpressionAttributeValues: map[string]types.AttributeValue{":new": str("ACTIVE")},
			}
			for k, v := range tc.values {
				in.ExpressionAttributeValues[k] = v
			}
			_, err := db.UpdateItem(ctxT(t), in)
			var ccf *types.ConditionalCheckFailedException
			if got := errors.As(err, &ccf); got != tc.wantFail {
				t.Fatalf("UpdateItem err = %v; ConditionalCheckFailedException = %v, want %v", err, got, tc.wantFail)
			}
			if !tc.wantFail && err != nil {
				t.Fatalf("UpdateItem: %v", err)
			}
		})
	}
}

func TestTransactionCanceledHasReasons(t *testing.T) {
	db, table := moto.NewTable(t)
	putItem(t, db, table, key("NUM#+15551230003", "META"))

	_, err := db.TransactWriteItems(ctxT(t), &dynamodb.TransactWriteItemsInput{
		TransactItems: []types.TransactWriteItem{
			{Put: &types.Put{TableName: aws.String(table), Item: key("NUM#+15551230004", "META")}},
			{Put: &types.Put{
				TableName:           aws.String(table),
				Item:                key("NUM#+15551230003", "META"),
				ConditionExpression: aws.String("attribute_not_exists(PK)"),
			}},
		},
	})
	var tce *types.TransactionCanceledException
	if !errors.As(err, &tce) {
		t.Fatalf("TransactWriteItems err = %v, want TransactionCanceledException", err)
	}
	want := []string{"None", "ConditionalCheckFailed"}
	if len(tce.CancellationReasons) != len(want) {
		t.Fatalf("CancellationReasons = %+v, want codes %v", tce.CancellationReasons, want)
	}
	for i, r := range tce.CancellationReasons {
		if got := aws.ToString(r.Code); got != want[i] {
			t.Errorf("reason %d code = %q, want %q", i, got, want[i])
		}
	}
	// The transaction is all-or-nothing: the first put did not happen.
	out, err := db.GetItem(ctxT(t), &dynamodb.GetItemInput{TableName: aws.String(table), Key: key("NUM#+15551230004", "META")})
	if err != nil {
		t.Fatalf("GetItem: %v", err)
	}
	if out.Item != nil {
		t.Errorf("item from a cancelled transaction exists: %v", out.Item)
	}
}

func TestQueryByCustomerIndex(t *testing.T) {
	db, table := moto.NewTable(t)
	for i, c := range []struct{ customer, status string }{
		{"CUST#a", "ACTIVE"}, {"CUST#a", "RELEASED"}, {"CUST#a", "ACTIVE"}, {"CUST#b", "ACTIVE"},
	} {
		item := key(fmt.Sprintf("NUM#+1555123010%d", i), "META")
		item[schema.AttrGSI1PK] = str(c.customer)
		item[schema.AttrGSI1SK] = str(fmt.Sprintf("%s#%d", c.status, i))
		putItem(t, db, table, item)
	}

	out, err := db.Query(ctxT(t), &dynamodb.QueryInput{
		TableName:              aws.String(table),
		IndexName:              aws.String(schema.IndexCustomer),
		KeyConditionExpression: aws.String("#pk = :c AND begins_with(#sk, :s)"),
		ExpressionAttributeNames: map[string]string{
			"#pk": schema.AttrGSI1PK, "#sk": schema.AttrGSI1SK,
		},
		ExpressionAttributeValues: map[string]types.AttributeValue{
			":c": str("CUST#a"), ":s": str("ACTIVE#"),
		},
	})
	if err != nil {
		t.Fatalf("Query %s: %v", schema.IndexCustomer, err)
	}
	var got []string
	for _, it := range out.Items {
		got = append(got, it[schema.AttrPK].(*types.AttributeValueMemberS).Value)
	}
	want := []string{"NUM#+15551230100", "NUM#+15551230102"}
	if strings.Join(got, ",") != strings.Join(want, ",") {
		t.Errorf("Query returned %v, want %v", got, want)
	}
}

// TestStateMachinesExecute proves emulator.Options.ExecuteStateMachines took effect:
// moto's GET /moto-api/config does not report the stepfunctions setting, so a
// Pass state machine is run for real and its output checked.
func TestStateMachinesExecute(t *testing.T) {
	ctx := ctxT(t)
	srv := moto.Server(t)
	client := sfn.NewFromConfig(srv.AWSConfig(), func(o *sfn.Options) {
		o.BaseEndpoint = aws.String(srv.Endpoint())
	})
	name := "nr-test-" + strings.ToLower(rand.Text()[:8])
	sm, err := client.CreateStateMachine(ctx, &sfn.CreateStateMachineInput{
		Name:       aws.String(name),
		RoleArn:    aws.String("arn:aws:iam::123456789012:role/nr-test"),
		Definition: aws.String(`{"StartAt":"P","States":{"P":{"Type":"Pass","Result":{"greeting":"hello"},"ResultPath":"$.out","End":true}}}`),
	})
	if err != nil {
		t.Fatalf("CreateStateMachine: %v", err)
	}
	t.Cleanup(func() {
		ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
		defer cancel()
		if _, err := client.DeleteStateMachine(ctx, &sfn.DeleteStateMachineInput{StateMachineArn: sm.StateMachineArn}); err != nil {
			t.Errorf("DeleteStateMachine: %v", err)
		}
	})
	ex, err := client.StartExecution(ctx, &sfn.StartExecutionInput{
		StateMachineArn: sm.StateMachineArn,
		Name:            aws.String("run-1"),
		Input:           aws.String(`{"in":1}`),
	})
	if err != nil {
		t.Fatalf("StartExecution: %v", err)
	}

	var out *sfn.DescribeExecutionOutput
	ticker := time.NewTicker(50 * time.Millisecond)
	defer ticker.Stop()
	for {
		out, err = client.DescribeExecution(ctx, &sfn.DescribeExecutionInput{ExecutionArn: ex.ExecutionArn})
		if err != nil {
			t.Fatalf("DescribeExecution: %v", err)
		}
		if out.Status != sfntypes.ExecutionStatusRunning {
			break
		}
		select {
		case <-ctx.Done():
			t.Fatalf("execution still RUNNING at deadline (is execute_state_machine off?): %v", ctx.Err())
		case <-ticker.C:
		}
	}
	if out.Status != sfntypes.ExecutionStatusSucceeded {
		t.Fatalf("status = %s (error %q, cause %q), want SUCCEEDED", out.Status, aws.ToString(out.Error), aws.ToString(out.Cause))
	}
	var got, want any
	if err := json.Unmarshal([]byte(aws.ToString(out.Output)), &got); err != nil {
		t.Fatalf("output %q is not JSON: %v", aws.ToString(out.Output), err)
	}
	_ = json.Unmarshal([]byte(`{"in":1,"out":{"greeting":"hello"}}`), &want)
	if g, w := mustJSON(t, got), mustJSON(t, want); !bytes.Equal(g, w) {
		t.Errorf("output = %s, want %s", g, w)
	}
}

func mustJSON(t *testing.T, v any) []byte {
	t.Helper()
	b, err := json.Marshal(v) // map keys are sorted, so equal values compare equal
	if err != nil {
		t.Fatal(err)
	}
	return b
}

// TestStartStop starts extra servers and checks MOTO_PORT, the moto config
// call and that Stop leaves no process behind.
func TestStartStop(t *testing.T) {
	emulatortest.SkipShort(t)
	tests := []struct {
		name         string
		opts         emulator.Options
		wantMotoPort func(s *emulator.Server) int
	}{
		{name: "defaults", opts: emulator.Options{}, wantMotoPort: func(s *emulator.Server) int { return port(t, s) }},
		{name: "lambda front port", opts: emulator.Options{MotoPort: 1, ExecuteStateMachines: true}, wantMotoPort: func(*emulator.Server) int { return 1 }},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			s, err := emulator.Start(ctxT(t), tc.opts)
			if err != nil {
				t.Fatalf("Start: %v", err)
			}
			pid := s.Pid()
			t.Cleanup(func() { _ = s.Stop() })

			resp, err := http.Get(s.Endpoint() + "/moto-api/config")
			if err != nil {
				t.Fatalf("GET /moto-api/config: %v", err)
			}
			resp.Body.Close()

			if runtime.GOOS == "linux" {
				env, err := os.ReadFile(filepath.Join("/proc", strconv.Itoa(pid), "environ"))
				if err != nil {
					t.Fatalf("read environ: %v", err)
				}
				want := "MOTO_PORT=" + strconv.Itoa(tc.wantMotoPort(s))
				var got string
				for _, kv := range strings.Split(string(env), "\x00") {
					if strings.HasPrefix(kv, "MOTO_PORT=") {
						got = kv // the last one is the one the process sees
					}
				}
				if got != want {
					t.Errorf("moto_server env has %q, want %q", got, want)
				}
			}

			logDir := filepath.Dir(s.LogPath())
			if err := s.Stop(); err != nil {
				t.Fatalf("Stop: %v", err)
			}
			if err := s.Stop(); err != nil {
				t.Errorf("second Stop: %v", err)
			}
			for _, p := range []int{pid, -pid} {
				if err := syscall.Kill(p, 0); !errors.Is(err, syscall.ESRCH) {
					t.Errorf("kill(%d, 0) after Stop = %v, want ESRCH", p, err)
				}
			}
			if _, err := os.Stat(logDir); !errors.Is(err, os.ErrNotExist) {
				t.Errorf("log dir %s still exists after Stop (err %v)", logDir, err)
			}
			client := http.Client{Timeout: time.Second}
			if resp, err := client.Get(s.Endpoint() + "/moto-api/config"); err == nil {
				resp.Body.Close()
				t.Errorf("server still answers after Stop")
			}
		})
	}
}

func TestStartErrors(t *testing.T) {
	dir := t.TempDir()
	notExec := filepath.Join(dir, "python3")
	if err := os.WriteFile(notExec, []byte("#!/bin/sh\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	dies := filepath.Join(dir, "dies")
	if err := os.WriteFile(dies, []byte("#!/bin/sh\necho 'boom: bad flag' >&2\nexit 3\n"), 0o755); err != nil {
		t.Fatal(err)
	}
	tests := []struct {
		name, bin string
		want      []string
	}{
		{name: "missing", bin: filepath.Join(dir, "nope", "python3"), want: []string{
			"Python with moto not found at " + filepath.Join(dir, "nope", "python3"),
			"run `make test` (it creates .venv with moto[server]==5.2.5)",
		}},
		{name: "not executable", bin: notExec, want: []string{"Python with moto not found at " + notExec}},
		{name: "exits at once", bin: dies, want: []string{"exited unexpectedly", "boom: bad flag"}},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			t.Setenv(emulator.EnvMotoPython, tc.bin)
			s, err := emulator.Start(ctxT(t), emulator.Options{})
			if err == nil {
				s.Stop()
				t.Fatal("Start succeeded, want error")
			}
			for _, w := range tc.want {
				if !strings.Contains(err.Error(), w) {
					t.Errorf("error %q does not contain %q", err, w)
				}
			}
		})
	}
}

// port is the port s listens on.
func port(t *testing.T, s *emulator.Server) int {
	t.Helper()
	u, err := url.Parse(s.Endpoint())
	if err != nil {
		t.Fatal(err)
	}
	p, err := strconv.Atoi(u.Port())
	if err != nil {
		t.Fatal(err)
	}
	return p
}

func TestModuleRoot(t *testing.T) {
	root, err := emulator.ModuleRoot()
	if err != nil {
		t.Fatalf("ModuleRoot: %v", err)
	}
	if _, err := os.Stat(filepath.Join(root, "go.mod")); err != nil {
		t.Errorf("no go.mod in %s: %v", root, err)
	}
	wd, _ := os.Getwd()
	if rel, err := filepath.Rel(root, wd); err != nil || rel != filepath.Join("shared", "harness", "emulator") {
		t.Errorf("ModuleRoot() = %s, want the root above shared/harness/emulator (wd %s)", root, wd)
	}
}
