// Command bench measures Number Release and rewrites BENCHMARKS.md:
// Go micro-benchmarks of the hot paths, the Lambda bundles' sizes, each
// function's init time (process start to first poll of the Lambda Runtime
// API, on a local stand-in endpoint), the Step Functions state transitions
// and AWS calls per release from real executions on the emulator, how long
// the approval of 300 and of 500 numbers takes to answer, and the
// end-to-end throughput of a 1,000-number release at Zoom's Pro limits;
// the last two also beside a CPU hog (one busy process per CPU).
//
// Run it through `make bench` (which installs the emulator first and sets
// MOTO_PYTHON); from the repository root: go run ./e2e/bench -out BENCHMARKS.md.
// -only benchmarks,sizes,init,workflow,approval,throughput,zoomcalls runs some steps
// alone; the report then holds only their sections.
package main

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/url"
	"os"
	"os/exec"
	"os/signal"
	"path/filepath"
	"regexp"
	"runtime"
	"slices"
	"sort"
	"strconv"
	"strings"
	"syscall"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/sfn"
	sfntypes "github.com/aws/aws-sdk-go-v2/service/sfn/types"

	"numberrelease/shared/domain"
	"numberrelease/shared/harness/devstack"
)

const (
	sizeBudgetMiB = 15.0
	initBudget    = 50 * time.Millisecond
	initRuns      = 15
	benchCount    = 3
)

func main() {
	out := flag.String("out", "BENCHMARKS.md", "report to write")
	only := flag.String("only", "", "comma-separated steps to run, of "+strings.Join(stepNames(), ", ")+" (default: all)")
	flag.Parse()
	r := &report{only: *only}
	steps, err := selectSteps(r.steps(), *only)
	if err != nil {
		logf("%v", err)
		os.Exit(2)
	}
	// A hog is killed by its own id when its run ends; on Ctrl-C or a
	// termination signal, here (moto dies with the bench: shared/harness/emulator).
	sigs := make(chan os.Signal, 1)
	signal.Notify(sigs, os.Interrupt, syscall.SIGTERM)
	go func() {
		sig := <-sigs
		logf("%s: stopping the CPU hogs and exiting", sig)
		stopAllHogs()
		os.Exit(130)
	}()
	started := time.Now()
	r.machine()
	for _, s := range steps {
		logf("== %s", s.title)
		t := time.Now()
		if err := s.run(); err != nil {
			logf("   %s: %v", s.name, err)
			r.failures = append(r.failures, fmt.Sprintf("%s: %v", s.title, err))
		}
		r.ran = append(r.ran, ranStep{step: s, took: time.Since(t)})
		logf("   %s took %s", s.name, time.Since(t).Round(100*time.Millisecond))
	}
	r.elapsed = time.Since(started)
	r.loadEnd = loadAvg()
	if err := os.WriteFile(*out, []byte(r.markdown()), 0o644); err != nil {
		logf("write %s: %v", *out, err)
		os.Exit(1)
	}
	logf("wrote %s (%s)", *out, r.elapsed.Round(time.Second))
	if len(r.failures) > 0 {
		os.Exit(1)
	}
}

// step is one measurement: its -only name, what it measures, and the
// report section it writes.
type step struct {
	name, title string
	run         func() error
	section     func(printer)
}

type ranStep struct {
	step
	took time.Duration
}

// printer writes one line of the report.
type printer func(format string, args ...any)

func (r *report) steps() []step {
	return []step{
		{"benchmarks", "Go benchmarks", r.goBenchmarks, r.mdBenchmarks},
		{"sizes", "binary sizes", r.binarySizes, r.mdSizes},
		{"init", "init time", r.initTimes, r.mdInit},
		{"workflow", "workflow cost and AWS calls per release", r.workflowCost, r.mdWorkflow},
		{"approval", "approval-call time (300 and 500 numbers)", r.approvalTimes, r.mdApproval},
		{"throughput", "1,000-number throughput (alone and beside a CPU hog)", r.throughput, r.mdThroughput},
		{"zoomcalls", "Zoom calls per release mode (500 numbers)", r.zoomCallsByMode, r.mdZoomCalls},
	}
}

func stepNames() []string {
	var names []string
	for _, s := range (&report{}).steps() {
		names = append(names, s.name)
	}
	return names
}

// selectSteps keeps the steps named in only (comma-separated), in their
// usual order; an empty only keeps all.
func selectSteps(all []step, only string) ([]step, error) {
	if strings.TrimSpace(only) == "" {
		return all, nil
	}
	want := map[string]bool{}
	for _, n := range strings.Split(only, ",") {
		n = strings.TrimSpace(n)
		if !slices.Contains(stepNames(), n) {
			return nil, fmt.Errorf("-only: unknown step %q; the steps are %s", n, strings.Join(stepNames(), ", "))
		}
		want[n] = true
	}
	var out []step
	for _, s := range all {
		if want[s.name] {
			out = append(out, s)
		}
	}
	return out, nil
}

func logf(format string, args ...any) { fmt.Fprintf(os.Stderr, format+"\n", args...) }

