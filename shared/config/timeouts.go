package config

import "time"

// APITimeout is the API and webhook functions' timeout: on AWS every request works
// under this deadline (API Gateway itself waits up to 29 s). The local
// system gives each request the same deadline, so a slow store shows there
// what it would do on AWS: multi-number actions stop in time and say which
// numbers to send again.
const APITimeout = 15 * time.Second
