#!/usr/bin/env python3
"""API fuzz run (`make api-fuzz`): Schemathesis against `make run`'s system.

Builds ./shared/harness/local (make run's command), starts it on a free loopback port (a fresh emulator, the
seed's demo data), waits until it has printed its banner and /healthz answers,
gets a customer token (tenant acme), a provider token (pxc) and an
operator token (olive) from /local/token, and runs Schemathesis, driven by
the OpenAPI document (shared/apispec/openapi.yaml), once per role with that
role's token and once for the operations without a bearer token (the local token issuer, its key
set, the Zoom webhook, whose requests hooks.py signs, and /healthz). Every
check is on (schemathesis.toml, which says where and why one is relaxed),
the seed is fixed and the number of examples bounded. Then it stops the system and
everything it started, and exits non-zero if any run found a failure.

Environment: API_FUZZ_SEED (default 20261201), API_FUZZ_EXAMPLES (examples
per operation in the fuzzing phase, default 100), API_FUZZ_RUNS (the runs to
make, comma-separated, e.g. "operator,provider"; default all), API_FUZZ_REPORT_DIR
(default test-artifacts/api-fuzz: the system's log and a JUnit report per
run), GO (default go), SCHEMATHESIS (default .venv/bin/schemathesis).
"""

import json
import os
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import time
import urllib.request

HERE = os.path.dirname(os.path.abspath(__file__))
ROOT = os.path.dirname(os.path.dirname(HERE))
DOCUMENT = os.path.join(ROOT, "shared", "apispec", "openapi.yaml")
# The local system's Zoom webhook secret token (shared/harness/devstack's local
# default, not a secret); hooks.py signs webhook requests with it.
WEBHOOK_SECRET = "local-webhook-secret"
READY_TIMEOUT = 180  # seconds for the local system to seed its demo data and answer
STOP_TIMEOUT = 30

# (name, Schemathesis selection, token request or None)
RUNS = [
    ("customer", ["--include-tag", "customer"], {"kind": "customer", "tenant_id": "acme", "sub": "alice"}),
    ("provider", ["--include-tag", "provider"], {"kind": "provider", "provider_id": "pxc"}),
    ("operator", ["--include-tag", "operator"], {"kind": "operator", "sub": "olive"}),
    (
        "public",
        ["--include-tag", "local", "--include-tag", "zoom", "--include-tag", "operations"],
        None,
    ),
]


def free_port():
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def get(url, timeout=2):
    with urllib.request.urlopen(url, timeout=timeout) as r:
        return r.status


def token(base, request):
    req = urllib.request.Request(
        base + "/local/token",
        data=json.dumps(request).encode(),
        headers={"Content-Type": "application/json"},
        method="POST",
    )
    with urllib.request.urlopen(req, timeout=10) as r:
        return json.load(r)["access_token"]


def descendants(pid):
    """Every process below pid, read from /proc."""
    children = {}
    for name in os.listdir("/proc"):
        if not name.isdigit():
            continue
        try:
            with open(f"/proc/{name}/stat") as f:
                stat = f.read()
        except OSError:
            continue
        ppid = int(stat[stat.rindex(")") + 2 :].split()[1])
        children.setdefault(ppid, []).append(int(name))
    out, todo = [], [pid]
    while todo:
        for child in children.get(todo.pop(), []):
            out.append(child)
            todo.append(child)
    return out


def alive(pid):
    try:
        with open(f"/proc/{pid}/stat") as f:
            return f.read().rsplit(")", 1)[1].split()[0] != "Z"
    except OSError:
        return False


