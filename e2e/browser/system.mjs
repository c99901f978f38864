// Starts the whole local system (the `make run` command, ./shared/harness/local) on a free
// port for the browser tests, and stops it with everything it started.
//
// It is built once and run directly (not through `go run`, which would
// sit between us and its signals). It runs in a new session, so its process
// group can be signalled as a whole; it stops the AWS emulator (moto, in its
// own process group) when it gets SIGTERM. stop() then checks that every
// process it had started is gone, and kills any that is not.
import { spawn, execFile } from 'node:child_process';
import { promisify } from 'node:util';
import fs from 'node:fs';
import net from 'node:net';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';

export const repoRoot = fileURLToPath(new URL('../..', import.meta.url)).replace(/\/$/, '');

const run = promisify(execFile);
const sleep = (ms) => new Promise((r) => setTimeout(r, ms));

function freePort() {
  return new Promise((resolve, reject) => {
    const srv = net.createServer();
    srv.unref();
    srv.on('error', reject);
    srv.listen(0, '127.0.0.1', () => {
      const { port } = srv.address();
      srv.close(() => resolve(port));
    });
  });
}

/** Every process below pid (children, grandchildren, ...), read from /proc. */
function descendants(pid) {
  const children = new Map();
  for (const name of fs.readdirSync('/proc')) {
    if (!/^\d+$/.test(name)) continue;
    let stat;
    try {
      stat = fs.readFileSync(`/proc/${name}/stat`, 'utf8');
    } catch {
      continue; // gone meanwhile
    }
    // pid (comm) state ppid ...; comm may hold spaces and parentheses.
    const ppid = Number(stat.slice(stat.lastIndexOf(')') + 2).split(' ')[1]);
    if (!children.has(ppid)) children.set(ppid, []);
    children.get(ppid).push(Number(name));
  }
  const out = [];
  const walk = (p) => {
    for (const c of children.get(p) || []) {
      out.push(c);
      walk(c);
    }
  };
  walk(pid);
  return out;
}

function alive(pid) {
  try {
    process.kill(pid, 0);
    // A zombie still answers; it is gone for our purposes.
    const stat = fs.readFileSync(`/proc/${pid}/stat`, 'utf8');
    return stat.slice(stat.lastIndexOf(')') + 2)[0] !== 'Z';
  } catch {
    return false;
  }
}

function killGroup(pid, signal) {
  try {
    process.kill(-pid, signal);
  } catch {
    // no such group
  }
}

/**
 * Builds and starts ./shared/harness/local with PORT set to a free port and
 * RECHECK_SECONDS=2, waits until it has printed its banner (demo data is
 * seeded) and /healthz answers 200. Returns {url, stop, logPath}.
 */
export async function startSystem({ logDir }) {
  const tmp = fs.mkdtempSync(path.join(os.tmpdir(), 'nr-browsertest-'));
  const bin = path.join(tmp, 'number-release-local');
  const go = process.env.GO || 'go';
  await run(go, ['build', '-o', bin, './shared/harness/local'], { cwd: repoRoot, timeout: 300_000 });

  const port = await freePort();
  const url = `http://localhost:${port}`;
  const logPath = path.join(logDir, 'system.log');
  const log = fs.createWriteStream(logPath);
  const env = {
    ...process.env,
    PORT: String(port),
    RECHECK_SECONDS: '2',
    MOTO_SERVER: process.env.MOTO_SERVER || path.join(repoRoot, '.venv', 'bin', 'moto_server'),
  };
  const child = spawn(bin, [], { cwd: repoRoot, env, detached: true, stdio: ['ignore', 'pipe', 'pipe'] });
  const pid = child.pid;
  let exited = null;
  const exit = new Promise((resolve) => child.on('exit', (code, signal) => {
    exited = { code, signal };
    resolve(exited);
  }));
  let banner = false;
  child.stdout.on('data', (b) => {
    log.write(b);
    if (b.toString().includes('Number Release is running')) banner = true;
  });
  child.stderr.on('data', (b) => log.write(b));

  // Started processes, remembered while they run so stop() can check them.
  let started = [];
  // If the test process dies without stop(), do not leave the system behind.
  const emergency = () => {
    killGroup(pid, 'SIGKILL');
    for (const p of started) killGroup(p, 'SIGKILL');
  };
  process.on('exit', emergency);

  const stop = async () => {
    started = [...new Set([...started, ...descendants(pid)])];
    if (!exited) {
      killGroup(pid, 'SIGTERM');
      const done = await Promise.race([exit, sleep(15_000).then(() => null)]);
      if (!done) {
        killGroup(pid, 'SIGKILL');
        await exit;
      }
    }
    // The local system stops moto itself; whatever is still there is killed and reported.
    const leftovers = [];
    for (let i = 0; i < 50 && started.some(alive); i++) await sleep(100);
    for (const p of started.filter(alive)) {
      leftovers.push(p);
      killGroup(p, 'SIGKILL');
      try {
        process.kill(p, 'SIGKILL');
      } catch {
        // gone
      }
    }
    process.off('exit', emergency);
    log.end();
    fs.rmSync(tmp, { recursive: true, force: true });
    return { exit: exited, started, leftovers };
  };

  const deadline = Date.now() + 120_000;
  try {
    while (true) {
      if (exited) throw new Error(`the local system exited early (${JSON.stringify(exited)}); see ${logPath}`);
      if (Date.now() > deadline) throw new Error(`the local system did not become ready in 120 s; see ${logPath}`);
      if (banner) {
        try {
          const res = await fetch(`${url}/healthz`);
          if (res.ok) break;
        } catch {
          // not listening yet
        }
      }
      await sleep(200);
    }
    started = descendants(pid);
  } catch (err) {
    await stop();
    throw err;
  }
  return { url, stop, logPath, pid };
}