type report struct {
	nproc, cpu, goVersion, date string
	// loadStart and loadEnd are /proc/loadavg when the bench began and
	// ended: the machine is shared.
	loadStart, loadEnd string
	elapsed            time.Duration
	only               string
	ran                []ranStep

	benches  []benchResult
	benchRaw string
	notes    []string // about the benchmarks (e.g. a missing one)

	sizes []sizeRow
	apiRPC,
	apiNoRPC int64

	hostArch string
	inits    []initRow

	flows     []flowRow
	approvals []approvalRun
	bulk      []*throughputResult
	modes     []*modeResult

	failures []string
}

func (r *report) machine() {
	r.nproc = strconv.Itoa(runtime.NumCPU())
	if b, err := exec.Command("nproc").Output(); err == nil {
		r.nproc = strings.TrimSpace(string(b))
	}
	r.cpu = "unknown"
	if b, err := os.ReadFile("/proc/cpuinfo"); err == nil {
		for _, line := range strings.Split(string(b), "\n") {
			if k, v, ok := strings.Cut(line, ":"); ok && strings.TrimSpace(k) == "model name" {
				r.cpu = strings.TrimSpace(v)
				break
			}
		}
	}
	r.goVersion = runtime.Version()
	if b, err := exec.Command("go", "version").Output(); err == nil {
		r.goVersion = strings.TrimSpace(string(b))
	}
	r.date = time.Now().UTC().Format("2006-01-02 15:04 MST")
	r.loadStart = loadAvg()
}

// ---- 1. Go benchmarks --------------------------------------------------------

type benchResult struct {
	pkg, name                  string
	nsOp, bytesOp, allocsOp    float64
	runs                       int
	nsAll                      []float64
	mbPerSec                   float64
	hasBytes                   bool
	hasMBPerSec                bool
	bytesAll, allocsAll, mbAll []float64
}

var benchLine = regexp.MustCompile(`^(Benchmark[^\s]+?)(?:-\d+)?\s+\d+\s+([\d.]+) ns/op(.*)$`)
var metric = regexp.MustCompile(`([\d.]+) (B/op|allocs/op|MB/s)`)

func (r *report) goBenchmarks() error {
	pkgs := []struct {
		pkg   string
		names []string
	}{
		{"./shared/number", []string{"BenchmarkParse", "BenchmarkParseList500"}},
		{"./shared/zoomsig", []string{"BenchmarkVerify"}},
		{"./shared/zoomhook", []string{"BenchmarkURLValidation"}},
		{"./shared/httpapi", []string{"BenchmarkApprove500", "BenchmarkListPage100"}},
	}
	var raw strings.Builder
	var errs []error
	for _, p := range pkgs {
		listed, err := exec.Command("go", "test", "-list", "Benchmark.*", p.pkg).Output()
		if err != nil {
			errs = append(errs, fmt.Errorf("list benchmarks of %s: %w", p.pkg, err))
			continue
		}
		var present []string
		for _, n := range p.names {
			if slices.Contains(strings.Fields(string(listed)), n) {
				present = append(present, n)
			} else {
				r.notes = append(r.notes, fmt.Sprintf("`%s` has no `%s` in this tree; not measured.", strings.TrimPrefix(p.pkg, "./"), n))
			}
		}
		if len(present) == 0 {
			continue
		}
		pattern := "^(" + strings.Join(present, "|") + ")$"
		args := []string{"test", "-run", "^$", "-bench", pattern, "-benchmem", "-count", strconv.Itoa(benchCount), p.pkg}
		logf("   go %s", strings.Join(args, " "))
		cmd := exec.Command("go", args...)
		var stdout, stderr bytes.Buffer
		cmd.Stdout, cmd.Stderr = &stdout, &stderr
		err = cmd.Run()
		raw.WriteString("$ go " + strings.Join(args, " ") + "\n" + stdout.String())
		if err != nil {
			errs = append(errs, fmt.Errorf("go test -bench %s: %w\n%s%s", p.pkg, err, stdout.String(), stderr.String()))
			continue
		}
		byName := map[string]*benchResult{}
		for _, line := range strings.Split(stdout.String(), "\n") {
			m := benchLine.FindStringSubmatch(strings.TrimSpace(line))
			if m == nil {
				continue
			}
			b := byName[m[1]]
			if b == nil {
				b = &benchResult{pkg: strings.TrimPrefix(p.pkg, "./"), name: m[1]}
				byName[m[1]] = b
			}
			ns, _ := strconv.ParseFloat(m[2], 64)
			b.nsAll = append(b.nsAll, ns)
			for _, mm := range metric.FindAllStringSubmatch(m[3], -1) {
				v, _ := strconv.ParseFloat(mm[1], 64)
				switch mm[2] {
				case "B/op":
					b.bytesAll, b.hasBytes = append(b.bytesAll, v), true
				case "allocs/op":
					b.allocsAll = append(b.allocsAll, v)
				case "MB/s":
					b.mbAll, b.hasMBPerSec = append(b.mbAll, v), true
				}
			}
		}
		for _, n := range present {
			b := byName[n]
			if b == nil {
				errs = append(errs, fmt.Errorf("%s: no result for %s in the output", p.pkg, n))
				continue
			}
			b.runs = len(b.nsAll)
			b.nsOp, b.bytesOp, b.allocsOp, b.mbPerSec = median(b.nsAll), median(b.bytesAll), median(b.allocsAll), median(b.mbAll)
			r.benches = append(r.benches, *b)
		}
	}
	r.benchRaw = raw.String()
	return errors.Join(errs...)
}

