package emulator_test

import (
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"

	"numberrelease/shared/harness/emulator"
)

// fairLockCheck drives moto_server.py's readers-writer lock through fixed
// orders of arrival and prints the order in which the waiters got it.
const fairLockCheck = `
import importlib.util, sys, threading, time
spec = importlib.util.spec_from_file_location("moto_server", sys.argv[1])
ms = importlib.util.module_from_spec(spec)
spec.loader.exec_module(ms)

def order(arrivals):
    lock = ms._ReadersWriterLock()
    lock.acquire_exclusive()  # a write in progress
    got, threads = [], []
    def run(name):
        if name.startswith("r"):
            lock.acquire_shared(); got.append(name); time.sleep(0.05); lock.release_shared()
        else:
            lock.acquire_exclusive(); got.append(name); time.sleep(0.05); lock.release_exclusive()
    for name in arrivals:
        th = threading.Thread(target=run, args=(name,)); th.start(); threads.append(th)
        time.sleep(0.2)  # arrive one after the other, all while the first write holds the lock
    lock.release_exclusive()
    for th in threads:
        th.join(timeout=30)
    return " ".join(got)

print(order(["r1", "w1"]))
print(order(["w1", "r1", "w2"]))
print(order(["r1", "w1", "w2", "r2"]))
`

// The emulator's lock serves requests in the order they arrive: a read
// waits only for the writes queued before it, so a steady stream of writes
// (a rate limiter's counters under load) cannot starve reads. It did: a
// waiting writer went before every reader, and an approval's BatchGetItem
// behind a limiter's stream of UpdateItems outlived the API's 15 s.
func TestLockServesInArrivalOrder(t *testing.T) {
	if testing.Short() {
		t.Skip("runs the emulator's Python; skipped in -short mode")
	}
	python, err := emulator.MotoPythonPath()
	if err != nil {
		t.Fatal(err)
	}
	script := filepath.Join(t.TempDir(), "moto_server.py")
	if err := os.WriteFile(script, emulator.MotoServerScript, 0o600); err != nil {
		t.Fatal(err)
	}
	out, err := exec.Command(python, "-c", fairLockCheck, script).CombinedOutput()
	if err != nil {
		t.Fatalf("%v: %s", err, out)
	}
	got := strings.Split(strings.TrimSpace(string(out)), "\n")
	want := []string{
		"r1 w1",       // the reader came first
		"w1 r1 w2",    // each in turn
		"r1 w1 w2 r2", // the last reader waits for both writes ahead of it
	}
	if strings.Join(got, "|") != strings.Join(want, "|") {
		t.Fatalf("order of service = %q; want %q", got, want)
	}
}
