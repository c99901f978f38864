// The management portal (provider view): a carrier picks one of its linked
// customers, lists that customer's numbers under release, asks for more
// numbers back and withdraws requests; the Requests view follows each
// release request (its numbers by status) and cancels a whole request.
// Uses only the public API, signed in through the identity provider
// (signin.js); the provider id comes from the sign-in.
import {
  ApiError, request, stored, numberSegment, newKey, h, fill, badge, when, notice, clock,
  poller, setupTabs, statusLabel, parseNumberCsv, numberQuery, pagedListing, debounce,
} from './lib.js';
import { createAuth, signInPanel } from './signin.js';

// The list is read one request per page of 100 (the pages shown so far,
// Load more adds one): every 2 s after a change, twice as long each time
// nothing changed, up to 30 s; at once after an action or when the page is
// shown again; never before a 429's Retry-After. The search (q) and the
// status filter are the server's; a new one starts again from one page.
const POLL = { min: 2000, max: 30000 };
const CANCELLABLE = new Set(['PENDING_APPROVAL', 'WAITING_FOR_UNASSIGN', 'FAILED']);

// The sign-in: tokens in sessionStorage (nr.provider.tokens), renewed as needed.
const auth = createAuth({ key: 'nr.provider', path: '/portal' });
const customerStore = stored('nr.provider.customer'); // the customer last shown
const $ = (id) => document.getElementById(id);

let session = null; // who is signed in ({email, providerId, ...}) while the app runs
let signin = null; // the sign-in panel (signin.js)
let customer = ''; // the chosen customer ('' until the linked customers are read)
let list = null; // the poller of the customer's list
let listing = null; // the customer's listing with its search, filter and pages (lib.js pagedListing)
let shown = ''; // what the list shows, to tell whether a poll changed it
let views = null; // the Numbers / Requests tabs
// The Requests view: the cursors of the pages seen (null: the newest), the
// page shown, and the request opened (null: the listing is shown).
let pages = [null];
let page = 0;
let opened = null;

// ---- session ------------------------------------------------------------------

/** Stops the app and forgets what it showed (the sign-in panel comes next). */
function stopApp() {
  list.stop();
  listing = null;
  $('list-search').value = '';
  $('list-filter').value = '';
  notice($('list-search-error'), 'error', '');
  shown = '';
  session = null;
  if ($('cancel-dialog').open) $('cancel-dialog').close();
  fill($('list-body'));
  fill($('requests-body'));
  fill($('request-numbers'));
  closeRequest();
  pages = [null];
  page = 0;
  notice($('request-result'), '', '');
  notice($('app-error'), 'error', '');
}

/** Handles an API failure: a lost session goes back to sign-in, anything else is shown. */
function handleError(err, what) {
  if (err instanceof ApiError && err.status === 401) {
    // The session expired (the renewal was refused), or the API refused the
    // token even after a renewal.
    if (session) {
      stopApp();
      signin.ended(err);
    }
    return true;
  }
  notice($('app-error'), 'error', what ? `${what}: ${err.message}` : err.message);
  return false;
}

async function startApp(who) {
  session = who;
  views.select('tab-numbers');
  await loadCustomers();
  showCustomer();
  if (customer) newListing();
  list.start();
}

/** Fills the customer picker with the linked customers; keeps the last one shown if still linked. */
async function loadCustomers() {
  const select = $('customer');
  let items = [];
  try {
    items = (await request('/provider/v1/customers', { auth })).items || [];
  } catch (err) {
    fill(select, h('option', { value: '' }, 'Customers unavailable'));
    handleError(err, 'Could not list your customers');
    return;
  }
  if (!session) return;
  if (!items.length) {
    fill(select, h('option', { value: '' }, 'No linked customers'));
    customer = '';
    return;
  }
  fill(select, items.map((c) => h('option', { value: c.customer_id }, c.name && c.name !== c.customer_id ? `${c.name} (${c.customer_id})` : c.customer_id)));
  const last = customerStore.get();
  customer = items.some((c) => c.customer_id === last) ? last : items[0].customer_id;
  select.value = customer;
}

function showCustomer() {
  $('list-customer').textContent = customer;
  $('request-customer').textContent = customer;
}

// ---- the list ------------------------------------------------------------------

