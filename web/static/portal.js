// The management portal (provider view): a carrier lists a linked customer's
// numbers under release, asks for more numbers back and withdraws requests.
// Uses only the public API, signed in through the identity provider
// (signin.js); the provider id comes from the sign-in.
import {
  ApiError, request, fetchAll, stored, numberSegment, newKey, h, fill,
  badge, when, notice, clock, poller,
} from './lib.js';
import { createAuth, signInPanel } from './signin.js';

// The list is read one request per page: every 2 s after a change, twice
// as long each time nothing changed, up to 30 s; at once after an action
// or when the page is shown again; never before a 429's Retry-After.
const POLL = { min: 2000, max: 30000 };
const CANCELLABLE = new Set(['PENDING_APPROVAL', 'WAITING_FOR_UNASSIGN', 'FAILED']);

// The sign-in: tokens in sessionStorage (nr.provider.tokens), renewed as needed.
const auth = createAuth({ key: 'nr.provider', path: '/portal' });
const customerStore = stored('nr.provider.customer'); // the customer last shown
const $ = (id) => document.getElementById(id);

let session = null; // who is signed in ({email, providerId, ...}) while the app runs
let signin = null; // the sign-in panel (signin.js)
let customer = 'acme';
let list = null; // the poller of the customer's list
let shown = ''; // what the list shows, to tell whether a poll changed it

// ---- session ------------------------------------------------------------------

/** Stops the app and forgets what it showed (the sign-in panel comes next). */
function stopApp() {
  list.stop();
  shown = '';
  session = null;
  fill($('list-body'));
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

function startApp(who) {
  session = who;
  customer = customerStore.get() || customer;
  $('customer').value = customer;
  showCustomer();
  list.start();
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

/** Reads the chosen customer's list (every page); resolves whether what it shows changed. */
async function load() {
  if (!session) return false;
  const forCustomer = customer;
  let items;
  try {
    items = await fetchAll(`/provider/v1/customers/${encodeURIComponent(forCustomer)}/numbers`, auth);
  } catch (err) {
    if (forCustomer === customer) {
      $('list-table').hidden = true;
      $('list-empty').hidden = true;
      $('list-summary').textContent = '';
      shown = '';
    }
    throw err;
  }
  if (!session || forCustomer !== customer) return true;
  notice($('app-error'), 'error', '');
  $('list-empty').hidden = items.length > 0;
  $('list-table').hidden = items.length === 0;
  $('list-summary').textContent = `${items.length === 1 ? '1 number' : `${items.length} numbers`} · refreshed ${clock()}`;
  const sig = JSON.stringify([forCustomer, items]);
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

function problemList(problem) {
  const items = [];
  for (const it of problem.invalid_numbers || []) items.push(`${it.value}: ${it.reason}`);
  for (const it of problem.conflicts || []) items.push(`${it.number}: ${it.reason} (${it.status})`);
  return items.length ? h('ul', {}, items.map((t) => h('li', {}, t))) : null;
}

async function requestRelease(event) {
  event.preventDefault();
  const numbers = parseNumbers($('numbers').value);
  if (!numbers.length) {
    notice($('request-result'), 'error', 'Enter at least one number.');
    $('numbers').focus();
    return;
  }
  const body = { customer_id: customer, numbers };
  const reason = $('reason').value.trim();
  if (reason) body.reason = reason;
  $('request-btn').disabled = true;
  notice($('request-result'), 'info', 'Sending…');
  try {
    const res = await request('/provider/v1/release-requests', {
      method: 'POST', auth, body, headers: { 'Idempotency-Key': newKey() },
    });
    notice($('request-result'), 'ok',
      `Release requested from ${customer} (request ${res.request_id}):`,
      h('ul', {}, (res.numbers || []).map((n) => h('li', {}, h('span', { class: 'number' }, n.number), ' — ', badge(n.status)))));
    $('numbers').value = '';
    $('reason').value = '';
    list.now();
  } catch (err) {
    if (err?.status === 401) {
      handleError(err);
      return;
    }
    notice($('request-result'), 'error', `Nothing was requested: ${err.message}`, problemList(err.problem || {}));
  } finally {
    $('request-btn').disabled = false;
  }
}

function chooseCustomer(event) {
  event.preventDefault();
  const c = $('customer').value.trim();
  if (!c) {
    $('customer').focus();
    return;
  }
  customer = c;
  customerStore.set(c);
  showCustomer();
  fill($('list-body'));
  $('list-table').hidden = true;
  $('list-summary').textContent = 'Loading…';
  notice($('request-result'), '', '');
  shown = '';
  list.now();
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
