// The customer app: a customer's phone admin approves or rejects the release
// of numbers the carrier asked for ("Wait for Release"), follows each number
// until it settles, and reads its history; in Settings they connect the
// company's Zoom account (OAuth: Zoom's consent page sends the browser back
// here with a code) or disconnect it. Uses only the public API, signed in
// through the identity provider (signin.js); the identity provider's own
// sign-in also comes back here with ?code&state, told apart from Zoom's by
// its state.
import {
  ApiError, request, fetchAll, stored, numberSegment, h, fill, badge, when, setupTabs, notice,
  clock, poller, oauthReturn, navigationUrl, numberQuery, pagedListing, debounce,
} from './lib.js';
import { createAuth, signInPanel } from './signin.js';

// The app reads lists, one request per page of 100 numbers, never one
// request per number: every 2 s after a change, twice as long each time
// nothing changed, up to 30 s; at once after the user acts or comes back
// to the page; never before a 429's Retry-After (lib.js poller).
const POLL = { min: 2000, max: 30000 };
const IN_FLIGHT = new Set(['RELEASING', 'WAITING_FOR_UNASSIGN']);
const ACTIONABLE = new Set(['PENDING_APPROVAL', 'WAITING_FOR_UNASSIGN', 'FAILED']);
// Wait for Release lists, from the server, what needs the admin (waiting for
// approval, still assigned in Zoom, failed) and what is being released.
const WAIT_STATUSES = ['PENDING_APPROVAL', 'WAITING_FOR_UNASSIGN', 'FAILED', 'RELEASING'];
// The API's limit of numbers per approval or rejection.
const CHUNK = 500;

// The sign-in: tokens in sessionStorage (nr.customer.tokens), renewed as needed.
const auth = createAuth({ key: 'nr.customer', path: '/' });
// Zoom's redirect back ({code, state}, or {error, description}) from the
// moment the page reads it off the address until it is sent (after sign-in
// if need be, across the round trip to the sign-in page). Never shown, never
// logged.
const zoomReturnStore = stored('nr.customer.zoom-return');
// While releases are under way the connection is read again at most this
// often (a Zoom admin can remove the app from the account any time).
const CONNECTION_RECHECK = 30000;

const $ = (id) => document.getElementById(id);

let session = null; // who is signed in ({email, tenantId, ...}) while the app runs
let signin = null; // the sign-in panel (signin.js)
let tabs = null;
let busy = false;
let tick = 0; // orders requests: an answer older than a row's data is ignored
let waitPoll = null; // the customer's numbers: Wait for Release and the numbers acted on
let otherPoll = null; // the All numbers or Released tab while shown

/** number → {number, view, error, acted, tick} */
const rows = new Map();
/** number → the row's elements */
const rowEls = new Map();
const selected = new Set();

/** The Zoom connection as last read: {view} or {error}; null before the first answer. */
let connection = null;
let connectionRead = 0; // when it was last asked for (Date.now())
let connectionTick = 0; // orders connection answers: only the newest request's answer is shown
let connectionSig = ''; // what the Settings section shows, to redraw only on a change
let zoomBusy = false; // connecting or disconnecting
let bannerShown = false;

// ---- session ----------------------------------------------------------------

/** Stops the app and forgets what it showed (the sign-in panel comes next). */
function stopApp() {
  stopTimers();
  session = null;
  lastAction = null;
  actedNow = new Set();
  notice($('action-progress'), '', '');
  rows.clear();
  rowEls.clear();
  selected.clear();
  $('wait-body').replaceChildren();
  notice($('action-status'), 'info', '');
  notice($('app-error'), 'error', '');
  if ($('details').open) $('details').close();
  if ($('disconnect-dialog').open) $('disconnect-dialog').close();
  connection = null;
  connectionRead = 0;
  connectionTick++;
  zoomBusy = false;
  notice($('zoom-result'), '', '');
  renderConnection();
  renderBanner();
}

/** Handles an API failure: a lost session goes back to sign-in, anything else is shown. */
function handleError(err, what) {
  if (err instanceof ApiError && err.status === 401) {
    // The session expired (the renewal was refused), or the API refused the
    // token even after a renewal.
    if (!session) return;
    stopApp();
    signin.ended(err);
    return;
  }
  notice($('app-error'), 'error', what ? `${what}: ${err.message}` : err.message);
}

function clearError() {
  notice($('app-error'), 'error', '');
}

function startApp(who) {
  session = who;
  tabs.select('tab-wait');
  if (zoomReturnStore.get()) {
    // Back from Zoom's consent page: finish connecting first (the lists
    // wait one request), so that a lost session is handled once.
    completeZoomReturn().finally(() => {
      if (session) waitPoll.start();
    });
    return;
  }
  waitPoll.start();
  loadConnection();
}

function stopTimers() {
  waitPoll?.stop();
  otherPoll?.stop();
}


// ---- messages -----------------------------------------------------------------

