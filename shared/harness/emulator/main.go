package emulator

import (
	"context"
	"fmt"
	"os"
)

// Runner runs a package's tests; *testing.M is one.
type Runner interface{ Run() int }

// Main starts one server for a test package, stores it in *srv, runs the
// package's tests and stops the server. It returns the exit code for
// os.Exit. If the server cannot start, it prints why and returns 1: tests
// that need the emulator fail rather than skip.
//
//	var srv *emulator.Server
//
//	func TestMain(m *testing.M) { os.Exit(emulator.Main(m, emulator.Options{}, &srv)) }
func Main(m Runner, opts Options, srv **Server) int {
	s, err := Start(context.Background(), opts)
	if err != nil {
		fmt.Fprintf(os.Stderr, "FAIL: cannot start the AWS emulator: %v\n", err)
		return 1
	}
	*srv = s
	code := m.Run()
	if err := s.Stop(); err != nil {
		fmt.Fprintf(os.Stderr, "FAIL: stop the AWS emulator: %v\n", err)
		if code == 0 {
			code = 1
		}
	}
	return code
}
