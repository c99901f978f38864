// Browser tests of the customer app's Wait for Release (issue #18): what needs
// the admin comes from the server, so a new browser context (a fresh
// session, empty storage) shows what an earlier session left; the
// confirmation dialogs; a rejection's reason reaching the portal; a
// 600-number approval sent in chunks of the API's limit with a result for
// every number. Each step saves a screenshot in test-artifacts/browser-customer/.
//
//   cd e2e/browser && npm ci && node --test customer.test.mjs    (or: make browser-test)
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import fs from 'node:fs';
import path from 'node:path';
import { startSystem, repoRoot } from './system.mjs';
import {
  ALICE, PAT, launchBrowser, signIn, apiOf, stopSystem,
} from './helpers.mjs';
import { parseNumberCsv } from '../../web/static/lib.js';

const ARTIFACTS = path.join(repoRoot, 'test-artifacts', 'browser-customer');
// The workflow's pace on the emulator plus the pages' longest wait between
// two reads of a list (30 s), with margin.
const SETTLE = 60_000;
const ASSIGNED = '+14155550301'; // assigned in Zoom to Rita Cohen
const TO_REJECT = '+14155550302';
const REJECT_REASON = 'We still route our support line to this number.';
const BIG = 600;
const bigNumbers = Array.from({ length: BIG }, (_, i) => `+1212555${String(i).padStart(4, '0')}`);

let system;
let browser;
let mustCall; // the local system's API (helpers.mjs apiOf)
let providerToken;
const pageErrors = [];

/** A screenshot; a page of hundreds of rows is taken as the window shows it (a full one takes too long). */
async function snap(page, name, { fullPage = true } = {}) {
  await page.screenshot({ path: path.join(ARTIFACTS, `${name}.png`), fullPage, timeout: 60_000 });
}

/** A fresh browser context (no storage at all) with one page at url. */
async function freshPage(url) {
  const context = await browser.newContext({ baseURL: system.url, viewport: { width: 1000, height: 720 } });
  context.setDefaultTimeout(15_000);
  const page = await context.newPage();
  page.on('pageerror', (err) => pageErrors.push(`${url}: ${err.message}`));
  await page.goto(url);
  return page;
}

/** Puts a number in acme's Zoom account (assigned when assignee is given). */
async function putZoomNumber(number, assignee) {
  const body = { account_id: 'zoom-acme', number };
  if (assignee) body.assignee = assignee;
  await mustCall('POST', '/zoom-sim/admin/numbers', { body });
}

/** pxc asks acme for numbers, at most 500 per request (the API's limit). */
async function requestRelease(numbers) {
  const token = await providerToken();
  for (let i = 0; i < numbers.length; i += 500) {
    await mustCall('POST', '/provider/v1/release-requests', {
      token, body: { customer_id: 'acme', numbers: numbers.slice(i, i + 500) },
    });
  }
}

/** The Wait for Release tab's panel (the other tabs have a Search box and a Status filter too). */
const waitPanel = (page) => page.locator('#panel-wait');
const row = (page, n) => page.locator(`#wait-body tr[data-number="${n}"]`);
const message = (page, n) => page.locator(`#wait-body .msg[data-number="${n}"]`);

before(async () => {
  fs.rmSync(ARTIFACTS, { recursive: true, force: true });
  fs.mkdirSync(ARTIFACTS, { recursive: true });
  const started = Date.now();
  system = await startSystem({ logDir: ARTIFACTS });
  console.log(`# system up at ${system.url} in ${((Date.now() - started) / 1000).toFixed(1)} s`);
  ({ mustCall, providerToken } = apiOf(system.url));
  browser = await launchBrowser();
});

after(async () => {
  await browser?.close().catch(() => {});
  if (system) await stopSystem(system);
});