/** What the customer should read about a number: {cls, text, sub, spin}. */
function messageFor(view, error) {
  if (error?.code === 'unavailable') {
    return { cls: 'bad', text: error.detail || error.code, sub: 'Select it and try again in a minute; trying twice is safe.' };
  }
  if (error) {
    return { cls: 'bad', text: error.detail || error.code, sub: `Nothing changed for this number (${error.code}).` };
  }
  const a = view?.zoom_assignee;
  switch (view?.status) {
    case 'RELEASED':
      return { cls: 'ok', text: 'Released', sub: 'Removed from your Zoom account and returned to the carrier.' };
    case 'WAITING_FOR_UNASSIGN':
      return {
        cls: 'warn',
        text: view.message || (a ? `assigned in Zoom to ${a.name} (${a.type}) — unassign it in Zoom first`
          : 'assigned in Zoom — unassign it in Zoom first'),
        sub: `Unassign it in Zoom${a?.extension_number ? ` (extension ${a.extension_number})` : ''}: the release then completes by itself. Release numbers checks it again at once.`,
      };
    case 'RELEASING':
      // A release that waits for something (the Zoom connection, say) says what.
      if (view.message) return { cls: 'warn', text: view.message, sub: 'The release continues by itself once that is done.' };
      return { cls: '', text: 'Checking Zoom and releasing…', spin: true };
    case 'FAILED':
      return { cls: 'bad', text: `Failed: ${view.message || 'the release could not be completed'}`, sub: 'Select it and click Release numbers to try again.' };
    case 'REJECTED':
      return { cls: '', text: 'Rejected — the number stays with you.', sub: view.message || '' };
    case 'CANCELLED':
      return { cls: '', text: 'The carrier withdrew this request.' };
    case 'EXPIRED':
      return { cls: '', text: 'The request expired unanswered — the number stays with you.', sub: view.message || '' };
    case 'PENDING_APPROVAL':
      if (view.message) return { cls: 'warn', text: view.message };
      return { cls: 'muted', text: view.reason ? `Reason: ${view.reason}` : 'Waiting for your approval.' };
    default:
      return { cls: 'muted', text: 'Loading…' };
  }
}

function messageNodes(m) {
  return [m.spin ? h('span', { class: 'spinner', 'aria-hidden': 'true' }) : null, h('span', { class: 'text' }, m.text),
    m.sub ? h('span', { class: 'sub' }, m.sub) : null];
}

// ---- rows of the Wait for Release tab ----------------------------------------

/** Applies server data to a row unless a newer answer already did. */
function apply(row, view, t) {
  if (t < row.tick) return;
  row.view = view;
  row.tick = t;
}

function statusOf(row) {
  return row.view?.status;
}

function makeRowEls(n) {
  const cb = h('input', { type: 'checkbox', 'aria-label': `Select ${n}`, onchange: (e) => toggle(n, e.target.checked) });
  const status = h('td', { dataset: { label: 'Status' } });
  const requester = h('td', { dataset: { label: 'Requested by' } });
  const msg = h('div', { class: 'msg', 'aria-live': 'polite', dataset: { number: n } });
  const numberBtn = h('button', {
    type: 'button', class: 'linklike number', 'aria-haspopup': 'dialog', title: 'Show details and history',
    onclick: () => showDetails(n),
  }, n);
  const tr = h('tr', { dataset: { number: n } },
    h('td', { class: 'check' }, cb),
    h('td', { dataset: { label: 'Number' } }, numberBtn),
    status, requester,
    h('td', { dataset: { label: 'Message' } }, msg));
  return { tr, cb, status, requester, msg, sig: {} };
}

function updateRowEls(row, els) {
  const st = statusOf(row);
  const statusSig = `${st}|${row.error ? row.error.code : ''}`;
  if (els.sig.status !== statusSig) {
    els.sig.status = statusSig;
    fill(els.status, st ? badge(st) : h('span', { class: 'muted' }, '…'));
  }
  const reqSig = `${row.view?.provider_id}|${row.view?.requested_at}`;
  if (els.sig.req !== reqSig && row.view?.provider_id) {
    els.sig.req = reqSig;
    fill(els.requester, h('span', {}, row.view.provider_id), h('br'), h('small', { class: 'muted' }, when(row.view.requested_at)));
  }
  const m = messageFor(row.view, row.error);
  const msgSig = `${m.cls}|${m.text}|${m.sub || ''}`;
  if (els.sig.msg !== msgSig) {
    els.sig.msg = msgSig;
    els.msg.className = `msg ${m.cls}`.trim();
    fill(els.msg, messageNodes(m));
  }
  els.cb.checked = selected.has(row.number);
  els.cb.disabled = busy;
  els.tr.classList.toggle('selected', els.cb.checked);
}

/** Whether a row passes the search and status filter of Wait for Release. */
function shown(row) {
  const q = $('wait-search').value.replace(/[^0-9]/g, '');
  const st = $('wait-filter').value;
  if (q && !row.number.replace(/[^0-9]/g, '').includes(q)) return false;
  // The numbers of the last action stay in sight, whatever their status now.
  if (st && statusOf(row) !== st && !actedNow.has(row.number)) return false;
  return true;
}

function render() {
  const list = [...rows.values()].sort((a, b) => a.number.localeCompare(b.number));
  const body = $('wait-body');
  for (const [n, els] of rowEls) {
    if (!rows.has(n)) {
      els.tr.remove();
      rowEls.delete(n);
      selected.delete(n);
    }
  }
  list.forEach((row, i) => {
    let els = rowEls.get(row.number);
    if (!els) {
      els = makeRowEls(row.number);
      rowEls.set(row.number, els);
    }
    updateRowEls(row, els);
    els.tr.hidden = !shown(row);
    if (body.children[i] !== els.tr) body.insertBefore(els.tr, body.children[i] || null);
  });
  const pending = list.filter((r) => ACTIONABLE.has(statusOf(r))).length;
  const visible = list.filter(shown).length;
  $('wait-shown').textContent = visible === list.length ? '' : `${visible} of ${list.length} shown`;
  $('count-wait').textContent = pending ? String(pending) : '';
  $('wait-empty').hidden = pending > 0;
  $('wait-empty').classList.toggle('compact', list.length > 0);
  $('wait-wrap').hidden = list.length === 0;
  $('clear-btn').hidden = !list.some((r) => r.acted && !IN_FLIGHT.has(statusOf(r)));
  updateToolbar();
  renderBanner();
}

/** The rows an action can apply to, among those the search and filter show. */
function actionableRows() {
  return [...rows.values()].filter((r) => ACTIONABLE.has(statusOf(r)) && shown(r));
}

