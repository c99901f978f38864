// Shared helpers of the Number Release pages: API calls with RFC 9457
// problems (and the sign-in's bearer token, signin.js), session storage, a
// tiny DOM builder and accessible tabs. No dependencies.

/**
 * An API answer that was not 2xx. `problem` is the parsed error body;
 * `retryAfter` the answer's Retry-After in seconds (null without one).
 */
export class ApiError extends Error {
  constructor(status, problem, retryAfter = null) {
    super(problemText(status, problem));
    this.name = 'ApiError';
    this.status = status;
    this.problem = problem || {};
    this.retryAfter = retryAfter;
  }
}

/** Reads a Retry-After header: seconds, or an HTTP date; null when absent or unreadable. */
export function retryAfterSeconds(value, now = Date.now()) {
  if (value === null || value === undefined || String(value).trim() === '') return null;
  const text = String(value).trim();
  if (/^\d+$/.test(text)) return Number(text);
  const at = Date.parse(text);
  return Number.isNaN(at) ? null : Math.max(0, Math.ceil((at - now) / 1000));
}

/** The text to show for an error body: RFC 9457 detail, Zoom's message, or the title. */
export function problemText(status, problem) {
  if (problem && typeof problem === 'object') {
    const text = problem.detail || problem.message || problem.title;
    if (text) return String(text);
  }
  if (status === 0) return 'The server could not be reached. Check that it is running and try again.';
  return `The server answered ${status}.`;
}

/**
 * Calls the API. `body` is sent as JSON; the answer is parsed as JSON when it
 * is JSON (null for 204). Throws ApiError for non-2xx answers and for network
 * failures (status 0).
 *
 * The bearer token is `token`, or comes from `auth` (signin.js createAuth):
 * auth.token() before the call, and after a 401 auth.renew(token) and the
 * call once more (a 401 means the API did not act on the call, so sending it
 * again is safe). auth's own failures (the session has expired) are thrown
 * as they are.
 */
export async function request(path, { method = 'GET', body, token, auth, headers = {} } = {}) {
  if (!auth) return send(path, { method, body, token, headers });
  const first = await auth.token();
  try {
    return await send(path, { method, body, token: first, headers });
  } catch (err) {
    if (!(err instanceof ApiError) || err.status !== 401) throw err;
    const renewed = await auth.renew(first);
    return send(path, { method, body, token: renewed, headers });
  }
}

async function send(path, { method, body, token, headers }) {
  const h = { Accept: 'application/json, application/problem+json', ...headers };
  if (body !== undefined) h['Content-Type'] = 'application/json';
  if (token) h.Authorization = `Bearer ${token}`;
  let res;
  try {
    res = await fetch(path, {
      method,
      headers: h,
      body: body === undefined ? undefined : JSON.stringify(body),
      cache: 'no-store',
      credentials: 'same-origin',
    });
  } catch (err) {
    throw new ApiError(0, { detail: problemText(0) });
  }
  let data = null;
  const type = res.headers.get('Content-Type') || '';
  if (res.status !== 204 && /json/i.test(type)) {
    try {
      data = await res.json();
    } catch {
      data = null;
    }
  } else if (res.status !== 204) {
    const text = await res.text().catch(() => '');
    data = text ? { detail: text.trim().slice(0, 300) } : null;
  }
  if (!res.ok) throw new ApiError(res.status, data, retryAfterSeconds(res.headers.get('Retry-After')));
  return data;
}

/**
 * Calls `fn` again and again: a poll that changed something (fn resolves
 * true) comes back after `min` ms, each one that changed nothing waits
 * twice as long as the last, up to `max` (2 s, 4 s, 8 s, 16 s, 30 s, ...).
 * A failed poll backs off the same way; a 429 waits at least its
 * Retry-After, and no poll starts before then, not even after `now()`.
 * While the page is hidden every wait is `max`. Errors go to onError.
 *
 * start() polls at once from `min`; now() polls at once (a user's action,
 * the page shown again) and goes back to `min`; stop() ends it.
 */
