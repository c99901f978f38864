// The pages' sign-in client (web/static/signin.js) on its own, in Node: PKCE,
// the configuration, reading the ID token's claims, and the session's life
// (code exchange, renewal before expiry and after a 401, one renewal at a
// time, a refused renewal, sign-out) against a token endpoint played here.
// No browser needed; the browser tests run it against the local stand-in.
//
//   cd e2e/browser && node --test signin.test.mjs    (make browser-test runs it too)
import { test } from 'node:test';
import assert from 'node:assert/strict';
import {
  base64url, randomString, codeChallenge, decodeJwt, identity, roleText, parseConfig, authorizeUrl, logoutUrl,
  createAuth, SessionExpired, EXPIRED_MESSAGE, REFRESH_MARGIN,
} from '../../web/static/signin.js';
import { request, ApiError } from '../../web/static/lib.js';

const ORIGIN = 'https://app.test';
const CONFIG = {
  auth: {
    authorize_url: 'https://idp.test/oauth2/authorize',
    token_url: 'https://idp.test/oauth2/token',
    revoke_url: 'https://idp.test/oauth2/revoke',
    logout_url: 'https://idp.test/logout',
    client_id: 'web-client',
    scope: 'openid email',
    bearer: 'access_token',
  },
};

/** An unsigned JWT with these claims (the page only decodes). */
function jwt(claims) {
  const enc = (o) => base64url(new TextEncoder().encode(JSON.stringify(o)));
  return `${enc({ alg: 'none' })}.${enc(claims)}.sig`;
}

class MemoryStorage {
  constructor() { this.m = new Map(); }
  getItem(k) { return this.m.has(k) ? this.m.get(k) : null; }
  setItem(k, v) { this.m.set(k, String(v)); }
  removeItem(k) { this.m.delete(k); }
  clear() { this.m.clear(); }
}

/** A page at ORIGIN + address: location and history as createAuth uses them. */
function fakeWindow(address) {
  const w = { assigned: [] };
  w.location = {
    get href() { return new URL(w.address, ORIGIN).href; },
    get pathname() { return new URL(w.address, ORIGIN).pathname; },
    get search() { return new URL(w.address, ORIGIN).search; },
    get hash() { return new URL(w.address, ORIGIN).hash; },
    assign(url) { w.assigned.push(url); },
  };
  w.history = { state: null, replaceState(_s, _t, url) { w.address = url; } };
  w.address = address;
  return w;
}

const json = (status, body) => new Response(JSON.stringify(body), { status, headers: { 'Content-Type': 'application/json' } });

/**
 * A token endpoint: codes and refresh tokens it issued work once each
 * (refresh tokens until revoked); calls are recorded as form objects.
 */
function fakeIdp({ lifetime = 3600 } = {}) {
  const idp = { calls: [], revoked: new Set(), n: 0, refreshAnswer: null, gate: null };
  idp.fetch = async (url, init = {}) => {
    const u = String(url);
    if (u.endsWith('/web/config.json')) return json(200, CONFIG);
    const form = Object.fromEntries(new URLSearchParams(init.body || ''));
    idp.calls.push({ url: u, method: init.method, type: init.headers?.['Content-Type'], form });
    if (u === CONFIG.auth.revoke_url) {
      idp.revoked.add(form.token);
      return new Response('', { status: 200 });
    }
    if (u !== CONFIG.auth.token_url) return json(404, {});
    if (idp.gate) await idp.gate;
    if (form.grant_type === 'refresh_token') {
      if (idp.refreshAnswer) return idp.refreshAnswer();
      if (idp.revoked.has(form.refresh_token)) return json(400, { error: 'invalid_grant', error_description: 'Refresh Token has been revoked' });
      idp.n++;
      return json(200, { access_token: `access-${idp.n}`, id_token: jwt({ email: 'alice@acme.example', 'cognito:groups': ['customer_admin:acme'], n: idp.n }), expires_in: lifetime, token_type: 'Bearer' });
    }
    if (form.grant_type === 'authorization_code') {
      if (form.code !== 'good-code') return json(400, { error: 'invalid_grant' });
      idp.n++;
      return json(200, {
        access_token: `access-${idp.n}`,
        id_token: jwt({ email: 'alice@acme.example', 'cognito:groups': ['customer_admin:acme'] }),
        refresh_token: 'refresh-1',
        expires_in: lifetime,
        token_type: 'Bearer',
      });
    }
    return json(400, { error: 'unsupported_grant_type' });
  };
  return idp;
}

