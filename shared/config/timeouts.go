package config

import "time"

// APITimeout is the API and webhook functions' timeout: on AWS every request works
// under this deadline (API Gateway itself waits up to 29 s). The local
// system gives each request the same deadline, so a slow store shows there
// what it would do on AWS: multi-number actions stop in time and say which
// numbers to send again.
const APITimeout = 15 * time.Second

// ReleaseTasksTimeout is the release-tasks function's timeout: no
// invocation runs longer, so a concurrency slot leased for longer than this
// (ReleaseTasksSlotLease) outlives its holder.
const ReleaseTasksTimeout = 30 * time.Second

// ReleaseTasksSlotLease is how long a release-tasks invocation leases its
// concurrency slot (shared/slots): the function's timeout plus a margin
// for clock skew between hosts. A crashed invocation's slot is free again
// after it.
const ReleaseTasksSlotLease = ReleaseTasksTimeout + 15*time.Second
