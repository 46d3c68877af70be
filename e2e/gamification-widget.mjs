// The gamification widget in a real browser (issue 11), on its demo page
// (/gamification/demo, served with FARO_DEMO): the leaderboard's rows, an end user signing up
// through the page and seeing their progress bar, an event they report unlocking a badge and a
// level (an accessible toast, the bar moving), the three periods, the four languages, names
// drawn as text (never markup), motion reduced when asked, a 390px phone without sideways
// scrolling, no script error and nothing fetched from another origin.
//
//   BASE_URL=http://127.0.0.1:8080 ADMIN_USER=admin ADMIN_PASSWORD=... node e2e/gamification-widget.mjs
//
// With the admin's credentials it first sends a few named players' events (the leaderboard
// then has rows before anyone signs up); without, it starts from what the server holds. With
// OUT_DIR set it saves docs' screenshots: gamification-widget-desktop.png and -phone.png.

import { mkdirSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { BASE_URL, assert, done, eq, launch, test } from './lib.mjs';

const USER = process.env.ADMIN_USER;
const PASSWORD = process.env.ADMIN_PASSWORD;
const OUT_DIR = process.env.OUT_DIR ? resolve(process.env.OUT_DIR) : null;
const RUN = Date.now().toString(36);
const USER_PASSWORD = 'Sol-y-Sombra-2026';

async function api(method, path, body, token) {
  const res = await fetch(`${BASE_URL}${path}`, {
    method,
    headers: {
      ...(body ? { 'content-type': 'application/json' } : {}),
      ...(token ? { authorization: `Bearer ${token}` } : {}),
    },
    body: body ? JSON.stringify(body) : undefined,
  });
  const text = await res.text();
  assert(res.ok, `${method} ${path}: HTTP ${res.status} ${text}`);
  return text ? JSON.parse(text) : null;
}

let adminToken = null;
async function admin() {
  if (!adminToken) {
    adminToken = (await api('POST', '/api/v1/admin/login', { username: USER, password: PASSWORD })).access_token;
  }
  return adminToken;
}

/** A server's event for a named player (what a site's backend sends with an API key). */
async function serverEvent(user, key, name, type = 'conversion.completed', props = {}) {
  return api('POST', '/api/v1/gamification/events',
    { user, type, key: `${RUN}-${key}`, props, display_name: name }, await admin());
}

const board = (page) => page.locator('#leaderboard li');
const toasts = (page) => page.locator('[data-faro-toasts] .toast');

/** Signs a new end user up through the demo page's form. */
async function signUp(page, email) {
  await page.locator('#sign-in input[name=email]').fill(email);
  await page.locator('#sign-in input[name=password]').fill(USER_PASSWORD);
  await page.locator('#sign-in button[value=register]').click();
  await page.locator('#signed-in').waitFor({ state: 'visible' });
  await page.locator('#progress [role=progressbar]').waitFor({ state: 'visible' });
}

/** Reports the first share of a new user and waits for its toasts. */
async function shareAndWait(page) {
  const answer = page.waitForResponse((r) => r.url().endsWith('/api/v1/gamification/me/events'));
  await page.locator('button[data-faro-track="content.shared"]').click();
  const res = await answer;
  eq(res.status(), 201, 'the event was taken');
  await toasts(page).nth(1).waitFor({ state: 'visible' });
  return res.json();
}

async function shot(page, file, fullPage = false) {
  if (!OUT_DIR) return;
  mkdirSync(OUT_DIR, { recursive: true });
  await page.screenshot({ path: join(OUT_DIR, file), fullPage, animations: 'disabled', caret: 'hide' });
  console.log(`saved ${join(OUT_DIR, file)}`);
}

if (USER && PASSWORD) {
  await test('named players score through the server API', async () => {
    const players = [
      ['María García', 6], ['Jordi Puig', 4], ['João Silva', 3], ['Lucía Fernández', 2], ['Ana Costa', 1],
    ];
    for (const [i, [name, conversions]] of players.entries()) {
      for (let n = 0; n < conversions; n++) await serverEvent(`${RUN}-p${i}`, `p${i}-c${n}`, name);
    }
  });
}

const b = await launch({ viewport: { width: 1280, height: 800 }, locale: 'es-ES' });
const { page } = b;
const email = `widget-${RUN}@example.com`;
let before = 0;

await test('the demo page draws the public leaderboard with masked names', async () => {
  await page.goto(`${BASE_URL}/gamification/demo`);
  eq(await page.locator('#leaderboard h2').innerText(), 'Ranking', 'in the page language (es)');
  if (USER && PASSWORD) {
    await board(page).first().waitFor({ state: 'visible' });
    const names = await page.locator('#leaderboard li .nm').allInnerTexts();
    assert(names.some((n) => n.startsWith('María G.')), `masked names: ${names}`);
    assert(!names.some((n) => n.includes('García')), 'no full surname');
  }
  before = await board(page).count();
  eq(await page.locator('#leaderboard [aria-pressed=true]').innerText(), 'Histórico', 'all time first');
  assert((await page.locator('#progress section').innerText()).includes('Inicia sesión'), 'signed out: asks to sign in');
});

await test('an end user signs up and sees their progress bar', async () => {
  await signUp(page, email);
  const bar = page.locator('#progress [role=progressbar]');
  eq(await bar.getAttribute('aria-valuenow'), '0', 'nothing earned yet');
  eq(await page.locator('#progress .ti').innerText(), 'Novato Converter', 'level 1');
  assert((await page.locator('#progress section').innerText()).includes('Faltan 100 puntos para Explorador Digital'), 'what the next level needs');
});

await test('sharing unlocks a badge and a level: a toast for each, the bar and the board follow', async () => {
  const out = await shareAndWait(page);
  assert(out.badges.includes('adoptador_temprano'), `the early-adopter badge: ${JSON.stringify(out)}`);
  eq(out.level_up, 3, 'up to level 3');
  const box = page.locator('[data-faro-toasts] [role=status]');
  eq(await box.getAttribute('aria-live'), 'polite', 'a polite live region');
  const texts = await toasts(page).allInnerTexts();
  assert(texts.some((t) => t.includes('¡Insignia desbloqueada!') && t.includes('Adoptador Temprano')), `badge toast: ${texts}`);
  assert(texts.some((t) => t.includes('Nivel 3: Convertidor Hábil')), `level toast: ${texts}`);
  await page.locator('#progress .ti').filter({ hasText: 'Convertidor Hábil' }).waitFor();
  assert((await page.locator('#progress section').innerText()).includes('520 puntos'), 'the new balance');
  const now = Number(await page.locator('#progress [role=progressbar]').getAttribute('aria-valuenow'));
  assert(now > 0 && now < 100, `progress to level 4: ${now}`);
  await page.waitForFunction((n) => document.querySelectorAll('#leaderboard').length
    && document.querySelector('#leaderboard').shadowRoot.querySelectorAll('li').length > n, before);
  await shot(page, 'gamification-widget-desktop.png');
});

await test('a toast closes with its button and the same event again changes nothing', async () => {
  const n = await toasts(page).count();
  eq(await toasts(page).first().locator('button').getAttribute('aria-label'), 'Cerrar', 'the close button is named');
  await toasts(page).first().locator('button').click();
  eq(await toasts(page).count(), n - 1, 'one toast fewer');
  const out = await page.evaluate(() => window.FaroGamification.track('content.shared', {}, { key: 'once' }));
  eq(out.duplicate, false, 'a new key');
  const again = await page.evaluate(() => window.FaroGamification.track('content.shared', {}, { key: 'once' }));
  eq(again.duplicate, true, 'the same key: nothing changed');
});

await test('the periods switch the board', async () => {
  for (const [label, period] of [['Esta semana', 'weekly'], ['Este mes', 'monthly'], ['Histórico', 'all_time']]) {
    const answer = page.waitForResponse((r) => r.url().includes(`/leaderboard?period=${period}&`));
    await page.locator('#leaderboard button', { hasText: label }).click();
    eq((await answer).status(), 200, period);
    eq(await page.locator('#leaderboard button', { hasText: label }).getAttribute('aria-pressed'), 'true', `${label} pressed`);
    assert((await board(page).count()) >= 1, `${period} has the user's points`);
  }
});

await test('the widget speaks es, ca, pt and en', async () => {
  const titles = await page.evaluate(async () => {
    const out = {};
    for (const lang of ['en', 'ca', 'pt', 'es', 'fr']) {
      const el = document.createElement('div');
      document.body.appendChild(el);
      window.FaroGamification.mount(el, { part: 'leaderboard', lang, limit: 1 });
      out[lang] = el.shadowRoot.querySelector('h2').textContent;
      el.remove();
    }
    return out;
  });
  eq(JSON.stringify(titles), JSON.stringify({ en: 'Leaderboard', ca: 'Rànquing', pt: 'Classificação', es: 'Ranking', fr: 'Leaderboard' }), 'titles');
});

await test('toasts keep still when the reader asks for reduced motion', async () => {
  const animation = () => page.evaluate(() => {
    const box = document.querySelector('[data-faro-toasts]').shadowRoot.querySelector('.toasts');
    const el = document.createElement('div');
    el.className = 'toast';
    box.appendChild(el);
    const name = getComputedStyle(el).animationName;
    el.remove();
    return name;
  });
  eq(await animation(), 'in', 'toasts slide in by default');
  await page.emulateMedia({ reducedMotion: 'reduce' });
  eq(await animation(), 'none', 'no animation');
  await page.emulateMedia({ reducedMotion: 'no-preference' });
});

await test('a dark page gets the dark palette', async () => {
  const bg = () => page.evaluate(() => getComputedStyle(document.querySelector('#leaderboard').shadowRoot.querySelector('.card')).backgroundColor);
  const light = await bg();
  await page.emulateMedia({ colorScheme: 'dark' });
  const dark = await bg();
  assert(light !== dark, `${light} then ${dark}`);
  await page.emulateMedia({ colorScheme: 'light' });
});

await test('no script error and nothing fetched from another origin', async () => {
  eq(JSON.stringify(b.errors), '[]', 'script errors');
  eq(JSON.stringify(b.external), '[]', 'requests to other origins');
});

await b.close();

const phone = await launch({ viewport: { width: 390, height: 844 }, deviceScaleFactor: 2, isMobile: true, hasTouch: true, locale: 'es-ES' });
await test('on a 390px phone everything fits, toasts included', async () => {
  const p = phone.page;
  await p.goto(`${BASE_URL}/gamification/demo`);
  await signUp(p, `widget-phone-${RUN}@example.com`);
  await shareAndWait(p);
  // A phone zooms out to show a page wider than itself: measure against the device's width.
  const wide = await p.evaluate(() => {
    const all = [...document.querySelectorAll('*')].flatMap((e) => (e.shadowRoot ? [e, ...e.shadowRoot.querySelectorAll('*')] : [e]));
    return {
      width: document.documentElement.scrollWidth,
      culprits: all.filter((e) => e.getBoundingClientRect().right > 390).slice(-5)
        .map((e) => `${e.tagName.toLowerCase()}.${e.className} ${Math.round(e.getBoundingClientRect().right)}`),
    };
  });
  assert(wide.width <= 390, `the page is ${wide.width}px wide: ${wide.culprits}`);
  for (const box of [await toasts(p).first().boundingBox(), await p.locator('#leaderboard').boundingBox()]) {
    assert(box && box.x >= 0 && box.x + box.width <= 390, `inside the screen: ${JSON.stringify(box)}`);
  }
  // The bar, the buttons and the board's top under the toasts: the three parts on one screen.
  await p.locator('#progress').evaluate((e) => window.scrollTo(0, e.getBoundingClientRect().top + window.scrollY - 12));
  await shot(p, 'gamification-widget-phone.png');
  eq(JSON.stringify(phone.errors), '[]', 'script errors');
});
await phone.close();

// Last, so the screenshots show only the demo's players.
const last = await launch({ viewport: { width: 1280, height: 800 } });
await test('names are drawn as text, never as markup', async () => {
  if (!(USER && PASSWORD)) return;
  const { page } = last;
  await serverEvent(`${RUN}-hostile`, 'hostile', '<img/src=x/onerror=window.__pwned=1>', 'payment.succeeded', { amount_eur: 500 });
  await page.goto(`${BASE_URL}/gamification/demo`);
  await board(page).first().waitFor({ state: 'visible' });
  const first = await page.locator('#leaderboard li .nm').first().innerText();
  assert(first.includes('<img'), `the name shows as typed: ${first}`);
  eq(await page.locator('#leaderboard img').count(), 0, 'no element made of it');
  eq(await page.evaluate(() => window.__pwned), undefined, 'no script ran');
  // A long name is cut short with an ellipsis; it never widens the page.
  await page.setViewportSize({ width: 390, height: 844 });
  const width = await page.evaluate(() => document.documentElement.scrollWidth);
  assert(width <= 390, `a long name makes the page ${width}px wide`);
  eq(JSON.stringify(last.errors), '[]', 'script errors');
});

await last.close();

done();