test('a number an earlier session left assigned in Zoom shows in a new session and is released there after the unbind', async () => {
  await putZoomNumber(ASSIGNED, { id: 'u-301', name: 'Rita Cohen', type: 'user' });
  await requestRelease([ASSIGNED]);

  // The earlier session approves; Zoom says the number is assigned.
  const first = await freshPage('/');
  await signIn(first, ALICE);
  await first.getByLabel(`Select ${ASSIGNED}`).check();
  await first.getByRole('button', { name: 'Release numbers' }).click();
  const dialog = first.getByRole('dialog', { name: 'Release 1 number?' });
  await dialog.waitFor();
  assert.match(await dialog.textContent(), /cannot be undone: a released number cannot be reclaimed/);
  assert.equal(await first.evaluate(() => document.activeElement?.id), 'confirm-cancel', 'the keyboard starts on Cancel');
  await snap(first, '01-release-confirmation');
  await dialog.getByRole('button', { name: 'Release 1 number' }).click();
  await message(first, ASSIGNED).filter({ hasText: 'assigned in Zoom to Rita Cohen' }).waitFor({ timeout: SETTLE });
  await first.locator('#action-status', { hasText: '0 released, 1 still assigned in Zoom (to Rita Cohen) — unassign them in Zoom and they will be released, 0 refused' })
    .waitFor({ timeout: SETTLE });
  await snap(first, '02-earlier-session');
  await first.context().close();

  // A new browser context: nothing stored, the same row from the server.
  const page = await freshPage('/');
  await signIn(page, ALICE);
  await row(page, ASSIGNED).locator('[data-status="WAITING_FOR_UNASSIGN"]').waitFor();
  assert.match(await message(page, ASSIGNED).textContent(), /assigned in Zoom to Rita Cohen/);
  assert.equal(await page.evaluate(() => sessionStorage.getItem('nr.customer.acted')), null, 'no list of numbers acted on is kept');
  await snap(page, '03-new-session-lists-it');

  // The admin unassigns it in Zoom and asks for the release again at once.
  await page.getByLabel(`Select ${ASSIGNED}`).check();
  await page.getByRole('button', { name: 'Release numbers' }).click();
  const again = page.getByRole('dialog', { name: 'Release 1 number?' });
  await again.waitFor();
  await mustCall('PATCH', `/zoom-sim/admin/numbers/${encodeURIComponent(ASSIGNED)}`, { body: { assignee: null } });
  await again.getByRole('button', { name: 'Release 1 number' }).click();
  await message(page, ASSIGNED).filter({ hasText: 'Released' }).waitFor({ timeout: SETTLE });
  await page.locator('#action-status', { hasText: '1 released, 0 still assigned in Zoom, 0 refused' }).waitFor({ timeout: SETTLE });
  await snap(page, '04-released-after-unbind');
  await page.context().close();
});

test('a FAILED number is listed with its reason in a new session and approved again from there', async () => {
  const n = '+14155550304';
  await putZoomNumber(n);
  await requestRelease([n]);
  // Zoom refuses removals (a 403 is not retried): the release ends FAILED.
  await mustCall('POST', '/zoom-sim/admin/faults', {
    body: { status: 403, count: -1, path_prefix: '/zoom-sim/v2/number_management/numbers' },
  });
  try {
    const token = (await mustCall('POST', '/local/token', { body: { kind: 'customer', tenant_id: 'acme' } })).access_token;
    await mustCall('POST', '/v1/numbers/release', { token, body: { numbers: [n] } });
    const deadline = Date.now() + SETTLE;
    let status;
    while (Date.now() < deadline) {
      status = (await mustCall('GET', `/v1/numbers/${encodeURIComponent(n)}`, { token })).status;
      if (status === 'FAILED') break;
      await new Promise((r) => setTimeout(r, 500));
    }
    assert.equal(status, 'FAILED', 'the release failed while Zoom refused it');
  } finally {
    await mustCall('DELETE', '/zoom-sim/admin/faults');
  }

  const page = await freshPage('/');
  const listRead = page.waitForRequest((r) => new URL(r.url()).pathname === '/v1/numbers'
    && new URL(r.url()).searchParams.get('status') === 'PENDING_APPROVAL,WAITING_FOR_UNASSIGN,FAILED,RELEASING');
  await signIn(page, ALICE);
  await listRead; // one listing of several statuses
  await row(page, n).locator('[data-status="FAILED"]').waitFor();
  assert.match(await message(page, n).textContent(), /Failed: Zoom refused the release/);
  await waitPanel(page).getByLabel('Status').selectOption('FAILED');
  assert.equal(await page.locator('#wait-body tr:not([hidden])').count(), 1, 'the status filter shows the failed number only');
  await snap(page, '04b-failed-in-new-session');
  await page.getByLabel(`Select ${n}`).check();
  await page.getByRole('button', { name: 'Release numbers' }).click();
  await page.getByRole('dialog', { name: 'Release 1 number?' }).getByRole('button', { name: 'Release 1 number' }).click();
  await message(page, n).filter({ hasText: 'Released' }).waitFor({ timeout: SETTLE });
  await page.locator('#action-status', { hasText: '1 released, 0 still assigned in Zoom, 0 refused' }).waitFor({ timeout: SETTLE });
  await snap(page, '04c-failed-approved-again');
  await page.context().close();
});

