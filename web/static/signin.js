// Sign-in for the Number Release pages (the customer app and the management
// portal): OAuth 2.0 authorization code with PKCE (S256) against the identity
// provider that GET /web/config.json names: Cognito's managed login on AWS,
// its local stand-in under /local/cognito in `make run`. The same code runs
// in both places.
//
// The page sends the browser to the provider's sign-in page, comes back with
// ?code&state, exchanges the code (with the PKCE verifier) for tokens, keeps
// them in the tab's sessionStorage and sends one of them (config `bearer`,
// the access token for Cognito) to the API. A token about to expire is
// renewed with the refresh token first; an API 401 renews once and retries
// once; a refused renewal means the session has expired. The ID token's
// claims are only decoded, to show who is signed in: the API verifies the
// token it receives. No dependencies besides lib.js.
import { ApiError, oauthReturn, notice, fill, h } from './lib.js';

/** Where the pages read their sign-in configuration (same origin as the page). */
export const CONFIG_PATH = '/web/config.json';
/** A bearer token expiring within this many ms is renewed before it is sent. */
export const REFRESH_MARGIN = 60_000;
/** What the page says when the session can no longer be renewed. */
export const EXPIRED_MESSAGE = 'Your session has expired. Sign in again.';
// Used when a token answer has no expires_in: renew early rather than late.
const DEFAULT_LIFETIME = 300;
// Sign-out revokes the refresh token, but does not wait for it longer than this.
const REVOKE_WAIT = 5000;

const URL_FIELDS = ['authorize_url', 'token_url', 'logout_url'];
const BEARERS = ['access_token', 'id_token'];

