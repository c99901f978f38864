package main

// The CPU hog the throughput and approval runs are repeated beside, and
// the CPU accounting of a run: the bench's own process (which runs the
// project's handlers in-process), moto and the hog's processes, from
// /proc, so the report can say where the CPU went.

import (
	"errors"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"time"
)

// hogScript is what each hog process runs: a shell loop that never sleeps,
// one CPU's worth of work.
const hogScript = "while :; do :; done"

// hogCommand is how the report names one hog process.
const hogCommand = "sh -c '" + hogScript + "'"

// hog is a set of busy processes, one per CPU.
type hog struct {
	mu    sync.Mutex
	procs []*exec.Cmd
}

// running holds the hogs started and not yet stopped, so that a signal
// can stop them before the bench exits (see main).
var running = struct {
	sync.Mutex
	hogs map[*hog]bool
}{hogs: map[*hog]bool{}}

// startHog starts n busy processes. Each is in its own process group and,
// on Linux, killed by the kernel if the bench dies without stopping it.
func startHog(n int) (*hog, error) {
	h := &hog{}
	running.Lock()
	running.hogs[h] = true
	running.Unlock()
	for i := 0; i < n; i++ {
		cmd := exec.Command("sh", "-c", hogScript)
		cmd.SysProcAttr = hogProcAttr()
		if err := cmd.Start(); err != nil {
			h.stop()
			return nil, fmt.Errorf("start CPU hog %d of %d (%s): %w", i+1, n, hogCommand, err)
		}
		h.mu.Lock()
		h.procs = append(h.procs, cmd)
		h.mu.Unlock()
	}
	return h, nil
}

// pids are the hog's processes.
func (h *hog) pids() []int {
	h.mu.Lock()
	defer h.mu.Unlock()
	var out []int
	for _, c := range h.procs {
		out = append(out, c.Process.Pid)
	}
	return out
}

// stop kills the hog's processes (by their own ids) and waits for them.
// It is safe to call more than once.
func (h *hog) stop() {
	if h == nil {
		return
	}
	h.mu.Lock()
	procs := h.procs
	h.procs = nil
	h.mu.Unlock()
	for _, c := range procs {
		_ = c.Process.Kill()
	}
	for _, c := range procs {
		_ = c.Wait()
	}
	running.Lock()
	delete(running.hogs, h)
	running.Unlock()
}

// stopAllHogs stops every hog still running (on a signal).
func stopAllHogs() {
	running.Lock()
	var hs []*hog
	for h := range running.hogs {
		hs = append(hs, h)
	}
	running.Unlock()
	for _, h := range hs {
		h.stop()
	}
}

// clockTicks is the kernel's USER_HZ, the unit of /proc/<pid>/stat's CPU
// times: 100 on every Linux architecture Go supports.
const clockTicks = 100

// procCPU is the CPU time (user + system) of a process so far, from
// /proc/<pid>/stat; ok is false when the process is gone.
func procCPU(pid string) (time.Duration, bool) {
	f, ok := statFields(filepath.Join("/proc", pid))
	if !ok || len(f) < 13 {
		return 0, false
	}
	ut, err1 := strconv.ParseInt(f[11], 10, 64)
	st, err2 := strconv.ParseInt(f[12], 10, 64)
	if err1 != nil || err2 != nil {
		return 0, false
	}
	return time.Duration(ut+st) * time.Second / clockTicks, true
}

// statFields are the fields of a process's stat file (dir is
// /proc/<pid>) after the command name, which is in parentheses and may
// hold spaces and parentheses: [0] is the state (field 3 of proc(5)), [1]
// the parent's pid, [11] utime and [12] stime.
func statFields(dir string) ([]string, bool) {
	b, err := os.ReadFile(filepath.Join(dir, "stat"))
	if err != nil {
		return nil, false
	}
	i := strings.LastIndex(string(b), ")")
	if i < 0 {
		return nil, false
	}
	return strings.Fields(string(b[i+1:])), true
}

// cpuSample is the CPU time so far of the bench, of moto and of the hog.
type cpuSample struct {
	at               time.Time
	self, moto, hogs time.Duration
}

// sampleCPU reads the CPU times of the bench's process, of the moto
// process motoPID (0: none) and of the hog's processes.
func sampleCPU(motoPID int, h *hog) cpuSample {
	s := cpuSample{at: time.Now()}
	s.self, _ = procCPU("self")
	if motoPID > 0 {
		s.moto, _ = procCPU(strconv.Itoa(motoPID))
	}
	if h != nil {
		for _, pid := range h.pids() {
			d, _ := procCPU(strconv.Itoa(pid))
			s.hogs += d
		}
	}
	return s
}

// cpuUse is what a run used between two samples.
type cpuUse struct {
	wall, self, moto, hogs time.Duration
}

func (s cpuSample) until(later cpuSample) cpuUse {
	return cpuUse{wall: later.at.Sub(s.at), self: later.self - s.self, moto: later.moto - s.moto, hogs: later.hogs - s.hogs}
}

// cores says how many CPUs' worth d is over wall.
func cores(d, wall time.Duration) float64 {
	if wall <= 0 {
		return 0
	}
	return d.Seconds() / wall.Seconds()
}

func (u cpuUse) String() string {
	if u.wall <= 0 {
		return "not sampled"
	}
	s := fmt.Sprintf("bench process (the project's handlers, the Zoom simulator, the bench's polling) %.0f s (%.2f CPUs), moto %.0f s (%.2f CPUs)",
		u.self.Seconds(), cores(u.self, u.wall), u.moto.Seconds(), cores(u.moto, u.wall))
	if u.hogs > 0 {
		s += fmt.Sprintf(", CPU hog %.0f s (%.2f CPUs)", u.hogs.Seconds(), cores(u.hogs, u.wall))
	}
	return s + fmt.Sprintf(" over %s", u.wall.Round(time.Second))
}

// loadAvg is /proc/loadavg's 1-, 5- and 15-minute load averages.
func loadAvg() string {
	b, err := os.ReadFile("/proc/loadavg")
	if err != nil {
		return "unknown"
	}
	f := strings.Fields(string(b))
	if len(f) < 3 {
		return "unknown"
	}
	return strings.Join(f[:3], " ")
}

// motoProcess finds the moto server the bench started: a child process
// running moto_server.py. It returns its pid and the file its output goes
// to (its standard error), or an error.
func motoProcess() (int, string, error) {
	dirs, err := filepath.Glob("/proc/[0-9]*")
	if err != nil {
		return 0, "", err
	}
	me := strconv.Itoa(os.Getpid())
	var found []int
	for _, d := range dirs {
		if f, ok := statFields(d); !ok || len(f) < 2 || f[1] != me {
			continue
		}
		cmdline, err := os.ReadFile(filepath.Join(d, "cmdline"))
		if err != nil || !strings.Contains(string(cmdline), "moto_server.py") {
			continue
		}
		pid, _ := strconv.Atoi(filepath.Base(d))
		found = append(found, pid)
	}
	switch len(found) {
	case 0:
		return 0, "", errors.New("no moto_server.py child process found")
	case 1:
	default:
		return 0, "", fmt.Errorf("%d moto_server.py child processes; want one", len(found))
	}
	logPath, err := os.Readlink(fmt.Sprintf("/proc/%d/fd/2", found[0]))
	if err != nil {
		return found[0], "", fmt.Errorf("moto's output: %w", err)
	}
	return found[0], logPath, nil
}
