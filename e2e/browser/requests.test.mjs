// Browser test of the management portal's release requests: the customer
// picker lists the provider's linked customers (GET /provider/v1/customers),
// the Requests view lists the demo request with its counts per status,
// opening it shows its numbers, and "Cancel request" asks for confirmation,
// then cancels the whole request and shows each number's result (one number
// the customer approved meanwhile keeps going, and says why). Runs against
// the whole local system (started here, on its own), signed in as the demo
// users through the local stand-in for the managed login. Each step saves a
// numbered screenshot in test-artifacts/browser-requests/.
//
//   cd e2e/browser && npm ci && node --test requests.test.mjs    (or: make browser-test)
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import fs from 'node:fs';
import path from 'node:path';
import { startSystem, repoRoot } from './system.mjs';
import {
  ALICE, PAT, launchContext, openPage, signIn, stopSystem,
} from './helpers.mjs';

const ARTIFACTS = path.join(repoRoot, 'test-artifacts', 'browser-requests');
const FREE = '+97239754571'; // the demo request's unassigned number
const BUSY = '+97239754569'; // the demo request's number assigned in Zoom
// The workflow's pace on the emulator, with margin.
const SETTLE = 60_000;

let system;
let context;
let closeContext;
let portal;
let requestID; // the demo request's id
const pageErrors = [];

async function snap(page, name) {
  await page.screenshot({ path: path.join(ARTIFACTS, `${name}.png`), fullPage: true });
}

const newPage = (url) => openPage(context, url, pageErrors);

const requestRow = (id) => portal.locator(`#requests-body tr[data-request-id="${id}"]`);
const countsOf = async (row) => Object.fromEntries(await row.locator('ul.counts .badge').evaluateAll(
  (els) => els.map((e) => [e.dataset.status, Number(e.dataset.count)])));

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
  assert.deepEqual(pageErrors, [], 'no page threw');
});

test('1. the customer picker lists the provider\'s linked customers', async () => {
  portal = await newPage('/portal');
  await portal.getByRole('heading', { name: 'Sign in to the management portal' }).waitFor();
  await signIn(portal, PAT, 'provider pxc');
  const picker = portal.getByRole('combobox', { name: 'Customer' });
  assert.equal(await picker.evaluate((el) => el.tagName), 'SELECT', 'a select, not a text box');
  await picker.locator('option[value="globex"]').waitFor({ state: 'attached' });
  const options = await picker.locator('option').evaluateAll((els) => els.map((o) => o.value));
  assert.deepEqual(options, ['acme', 'globex'], 'pxc\'s customers, and no other');
  assert.equal(await picker.inputValue(), 'acme');
  await portal.locator(`#list-body tr[data-number="${BUSY}"]`).waitFor();
  // Choosing globex shows globex's numbers (none).
  await picker.selectOption('globex');
  await portal.locator('#list-customer', { hasText: 'globex' }).waitFor();
  await portal.locator('#list-empty').waitFor();
  await snap(portal, '01-customer-picker');
  await picker.selectOption('acme');
  await portal.locator(`#list-body tr[data-number="${BUSY}"]`).waitFor();
});

test('2. the Requests view lists the demo request with its counts', async () => {
  await portal.getByRole('tab', { name: 'Requests' }).click();
  const rows = portal.locator('#requests-body tr');
  await rows.first().waitFor();
  assert.equal(await rows.count(), 1, 'the demo request only');
  requestID = await rows.first().getAttribute('data-request-id');
  assert.match(requestID, /^[0-9a-f-]{36}$/);
  const text = await rows.first().textContent();
  assert.ok(text.includes('acme') && text.includes('numbers returned to the carrier'), text);
  assert.deepEqual(await countsOf(rows.first()), { PENDING_APPROVAL: 2 });
  await snap(portal, '02-requests');
});

