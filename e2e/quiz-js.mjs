// Issue 3, "done when" (1): a visitor takes the demo test to its result with JavaScript on,
// and opens the share page: OpenGraph tags, and og:image answers image/png.
//
//   BASE_URL=http://127.0.0.1:8080 node e2e/quiz-js.mjs

import { BASE_URL, DEMO_SLUG, answerCurrent, assert, done, eq, launch, metaTags, pngSize, test } from './lib.mjs';

const b = await launch({ viewport: { width: 390, height: 844 }, locale: 'es-AR' });
const { page, context } = b;
let shareUrl = null;

await test('a visitor takes the demo test with JavaScript on, answers swapped in place', async () => {
  await page.goto(`${BASE_URL}/`);
  const link = page.locator(`a[href="/t/${DEMO_SLUG}"]`);
  eq(await link.count(), 1, 'the catalog links the demo test');
  await link.click();
  await page.waitForURL(`**/t/${DEMO_SLUG}`);
  eq(await page.evaluate(() => document.documentElement.classList.contains('js')), true, 'the script ran');

  await page.locator('.start-form button[type=submit]').click();
  await page.waitForURL(/\/t\/[^/]+\/s\/[0-9a-f-]{36}$/);
  const sessionUrl = page.url();

  // From here on every answer goes through the JSON API: count document loads.
  let loads = 0;
  page.on('framenavigated', (f) => { if (f === page.mainFrame()) loads++; });
  const api = [];
  page.on('request', (r) => { if (r.url().includes('/api/v1/sessions/')) api.push(`${r.method()} ${new URL(r.url()).pathname}`); });

  const seen = [];
  for (let i = 0; i < 20 && !page.url().includes('/r/'); i++) {
    const bar = page.locator('[role=progressbar]');
    const now = Number(await bar.getAttribute('aria-valuenow'));
    eq(now, seen.length + 1, 'the progress bar counts questions');
    const text = await answerCurrent(page);
    seen.push(text);
    await page.locator('#submit').click();
    await Promise.race([
      page.waitForURL(/\/r\/[A-Za-z0-9_-]{22}$/),
      page.waitForFunction((prev) => {
        const h = document.querySelector('#q-text');
        return h && h.textContent.trim() !== prev && document.activeElement === h;
      }, text),
    ]);
    if (!page.url().includes('/r/')) eq(page.url(), sessionUrl, 'the URL stays on the session while answering');
  }
  assert(page.url().includes('/r/'), 'reached the result');
  assert(seen.length >= 5, `answered the questions (${seen.length})`);
  eq(loads, 1, 'one page load for the whole test: the result page');
  assert(api.filter((r) => r.endsWith('/answer')).length === seen.length, `every answer went to the API: ${api}`);
  assert(api.some((r) => r.endsWith('/finish')), 'the result was computed through the API');
  shareUrl = page.url();
  const h1 = (await page.locator('h1').innerText()).trim();
  assert(['Conservador', 'Moderado', 'Agresivo'].includes(h1), `a profile title: ${h1}`);
});

await test('the share page has OpenGraph tags and a PNG card', async () => {
  assert(shareUrl, 'a share URL from the first test');
  const visitor = await context.newPage();
  await visitor.goto(shareUrl);
  const meta = await metaTags(visitor);
  eq(meta['og:url'], shareUrl, 'og:url is the share URL');
  eq(meta['og:image'], `${shareUrl}/card.png`, 'og:image is the card');
  eq(meta['twitter:card'], 'summary_large_image', 'twitter:card');
  eq(meta['og:image:width'], '1200', 'og:image:width');
  eq(meta['og:image:height'], '630', 'og:image:height');
  for (const k of ['og:title', 'og:description', 'twitter:title', 'twitter:image', 'og:image:alt']) {
    assert(meta[k] && meta[k].length > 3, `${k} is set`);
  }
  const res = await visitor.request.get(meta['og:image']);
  eq(res.status(), 200, 'og:image answers');
  eq(res.headers()['content-type'], 'image/png', 'og:image is a PNG');
  assert(/max-age=86400/.test(res.headers()['cache-control'] || ''), 'the card is cached for a day');
  assert(res.headers()['etag'], 'the card has an ETag');
  const size = pngSize(await res.body());
  assert(size && size.width === 1200 && size.height === 630, `the card is 1200×630: ${JSON.stringify(size)}`);
  const again = await visitor.request.get(meta['og:image'], { headers: { 'If-None-Match': res.headers()['etag'] } });
  eq(again.status(), 304, 'the card revalidates');

  // Share buttons and the way in for someone arriving from a share.
  const hrefs = await visitor.locator('.share-buttons a').evaluateAll((as) => as.map((a) => a.href));
  const encoded = encodeURIComponent(shareUrl);
  for (const host of ['https://wa.me/', 'https://x.com/intent/post', 'https://www.linkedin.com/', 'https://www.facebook.com/']) {
    assert(hrefs.some((h) => h.startsWith(host) && h.includes(encoded)), `a ${host} link with the share URL`);
  }
  eq(await visitor.locator(`.cta a[href="/t/${DEMO_SLUG}"]`).count(), 1, 'a "take the test" link');
  const copy = visitor.locator('#copy-link');
  assert(await copy.isVisible(), 'copy link shows with JavaScript');
  await context.grantPermissions(['clipboard-read', 'clipboard-write'], { origin: new URL(BASE_URL).origin });
  await copy.click();
  await visitor.waitForFunction(() => document.querySelector('#copy-status').textContent.length > 0);
  eq(await visitor.evaluate(() => navigator.clipboard.readText()), shareUrl, 'the link is on the clipboard');
  const body = await visitor.content();
  assert(!/[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}/.test(body), 'no session id on the page');
  await visitor.close();
});

await test('nothing was fetched from another origin and no script failed', async () => {
  eq(b.external.length, 0, `external requests: ${b.external.join(', ')}`);
  eq(b.errors.length, 0, `errors: ${b.errors.join(' | ')}`);
});

await b.close();
done();