class System:
    """The local system on a free port, in its own session so it can be stopped whole."""

    def __init__(self, report_dir):
        self.tmp = tempfile.mkdtemp(prefix="nr-apifuzz-")
        binary = os.path.join(self.tmp, "number-release-local")
        go = os.environ.get("GO", "go")
        subprocess.run([go, "build", "-o", binary, "./shared/harness/local"], cwd=ROOT, check=True)
        self.url = f"http://localhost:{free_port()}"
        env = {
            **os.environ,
            "PORT": self.url.rsplit(":", 1)[1],
            "RECHECK_SECONDS": "2",
            "ZOOM_WEBHOOK_SECRET_TOKEN": WEBHOOK_SECRET,
        }
        env.pop("HOST", None)  # loopback only
        self.out_path = os.path.join(report_dir, "system.out")
        self.log_path = os.path.join(report_dir, "system.log")
        self.out = open(self.out_path, "w")
        self.log = open(self.log_path, "w")
        self.proc = subprocess.Popen(
            [binary], cwd=ROOT, env=env, stdin=subprocess.DEVNULL,
            stdout=self.out, stderr=self.log, start_new_session=True,
        )
        self.started = []

    def wait_ready(self):
        deadline = time.monotonic() + READY_TIMEOUT
        while True:
            if self.proc.poll() is not None:
                raise RuntimeError(f"the local system exited early ({self.proc.returncode}); see {self.log_path}")
            if time.monotonic() > deadline:
                raise RuntimeError(f"the local system was not ready within {READY_TIMEOUT} s; see {self.log_path}")
            with open(self.out_path) as f:
                banner = "Number Release is running" in f.read()
            if banner:
                try:
                    if get(self.url + "/healthz") == 200:
                        self.started = descendants(self.proc.pid)
                        return
                except OSError:
                    pass
            time.sleep(0.2)

    def stop(self):
        """SIGTERM to the local system's group (it stops the emulator); then check
        that every process it started is gone, killing any that is not."""
        self.started = sorted(set(self.started) | set(descendants(self.proc.pid)))
        leftovers = []
        if self.proc.poll() is None:
            os.killpg(self.proc.pid, signal.SIGTERM)
            try:
                self.proc.wait(STOP_TIMEOUT)
            except subprocess.TimeoutExpired:
                os.killpg(self.proc.pid, signal.SIGKILL)
                self.proc.wait()
        deadline = time.monotonic() + 5
        while any(alive(p) for p in self.started) and time.monotonic() < deadline:
            time.sleep(0.1)
        for p in self.started:
            if alive(p):
                leftovers.append(p)
                try:
                    os.kill(p, signal.SIGKILL)
                except OSError:
                    pass
        self.out.close()
        self.log.close()
        shutil.rmtree(self.tmp, ignore_errors=True)
        return leftovers


def schemathesis(name, selection, headers, system, seed, examples, report_dir):
    exe = os.environ.get("SCHEMATHESIS", os.path.join(ROOT, ".venv", "bin", "schemathesis"))
    cmd = [
        exe, "--config-file", os.path.join(HERE, "schemathesis.toml"), "--no-color",
        "run", DOCUMENT, "--url", system.url, *selection,
        "--seed", str(seed), "--max-examples", str(examples),
        "--generation-database", "none",
        "--workers", "1",
        "--report", "junit", "--report-junit-path", os.path.join(report_dir, f"{name}.xml"),
    ]
    for h in headers:
        cmd += ["-H", h]
    env = {
        **os.environ,
        "SCHEMATHESIS_HOOKS": "apifuzz.hooks",
        "PYTHONPATH": os.path.dirname(HERE),
        "API_FUZZ_WEBHOOK_SECRET": WEBHOOK_SECRET,
    }
    shown = " ".join("'Authorization: Bearer $TOKEN'" if a.startswith("Authorization:") else a for a in cmd[1:])
    print(f"\n== {name}: schemathesis {shown}", flush=True)
    start = time.monotonic()
    code = subprocess.run(cmd, cwd=ROOT, env=env).returncode
    print(f"== {name}: exit {code} in {time.monotonic() - start:.0f} s", flush=True)
    return code


def main():
    seed = int(os.environ.get("API_FUZZ_SEED", "20261201"))
    examples = int(os.environ.get("API_FUZZ_EXAMPLES", "100"))
    report_dir = os.path.abspath(os.environ.get("API_FUZZ_REPORT_DIR", os.path.join(ROOT, "test-artifacts", "api-fuzz")))
    names = [name for name, _, _ in RUNS]
    chosen = [r.strip() for r in os.environ.get("API_FUZZ_RUNS", "").split(",") if r.strip()] or names
    unknown = sorted(set(chosen) - set(names))
    if unknown:
        print(f"API_FUZZ_RUNS names unknown runs {unknown}; the runs are {names}", file=sys.stderr)
        return 2
    os.makedirs(report_dir, exist_ok=True)
    start = time.monotonic()
    system = System(report_dir)
    failed = []
    try:
        system.wait_ready()
        print(f"system ready at {system.url} in {time.monotonic() - start:.0f} s", flush=True)
        for name, selection, request in RUNS:
            if name not in chosen:
                continue
            headers = [f"Authorization: Bearer {token(system.url, request)}"] if request else []
            if schemathesis(name, selection, headers, system, seed, examples, report_dir) != 0:
                failed.append(name)
    finally:
        leftovers = system.stop()
    if leftovers:
        print(f"processes still running after the stop, killed: {leftovers}", file=sys.stderr)
        failed.append("stop")
    total = time.monotonic() - start
    if failed:
        print(f"api-fuzz: FAILED ({', '.join(failed)}) in {total:.0f} s; seed {seed}; reports in {report_dir}", file=sys.stderr)
        return 1
    print(f"api-fuzz: 0 failures in {total:.0f} s (seed {seed}, {examples} examples per operation); reports in {report_dir}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
