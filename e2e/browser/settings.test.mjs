// Browser test of the customer app's Settings section (the Zoom connection),
// on its own: Chromium loads the page's real files (web/static, with the
// server's Content-Security-Policy), and the API, the identity provider's
// sign-in (authorization code with PKCE) and Zoom's consent page are played
// here, so both OAuth round trips to "/" run without Zoom and without the
// local system. Screenshots go to test-artifacts/browser-settings/.
//
//   cd e2e/browser && npm ci && node --test settings.test.mjs
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import fs from 'node:fs';
import path from 'node:path';
import { repoRoot } from './system.mjs';
import { PASSWORD, launchContext } from './helpers.mjs';
import { createHash } from 'node:crypto';
import { oauthReturn, navigationUrl } from '../../web/static/lib.js';

const ARTIFACTS = path.join(repoRoot, 'test-artifacts', 'browser-settings');
const STATIC = path.join(repoRoot, 'web', 'static');
// https: Web Crypto (PKCE) is offered to secure pages only.
const APP = 'https://customer.test';
const ZOOM = 'https://zoom.test';
const CODE = 'ZOOM-CODE-7f3a9c'; // must never be shown
const STATE = 'state-5b21';
const WAITING = '+14155550101';
const NOT_CONNECTED_MESSAGE = 'Zoom is not connected — connect it in Settings';

// The server's CSP, read from web.go so the two cannot drift apart.
const CSP = (() => {
  const src = fs.readFileSync(path.join(repoRoot, 'web', 'web.go'), 'utf8');
  const m = src.match(/contentSecurityPolicy = ("[^"]*")\s*\+\s*("[^"]*")/);
  assert.ok(m, 'web.go declares contentSecurityPolicy');
  return JSON.parse(m[1]) + JSON.parse(m[2]);
})();

const TYPES = { '.html': 'text/html; charset=utf-8', '.css': 'text/css; charset=utf-8', '.js': 'text/javascript; charset=utf-8', '.svg': 'image/svg+xml' };

let context;
let closeContext;
const pageErrors = [];
const consoleErrors = [];

// The API as this test plays it.
const api = {
  calls: [], // {method, path, auth, body}
  connection: { status: 'not_connected', reason: 'never connected' },
  connectAnswer: null, // {status, body} for the next POST /v1/zoom/connection
  approved: false, // the customer approved WAITING's release
};

const json = (route, status, body, type = 'application/json') =>
  route.fulfill({ status, headers: { 'Content-Type': type }, body: JSON.stringify(body) });

// The identity provider as this test plays it, on the page's own origin (as
// the local stand-in is): a sign-in form, the token endpoint (PKCE checked),
// revocation and sign-out. Access tokens are `tok-<user>`.
const IDP = `${APP}/idp`;
const idp = {
  codes: new Map(), // code -> {user, challenge, redirectUri}
  refresh: new Map(), // refresh token -> user
  revoked: new Set(),
  calls: [], // {path, form}
  n: 0,
};

const b64url = (buf) => Buffer.from(buf).toString('base64url');
const jwt = (claims) => `${b64url(JSON.stringify({ alg: 'none' }))}.${b64url(JSON.stringify(claims))}.sig`;

/** Ends every session of a user (their refresh tokens stop working). */
function signOutEverywhere(user) {
  for (const [token, u] of idp.refresh) if (u === user) idp.revoked.add(token);
}