function updateToolbar() {
  const n = selected.size;
  $('release-btn').disabled = busy || n === 0;
  $('reject-btn').disabled = busy || n === 0;
  $('selection-summary').textContent = n ? `${n} selected` : 'Select the numbers to release.';
  const all = $('select-all');
  const actionable = actionableRows();
  const chosen = actionable.filter((r) => selected.has(r.number)).length;
  all.disabled = busy || actionable.length === 0;
  all.checked = actionable.length > 0 && chosen === actionable.length;
  all.indeterminate = chosen > 0 && chosen < actionable.length;
  for (const els of rowEls.values()) els.cb.disabled = busy;
}

function toggle(n, on) {
  if (on) selected.add(n);
  else selected.delete(n);
  render();
}

function selectAll(on) {
  selected.clear();
  if (on) for (const r of actionableRows()) selected.add(r.number);
  render();
}

function clearFinished() {
  for (const [n, r] of rows) {
    if (r.acted && !IN_FLIGHT.has(statusOf(r))) {
      if (ACTIONABLE.has(statusOf(r))) {
        r.acted = false;
        r.error = null;
      } else {
        rows.delete(n);
      }
    }
  }
  lastAction = null;
  actedNow = new Set();
  notice($('action-status'), 'info', '');
  notice($('action-progress'), '', '');
  render();
}

// ---- loading and polling ------------------------------------------------------

/** What the Wait for Release rows show, to tell whether a poll changed anything. */
function rowsSignature() {
  return JSON.stringify([...rows.values()].map((r) => [r.number, r.acted, r.error?.code, r.view?.status,
    r.view?.message, r.view?.zoom_assignee?.name, r.view?.updated_at]).sort());
}

/** Whether the API takes several statuses in one listing (null: not known yet). */
let multiStatus = null;

/**
 * The customer's numbers in WAIT_STATUSES, every page: one listing with the
 * statuses comma-separated, or, where the API does not take that (400), one
 * listing per status.
 */
async function fetchWaiting() {
  if (multiStatus !== false) {
    try {
      const items = await fetchAll(`/v1/numbers?status=${WAIT_STATUSES.join(',')}`, auth, { maxPages: 1000 });
      multiStatus = true;
      return items;
    } catch (err) {
      if (!(err instanceof ApiError) || err.status !== 400 || multiStatus === true) throw err;
      multiStatus = false;
    }
  }
  // One after the other: a refusal (a 429 say) stops the rest.
  const items = [];
  for (const st of WAIT_STATUSES) items.push(...await fetchAll(`/v1/numbers?status=${st}`, auth, { maxPages: 1000 }));
  return items;
}

// A number acted on that has left the listing and whose end is not known
// from its last status is read on its own; at most this many per refresh.
const MAX_SINGLE_READS = 20;

/**
 * Reads what waits for the admin (fetchWaiting): those numbers become rows,
 * whoever acted on them and in whichever session. A number this page acted
 * on stays as a row with its outcome: a release that leaves the listing
 * (from Releasing, Assigned in Zoom or Failed) has been released; a number
 * whose end is not known that way (say the carrier withdrew it) is read on
 * its own. Resolves whether anything shown changed.
 */
async function refreshNumbers() {
  if (!session) return false;
  const before = rowsSignature();
  const t = ++tick;
  const items = await fetchWaiting();
  if (!session) return false;
  clearError();
  const listed = new Map(items.map((v) => [v.number, v]));
  for (const v of items) {
    if (!rows.has(v.number)) rows.set(v.number, { number: v.number, view: v, error: null, acted: false, tick: t });
  }
  const unknown = [];
  for (const [n, r] of rows) {
    if (r.tick > t) continue;
    const v = listed.get(n);
    if (v) {
      apply(r, v, t);
    } else if (!r.acted) {
      rows.delete(n);
    } else if (IN_FLIGHT.has(statusOf(r)) || statusOf(r) === 'FAILED') {
      apply(r, { ...(r.view || { number: n }), status: 'RELEASED', message: '', zoom_assignee: null }, t);
    } else if (statusOf(r) === 'PENDING_APPROVAL' || !statusOf(r)) {
      if (r.error?.code !== 'not_found') unknown.push(r);
    }
  }
  await Promise.all(unknown.slice(0, MAX_SINGLE_READS).map(async (r) => {
    try {
      apply(r, await request(`/v1/numbers/${numberSegment(r.number)}`, { auth }), t);
    } catch (err) {
      if (err?.status !== 404) throw err;
      r.error = { code: 'not_found', detail: 'This number is no longer under release.' };
    }
  }));
  if (!session) return false;
  render();
  renderOutcome();
  // A release may be waiting for the Zoom connection: keep the banner true.
  if ([...rows.values()].some((r) => statusOf(r) === 'RELEASING')) recheckConnection();
  return rowsSignature() !== before;
}

/** Shows a polling failure; a lost session goes back to sign-in. */
function pollError(err, what) {
  if (err?.status === 401) {
    handleError(err);
  } else if (err?.status === 429) {
    const wait = err.retryAfter ? ` in ${err.retryAfter} s` : ' shortly';
    handleError(err, `The server asked to slow down; refreshing again${wait}`);
  } else {
    handleError(err, `${what} (retrying)`);
  }
}

// ---- actions ------------------------------------------------------------------

// A large action can run out of the server's time: the numbers it did not
// reach or confirm come back "unavailable" (send it again), and sending
// them again is safe. sendAll does so a few times, 2, 4 and 8 s apart, and
// returns one answer per number.
const RESEND_ROUNDS = 3;