function setup(address = '/', { now = () => 1_000_000, lifetime } = {}) {
  const w = fakeWindow(address);
  const idp = fakeIdp({ lifetime });
  const storage = new MemoryStorage();
  const auth = createAuth({ key: 'nr.customer', path: '/', storage, fetch: idp.fetch, now, location: w.location, history: w.history });
  return { w, idp, storage, auth };
}

/** Signs in through begin() and complete() as the page does; returns the authorize URL. */
async function signIn(s) {
  await s.auth.begin();
  const authorize = new URL(s.w.assigned.at(-1));
  s.w.address = `/?code=good-code&state=${encodeURIComponent(authorize.searchParams.get('state'))}`;
  const ret = s.auth.takeReturn({ onlyOwn: true });
  assert.ok(ret, 'the sign-in answer is recognised');
  await s.auth.complete(ret);
  return authorize;
}

test('PKCE: the RFC 7636 example, and verifiers of 43 base64url characters', async () => {
  assert.equal(await codeChallenge('dBjftJeZ4CVP-mB92K27uhbUJU1p1r_wW1gFWFOEjXk'), 'E9Melhoa2OwvFrEMTJguCHaoeK1t8URWbuGJSstw-cM');
  const seen = new Set();
  for (let i = 0; i < 20; i++) {
    const v = randomString(32);
    assert.match(v, /^[A-Za-z0-9_-]{43}$/);
    seen.add(v);
  }
  assert.equal(seen.size, 20);
  assert.equal(base64url(new Uint8Array([251, 255, 191])), '-_-_');
});

test('the ID token is decoded for display; the role comes from the one Number Release group', () => {
  const email = 'zoë@acme.example';
  assert.deepEqual(decodeJwt(jwt({ email, n: 1 })), { email, n: 1 });
  for (const bad of ['', 'a.b', 'a.!!!.c', 'x.eyJ.y', null, 7]) assert.equal(decodeJwt(bad), null, String(bad));
  for (const [claims, want] of [
    [{ email: 'a@x', 'cognito:groups': ['customer_admin:acme'] }, { email: 'a@x', role: 'customer_admin', tenantId: 'acme', providerId: '' }],
    [{ email: 'p@x', 'cognito:groups': ['other', 'provider:pxc'] }, { email: 'p@x', role: 'provider', tenantId: '', providerId: 'pxc' }],
    [{ 'cognito:username': 'olive', 'cognito:groups': ['operator'] }, { email: 'olive', role: 'operator', tenantId: '', providerId: '' }],
    [{ email: 'two@x', 'cognito:groups': ['customer_admin:acme', 'provider:pxc'] }, { email: 'two@x', role: '', tenantId: '', providerId: '' }],
    [{ email: 'none@x', 'cognito:groups': ['customer_admin:'] }, { email: 'none@x', role: '', tenantId: '', providerId: '' }],
    [{ sub: 's1', role: 'customer_admin', tenant_id: 'globex' }, { email: 's1', role: 'customer_admin', tenantId: 'globex', providerId: '' }],
    [{}, { email: '', role: '', tenantId: '', providerId: '' }],
  ]) assert.deepEqual(identity(claims), want, JSON.stringify(claims));
  assert.equal(roleText({ role: 'customer_admin', tenantId: 'acme' }), 'customer admin of acme');
  assert.equal(roleText({ role: 'provider', providerId: 'pxc' }), 'provider pxc');
  assert.equal(roleText({ role: '' }), 'no Number Release role');
});