async function serveIdp(route) {
  const req = route.request();
  const url = new URL(req.url());
  const p = url.pathname.slice('/idp'.length);
  const form = Object.fromEntries(new URLSearchParams(req.postData() || ''));
  idp.calls.push({ path: p, form });
  if (p === '/oauth2/authorize' && req.method() === 'GET') {
    const page = `<!doctype html><title>Sign in</title><form method="post">
      <label>Username <input name="username"></label><label>Password <input name="password" type="password"></label>
      <button type="submit">Sign in</button></form>`;
    return route.fulfill({ status: 200, headers: { 'Content-Type': 'text/html' }, body: page });
  }
  if (p === '/oauth2/authorize' && req.method() === 'POST') {
    const q = url.searchParams;
    if (q.get('code_challenge_method') !== 'S256' || !q.get('code_challenge')) return json(route, 400, { error: 'invalid_request' });
    const code = `code-${++idp.n}`;
    idp.codes.set(code, { user: form.username, challenge: q.get('code_challenge'), redirectUri: q.get('redirect_uri') });
    const back = new URL(q.get('redirect_uri'));
    back.searchParams.set('code', code);
    back.searchParams.set('state', q.get('state'));
    return route.fulfill({ status: 302, headers: { Location: back.href } });
  }
  if (p === '/oauth2/token' && req.method() === 'POST') {
    let user;
    if (form.grant_type === 'authorization_code') {
      const c = idp.codes.get(form.code);
      idp.codes.delete(form.code);
      const verified = c && b64url(createHash('sha256').update(form.code_verifier || '').digest()) === c.challenge;
      if (!verified || form.redirect_uri !== c.redirectUri || form.client_id !== 'web-client') return json(route, 400, { error: 'invalid_grant' });
      user = c.user;
    } else if (form.grant_type === 'refresh_token') {
      user = idp.refresh.get(form.refresh_token);
      if (!user || idp.revoked.has(form.refresh_token)) return json(route, 400, { error: 'invalid_grant' });
    } else {
      return json(route, 400, { error: 'unsupported_grant_type' });
    }
    const answer = {
      access_token: `tok-${user}`,
      id_token: jwt({ email: `${user}@acme.example`, 'cognito:groups': ['customer_admin:acme'] }),
      expires_in: 3600,
      token_type: 'Bearer',
    };
    if (form.grant_type === 'authorization_code') {
      answer.refresh_token = `rt-${user}-${++idp.n}`;
      idp.refresh.set(answer.refresh_token, user);
    }
    return json(route, 200, answer);
  }
  if (p === '/oauth2/revoke' && req.method() === 'POST') {
    idp.revoked.add(form.token);
    return route.fulfill({ status: 200, body: '' });
  }
  if (p === '/logout') return route.fulfill({ status: 302, headers: { Location: url.searchParams.get('logout_uri') } });
  return json(route, 404, { error: 'not_found' });
}

async function serveApp(route) {
  const req = route.request();
  const url = new URL(req.url());
  const p = url.pathname;
  if (p.startsWith('/idp/')) return serveIdp(route);
  if (req.method() === 'GET' && p === '/web/config.json') {
    return json(route, 200, {
      auth: {
        authorize_url: `${IDP}/oauth2/authorize`,
        token_url: `${IDP}/oauth2/token`,
        revoke_url: `${IDP}/oauth2/revoke`,
        logout_url: `${IDP}/logout`,
        client_id: 'web-client',
        scope: 'openid email',
        bearer: 'access_token',
      },
    });
  }
  if (req.method() === 'GET' && (p === '/' || p.startsWith('/web/'))) {
    const name = p === '/' ? 'index.html' : p.slice('/web/'.length);
    const file = path.join(STATIC, name);
    if (!file.startsWith(STATIC + path.sep) || !fs.existsSync(file)) return route.fulfill({ status: 404, body: 'not found' });
    const headers = { 'Content-Type': TYPES[path.extname(name)] || 'application/octet-stream', 'Cache-Control': 'no-cache' };
    if (name.endsWith('.html')) headers['Content-Security-Policy'] = CSP;
    return route.fulfill({ status: 200, headers, body: fs.readFileSync(file) });
  }
  const call = { method: req.method(), path: p, auth: req.headers().authorization || '', body: req.postData() };
  api.calls.push(call);
  if (p === '/v1/numbers/release' && req.method() === 'POST') {
    api.approved = true;
    return json(route, 200, { results: [{ number: WAITING, status: 'RELEASING' }] });
  }
  if (p === '/v1/numbers') {
    // Approved while Zoom is not connected, the release waits; once
    // connected it goes through.
    let waiting = { number: WAITING, status: 'PENDING_APPROVAL', message: '' };
    if (api.approved) {
      waiting = api.connection.status === 'connected'
        ? { number: WAITING, status: 'RELEASED', message: '' }
        : { number: WAITING, status: 'RELEASING', message: NOT_CONNECTED_MESSAGE };
    }
    return json(route, 200, {
      items: [
        { number: '+14155550100', status: 'PENDING_APPROVAL', provider_id: 'pxc', requested_at: '2026-01-05T10:00:00Z', updated_at: '2026-01-05T10:00:00Z' },
        { provider_id: 'pxc', requested_at: '2026-01-05T10:00:00Z', updated_at: '2026-01-05T10:01:00Z', ...waiting },
      ],
    });
  }
  if (p === '/v1/zoom/connection/authorize' && req.method() === 'POST') {
    return json(route, 200, {
      authorize_url: `${ZOOM}/oauth/authorize?response_type=code&client_id=abc&state=${STATE}&redirect_uri=${encodeURIComponent(`${APP}/`)}`,
      expires_at: '2026-01-05T10:10:00Z',
    });
  }
  if (p === '/v1/zoom/connection') {
    if (req.method() === 'GET') return json(route, 200, api.connection);
    if (req.method() === 'POST') {
      const answer = api.connectAnswer || {
        status: 200,
        body: { status: 'connected', account_id: 'zAcc-42', connected_at: '2026-01-05T10:02:00Z', connected_by: 'alice' },
      };
      api.connectAnswer = null;
      if (answer.status === 200) api.connection = answer.body;
      return json(route, answer.status, answer.body, answer.status === 200 ? 'application/json' : 'application/problem+json');
    }
    if (req.method() === 'DELETE') {
      api.connection = { status: 'not_connected', reason: 'disconnected by alice', changed_at: '2026-01-05T10:05:00Z' };
      return json(route, 200, api.connection);
    }
  }
  return json(route, 404, { title: 'Not found', status: 404, detail: `no route ${req.method()} ${p}` }, 'application/problem+json');
}