async function sendAll(kind, numbers, reason) {
  const answers = new Map();
  let todo = numbers;
  for (let round = 0; round <= RESEND_ROUNDS && todo.length; round++) {
    if (round > 0) await new Promise((resolve) => setTimeout(resolve, 2000 * 2 ** (round - 1))); // a slow service gets air
    let res;
    const body = { numbers: todo };
    if (reason) body.reason = reason;
    try {
      res = await request(`/v1/numbers/${kind}`, { method: 'POST', auth, body });
    } catch (err) {
      // A busy service (503, 429) on a later round: keep the answers so far,
      // the numbers still to do say "send it again".
      if (round === 0 || (err?.status !== 503 && err?.status !== 429)) throw err;
      break;
    }
    for (const r of res.results || []) answers.set(r.number, r);
    todo = (res.results || []).filter((r) => r.error?.code === 'unavailable').map((r) => r.number);
  }
  return [...answers.values()];
}

const plural = (n, one, many = `${one}s`) => `${n} ${n === 1 ? one : many}`;

// ---- confirmation -------------------------------------------------------------

/**
 * Asks for confirmation of a release or rejection of `count` numbers in the
 * confirmation dialog; resolves {reason} when confirmed, null when not.
 */
function confirmAction(kind, count) {
  const dlg = $('confirm-dialog');
  const numbers = plural(count, 'number');
  const release = kind === 'release';
  $('confirm-title').textContent = release ? `Release ${numbers}?` : `Reject ${numbers}?`;
  $('confirm-text').textContent = release
    ? `${numbers} will be removed from your Zoom account and returned to your carrier (a number still assigned in Zoom is released once you unassign it there). This cannot be undone: a released number cannot be reclaimed.`
    : `Your carrier's request for ${numbers} will be turned down; the ${count === 1 ? 'number stays' : 'numbers stay'} with you. This cannot be undone: the carrier must ask again to release ${count === 1 ? 'it' : 'them'}.`;
  $('confirm-reason-field').hidden = release;
  $('confirm-reason').value = '';
  const ok = $('confirm-ok');
  ok.textContent = release ? `Release ${numbers}` : `Reject ${numbers}`;
  ok.className = `btn ${release ? 'primary' : 'danger'}`;
  return new Promise((resolve) => {
    const done = (value) => {
      dlg.removeEventListener('close', onClose);
      $('confirm-form').removeEventListener('submit', onSubmit);
      $('confirm-cancel').removeEventListener('click', onCancel);
      resolve(value);
    };
    const onSubmit = (e) => {
      e.preventDefault();
      const reason = $('confirm-reason').value.trim().slice(0, 500);
      dlg.close();
      done({ reason: release ? '' : reason });
    };
    const onCancel = () => {
      dlg.close();
    };
    const onClose = () => done(null);
    dlg.addEventListener('close', onClose);
    $('confirm-form').addEventListener('submit', onSubmit);
    $('confirm-cancel').addEventListener('click', onCancel);
    dlg.showModal();
  });
}

// ---- the outcome of the last approval ------------------------------------------

/** The numbers of the action under way or the last one. */
let actedNow = new Set();

/** The last action: {kind, numbers, refused, failed} (failed: the numbers whose request failed as a whole). */
let lastAction = null;

/**
 * The seed's summary of the last approval, from the per-number results and
 * the rows' statuses as they settle: released, still assigned in Zoom (to
 * whom), refused, and still being released.
 */
function approvalOutcome(a) {
  let released = 0;
  let refused = 0;
  let releasing = 0;
  let failed = 0;
  const assigned = [];
  for (const n of a.numbers) {
    const r = rows.get(n);
    if (!r || r.error || a.failed.has(n)) {
      refused++;
      continue;
    }
    switch (statusOf(r)) {
      case 'RELEASED': released++; break;
      case 'WAITING_FOR_UNASSIGN': assigned.push(r.view?.zoom_assignee?.name || 'someone'); break;
      case 'FAILED': failed++; break;
      default: releasing++;
    }
  }
  const names = [...new Set(assigned)].sort();
  const parts = [`${released} released`];
  const to = names.length ? ` (to ${names.slice(0, 5).join(', ')}${names.length > 5 ? ` and ${names.length - 5} more` : ''})` : '';
  parts.push(assigned.length ? `${assigned.length} still assigned in Zoom${to} — unassign them in Zoom and they will be released` : '0 still assigned in Zoom');
  parts.push(`${refused} refused`);
  let text = parts.join(', ');
  if (failed) text += `, ${failed} failed`;
  if (releasing) text += `; ${releasing} still being released`;
  return text;
}

function renderOutcome() {
  if (!lastAction || busy) return;
  const a = lastAction;
  const numbers = plural(a.ok, 'number');
  let text;
  if (a.kind === 'release') {
    text = `Release approved for ${numbers}. ${approvalOutcome(a)}.`;
  } else {
    text = `Rejected ${numbers}.`;
    if (a.refused) text += ` ${a.refused === 1 ? '1 number was' : `${a.refused} numbers were`} not changed: see the message next to it.`;
  }
  if (a.kind === 'release' && a.refused) text += ` ${a.refused === 1 ? '1 number was' : `${a.refused} numbers were`} not changed: see the message next to it.`;
  const kind = a.refused ? 'error' : 'info';
  if ($('action-status').textContent !== text) notice($('action-status'), kind, text);
}