export function poller(fn, { min = 2000, max = 30000, onError = () => {}, clock = Date.now, hidden = pageHidden } = {}) {
  let timer = null;
  let delay = min;
  let stopped = true;
  let running = false;
  let again = false; // now() was called during a poll
  let notBefore = 0; // a 429's Retry-After, as a clock time

  function schedule(wait) {
    clearTimeout(timer);
    timer = setTimeout(run, Math.max(wait, notBefore - clock(), 0));
  }

  async function run() {
    timer = null;
    if (stopped) return;
    if (running) {
      again = true;
      return;
    }
    if (clock() < notBefore) {
      schedule(0);
      return;
    }
    running = true;
    let wait;
    try {
      const changed = await fn();
      if (changed) delay = min;
      wait = delay;
      delay = Math.min(delay * 2, max);
    } catch (err) {
      wait = delay;
      delay = Math.min(delay * 2, max);
      if (err instanceof ApiError && err.status === 429) {
        const seconds = err.retryAfter ?? Math.ceil(wait / 1000);
        notBefore = clock() + seconds * 1000;
      }
      onError(err);
    } finally {
      running = false;
    }
    if (stopped) return;
    if (again) {
      again = false;
      delay = min;
      wait = 0;
    } else if (hidden()) {
      wait = max;
    }
    schedule(wait);
  }

  const control = {
    start() {
      stopped = false;
      control.now();
    },
    now() {
      if (stopped) return;
      delay = min;
      if (running) {
        again = true;
        return;
      }
      schedule(0);
    },
    stop() {
      stopped = true;
      clearTimeout(timer);
      timer = null;
    },
  };
  return control;
}

function pageHidden() {
  return typeof document !== 'undefined' && document.hidden;
}

/** Follows next_cursor until the last page; returns every item. auth: as request()'s. */
export async function fetchAll(path, auth, { limit = 100, maxPages = 50 } = {}) {
  const items = [];
  let cursor = null;
  for (let page = 0; page < maxPages; page++) {
    const sep = path.includes('?') ? '&' : '?';
    const url = `${path}${sep}limit=${limit}${cursor ? `&cursor=${encodeURIComponent(cursor)}` : ''}`;
    const data = await request(url, { auth });
    items.push(...(data.items || []));
    cursor = data.next_cursor;
    if (!cursor) break;
  }
  return items;
}

/**
 * Reads a search box for a number listing's q: the beginning of a number,
 * country code first. Spaces, dashes and a "+" are ignored. Returns {q}
 * ('' for an empty box) or {error}, a sentence saying why the text cannot
 * be the beginning of a number.
 */
export function numberQuery(text) {
  const raw = String(text ?? '').trim();
  const digits = raw.replace(/[\s+-]/g, '');
  if (digits === '') return { q: '' };
  if (!/^[0-9]+$/.test(digits)) return { error: `"${raw}" is not the beginning of a phone number: type its digits, country code first (e.g. 9723).` };
  if (digits.length > 15) return { error: `"${raw}" has ${digits.length} digits; a phone number has at most 15.` };
  return { q: digits };
}

/** The first `pages` pages of a listing, through its cursor: {items, more}. auth: as request()'s. */
export async function fetchPages(path, auth, pages, { limit = 100 } = {}) {
  const items = [];
  let cursor = null;
  for (let i = 0; i < pages; i++) {
    const sep = path.includes('?') ? '&' : '?';
    const data = await request(`${path}${sep}limit=${limit}${cursor ? `&cursor=${encodeURIComponent(cursor)}` : ''}`, { auth });
    items.push(...(data.items || []));
    cursor = data.next_cursor;
    if (!cursor) break;
  }
  return { items, more: Boolean(cursor) };
}

/**
 * A number listing searched and filtered by the server (q, status) and
 * read through its cursor, a page at a time. read() reads the pages shown
 * so far (one, until more() adds the next), so a poll refreshes what is
 * shown; set({q, status}) starts again from one page. read() resolves
 * {items, more, current}: current is false when set() or more() came while
 * it read (its answer is out of date; the next read will do).
 */
export function pagedListing(base, auth, { limit = 100 } = {}) {
  let q = '';
  let status = '';
  let pages = 1;
  let generation = 0;
  const path = () => {
    const params = new URLSearchParams();
    if (status) params.set('status', status);
    if (q) params.set('q', q);
    const query = params.toString();
    return query ? `${base}?${query}` : base;
  };
  return {
    set(next) {
      q = next.q ?? q;
      status = next.status ?? status;
      pages = 1;
      generation++;
    },
    more() {
      pages++;
      generation++;
    },
    filters: () => ({ q, status }),
    async read() {
      const at = generation;
      const page = await fetchPages(path(), auth, pages, { limit });
      return { ...page, current: at === generation };
    },
  };
}

/** fn, called `ms` after the last of a burst of calls (a search box's typing). */
export function debounce(fn, ms = 300) {
  let timer = null;
  return (...args) => {
    clearTimeout(timer);
    timer = setTimeout(() => fn(...args), ms);
  };
}

/** A JSON value in sessionStorage under one key. */
export function stored(key) {
  return {
    get() {
      try {
        const raw = sessionStorage.getItem(key);
        return raw ? JSON.parse(raw) : null;
      } catch {
        return null;
      }
    },
    set(value) {
      sessionStorage.setItem(key, JSON.stringify(value));
    },
    clear() {
      sessionStorage.removeItem(key);
    },
  };
}