func median(v []float64) float64 {
	if len(v) == 0 {
		return 0
	}
	s := slices.Clone(v)
	sort.Float64s(s)
	if len(s)%2 == 1 {
		return s[len(s)/2]
	}
	return (s[len(s)/2-1] + s[len(s)/2]) / 2
}

// ---- 2. Binary sizes ---------------------------------------------------------

type sizeRow struct {
	name  string
	bytes int64
}

func functions() ([]string, error) {
	dirs, err := filepath.Glob("functions/*/main.go")
	if err != nil {
		return nil, err
	}
	var names []string
	for _, d := range dirs {
		names = append(names, filepath.Base(filepath.Dir(d)))
	}
	sort.Strings(names)
	if len(names) == 0 {
		return nil, errors.New("no functions/*/main.go (run from the repository root)")
	}
	return names, nil
}

// build compiles functions/<name> for linux/arch as make build does
// (norpc: with -tags lambda.norpc) and returns the binary's path.
func build(dir, name, arch string, norpc bool) (string, error) {
	out := filepath.Join(dir, arch+map[bool]string{true: "-norpc", false: "-rpc"}[norpc], name)
	args := []string{"build"}
	if norpc {
		args = append(args, "-tags", "lambda.norpc")
	}
	args = append(args, "-trimpath", "-ldflags=-s -w", "-o", out, "./functions/"+name)
	cmd := exec.Command("go", args...)
	cmd.Env = append(os.Environ(), "GOOS=linux", "GOARCH="+arch, "CGO_ENABLED=0")
	if b, err := cmd.CombinedOutput(); err != nil {
		return "", fmt.Errorf("build %s (%s): %w\n%s", name, arch, err, b)
	}
	return out, nil
}

func fileSize(path string) int64 {
	fi, err := os.Stat(path)
	if err != nil {
		return 0
	}
	return fi.Size()
}

func (r *report) binarySizes() error {
	names, err := functions()
	if err != nil {
		return err
	}
	dir, err := os.MkdirTemp("", "bench-build-*")
	if err != nil {
		return err
	}
	defer os.RemoveAll(dir)
	for _, n := range names {
		p, err := build(dir, n, "arm64", true)
		if err != nil {
			return err
		}
		r.sizes = append(r.sizes, sizeRow{n, fileSize(p)})
		if n == "api" {
			r.apiNoRPC = fileSize(p)
			rpc, err := build(dir, n, "arm64", false)
			if err != nil {
				return err
			}
			r.apiRPC = fileSize(rpc)
		}
	}
	return nil
}

func mib(b int64) float64 { return float64(b) / (1 << 20) }

// ---- 3. Init time -----------------------------------------------------------

type initRow struct {
	name     string
	samples  []time.Duration
	exited   string // output of a process that exited instead of polling
	timeouts int
}

// runtimeEnv is every variable any function requires, with dummy values.
// AWS_ENDPOINT_URL points at a closed port so that any AWS call made during
// init fails at once instead of reaching AWS (none is expected).
func runtimeEnv(api string) []string {
	env := []string{
		"PATH=" + os.Getenv("PATH"),
		"AWS_LAMBDA_RUNTIME_API=" + api,
		"AWS_REGION=us-east-1", "AWS_DEFAULT_REGION=us-east-1",
		"AWS_ACCESS_KEY_ID=bench", "AWS_SECRET_ACCESS_KEY=bench", "AWS_SESSION_TOKEN=bench",
		"AWS_EC2_METADATA_DISABLED=true",
		"AWS_ENDPOINT_URL=http://127.0.0.1:9",
		"AWS_LAMBDA_FUNCTION_NAME=bench", "AWS_LAMBDA_FUNCTION_MEMORY_SIZE=512",
		"TABLE_NAME=number-release",
		"STATE_MACHINE_ARN=arn:aws:states:us-east-1:123456789012:stateMachine:number-release",
		"JWKS_URL=https://issuer.example/.well-known/jwks.json",
		"JWT_ISSUER=https://issuer.example/", "JWT_AUDIENCE=number-release",
		"TENANT_RATE_LIMIT=10", "TENANT_BURST=20",
		"ZOOM_WEBHOOK_SECRET_ARN=arn:aws:secretsmanager:us-east-1:123456789012:secret:zoom-AbCdEf",
		"ZOOM_SECRET_ARN=arn:aws:secretsmanager:us-east-1:123456789012:secret:zoom-AbCdEf",
		"ZOOM_API_BASE=https://api.zoom.us/v2", "ZOOM_OAUTH_URL=https://zoom.us/oauth/token",
		"ZOOM_REDIRECT_URL=https://app.example/",
		"ZOOM_TOKENS_KEY_ARN=arn:aws:kms:us-east-1:123456789012:key/00000000-0000-0000-0000-000000000000",
		"RECHECK_SECONDS=600", "MAX_WAIT_SECONDS=604800",
		"EVENT_BUS_NAME=number-release", "GRACE_SECONDS=900",
		"RETRY_BUDGET_SECONDS=900", "RETRY_PAUSE_SECONDS=60",
		"RELEASE_TASKS_CONCURRENCY=10",
		"RELEASE_QUEUE_URL=https://sqs.us-east-1.amazonaws.com/123456789012/number-release-releases",
	}
	return env
}