async function act(kind) {
  const numbers = [...selected].sort();
  if (!numbers.length || busy) return;
  const answer = await confirmAction(kind, numbers.length);
  if (!answer || !session || busy) return;
  busy = true;
  lastAction = null;
  actedNow = new Set(numbers);
  render();
  const verb = kind === 'release' ? 'Release' : 'Rejection';
  notice($('action-status'), 'info', `${verb} of ${plural(numbers.length, 'number')} requested…`);
  const t = ++tick;
  let ok = 0;
  let refused = 0;
  const failed = new Set();
  const chunks = [];
  for (let i = 0; i < numbers.length; i += CHUNK) chunks.push(numbers.slice(i, i + CHUNK));
  let sent = 0;
  const progress = () => notice($('action-progress'), 'info',
    `${sent} of ${numbers.length} sent${chunks.length > 1 ? ` (${CHUNK} per request)` : ''}: ${ok} accepted, ${refused} refused.`);
  try {
    progress();
    for (const chunk of chunks) {
      let results;
      try {
        results = await sendAll(kind, chunk, answer.reason);
      } catch (err) {
        if (err?.status === 401) throw err;
        // This chunk failed as a whole: each of its numbers says so; the rest go on.
        results = chunk.map((n) => ({ number: n, error: { code: err?.problem?.code || 'error', detail: err.message } }));
        for (const n of chunk) failed.add(n);
      }
      if (!session) return;
      for (const r of results) {
        let row = rows.get(r.number);
        if (!row) {
          row = { number: r.number, view: null, error: null, acted: true, tick: 0 };
          rows.set(r.number, row);
        }
        row.acted = true;
        selected.delete(r.number);
        if (r.error) {
          row.error = r.error;
          row.view = row.view || { number: r.number };
          refused++;
        } else {
          row.error = null;
          // The answer's status, with its message and Zoom assignee when it gives them.
          const view = { ...(row.view || { number: r.number }), status: r.status };
          if (r.status !== statusOf(row) || 'message' in r) view.message = r.message || '';
          if (r.status !== statusOf(row) || r.zoom_assignee) view.zoom_assignee = r.zoom_assignee || null;
          apply(row, view, t);
          ok++;
        }
      }
      sent += chunk.length;
      progress();
      render();
    }
    clearError();
    selected.clear();
    lastAction = { kind, numbers, ok, refused, failed };
  } catch (err) {
    notice($('action-status'), 'info', '');
    handleError(err, kind === 'release' ? 'Could not release the numbers' : 'Could not reject the numbers');
  } finally {
    busy = false;
    if (session) {
      render();
      renderOutcome();
      // Read the list at once for each number's message, then follow them.
      waitPoll.now();
    }
  }
}

// ---- details and history ------------------------------------------------------

async function showDetails(n) {
  const dlg = $('details');
  $('details-title').textContent = n;
  const body = $('details-body');
  fill(body, h('p', { class: 'muted' }, 'Loading…'));
  if (!dlg.open) dlg.showModal();
  const t = ++tick;
  try {
    const d = await request(`/v1/numbers/${numberSegment(n)}`, { auth });
    const row = rows.get(n);
    if (row) {
      apply(row, d, t);
      render();
    }
    fill(body, detailsView(d));
  } catch (err) {
    if (err?.status === 401) {
      dlg.close();
      handleError(err);
      return;
    }
    fill(body, h('div', { class: 'notice error', role: 'alert' }, err.message));
  }
}

function detailsView(d) {
  const a = d.zoom_assignee;
  const m = messageFor(d, null);
  const props = h('dl', { class: 'props' },
    h('dt', {}, 'Status'), h('dd', {}, badge(d.status)),
    h('dt', {}, 'Message'), h('dd', { class: `msg ${m.cls}` }, h('span', { class: 'text' }, m.text)),
    a ? [h('dt', {}, 'Assigned in Zoom to'), h('dd', {}, `${a.name} (${a.type})${a.extension_number ? `, extension ${a.extension_number}` : ''}`)] : null,
    h('dt', {}, 'Requested by'), h('dd', {}, d.provider_id),
    d.reason ? [h('dt', {}, 'Reason'), h('dd', {}, d.reason)] : null,
    h('dt', {}, 'Requested'), h('dd', {}, when(d.requested_at, true)),
    h('dt', {}, 'Last change'), h('dd', {}, when(d.updated_at, true)),
    h('dt', {}, 'Request id'), h('dd', { class: 'number' }, d.request_id));
  const history = [...(d.history || [])].sort((x, y) => x.version - y.version);
  const table = h('table', { class: 'list stack history' },
    h('caption', { class: 'visually-hidden' }, `History of ${d.number}`),
    h('thead', {}, h('tr', {}, ['#', 'When', 'Change', 'By', 'Why'].map((c) => h('th', { scope: 'col' }, c)))),
    h('tbody', {}, history.map((e, i) => h('tr', { dataset: { version: String(e.version) } },
      h('td', { dataset: { label: '#' } }, String(i + 1)),
      h('td', { dataset: { label: 'When' }, class: 'nowrap' }, when(e.at, true)),
      h('td', { dataset: { label: 'Change' } }, e.from ? [badge(e.from), ' → '] : null, badge(e.to)),
      h('td', { dataset: { label: 'By' } }, e.actor),
      h('td', { dataset: { label: 'Why' } }, e.why)))));
  return [props, h('h3', {}, 'History'), h('div', { class: 'table-wrap' }, table)];
}

// ---- All numbers and Released tabs ---------------------------------------------

function numberButton(n) {
  return h('button', {
    type: 'button', class: 'linklike number', 'aria-haspopup': 'dialog', title: 'Show details and history',
    onclick: () => showDetails(n),
  }, n);
}

/**
 * The All numbers and Released tabs: each reads its listing (lib.js
 * pagedListing, 100 numbers a page, Load more adds one) with the server's
 * search (q) and status filter; `status` is the tab's status filter,
 * `empty` what it says when nothing is listed, `noMatch` when nothing
 * matches a search or the status chosen.
 * `listing` is set while the tab is shown, `last` is what it shows.
 */