function details(v) {
  const a = v.zoom_assignee;
  const parts = [];
  if (v.status === 'WAITING_FOR_UNASSIGN' && a) {
    parts.push(h('span', { class: 'msg warn' }, `Assigned in Zoom to ${a.name} (${a.type}); the customer must unassign it.`));
  } else if (v.message) {
    parts.push(h('span', { class: `msg ${v.status === 'FAILED' ? 'bad' : ''}` }, v.message));
  }
  if (v.reason) parts.push(h('span', { class: 'sub muted' }, `Reason: ${v.reason}`));
  if (!parts.length) parts.push(h('span', { class: 'muted' }, '—'));
  return h('div', { class: 'msg' }, parts.flatMap((p, i) => (i ? [h('br'), p] : [p])));
}

/** The chosen customer's listing, with the search and filter the page shows (a bad search: none). */
function newListing() {
  listing = pagedListing(`/provider/v1/customers/${encodeURIComponent(customer)}/numbers`, auth);
  listing.set({ q: numberQuery($('list-search').value).q ?? '', status: $('list-filter').value });
}

/** A new search or status filter: checks the search, then reads from one page. */
function filterList() {
  const { q, error } = numberQuery($('list-search').value);
  $('list-search').setAttribute('aria-invalid', String(Boolean(error)));
  notice($('list-search-error'), 'error', error || '');
  if (error || !listing) return;
  listing.set({ q, status: $('list-filter').value });
  $('list-summary').textContent = 'Loading…';
  list.now();
}

function loadMore() {
  if (!listing) return;
  $('list-more').disabled = true;
  listing.more();
  list.now();
}

/** Reads the pages of the chosen customer's list shown so far; resolves whether what it shows changed. */
async function load() {
  if (!session || !customer || !listing) {
    $('list-table').hidden = true;
    $('list-empty').hidden = !session;
    $('list-more').hidden = true;
    return false;
  }
  const from = listing;
  let page;
  try {
    page = await from.read();
  } catch (err) {
    if (from === listing) {
      $('list-table').hidden = true;
      $('list-empty').hidden = true;
      $('list-more').hidden = true;
      $('list-summary').textContent = '';
      shown = '';
    }
    throw err;
  }
  if (!session || from !== listing || !page.current) return true;
  const { items, more } = page;
  notice($('app-error'), 'error', '');
  const { q, status } = from.filters();
  $('list-empty').textContent = q || status
    ? 'No numbers match the search and status filter.'
    : 'No numbers of this customer are under release.';
  $('list-empty').hidden = items.length > 0;
  $('list-table').hidden = items.length === 0;
  $('list-more').hidden = !more;
  $('list-more').disabled = false;
  $('list-summary').textContent = `${items.length === 1 ? '1 number' : `${items.length} numbers`} shown${more ? ' (more to load)' : ''} · refreshed ${clock()}`;
  const sig = JSON.stringify([customer, items]);
  if (sig === shown) return false;
  shown = sig;
  fill($('list-body'), items.map((v) => h('tr', { dataset: { number: v.number } },
    h('td', { dataset: { label: 'Number' } }, h('span', { class: 'number' }, v.number)),
    h('td', { dataset: { label: 'Status' } }, badge(v.status), h('br'), h('small', { class: 'muted' }, when(v.updated_at))),
    h('td', { dataset: { label: 'Details' } }, details(v)),
    h('td', {}, CANCELLABLE.has(v.status)
      ? h('button', {
        type: 'button', class: 'btn small danger', 'aria-label': `Cancel the release request for ${v.number}`,
        onclick: (e) => cancel(v.number, e.currentTarget),
      }, 'Cancel')
      : null))));
  return true;
}

function listError(err) {
  if (err?.status === 429) {
    const wait = err.retryAfter ? ` in ${err.retryAfter} s` : ' shortly';
    handleError(err, `The server asked to slow down; refreshing again${wait}`);
    return;
  }
  handleError(err, `Could not list the numbers of ${customer} (retrying)`);
}