/** A path segment for a phone number: '+' becomes %2B. */
export function numberSegment(number) {
  return encodeURIComponent(number);
}

/** A random Idempotency-Key (crypto.randomUUID where the page is a secure context). */
export function newKey() {
  if (globalThis.crypto && typeof crypto.randomUUID === 'function') return crypto.randomUUID();
  const b = crypto.getRandomValues(new Uint8Array(16));
  b[6] = (b[6] & 0x0f) | 0x40;
  b[8] = (b[8] & 0x3f) | 0x80;
  const hex = [...b].map((x) => x.toString(16).padStart(2, '0')).join('');
  return `${hex.slice(0, 8)}-${hex.slice(8, 12)}-${hex.slice(12, 16)}-${hex.slice(16, 20)}-${hex.slice(20)}`;
}

/**
 * Builds an element: h('td', {class: 'x', dataset: {label: 'Number'}}, 'text', child).
 * Attributes starting with "on" are event listeners; null/false are skipped.
 */
export function h(tag, attrs = {}, ...children) {
  const el = document.createElement(tag);
  for (const [k, v] of Object.entries(attrs || {})) {
    if (v === null || v === undefined || v === false) continue;
    if (k === 'class') el.className = v;
    else if (k === 'dataset') Object.assign(el.dataset, v);
    else if (k.startsWith('on') && typeof v === 'function') el.addEventListener(k.slice(2), v);
    else if (k in el && typeof v !== 'string') el[k] = v;
    else el.setAttribute(k, v === true ? '' : v);
  }
  for (const c of children.flat()) {
    if (c === null || c === undefined || c === false) continue;
    el.append(c instanceof Node ? c : document.createTextNode(String(c)));
  }
  return el;
}

/** Replaces an element's children. */
export function fill(el, ...children) {
  el.replaceChildren();
  for (const c of children.flat()) {
    if (c === null || c === undefined || c === false) continue;
    el.append(c instanceof Node ? c : document.createTextNode(String(c)));
  }
}

const statusLabels = {
  PENDING_APPROVAL: 'Waiting for approval',
  RELEASING: 'Releasing',
  WAITING_FOR_UNASSIGN: 'Assigned in Zoom',
  RELEASED: 'Released',
  REJECTED: 'Rejected',
  CANCELLED: 'Cancelled',
  FAILED: 'Failed',
  EXPIRED: 'Expired',
};

/** A human label for a lifecycle status. */
export function statusLabel(status) {
  return statusLabels[status] || status || 'Unknown';
}

/** A status badge; the status code stays readable in its title. */
export function badge(status) {
  return h('span', { class: `badge s-${status}`, title: status, dataset: { status } }, statusLabel(status));
}

const dateFmt = new Intl.DateTimeFormat(undefined, { dateStyle: 'medium', timeStyle: 'short' });
const preciseFmt = new Intl.DateTimeFormat(undefined, { dateStyle: 'medium', timeStyle: 'medium' });

/**
 * A timestamp in the reader's locale (to the second if precise), with the
 * ISO value in a <time>.
 */
export function when(iso, precise = false) {
  if (!iso) return h('span', { class: 'muted' }, '—');
  const d = new Date(iso);
  const text = Number.isNaN(d.getTime()) ? iso : (precise ? preciseFmt : dateFmt).format(d);
  return h('time', { datetime: iso, title: iso }, text);
}

/**
 * Makes a role=tablist keyboard-operable (arrows, Home, End) and calls
 * onSelect(id) when a tab is chosen. Tabs carry aria-controls naming their panel.
 */
export function setupTabs(tablist, onSelect) {
  const tabs = () => [...tablist.querySelectorAll('[role="tab"]')];
  const select = (tab, focus) => {
    for (const t of tabs()) {
      const on = t === tab;
      t.setAttribute('aria-selected', String(on));
      t.tabIndex = on ? 0 : -1;
      const panel = document.getElementById(t.getAttribute('aria-controls'));
      if (panel) panel.hidden = !on;
    }
    if (focus) tab.focus();
    onSelect(tab.id);
  };
  tablist.addEventListener('click', (e) => {
    const tab = e.target.closest('[role="tab"]');
    if (tab) select(tab, false);
  });
  tablist.addEventListener('keydown', (e) => {
    const all = tabs();
    const i = all.indexOf(document.activeElement);
    if (i < 0) return;
    let next = null;
    if (e.key === 'ArrowRight') next = all[(i + 1) % all.length];
    else if (e.key === 'ArrowLeft') next = all[(i - 1 + all.length) % all.length];
    else if (e.key === 'Home') next = all[0];
    else if (e.key === 'End') next = all[all.length - 1];
    if (next) {
      e.preventDefault();
      select(next, true);
    }
  });
  return {
    select: (id) => select(document.getElementById(id), false),
    current: () => tabs().find((t) => t.getAttribute('aria-selected') === 'true')?.id,
  };
}