const others = {
  'tab-all': {
    prefix: 'all', status: () => $('all-filter').value,
    empty: 'No numbers are under release.', noMatch: 'No numbers match the search and status filter.',
  },
  'tab-released': {
    prefix: 'released', status: () => 'RELEASED',
    empty: 'No numbers have been released yet.', noMatch: 'No released numbers match the search.',
  },
};

/** Reads a tab's search box; shows why it cannot be searched for. Resolves {q} or {error}. */
function otherSearch(tab) {
  const read = numberQuery($(`${tab.prefix}-search`).value);
  $(`${tab.prefix}-search`).setAttribute('aria-invalid', String(Boolean(read.error)));
  notice($(`${tab.prefix}-search-error`), 'error', read.error || '');
  return read;
}

/** A new search or status filter on a tab: read from one page. */
function filterOther(which) {
  const tab = others[which];
  const { q, error } = otherSearch(tab);
  if (error || !tab.listing || tabs.current() !== which) return;
  tab.listing.set({ q, status: tab.status() });
  $(`${tab.prefix}-summary`).textContent = 'Loading…';
  otherPoll?.now();
}

/** Reads the pages of the All numbers or Released tab's list shown so far; resolves whether it changed. */
async function loadOther(which) {
  if (!session) return false;
  const released = which === 'tab-released';
  const tab = others[which];
  const from = tab.listing;
  const { items, more, current } = await from.read();
  if (!session || tabs.current() !== which || from !== tab.listing || !current) return false;
  clearError();
  const { prefix } = tab;
  const { q, status } = from.filters();
  $(`${prefix}-empty`).textContent = q || (status && !released) ? tab.noMatch : tab.empty;
  $(`${prefix}-empty`).hidden = items.length > 0;
  $(`${prefix}-table`).hidden = items.length === 0;
  $(`${prefix}-summary`).textContent = `${items.length === 1 ? '1 number' : `${items.length} numbers`} shown${more ? ' (more to load)' : ''} · updated ${clock()}`;
  $(`more-${prefix}`).hidden = !more;
  $(`more-${prefix}`).disabled = false;
  const sig = JSON.stringify(items);
  if (sig === tab.last) return false;
  tab.last = sig;
  fill($(`${prefix}-body`), items.map((v) => released
    ? h('tr', {},
      h('td', { dataset: { label: 'Number' } }, numberButton(v.number)),
      h('td', { dataset: { label: 'Released' } }, when(v.updated_at)),
      h('td', { dataset: { label: 'Requested by' } }, v.provider_id),
      h('td', { dataset: { label: 'Reason' } }, v.reason || h('span', { class: 'muted' }, '—')))
    : h('tr', {},
      h('td', { dataset: { label: 'Number' } }, numberButton(v.number)),
      h('td', { dataset: { label: 'Status' } }, badge(v.status)),
      h('td', { dataset: { label: 'Requested by' } }, v.provider_id),
      h('td', { dataset: { label: 'Updated' } }, when(v.updated_at)),
      h('td', { dataset: { label: 'Message' } }, (() => {
        const m = messageFor(v, null);
        return h('div', { class: `msg ${m.cls}` }, messageNodes(m));
      })()))));
  return true;
}

function loadMore(which) {
  const tab = others[which];
  if (!tab.listing) return;
  $(`more-${tab.prefix}`).disabled = true;
  tab.listing.more();
  otherPoll?.now();
}

/**
 * Export CSV: the API's text/csv answer of the customer's numbers that the
 * All numbers tab's search and status filter select (every page of them),
 * fetched with the bearer token and handed to the browser as a download.
 */
async function exportCsv() {
  if (!session) return;
  const btn = $('export-csv');
  btn.disabled = true;
  const { q = '', status = '' } = others['tab-all']?.listing?.filters() || {};
  const params = new URLSearchParams();
  if (status) params.set('status', status);
  if (q) params.set('q', q);
  const path = params.size ? `/v1/numbers?${params}` : '/v1/numbers';
  try {
    const get = async (token) => fetch(path, {
      headers: { Accept: 'text/csv', Authorization: `Bearer ${token}` }, cache: 'no-store', credentials: 'same-origin',
    });
    let token = await auth.token();
    let res = await get(token);
    if (res.status === 401) {
      token = await auth.renew(token);
      res = await get(token);
    }
    if (!res.ok) {
      let problem = null;
      try {
        problem = await res.json();
      } catch {
        // not JSON
      }
      throw new ApiError(res.status, problem);
    }
    const type = res.headers.get('Content-Type') || '';
    if (!/text\/csv/i.test(type)) throw new ApiError(0, { detail: `the server answered ${type || 'no type'}, not CSV` });
    const blob = new Blob([await res.blob()], { type: 'text/csv' });
    const url = URL.createObjectURL(blob);
    const named = /filename="([^"]+)"/.exec(res.headers.get('Content-Disposition') || '');
    const a = h('a', { href: url, download: named ? named[1] : `numbers-${new Date().toISOString().slice(0, 10)}.csv`, hidden: true });
    document.body.append(a);
    a.click();
    a.remove();
    setTimeout(() => URL.revokeObjectURL(url), 60_000);
  } catch (err) {
    handleError(err, 'Could not export the numbers');
  } finally {
    btn.disabled = false;
  }
}

function onTab(id) {
  otherPoll?.stop();
  if (!session) return;
  if (id === 'tab-wait') {
    waitPoll.now();
    return;
  }
  if (id === 'tab-settings') {
    if (zoomBusy) return;
    zoomResult('', ''); // an earlier outcome may no longer be true
    loadConnection();
    return;
  }
  const tab = others[id];
  delete tab.last;
  tab.listing = pagedListing('/v1/numbers', auth);
  tab.listing.set({ q: otherSearch(tab).q ?? '', status: tab.status() });
  otherPoll = poller(() => loadOther(id), { ...POLL, onError: (err) => pollError(err, 'Could not load the numbers') });
  otherPoll.start();
}