// runtimeStub answers GET /2018-06-01/runtime/invocation/next by reporting
// the time of the first poll and then holding the request until the
// process is killed (the function waits for an event that never comes).
type runtimeStub struct {
	polled chan time.Time
}

func (s *runtimeStub) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	if r.Method == http.MethodGet && r.URL.Path == "/2018-06-01/runtime/invocation/next" {
		select {
		case s.polled <- time.Now():
		default:
		}
		<-r.Context().Done()
		return
	}
	// Anything else (init error reports) is acknowledged.
	_, _ = io.Copy(io.Discard, r.Body)
	w.WriteHeader(http.StatusAccepted)
}

func (r *report) initTimes() error {
	names, err := functions()
	if err != nil {
		return err
	}
	r.hostArch = runtime.GOARCH
	dir, err := os.MkdirTemp("", "bench-init-*")
	if err != nil {
		return err
	}
	defer os.RemoveAll(dir)
	for _, n := range names {
		bin, err := build(dir, n, runtime.GOARCH, true)
		if err != nil {
			return err
		}
		row := initRow{name: n}
		for i := 0; i < initRuns; i++ {
			d, exited, err := initOnce(bin)
			if err != nil {
				return fmt.Errorf("%s: %w", n, err)
			}
			if exited != "" {
				row.exited = exited
				break
			}
			if d == 0 {
				row.timeouts++
				continue
			}
			row.samples = append(row.samples, d)
		}
		r.inits = append(r.inits, row)
	}
	var exited []string
	for _, row := range r.inits {
		if row.exited != "" || len(row.samples) == 0 {
			exited = append(exited, row.name)
		}
	}
	if len(exited) > 0 {
		return fmt.Errorf("%s never polled the Runtime API (see the table)", strings.Join(exited, ", "))
	}
	return nil
}

// initOnce starts bin against a fresh runtime stub and returns the time
// from cmd.Start to its first poll; exited is the output of a process that
// ended without polling; 0 with no exit means no poll within 10 s.
func initOnce(bin string) (time.Duration, string, error) {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return 0, "", err
	}
	stub := &runtimeStub{polled: make(chan time.Time, 1)}
	srv := &http.Server{Handler: stub}
	go func() { _ = srv.Serve(ln) }()
	defer srv.Close()

	var output bytes.Buffer
	cmd := exec.Command(bin)
	cmd.Env = runtimeEnv(ln.Addr().String())
	cmd.Stdout, cmd.Stderr = &output, &output
	start := time.Now()
	if err := cmd.Start(); err != nil {
		return 0, "", err
	}
	done := make(chan error, 1)
	go func() { done <- cmd.Wait() }()
	select {
	case at := <-stub.polled:
		_ = cmd.Process.Kill()
		<-done
		return at.Sub(start), "", nil
	case err := <-done:
		return 0, fmt.Sprintf("exited (%v) before polling: %s", err, strings.TrimSpace(output.String())), nil
	case <-time.After(10 * time.Second):
		_ = cmd.Process.Kill()
		<-done
		return 0, "", nil
	}
}

func percentile(ds []time.Duration, p float64) time.Duration {
	if len(ds) == 0 {
		return 0
	}
	s := slices.Clone(ds)
	slices.Sort(s)
	// nearest rank
	k := int(p*float64(len(s))+0.999999) - 1
	return s[max(0, min(k, len(s)-1))]
}

// ---- 4. Workflow cost on the emulator ---------------------------------------

type flowRow struct {
	path        string
	number      string
	execution   string
	entered     int
	minimum     int
	waits       int
	states      []string // state names in order entered
	lambdaTasks int
	retries     int
	events      int
	zoomCalls   map[string]int
	elapsed     time.Duration
	status      string
	// hints is the unbind notifications the bench caused; calls what the
	// release cost in AWS calls.
	hints int
	calls devstack.CallCounts
}

type client struct {
	base  string
	token string
}

// httpClient bounds every call the bench makes to the local system, so
// that a hung call ends the run instead of the bench.
var httpClient = &http.Client{Timeout: 10 * time.Minute}

func (c client) do(method, path string, body any, out any) (int, error) {
	var rd io.Reader
	if body != nil {
		b, err := json.Marshal(body)
		if err != nil {
			return 0, err
		}
		rd = bytes.NewReader(b)
	}
	req, err := http.NewRequest(method, c.base+path, rd)
	if err != nil {
		return 0, err
	}
	if body != nil {
		req.Header.Set("Content-Type", "application/json")
	}
	if c.token != "" {
		req.Header.Set("Authorization", "Bearer "+c.token)
	}
	resp, err := httpClient.Do(req)
	if err != nil {
		return 0, err
	}
	defer resp.Body.Close()
	raw, _ := io.ReadAll(resp.Body)
	if resp.StatusCode/100 != 2 {
		return resp.StatusCode, fmt.Errorf("%s %s: %d %s", method, path, resp.StatusCode, raw)
	}
	if out != nil {
		if err := json.Unmarshal(raw, out); err != nil {
			return resp.StatusCode, fmt.Errorf("%s %s: %w: %s", method, path, err, raw)
		}
	}
	return resp.StatusCode, nil
}

