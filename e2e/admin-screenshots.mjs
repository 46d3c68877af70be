// Screenshots of the admin panel for docs/: the dashboard, the webhooks page, the security
// page (two-factor sign-in being set up) and the gamification pages (overview, design, a
// player) at a phone (390×844) and a desktop (1280×800) size,
// plus the tests list, a draft's editor and the errors page on a desktop.
//
//   BASE_URL=http://127.0.0.1:8080 ADMIN_USER=admin ADMIN_PASSWORD=... \
//     OUT_DIR=docs/screenshots node e2e/admin-screenshots.mjs
//
// So that the dashboard has something to show, it first drives VISITS (default 40) visitor
// sessions of the demo test through the JSON API, with a few sources and campaigns, some
// abandoned halfway; run it against a throwaway database (the numbers are real analytics).
// The counters reach the database after COUNTER_FLUSH_MS: the script waits 2 s.

import { mkdirSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { BASE_URL, DEMO_SLUG, fail, launch } from './lib.mjs';

const OUT_DIR = resolve(process.env.OUT_DIR || 'docs/screenshots');
const USER = process.env.ADMIN_USER;
const PASSWORD = process.env.ADMIN_PASSWORD;
const VISITS = Number(process.env.VISITS || 40);
if (!USER || !PASSWORD) fail('ADMIN_USER and ADMIN_PASSWORD are required');
mkdirSync(OUT_DIR, { recursive: true });

// A small deterministic generator, so two runs draw the same picture.
let seed = 42;
const rand = () => ((seed = (seed * 1103515245 + 12345) % 2147483648) / 2147483648);
const pickOne = (list) => list[Math.floor(rand() * list.length)];

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
  if (!res.ok) fail(`${method} ${path}: HTTP ${res.status} ${text}`);
  return text ? JSON.parse(text) : null;
}

function answerFor(q) {
  const ids = (q.options || []).map((o) => o.id);
  if (q.type === 'scale') {
    const { min, max } = q.scale;
    return { question_id: q.id, value: min + Math.floor(rand() * (max - min + 1)) };
  }
  if (q.type === 'multi') {
    const max = Math.max(q.min_select || 1, Math.min(q.max_select || ids.length, 1 + Math.floor(rand() * ids.length)));
    const chosen = [...ids].sort(() => rand() - 0.5).slice(0, max);
    return { question_id: q.id, selected_option_ids: chosen };
  }
  return { question_id: q.id, selected_option_ids: [pickOne(ids)] };
}

/** One visitor: starts with a source/campaign, answers, and finishes unless it gives up. */
async function visit(slug) {
  const source = pickOne(['newsletter', 'newsletter', 'instagram', 'instagram', 'google', 'partner-blog', '']);
  const campaign = pickOne(['spring-2026', 'spring-2026', 'black-friday', '', '']);
  const query = new URLSearchParams();
  if (source) query.set('utm_source', source);
  if (campaign) query.set('utm_campaign', campaign);
  const started = await api('POST', `/api/v1/tests/${slug}/sessions?${query}`);
  let q = started.first_question;
  const giveUpAt = rand() < 0.3 ? 1 + Math.floor(rand() * 4) : Infinity;
  for (let n = 1; q; n++) {
    if (n >= giveUpAt) return;
    const r = await api('POST', `/api/v1/sessions/${started.session_id}/answer`, answerFor(q));
    q = r.next_question;
  }
  await api('POST', `/api/v1/sessions/${started.session_id}/finish`);
}

/** Events of 12 players spread over the last 25 days, so every gamification figure has data. */
async function playGamification(token) {
  const names = ['Ana García', 'Bruno Díaz', 'Carla Pérez', 'Dani Ruiz', 'Eva Martín', 'Fede López',
    'Gala Gómez', 'Hugo Sanz', 'Inés Romero', 'Jon Navarro', 'Lía Torres', 'Mateo Gil'];
  const now = Date.now();
  let n = 0;
  for (let day = 24; day >= 0; day -= 1) {
    for (const [i, name] of names.entries()) {
      // The first players are the keenest: they come back most days.
      if (rand() > 0.85 - i * 0.06) continue;
      const at = new Date(now - day * 86_400_000 - Math.floor(rand() * 3_600_000)).toISOString();
      const user = `player-${String(i + 1).padStart(2, '0')}`;
      const events = [{ type: 'user.daily_login', props: {} }];
      for (let c = Math.floor(rand() * 4); c > 0; c -= 1) {
        events.push({ type: 'conversion.completed', props: { target_format: pickOne(['pdf', 'docx', 'png', 'jpg', 'mp3', 'epub']), size_mb: Math.floor(rand() * 130) } });
      }
      if (rand() < 0.2) events.push({ type: 'payment.succeeded', props: { amount_eur: 5 + Math.floor(rand() * 20) } });
      for (const e of events) {
        n += 1;
        await api('POST', '/api/v1/gamification/events', { user, type: e.type, key: `shot-${n}`, props: e.props, occurred_at: at, display_name: name }, token);
      }
    }
  }
}

