// What the browser tests share: the demo users, Chromium started the same
// way, pages that record what they throw, the sign-in through the page's
// panel, calls to the local system's API, and stopping the system.
import assert from 'node:assert/strict';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { chromium } from 'playwright-core';

export const CHROMIUM = process.env.CHROMIUM || '/usr/bin/chromium';
// The demo users of `make run` (shared/harness/devstack/signin.go).
export const PASSWORD = 'Release-Demo-1';
export const ALICE = 'alice@acme.example'; // customer_admin:acme
export const PAT = 'pat@pxc.example'; // provider:pxc

const ARGS = ['--headless', '--no-sandbox', '--disable-gpu', '--disable-background-networking',
  '--disable-component-update', '--disable-sync', '--no-first-run', '--disable-quic'];

/** Chromium, headless, for browser.newContext(). */
export function launchBrowser() {
  return chromium.launch({ executablePath: CHROMIUM, headless: true, args: ARGS, timeout: 60_000 });
}

/**
 * One persistent Chromium context in a new profile directory (baseURL
 * optional), with a 15 s default timeout. close() closes it and removes the
 * profile.
 */
export async function launchContext({ profile = 'nr-chromium-profile-', baseURL } = {}) {
  const userDataDir = fs.mkdtempSync(path.join(os.tmpdir(), profile));
  const context = await chromium.launchPersistentContext(userDataDir, {
    executablePath: CHROMIUM,
    headless: true,
    args: ARGS,
    baseURL,
    viewport: { width: 1000, height: 720 },
    deviceScaleFactor: 1,
    timeout: 60_000,
  });
  context.setDefaultTimeout(15_000);
  const close = async () => {
    await context.close().catch(() => {});
    fs.rmSync(userDataDir, { recursive: true, force: true });
  };
  return { context, close };
}

/** Opens a page of the context at url; whatever the page throws goes to `errors`. */
export async function openPage(context, url, errors) {
  const page = await context.newPage();
  page.on('pageerror', (err) => errors.push(`${url}: ${err.message}`));
  await page.goto(url);
  return page;
}

/** From the page's sign-in panel through the stand-in's form; returns when the form is sent. */
export async function submitSignIn(page, email, password = PASSWORD) {
  await page.locator('#signin-btn').click();
  await page.getByLabel('Email address').fill(email);
  await page.getByLabel('Password').fill(password);
  await page.getByRole('button', { name: 'Sign in' }).click();
}

/**
 * Signs in (from the sign-in panel) and waits for the app; with `who`,
 * checks who the page says is signed in.
 */
export async function signIn(page, email, who) {
  await submitSignIn(page, email);
  await page.locator('#app').waitFor();
  if (who !== undefined) assert.equal(await page.locator('#who-text').textContent(), `${email} · ${who}`);
}

/**
 * Calls to the local system at baseUrl: call resolves {status, body};
 * mustCall the body of a 2xx answer (anything else fails the test);
 * providerToken a provider token from the local token issuer.
 */
export function apiOf(baseUrl) {
  async function call(method, p, { token, body } = {}) {
    const headers = {};
    if (token) headers.Authorization = `Bearer ${token}`;
    if (body !== undefined) headers['Content-Type'] = 'application/json';
    const res = await fetch(`${baseUrl}${p}`, { method, headers, body: body === undefined ? undefined : JSON.stringify(body) });
    const text = await res.text();
    let parsed = null;
    try {
      parsed = text ? JSON.parse(text) : null;
    } catch {
      parsed = text;
    }
    return { status: res.status, body: parsed };
  }
  async function mustCall(method, p, opts) {
    const res = await call(method, p, opts);
    assert.ok(res.status >= 200 && res.status < 300, `${method} ${p}: ${res.status} ${JSON.stringify(res.body)}`);
    return res.body;
  }
  async function providerToken(providerId = 'pxc') {
    return (await mustCall('POST', '/local/token', { body: { kind: 'provider', provider_id: providerId } })).access_token;
  }
  return { call, mustCall, providerToken };
}

/** Stops the local system (system.mjs) and checks that nothing it started is left running. */
export async function stopSystem(system) {
  const res = await system.stop();
  console.log(`# system stopped (${JSON.stringify(res.exit)}); processes it had started: ${res.started.length}, left running: ${res.leftovers.length}`);
  assert.deepEqual(res.leftovers, [], 'every process the system started (moto included) is gone');
}