async function cancel(number, button) {
  button.disabled = true;
  try {
    const res = await request(
      `/provider/v1/customers/${encodeURIComponent(customer)}/numbers/${numberSegment(number)}/release-request`,
      { method: 'DELETE', auth });
    notice($('request-result'), 'ok', `Request for ${res.number} withdrawn: it is ${res.status.toLowerCase()} and stays with the customer.`);
  } catch (err) {
    button.disabled = false;
    if (err?.status === 401) {
      handleError(err);
      return;
    }
    notice($('request-result'), 'error', `Could not cancel ${number}: ${err.message}`);
  }
  list.now();
}

// ---- requesting releases ------------------------------------------------------

function parseNumbers(text) {
  return text.split(/[\s,;]+/).map((s) => s.trim()).filter(Boolean);
}

/** Import from CSV: reads the chosen file, adds the numbers read to the list, says what was refused. */
async function importCsv(event) {
  const file = event.target.files?.[0];
  if (!file) return;
  let text;
  try {
    text = await file.text();
  } catch (err) {
    notice($('import-result'), 'error', `Could not read ${file.name}: ${err.message}`);
    return;
  }
  const { numbers, refused } = parseNumberCsv(text);
  const have = new Set(parseNumbers($('numbers').value));
  const added = numbers.filter((n) => !have.has(n));
  const current = $('numbers').value.trim();
  $('numbers').value = [current, ...added].filter(Boolean).join('\n');
  const read = `Read ${numbers.length === 1 ? '1 number' : `${numbers.length} numbers`} from ${file.name}`
    + `${added.length !== numbers.length ? ` (${numbers.length - added.length} already listed)` : ''}.`;
  if (!refused.length) {
    notice($('import-result'), 'ok', read);
  } else {
    const shown = refused.slice(0, 20);
    notice($('import-result'), 'error',
      `${read} ${refused.length === 1 ? '1 row was' : `${refused.length} rows were`} refused:`,
      h('ul', {}, shown.map((r) => h('li', {}, `row ${r.row}: ${r.value ? `"${r.value}"` : '(empty)'} — ${r.reason}`)),
        refused.length > shown.length ? h('li', {}, `and ${refused.length - shown.length} more`) : null));
  }
  event.target.value = '';
}

/** The API's limit of numbers in one release request. */
const REQUEST_LIMIT = 500;

function problemList(problem) {
  const items = [];
  for (const it of problem.invalid_numbers || []) items.push(`${it.value}: ${it.reason}`);
  for (const it of problem.conflicts || []) items.push(`${it.number}: ${it.reason} (${it.status})`);
  return items.length ? h('ul', {}, items.map((t) => h('li', {}, t))) : null;
}

async function requestRelease(event) {
  event.preventDefault();
  if (!customer) {
    notice($('request-result'), 'error', 'Choose a customer first.');
    $('customer').focus();
    return;
  }
  const numbers = parseNumbers($('numbers').value);
  if (!numbers.length) {
    notice($('request-result'), 'error', 'Enter at least one number.');
    $('numbers').focus();
    return;
  }
  const reason = $('reason').value.trim();
  $('request-btn').disabled = true;
  notice($('request-result'), 'info', 'Sending…');
  // Up to REQUEST_LIMIT numbers per request: a longer list becomes several requests.
  const chunks = [];
  for (let i = 0; i < numbers.length; i += REQUEST_LIMIT) chunks.push(numbers.slice(i, i + REQUEST_LIMIT));
  const done = [];
  try {
    for (const chunk of chunks) {
      const body = { customer_id: customer, numbers: chunk };
      if (reason) body.reason = reason;
      if (chunks.length > 1) notice($('request-result'), 'info', `Sending… ${done.reduce((k, r) => k + (r.numbers || []).length, 0)} of ${numbers.length} requested.`);
      done.push(await request('/provider/v1/release-requests', {
        method: 'POST', auth, body, headers: { 'Idempotency-Key': newKey() },
      }));
    }
    const ids = done.map((r) => r.request_id).join(', ');
    const all = done.flatMap((r) => r.numbers || []);
    notice($('request-result'), 'ok',
      `Release requested from ${customer} (request${done.length > 1 ? 's' : ''} ${ids}):`,
      all.length > 50
        ? h('p', {}, `${all.length} numbers, each ${[...new Set(all.map((n) => n.status))].join(' or ')}.`)
        : h('ul', {}, all.map((n) => h('li', {}, h('span', { class: 'number' }, n.number), ' — ', badge(n.status)))));
    $('numbers').value = '';
    $('reason').value = '';
    notice($('import-result'), '', '');
    list.now();
  } catch (err) {
    if (err?.status === 401) {
      handleError(err);
      return;
    }
    const sent = done.reduce((k, r) => k + (r.numbers || []).length, 0);
    const what = sent ? `${sent} of ${numbers.length} numbers were requested (${done.map((r) => r.request_id).join(', ')}); the rest were not` : 'Nothing was requested';
    notice($('request-result'), 'error', `${what}: ${err.message}`, problemList(err.problem || {}));
  } finally {
    $('request-btn').disabled = false;
  }
}