test('a rejection with a reason: the dialog asks, the reason is sent, and the portal shows it', async () => {
  await requestRelease([TO_REJECT]);
  const page = await freshPage('/');
  await signIn(page, ALICE);
  await page.getByLabel(`Select ${TO_REJECT}`).check();
  await page.getByRole('button', { name: 'Reject', exact: true }).click();
  const dialog = page.getByRole('dialog', { name: 'Reject 1 number?' });
  await dialog.waitFor();
  assert.match(await dialog.textContent(), /cannot be undone/);
  const reason = dialog.getByRole('textbox', { name: /Reason/ });
  assert.equal(await reason.getAttribute('maxlength'), '500');
  await reason.fill(REJECT_REASON);
  await snap(page, '05-reject-confirmation');
  const sent = page.waitForRequest((r) => r.url().endsWith('/v1/numbers/reject') && r.method() === 'POST');
  await dialog.getByRole('button', { name: 'Reject 1 number' }).click();
  assert.deepEqual((await sent).postDataJSON(), { numbers: [TO_REJECT], reason: REJECT_REASON });
  await message(page, TO_REJECT).filter({ hasText: 'Rejected' }).waitFor();
  await page.context().close();

  const portal = await freshPage('/portal');
  await signIn(portal, PAT);
  await portal.getByRole('combobox', { name: 'Customer' }).selectOption('acme');
  await portal.getByRole('button', { name: 'Show numbers' }).click();
  const listed = portal.locator(`#list-body tr[data-number="${TO_REJECT}"]`);
  await listed.filter({ hasText: REJECT_REASON }).waitFor({ timeout: SETTLE });
  await snap(portal, '06-portal-rejection-reason');
  await portal.context().close();
});

test('Cancel in the confirmation dialog sends nothing', async () => {
  const n = '+14155550303';
  await requestRelease([n]);
  const page = await freshPage('/');
  await signIn(page, ALICE);
  const posts = [];
  page.on('request', (r) => {
    if (r.method() === 'POST' && new URL(r.url()).pathname.startsWith('/v1/numbers/')) posts.push(r.url());
  });
  await page.getByLabel(`Select ${n}`).check();
  await page.getByRole('button', { name: 'Release numbers' }).click();
  const dialog = page.getByRole('dialog', { name: 'Release 1 number?' });
  await dialog.getByRole('button', { name: 'Cancel' }).click();
  await dialog.waitFor({ state: 'hidden' });
  await page.keyboard.press('Escape');
  assert.deepEqual(posts, []);
  assert.equal(await page.getByLabel(`Select ${n}`).isChecked(), true, 'the selection stays');
  await page.context().close();
});