func token(base string, body map[string]string) (string, error) {
	var out struct {
		AccessToken string `json:"access_token"`
	}
	_, err := client{base: base}.do("POST", "/local/token", body, &out)
	return out.AccessToken, err
}

// singleFlow is one single-number release of section 4.
type singleFlow struct {
	path, number string
	// assignee, when set, has the number assigned in Zoom until the bench
	// unbinds it.
	assignee map[string]string
}

var singleFlows = []singleFlow{
	{"unassigned", "+14155559901", nil},
	{"assigned, unbound in Zoom", "+14155559902", map[string]string{"id": "u-9", "name": "Nine", "type": "user"}},
}

func (r *report) workflowCost() error {
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Minute)
	defer cancel()
	sys, err := startSystem(ctx, sysOptions{noReconcile: true})
	if err != nil {
		return err
	}
	defer sys.close()
	cust, err := sys.customer("acme")
	if err != nil {
		return err
	}
	prov, err := sys.provider("pxc")
	if err != nil {
		return err
	}
	for _, f := range singleFlows {
		row, err := sys.releaseOne(ctx, cust, prov, f)
		if err != nil {
			return fmt.Errorf("%s path: %w", f.path, err)
		}
		r.flows = append(r.flows, row)
		logf("   %s: %d states entered (minimum %d), %d AWS calls by the project, %d Lambda invocations, %s",
			f.path, row.entered, row.minimum, sumCalls(row.calls.Calls, projectCall), total(row.calls.Invokes), row.status)
	}
	return nil
}

// releaseOne has the provider request f's number of customer acme, the
// customer approve it and, for an assigned number, the bench unbind it in
// Zoom once the release waits; it returns what the release cost.
func (s *system) releaseOne(ctx context.Context, cust, prov client, f singleFlow) (flowRow, error) {
	add := map[string]any{"account_id": "zoom-acme", "number": f.number}
	if f.assignee != nil {
		add["assignee"] = f.assignee
	}
	if _, err := s.anon().do("POST", "/zoom-sim/admin/numbers", add, nil); err != nil {
		return flowRow{}, err
	}
	if err := s.waitQuiet(30 * time.Second); err != nil {
		return flowRow{}, err
	}
	calls := s.calls.Snapshot()
	if _, err := prov.do("POST", "/provider/v1/release-requests",
		map[string]any{"customer_id": "acme", "numbers": []string{f.number}}, nil); err != nil {
		return flowRow{}, err
	}
	before := s.stack.Sim.Stats()
	start := time.Now()
	if _, err := cust.do("POST", "/v1/numbers/release", map[string]any{"numbers": []string{f.number}}, nil); err != nil {
		return flowRow{}, err
	}
	row := flowRow{path: f.path, number: f.number, zoomCalls: map[string]int{}}
	if f.assignee != nil {
		if err := s.waitStatus(ctx, "acme", f.number, domain.WaitingForUnassign, time.Minute); err != nil {
			return flowRow{}, err
		}
		if _, err := s.anon().do("DELETE", "/zoom-sim/v2/phone/users/"+f.assignee["id"]+"/phone_numbers/"+url.PathEscape(f.number), nil, nil); err != nil {
			return flowRow{}, err
		}
		row.hints++
	}
	if err := s.waitStatus(ctx, "acme", f.number, domain.Released, 2*time.Minute); err != nil {
		return flowRow{}, err
	}
	row.elapsed = time.Since(start)
	after := s.stack.Sim.Stats()
	for label, n := range after.Calls {
		if d := n - before.Calls[label]; d > 0 {
			row.zoomCalls[string(label)] = d
		}
	}
	row.execution = "acme-" + strings.TrimPrefix(f.number, "+") + "-1"
	arn := strings.Replace(s.stack.StateMachineARN, ":stateMachine:", ":execution:", 1) + ":" + row.execution
	if err := countHistory(ctx, s.sfn, arn, &row); err != nil {
		return flowRow{}, err
	}
	row.minimum = minStates(row.waits)
	if err := s.waitQuiet(30 * time.Second); err != nil {
		return flowRow{}, err
	}
	row.calls = s.calls.Snapshot().Since(calls)
	return row, nil
}

// countHistory waits for the execution to end and counts its state entries.
func countHistory(ctx context.Context, c *sfn.Client, arn string, row *flowRow) error {
	deadline := time.Now().Add(time.Minute)
	for {
		d, err := c.DescribeExecution(ctx, &sfn.DescribeExecutionInput{ExecutionArn: aws.String(arn)})
		if err != nil {
			return fmt.Errorf("describe %s: %w", arn, err)
		}
		row.status = string(d.Status)
		if d.Status != sfntypes.ExecutionStatusRunning {
			break
		}
		if time.Now().After(deadline) {
			return fmt.Errorf("%s still RUNNING", arn)
		}
		time.Sleep(100 * time.Millisecond)
	}
	h, err := readHistory(ctx, c, arn)
	if err != nil {
		return err
	}
	row.events, row.entered, row.states, row.waits = h.events, h.entered, h.states, h.waits
	row.lambdaTasks, row.retries = h.scheduled, h.retries()
	return nil
}