function chooseCustomer(event) {
  event.preventDefault();
  const c = $('customer').value;
  if (!c) {
    $('customer').focus();
    return;
  }
  customer = c;
  customerStore.set(c);
  showCustomer();
  newListing();
  fill($('list-body'));
  $('list-table').hidden = true;
  $('list-more').hidden = true;
  $('list-summary').textContent = 'Loading…';
  notice($('request-result'), '', '');
  shown = '';
  list.now();
}

// ---- the Requests view ------------------------------------------------------

/** A request's counts per status as small badges, in lifecycle order. */
const ORDER = ['PENDING_APPROVAL', 'RELEASING', 'WAITING_FOR_UNASSIGN', 'FAILED', 'RELEASED', 'REJECTED', 'CANCELLED', 'EXPIRED'];
function counts(c = {}) {
  const statuses = Object.keys(c).sort((a, b) => (ORDER.indexOf(a) + 1 || 99) - (ORDER.indexOf(b) + 1 || 99));
  if (!statuses.length) return h('span', { class: 'muted' }, '—');
  return h('ul', { class: 'counts' }, statuses.map((st) => h('li', {},
    h('span', { class: `badge s-${st}`, title: st, dataset: { status: st, count: String(c[st]) } },
      h('span', { class: 'n' }, String(c[st])), statusLabel(st)))));
}

/** Reads and shows the page of requests the pager is on. */
async function loadRequests() {
  if (!session) return;
  const cursor = pages[page];
  $('requests-summary').textContent = 'Loading…';
  let data;
  try {
    data = await request(`/provider/v1/release-requests?limit=20${cursor ? `&cursor=${encodeURIComponent(cursor)}` : ''}`, { auth });
  } catch (err) {
    $('requests-summary').textContent = '';
    handleError(err, 'Could not list your release requests');
    return;
  }
  if (!session) return;
  notice($('app-error'), 'error', '');
  const items = data.items || [];
  pages = pages.slice(0, page + 1);
  if (data.next_cursor) pages.push(data.next_cursor);
  $('requests-newer').disabled = page === 0;
  $('requests-older').disabled = !data.next_cursor;
  $('requests-empty').hidden = items.length > 0 || page > 0;
  $('requests-table').hidden = items.length === 0;
  $('requests-summary').textContent = `${page === 0 ? 'Newest first' : `Page ${page + 1}, newest first`} · refreshed ${clock()}`;
  fill($('requests-body'), items.map((r) => h('tr', { dataset: { requestId: r.request_id } },
    h('td', { dataset: { label: 'Created' } }, when(r.created_at)),
    h('td', { dataset: { label: 'Customer' } }, r.customer_id),
    h('td', { dataset: { label: 'Numbers by status' } }, counts(r.counts)),
    h('td', { dataset: { label: 'Reason' } }, r.reason ? r.reason : h('span', { class: 'muted' }, '—')),
    h('td', {}, h('button', {
      type: 'button', class: 'btn small', 'aria-label': `Open the request ${r.request_id} to ${r.customer_id}`,
      onclick: () => openRequest(r.request_id),
    }, 'Open')))));
}

function turnPage(step) {
  page = Math.max(0, Math.min(pages.length - 1, page + step));
  loadRequests();
}

