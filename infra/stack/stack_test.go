package stack

import (
	"testing"

	"github.com/aws/aws-cdk-go/awscdk/v2/assertions"
	"github.com/aws/jsii-runtime-go"

	"numberrelease/shared/table"
)

func TestTableMatchesSharedSchema(t *testing.T) {
	tmpl := synth(t, dev)
	s := table.TableSchema()
	var gsis []any
	for _, ix := range s.Indexes {
		gsis = append(gsis, map[string]any{
			"IndexName": ix.Name,
			"KeySchema": []any{
				map[string]any{"AttributeName": ix.PartitionKey, "KeyType": "HASH"},
				map[string]any{"AttributeName": ix.SortKey, "KeyType": "RANGE"},
			},
			"Projection": map[string]any{"ProjectionType": "ALL"},
		})
	}
	tmpl.HasResourceProperties(jsii.String("AWS::DynamoDB::GlobalTable"), map[string]any{
		"KeySchema": []any{
			map[string]any{"AttributeName": s.PartitionKey, "KeyType": "HASH"},
			map[string]any{"AttributeName": s.SortKey, "KeyType": "RANGE"},
		},
		"GlobalSecondaryIndexes":  gsis,
		"TimeToLiveSpecification": map[string]any{"AttributeName": s.TTLAttribute, "Enabled": true},
		"BillingMode":             "PAY_PER_REQUEST",
	})
}

func TestProductionKeepsData(t *testing.T) {
	tests := []struct {
		cfg        Config
		protection bool
		policy     string
	}{
		{dev, false, "Delete"},
		{prod, true, "Retain"},
	}
	for _, tt := range tests {
		t.Run(tt.cfg.Stage, func(t *testing.T) {
			tmpl := synth(t, tt.cfg)
			tmpl.HasResource(jsii.String("AWS::DynamoDB::GlobalTable"), map[string]any{
				"DeletionPolicy":      tt.policy,
				"UpdateReplacePolicy": tt.policy,
				"Properties": map[string]any{
					// Encrypted at rest with the AWS managed KMS key (aws/dynamodb).
					"SSESpecification": map[string]any{"SSEEnabled": true, "SSEType": "KMS"},
					"Replicas": assertions.Match_ArrayWith(&[]any{assertions.Match_ObjectLike(&map[string]any{
						"DeletionProtectionEnabled":        tt.protection,
						"PointInTimeRecoverySpecification": map[string]any{"PointInTimeRecoveryEnabled": true},
					})}),
				},
			})
			// The dead-letter queues hold what still needs re-driving.
			s := synthStack(t, tt.cfg)
			for _, q := range []string{s.logicalID(t, s.stack.NotifyDLQ), s.logicalID(t, s.stack.StartReleaseDLQ), s.logicalID(t, s.stack.Releases.DLQ)} {
				r := s.resources[q]
				if r["DeletionPolicy"] != tt.policy || r["UpdateReplacePolicy"] != tt.policy {
					t.Errorf("queue %s: DeletionPolicy %v, UpdateReplacePolicy %v, want %s", q, r["DeletionPolicy"], r["UpdateReplacePolicy"], tt.policy)
				}
			}
		})
	}
}