/** Shows text (or nothing) in a notice element, with a kind: error, ok, info. */
export function notice(el, kind, ...content) {
  el.className = `notice ${kind || ''}`.trim();
  fill(el, ...content);
}

/** A short time of day, for "updated at" lines. */
export function clock(d = new Date()) {
  return d.toLocaleTimeString(undefined, { hour: '2-digit', minute: '2-digit', second: '2-digit' });
}

// The OAuth parameters Zoom (or the identity provider) adds to the page's
// address when it sends the browser back (authorization code grant, RFC 6749
// §4.1.2).
const OAUTH_PARAMS = ['code', 'state', 'error', 'error_description'];

/**
 * Reads an OAuth redirect back to the page (Zoom's, or the sign-in's) from a
 * query string: {code, state} when both are there, {error, description,
 * state} when a refusal is reported instead, null when the address is not
 * such a return.
 * `rest` is the query string without the OAuth parameters ('' or '?...').
 */
export function oauthReturn(search) {
  const q = new URLSearchParams(search);
  const code = q.get('code');
  const state = q.get('state');
  const error = q.get('error');
  let found = null;
  if (code && state) found = { code, state };
  else if (error && state) found = { error, description: q.get('error_description') || '', state };
  if (!found) return null;
  for (const k of OAUTH_PARAMS) q.delete(k);
  const rest = q.toString();
  return { ...found, rest: rest ? `?${rest}` : '' };
}

/**
 * The address to send the browser to for Zoom's consent page: an absolute
 * http(s) URL (anything else, a javascript: URL say, is refused).
 */
export function navigationUrl(value, base) {
  let url;
  try {
    url = new URL(String(value ?? ''), base);
  } catch {
    url = null;
  }
  if (!value || !url || (url.protocol !== 'https:' && url.protocol !== 'http:')) {
    throw new ApiError(0, { detail: 'The server gave no usable address for Zoom\'s consent page.' });
  }
  return url.href;
}

/** One CSV line's fields (RFC 4180 quotes: "a ""b""" is a "b"). */
export function csvFields(line) {
  const out = [];
  let cur = '';
  let quoted = false;
  for (let i = 0; i < line.length; i++) {
    const c = line[i];
    if (quoted) {
      if (c === '"' && line[i + 1] === '"') {
        cur += '"';
        i++;
      } else if (c === '"') {
        quoted = false;
      } else {
        cur += c;
      }
    } else if (c === '"') {
      quoted = true;
    } else if (c === ',' || c === ';' || c === '\t') {
      out.push(cur);
      cur = '';
    } else {
      cur += c;
    }
  }
  out.push(cur);
  return out.map((f) => f.trim());
}

/**
 * Reads phone numbers from a CSV file's text: the `number` column when the
 * first row names one (any case), else one number per row (the first
 * field). Spaces, dashes, dots and parentheses inside a number are dropped;
 * the server checks the rest (and adds a missing +). Returns {numbers,
 * refused: [{row, value, reason}]} with rows counted from 1 as in the file;
 * a number given twice is read once.
 */
export function parseNumberCsv(text) {
  const lines = String(text).replace(/^\uFEFF/, '').split(/\r\n|\n|\r/);
  const numbers = [];
  const seen = new Set();
  const refused = [];
  let column = 0;
  let start = 0;
  const firstRow = lines.findIndex((l) => l.trim() !== '');
  if (firstRow >= 0) {
    const header = csvFields(lines[firstRow]).map((f) => f.toLowerCase());
    const at = header.indexOf('number');
    if (at >= 0) {
      column = at;
      start = firstRow + 1;
    }
  }
  for (let i = start; i < lines.length; i++) {
    if (lines[i].trim() === '') continue;
    const value = csvFields(lines[i])[column] ?? '';
    const n = value.replace(/[\s().-]/g, '');
    if (n === '') {
      refused.push({ row: i + 1, value, reason: 'no number' });
    } else if (!/^\+?[0-9]{6,15}$/.test(n)) {
      refused.push({ row: i + 1, value, reason: 'not a phone number' });
    } else if (!seen.has(n)) {
      seen.add(n);
      numbers.push(n);
    }
  }
  return { numbers, refused };
}
