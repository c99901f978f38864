package store

import (
	"fmt"
	"hash/fnv"

	"numberrelease/shared/number"
)

// Key layout (README "Table design").
//
//	number state  PK=NUM#<customer>#<e164>  SK=STATE
//	history       PK=NUM#<customer>#<e164>  SK=H#<version, 8 digits>
//	customer      PK=CUST#<customer>        SK=META
//	link          PK=PROV#<provider>        SK=CUST#<customer>
//	zoom account  PK=ZACCT#<zoom account>   SK=META (a copy of the customer)
//	idempotency   PK=IDEM#<scope>#<key>     SK=IDEM
//
// Number state items carry the index keys:
//
//	ByCustomer  GSI1PK=C#<customer>[#RELEASED]              GSI1SK=<status>#<e164>
//	ByProvider  GSI2PK=P#<provider>#C#<customer>[#RELEASED] GSI2SK=<status>#<e164>
//
//	InFlight    GSI3PK=INFLIGHT#<shard 0-7>   GSI3SK=<updated_at>#<customer>#<e164>
//	            (only while RELEASING or WAITING_FOR_UNASSIGN)
//
// Released numbers move to their own index partition, so the default views
// never read them and a RELEASED listing reads nothing else.
const (
	skState       = "STATE"
	skMeta        = "META"
	skIdempotency = "IDEM"
	historyPrefix = "H#"
)

func numberPK(customerID, e164 string) string { return "NUM#" + customerID + "#" + e164 }
func historySK(version int) string            { return fmt.Sprintf("%s%08d", historyPrefix, version) }
func customerPK(customerID string) string     { return "CUST#" + customerID }
func zoomAccountPK(accountID string) string   { return "ZACCT#" + accountID }
func providerPK(providerID string) string     { return "PROV#" + providerID }
func linkSK(customerID string) string         { return "CUST#" + customerID }
func idempotencyPK(scope, key string) string {
	return "IDEM#" + scope + "#" + key
}

func releasedSuffix(s number.Status) string {
	if s == number.Released {
		return "#RELEASED"
	}
	return ""
}

func customerIndexPK(customerID string, s number.Status) string {
	return "C#" + customerID + releasedSuffix(s)
}

func providerIndexPK(providerID, customerID string, s number.Status) string {
	return "P#" + providerID + "#C#" + customerID + releasedSuffix(s)
}

func indexSK(s number.Status, e164 string) string { return string(s) + "#" + e164 }

// inFlightShards spreads in-flight numbers over a few index partitions, so a
// bulk approval does not write one hot partition.
const inFlightShards = 8

func inFlight(s number.Status) bool {
	return s == number.Releasing || s == number.WaitingForUnassign
}

func inFlightKeys(n Number) (string, string) {
	h := fnv.New32a()
	h.Write([]byte(n.CustomerID + "#" + n.Number))
	return fmt.Sprintf("INFLIGHT#%d", h.Sum32()%inFlightShards),
		n.UpdatedAt.UTC().Format(inFlightTime) + "#" + n.CustomerID + "#" + n.Number
}

// inFlightTime is fixed-width, so index keys sort by time.
const inFlightTime = "2006-01-02T15:04:05.000Z07:00"