// execHistory is what one execution's history says: its events, the
// states it entered (in order; Task states also counted apart), and the
// Lambda tasks scheduled, one per attempt, so retries included.
type execHistory struct {
	events, entered, taskEntered, scheduled, waits int
	states                                         []string
}

// retries are the attempts of Task states beyond the first of each
// entry: AWS bills each as one more state transition.
func (h execHistory) retries() int { return h.scheduled - h.taskEntered }

// readHistory reads an execution's whole history.
func readHistory(ctx context.Context, c *sfn.Client, arn string) (execHistory, error) {
	var h execHistory
	p := sfn.NewGetExecutionHistoryPaginator(c, &sfn.GetExecutionHistoryInput{ExecutionArn: aws.String(arn)})
	for p.HasMorePages() {
		page, err := p.NextPage(ctx)
		if err != nil {
			return h, fmt.Errorf("history of %s: %w", arn, err)
		}
		for _, e := range page.Events {
			h.events++
			t := string(e.Type)
			switch {
			case strings.HasSuffix(t, "StateEntered"):
				h.entered++
				if t == string(sfntypes.HistoryEventTypeTaskStateEntered) {
					h.taskEntered++
				}
				name := "?"
				if e.StateEnteredEventDetails != nil && e.StateEnteredEventDetails.Name != nil {
					name = *e.StateEnteredEventDetails.Name
				}
				h.states = append(h.states, name)
				if name == "WaitForUnassign" {
					h.waits++
				}
			case t == "LambdaFunctionScheduled" || t == "TaskScheduled":
				h.scheduled++
			}
		}
	}
	return h, nil
}

// ---- report -------------------------------------------------------------------

func (r *report) markdown() string {
	var b strings.Builder
	w := func(format string, args ...any) { fmt.Fprintf(&b, format+"\n", args...) }
	r.mdHeader(w)
	for _, s := range r.ran {
		s.section(w)
	}
	r.mdNotMeasured(w)
	return b.String()
}

func (r *report) mdHeader(w printer) {
	w("# Benchmarks")
	w("")
	w("Generated by `make bench` (`go run ./e2e/bench -out BENCHMARKS.md`, source in [`e2e/bench/`](e2e/bench/)); do not edit by hand.")
	w("")
	w("| | |")
	w("|---|---|")
	if r.only == "" {
		w("| command | `make bench` |")
	} else {
		w("| command | `go run ./e2e/bench -only %s`: only these steps; the other sections are left out |", r.only)
	}
	w("| date | %s |", r.date)
	w("| machine | %s CPUs (`nproc`), %s |", r.nproc, r.cpu)
	w("| Go | %s |", r.goVersion)
	w("| load average (1, 5, 15 min; `/proc/loadavg`) | %s when the bench began, %s when it ended: the machine is shared with other work, which the figures below include |", r.loadStart, r.loadEnd)
	var took []string
	for _, s := range r.ran {
		took = append(took, fmt.Sprintf("%s %s", s.title, s.took.Round(time.Second)))
	}
	w("| run time | %s (the generator itself, after `deps`): %s |", r.elapsed.Round(time.Second), strings.Join(took, ", "))
	w("")
	w("One shared machine, one run: figures move by several per cent between runs; compare orders of magnitude, not last digits.")
	w("")
	if len(r.failures) > 0 {
		w("**This run had failures; the sections they affected are incomplete:**")
		w("")
		for _, f := range r.failures {
			w("- %s", strings.ReplaceAll(f, "\n", " "))
		}
		w("")
	}
}