const { access_token: token } = await api('POST', '/api/v1/admin/login', { username: USER, password: PASSWORD });
const tests = await api('GET', '/api/v1/admin/tests?limit=200', null, token);
const demo = tests.items.find((t) => t.slug === DEMO_SLUG);
if (!demo) fail(`no test ${DEMO_SLUG}: start the server with FARO_DEMO=true`);
// A webhook first, so the visits' finishes are queued for it (its host does not resolve here:
// the page shows attempts failing and waiting for their retry).
const hooks = await api('GET', '/api/v1/admin/webhooks', null, token);
if (!hooks.items.length) {
  await api('POST', '/api/v1/admin/webhooks', { url: 'https://crm.example.com/hooks/faro', event_kinds: ['quiz.finished'] }, token);
}
for (let i = 0; i < VISITS; i++) await visit(DEMO_SLUG);
await new Promise((r) => setTimeout(r, 2000));

const devices = [
  { name: 'phone', options: { viewport: { width: 390, height: 844 }, deviceScaleFactor: 2, isMobile: true, hasTouch: true } },
  { name: 'desktop', options: { viewport: { width: 1280, height: 800 }, deviceScaleFactor: 1 } },
];
const saved = [];
async function shot(page, file, fullPage = false) {
  const path = join(OUT_DIR, file);
  await page.screenshot({ path, fullPage, animations: 'disabled', caret: 'hide' });
  saved.push(path);
}

