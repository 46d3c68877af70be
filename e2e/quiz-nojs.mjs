// Issue 3, "done when" (2): the same visit with JavaScript disabled: plain forms, POST then
// redirect then GET, the back button showing the session's current question.
//
//   BASE_URL=http://127.0.0.1:8080 node e2e/quiz-nojs.mjs

import { BASE_URL, DEMO_SLUG, answerCurrent, assert, done, eq, launch, metaTags, pngSize, test } from './lib.mjs';

const b = await launch({ javaScriptEnabled: false, viewport: { width: 1280, height: 800 }, locale: 'en-GB' });
const { page, context } = b;
let shareUrl = null;

await test('a visitor takes the demo test with JavaScript off', async () => {
  await page.goto(`${BASE_URL}/`);
  await page.locator(`a[href="/t/${DEMO_SLUG}"]`).click();
  await page.waitForURL(`**/t/${DEMO_SLUG}`);
  eq(await page.evaluate(() => document.documentElement.classList.contains('js')), false, 'no script ran');
  eq(await page.locator('#copy-link').count(), 0, 'no result page yet');

  await page.locator('.start-form button[type=submit]').click();
  await page.waitForURL(/\/t\/[^/]+\/s\/[0-9a-f-]{36}$/);
  const sessionUrl = page.url();

  // The first answer, then the back button: the server's state decides what shows.
  const first = await answerCurrent(page);
  await Promise.all([page.waitForNavigation(), page.locator('#submit').click()]);
  eq(page.url(), sessionUrl, 'POST, 303, GET: back on the session URL');
  const second = (await page.locator('#q-text').innerText()).trim();
  assert(second !== first, 'the next question shows');
  await page.goBack();
  eq((await page.locator('#q-text').innerText()).trim(), second, 'back shows the current question, not the answered one');
  eq(await page.locator('[role=progressbar]').getAttribute('aria-valuenow'), '2', 'progress says question 2');

  for (let i = 0; i < 20 && !page.url().includes('/r/'); i++) {
    await answerCurrent(page);
    await Promise.all([page.waitForNavigation(), page.locator('#submit').click()]);
  }
  assert(/\/r\/[A-Za-z0-9_-]{22}$/.test(page.url()), `landed on the result: ${page.url()}`);
  shareUrl = page.url();
  const h1 = (await page.locator('h1').innerText()).trim();
  assert(['Conservador', 'Moderado', 'Agresivo'].includes(h1), `a profile title: ${h1}`);
  // The test is in Spanish: its pages speak Spanish whatever the browser prefers.
  eq(await page.evaluate(() => document.documentElement.lang), 'es', 'the test decides the language');
  assert(await page.locator('#copy-link').isHidden(), 'copy link needs JavaScript: hidden');
  assert(await page.locator('#share-url').isVisible(), 'the link is shown to copy by hand');
});

await test('the share page works without JavaScript and its card is a PNG', async () => {
  assert(shareUrl, 'a share URL from the first test');
  await page.goto(shareUrl);
  const meta = await metaTags(page);
  eq(meta['og:image'], `${shareUrl}/card.png`, 'og:image is the card');
  eq(meta['twitter:card'], 'summary_large_image', 'twitter:card');
  assert(meta['og:title'] && meta['og:title'].includes('—'), 'og:title names profile and test');
  const res = await page.request.get(meta['og:image']);
  eq(res.status(), 200, 'og:image answers');
  eq(res.headers()['content-type'], 'image/png', 'og:image is a PNG');
  const size = pngSize(await res.body());
  assert(size && size.width === 1200 && size.height === 630, 'the card is 1200×630');
  const take = page.locator(`.cta a[href="/t/${DEMO_SLUG}"]`);
  await Promise.all([page.waitForNavigation(), take.click()]);
  eq(new URL(page.url()).pathname, `/t/${DEMO_SLUG}`, '"take the test" leads to the intro');
});

await test('nothing was fetched from another origin', async () => {
  eq(b.external.length, 0, `external requests: ${b.external.join(', ')}`);
  eq(b.errors.length, 0, `errors: ${b.errors.join(' | ')}`);
});

await b.close();
done();