// Zoom's consent page: the admin allows, and Zoom sends the browser back.
async function serveZoom(route) {
  const url = new URL(route.request().url());
  const back = new URL(url.searchParams.get('redirect_uri'));
  back.searchParams.set('code', CODE);
  back.searchParams.set('state', url.searchParams.get('state'));
  return route.fulfill({ status: 302, headers: { Location: back.href } });
}

async function snap(page, name) {
  await page.screenshot({ path: path.join(ARTIFACTS, `${name}.png`), fullPage: true });
}

async function newPage(url) {
  const page = await context.newPage();
  page.on('pageerror', (err) => pageErrors.push(`${url}: ${err.message}`));
  page.on('console', (msg) => {
    if (msg.type() === 'error') consoleErrors.push(`${url}: ${msg.text()}`);
  });
  await page.goto(url);
  return page;
}

/** Signs in through the identity provider's form (played above); the app starts. */
async function signIn(page, user = 'alice') {
  await page.locator('#signin-btn').click();
  await page.locator('input[name="username"]').fill(user);
  await page.locator('input[name="password"]').fill(PASSWORD);
  await page.getByRole('button', { name: 'Sign in' }).click();
  await page.locator('#app').waitFor();
  assert.equal(await page.locator('#who-text').textContent(), `${user}@acme.example · customer admin of acme`);
}

const zoomCalls = () => api.calls.filter((c) => c.path.startsWith('/v1/zoom/'));

before(async () => {
  fs.rmSync(ARTIFACTS, { recursive: true, force: true });
  fs.mkdirSync(ARTIFACTS, { recursive: true });
  ({ context, close: closeContext } = await launchContext({ profile: 'nr-chromium-settings-' }));
  await context.route(`${APP}/**`, serveApp);
  await context.route(`${ZOOM}/**`, serveZoom);
});

after(async () => {
  await closeContext?.();
});

