// Browser tests of the web pages: Debian's Chromium, driven by
// playwright-core, clicks through the seed's steps 1–8 across the customer
// app, the management portal and the Zoom simulator's page, against the
// whole local system (started here), then the error cases and the sign-in's
// own (a wrong password, a wrong role, a silent renewal, an expired session,
// sign-out). The pages sign in through the local stand-in for Cognito's
// managed login with the demo users. Each step saves a numbered screenshot
// in test-artifacts/browser/.
//
//   cd e2e/browser && npm ci && node --test release.test.mjs    (or: make browser-test, which runs poller.test.mjs too)
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import fs from 'node:fs';
import path from 'node:path';
import { startSystem, repoRoot } from './system.mjs';
import {
  ALICE, PAT, PASSWORD, launchContext, openPage, submitSignIn, signIn, stopSystem,
} from './helpers.mjs';

const ARTIFACTS = path.join(repoRoot, 'test-artifacts', 'browser');
const FREE = '+97239754571'; // unassigned in Zoom
const BUSY = '+97239754569'; // assigned in Zoom to Dana Levi (user)
const BLOCKED_MESSAGE = 'assigned in Zoom to Dana Levi (user) — unassign it in Zoom first';
// The workflow's pace on the emulator, plus the pages' longest wait between
// two reads of a list (30 s while nothing changes), with margin.
const SETTLE = 60_000;
const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-4[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$/;
const STAND_IN = '/local/cognito';

let system;
let context;
let closeContext;
let customer; // the customer app's tab
let portal; // the management portal's tab
let zoom; // the Zoom simulator page's tab
const pageErrors = [];
const customerGets = []; // the paths the customer app GETs from the API

async function snap(page, name) {
  await page.screenshot({ path: path.join(ARTIFACTS, `${name}.png`), fullPage: true });
}

const newPage = (url) => openPage(context, url, pageErrors);

/** The Wait for Release row of a number, and its message area. */
const row = (page, n) => page.locator(`#wait-body tr[data-number="${n}"]`);
const message = (page, n) => page.locator(`#wait-body .msg[data-number="${n}"]`);

/** The confirmation dialog a Release numbers or Reject click opens: checks its text and confirms. */
async function confirmDialog(page, title, button) {
  const dialog = page.getByRole('dialog', { name: title });
  await dialog.waitFor();
  assert.match(await dialog.textContent(), /cannot be undone/);
  await dialog.getByRole('button', { name: button }).click();
  await dialog.waitFor({ state: 'hidden' });
}

const signInCustomer = (page) => signIn(page, ALICE, 'customer admin of acme');

/** Makes the page's stored access token look expired (the local clock decides, as in the page). */
async function expireAccessToken(page, key) {
  await page.evaluate((k) => {
    const t = JSON.parse(sessionStorage.getItem(k));
    sessionStorage.setItem(k, JSON.stringify({ ...t, expiresAt: Date.now() - 1000 }));
  }, key);
}

/** Token endpoint calls of a grant type, as the page sends them. */
const isTokenCall = (grant) => (r) => r.method() === 'POST' && new URL(r.url()).pathname === `${STAND_IN}/oauth2/token`
  && new URLSearchParams(r.postData() || '').get('grant_type') === grant;

before(async () => {
  fs.rmSync(ARTIFACTS, { recursive: true, force: true });
  fs.mkdirSync(ARTIFACTS, { recursive: true });
  const started = Date.now();
  system = await startSystem({ logDir: ARTIFACTS });
  console.log(`# system up at ${system.url} in ${((Date.now() - started) / 1000).toFixed(1)} s (log: ${path.relative(repoRoot, system.logPath)})`);
  ({ context, close: closeContext } = await launchContext({ baseURL: system.url }));
});

after(async () => {
  await closeContext?.();
  if (system) await stopSystem(system);
});

test('1. the customer signs in and Wait for Release lists both numbers', async () => {
  customer = await newPage('/');
  customer.on('request', (r) => {
    const url = new URL(r.url());
    if (r.method() === 'GET' && url.pathname.startsWith('/v1/')) customerGets.push(url.pathname);
  });
  await customer.getByRole('heading', { name: 'Sign in to the customer app' }).waitFor();
  await snap(customer, '01-customer-sign-in');
  const exchange = customer.waitForRequest(isTokenCall('authorization_code'));
  await signInCustomer(customer);
  const form = new URLSearchParams((await exchange).postData());
  assert.match(form.get('code_verifier'), /^[A-Za-z0-9_-]{43,128}$/, 'a PKCE verifier');
  assert.equal(form.get('redirect_uri'), `${system.url}/`);
  assert.equal(customer.url(), `${system.url}/`, 'code and state left the address');
  await row(customer, FREE).waitFor();
  await row(customer, BUSY).waitFor();
  assert.equal(await customer.getByRole('tab', { name: /Wait for Release/ }).getAttribute('aria-selected'), 'true');
  assert.equal((await customer.locator('#count-wait').textContent()).trim(), '2');
  assert.equal(await customer.locator('#wait-empty').isVisible(), false);
  await snap(customer, '02-wait-for-release');
});

test('2. ticks both numbers (select all) and clicks Release numbers', async () => {
  await customer.getByLabel('Select all numbers').check();
  assert.equal(await customer.getByLabel(`Select ${FREE}`).isChecked(), true);
  assert.equal(await customer.getByLabel(`Select ${BUSY}`).isChecked(), true);
  await snap(customer, '03-both-selected');
  await customer.getByRole('button', { name: 'Release numbers' }).click();
  await confirmDialog(customer, 'Release 2 numbers?', 'Release 2 numbers');
  await customer.locator('#action-status', { hasText: 'Release approved for 2 numbers' }).waitFor();
});

test('3. +97239754571 is released; +97239754569 must be unassigned in Zoom first', async () => {
  await message(customer, FREE).filter({ hasText: 'Released' }).waitFor({ timeout: SETTLE });
  await message(customer, BUSY).filter({ hasText: BLOCKED_MESSAGE }).waitFor({ timeout: SETTLE });
  assert.equal(await row(customer, FREE).locator('.badge').getAttribute('data-status'), 'RELEASED');
  assert.equal(await row(customer, BUSY).locator('.badge').getAttribute('data-status'), 'WAITING_FOR_UNASSIGN');
  assert.equal(await customer.locator('#wait-empty').textContent(), 'Nothing is waiting for your approval.');
  await snap(customer, '04-wait-for-release-after-approval');
  // The app followed both numbers by reading the list, never one number at
  // a time (besides the list it reads only the Zoom connection, for Settings).
  assert.deepEqual(customerGets.filter((p) => p !== '/v1/numbers' && p !== '/v1/zoom/connection'), [], 'only list reads');
  assert.ok(customerGets.filter((p) => p === '/v1/numbers').length >= 2, `the list was read: ${customerGets.length} reads`);

  // The history is one click away.
  await row(customer, FREE).getByRole('button', { name: FREE }).click();
  const dialog = customer.getByRole('dialog', { name: FREE });
  await dialog.locator('table.history tbody tr').nth(2).waitFor();
  const changes = await dialog.locator('table.history tbody tr').allTextContents();
  assert.equal(changes.length, 3, changes.join('\n'));
  assert.match(changes[2], /Releasing\s*→\s*Released/);
  await snap(customer, '05-history-of-97239754571');
  await dialog.getByRole('button', { name: 'Close' }).click();
});

test('4. the management portal still lists +97239754569, and no longer +97239754571', async () => {
  portal = await newPage('/portal');
  await portal.getByRole('heading', { name: 'Sign in to the management portal' }).waitFor();
  await signIn(portal, PAT, 'provider pxc');
  const list = portal.locator('#list-body');
  await list.locator(`tr[data-number="${BUSY}"]`).waitFor();
  assert.equal(await list.locator(`tr[data-number="${FREE}"]`).count(), 0);
  assert.match(await list.locator(`tr[data-number="${BUSY}"]`).textContent(), /Assigned in Zoom/);
  await snap(portal, '06-portal');
});

test('5. the Zoom app: Assigned tab, the number\'s properties, Unbind', async () => {
  zoom = await newPage('/zoom-sim/');
  await zoom.getByRole('tab', { name: /Assigned/ }).first().click();
  const assigned = zoom.locator(`#body tr[data-number="${BUSY}"]`);
  await assigned.waitFor();
  assert.equal(await zoom.locator(`#body tr[data-number="${FREE}"]`).count(), 0, 'the released number left the Zoom account');
  await snap(zoom, '07-zoom-assigned-tab');
  await assigned.getByRole('button', { name: BUSY }).click();
  const props = zoom.getByRole('dialog');
  const text = await props.locator('dl').textContent();
  for (const want of ['Dana Levi', 'user', '1001', 'u-dana']) assert.ok(text.includes(want), `properties show ${want}: ${text}`);
  await snap(zoom, '08-zoom-number-properties');
  await props.getByRole('button', { name: 'Unbind' }).click();
  await props.getByRole('status').filter({ hasText: 'The number is no longer assigned' }).waitFor();
  await snap(zoom, '09-zoom-unbound');
  await props.getByRole('button', { name: 'Close' }).click();
  await zoom.locator(`#body tr[data-number="${BUSY}"]`).waitFor({ state: 'detached' });
});

test('6. back in the customer app, +97239754569 is released by itself', async () => {
  await customer.bringToFront();
  const t0 = Date.now();
  await message(customer, BUSY).filter({ hasText: 'Released' }).waitFor({ timeout: SETTLE });
  console.log(`# released by itself ${((Date.now() - t0) / 1000).toFixed(1)} s after returning to the customer app`);
  assert.equal(await row(customer, BUSY).locator('.badge').getAttribute('data-status'), 'RELEASED');
  await snap(customer, '10-released-by-itself');
});

test('7. a manual Release numbers retry is harmless', async () => {
  await customer.getByLabel(`Select ${BUSY}`).check();
  await customer.getByRole('button', { name: 'Release numbers' }).click();
  await confirmDialog(customer, 'Release 1 number?', 'Release 1 number');
  await customer.locator('#action-status', { hasText: 'Release approved for 1 number' }).waitFor();
  await message(customer, BUSY).filter({ hasText: 'Released' }).waitFor();
  assert.equal(await row(customer, BUSY).locator('.badge').getAttribute('data-status'), 'RELEASED');
  await snap(customer, '11-manual-retry');

  await row(customer, BUSY).getByRole('button', { name: BUSY }).click();
  const dialog = customer.getByRole('dialog', { name: BUSY });
  await dialog.locator('table.history tbody tr').nth(4).waitFor();
  const changes = await dialog.locator('table.history tbody tr').allTextContents();
  // Unbound, then claimed for removal (Assigned in Zoom → Releasing), then
  // released; the retry added nothing.
  assert.equal(changes.length, 5, `the retry added no history entry:\n${changes.join('\n')}`);
  assert.match(changes[3], /Assigned in Zoom\s*→\s*Releasing/);
  assert.match(changes[4], /Releasing\s*→\s*Released/);
  await snap(customer, '12-history-of-97239754569');
  await dialog.getByRole('button', { name: 'Close' }).click();
});

test('8. both numbers are released: the Released tab lists them, the portal neither', async () => {
  // Keyboard: from the Wait for Release tab, the arrow keys reach Released.
  await customer.getByRole('tab', { name: /Wait for Release/ }).focus();
  await customer.keyboard.press('ArrowRight');
  await customer.keyboard.press('ArrowRight');
  assert.equal(await customer.getByRole('tab', { name: 'Released' }).getAttribute('aria-selected'), 'true');
  const released = customer.locator('#released-body');
  await released.locator('tr', { hasText: FREE }).waitFor();
  await released.locator('tr', { hasText: BUSY }).waitFor();
  await snap(customer, '13-released-tab');

  await portal.bringToFront();
  await portal.locator(`#list-body tr[data-number="${BUSY}"]`).waitFor({ state: 'detached', timeout: SETTLE });
  assert.equal(await portal.locator(`#list-body tr[data-number="${FREE}"]`).count(), 0);
  await snap(portal, '14-portal-both-released');
});

test('the portal requests and cancels a release, and shows a refused request\'s detail', async () => {
  await portal.getByRole('combobox', { name: 'Customer' }).selectOption('globex');
  await portal.getByRole('button', { name: 'Show numbers' }).click();
  await portal.locator('#list-customer', { hasText: 'globex' }).waitFor();
  const n = '+14155550123';
  await portal.getByRole('textbox', { name: 'Numbers' }).fill('14155550123');
  await portal.getByLabel(/Reason/).fill('end of contract');
  const sent = portal.waitForRequest((r) => r.url().endsWith('/provider/v1/release-requests') && r.method() === 'POST');
  await portal.getByRole('button', { name: 'Request release' }).click();
  const req = await sent;
  assert.match(req.headers()['idempotency-key'] || '', UUID);
  assert.deepEqual(req.postDataJSON(), { customer_id: 'globex', numbers: ['14155550123'], reason: 'end of contract' });
  await portal.locator('#request-result', { hasText: 'Release requested from globex' }).waitFor();
  const listed = portal.locator(`#list-body tr[data-number="${n}"]`);
  await listed.locator('[data-status="PENDING_APPROVAL"]').waitFor();
  await snap(portal, '15-portal-requested');
  await listed.getByRole('button', { name: `Cancel the release request for ${n}` }).click();
  await portal.locator('#request-result', { hasText: `Request for ${n} withdrawn` }).waitFor();
  await listed.locator('[data-status="CANCELLED"]').waitFor();

  await portal.getByRole('textbox', { name: 'Numbers' }).fill('12ab');
  await portal.getByRole('button', { name: 'Request release' }).click();
  const refused = portal.locator('#request-result', { hasText: 'Nothing was requested' });
  await refused.waitFor();
  assert.match(await refused.textContent(), /12ab/);
  await snap(portal, '16-portal-refused-request');
});

test('the customer rejects; a number the carrier withdrew meanwhile gets its own error', async () => {
  const keep = '+14155550124';
  const gone = '+14155550125';
  await portal.getByRole('combobox', { name: 'Customer' }).selectOption('acme');
  await portal.getByRole('button', { name: 'Show numbers' }).click();
  await portal.locator('#list-customer', { hasText: 'acme' }).waitFor();
  await portal.getByRole('textbox', { name: 'Numbers' }).fill(`${keep}\n${gone}`);
  await portal.getByRole('button', { name: 'Request release' }).click();
  await portal.locator('#request-result', { hasText: 'Release requested from acme' }).waitFor();

  await customer.bringToFront();
  await customer.getByRole('tab', { name: /Wait for Release/ }).click();
  await customer.getByRole('button', { name: 'Refresh' }).first().click();
  await customer.getByLabel(`Select ${keep}`).check();
  await customer.getByLabel(`Select ${gone}`).check();

  await portal.locator(`#list-body tr[data-number="${gone}"]`).getByRole('button', { name: /Cancel the release request/ }).click();
  await portal.locator('#request-result', { hasText: `Request for ${gone} withdrawn` }).waitFor();

  await customer.getByRole('button', { name: 'Reject', exact: true }).click();
  await confirmDialog(customer, 'Reject 2 numbers?', 'Reject 2 numbers');
  await message(customer, keep).filter({ hasText: 'Rejected — the number stays with you' }).waitFor();
  const refused = message(customer, gone);
  await refused.filter({ hasText: 'CANCELLED' }).waitFor();
  assert.match(await refused.getAttribute('class'), /\bbad\b/);
  await row(customer, gone).locator('[data-status="CANCELLED"]').waitFor();
  await customer.locator('#action-status', { hasText: '1 number was not changed' }).waitFor();
  await snap(customer, '17-reject-and-per-number-error');
});

test('a narrow window stacks the pages without sideways scrolling', async () => {
  await customer.getByRole('tab', { name: /Wait for Release/ }).click();
  await row(customer, BUSY).waitFor();
  for (const [page, name] of [[customer, '18-narrow-customer-app'], [portal, '19-narrow-portal'], [zoom, '20-narrow-zoom']]) {
    await page.setViewportSize({ width: 390, height: 800 });
    await page.waitForTimeout(300);
    const overflow = await page.evaluate(() => document.documentElement.scrollWidth - document.documentElement.clientWidth);
    assert.ok(overflow <= 1, `${name}: ${overflow}px sideways overflow`);
    await snap(page, name);
    await page.setViewportSize({ width: 1000, height: 720 });
  }
});

test('the customer app waits out a 429\'s Retry-After before reading the list again', async () => {
  await customer.bringToFront();
  await customer.getByRole('tab', { name: /Wait for Release/ }).click();
  const reads = [];
  const list = /\/v1\/numbers\?/;
  await customer.route(list, async (route) => {
    reads.push(Date.now());
    if (reads.length > 1) return route.continue();
    return route.fulfill({
      status: 429,
      headers: { 'Retry-After': '3', 'Content-Type': 'application/problem+json' },
      body: JSON.stringify({
        type: '/problems/too_many_requests', title: 'Too many requests', status: 429, code: 'too_many_requests',
        detail: 'tenant acme is over its budget of 10 requests per second (bursts of 20); retry after 3 s',
      }),
    });
  });
  try {
    await customer.getByRole('button', { name: 'Refresh' }).first().click();
    await customer.locator('#app-error', { hasText: 'The server asked to slow down; refreshing again in 3 s' }).waitFor();
    await snap(customer, '21-too-many-requests');
    // Refresh again while the server said to wait: nothing is sent until then.
    await customer.getByRole('button', { name: 'Refresh' }).first().click();
    await customer.locator('#app-error', { hasText: 'slow down' }).waitFor({ state: 'detached', timeout: SETTLE });
    assert.ok(reads.length >= 2, `${reads.length} reads`);
    assert.ok(reads[1] - reads[0] >= 3000, `the next read came ${reads[1] - reads[0]} ms after the 429, before its Retry-After of 3 s`);
  } finally {
    await customer.unroute(list);
  }
});

test('a token about to expire is renewed silently: the next action just works', async () => {
  await customer.bringToFront();
  await customer.getByRole('tab', { name: /Wait for Release/ }).click();
  const renewals = [];
  const watch = (r) => {
    if (isTokenCall('refresh_token')(r)) renewals.push(r);
  };
  customer.on('request', watch);
  try {
    const renewed = customer.waitForResponse((r) => isTokenCall('refresh_token')(r.request()));
    await expireAccessToken(customer, 'nr.customer.tokens');
    await customer.getByRole('button', { name: 'Refresh' }).first().click();
    const answer = await renewed;
    assert.equal(answer.status(), 200);
    const bearer = `Bearer ${(await answer.json()).access_token}`;
    // The list is read with the renewed token.
    await customer.waitForResponse((r) => new URL(r.url()).pathname === '/v1/numbers'
      && r.request().headers().authorization === bearer && r.status() === 200);
    assert.equal(renewals.length, 1, 'one renewal');
    const form = new URLSearchParams(renewals[0].postData());
    assert.ok(form.get('refresh_token') && form.get('client_id'), 'refresh_token and client_id are sent');
    assert.equal(await customer.locator('#signin').isVisible(), false);
    assert.equal(await customer.locator('#app').isVisible(), true);
    const left = await customer.evaluate(() => JSON.parse(sessionStorage.getItem('nr.customer.tokens')).expiresAt - Date.now());
    assert.ok(left > 5 * 60_000, `the renewed token is good for ${left} ms`);
  } finally {
    customer.off('request', watch);
  }
});

test('an expired session: the renewal is refused, the page says so, and signing in again works', async () => {
  await customer.bringToFront();
  // Signed out everywhere (as an expired or revoked session is): the
  // refresh token stops working.
  const res = await fetch(`${system.url}${STAND_IN}/admin/sign-out`, {
    method: 'POST', headers: { 'Content-Type': 'application/json' }, body: JSON.stringify({ username: ALICE }),
  });
  assert.ok(res.ok, `admin sign-out: ${res.status}`);
  const refused = customer.waitForResponse((r) => isTokenCall('refresh_token')(r.request()));
  await expireAccessToken(customer, 'nr.customer.tokens');
  await customer.getByRole('button', { name: 'Refresh' }).first().click();
  assert.equal((await refused).status(), 400);
  await customer.locator('#signin-msg', { hasText: 'Your session has expired. Sign in again.' }).waitFor();
  assert.equal(await customer.locator('#app').isVisible(), false);
  assert.equal(await customer.evaluate(() => sessionStorage.getItem('nr.customer.tokens')), null, 'the tokens are forgotten');
  await snap(customer, '22-session-expired');
  await signInCustomer(customer);
  await customer.locator('#wait-empty').waitFor();
});

test('after everything is handled, Wait for Release is empty', async () => {
  const empty = customer.locator('#wait-empty');
  await empty.waitFor();
  assert.equal(await empty.textContent(), 'Nothing is waiting for your approval.');
  assert.equal(await customer.locator('#wait-body tr').count(), 0);
  await snap(customer, '23-wait-for-release-empty');
});

test('a wrong password: the sign-in form says so and the app does not start', async () => {
  const page = await newPage('/');
  await submitSignIn(page, ALICE, 'not-the-password');
  const error = page.locator('#signin-error');
  await error.waitFor();
  assert.equal((await error.textContent()).trim(), 'Incorrect username or password.');
  assert.ok(new URL(page.url()).pathname.startsWith(`${STAND_IN}/`), `still on the sign-in form: ${page.url()}`);
  assert.equal(await page.locator('#app').count(), 0);
  await snap(page, '24-wrong-password');
  // The right password from the same form still gets in.
  await page.getByLabel('Email address').fill(ALICE);
  await page.getByLabel('Password').fill(PASSWORD);
  await page.getByRole('button', { name: 'Sign in' }).click();
  await page.locator('#app').waitFor();
  await page.close();
});

test('the wrong role: a provider on the customer app is told the page is for customer admins, and can sign out', async () => {
  const page = await newPage('/');
  await submitSignIn(page, PAT);
  await page.getByRole('heading', { name: 'This page is for customer admins' }).waitFor();
  assert.match(await page.locator('#signin-lead').textContent(), /pat@pxc\.example \(provider pxc\)/);
  assert.equal(await page.locator('#app').isVisible(), false);
  assert.equal(await page.locator('#signin-btn').isVisible(), false);
  await snap(page, '25-wrong-role');
  await page.locator('#signin').getByRole('button', { name: 'Sign out' }).click();
  await page.getByRole('heading', { name: 'Sign in to the customer app' }).waitFor();
  await page.close();
});

test('sign-out: the refresh token is revoked, the sign-in panel is back, and a reload does not sign in again', async () => {
  await customer.bringToFront();
  const refreshToken = await customer.evaluate(() => JSON.parse(sessionStorage.getItem('nr.customer.tokens')).refresh_token);
  const revoked = customer.waitForResponse((r) => new URL(r.url()).pathname === `${STAND_IN}/oauth2/revoke`);
  await customer.locator('#who').getByRole('button', { name: 'Sign out' }).click();
  assert.equal((await revoked).status(), 200);
  await customer.getByRole('heading', { name: 'Sign in to the customer app' }).waitFor();
  assert.equal(customer.url(), `${system.url}/`);
  assert.equal(await customer.evaluate(() => sessionStorage.length), 0, 'the tab\'s sessionStorage is cleared');
  await snap(customer, '26-signed-out');

  const authorizes = [];
  const watch = (r) => {
    if (new URL(r.url()).pathname === `${STAND_IN}/oauth2/authorize`) authorizes.push(r.url());
  };
  customer.on('request', watch);
  try {
    await customer.reload();
    await customer.getByRole('heading', { name: 'Sign in to the customer app' }).waitFor();
    await customer.waitForTimeout(1000);
    assert.equal(await customer.locator('#app').isVisible(), false, 'still signed out');
    assert.deepEqual(authorizes, [], 'no sign-in was started');
  } finally {
    customer.off('request', watch);
  }

  // The revoked refresh token no longer renews anything.
  const config = await (await fetch(`${system.url}/web/config.json`)).json();
  const res = await fetch(config.auth.token_url, {
    method: 'POST',
    headers: { 'Content-Type': 'application/x-www-form-urlencoded' },
    body: new URLSearchParams({ grant_type: 'refresh_token', client_id: config.auth.client_id, refresh_token: refreshToken }),
  });
  assert.equal(res.status, 400);
  assert.equal((await res.json()).error, 'invalid_grant');
});

test('no page raised a script error', () => {
  assert.deepEqual(pageErrors, []);
});
