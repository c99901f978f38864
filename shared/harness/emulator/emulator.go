// Package emulator runs a local AWS emulator (moto in server mode) for tests
// and the local runner, without Docker. See docs/EMULATOR.md for how it works
// and where moto differs from AWS.
//
// Tests take a server through package emulatortest (one per test binary,
// a fresh table per test); the local system (devstack) starts its own.
//
// moto comes from the project's virtualenv, which `make test` (or
// `make emulator`) creates. It runs through moto_server.py, which makes
// moto's DynamoDB lock as DynamoDB does (each write and each transaction at
// once against every other write and read), honours TransactWriteItems'
// ClientRequestToken, and prepares a transaction's rollback by key instead
// of deep-copying whole tables. The package works on Unix only: it runs moto
// in its own process group so Stop can end all of it.
package emulator

import (
	"bytes"
	"context"
	_ "embed"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"syscall"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/aws/retry"
	"github.com/aws/aws-sdk-go-v2/credentials"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb"
)

const (
	// Region is the region every emulator client uses.
	Region = "us-east-1"
	// AccessKeyID and SecretAccessKey are the dummy credentials moto accepts.
	AccessKeyID     = "test"
	SecretAccessKey = "test"

	// EnvMotoPython overrides which Python (with moto[server] installed)
	// Start runs moto_server.py with.
	EnvMotoPython = "MOTO_PYTHON"

	// defaultStartTimeout bounds moto's start: a few seconds on a quiet
	// machine, but test binaries start their emulators at once, beside a
	// CPU hog too, and a 30 s bound failed there (its log still empty).
	defaultStartTimeout = 2 * time.Minute
	stopGrace           = 5 * time.Second
	pollInterval        = 50 * time.Millisecond
	maxPortAttempts     = 3
	logTailLines        = 30
)

// Options configures Start. The zero value is a plain moto server.
type Options struct {
	// ExecuteStateMachines turns on moto's real Step Functions interpreter
	// (off by default in moto). It is set before Start returns, so before any
	// state machine can be created.
	ExecuteStateMachines bool

	// MotoPort is the port moto uses to call other services from inside state
	// machine executions (the MOTO_PORT environment variable). Zero means the
	// server's own port. Set it to the port of a front that answers Lambda
	// Invoke and forwards everything else to Endpoint (docs/EMULATOR.md).
	MotoPort int

	// StartTimeout bounds how long Start waits for moto to answer. Zero means
	// 30 seconds.
	StartTimeout time.Duration
}

// motoServerScript starts moto_server with the DynamoDB fixes.
//
//go:embed moto_server.py
var motoServerScript []byte

// Server is a running moto server. It is safe for concurrent use.
type Server struct {
	endpoint string
	port     int
	cmd      *exec.Cmd
	dir      string // temp dir holding the log file
	logPath  string
	exited   chan struct{} // closed when the process has been reaped
	waitErr  error         // result of cmd.Wait, valid once exited is closed

	stopOnce sync.Once
	stopErr  error
}

// Start launches moto_server on a free loopback port and waits until it
// answers. ctx bounds only the start-up; the server runs until Stop.
func Start(ctx context.Context, opts Options) (*Server, error) {
	python, err := motoPythonPath()
	if err != nil {
		return nil, err
	}
	timeout := opts.StartTimeout
	if timeout <= 0 {
		timeout = defaultStartTimeout
	}
	ctx, cancel := context.WithTimeout(ctx, timeout)
	defer cancel()

	// A free port can be taken by someone else between choosing and binding
	// it; retry with a new port when that is why moto died.
	for attempt := 1; ; attempt++ {
		s, err := startOnce(ctx, python, opts)
		if err == nil {
			return s, nil
		}
		if !errors.Is(err, errAddrInUse) || attempt >= maxPortAttempts {
			return nil, err
		}
	}
}

var errAddrInUse = errors.New("address already in use")

