package zoom

// Zoom error codes, the "code" member of a Zoom error body
// {"code":124,"message":"Invalid access token."}. The client classifies
// errors mainly by HTTP status; these codes refine the 400s and are what the
// simulator (numberrelease/shared/zoomsim) answers, so both stay consistent.
const (
	// CodeInvalidAccessToken is Zoom's code for a missing, invalid or
	// expired access token (HTTP 401).
	CodeInvalidAccessToken = 124
	// CodeInvalidParameter is Zoom's generic validation code (HTTP 400).
	CodeInvalidParameter = 300
	// CodeRateLimited is Zoom's code for a rate-limited call (HTTP 429).
	CodeRateLimited = 429
	// CodeNotFound says a phone number (or its owner) does not exist in the
	// account (HTTP 404). Zoom uses 1001 for "User does not exist"; its phone
	// endpoints are not consistent, so the client relies on the 404 status.
	CodeNotFound = 1001
	// CodeNumberAssigned says a number cannot be removed because it is still
	// assigned (HTTP 400). This is the project's own choice: Zoom publishes no
	// specific code, so the client also recognises the message wording.
	CodeNumberAssigned = 8801
)