test('Zoom\'s redirect back is read off the address; only http(s) consent addresses are followed', () => {
  for (const [search, want] of [
    ['', null],
    ['?lang=en', null],
    ['?code=c1', null],
    ['?state=s1', null],
    ['?code=c1&state=s1', { code: 'c1', state: 's1', rest: '' }],
    ['?lang=en&code=c%2B1&state=s1', { code: 'c+1', state: 's1', rest: '?lang=en' }],
    ['?error=access_denied&error_description=The+user+denied&state=s1', { error: 'access_denied', description: 'The user denied', state: 's1', rest: '' }],
  ]) assert.deepEqual(oauthReturn(search), want, search);
  assert.equal(navigationUrl('https://zoom.us/oauth/authorize?state=x', 'http://app.test/'), 'https://zoom.us/oauth/authorize?state=x');
  assert.equal(navigationUrl('/zoom-sim/oauth/authorize', 'http://app.test/'), 'http://app.test/zoom-sim/oauth/authorize');
  for (const bad of ['javascript:alert(1)', '', null, undefined, 'data:text/html,x']) {
    assert.throws(() => navigationUrl(bad, 'http://app.test/'), /no usable address/, String(bad));
  }
});

let customer;

test('not connected: a banner above Wait for Release opens Settings, which says why', async () => {
  customer = await newPage(`${APP}/`);
  await signIn(customer);
  await customer.getByLabel(`Select ${WAITING}`).check();
  await customer.getByRole('button', { name: 'Release numbers' }).click();
  // The confirmation dialog sits between the click and the release.
  await customer.getByRole('dialog', { name: 'Release 1 number?' }).getByRole('button', { name: 'Release 1 number' }).click();
  await customer.locator(`#wait-body .msg[data-number="${WAITING}"]`).filter({ hasText: NOT_CONNECTED_MESSAGE }).waitFor();
  const banner = customer.locator('#zoom-banner');
  await banner.filter({ hasText: 'Zoom is not connected — releases wait until you connect it' }).waitFor();
  assert.equal(await banner.getAttribute('role'), 'status');
  await snap(customer, '01-banner');
  await banner.getByRole('button', { name: 'Open Settings' }).click();
  assert.equal(await customer.getByRole('tab', { name: 'Settings' }).getAttribute('aria-selected'), 'true');
  const state = customer.locator('#zoom-state');
  await state.filter({ hasText: 'Not connected' }).waitFor();
  assert.match(await state.textContent(), /Never connected/i);
  // The keyboard lands on the button the admin came for.
  assert.equal(await customer.evaluate(() => document.activeElement?.id), 'zoom-connect');
  assert.equal(await customer.getByRole('button', { name: 'Disconnect' }).count(), 0);
  await snap(customer, '02-settings-not-connected');
});

test('Connect Zoom: Zoom\'s consent page, back with a code, connected', async () => {
  const before = api.calls.length;
  await customer.getByRole('button', { name: 'Connect Zoom' }).click();
  await customer.locator('#zoom-result', { hasText: 'Zoom is connected (Zoom account zAcc-42)' }).waitFor();
  const calls = api.calls.slice(before).filter((c) => c.path.startsWith('/v1/zoom/'));
  const authorize = calls.find((c) => c.path === '/v1/zoom/connection/authorize');
  assert.ok(authorize, 'POST /v1/zoom/connection/authorize was called');
  assert.equal(authorize.method, 'POST');
  assert.equal(authorize.auth, 'Bearer tok-alice');
  assert.equal(authorize.body ?? null, null, 'authorize has no body');
  const connect = calls.find((c) => c.method === 'POST' && c.path === '/v1/zoom/connection');
  assert.ok(connect, 'POST /v1/zoom/connection was called');
  assert.equal(connect.auth, 'Bearer tok-alice');
  assert.deepEqual(JSON.parse(connect.body), { code: CODE, state: STATE });
  assert.equal(calls.filter((c) => c.method === 'POST' && c.path === '/v1/zoom/connection').length, 1, 'the code is sent once');

  // The address bar no longer holds the code; the page never shows it.
  assert.equal(customer.url(), `${APP}/`);
  assert.ok(!(await customer.content()).includes(CODE), 'the code is not on the page');
  assert.equal(await customer.evaluate(() => sessionStorage.getItem('nr.customer.zoom-return')), null);

  assert.equal(await customer.getByRole('tab', { name: 'Settings' }).getAttribute('aria-selected'), 'true');
  const state = customer.locator('#zoom-state');
  await state.filter({ hasText: 'Connected' }).waitFor();
  for (const want of ['zAcc-42', 'alice']) assert.ok((await state.textContent()).includes(want), `shows ${want}`);
  await customer.getByRole('button', { name: 'Disconnect' }).waitFor();
  assert.equal(await customer.getByRole('button', { name: 'Connect Zoom' }).count(), 0);
  await snap(customer, '03-connected');

  // Back on Wait for Release: no banner, the waiting release went through.
  await customer.getByRole('tab', { name: /Wait for Release/ }).click();
  await customer.locator(`#wait-body .msg[data-number="${WAITING}"]`).filter({ hasText: 'Released' }).waitFor();
  assert.equal(await customer.locator('#zoom-banner').textContent(), '');
  assert.equal(await customer.locator('#zoom-banner').isVisible(), false);
});