// mdBenchmarks writes section 1.
func (r *report) mdBenchmarks(w printer) {
	w("## 1. Go benchmarks")
	w("")
	w("`go test -run '^$' -bench <names> -benchmem -count %d <package>`; each figure is the median of the %d runs.", benchCount, benchCount)
	w("")
	w("| package | benchmark | what | ns/op | B/op | allocs/op |")
	w("|---|---|---|---:|---:|---:|")
	what := map[string]string{
		"BenchmarkParse":         "normalise one number (`+972 (3) 975-4571`)",
		"BenchmarkParseList500":  "normalise a 500-number request (duplicates check included)",
		"BenchmarkVerify":        "check a Zoom webhook signature over a 1 KiB body",
		"BenchmarkURLValidation": "Zoom's `endpoint.url_validation` challenge through the webhook handler",
		"BenchmarkApprove500":    "`POST /v1/numbers/release`, 500 numbers, real handler and JWT, in-memory store",
		"BenchmarkListPage100":   "`GET /v1/numbers?status=PENDING_APPROVAL&limit=100` (100 of 500), same setup",
	}
	for _, x := range r.benches {
		w("| `%s` | `%s` | %s | %s | %s | %s |", x.pkg, x.name, what[x.name], fmtNs(x.nsOp), fmtInt(x.bytesOp), fmtInt(x.allocsOp))
	}
	w("")
	per := func(name string, n float64) {
		for _, x := range r.benches {
			if x.name == name {
				w("- `%s`: %s per number, %s allocs per number.", name, fmtNs(x.nsOp/n), strconv.FormatFloat(x.allocsOp/n, 'f', 1, 64))
			}
		}
	}
	per("BenchmarkParseList500", 500)
	per("BenchmarkApprove500", 500)
	for _, n := range r.notes {
		w("- %s", n)
	}
	w("")
	w("What limits these figures:")
	w("")
	w("- **DynamoDB round trips are excluded** from the `shared/httpapi` benchmarks: they run the real handler (routing, ES256 JWT verification (the local issuer's algorithm) against keys fetched once from an `httptest` JWKS server, JSON decoding, the release service deciding each number and writing the changes in batches, encoding) over an in-memory `release.Store` / `httpapi.IdempotencyStore` written in the benchmark file (its `ApplyEach` writes one number at a time), and `workflowtest.Recorder` instead of Step Functions (an approval starts no execution: the starter does, from the table's stream). On AWS an approval of 500 numbers also costs 5 `BatchGetItem` and 10 conditional `TransactWriteItems` (50 numbers with their history entries each), each a network round trip (not measured here; section 5 times the whole call on the emulator); on the emulator (moto) those calls would measure moto, not the service. These figures are therefore the service's own CPU and allocation cost per request, not request latency.")
	w("- The in-memory store's `ListNumbers` scans and sorts all 500 numbers per call, so part of `BenchmarkListPage100` is the fake store, not the service.")
	w("- The `shared/httpapi` test binary's `TestMain` starts the emulator (for the package's other tests); it is idle during the benchmarks.")
	w("")
	if r.benchRaw != "" {
		w("<details><summary>raw <code>go test</code> output</summary>")
		w("")
		w("```")
		w("%s", strings.TrimRight(r.benchRaw, "\n"))
		w("```")
		w("")
		w("</details>")
		w("")
	}
}

// mdSizes writes section 2.
func (r *report) mdSizes(w printer) {
	w("## 2. Lambda bundle size (linux/arm64)")
	w("")
	w("`GOOS=linux GOARCH=arm64 CGO_ENABLED=0 go build -tags lambda.norpc -trimpath -ldflags='-s -w'` (as `make build`); budget %.0f MiB per uncompressed `bootstrap`.", sizeBudgetMiB)
	w("")
	w("| function | bytes | MiB | budget | |")
	w("|---|---:|---:|---:|---|")
	for _, s := range r.sizes {
		mark := "within"
		if mib(s.bytes) > sizeBudgetMiB {
			mark = "**OVER BUDGET**"
		}
		w("| %s | %d | %.2f | %.0f MiB | %s |", s.name, s.bytes, mib(s.bytes), sizeBudgetMiB, mark)
	}
	w("")
	if r.apiNoRPC > 0 && r.apiRPC > 0 {
		w("The `lambda.norpc` tag, for the `api` function (same flags otherwise):")
		w("")
		w("| build | bytes | MiB |")
		w("|---|---:|---:|")
		w("| with `-tags lambda.norpc` | %d | %.2f |", r.apiNoRPC, mib(r.apiNoRPC))
		w("| without the tag (net/rpc compiled in) | %d | %.2f |", r.apiRPC, mib(r.apiRPC))
		w("| saved by the tag | %d | %.2f (%.1f%%) |", r.apiRPC-r.apiNoRPC, mib(r.apiRPC-r.apiNoRPC), 100*float64(r.apiRPC-r.apiNoRPC)/float64(r.apiRPC))
		w("")
	}
	w("Sizes are of the uncompressed binary; the deployed zip is smaller. They depend on the Go version and the module versions in `go.sum`.")
	w("")
}

// mdInit writes section 3.
func (r *report) mdInit(w printer) {
	w("## 3. Init time (process start → first poll of the Runtime API)")
	w("")
	w("Each function is built for **this machine's architecture (linux/%s)** with the same flags: the arm64 bundles cannot run here, so these are amd64 figures, not Graviton ones. A local stand-in for the Lambda Runtime API answers `GET /2018-06-01/runtime/invocation/next` by recording the time and holding the request; the binary runs with `AWS_LAMBDA_RUNTIME_API` pointing at it, `AWS_REGION=us-east-1`, dummy credentials and dummy values for every variable the functions require. The figure is `cmd.Start` → first `/next` request; the process is killed after. %d runs each; budget %s.", r.hostArch, initRuns, initBudget)
	w("")
	w("| function | runs | median | p90 | max | budget | |")
	w("|---|---:|---:|---:|---:|---:|---|")
	for _, x := range r.inits {
		if x.exited != "" {
			w("| %s | 0 | — | — | — | %s | **exited before polling**: %s |", x.name, initBudget, strings.ReplaceAll(trunc(x.exited, 300), "|", "\\|"))
			continue
		}
		if len(x.samples) == 0 {
			w("| %s | 0 | — | — | — | %s | **never polled within 10 s** (%d runs) |", x.name, initBudget, x.timeouts)
			continue
		}
		p90 := percentile(x.samples, 0.9)
		mark := "within"
		if p90 > initBudget {
			mark = "**OVER BUDGET (p90)**"
		}
		extra := ""
		if x.timeouts > 0 {
			extra = fmt.Sprintf(" (%d runs never polled)", x.timeouts)
		}
		w("| %s | %d | %s | %s | %s | %s | %s%s |", x.name, len(x.samples), fmtDur(percentile(x.samples, 0.5)), fmtDur(p90), fmtDur(slices.Max(x.samples)), initBudget, mark, extra)
	}
	w("")
	w("What limits these figures: a warm page cache (the binary was just built) and a local process start; on Lambda the cold start adds downloading and unpacking the bundle and starting the Firecracker micro-VM, which this does not see. No AWS call is made during init by any function (the AWS endpoint is set to a closed local port, so one would fail fast and show up as an exit).")
	w("")
}

