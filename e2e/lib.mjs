// Shared helpers for the browser scripts: launch Debian's chromium through playwright-core
// with a fresh profile, watch for requests that leave the server and for page errors, and a
// tiny test runner that ends with the plain "N passed, N failed" line.
//
// Environment: BASE_URL (required, e.g. http://127.0.0.1:8080), CHROMIUM (default
// /usr/bin/chromium).

import { existsSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

export const BASE_URL = (process.env.BASE_URL || '').replace(/\/+$/, '');
export const CHROMIUM = process.env.CHROMIUM || '/usr/bin/chromium';
export const DEMO_SLUG = process.env.DEMO_SLUG || 'que-tipo-de-ahorrista-sos';

export function fail(message) {
  console.error(`e2e: ${message}`);
  process.exit(2);
}

async function playwright() {
  try {
    return await import('playwright-core');
  } catch {
    fail('playwright-core is not installed: run `npm ci --prefix e2e`');
  }
}

/**
 * A browser context on a fresh user-data-dir. `options` are Playwright context options
 * (viewport, javaScriptEnabled, ...). Requests to any other origin than BASE_URL are aborted
 * and recorded in `external`; console errors and uncaught exceptions in `errors`.
 */
export async function launch(options = {}) {
  if (!BASE_URL) fail('BASE_URL is not set');
  if (!existsSync(CHROMIUM)) fail(`no chromium at ${CHROMIUM}: run \`apt-get install -y chromium\``);
  const { chromium } = await playwright();
  const profile = mkdtempSync(join(tmpdir(), 'faro-e2e-'));
  const context = await chromium.launchPersistentContext(profile, {
    executablePath: CHROMIUM,
    headless: true,
    args: [
      '--no-sandbox',
      '--disable-gpu',
      '--disable-background-networking',
      '--disable-component-update',
      '--disable-sync',
      '--no-first-run',
    ],
    ...options,
  });
  const origin = new URL(BASE_URL).origin;
  const external = [];
  const errors = [];
  await context.route('**/*', (route) => {
    const url = route.request().url();
    if (url.startsWith(origin + '/') || url.startsWith('data:')) return route.continue();
    external.push(url);
    return route.abort();
  });
  const watch = (page) => {
    page.on('console', (m) => { if (m.type() === 'error') errors.push(`console: ${m.text()}`); });
    page.on('pageerror', (e) => errors.push(`page error: ${e.message}`));
  };
  context.on('page', watch);
  context.pages().forEach(watch);
  const page = context.pages()[0] || (await context.newPage());
  return {
    context,
    page,
    external,
    errors,
    async close() {
      await context.close();
      rmSync(profile, { recursive: true, force: true });
    },
  };
}

export function assert(cond, message) {
  if (!cond) throw new Error(`assertion failed: ${message}`);
}

export function eq(actual, expected, message) {
  if (actual !== expected) {
    throw new Error(`${message}: expected ${JSON.stringify(expected)}, got ${JSON.stringify(actual)}`);
  }
}

const results = [];

/** Runs one named test; failures are reported, not thrown. */
export async function test(name, fn) {
  const started = Date.now();
  try {
    await fn();
    results.push({ name, ok: true });
    console.log(`ok   ${name} (${Date.now() - started} ms)`);
  } catch (e) {
    results.push({ name, ok: false });
    console.log(`FAIL ${name}\n     ${(e && e.stack) || e}`);
  }
}

/** Prints the summary line and exits non-zero when anything failed. */
export function done() {
  const passed = results.filter((r) => r.ok).length;
  const failed = results.length - passed;
  console.log(`e2e: ${passed} passed, ${failed} failed`);
  process.exit(failed === 0 && passed > 0 ? 0 : 1);
}

/** The content of `<meta property|name=...>` tags, by key. */
export async function metaTags(page) {
  return page.evaluate(() => {
    const out = {};
    for (const m of document.querySelectorAll('meta[property], meta[name]')) {
      out[m.getAttribute('property') || m.getAttribute('name')] = m.getAttribute('content');
    }
    return out;
  });
}

/** Width and height from a PNG's IHDR chunk. */
export function pngSize(buf) {
  const sig = [0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a];
  if (buf.length < 24 || !sig.every((b, i) => buf[i] === b)) return null;
  return { width: buf.readUInt32BE(16), height: buf.readUInt32BE(20) };
}

/**
 * Answers the question on screen with a deterministic choice: the first option of a single
 * choice (the middle one with `{ middle: true }`), the first two of a multiple choice (fewer
 * when the question allows fewer), the value 4 (clamped) on a scale. Returns the question's
 * text.
 */
export async function answerCurrent(page, { middle = false } = {}) {
  const fs = page.locator('fieldset#q');
  const type = await fs.getAttribute('data-type');
  const text = (await page.locator('#q-text').innerText()).trim();
  if (type === 'scale') {
    const range = page.locator('input[type=range]');
    const min = Number(await range.getAttribute('min'));
    const max = Number(await range.getAttribute('max'));
    await range.fill(String(Math.min(max, Math.max(min, 4))));
  } else if (type === 'multi') {
    const max = Number(await fs.getAttribute('data-max'));
    const boxes = page.locator('input[name=option]');
    const n = Math.min(2, max, await boxes.count());
    for (let i = 0; i < n; i++) await boxes.nth(i).check();
  } else {
    const radios = page.locator('input[name=option]');
    await radios.nth(middle ? Math.floor((await radios.count()) / 2) : 0).check();
  }
  return text;
}