/** Shows one request with its numbers. */
async function openRequest(id, { keepResult = false } = {}) {
  opened = id;
  if (!keepResult) notice($('cancel-result'), '', '');
  let r;
  try {
    r = await request(`/provider/v1/release-requests/${encodeURIComponent(id)}`, { auth });
  } catch (err) {
    handleError(err, 'Could not open the request');
    return;
  }
  if (!session || opened !== id) return;
  notice($('app-error'), 'error', '');
  $('requests-list').hidden = true;
  $('request-view').hidden = false;
  $('request-view-id').textContent = r.request_id;
  $('request-view-customer').textContent = r.customer_id;
  fill($('request-view-created'), when(r.created_at, true));
  $('request-view-reason').textContent = r.reason || '—';
  fill($('request-numbers'), (r.numbers || []).map((n) => h('tr', { dataset: { number: n.number } },
    h('td', { dataset: { label: 'Number' } }, h('span', { class: 'number' }, n.number)),
    h('td', { dataset: { label: 'Status' } }, badge(n.status)),
    h('td', { dataset: { label: 'Message' } }, n.message ? h('span', { class: 'msg' }, n.message) : h('span', { class: 'muted' }, '—')))));
  $('request-cancel').disabled = !(r.numbers || []).some((n) => CANCELLABLE.has(n.status));
  if (!keepResult) $('request-view-title').focus();
}

/** Back from a request to the listing (read again: its counts may have moved). */
function closeRequest() {
  opened = null;
  $('request-view').hidden = true;
  $('requests-list').hidden = false;
  notice($('cancel-result'), '', '');
}

async function cancelRequest() {
  $('cancel-dialog').close();
  const id = opened;
  if (!id) return;
  $('request-cancel').disabled = true;
  notice($('cancel-result'), 'info', 'Cancelling…');
  try {
    const res = await request(`/provider/v1/release-requests/${encodeURIComponent(id)}`, { method: 'DELETE', auth });
    const results = res.results || [];
    const done = results.filter((x) => !x.error).length;
    notice($('cancel-result'), done === results.length ? 'ok' : 'warn',
      `Request cancelled: ${done} of ${results.length} ${results.length === 1 ? 'number' : 'numbers'} withdrawn.`,
      h('ul', { class: 'cancel-results' }, results.map((x) => h('li', { dataset: { number: x.number } },
        h('span', { class: 'number' }, x.number), ' — ',
        x.error ? h('span', { class: 'result-error' }, `not cancelled: ${x.error.detail}`) : badge(x.status)))));
  } catch (err) {
    if (err?.status === 401) {
      handleError(err);
      return;
    }
    notice($('cancel-result'), 'error', `Nothing was cancelled: ${err.message}`);
  }
  list.now();
  if (opened === id) await openRequest(id, { keepResult: true });
}

function showView(tab) {
  if (tab === 'tab-requests' && session) {
    if (opened) openRequest(opened, { keepResult: true });
    else loadRequests();
  }
}

function init() {
  signin = signInPanel(auth, {
    role: 'provider',
    forWhom: 'providers (carriers)',
    otherPage: (who) => (who.role === 'customer_admin' ? { href: '/', text: 'Open the customer app' } : null),
    onSignedIn: startApp,
  });
  $('customer-form').addEventListener('submit', chooseCustomer);
  $('customer').addEventListener('change', chooseCustomer);
  $('request-form').addEventListener('submit', requestRelease);
  $('numbers-file').addEventListener('change', importCsv);
  $('list-search').addEventListener('input', debounce(filterList, 300));
  $('list-filter').addEventListener('change', filterList);
  $('list-more').addEventListener('click', loadMore);
  views = setupTabs($('views'), showView);
  $('requests-refresh').addEventListener('click', () => loadRequests());
  $('requests-newer').addEventListener('click', () => turnPage(-1));
  $('requests-older').addEventListener('click', () => turnPage(1));
  $('request-back').addEventListener('click', () => {
    closeRequest();
    loadRequests();
    $('requests-title').focus();
  });
  $('request-cancel').addEventListener('click', () => $('cancel-dialog').showModal());
  $('cancel-dialog-keep').addEventListener('click', () => $('cancel-dialog').close());
  $('cancel-dialog-confirm').addEventListener('click', cancelRequest);
  list = poller(load, { ...POLL, onError: listError });
  // Coming back to the page reads at once (and from the shortest wait).
  const back = () => {
    if (!document.hidden && session) list.now();
  };
  document.addEventListener('visibilitychange', back);
  window.addEventListener('focus', back);
  signin.start();
}

init();
