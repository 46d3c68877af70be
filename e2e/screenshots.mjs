// Screenshots of the public pages (and the admin dashboard when it exists) for docs/.
//
//   BASE_URL=http://127.0.0.1:8080 OUT_DIR=docs/screenshots node e2e/screenshots.mjs
//
// Takes, for a phone (390×844 at 2×) and a desktop (1280×800): the catalog, a question and a
// result page. Also saves the result's share card. ADMIN_USER / ADMIN_PASSWORD enable the
// admin dashboard shots (/admin/tests/{id}/dashboard after signing in at /admin/login); they
// are skipped, with a note, when that page does not exist yet.

import { mkdirSync, writeFileSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { BASE_URL, DEMO_SLUG, answerCurrent, fail, launch } from './lib.mjs';

const OUT_DIR = resolve(process.env.OUT_DIR || 'docs/screenshots');
mkdirSync(OUT_DIR, { recursive: true });

const devices = [
  { name: 'phone', options: { viewport: { width: 390, height: 844 }, deviceScaleFactor: 2, isMobile: true, hasTouch: true } },
  { name: 'desktop', options: { viewport: { width: 1280, height: 800 }, deviceScaleFactor: 1 } },
];

const saved = [];
async function shot(page, file, fullPage = false) {
  const path = join(OUT_DIR, file);
  await page.evaluate(() => document.fonts && document.fonts.ready);
  await page.screenshot({ path, fullPage, animations: 'disabled', caret: 'hide' });
  saved.push(path);
}

/** Starts the demo and answers until the wanted question number is on screen. */
async function openQuestion(page, number) {
  await page.goto(`${BASE_URL}/t/${DEMO_SLUG}?utm_source=docs&utm_campaign=screenshots`);
  await page.locator('.start-form button[type=submit]').click();
  await page.waitForURL(/\/t\/[^/]+\/s\//);
  for (let i = 1; i < number; i++) {
    const before = await answerCurrent(page);
    await page.locator('#submit').click();
    await page.waitForFunction((prev) => {
      const h = document.querySelector('#q-text');
      return h && h.textContent.trim() !== prev;
    }, before);
  }
}

async function finishTest(page) {
  for (let i = 0; i < 20 && !/\/r\//.test(page.url()); i++) {
    const before = await answerCurrent(page, { middle: true });
    await page.locator('#submit').click();
    await Promise.race([
      page.waitForURL(/\/r\//),
      page.waitForFunction((prev) => {
        const h = document.querySelector('#q-text');
        return h && h.textContent.trim() !== prev;
      }, before),
    ]);
  }
  await page.waitForLoadState('load');
}

for (const device of devices) {
  const b = await launch({ ...device.options, locale: 'es-AR' });
  const { page } = b;
  try {
    await page.goto(`${BASE_URL}/`);
    await shot(page, `catalog-${device.name}.png`);

    await openQuestion(page, 2);
    await page.locator('input[name=option]').nth(2).check();
    await page.locator('input[name=option]').nth(2).blur();
    await shot(page, `question-${device.name}.png`);

    await finishTest(page);
    await page.evaluate(() => window.scrollTo(0, 0));
    await shot(page, `result-${device.name}.png`);
    if (device.name === 'phone') await shot(page, 'result-phone-full.png', true);
    else {
      const og = await page.locator('meta[property="og:image"]').getAttribute('content');
      const res = await page.request.get(og);
      if (res.ok()) {
        const path = join(OUT_DIR, 'card.png');
        writeFileSync(path, await res.body());
        saved.push(path);
      }
    }
    if (b.external.length) fail(`requests left the server: ${b.external.join(', ')}`);
  } finally {
    await b.close();
  }
}

// Hooks for the admin panel's dashboard (built separately): shot only when it exists.
const user = process.env.ADMIN_USER;
const password = process.env.ADMIN_PASSWORD;
if (!user || !password) {
  console.log('note: ADMIN_USER/ADMIN_PASSWORD not set: admin dashboard screenshots skipped');
} else {
  for (const device of devices) {
    const b = await launch({ ...device.options, locale: 'es-AR' });
    const { page } = b;
    try {
      const login = await page.goto(`${BASE_URL}/admin/login`);
      if (!login || login.status() === 404) {
        console.log('note: /admin/login does not exist yet: admin dashboard screenshots skipped');
        break;
      }
      const api = await page.request.post(`${BASE_URL}/api/v1/admin/login`, { data: { username: user, password } });
      const token = api.ok() ? (await api.json()).access_token : null;
      const tests = token
        ? await (await page.request.get(`${BASE_URL}/api/v1/admin/tests`, { headers: { Authorization: `Bearer ${token}` } })).json()
        : null;
      const demo = tests && (tests.items || []).find((t) => t.slug === DEMO_SLUG);
      await page.locator('input[name=username]').fill(user);
      await page.locator('input[type=password]').fill(password);
      await Promise.all([page.waitForLoadState('load'), page.locator('button[type=submit]').first().click()]);
      if (!demo) {
        console.log('note: the demo test is not listed by the admin API: dashboard screenshots skipped');
        break;
      }
      const dash = await page.goto(`${BASE_URL}/admin/tests/${demo.id}/dashboard`);
      if (!dash || !dash.ok()) {
        console.log(`note: /admin/tests/{id}/dashboard answered ${dash && dash.status()}: dashboard screenshots skipped`);
        break;
      }
      await shot(page, `admin-dashboard-${device.name}.png`);
    } finally {
      await b.close();
    }
  }
}

for (const p of saved) console.log(`saved ${p}`);