for (const device of devices) {
  const b = await launch(device.options);
  const { page } = b;
  try {
    await page.goto(`${BASE_URL}/admin/tests/${demo.id}/dashboard`);
    await page.locator('#username').fill(USER);
    await page.locator('#password').fill(PASSWORD);
    await Promise.all([page.waitForURL(/\/dashboard/), page.locator('button[type=submit]').click()]);
    await shot(page, `admin-dashboard-${device.name}.png`);
    await shot(page, `admin-dashboard-${device.name}-full.png`, true);
    await page.goto(`${BASE_URL}/admin/webhooks`);
    await shot(page, `admin-webhooks-${device.name}.png`);
    // Two-factor sign-in being set up: the key for the app and the form for the first code.
    await page.goto(`${BASE_URL}/admin/security`);
    const setUp = page.locator('button', { hasText: 'Set up two-factor sign-in' });
    if (await setUp.count()) {
      await Promise.all([page.waitForLoadState('load'), setUp.click()]);
    }
    await shot(page, `admin-security-${device.name}.png`);
    // API keys: one made for a CRM, one revoked (made once, on the first device).
    if (device.name === devices[0].name) {
      await api('POST', '/api/v1/admin/api-keys', { name: 'CRM sync', scopes: ['quiz:read', 'webhooks:read'] }, token);
      const old = await api('POST', '/api/v1/admin/api-keys', { name: 'Old importer', scopes: ['quiz:write'] }, token);
      await api('DELETE', `/api/v1/admin/api-keys/${old.id}`, null, token);
    }
    await page.goto(`${BASE_URL}/admin/api-keys`);
    await shot(page, `admin-api-keys-${device.name}.png`);
    // Staff with a renamed role, the settings with branding, the audit log of those changes
    // and a few visitors (made once, on the first device).
    if (device.name === devices[0].name) {
      await api('PUT', '/api/v1/admin/settings', {
        doc: {
          branding: { colors: { primary: '#0a7d5a', accent: '#f2a900' }, logo: 'https://www.example.com/logo.svg',
            texts: { tagline: 'Cocinas a medida desde 1987' } },
          origins: ['https://www.cocinaslopez.es'],
          roles: { agent: 'Comercial' },
        },
      }, token);
      // The plans the console shows (the default tenant is on `free`: its settings list them).
      await api('PUT', '/api/v1/platform/plans/free', { quotas: { tests: 20, staff: 5, end_users: 1000, storage_mb: 200 } }, token);
      await api('PUT', '/api/v1/platform/plans/pro', { quotas: { tests: 50, staff: 10, api_keys: 10, storage_mb: 5000 } }, token);
      await api('POST', '/api/v1/admin/staff', { username: 'marta', password: 'Segura-Clave-2026', role: 'admin' }, token);
      await api('POST', '/api/v1/admin/staff', { username: 'jordi', password: 'Segura-Clave-2026', role: 'agent' }, token);
      const lector = await api('POST', '/api/v1/admin/staff', { username: 'lectura', password: 'Segura-Clave-2026', role: 'viewer' }, token);
      await api('PATCH', `/api/v1/admin/staff/${lector.id}`, { disabled: true }, token);
      for (let i = 0; i < 4; i += 1) await fetch(`${BASE_URL}/api/v1/public/whoami`);
    }
    for (const name of ['staff', 'settings', 'audit', 'visitors']) {
      await page.goto(`${BASE_URL}/admin/${name}`);
      await shot(page, `admin-${name}-${device.name}.png`);
    }
    // The console, with a second tenant (made once).
    if (device.name === devices[0].name) {
      await api('POST', '/api/v1/platform/tenants', {
        slug: 'cocinas-lopez', name: 'Cocinas López', hosts: ['www.cocinaslopez.es'], language: 'es', time_zone: 'Europe/Madrid',
        owner: { username: 'marta', password: 'Segura-Clave-2026' },
      }, token);
    }
    await page.goto(`${BASE_URL}/platform`);
    await shot(page, `console-${device.name}.png`);
    await page.goto(`${BASE_URL}/platform/tenants/cocinas-lopez`);
    await shot(page, `console-tenant-${device.name}.png`);
    await page.goto(`${BASE_URL}/platform/plans`);
    await shot(page, `console-plans-${device.name}.png`);
    // Gamification: a month of a dozen players' events (made once), then the overview, the
    // design and one player's profile with its history.
    if (device.name === devices[0].name) await playGamification(token);
    await page.goto(`${BASE_URL}/admin/gamification`);
    await shot(page, `admin-gamification-overview-${device.name}.png`);
    await page.goto(`${BASE_URL}/admin/gamification/design`);
    await shot(page, `admin-gamification-design-${device.name}.png`);
    await page.goto(`${BASE_URL}/admin/gamification/players?user=player-03`);
    await shot(page, `admin-gamification-players-${device.name}.png`);
    if (device.name === 'desktop') {
      await page.goto(`${BASE_URL}/admin/errors`);
      await shot(page, 'admin-errors-desktop.png');
      await page.goto(`${BASE_URL}/admin/tests`);
      await shot(page, 'admin-tests-desktop.png');
      // A draft copy of the demo with a question's jump broken, to show problems in place.
      const draft = await api('POST', `/api/v1/admin/tests/${demo.id}/versions`, null, token);
      await page.goto(`${BASE_URL}/admin/tests/${demo.id}/versions/${draft.version}`);
      const text = await page.locator('#document').inputValue();
      const doc = JSON.parse(text);
      doc.questions[1].options[0].next = doc.questions[0].key;
      doc.questions[2].text = '';
      await page.locator('#document').fill(JSON.stringify(doc, null, 2));
      await Promise.all([page.waitForLoadState('load'), page.locator('form[enctype] button[type=submit]').first().click()]);
      await page.locator('#problems').scrollIntoViewIfNeeded();
      await shot(page, 'admin-editor-problems-desktop.png');
      await page.goto(`${BASE_URL}/admin/tests/${demo.id}/versions/${draft.version}/questions/${doc.questions[0].key}`);
      await shot(page, 'admin-question-desktop.png');
      await api('DELETE', `/api/v1/admin/tests/${demo.id}/versions/${draft.version}`, null, token);
    }
    if (b.external.length) fail(`requests left the server: ${b.external.join(', ')}`);
    // The refused save above answers 422 on purpose; anything else is a real error.
    const errors = b.errors.filter((e) => !/status of 422/.test(e));
    if (errors.length) fail(`page errors: ${errors.join('; ')}`);
  } finally {
    await b.close();
  }
}
for (const p of saved) console.log(`saved ${p}`);
