// The pages' number lists (web/static/lib.js): what a search box sends as q,
// and a listing's pages read through the API's cursor. No browser needed.
//
//   cd e2e/browser && node --test lists.test.mjs    (make browser-test runs it too)
import { test, afterEach } from 'node:test';
import assert from 'node:assert/strict';
import { numberQuery, pagedListing } from '../../web/static/lib.js';

test('a search box is read as the beginning of a number, or refused saying why', () => {
  for (const [text, want] of [
    ['', { q: '' }],
    ['   ', { q: '' }],
    ['9723', { q: '9723' }],
    ['+1 415 555-01', { q: '141555501' }],
    ['+', { q: '' }],
    ['123456789012345', { q: '123456789012345' }],
  ]) assert.deepEqual(numberQuery(text), want, JSON.stringify(text));
  for (const [text, says] of [
    ['12ab', '"12ab" is not the beginning of a phone number'],
    ['(415) 555', 'is not the beginning of a phone number'],
    ['1234567890123456', 'has 16 digits; a phone number has at most 15'],
  ]) assert.ok(numberQuery(text).error?.includes(says), `${text}: ${numberQuery(text).error}`);
});

const realFetch = globalThis.fetch;
afterEach(() => {
  globalThis.fetch = realFetch;
});

/** Plays a listing of `total` numbers, `limit` a page; records the paths asked for. */
function playListing(total) {
  const asked = [];
  globalThis.fetch = async (url) => {
    asked.push(url);
    const u = new URL(url, 'http://app.test');
    const limit = Number(u.searchParams.get('limit'));
    const from = Number(u.searchParams.get('cursor') || 0);
    const items = Array.from({ length: Math.max(0, Math.min(limit, total - from)) }, (_, i) => ({ number: `+1${from + i}` }));
    const next = from + limit < total ? String(from + limit) : null;
    return new Response(JSON.stringify({ items, next_cursor: next }), { headers: { 'Content-Type': 'application/json' } });
  };
  return asked;
}

test('a listing reads the pages shown so far; a new search or filter starts from one page', async () => {
  const asked = playListing(250);
  const listing = pagedListing('/v1/numbers', null);
  let page = await listing.read();
  assert.equal(page.items.length, 100);
  assert.equal(page.more, true);
  listing.more();
  page = await listing.read();
  assert.deepEqual([page.items.length, page.more, page.current], [200, true, true]);
  page = await listing.read(); // a poll: the same two pages again
  assert.equal(page.items.length, 200);
  listing.more();
  page = await listing.read();
  assert.deepEqual([page.items.length, page.more], [250, false]);

  asked.length = 0;
  listing.set({ q: '1415', status: 'FAILED,RELEASED' });
  page = await listing.read();
  assert.equal(page.items.length, 100);
  assert.deepEqual(asked, ['/v1/numbers?status=FAILED%2CRELEASED&q=1415&limit=100']);
  assert.deepEqual(listing.filters(), { q: '1415', status: 'FAILED,RELEASED' });
});

test('an answer read while the search changed is marked out of date', async () => {
  playListing(10);
  const listing = pagedListing('/provider/v1/customers/acme/numbers', null);
  const reading = listing.read();
  listing.set({ q: '44' });
  assert.equal((await reading).current, false);
  assert.equal((await listing.read()).current, true);
});
