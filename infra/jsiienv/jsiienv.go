// Package jsiienv prepares the environment of the CDK's jsii kernel (the
// Node.js process the Go CDK runs in) for the CDK app and its tests.
package jsiienv

import (
	"os"

	"github.com/aws/jsii-runtime-go"
)

// EndOfLifeVar is jsii's switch for its Node.js end-of-life banner.
const EndOfLifeVar = "JSII_SILENCE_WARNING_END_OF_LIFE_NODE_VERSION"

// SilencedMajors is EndOfLifeVar's value: the Node.js majors whose banner is
// not printed (comma-separated: jsii compares the running major with each,
// so "1" would silence nothing). They are the Node.js .ci/install takes from
// Debian: 18 (bookworm) or 20 (trixie, and this project's development
// machine).
const SilencedMajors = "18,20"

// SilenceEndOfLifeNode sets EndOfLifeVar, unless it is set already (an
// operator's own setting wins), so jsii does not print its end-of-life banner
// on every synthesis. Call it first in main (or TestMain), before anything
// calls into the CDK.
//
// The CDK packages register their types in init, which already made the
// jsii client and fixed its kernel's environment before main runs (the kernel
// process itself starts on the first call). So setting the variable is not
// enough: closing that unstarted client makes the first call start a kernel
// that inherits it. The type registrations are kept (jsii's registry is not
// the client's).
func SilenceEndOfLifeNode() {
	if os.Getenv(EndOfLifeVar) != "" {
		return
	}
	os.Setenv(EndOfLifeVar, SilencedMajors)
	jsii.Close()
}
