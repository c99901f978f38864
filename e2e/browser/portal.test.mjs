// Browser test of the management portal's numbers list with more numbers
// than one page (issue #18): the first 100, Load more through the API's
// cursor, a refresh that keeps the pages shown, the server's search by the
// beginning of the number and its status filter, and what the page says of a
// search that cannot be a number. pxc asks acme for 120 numbers through the
// API; nothing is approved. Screenshots go to test-artifacts/browser-portal/.
//
//   cd e2e/browser && npm ci && node --test portal.test.mjs    (or: make browser-test)
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import fs from 'node:fs';
import path from 'node:path';
import { startSystem, repoRoot } from './system.mjs';
import { PAT, launchContext, openPage, signIn, apiOf, stopSystem } from './helpers.mjs';

const ARTIFACTS = path.join(repoRoot, 'test-artifacts', 'browser-portal');
const MANY = 120;
const numbers = Array.from({ length: MANY }, (_, i) => `+1303555${String(i).padStart(4, '0')}`);
// The demo request's two numbers (acme, pxc) are listed too, after these.
const LISTED = MANY + 2;
const TO_CANCEL = numbers[115]; // on the second page

let system;
let context;
let closeContext;
let portal;
const pageErrors = [];

async function snap(page, name) {
  await page.screenshot({ path: path.join(ARTIFACTS, `${name}.png`), fullPage: true });
}

/** The numbers the list shows, in order. */
const shownNumbers = () => portal.locator('#list-body tr').evaluateAll((trs) => trs.map((tr) => tr.dataset.number));
/** Waits until the list's summary says `text` (then "· refreshed ..."). */
const summary = (text) => portal.locator('#list-summary', { hasText: new RegExp(`^${text.replace(/[()]/g, '\\$&')} ·`) }).waitFor();
const loadMore = () => portal.getByRole('button', { name: 'Load more' });

before(async () => {
  fs.rmSync(ARTIFACTS, { recursive: true, force: true });
  fs.mkdirSync(ARTIFACTS, { recursive: true });
  const started = Date.now();
  system = await startSystem({ logDir: ARTIFACTS });
  console.log(`# system up at ${system.url} in ${((Date.now() - started) / 1000).toFixed(1)} s (log: ${path.relative(repoRoot, system.logPath)})`);
  const { mustCall, providerToken } = apiOf(system.url);
  await mustCall('POST', '/provider/v1/release-requests', {
    token: await providerToken(), body: { customer_id: 'acme', numbers },
  });
  ({ context, close: closeContext } = await launchContext({ baseURL: system.url }));
});

after(async () => {
  await closeContext?.();
  if (system) await stopSystem(system);
  assert.deepEqual(pageErrors, [], 'no page threw');
});

test('1. the list shows the first 100 numbers, and Load more the rest', async () => {
  portal = await openPage(context, '/portal', pageErrors);
  await signIn(portal, PAT, 'provider pxc');
  await summary('100 numbers shown (more to load)');
  assert.deepEqual(await shownNumbers(), numbers.slice(0, 100));
  await loadMore().click();
  await summary(`${LISTED} numbers shown`);
  const shown = await shownNumbers();
  assert.equal(shown.length, LISTED);
  assert.deepEqual(shown.slice(0, MANY), numbers);
  assert.equal(await loadMore().isVisible(), false, 'nothing more to load');
  await snap(portal, '01-load-more');
});

test('2. a refresh after a cancel reads the pages shown, not just the first', async () => {
  await portal.getByRole('button', { name: `Cancel the release request for ${TO_CANCEL}` }).click();
  await portal.locator(`#list-body tr[data-number="${TO_CANCEL}"] [data-status="CANCELLED"]`).waitFor();
  // CANCELLED sorts first; every number is still shown.
  await summary(`${LISTED} numbers shown`);
  assert.equal((await shownNumbers())[0], TO_CANCEL);
});

test('3. search by the beginning of the number, and the status filter', async () => {
  await portal.getByLabel('Search').fill('+1 303 555-001');
  await summary('10 numbers shown');
  assert.deepEqual(await shownNumbers(), numbers.slice(10, 20));
  assert.equal(await loadMore().isVisible(), false);
  await snap(portal, '02-search');

  await portal.getByLabel('Status').selectOption('CANCELLED');
  await portal.locator('#list-empty', { hasText: 'No numbers match the search and status filter.' }).waitFor();
  assert.equal(await portal.locator('#list-table').isVisible(), false);

  await portal.getByLabel('Search').fill('');
  await summary('1 number shown');
  assert.deepEqual(await shownNumbers(), [TO_CANCEL]);

  await portal.getByLabel('Status').selectOption('RELEASED');
  await portal.locator('#list-empty', { hasText: 'No numbers match the search and status filter.' }).waitFor();
});

test('4. a search that cannot be a number says so and keeps the list', async () => {
  await portal.getByLabel('Search').fill('303-abc');
  const error = portal.locator('#list-search-error');
  await error.filter({ hasText: '"303-abc" is not the beginning of a phone number' }).waitFor();
  assert.equal(await portal.getByLabel('Search').getAttribute('aria-invalid'), 'true');
  await snap(portal, '03-not-a-number');
});

test('5. a new search starts again from one page', async () => {
  await portal.getByLabel('Search').fill('');
  await portal.getByLabel('Status').selectOption('');
  assert.equal(await portal.locator('#list-search-error').textContent(), '');
  await summary('100 numbers shown (more to load)');
  assert.equal((await shownNumbers()).length, 100);
  assert.equal(await loadMore().isVisible(), true);
});