test('Disconnect asks first; Cancel keeps the connection, Disconnect Zoom removes it', async () => {
  await customer.getByRole('tab', { name: 'Settings' }).click();
  await customer.getByRole('button', { name: 'Disconnect' }).click();
  const dialog = customer.getByRole('dialog', { name: 'Disconnect Zoom?' });
  await dialog.waitFor();
  assert.equal(await customer.evaluate(() => document.activeElement?.id), 'disconnect-cancel', 'Cancel has the focus');
  await snap(customer, '04-disconnect-confirm');
  await dialog.getByRole('button', { name: 'Cancel' }).click();
  await dialog.waitFor({ state: 'hidden' });
  assert.equal(zoomCalls().filter((c) => c.method === 'DELETE').length, 0);

  // Escape closes it too, without disconnecting.
  await customer.getByRole('button', { name: 'Disconnect' }).click();
  await dialog.waitFor();
  await customer.keyboard.press('Escape');
  await dialog.waitFor({ state: 'hidden' });
  assert.equal(zoomCalls().filter((c) => c.method === 'DELETE').length, 0);

  await customer.getByRole('button', { name: 'Disconnect' }).click();
  await dialog.getByRole('button', { name: 'Disconnect Zoom' }).click();
  await customer.locator('#zoom-result', { hasText: 'Zoom is disconnected' }).waitFor();
  const del = zoomCalls().filter((c) => c.method === 'DELETE');
  assert.equal(del.length, 1);
  assert.equal(del[0].auth, 'Bearer tok-alice');
  await customer.locator('#zoom-state').filter({ hasText: 'Not connected' }).waitFor();
  assert.match(await customer.locator('#zoom-state').textContent(), /disconnected by alice/i);
  await customer.getByRole('button', { name: 'Connect Zoom' }).waitFor();
  assert.equal(await customer.evaluate(() => document.activeElement?.id), 'zoom-connect', 'the keyboard stays in Settings');
  await snap(customer, '05-disconnected');
});

test('back from Zoom before signing in: kept, sent after sign-in, and a refusal\'s detail is shown', async () => {
  api.connectAnswer = {
    status: 409,
    body: {
      type: '/problems/conflict', title: 'Conflict', status: 409, code: 'conflict',
      detail: 'That Zoom account is already connected to another customer.',
    },
  };
  const before = api.calls.length;
  const page = await newPage(`${APP}/?code=${CODE}&state=${STATE}&lang=en`);
  await page.getByRole('heading', { name: 'Sign in' }).waitFor();
  assert.equal(page.url(), `${APP}/?lang=en`, 'code and state leave the address at once, other parameters stay');
  await page.locator('#signin-msg', { hasText: 'Sign in to finish connecting Zoom.' }).waitFor();
  assert.equal(api.calls.slice(before).filter((c) => c.path.startsWith('/v1/')).length, 0, 'nothing sent before sign-in');
  await snap(page, '06-sign-in-to-finish');

  await signIn(page);
  await page.locator('#zoom-result', { hasText: 'That Zoom account is already connected to another customer.' }).waitFor();
  const sent = api.calls.slice(before).filter((c) => c.method === 'POST' && c.path === '/v1/zoom/connection');
  assert.equal(sent.length, 1);
  assert.deepEqual(JSON.parse(sent[0].body), { code: CODE, state: STATE });
  assert.equal(await page.getByRole('tab', { name: 'Settings' }).getAttribute('aria-selected'), 'true');
  assert.ok(!(await page.content()).includes(CODE), 'the code is not on the page');
  await page.locator('#zoom-state').filter({ hasText: 'Not connected' }).waitFor();
  await snap(page, '07-connect-refused');

  // A reload does not send the code again.
  await page.reload();
  await page.locator('#app').waitFor();
  await page.locator('#wait-body tr[data-number="+14155550100"]').waitFor();
  assert.equal(api.calls.slice(before).filter((c) => c.method === 'POST' && c.path === '/v1/zoom/connection').length, 1);
  await page.close();
});

