package zoom

// Zoom error codes, the "code" member of a Zoom error body
// {"code":124,"message":"Invalid access token."}. The client classifies
// errors mainly by HTTP status; these codes refine the 400s and are what the
// simulator (numberrelease/shared/harness/zoomsim) answers, so both stay consistent.
const (
	// CodeInvalidAccessToken is Zoom's code for a missing, invalid or
	// expired access token (HTTP 401).
	CodeInvalidAccessToken = 124
	// CodeInvalidParameter is Zoom's generic validation code (HTTP 400).
	CodeInvalidParameter = 300
	// CodeRateLimited is Zoom's code for a rate-limited call (HTTP 429).
	CodeRateLimited = 429
	// CodeNotFound says a phone number, or its owner, does not exist: what
	// the simulator's unbind endpoints (DELETE /phone/users/{userId}/
	// phone_numbers/{phoneNumberId} and the like) answer with HTTP 404. The
	// client goes by the 404; elsewhere Zoom gives 1001 other meanings (see
	// CodeCarrierNotFound).
	CodeNotFound = 1001
	// CodePhoneNumberNotFound is what DELETE /number_management/numbers
	// answers (HTTP 400, "Phone number not found") for an id that is not in
	// the account, per Zoom's Number Management OpenAPI document.
	CodePhoneNumberNotFound = 100002
	// CodeInvalidPageToken is what GET /number_management/numbers answers
	// (HTTP 400) for a next_page_token that is invalid or expired (tokens
	// last 15 minutes), per the same document.
	CodeInvalidPageToken = 1003100
	// CodeCarrierNotFound is what DELETE /number_management/peering_numbers
	// answers (HTTP 400) for a carrier code Zoom does not know.
	CodeCarrierNotFound = 1001
	// CodePeeringEmpty: the peering call named no phone number (HTTP 400).
	CodePeeringEmpty = 1002
	// CodePeeringTooMany: the peering call named more than 200 (HTTP 400).
	CodePeeringTooMany = 1003
	// CodeNumberAssigned says a number cannot be removed because it is still
	// assigned (HTTP 400). This is the project's own choice: Zoom documents
	// no answer for it on DELETE /number_management/numbers, so the client
	// also recognises the message wording.
	CodeNumberAssigned = 8801
)