// startOnce makes one attempt to start moto on a newly chosen port.
func startOnce(ctx context.Context, python string, opts Options) (_ *Server, err error) {
	port, err := freePort()
	if err != nil {
		return nil, err
	}
	dir, err := os.MkdirTemp("", "moto-")
	if err != nil {
		return nil, fmt.Errorf("emulator: create log dir: %w", err)
	}
	logPath := filepath.Join(dir, "moto_server.log")
	logFile, err := os.Create(logPath)
	if err != nil {
		os.RemoveAll(dir)
		return nil, fmt.Errorf("emulator: create log file: %w", err)
	}
	defer logFile.Close() // the child holds its own descriptor
	script := filepath.Join(dir, "moto_server.py")
	if err := os.WriteFile(script, motoServerScript, 0o600); err != nil {
		os.RemoveAll(dir)
		return nil, fmt.Errorf("emulator: write %s: %w", script, err)
	}

	motoPort := opts.MotoPort
	if motoPort == 0 {
		motoPort = port
	}
	cmd := exec.Command(python, script, "-H", "127.0.0.1", "-p", strconv.Itoa(port))
	cmd.Dir = dir
	cmd.Stdout = logFile
	cmd.Stderr = logFile
	// Later entries win over inherited ones (os/exec keeps the last duplicate).
	cmd.Env = append(os.Environ(),
		"MOTO_PORT="+strconv.Itoa(motoPort),
		"AWS_ACCESS_KEY_ID="+AccessKeyID,
		"AWS_SECRET_ACCESS_KEY="+SecretAccessKey,
		"AWS_DEFAULT_REGION="+Region,
		"AWS_REGION="+Region,
		"PYTHONUNBUFFERED=1",
	)
	cmd.SysProcAttr = sysProcAttr()
	if err := cmd.Start(); err != nil {
		os.RemoveAll(dir)
		return nil, fmt.Errorf("emulator: start %s %s: %w", python, script, err)
	}

	s := &Server{
		endpoint: "http://127.0.0.1:" + strconv.Itoa(port),
		port:     port,
		cmd:      cmd,
		dir:      dir,
		logPath:  logPath,
		exited:   make(chan struct{}),
	}
	go func() {
		s.waitErr = cmd.Wait()
		close(s.exited)
	}()
	defer func() {
		if err != nil {
			tail := s.logTail()
			s.kill()
			os.RemoveAll(dir)
			if strings.Contains(strings.ToLower(tail), "address already in use") {
				err = fmt.Errorf("%w (%w)", err, errAddrInUse)
			}
			err = fmt.Errorf("%w\n--- last lines of %s ---\n%s", err, logPath, tail)
		}
	}()

	if err := s.waitReady(ctx); err != nil {
		return nil, err
	}
	if opts.ExecuteStateMachines {
		if err := s.setConfig(ctx, `{"stepfunctions":{"execute_state_machine":true}}`); err != nil {
			return nil, err
		}
	}
	return s, nil
}

// Endpoint is the server's base URL, http://127.0.0.1:<port>.
func (s *Server) Endpoint() string { return s.endpoint }

// LogPath is the file moto writes its output to. It is removed by Stop.
func (s *Server) LogPath() string { return s.logPath }

// AWSConfig returns an SDK configuration that talks to this server: region
// us-east-1, static dummy credentials, BaseEndpoint set to Endpoint and a
// retryer that gives up after a few attempts so failures surface quickly. It
// reads nothing from the environment or ~/.aws.
func (s *Server) AWSConfig() aws.Config {
	cfg := aws.NewConfig()
	cfg.Region = Region
	cfg.Credentials = credentials.NewStaticCredentialsProvider(AccessKeyID, SecretAccessKey, "")
	cfg.BaseEndpoint = aws.String(s.endpoint)
	cfg.Retryer = func() aws.Retryer {
		return retry.AddWithMaxAttempts(retry.NewStandard(), 3)
	}
	return *cfg
}

// DynamoDB returns a DynamoDB client for this server.
func (s *Server) DynamoDB() *dynamodb.Client {
	return dynamodb.NewFromConfig(s.AWSConfig(), func(o *dynamodb.Options) {
		o.BaseEndpoint = aws.String(s.endpoint)
	})
}

// Stop ends moto's whole process group, waits for it to exit and removes the
// log directory. It is safe to call more than once; later calls return the
// first result.
func (s *Server) Stop() error {
	s.stopOnce.Do(func() {
		s.stopErr = s.kill()
		if err := os.RemoveAll(s.dir); err != nil && s.stopErr == nil {
			s.stopErr = fmt.Errorf("emulator: remove %s: %w", s.dir, err)
		}
	})
	return s.stopErr
}

// kill sends SIGTERM to the process group, then SIGKILL if it has not exited
// after a grace period, and waits until the process is reaped.
func (s *Server) kill() error {
	pgid := s.cmd.Process.Pid
	select {
	case <-s.exited:
		// Already gone: moto died on its own. Still clear the group in case
		// it left children behind.
		_ = syscall.Kill(-pgid, syscall.SIGKILL)
		return s.unexpectedExit()
	default:
	}
	if err := syscall.Kill(-pgid, syscall.SIGTERM); err != nil && !errors.Is(err, syscall.ESRCH) {
		return fmt.Errorf("emulator: signal moto_server (pgid %d): %w", pgid, err)
	}
	select {
	case <-s.exited:
	case <-time.After(stopGrace):
		if err := syscall.Kill(-pgid, syscall.SIGKILL); err != nil && !errors.Is(err, syscall.ESRCH) {
			return fmt.Errorf("emulator: kill moto_server (pgid %d): %w", pgid, err)
		}
		<-s.exited
	}
	// Whatever else is left in the group goes too.
	_ = syscall.Kill(-pgid, syscall.SIGKILL)
	return nil
}

