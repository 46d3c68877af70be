// Screenshots of the public pages for docs/.
//
//   BASE_URL=http://127.0.0.1:8080 OUT_DIR=docs/screenshots node e2e/screenshots.mjs
//
// Takes, for a phone (390×844 at 2×) and a desktop (1280×800): the catalog, a question and a
// result page. Also saves the result's share card. The admin panel's shots are taken by
// e2e/admin-screenshots.mjs.

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

// The admin panel's shots come from e2e/admin-screenshots.mjs (run next by scripts/screenshots).
for (const p of saved) console.log(`saved ${p}`);