/** Bytes as base64url without padding (RFC 4648 §5). */
export function base64url(bytes) {
  let s = '';
  for (const b of bytes) s += String.fromCharCode(b);
  return btoa(s).replace(/\+/g, '-').replace(/\//g, '_').replace(/=+$/, '');
}

function webCrypto() {
  const c = globalThis.crypto;
  if (!c?.subtle || typeof c.getRandomValues !== 'function') {
    throw new ApiError(0, {
      detail: 'Sign-in needs a secure page (https, or http://localhost): this browser offers no Web Crypto here.',
    });
  }
  return c;
}

/** A random base64url string of n bytes (32 bytes: 43 characters, a PKCE code_verifier). */
export function randomString(n = 32) {
  return base64url(webCrypto().getRandomValues(new Uint8Array(n)));
}

/** The PKCE S256 code_challenge of a code_verifier (RFC 7636 §4.2). */
export async function codeChallenge(verifier) {
  const digest = await webCrypto().subtle.digest('SHA-256', new TextEncoder().encode(verifier));
  return base64url(new Uint8Array(digest));
}

/** A JWT's payload, decoded but NOT verified (for display only); null when it is not a JWT. */
export function decodeJwt(token) {
  const parts = typeof token === 'string' ? token.split('.') : [];
  if (parts.length !== 3) return null;
  try {
    const b64 = parts[1].replace(/-/g, '+').replace(/_/g, '/');
    const bin = atob(b64 + '='.repeat((4 - (b64.length % 4)) % 4));
    const claims = JSON.parse(new TextDecoder().decode(Uint8Array.from(bin, (ch) => ch.charCodeAt(0))));
    return claims && typeof claims === 'object' && !Array.isArray(claims) ? claims : null;
  } catch {
    return null;
  }
}

/**
 * Who a token's claims say the user is: {email, role, tenantId, providerId}.
 * The role comes from the Cognito group (`customer_admin:<tenant>`,
 * `provider:<id>`, `operator`; exactly one per user), or from an external
 * issuer's flat `role`, `tenant_id` and `provider_id` claims. role is ''
 * when the claims name no single Number Release role.
 */
export function identity(claims) {
  const c = claims || {};
  const email = String(c.email || c['cognito:username'] || c.username || c.sub || '');
  const groups = Array.isArray(c['cognito:groups']) ? c['cognito:groups'].map(String) : [];
  const roles = [];
  for (const g of groups) {
    const [name, id] = g.split(/:(.*)/s);
    if (name === 'customer_admin' && id) roles.push({ role: 'customer_admin', tenantId: id, providerId: '' });
    else if (name === 'provider' && id) roles.push({ role: 'provider', tenantId: '', providerId: id });
    else if (g === 'operator') roles.push({ role: 'operator', tenantId: '', providerId: '' });
  }
  if (roles.length === 1) return { email, ...roles[0] };
  if (roles.length === 0 && typeof c.role === 'string') {
    return { email, role: c.role, tenantId: String(c.tenant_id || ''), providerId: String(c.provider_id || '') };
  }
  return { email, role: '', tenantId: '', providerId: '' };
}

/** A role in words: "customer admin of acme", "provider pxc", "operator". */
export function roleText(who) {
  switch (who?.role) {
    case 'customer_admin': return `customer admin of ${who.tenantId}`;
    case 'provider': return `provider ${who.providerId}`;
    case 'operator': return 'operator';
    default: return 'no Number Release role';
  }
}

function configError(field, what) {
  return new ApiError(0, { detail: `The sign-in configuration (${CONFIG_PATH}) is not usable: auth.${field} ${what}.` });
}

/**
 * Checks GET /web/config.json's body and resolves its addresses against
 * base: {authorize_url, token_url, revoke_url ('' = none), logout_url,
 * client_id, scope, bearer}. Throws an ApiError naming the field.
 */
export function parseConfig(data, base) {
  const a = data?.auth;
  if (!a || typeof a !== 'object' || Array.isArray(a)) {
    throw new ApiError(0, { detail: `The sign-in configuration (${CONFIG_PATH}) has no "auth" object.` });
  }
  const url = (field, optional) => {
    const v = a[field];
    if ((v === undefined || v === null || v === '') && optional) return '';
    if (typeof v !== 'string' || !v) throw configError(field, 'is missing');
    let u;
    try {
      u = new URL(v, base);
    } catch {
      throw configError(field, `is not an address (${JSON.stringify(v)})`);
    }
    if (u.protocol !== 'https:' && u.protocol !== 'http:') throw configError(field, 'is not an http(s) address');
    return u.href;
  };
  const cfg = {};
  for (const f of URL_FIELDS) cfg[f] = url(f, false);
  cfg.revoke_url = url('revoke_url', true);
  if (typeof a.client_id !== 'string' || !a.client_id.trim()) throw configError('client_id', 'is missing');
  cfg.client_id = a.client_id.trim();
  cfg.scope = typeof a.scope === 'string' && a.scope.trim() ? a.scope.trim() : 'openid email';
  cfg.bearer = a.bearer === undefined || a.bearer === '' ? 'access_token' : a.bearer;
  if (!BEARERS.includes(cfg.bearer)) throw configError('bearer', `must be ${BEARERS.join(' or ')}, not ${JSON.stringify(a.bearer)}`);
  return cfg;
}

/** Reads and checks the sign-in configuration. */
export async function loadConfig(fetchFn, base) {
  let res;
  try {
    res = await fetchFn(CONFIG_PATH, { cache: 'no-store', credentials: 'same-origin', headers: { Accept: 'application/json' } });
  } catch {
    throw new ApiError(0, { detail: 'The sign-in configuration could not be read: the server could not be reached. Try again.' });
  }
  if (!res.ok) {
    throw new ApiError(res.status, { detail: `The sign-in configuration could not be read (${CONFIG_PATH} answered ${res.status}).` });
  }
  let data;
  try {
    data = await res.json();
  } catch {
    throw new ApiError(0, { detail: `The sign-in configuration (${CONFIG_PATH}) is not JSON.` });
  }
  return parseConfig(data, base);
}

/** The identity provider's authorization address for a sign-in. */
export function authorizeUrl(cfg, { redirectUri, state, challenge }) {
  const u = new URL(cfg.authorize_url);
  u.searchParams.set('response_type', 'code');
  u.searchParams.set('client_id', cfg.client_id);
  u.searchParams.set('redirect_uri', redirectUri);
  u.searchParams.set('scope', cfg.scope);
  u.searchParams.set('state', state);
  u.searchParams.set('code_challenge', challenge);
  u.searchParams.set('code_challenge_method', 'S256');
  return u.href;
}

/** The identity provider's sign-out address, coming back to logoutUri. */
export function logoutUrl(cfg, logoutUri) {
  const u = new URL(cfg.logout_url);
  u.searchParams.set('client_id', cfg.client_id);
  u.searchParams.set('logout_uri', logoutUri);
  return u.href;
}

/** The token endpoint refused (an OAuth error answer): {status, error, description}. */
export class TokenError extends ApiError {
  constructor(status, error, description) {
    super(status, { detail: description ? `${description} (${error})` : `the sign-in service answered ${error || status}` });
    this.name = 'TokenError';
    this.error = error || '';
    this.description = description || '';
  }
}

/** The session cannot be renewed: the user must sign in again. Status 401, expired = true. */
export class SessionExpired extends ApiError {
  constructor(message = EXPIRED_MESSAGE) {
    super(401, { detail: message });
    this.name = 'SessionExpired';
    this.expired = true;
  }
}

/** A JSON value under one key of a Storage. */
function box(storage, key) {
  return {
    get() {
      try {
        const raw = storage.getItem(key);
        return raw ? JSON.parse(raw) : null;
      } catch {
        return null;
      }
    },
    set(value) {
      storage.setItem(key, JSON.stringify(value));
    },
    clear() {
      storage.removeItem(key);
    },
  };
}

/** A same-origin path to come back to after signing in ('/' + anything, never '//host'). */
function safePath(p, fallback) {
  return typeof p === 'string' && p.startsWith('/') && !p.startsWith('//') && !p.startsWith('/\\') ? p : fallback;
}

/**
 * The sign-in of one page. key prefixes its sessionStorage entries
 * (`<key>.tokens`, `<key>.signin`); path is the page's path, which is both its
 * redirect URI and its logout URI (`<origin><path>`). The rest is for tests.
 *
 * It is also what lib.js request() takes as `auth`: token() gives the bearer
 * token (renewed first when it expires within REFRESH_MARGIN), renew(stale)
 * renews after a 401.
 */
export function createAuth({
  key,
  path,
  storage = globalThis.sessionStorage,
  fetch: fetchFn = (...args) => globalThis.fetch(...args),
  now = Date.now,
  location = globalThis.location,
  history = globalThis.history,
} = {}) {
  const tokens = box(storage, `${key}.tokens`); // {access_token, id_token, refresh_token, expiresAt}
  const pending = box(storage, `${key}.signin`); // {state, code_verifier, return_to}
  const redirectUri = new URL(path, location.href).href;
  let configLoad = null;
  let refreshing = null; // the one renewal under way

  /** The configuration, read once per page load (again after a failure). */
  function config() {
    if (!configLoad) {
      configLoad = loadConfig(fetchFn, location.href).catch((err) => {
        configLoad = null;
        throw err;
      });
    }
    return configLoad;
  }

  /** POSTs a form to the token endpoint; resolves its JSON answer and when it arrived. */
  async function tokenCall(cfg, params) {
    let res;
    try {
      res = await fetchFn(cfg.token_url, {
        method: 'POST',
        headers: { 'Content-Type': 'application/x-www-form-urlencoded', Accept: 'application/json' },
        body: new URLSearchParams(params).toString(),
        cache: 'no-store',
        credentials: 'omit',
      });
    } catch {
      throw new ApiError(0, { detail: 'The sign-in service could not be reached. Check the connection and try again.' });
    }
    const receivedAt = now();
    let data = null;
    try {
      data = await res.json();
    } catch {
      data = null;
    }
    if (!res.ok) throw new TokenError(res.status, data?.error, data?.error_description);
    if (!data || typeof data !== 'object') throw new ApiError(0, { detail: 'The sign-in service\'s answer could not be read.' });
    return { data, receivedAt };
  }

  /** Stores a token answer; a renewal keeps the refresh token (and ID token) it did not replace. */
  function save(cfg, { data, receivedAt }, previous) {
    const t = {
      access_token: typeof data.access_token === 'string' ? data.access_token : '',
      id_token: typeof data.id_token === 'string' ? data.id_token : (previous?.id_token || ''),
      refresh_token: typeof data.refresh_token === 'string' ? data.refresh_token : (previous?.refresh_token || ''),
      // From the local clock and expires_in, never from the token's exp: the
      // browser's clock may be off.
      expiresAt: receivedAt + (Number(data.expires_in) > 0 ? Number(data.expires_in) : DEFAULT_LIFETIME) * 1000,
    };
    if (!t[cfg.bearer]) throw new ApiError(0, { detail: `The sign-in service's answer has no ${cfg.bearer}.` });
    tokens.set(t);
    return t;
  }

  async function doRefresh(current) {
    const cfg = await config();
    if (!current.refresh_token) {
      tokens.clear();
      throw new SessionExpired();
    }
    let answer;
    try {
      answer = await tokenCall(cfg, { grant_type: 'refresh_token', client_id: cfg.client_id, refresh_token: current.refresh_token });
    } catch (err) {
      // Refused (invalid_grant: revoked, expired, signed out everywhere):
      // the session is over. Anything else (unreachable, 5xx) may pass.
      if (err instanceof TokenError && (err.status === 400 || err.status === 401)) {
        tokens.clear();
        throw new SessionExpired();
      }
      throw err;
    }
    // Signed out meanwhile (another call's failure, the Sign out button): do not sign back in.
    if (tokens.get()?.refresh_token !== current.refresh_token) throw new SessionExpired();
    return save(cfg, answer, current);
  }

  /** Renews the tokens; one renewal at a time, shared by every caller. */
  function refresh(current) {
    if (!refreshing) {
      refreshing = doRefresh(current).finally(() => {
        refreshing = null;
      });
    }
    return refreshing;
  }

  const auth = {
    redirectUri,
    config,

    /** Whether tokens are stored (the session may still turn out expired). */
    signedIn() {
      const t = tokens.get();
      return Boolean(t && (t.access_token || t.id_token));
    },

    /** Who is signed in, from the ID token's claims (decoded only), else the access token's. */
    who() {
      const t = tokens.get();
      if (!t) return null;
      const idClaims = decodeJwt(t.id_token);
      const accessClaims = decodeJwt(t.access_token);
      const who = identity(idClaims || accessClaims);
      if (!who.role && idClaims && accessClaims) {
        // The groups may be in the access token only.
        const more = identity(accessClaims);
        return { ...more, email: who.email || more.email };
      }
      return who;
    },

    /**
     * Reads this page's own sign-in answer (?code&state, or ?error&state)
     * off the address at once and returns it; null when there is none.
     * onlyOwn: leave an answer whose state is not the stored sign-in state
     * where it is (the customer app's Zoom return); otherwise take any.
     */
    takeReturn({ onlyOwn = false } = {}) {
      const ret = oauthReturn(location.search);
      if (!ret) return null;
      const mine = pending.get()?.state === ret.state;
      if (onlyOwn && !mine) return null;
      const { rest, ...params } = ret;
      history.replaceState(history.state, '', `${location.pathname}${rest}${location.hash}`);
      return params;
    },

    /** Starts a sign-in: keeps {state, code_verifier, return path}, then goes to the provider. */
    async begin() {
      const cfg = await config();
      const verifier = randomString(32);
      const state = randomString(16);
      const challenge = await codeChallenge(verifier);
      pending.set({ state, code_verifier: verifier, return_to: `${location.pathname}${location.search}${location.hash}` });
      location.assign(authorizeUrl(cfg, { redirectUri, state, challenge }));
    },

    /** Finishes a sign-in from takeReturn()'s answer: exchanges the code, stores the tokens. */
    async complete(ret) {
      const started = pending.get();
      pending.clear();
      if (!started || started.state !== ret.state) {
        throw new ApiError(0, { detail: 'The sign-in answer does not belong to a sign-in started in this tab. Sign in again.' });
      }
      if (ret.error) {
        throw new ApiError(0, { detail: ret.description || `the sign-in service answered ${ret.error}` });
      }
      const cfg = await config();
      const answer = await tokenCall(cfg, {
        grant_type: 'authorization_code',
        client_id: cfg.client_id,
        code: ret.code,
        redirect_uri: redirectUri,
        code_verifier: started.code_verifier,
      });
      save(cfg, answer, null);
      history.replaceState(history.state, '', safePath(started.return_to, path));
    },

    /** The bearer token for an API call, renewed first if it expires within REFRESH_MARGIN. */
    async token() {
      const cfg = await config();
      let t = tokens.get();
      if (!t) throw new SessionExpired();
      if (!(t.expiresAt - now() > REFRESH_MARGIN)) t = await refresh(t);
      return t[cfg.bearer];
    },

    /** After a 401 with stale: a renewed token (once per stale token, however many calls ask). */
    async renew(stale) {
      const cfg = await config();
      const t = tokens.get();
      if (!t) throw new SessionExpired();
      if (t[cfg.bearer] !== stale) return t[cfg.bearer]; // renewed meanwhile
      return (await refresh(t))[cfg.bearer];
    },

    /** Forgets the tokens (the page shows its sign-in panel). */
    forget() {
      tokens.clear();
    },

    /**
     * Signs out: revokes the refresh token (best effort), clears the tab's
     * sessionStorage and goes to the provider's sign-out, which comes back
     * to this page.
     */
    async signOut() {
      const t = tokens.get();
      let cfg = null;
      try {
        cfg = await config();
      } catch {
        cfg = null;
      }
      if (cfg?.revoke_url && t?.refresh_token) {
        const stop = new AbortController();
        const timer = setTimeout(() => stop.abort(), REVOKE_WAIT);
        try {
          await fetchFn(cfg.revoke_url, {
            method: 'POST',
            headers: { 'Content-Type': 'application/x-www-form-urlencoded' },
            body: new URLSearchParams({ token: t.refresh_token, client_id: cfg.client_id }).toString(),
            cache: 'no-store',
            credentials: 'omit',
            signal: stop.signal,
          });
        } catch {
          // Best effort: the tokens are forgotten here anyway.
        } finally {
          clearTimeout(timer);
        }
      }
      storage.clear();
      location.assign(cfg ? logoutUrl(cfg, redirectUri) : redirectUri);
    },
  };
  return auth;
}

// ---- the pages' sign-in panel -------------------------------------------------

/**
 * The sign-in panel and the "who" line of a page (both pages use the same
 * element ids: signin, signin-title, signin-lead, signin-msg, signin-btn,
 * signin-out, app, who, who-text, sign-out).
 *
 *   role        the role the page is for ('customer_admin', 'provider')
 *   forWhom     that role in words, plural ("customer admins")
 *   otherPage   (who) => {href, text} of the page for another role, or null
 *   note        () => a line added to every message ('' for none)
 *   onlyOwn     leave ?code&state that are not this sign-in's (the customer app's Zoom return)
 *   afterReturn () => reads what else the address brings, once the sign-in's own answer is off it
 *   onSignedIn  (who) => starts the app
 *
 * start() finishes a sign-in coming back from the provider, then starts the
 * app (or shows the panel); show(message) shows the panel; ended(err) is for
 * an API call that failed with 401 (the session expired, or the API refused
 * the token even after a renewal): the tokens are forgotten and the panel
 * says why.
 */
export function signInPanel(auth, {
  role, forWhom, otherPage = () => null, note = () => '', onlyOwn = false, afterReturn = () => {}, onSignedIn,
}) {
  const $ = (id) => document.getElementById(id);
  const title = $('signin-title').textContent;
  const lead = $('signin-lead').textContent;
  let leaving = false;

  function panel() {
    $('app').hidden = true;
    $('who').hidden = true;
    $('signin').hidden = false;
  }

  function message(kind, text) {
    const extra = note();
    const el = $('signin-msg');
    if (text) notice(el, kind, extra ? `${text} ${extra}` : text);
    else notice(el, extra ? 'info' : '', extra);
  }

  /** The panel with a Sign in button and a message (kind: error, info). */
  function show(text = '', kind = 'error') {
    panel();
    $('signin-title').textContent = title;
    fill($('signin-lead'), lead);
    $('signin-btn').hidden = false;
    $('signin-btn').disabled = false;
    $('signin-out').hidden = true;
    message(kind, text);
    // After a failure the keyboard lands on the way back in.
    if (text) $('signin-btn').focus();
  }

  /** Signed in, but not as the role this page is for: say so, offer Sign out. */
  function wrongRole(who) {
    panel();
    $('signin-title').textContent = `This page is for ${forWhom}`;
    const other = otherPage(who);
    fill($('signin-lead'),
      `You are signed in as ${who.email || 'an unnamed user'} (${roleText(who)}). Only ${forWhom} can use this page: the server would refuse your requests (403).`,
      other ? [' ', h('a', { href: other.href }, other.text), '.'] : null);
    $('signin-btn').hidden = true;
    $('signin-out').hidden = false;
    notice($('signin-msg'), '', '');
    $('signin-out').focus();
  }

  function busy(text) {
    panel();
    $('signin-btn').disabled = true;
    $('signin-out').hidden = true;
    notice($('signin-msg'), 'info', text);
  }

  function enter() {
    const who = auth.who();
    if (!who || who.role !== role || (role === 'customer_admin' && !who.tenantId) || (role === 'provider' && !who.providerId)) {
      wrongRole(who || { email: '', role: '' });
      return;
    }
    $('signin').hidden = true;
    $('app').hidden = false;
    $('who').hidden = false;
    $('who-text').textContent = `${who.email} · ${roleText(who)}`;
    onSignedIn(who);
  }

  async function signIn() {
    if (leaving) return;
    leaving = true;
    $('signin-btn').disabled = true;
    notice($('signin-msg'), 'info', 'Opening the sign-in page…');
    try {
      await auth.begin();
    } catch (err) {
      leaving = false;
      $('signin-btn').disabled = false;
      message('error', `Could not sign in: ${err.message}`);
    }
  }

  async function signOut() {
    if (leaving) return;
    leaving = true;
    $('sign-out').disabled = true;
    $('signin-out').disabled = true;
    await auth.signOut();
  }

  async function start() {
    $('signin-btn').addEventListener('click', signIn);
    $('signin-out').addEventListener('click', signOut);
    $('sign-out').addEventListener('click', signOut);
    // Back from the provider's page through the browser's Back button (page
    // cache): the buttons work again.
    window.addEventListener('pageshow', (e) => {
      if (!e.persisted || !leaving) return;
      leaving = false;
      $('signin-btn').disabled = false;
      $('sign-out').disabled = false;
      $('signin-out').disabled = false;
      if (!$('signin').hidden && !$('signin-btn').hidden) message('', '');
    });
    const ret = auth.takeReturn({ onlyOwn });
    afterReturn();
    if (ret) {
      busy('Signing in…');
      try {
        await auth.complete(ret);
      } catch (err) {
        auth.forget();
        show(`Could not sign in: ${err.message}`);
        return;
      }
    }
    if (auth.signedIn()) enter();
    else show();
  }

  function ended(err) {
    auth.forget();
    show(err?.expired ? EXPIRED_MESSAGE : `Your sign-in was not accepted (${err?.message || 'unauthorized'}). Sign in again.`);
  }

  return { start, show, ended };
}