test('a session that ended while at Zoom: sign in again and the connection completes', async () => {
  const page = await newPage(`${APP}/`);
  await signIn(page, 'bob');
  // The API refuses the access token, and the session cannot be renewed
  // (bob was signed out everywhere meanwhile).
  signOutEverywhere('bob');
  const renewalsBefore = idp.calls.filter((c) => c.form.grant_type === 'refresh_token').length;
  await page.evaluate(() => {
    const s = JSON.parse(sessionStorage.getItem('nr.customer.tokens'));
    sessionStorage.setItem('nr.customer.tokens', JSON.stringify({ ...s, access_token: 'expired' }));
  });
  await context.route(`${APP}/v1/zoom/connection`, (route) => {
    if (route.request().headers().authorization === 'Bearer expired') {
      return json(route, 401, { title: 'Unauthorized', status: 401, detail: 'the token has expired' }, 'application/problem+json');
    }
    return route.fallback();
  });
  try {
    await page.goto(`${APP}/?code=${CODE}&state=${STATE}`);
    await page.locator('#signin-msg', { hasText: 'Your session has expired. Sign in again.' }).waitFor();
    assert.match(await page.locator('#signin-msg').textContent(), /Sign in to finish connecting Zoom\./);
    const renewals = idp.calls.filter((c) => c.form.grant_type === 'refresh_token').length - renewalsBefore;
    assert.equal(renewals, 1, 'the 401 was followed by one renewal, refused');
    await signIn(page, 'bob');
    await page.locator('#zoom-result', { hasText: 'Zoom is connected' }).waitFor();
    const sent = api.calls.filter((c) => c.method === 'POST' && c.path === '/v1/zoom/connection');
    assert.equal(sent.at(-1).auth, 'Bearer tok-bob');
    assert.deepEqual(JSON.parse(sent.at(-1).body), { code: CODE, state: STATE });
  } finally {
    await context.unroute(`${APP}/v1/zoom/connection`);
  }
  await page.close();
});

test('the Settings tab is reached with the keyboard and fits a narrow window', async () => {
  // Zoom's admin removed the app meanwhile; opening Settings reads that.
  api.connection = { status: 'not_connected', reason: 'Zoom app removed from the Zoom account (app_deauthorized)', changed_at: '2026-01-05T11:00:00Z' };
  await customer.bringToFront();
  await customer.getByRole('tab', { name: /Wait for Release/ }).click();
  await customer.getByRole('tab', { name: /Wait for Release/ }).focus();
  await customer.keyboard.press('End');
  assert.equal(await customer.getByRole('tab', { name: 'Settings' }).getAttribute('aria-selected'), 'true');
  await customer.locator('#zoom-state').filter({ hasText: 'app_deauthorized' }).waitFor();
  await customer.setViewportSize({ width: 390, height: 800 });
  await customer.waitForTimeout(300);
  const overflow = await customer.evaluate(() => document.documentElement.scrollWidth - document.documentElement.clientWidth);
  assert.ok(overflow <= 1, `${overflow}px sideways overflow`);
  await snap(customer, '08-narrow-settings');
  await customer.getByRole('tab', { name: /Wait for Release/ }).click();
  await customer.locator('#zoom-banner').filter({ hasText: 'Zoom is not connected' }).waitFor();
  await snap(customer, '09-narrow-banner');
  await customer.setViewportSize({ width: 1000, height: 720 });
});

test('no script error, no blocked resource', () => {
  assert.deepEqual(pageErrors, []);
  // 400: the refused renewal; 401: the refused token; 404, 409: the API's answers.
  assert.deepEqual(consoleErrors.filter((e) => !/status of 40[0149]/.test(e)), []);
});
