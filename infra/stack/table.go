package stack

import (
	"github.com/aws/aws-cdk-go/awscdk/v2"
	"github.com/aws/aws-cdk-go/awscdk/v2/awsdynamodb"
	"github.com/aws/constructs-go/constructs/v10"
	"github.com/aws/jsii-runtime-go"

	"numberrelease/shared/table"
)

// newTable declares the DynamoDB table from the project's one schema
// definition (shared/table), so the stack and the tests cannot drift.
func newTable(scope constructs.Construct, cfg Config) awsdynamodb.TableV2 {
	s := table.TableSchema()
	str := func(name string) *awsdynamodb.Attribute {
		return &awsdynamodb.Attribute{Name: jsii.String(name), Type: awsdynamodb.AttributeType_STRING}
	}
	var gsis []*awsdynamodb.GlobalSecondaryIndexPropsV2
	for _, ix := range s.Indexes {
		gsis = append(gsis, &awsdynamodb.GlobalSecondaryIndexPropsV2{
			IndexName:      jsii.String(ix.Name),
			PartitionKey:   str(ix.PartitionKey),
			SortKey:        str(ix.SortKey),
			ProjectionType: awsdynamodb.ProjectionType_ALL,
		})
	}
	props := &awsdynamodb.TablePropsV2{
		PartitionKey:           str(s.PartitionKey),
		SortKey:                str(s.SortKey),
		GlobalSecondaryIndexes: &gsis,
		TimeToLiveAttribute:    jsii.String(s.TTLAttribute),
		Billing:                awsdynamodb.Billing_OnDemand(nil),
		PointInTimeRecoverySpecification: &awsdynamodb.PointInTimeRecoverySpecification{
			PointInTimeRecoveryEnabled: jsii.Bool(true),
		},
		// Encrypted at rest with the AWS managed key (aws/dynamodb): key
		// usage is visible in CloudTrail, at no key cost. A customer managed
		// key would add key-policy control for one more KMS key per stage.
		Encryption:         awsdynamodb.TableEncryptionV2_AwsManagedKey(),
		DeletionProtection: jsii.Bool(cfg.Production),
		RemovalPolicy:      removalPolicy(cfg),
	}
	if s.StreamNewImage {
		props.DynamoStream = awsdynamodb.StreamViewType_NEW_IMAGE
	}
	return awsdynamodb.NewTableV2(scope, jsii.String("Table"), props)
}

// removalPolicy keeps stateful resources of a production stack when the
// stack (or the resource) is deleted.
func removalPolicy(cfg Config) awscdk.RemovalPolicy {
	if cfg.Production {
		return awscdk.RemovalPolicy_RETAIN
	}
	return awscdk.RemovalPolicy_DESTROY
}