test('the configuration: addresses resolved, defaults, and a clear error naming the field', () => {
  const cfg = parseConfig({ auth: { ...CONFIG.auth, authorize_url: '/local/cognito/oauth2/authorize', revoke_url: '', scope: undefined, bearer: undefined } }, 'http://localhost:8080/portal');
  assert.equal(cfg.authorize_url, 'http://localhost:8080/local/cognito/oauth2/authorize');
  assert.equal(cfg.revoke_url, '');
  assert.equal(cfg.scope, 'openid email');
  assert.equal(cfg.bearer, 'access_token');
  for (const [auth, field] of [
    [{ ...CONFIG.auth, client_id: '' }, 'auth.client_id'],
    [{ ...CONFIG.auth, token_url: undefined }, 'auth.token_url'],
    [{ ...CONFIG.auth, logout_url: 'javascript:alert(1)' }, 'auth.logout_url'],
    [{ ...CONFIG.auth, bearer: 'refresh_token' }, 'auth.bearer'],
  ]) assert.throws(() => parseConfig({ auth }, ORIGIN), (err) => err instanceof ApiError && err.message.includes(field), field);
  assert.throws(() => parseConfig({}, ORIGIN), /no "auth" object/);
  const a = new URL(authorizeUrl(parseConfig(CONFIG, ORIGIN), { redirectUri: `${ORIGIN}/`, state: 's', challenge: 'c' }));
  assert.deepEqual(Object.fromEntries(a.searchParams), {
    response_type: 'code', client_id: 'web-client', redirect_uri: `${ORIGIN}/`, scope: 'openid email', state: 's', code_challenge: 'c', code_challenge_method: 'S256',
  });
  assert.equal(logoutUrl(parseConfig(CONFIG, ORIGIN), `${ORIGIN}/portal`), `https://idp.test/logout?client_id=web-client&logout_uri=${encodeURIComponent(`${ORIGIN}/portal`)}`);
});

test('sign-in: authorize with S256, back with the code, tokens stored, the address restored', async () => {
  const s = setup('/?lang=en#top');
  const authorize = await signIn(s);
  assert.equal(authorize.origin + authorize.pathname, CONFIG.auth.authorize_url);
  assert.equal(authorize.searchParams.get('redirect_uri'), `${ORIGIN}/`);
  assert.equal(authorize.searchParams.get('code_challenge_method'), 'S256');
  const exchange = s.idp.calls.find((c) => c.form.grant_type === 'authorization_code');
  assert.equal(exchange.method, 'POST');
  assert.equal(exchange.type, 'application/x-www-form-urlencoded');
  assert.match(exchange.form.code_verifier, /^[A-Za-z0-9_-]{43}$/);
  assert.equal(await codeChallenge(exchange.form.code_verifier), authorize.searchParams.get('code_challenge'));
  assert.deepEqual({ ...exchange.form, code_verifier: 'v' }, {
    grant_type: 'authorization_code', client_id: 'web-client', code: 'good-code', redirect_uri: `${ORIGIN}/`, code_verifier: 'v',
  });
  assert.equal(s.w.address, '/?lang=en#top', 'back where the sign-in started');
  const stored = JSON.parse(s.storage.getItem('nr.customer.tokens'));
  assert.equal(stored.expiresAt, 1_000_000 + 3600 * 1000, 'from expires_in and the local clock');
  assert.equal(s.storage.getItem('nr.customer.signin'), null, 'the sign-in state is used once');
  assert.deepEqual(s.auth.who(), { email: 'alice@acme.example', role: 'customer_admin', tenantId: 'acme', providerId: '' });
  assert.equal(await s.auth.token(), 'access-1');
});

test('another state (Zoom\'s) is left on the address; an error answer and a stranger\'s state are refused', async () => {
  const s = setup('/');
  await s.auth.begin();
  s.w.address = '/?code=zoom-code&state=zoom-state';
  assert.equal(s.auth.takeReturn({ onlyOwn: true }), null);
  assert.equal(s.w.address, '/?code=zoom-code&state=zoom-state');
  // The portal takes any answer, and refuses one it did not start.
  const taken = s.auth.takeReturn();
  assert.equal(s.w.address, '/');
  await assert.rejects(s.auth.complete(taken), /does not belong to a sign-in started in this tab/);

  await s.auth.begin();
  const state = new URL(s.w.assigned.at(-1)).searchParams.get('state');
  s.w.address = `/?error=access_denied&error_description=${encodeURIComponent('User is disabled.')}&state=${state}`;
  await assert.rejects(s.auth.complete(s.auth.takeReturn({ onlyOwn: true })), (err) => err.message === 'User is disabled.');
  assert.equal(s.auth.signedIn(), false);
});

