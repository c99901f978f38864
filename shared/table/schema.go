// Package table is the one definition of the DynamoDB table: its keys and
// indexes. The store, the CDK stack and the emulator tests all read it.
package table

import (
	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb/types"
)

// The single-table design (README "Table design"). Every key attribute is a
// string. This file is the one definition of the table: the CDK stack and the
// emulator tests both read it, so they cannot drift.
const (
	AttrPK = "PK"
	AttrSK = "SK"

	// IndexCustomer lists a customer's numbers by status (customer views).
	IndexCustomer = "ByCustomer"
	AttrGSI1PK    = "GSI1PK"
	AttrGSI1SK    = "GSI1SK"

	// IndexProvider lists the numbers one provider asked for at one customer
	// (the management portal view).
	IndexProvider = "ByProvider"
	AttrGSI2PK    = "GSI2PK"
	AttrGSI2SK    = "GSI2SK"

	// IndexInFlight is a sparse index of the numbers a workflow should be
	// moving (RELEASING, WAITING_FOR_UNASSIGN), spread over a few shards and
	// sorted by last update, for the reconciler.
	IndexInFlight = "InFlight"
	AttrGSI3PK    = "GSI3PK"
	AttrGSI3SK    = "GSI3SK"

	// AttrTTL holds the Unix time after which DynamoDB may delete an item
	// (idempotency records only).
	AttrTTL = "expires_at"
)

// Index describes one global secondary index (all attributes projected).
type Index struct {
	Name, PartitionKey, SortKey string
}

// Schema is the table's key design, independent of its name.
type Schema struct {
	PartitionKey, SortKey string
	Indexes               []Index
	TTLAttribute          string
	// StreamNewImage turns on a DynamoDB stream of new item images: history
	// items on it are published to EventBridge (functions/notify).
	StreamNewImage bool
}

// TableSchema returns the table's key design.
func TableSchema() Schema {
	return Schema{
		PartitionKey: AttrPK,
		SortKey:      AttrSK,
		Indexes: []Index{
			{Name: IndexCustomer, PartitionKey: AttrGSI1PK, SortKey: AttrGSI1SK},
			{Name: IndexProvider, PartitionKey: AttrGSI2PK, SortKey: AttrGSI2SK},
			{Name: IndexInFlight, PartitionKey: AttrGSI3PK, SortKey: AttrGSI3SK},
		},
		TTLAttribute:   AttrTTL,
		StreamNewImage: true,
	}
}

// CreateTableInput is the schema as a DynamoDB CreateTable call (on-demand
// billing), used by the emulator tests and the local runner.
func (s Schema) CreateTableInput(name string) *dynamodb.CreateTableInput {
	attrs := []types.AttributeDefinition{
		{AttributeName: aws.String(s.PartitionKey), AttributeType: types.ScalarAttributeTypeS},
		{AttributeName: aws.String(s.SortKey), AttributeType: types.ScalarAttributeTypeS},
	}
	var gsis []types.GlobalSecondaryIndex
	for _, ix := range s.Indexes {
		attrs = append(attrs,
			types.AttributeDefinition{AttributeName: aws.String(ix.PartitionKey), AttributeType: types.ScalarAttributeTypeS},
			types.AttributeDefinition{AttributeName: aws.String(ix.SortKey), AttributeType: types.ScalarAttributeTypeS})
		gsis = append(gsis, types.GlobalSecondaryIndex{
			IndexName: aws.String(ix.Name),
			KeySchema: []types.KeySchemaElement{
				{AttributeName: aws.String(ix.PartitionKey), KeyType: types.KeyTypeHash},
				{AttributeName: aws.String(ix.SortKey), KeyType: types.KeyTypeRange},
			},
			Projection: &types.Projection{ProjectionType: types.ProjectionTypeAll},
		})
	}
	return &dynamodb.CreateTableInput{
		TableName:            aws.String(name),
		AttributeDefinitions: attrs,
		KeySchema: []types.KeySchemaElement{
			{AttributeName: aws.String(s.PartitionKey), KeyType: types.KeyTypeHash},
			{AttributeName: aws.String(s.SortKey), KeyType: types.KeyTypeRange},
		},
		GlobalSecondaryIndexes: gsis,
		BillingMode:            types.BillingModePayPerRequest,
		StreamSpecification: &types.StreamSpecification{
			StreamEnabled:  aws.Bool(s.StreamNewImage),
			StreamViewType: types.StreamViewTypeNewImage,
		},
	}
}