// mdWorkflow writes section 4.
func (r *report) mdWorkflow(w printer) {
	w("## 4. Workflow cost per release (emulator)")
	w("")
	w("A real run on the local system started in-process (`shared/harness/devstack`, moto 5.2.5 with real Step Functions executions, the project's task Lambda and the Zoom simulator): the provider requests a number of customer `acme`, the customer approves, and the number's stored state is polled every 50 ms (through a client of the bench's own, left out of the call counts below) until `RELEASED`; for the assigned number the bench waits for `WAITING_FOR_UNASSIGN` and unbinds it in the simulator (which sends the signed unassign notification). State transitions are the execution history's `*StateEntered` events (`GetExecutionHistory`). The design's minimum is Begin, Queued, Init, NextRound, Budget, CheckAssignment, Checked, Route, Release, Released = %d, plus WaitForUnassign + NextRound + Budget + CheckAssignment + Checked + Route = 6 per wait: Begin (a Choice: a first execution, paced or not, or a successor), Queued (a Wait until the start the customer's pacing queue gave the approval; a time already past goes on at once), Init (a Pass state giving the execution's state its shape), NextRound and Budget (counting the rounds, so that a long wait goes on in a successor execution before its history nears Step Functions' 25,000-event limit) and Checked (a Pass state clearing the trouble record after a successful check) are billed like any other transition. Triage, AfterTriage and Pause are entered only after a state's own retries are used up, and ContinueAsNew only after the round budget, so they are not on these paths.", minStates(0))
	w("")
	w("| path | execution | status | states entered | minimum | | retries | waits | Lambda tasks (history, attempts) | Zoom API calls | approve → RELEASED |")
	w("|---|---|---|---:|---:|---|---:|---:|---:|---|---:|")
	for _, f := range r.flows {
		mark := "at minimum"
		if f.entered > f.minimum {
			mark = fmt.Sprintf("**%d above**", f.entered-f.minimum)
		} else if f.entered < f.minimum {
			mark = "below (check the definition)"
		}
		w("| %s (`%s`) | `%s` | %s | %d | %d | %s | %d | %d | %d | %s | %s |", f.path, f.number, f.execution, f.status, f.entered, f.minimum, mark, f.retries, f.waits, f.lambdaTasks, zoomCalls(f.zoomCalls), f.elapsed.Round(10*time.Millisecond))
	}
	w("")
	for _, f := range r.flows {
		w("- %s: %s", f.path, strings.Join(f.states, " → "))
	}
	w("")
	w("Standard workflows are billed per state transition, and AWS charges each retry of a state as one more (Step Functions pricing: \"each retry will be charged as an additional state transition\"), so the cost figure is states entered + retries; retries are the history's Task attempts (`TaskScheduled`) beyond one per Task state entered. Section 6 counts them under load. Zoom API calls are the simulator's admitted calls by rate-limit label during the release (OAuth token requests are not rate-limited and not counted). The approve → `RELEASED` time is the emulator's and includes this tool's 50 ms polling; it is not a production latency.")
	w("")
	r.mdCalls(w)
	r.mdCost(w)
}

func (r *report) mdNotMeasured(w printer) {
	w("## Not measured")
	w("")
	w("- **Latency on AWS** (API Gateway → Lambda → DynamoDB) and **arm64 init time**: need a deployed stack or an arm64 machine.")
}

func zoomCalls(m map[string]int) string {
	if len(m) == 0 {
		return "—"
	}
	var keys []string
	total := 0
	for k, v := range m {
		keys = append(keys, fmt.Sprintf("%s %d", k, v))
		total += v
	}
	sort.Strings(keys)
	return fmt.Sprintf("%d (%s)", total, strings.Join(keys, ", "))
}

func trunc(s string, n int) string {
	s = strings.Join(strings.Fields(s), " ")
	if len(s) > n {
		return s[:n] + "…"
	}
	return s
}

func fmtNs(ns float64) string {
	switch {
	case ns >= 1e6:
		return fmt.Sprintf("%.2f ms", ns/1e6)
	case ns >= 1e3:
		return fmt.Sprintf("%.2f µs", ns/1e3)
	default:
		return fmt.Sprintf("%.0f ns", ns)
	}
}

func fmtInt(v float64) string { return strconv.FormatFloat(v, 'f', 0, 64) }

func fmtDur(d time.Duration) string {
	return fmt.Sprintf("%.1f ms", float64(d)/float64(time.Millisecond))
}