// unexpectedExit describes a process that exited before Stop asked it to.
func (s *Server) unexpectedExit() error {
	return fmt.Errorf("emulator: moto_server exited unexpectedly: %v", s.waitErr)
}

// waitReady polls the server until it answers an HTTP request, the process
// exits, or ctx ends.
func (s *Server) waitReady(ctx context.Context) error {
	client := &http.Client{Timeout: time.Second}
	ticker := time.NewTicker(pollInterval)
	defer ticker.Stop()
	var lastErr error
	for {
		req, err := http.NewRequestWithContext(ctx, http.MethodGet, s.endpoint+"/moto-api/config", nil)
		if err != nil {
			return fmt.Errorf("emulator: build readiness request: %w", err)
		}
		resp, err := client.Do(req)
		if err == nil {
			io.Copy(io.Discard, resp.Body)
			resp.Body.Close()
			return nil
		}
		lastErr = err
		select {
		case <-s.exited:
			return s.unexpectedExit()
		case <-ctx.Done():
			return fmt.Errorf("emulator: moto_server did not answer on %s: %w (last error: %v)", s.endpoint, ctx.Err(), lastErr)
		case <-ticker.C:
		}
	}
}

// setConfig posts body to moto's /moto-api/config.
func (s *Server) setConfig(ctx context.Context, body string) error {
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, s.endpoint+"/moto-api/config", strings.NewReader(body))
	if err != nil {
		return fmt.Errorf("emulator: build config request: %w", err)
	}
	req.Header.Set("Content-Type", "application/json")
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		return fmt.Errorf("emulator: set moto config %s: %w", body, err)
	}
	defer resp.Body.Close()
	msg, _ := io.ReadAll(io.LimitReader(resp.Body, 4096))
	if resp.StatusCode/100 != 2 {
		return fmt.Errorf("emulator: set moto config %s: HTTP %d: %s", body, resp.StatusCode, bytes.TrimSpace(msg))
	}
	return nil
}

// logTail returns the last lines of the log file, for error messages.
func (s *Server) logTail() string {
	data, err := os.ReadFile(s.logPath)
	if err != nil {
		return fmt.Sprintf("(cannot read log: %v)", err)
	}
	lines := strings.Split(strings.TrimRight(string(data), "\n"), "\n")
	if len(lines) > logTailLines {
		lines = lines[len(lines)-logTailLines:]
	}
	out := strings.Join(lines, "\n")
	if out == "" {
		return "(log is empty)"
	}
	return out
}

// freePort asks the kernel for a free loopback port.
func freePort() (int, error) {
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return 0, fmt.Errorf("emulator: find a free port: %w", err)
	}
	defer l.Close()
	return l.Addr().(*net.TCPAddr).Port, nil
}

// motoPythonPath returns the Python that runs moto_server.py: $MOTO_PYTHON if set,
// else <module root>/.venv/bin/python3.
func motoPythonPath() (string, error) {
	path := os.Getenv(EnvMotoPython)
	if path == "" {
		root, err := moduleRoot()
		if err != nil {
			return "", err
		}
		path = filepath.Join(root, ".venv", "bin", "python3")
	}
	info, err := os.Stat(path)
	if err != nil || info.IsDir() || info.Mode()&0o111 == 0 {
		return "", fmt.Errorf("emulator: Python with moto not found at %s: run `make test` (it creates .venv with moto[server]==5.2.5)", path)
	}
	return path, nil
}

// moduleRoot walks up from the working directory to the directory that holds
// go.mod.
func moduleRoot() (string, error) {
	wd, err := os.Getwd()
	if err != nil {
		return "", fmt.Errorf("emulator: working directory: %w", err)
	}
	for dir := wd; ; {
		if _, err := os.Stat(filepath.Join(dir, "go.mod")); err == nil {
			return dir, nil
		}
		parent := filepath.Dir(dir)
		if parent == dir {
			return "", fmt.Errorf("emulator: no go.mod in %s or any parent; set %s to a Python with moto[server]", wd, EnvMotoPython)
		}
		dir = parent
	}
}
