package store

import (
	"fmt"
	"hash/fnv"
	"strings"

	"numberrelease/shared/domain"
)

// Key layout (README "Table design").
//
//	number state  PK=NUM#<customer>#<e164>  SK=STATE
//	history       PK=NUM#<customer>#<e164>  SK=H#<version, 8 digits>
//	customer      PK=CUST#<customer>        SK=META (its providers: a string set)
//	link          PK=PROV#<provider>        SK=CUST#<customer>
//	zoom account  PK=ZACCT#<zoom account>   SK=META (a copy of the customer)
//	idempotency   PK=IDEM#<scope>#<key>     SK=IDEM
//	request       PK=REQ#<request>          SK=META  (requests.go)
//	request member PK=REQ#<request>         SK=N#<e164>
//	backfill      PK=BACKFILL#pending-keys  SK=BACKFILL (backfill.go: the
//	              one-time backfill of the pending keys, its position and done)
//
// Package zoomauth keeps its items in the same table:
//
//	zoom grant    PK=ZGRANT#<zoom account>        SK=GRANT
//	oauth state   PK=OAUTHSTATE#<sha-256 of state> SK=STATE (expires_at TTL)
//
// and package webhooks its own:
//
//	webhook       PK=WEBHOOK#<provider>  SK=CONFIG
//	delivery      PK=WEBHOOK#<provider>  SK=DLV#<time>#<webhook-id>#<attempt> (expires_at TTL)
//
// Number state items carry the index keys:
//
//	ByCustomer  GSI1PK=C#<customer>[#RELEASED]              GSI1SK=<status>#<e164>
//	ByProvider  GSI2PK=P#<provider>#C#<customer>[#RELEASED] GSI2SK=<status>#<e164>
//
//	InFlight    GSI3PK=INFLIGHT#<shard 0-7>   GSI3SK=<updated_at>#<customer>#<e164>
//	            (only while RELEASING or WAITING_FOR_UNASSIGN)
//	            GSI3PK=PENDING#<shard 0-7>    GSI3SK=<pending_since>#<customer>#<e164>
//	            (only while PENDING_APPROVAL: the expiry sweep's candidates)
//
// Customer items written by the operator API (and PutTenants) carry the
// ByCustomer keys too, in a partition of their own, so every customer is
// listed, by id, with one Query and no Scan:
//
//	ByCustomer  GSI1PK=CUSTOMERS   GSI1SK=<customer>
//
// No number's partition can be CUSTOMERS: theirs all begin with "C#".
//
// Released numbers move to their own index partition, so the default views
// never read them and a RELEASED listing reads nothing else.
//
// Identifiers (customer, provider, Zoom account) enter keys through idPart,
// which escapes '%' and the delimiter '#': valid identifiers (package ident)
// contain neither and keep the layout above, and an identifier that slipped
// past validation still cannot spell another's key ("acme#RELEASED" becomes
// "acme%23RELEASED"). The Idempotency-Key is the last part of its key and
// follows an escaped scope, so it needs no escaping.
const (
	skState       = "STATE"
	skMeta        = "META"
	skIdempotency = "IDEM"
	historyPrefix = "H#"
)

// keyEscaper is injective: no two strings escape to the same one.
var keyEscaper = strings.NewReplacer("%", "%25", "#", "%23")

// idPart is an identifier as it appears inside a key.
func idPart(id string) string { return keyEscaper.Replace(id) }

func numberPK(customerID, e164 string) string { return "NUM#" + idPart(customerID) + "#" + e164 }
func historySK(version int) string            { return fmt.Sprintf("%s%08d", historyPrefix, version) }
func customerPK(customerID string) string     { return "CUST#" + idPart(customerID) }
func zoomAccountPK(accountID string) string   { return "ZACCT#" + idPart(accountID) }
func providerPK(providerID string) string     { return "PROV#" + idPart(providerID) }
func linkSK(customerID string) string         { return "CUST#" + idPart(customerID) }

// customerListPK is the ByCustomer partition of the customer list.
const customerListPK = "CUSTOMERS"

func customerListSK(customerID string) string { return idPart(customerID) }

func idempotencyPK(scope, key string) string {
	return "IDEM#" + idPart(scope) + "#" + key
}

func releasedSuffix(s domain.Status) string {
	if s == domain.Released {
		return "#RELEASED"
	}
	return ""
}

func customerIndexPK(customerID string, s domain.Status) string {
	return "C#" + idPart(customerID) + releasedSuffix(s)
}

func providerIndexPK(providerID, customerID string, s domain.Status) string {
	return "P#" + idPart(providerID) + "#C#" + idPart(customerID) + releasedSuffix(s)
}

func indexSK(s domain.Status, e164 string) string { return string(s) + "#" + e164 }

// inFlightShards spreads in-flight numbers over a few index partitions, so a
// bulk approval does not write one hot partition.
const inFlightShards = 8

func inFlightKeys(n domain.Number) (string, string) {
	h := fnv.New32a()
	h.Write([]byte(n.CustomerID + "#" + n.Number))
	return fmt.Sprintf("INFLIGHT#%d", h.Sum32()%inFlightShards),
		n.UpdatedAt.UTC().Format(inFlightTime) + "#" + idPart(n.CustomerID) + "#" + n.Number
}

// pendingKeys are a PENDING_APPROVAL number's InFlight index keys: sorted
// by when it entered PENDING_APPROVAL, so the expiry sweep reads only the
// numbers whose first reminder or expiry is due.
func pendingKeys(n domain.Number) (string, string) {
	h := fnv.New32a()
	h.Write([]byte(n.CustomerID + "#" + n.Number))
	since := n.PendingSince
	if since.IsZero() {
		since = n.UpdatedAt
	}
	return fmt.Sprintf("%s%d", pendingPrefix, h.Sum32()%inFlightShards),
		since.UTC().Format(inFlightTime) + "#" + idPart(n.CustomerID) + "#" + n.Number
}

// pendingPrefix begins the index partitions of pending numbers; an
// in-flight number's begin with "INFLIGHT#".
const pendingPrefix = "PENDING#"

// inFlightTime is fixed-width, so index keys sort by time.
const inFlightTime = "2006-01-02T15:04:05.000Z07:00"