test('a token expiring within 60 s is renewed first, once for any number of callers', async () => {
  let t = 1_000_000;
  const s = setup('/', { now: () => t });
  await signIn(s);
  t += 3600 * 1000 - REFRESH_MARGIN - 1000; // 61 s left
  assert.equal(await s.auth.token(), 'access-1');
  t += 2000; // 59 s left
  let open;
  s.idp.gate = new Promise((resolve) => { open = resolve; });
  const callers = [s.auth.token(), s.auth.token(), s.auth.token()];
  open();
  assert.deepEqual(await Promise.all(callers), ['access-2', 'access-2', 'access-2']);
  const renewals = s.idp.calls.filter((c) => c.form.grant_type === 'refresh_token');
  assert.equal(renewals.length, 1);
  assert.deepEqual(renewals[0].form, { grant_type: 'refresh_token', client_id: 'web-client', refresh_token: 'refresh-1' });
  const stored = JSON.parse(s.storage.getItem('nr.customer.tokens'));
  assert.equal(stored.refresh_token, 'refresh-1', 'the refresh token is kept when the answer has none');
  assert.equal(stored.expiresAt, t + 3600 * 1000);
});

test('an API 401: one renewal and one retry; a second 401 is the caller\'s', async (t) => {
  const s = setup('/');
  await signIn(s);
  const seen = [];
  let refuse = 1;
  t.mock.method(globalThis, 'fetch', async (_url, init) => {
    seen.push(init.headers.Authorization);
    if (refuse-- > 0) return json(401, { detail: 'token expired' });
    return json(200, { ok: true });
  });
  assert.deepEqual(await request('/v1/numbers', { auth: s.auth }), { ok: true });
  assert.deepEqual(seen, ['Bearer access-1', 'Bearer access-2']);

  refuse = 5;
  seen.length = 0;
  await assert.rejects(request('/v1/numbers', { method: 'POST', body: {}, auth: s.auth }), (err) => err.status === 401 && !err.expired);
  assert.deepEqual(seen, ['Bearer access-2', 'Bearer access-3'], 'one retry only');
  // Two calls refused with the same token share one renewal.
  const before = s.idp.n;
  await Promise.all([s.auth.renew('access-3'), s.auth.renew('access-3')]);
  assert.equal(s.idp.n, before + 1);
  assert.equal(await s.auth.renew('access-1'), `access-${before + 1}`, 'a stale token that was renewed meanwhile');
});

test('a refused renewal (invalid_grant) ends the session; an unreachable or failing one does not', async () => {
  let t = 1_000_000;
  const s = setup('/', { now: () => t });
  await signIn(s);
  t += 3600 * 1000; // expired
  s.idp.refreshAnswer = () => json(503, { error: 'temporarily_unavailable' });
  await assert.rejects(s.auth.token(), (err) => err.status === 503 && !err.expired);
  assert.equal(s.auth.signedIn(), true, 'kept for the next try');
  s.idp.refreshAnswer = null;
  s.idp.revoked.add('refresh-1');
  await assert.rejects(s.auth.token(), (err) => err instanceof SessionExpired && err.status === 401 && err.message === EXPIRED_MESSAGE);
  assert.equal(s.auth.signedIn(), false);
  assert.equal(s.storage.getItem('nr.customer.tokens'), null);
  await assert.rejects(s.auth.token(), SessionExpired);
});

test('sign-out revokes the refresh token, clears the tab\'s storage and goes to the provider\'s logout', async () => {
  const s = setup('/portal');
  const auth = createAuth({ key: 'nr.provider', path: '/portal', storage: s.storage, fetch: s.idp.fetch, location: s.w.location, history: s.w.history });
  await auth.begin();
  const state = new URL(s.w.assigned.at(-1)).searchParams.get('state');
  s.w.address = `/portal?code=good-code&state=${state}`;
  await auth.complete(auth.takeReturn());
  assert.equal(s.w.address, '/portal');
  s.storage.setItem('nr.customer.zoom-return', '{}');
  await auth.signOut();
  const revoke = s.idp.calls.find((c) => c.url === CONFIG.auth.revoke_url);
  assert.deepEqual(revoke.form, { token: 'refresh-1', client_id: 'web-client' });
  assert.equal(s.storage.m.size, 0);
  assert.equal(s.w.assigned.at(-1), `https://idp.test/logout?client_id=web-client&logout_uri=${encodeURIComponent(`${ORIGIN}/portal`)}`);
});