test('600 numbers: search, filter, select all, and an approval sent in chunks of 500 with a result for every number', async () => {
  const t0 = Date.now();
  for (let i = 0; i < BIG; i += 50) {
    await Promise.all(bigNumbers.slice(i, i + 50).map((n) => putZoomNumber(n)));
  }
  await requestRelease(bigNumbers);
  console.log(`# seeded ${BIG} numbers in ${((Date.now() - t0) / 1000).toFixed(1)} s`);

  const page = await freshPage('/');
  await signIn(page, ALICE);
  await row(page, bigNumbers[BIG - 1]).waitFor({ timeout: SETTLE });
  // Search by number: a client-side filter of the loaded rows.
  await waitPanel(page).getByLabel('Search').fill('12125550007');
  assert.equal(await page.locator('#wait-body tr:not([hidden])').count(), 1);
  await waitPanel(page).getByLabel('Search').fill('');
  await waitPanel(page).getByLabel('Status').selectOption('PENDING_APPROVAL');
  const pending = await page.locator('#wait-body tr:not([hidden])').count();
  assert.ok(pending >= BIG, `${pending} rows waiting for approval`);
  await snap(page, '07-600-waiting', { fullPage: false });

  // All numbers reads one page of 100 at a time through the API's cursor.
  await page.getByRole('tab', { name: 'All numbers' }).click();
  await page.locator('#all-body tr').nth(99).waitFor();
  assert.equal(await page.locator('#all-body tr').count(), 100);
  await page.getByRole('button', { name: 'Load more' }).click();
  await page.locator('#all-body tr').nth(199).waitFor();
  await snap(page, '07b-all-numbers-load-more', { fullPage: false });
  // Its search and status filter are the server's: the beginning of the
  // number (spaces, dashes and + ignored), from one page again.
  const all = page.locator('#panel-all');
  const allRows = () => page.locator('#all-body tr').evaluateAll((trs) => trs.map((tr) => tr.querySelector('.number').textContent));
  await all.getByLabel('Search').fill('+1 212 555-000');
  await page.locator('#all-summary', { hasText: /^10 numbers shown ·/ }).waitFor();
  assert.deepEqual(await allRows(), bigNumbers.slice(0, 10), 'the numbers that begin with the digits typed');
  assert.equal(await page.getByRole('button', { name: 'Load more' }).isVisible(), false);
  await all.getByLabel('Status').selectOption('FAILED');
  await page.locator('#all-empty', { hasText: 'No numbers match the search and status filter.' }).waitFor();
  await all.getByLabel('Status').selectOption('PENDING_APPROVAL');
  await page.locator('#all-summary', { hasText: /^10 numbers shown ·/ }).waitFor();
  await snap(page, '07c-all-numbers-search', { fullPage: false });
  await all.getByLabel('Search').fill('212 555 x');
  await page.locator('#all-search-error', { hasText: '"212 555 x" is not the beginning of a phone number' }).waitFor();
  await all.getByLabel('Search').fill('');
  await page.locator('#all-summary', { hasText: /^100 numbers shown \(more to load\) ·/ }).waitFor();
  assert.equal(await page.locator('#all-body tr').count(), 100, 'a new search starts from one page');
  assert.equal(await page.locator('#all-search-error').textContent(), '');
  await page.getByRole('tab', { name: /Wait for Release/ }).click();

  const bodies = [];
  page.on('request', (r) => {
    if (r.method() === 'POST' && new URL(r.url()).pathname === '/v1/numbers/release') bodies.push(r.postDataJSON().numbers.length);
  });
  await waitPanel(page).getByLabel('Search').fill('1212555');
  await page.getByLabel('Select all numbers').check();
  assert.equal((await page.locator('#selection-summary').textContent()).trim(), `${BIG} selected`);
  await page.getByRole('button', { name: 'Release numbers' }).click();
  await page.getByRole('dialog', { name: `Release ${BIG} numbers?` }).getByRole('button', { name: `Release ${BIG} numbers` }).click();
  const t1 = Date.now();
  // The approval of 500 numbers answers within the API's 15 s; 10 times that for two calls.
  await page.locator('#action-progress', { hasText: `${BIG} of ${BIG} sent` }).waitFor({ timeout: 300_000 });
  console.log(`# ${BIG} numbers approved in ${((Date.now() - t1) / 1000).toFixed(1)} s (${bodies.join(' + ')} per request)`);
  await page.locator('#action-status', { hasText: `Release approved for ${BIG} numbers` }).waitFor();
  assert.deepEqual(bodies, [500, 100]);
  // The numbers acted on stay in sight under the status filter, each with its result.
  assert.equal(await page.locator('#wait-body tr:not([hidden])').count(), BIG);
  await snap(page, '08-600-approved', { fullPage: false });
  // A result for every number: none is still waiting for approval, none refused.
  const statuses = await page.evaluate((numbers) => numbers.map((n) => document.querySelector(`#wait-body tr[data-number="${n}"] .badge`)?.dataset.status), bigNumbers);
  const unsettled = bigNumbers.filter((n, i) => !['RELEASING', 'RELEASED', 'WAITING_FOR_UNASSIGN'].includes(statuses[i]));
  assert.deepEqual(unsettled, [], 'every number has its result');
  // As they settle, the summary counts them. All 600 take about 4 minutes on the
  // emulator (Zoom's pace); the test waits for the first ones (about 20 s; 240 s).
  const t2 = Date.now();
  await page.locator('#action-status', {
    hasText: new RegExp(`Release approved for ${BIG} numbers\\. [1-9][0-9]* released, 0 still assigned in Zoom, 0 refused`),
  }).waitFor({ timeout: 240_000 });
  console.log(`# the summary counted the first releases ${((Date.now() - t2) / 1000).toFixed(1)} s after the approval's answers`);
  await snap(page, '08b-600-releasing', { fullPage: false });
  await page.context().close();
});

