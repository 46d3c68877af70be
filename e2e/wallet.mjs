// The end user's wallet page (/wallet) in a real browser (issue 12): signing up from the
// page, buying credits through the test provider end to end (the site's offer and price, the
// card declined once, then paid), the balance and history after the wallet takes the
// payment, the four languages, a 390px phone without sideways scrolling, keyboard focus, no
// script error and nothing fetched from another origin. The demo site sells credits at
// EUR 0.10 with the test provider on.
//
//   BASE_URL=http://127.0.0.1:8080 node e2e/wallet.mjs
//
// With OUT_DIR set it saves docs' screenshots: wallet-desktop.png and wallet-phone.png.

import { mkdirSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { BASE_URL, assert, done, eq, launch, test } from './lib.mjs';

const OUT_DIR = process.env.OUT_DIR ? resolve(process.env.OUT_DIR) : null;
const RUN = Date.now().toString(36);
const PASSWORD = 'Sol-y-Sombra-2026';

async function shot(page, file, fullPage = false) {
  if (!OUT_DIR) return;
  mkdirSync(OUT_DIR, { recursive: true });
  await page.screenshot({ path: join(OUT_DIR, file), fullPage, animations: 'disabled', caret: 'hide' });
  console.log(`saved ${join(OUT_DIR, file)}`);
}

async function signUp(page, email) {
  await page.locator('#email').fill(email);
  await page.locator('#password').fill(PASSWORD);
  await page.locator('#sign-in button[value=register]').click();
  await page.locator('#available').waitFor({ state: 'visible' });
}

const b = await launch({ viewport: { width: 1280, height: 800 }, locale: 'en-GB' });
const { page } = b;

await test('signed out, the page offers to sign in in the visitor\'s language', async () => {
  await page.goto(`${BASE_URL}/wallet`);
  eq(await page.locator('h1').innerText(), 'My credits', 'English from Accept-Language');
  await page.locator('#sign-in').waitFor({ state: 'visible' });
  eq(await page.locator('#available').count(), 0, 'no balance without a sign-in');
});

await test('a new user signs up and sees an empty wallet', async () => {
  await signUp(page, `wallet-${RUN}@example.com`);
  eq(await page.locator('#available').innerText(), '0', 'nothing yet');
  assert((await page.locator('#history-h + p').innerText()).includes('No movements'), 'an empty history says so');
});

await test('the site\'s offer prices the credits as they are typed', async () => {
  await page.locator('#buy').waitFor({ state: 'visible' });
  await page.locator('#credits').fill('250');
  eq(await page.locator('#price').innerText(), '250 credits for €25.00', 'EUR 0.10 a credit');
  await page.locator('#credits').fill('5');
  eq(await page.locator('#credits').getAttribute('aria-invalid'), 'true', 'below the minimum');
});

await test('a declined card charges nothing; paying credits the wallet once', async () => {
  await page.locator('#credits').fill('120');
  await page.locator('#buy button[type=submit]').click();
  await page.locator('#checkout').waitFor({ state: 'visible' });
  eq(await page.locator('#pay').innerText(), 'Pay €12.00', 'the amount to pay');
  eq(await page.evaluate(() => document.activeElement.id), 'pay', 'focus moves to the payment');
  await page.locator('#decline').click();
  await page.locator('#buy-status.bad').waitFor({ state: 'visible' });
  assert((await page.locator('#buy-status').innerText()).includes('declined'), 'says it was declined');
  eq(await page.locator('#available').innerText(), '0', 'nothing credited');
  await Promise.all([page.waitForURL('**/wallet?paid=1'), page.locator('#pay').click()]);
  eq(await page.locator('#available').innerText(), '120', 'the credits arrived');
  assert((await page.locator('#status').innerText()).includes('Payment received'), 'a confirmation');
  const first = page.locator('ol.history li').first();
  assert((await first.innerText()).includes('Top-up'), `the history's first line: ${await first.innerText()}`);
  assert((await first.innerText()).includes('+120'), 'signed amount');
  await shot(page, 'wallet-desktop.png');
});

await test('the page speaks Spanish, Catalan and Portuguese too', async () => {
  for (const [lang, title] of [['es', 'Mis créditos'], ['ca', 'Els meus crèdits'], ['pt', 'Os meus créditos']]) {
    await page.goto(`${BASE_URL}/wallet?lang=${lang}`);
    eq(await page.locator('h1').innerText(), title, lang);
    eq(await page.locator('html').getAttribute('lang'), lang, `lang attribute (${lang})`);
  }
});

await test('no script error and nothing fetched from another origin', async () => {
  eq(JSON.stringify(b.errors), '[]', 'script errors');
  eq(JSON.stringify(b.external), '[]', 'requests to other origins');
});
await b.close();

const phone = await launch({ viewport: { width: 390, height: 844 }, deviceScaleFactor: 2, isMobile: true, hasTouch: true, locale: 'es-ES' });
await test('on a 390px phone the wallet fits and buys', async () => {
  const p = phone.page;
  await p.goto(`${BASE_URL}/wallet`);
  await signUp(p, `wallet-phone-${RUN}@example.com`);
  await p.locator('#credits').fill('100');
  await p.locator('#buy button[type=submit]').click();
  await Promise.all([p.waitForURL('**/wallet?paid=1'), p.locator('#pay').click()]);
  eq(await p.locator('#available').innerText(), '100', 'credited');
  const width = await p.evaluate(() => document.documentElement.scrollWidth);
  assert(width <= 390, `the page is ${width}px wide`);
  for (const sel of ['#pay', '#buy button', '#sign-out']) {
    const box = await p.locator(sel).first().boundingBox();
    assert(!box || box.height >= 44, `${sel} is a comfortable target: ${JSON.stringify(box)}`);
  }
  await shot(p, 'wallet-phone.png', true);
  eq(JSON.stringify(phone.errors), '[]', 'script errors');
});
await phone.close();

done();
