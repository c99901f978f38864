// The pages' polling (web/static/lib.js poller), on virtual time: how long
// it waits between polls while nothing changes, after a change, after a
// 429 with Retry-After, and when the user acts. No browser needed.
//
//   cd e2e/browser && node --test poller.test.mjs    (make browser-test runs it too)
import { test, mock, beforeEach, afterEach } from 'node:test';
import assert from 'node:assert/strict';
import { poller, ApiError, retryAfterSeconds } from '../../web/static/lib.js';

let now = 0;
const clock = () => now;
const flush = () => new Promise((resolve) => setImmediate(resolve));

beforeEach(() => {
  now = 0;
  mock.timers.enable({ apis: ['setTimeout'] });
});
afterEach(() => mock.timers.reset());

/** Moves virtual time on by ms, one millisecond step per timer due. */
async function advance(ms) {
  const end = now + ms;
  while (now < end) {
    const step = Math.min(100, end - now);
    now += step;
    mock.timers.tick(step);
    await flush();
  }
}

/**
 * A poller over fn(i) (i = 0, 1, 2, ... per poll) that records when each
 * poll ran; answers(i) is what the poll returns or throws.
 */
function recorded(answers, opts = {}) {
  const at = [];
  const errors = [];
  const p = poller(async () => {
    const i = at.length;
    at.push(now);
    return answers(i);
  }, { clock, hidden: () => false, onError: (e) => errors.push(e), ...opts });
  return { p, at, errors };
}

/** Lets a poll due now (a zero wait) run. */
async function settle() {
  mock.timers.tick(0);
  await flush();
}

const gaps = (at) => at.slice(1).map((t, i) => t - at[i]);

test('while nothing changes the wait doubles from 2 s to 30 s', async () => {
  const { p, at } = recorded(() => false);
  p.start();
  await settle();
  await advance(150_000);
  p.stop();
  assert.deepEqual(gaps(at).slice(0, 7), [2000, 4000, 8000, 16000, 30000, 30000, 30000]);
});

test('a change brings the wait back to 2 s', async () => {
  const { p, at } = recorded((i) => i === 3);
  p.start();
  await settle();
  await advance(60_000);
  p.stop();
  // polls 0,1,2 change nothing (2, 4, 8 s), poll 3 changes: the next in 2 s, then 4, 8, ...
  assert.deepEqual(gaps(at).slice(0, 6), [2000, 4000, 8000, 2000, 4000, 8000]);
});

test('a 429 waits its Retry-After, even when the user asks to refresh', async () => {
  const { p, at, errors } = recorded((i) => {
    if (i === 1) throw new ApiError(429, { detail: 'slow down' }, 9);
    return false;
  });
  p.start();
  await settle();
  await advance(2000); // poll 1: the 429
  assert.equal(at.length, 2);
  p.now(); // the user clicks Refresh during the Retry-After
  await settle();
  await advance(8900);
  assert.equal(at.length, 2, `no poll before Retry-After: ${at}`);
  await advance(200);
  assert.equal(at.length, 3);
  assert.equal(at[2] - at[1], 9000);
  assert.equal(errors.length, 1);
  assert.equal(errors[0].status, 429);
  p.stop();
});

test('a 429 without Retry-After, and other errors, back off like no change', async () => {
  const { p, at } = recorded((i) => {
    if (i === 1) throw new ApiError(429, {});
    if (i === 2) throw new ApiError(503, {});
    return false;
  });
  p.start();
  await settle();
  await advance(40_000);
  p.stop();
  assert.deepEqual(gaps(at).slice(0, 4), [2000, 4000, 8000, 16000]);
});

test('now() polls at once and starts over from 2 s', async () => {
  const { p, at } = recorded(() => false);
  p.start();
  await settle();
  await advance(31_000); // polls at 0, 2, 6, 14, 30 s; the next is due at 60 s
  assert.equal(at.length, 5);
  p.now();
  await settle();
  assert.equal(at.length, 6);
  assert.equal(at[5], 31_000);
  await advance(2000);
  assert.equal(at.length, 7);
  assert.equal(at[6], 33_000);
  p.stop();
});

test('stop() ends it; a hidden page polls every 30 s', async () => {
  const { p, at } = recorded(() => true, { hidden: () => true });
  p.start();
  await settle();
  await advance(65_000);
  assert.deepEqual(gaps(at), [30000, 30000]);
  p.stop();
  await advance(120_000);
  assert.equal(at.length, 3);
});

test('Retry-After: seconds or an HTTP date', () => {
  assert.equal(retryAfterSeconds('7'), 7);
  assert.equal(retryAfterSeconds(' 0 '), 0);
  assert.equal(retryAfterSeconds(null), null);
  assert.equal(retryAfterSeconds('soon'), null);
  assert.equal(retryAfterSeconds('Wed, 02 Dec 2026 01:00:10 GMT', Date.parse('Wed, 02 Dec 2026 01:00:00 GMT')), 10);
});