// ---- Settings: the Zoom connection --------------------------------------------

function zoomResult(kind, text) {
  notice($('zoom-result'), kind, text);
}

/** A connection view from an answer, or an error when the answer is not one. */
function connectionFrom(view) {
  if (view && typeof view.status === 'string') return { view };
  return { error: new ApiError(0, { detail: 'The server\'s answer about the Zoom connection could not be read.' }) };
}

function setConnection(c) {
  connection = c;
  renderConnection();
  renderBanner();
}

/** Reads GET /v1/zoom/connection and shows it (Settings and the banner). */
async function loadConnection() {
  if (!session) return;
  const t = ++connectionTick;
  connectionRead = Date.now();
  try {
    const view = await request('/v1/zoom/connection', { auth });
    if (session && t === connectionTick) setConnection(connectionFrom(view));
  } catch (err) {
    if (!session || t !== connectionTick) return;
    if (err?.status === 401) {
      handleError(err);
      return;
    }
    setConnection({ error: err });
  }
}

/** Reads the connection again unless that was done in the last CONNECTION_RECHECK ms. */
function recheckConnection() {
  if (session && !zoomBusy && Date.now() - connectionRead >= CONNECTION_RECHECK) loadConnection();
}

function connectionNodes(c) {
  if (!c) return h('p', { class: 'muted' }, 'Reading the Zoom connection…');
  if (c.error) {
    return h('p', { class: 'msg bad' }, c.error.status === 404
      ? 'This server does not offer the Zoom connection.'
      : `Could not read the Zoom connection: ${c.error.message}`);
  }
  const v = c.view;
  if (v.status === 'connected') {
    return [
      h('p', { class: 'conn-line' }, h('span', { class: 'badge conn-connected' }, 'Connected'),
        h('span', {}, 'Releases you approve are carried out in this Zoom account.')),
      h('dl', { class: 'props' },
        h('dt', {}, 'Zoom account'), h('dd', { class: 'mono' }, v.account_id || '—'),
        h('dt', {}, 'Connected since'), h('dd', {}, when(v.connected_at, true)),
        h('dt', {}, 'Connected by'), h('dd', {}, v.connected_by || h('span', { class: 'muted' }, '—'))),
    ];
  }
  return [
    h('p', { class: 'conn-line' }, h('span', { class: 'badge conn-not-connected' }, 'Not connected'),
      h('span', {}, 'Releases you approve wait until Zoom is connected, then continue by themselves.')),
    h('dl', { class: 'props' },
      h('dt', {}, 'Why'), h('dd', { class: 'conn-reason' }, v.reason || 'never connected'),
      v.changed_at ? [h('dt', {}, 'Since'), h('dd', {}, when(v.changed_at, true))] : null),
  ];
}

function renderConnection() {
  const connected = connection?.view?.status === 'connected';
  const unavailable = connection?.error?.status === 404;
  $('zoom-connect').hidden = !connection || connected || unavailable;
  $('zoom-disconnect').hidden = !connected;
  $('zoom-connect').disabled = zoomBusy;
  $('zoom-disconnect').disabled = zoomBusy;
  $('refresh-settings').disabled = zoomBusy;
  const sig = JSON.stringify(connection?.view ?? (connection ? [connection.error.status, connection.error.message] : null));
  if (sig === connectionSig) return;
  connectionSig = sig;
  fill($('zoom-state'), connectionNodes(connection));
}

/** Above Wait for Release: Zoom is not connected, so approved releases wait. */
function renderBanner() {
  const show = Boolean(session) && connection?.view?.status === 'not_connected' && connection?.view?.required !== false && rows.size > 0;
  if (show === bannerShown) return;
  bannerShown = show;
  if (!show) {
    fill($('zoom-banner'));
    return;
  }
  fill($('zoom-banner'),
    h('span', {}, 'Zoom is not connected — releases wait until you connect it.'),
    h('button', { type: 'button', class: 'btn small', onclick: () => openSettings(true) }, 'Open Settings'));
}

function openSettings(focus) {
  tabs.select('tab-settings');
  if (focus) ($('zoom-connect').hidden ? $('tab-settings') : $('zoom-connect')).focus();
}

/** Connect Zoom: the server issues a consent address (with a fresh state); the browser goes there. */
async function connectZoom() {
  if (!session || zoomBusy) return;
  zoomBusy = true;
  renderConnection();
  zoomResult('info', 'Opening Zoom…');
  try {
    const res = await request('/v1/zoom/connection/authorize', { method: 'POST', auth });
    const url = navigationUrl(res?.authorize_url, window.location.href);
    if (!session) return;
    zoomResult('info', 'Opening Zoom… Zoom asks you to allow Number Release, then brings you back here.');
    window.location.assign(url);
  } catch (err) {
    zoomBusy = false;
    if (!session) return;
    renderConnection();
    if (err?.status === 401) {
      handleError(err);
      return;
    }
    zoomResult('error', `Could not start connecting Zoom: ${err.message}`);
  }
}