test('CSV import reads one number per row or a number column, and names the rows it refused', () => {
  assert.deepEqual(parseNumberCsv('+14155550100\r\n14155550101\r\nfoo\r\n\r\n+14155550100\r\n'), {
    numbers: ['+14155550100', '14155550101'], refused: [{ row: 3, value: 'foo', reason: 'not a phone number' }],
  });
  assert.deepEqual(parseNumberCsv('\uFEFFname,Number\n"Lobby, 1st floor",+1 (415) 555-0100\nFax,\n'), {
    numbers: ['+14155550100'], refused: [{ row: 3, value: '', reason: 'no number' }],
  });
  assert.deepEqual(parseNumberCsv(''), { numbers: [], refused: [] });
});

test('the portal imports numbers from a CSV file into its request form', async () => {
  const portal = await freshPage('/portal');
  await signIn(portal, PAT);
  await portal.getByLabel('Import numbers from a CSV file').setInputFiles({
    name: 'numbers.csv', mimeType: 'text/csv',
    buffer: Buffer.from('site,number\nHQ,+14155550401\nLab,14155550402\nOld,call us\n'),
  });
  const result = portal.locator('#import-result');
  await result.filter({ hasText: 'Read 2 numbers from numbers.csv' }).waitFor();
  assert.match(await result.textContent(), /1 row was refused:\s*row 4: "call us" — not a phone number/);
  assert.equal(await portal.getByRole('textbox', { name: 'Numbers' }).inputValue(), '+14155550401\n14155550402');
  await snap(portal, '09-portal-csv-import');
  await portal.context().close();
});

test('Export CSV downloads the API\'s text/csv list of what the search and filter select', async () => {
  const page = await freshPage('/');
  await signIn(page, ALICE);
  await page.getByRole('tab', { name: 'All numbers' }).click();
  const download = page.waitForEvent('download');
  await page.getByRole('button', { name: 'Export CSV' }).click();
  const file = await (await download).path();
  const text = fs.readFileSync(file, 'utf8');
  assert.match(text.split(/\r?\n/)[0], /number/i, 'a header row');
  assert.ok(text.includes(TO_REJECT), `the numbers are in it: ${text.slice(0, 300)}`);

  // With a search, the export holds just what the search selects.
  await page.locator('#panel-all').getByLabel('Search').fill(TO_REJECT);
  await page.locator('#all-summary', { hasText: /^1 number shown ·/ }).waitFor();
  const filtered = page.waitForEvent('download');
  await page.getByRole('button', { name: 'Export CSV' }).click();
  const rows = fs.readFileSync(await (await filtered).path(), 'utf8').split(/\r?\n/).filter(Boolean);
  assert.equal(rows.length, 2, `a header and one number: ${rows.join(' | ')}`);
  assert.ok(rows[1].includes(TO_REJECT), rows[1]);
  await page.context().close();
});

test('no page raised a script error', () => {
  assert.deepEqual(pageErrors, []);
});