test('3. opening the request shows its numbers with their status', async () => {
  await requestRow(requestID).getByRole('button', { name: /^Open the request/ }).click();
  await portal.locator('#request-view').waitFor();
  assert.equal(await portal.locator('#request-view-id').textContent(), requestID);
  assert.equal(await portal.locator('#request-view-customer').textContent(), 'acme');
  const numbers = portal.locator('#request-numbers tr');
  assert.deepEqual(await numbers.evaluateAll((els) => els.map((e) => e.dataset.number)), [BUSY, FREE]);
  for (const n of [BUSY, FREE]) {
    assert.equal(await portal.locator(`#request-numbers tr[data-number="${n}"] .badge`).getAttribute('data-status'), 'PENDING_APPROVAL');
  }
  await snap(portal, '03-request-opened');
});

test('4. the customer approves one number meanwhile', async () => {
  const customer = await newPage('/');
  await customer.getByRole('heading', { name: 'Sign in to the customer app' }).waitFor();
  await signIn(customer, ALICE, 'customer admin of acme');
  await customer.getByLabel(`Select ${FREE}`).check();
  await customer.getByRole('button', { name: 'Release numbers' }).click();
  // The confirmation dialog sits between the click and the release.
  await customer.getByRole('dialog', { name: 'Release 1 number?' }).getByRole('button', { name: 'Release 1 number' }).click();
  await customer.locator('#action-status', { hasText: 'Release approved for 1 number' }).waitFor();
  await customer.close();
  await portal.bringToFront();
});

test('5. Cancel request asks first, then cancels and shows each number\'s result', async () => {
  const deletes = [];
  portal.on('request', (r) => {
    if (r.method() === 'DELETE') deletes.push(new URL(r.url()).pathname);
  });
  const dialog = portal.getByRole('dialog', { name: 'Cancel this request?' });
  // Asked, and kept: nothing is sent.
  await portal.getByRole('button', { name: 'Cancel request' }).click();
  await dialog.waitFor();
  await snap(portal, '04-cancel-confirmation');
  await dialog.getByRole('button', { name: 'Keep the request' }).click();
  await dialog.waitFor({ state: 'hidden' });
  assert.deepEqual(deletes, []);
  // Asked, and confirmed.
  await portal.getByRole('button', { name: 'Cancel request' }).click();
  await dialog.getByRole('button', { name: 'Yes, cancel the request' }).click();
  const results = portal.locator('#cancel-result');
  await results.locator(`li[data-number="${BUSY}"] .badge[data-status="CANCELLED"]`).waitFor();
  assert.deepEqual(deletes, [`/provider/v1/release-requests/${requestID}`]);
  const refused = await results.locator(`li[data-number="${FREE}"]`).textContent();
  assert.match(refused, /not cancelled: \+97239754571 is (RELEASING|RELEASED); only a request that is pending approval/, refused);
  assert.match(await results.textContent(), /1 of 2 numbers withdrawn/);
  await portal.locator(`#request-numbers tr[data-number="${BUSY}"] .badge[data-status="CANCELLED"]`).waitFor();
  assert.equal(await portal.getByRole('button', { name: 'Cancel request' }).isDisabled(), true, 'nothing left to cancel');
  await snap(portal, '05-request-cancelled');
});

test('6. back in the listing, the counts follow the numbers', async () => {
  await portal.getByRole('button', { name: 'Back to requests' }).click();
  await requestRow(requestID).waitFor();
  // The approved number finishes its release (or is still on its way).
  let counts = await countsOf(requestRow(requestID));
  for (const started = Date.now(); !counts.RELEASED && Date.now() - started < SETTLE;) {
    await portal.waitForTimeout(1000);
    await portal.getByRole('button', { name: 'Refresh' }).click();
    await portal.locator('#requests-summary', { hasText: 'refreshed' }).waitFor();
    counts = await countsOf(requestRow(requestID));
  }
  assert.deepEqual(counts, { RELEASED: 1, CANCELLED: 1 });
  await snap(portal, '06-requests-after-cancel');
  // The Numbers view still works: the cancelled number is listed as such.
  await portal.getByRole('tab', { name: 'Numbers' }).click();
  await portal.locator(`#list-body tr[data-number="${BUSY}"] .badge[data-status="CANCELLED"]`).waitFor();
});