/** Sends Zoom's redirect back (POST /v1/zoom/connection) and shows the outcome in Settings. */
async function completeZoomReturn() {
  const ret = zoomReturnStore.get();
  zoomReturnStore.clear();
  if (!session || !ret) return;
  if (!ret.code || !ret.state) {
    openSettings(false);
    const why = ret.description || ret.error || 'no authorization came back';
    zoomResult('error', `Zoom was not connected: ${why}. Nothing changed; you can try again.`);
    return;
  }
  zoomBusy = true;
  openSettings(false);
  renderConnection();
  zoomResult('info', 'Finishing the connection to Zoom…');
  const t = ++connectionTick;
  connectionRead = Date.now();
  try {
    const view = await request('/v1/zoom/connection', {
      method: 'POST', auth, body: { code: ret.code, state: ret.state },
    });
    zoomBusy = false;
    if (!session) return;
    if (t === connectionTick) setConnection(connectionFrom(view));
    const account = view?.account_id ? ` (Zoom account ${view.account_id})` : '';
    zoomResult('ok', `Zoom is connected${account}. Releases that waited for it continue by themselves.`);
  } catch (err) {
    zoomBusy = false;
    if (err?.status === 401) {
      // The sign-in was refused before the state was looked at: send it
      // after signing in again.
      zoomReturnStore.set(ret);
      if (session) handleError(err);
      return;
    }
    if (!session) return;
    zoomResult('error', `Zoom was not connected: ${err.message}`);
    loadConnection();
  } finally {
    if (session) renderConnection();
  }
}

function askDisconnect() {
  if (!session || zoomBusy) return;
  $('disconnect-dialog').showModal();
}

/** Disconnect (after the confirmation): DELETE /v1/zoom/connection, then the view it answers. */
async function disconnectZoom() {
  $('disconnect-dialog').close();
  if (!session || zoomBusy) return;
  zoomBusy = true;
  renderConnection();
  zoomResult('info', 'Disconnecting Zoom…');
  const t = ++connectionTick;
  connectionRead = Date.now();
  try {
    const view = await request('/v1/zoom/connection', { method: 'DELETE', auth });
    zoomBusy = false;
    if (!session) return;
    zoomResult('ok', 'Zoom is disconnected. Releases you approve wait until you connect it again.');
    if (t === connectionTick && view?.status) setConnection(connectionFrom(view));
    else loadConnection();
  } catch (err) {
    zoomBusy = false;
    if (!session) return;
    if (err?.status === 401) {
      handleError(err);
      return;
    }
    zoomResult('error', `Could not disconnect Zoom: ${err.message}`);
    loadConnection();
  } finally {
    if (session) {
      renderConnection();
      // The Disconnect button is gone: keep the keyboard in the section.
      const active = document.activeElement;
      if (!active || active === document.body || active.hidden) {
        ($('zoom-connect').hidden ? $('refresh-settings') : $('zoom-connect')).focus();
      }
    }
  }
}

/**
 * Takes Zoom's code and state (or its refusal) off the address at once; they
 * are sent once signed in. The sign-in's own return (its state is the one
 * stored before leaving) has been taken already.
 */
function takeZoomReturn() {
  const ret = oauthReturn(window.location.search);
  if (!ret) return;
  const { rest, ...params } = ret;
  zoomReturnStore.set(params);
  window.history.replaceState(window.history.state, '', `${window.location.pathname}${rest}${window.location.hash}`);
}

// ---- start ----------------------------------------------------------------------

function init() {
  signin = signInPanel(auth, {
    role: 'customer_admin',
    forWhom: 'customer admins',
    otherPage: (who) => (who.role === 'provider' ? { href: '/portal', text: 'Open the management portal' } : null),
    note: () => (zoomReturnStore.get()?.code ? 'Sign in to finish connecting Zoom.' : ''),
    onlyOwn: true, // Zoom's ?code&state come here too, with another state
    afterReturn: takeZoomReturn,
    onSignedIn: startApp,
  });
  tabs = setupTabs($('tabs'), onTab);
  $('release-btn').addEventListener('click', () => act('release'));
  $('reject-btn').addEventListener('click', () => act('reject'));
  $('select-all').addEventListener('change', (e) => selectAll(e.target.checked));
  $('refresh-wait').addEventListener('click', () => waitPoll.now());
  $('refresh-all').addEventListener('click', () => otherPoll?.now());
  $('refresh-released').addEventListener('click', () => otherPoll?.now());
  $('more-all').addEventListener('click', () => loadMore('tab-all'));
  $('more-released').addEventListener('click', () => loadMore('tab-released'));
  $('all-search').addEventListener('input', debounce(() => filterOther('tab-all'), 300));
  $('all-filter').addEventListener('change', () => filterOther('tab-all'));
  $('released-search').addEventListener('input', debounce(() => filterOther('tab-released'), 300));
  $('export-csv').addEventListener('click', exportCsv);
  $('clear-btn').addEventListener('click', clearFinished);
  $('wait-search').addEventListener('input', render);
  $('wait-filter').addEventListener('change', render);
  $('details-close').addEventListener('click', () => $('details').close());
  $('zoom-connect').addEventListener('click', connectZoom);
  $('zoom-disconnect').addEventListener('click', askDisconnect);
  $('disconnect-cancel').addEventListener('click', () => $('disconnect-dialog').close());
  $('disconnect-confirm').addEventListener('click', disconnectZoom);
  $('refresh-settings').addEventListener('click', () => {
    if (!zoomBusy) loadConnection();
  });
  // Back from Zoom's page through the browser's Back button (page cache):
  // connecting did not happen; the buttons work again.
  window.addEventListener('pageshow', (e) => {
    if (!e.persisted || !session || !zoomBusy) return;
    zoomBusy = false;
    zoomResult('', '');
    renderConnection();
    loadConnection();
  });
  // Coming back to the page reads at once (and from the shortest wait).
  const back = () => {
    if (document.hidden || !session) return;
    waitPoll.now();
    otherPoll?.now();
    recheckConnection();
  };
  document.addEventListener('visibilitychange', back);
  window.addEventListener('focus', back);
  waitPoll = poller(refreshNumbers, { ...POLL, onError: (err) => pollError(err, 'Could not refresh the numbers') });
  // The sign-in's own ?code&state first, then Zoom's (afterReturn), both off
  // the address at once; then the app or the sign-in panel.
  signin.start();
}

init();
