// The admin panel in a real browser (issue 3): an admin signs in, creates a test from a
// document, publishes it; a visitor takes it through the JSON API (fetch from node); the
// admin then sees the visit on the dashboard and in its CSV. Also: a bad document's problems
// link to the question cards they concern, and the dashboard fits a phone's width. The
// platform's pages too: a webhook added (its secret shown once) gets the visit's
// quiz.finished delivery, the errors, API keys, security, staff, settings, audit log and
// visitors pages, the gamification pages (a level change saved, an award taken back), and the
// installation's console (/platform); all fit a phone.
//
//   BASE_URL=http://127.0.0.1:8080 ADMIN_USER=admin ADMIN_PASSWORD=... node e2e/admin.mjs
//
// The server should flush its counters quickly (COUNTER_FLUSH_MS=100): the dashboard reads the
// flushed counters; the script waits for them for up to 10 s.

import { createHmac } from 'node:crypto';

import { BASE_URL, assert, done, eq, fail, launch, test } from './lib.mjs';

/** RFC 6238 (SHA-1, 6 digits, 30 s): what an authenticator app shows for a base32 key. */
function totp(key, at = Date.now()) {
  const alphabet = 'ABCDEFGHIJKLMNOPQRSTUVWXYZ234567';
  let bits = '';
  for (const c of key.replace(/[\s=]/g, '').toUpperCase()) bits += alphabet.indexOf(c).toString(2).padStart(5, '0');
  const secret = Buffer.from(bits.match(/.{8}/g).map((b) => parseInt(b, 2)));
  const counter = Buffer.alloc(8);
  counter.writeBigUInt64BE(BigInt(Math.floor(at / 1000 / 30)));
  const mac = createHmac('sha1', secret).update(counter).digest();
  const offset = mac[mac.length - 1] & 0x0f;
  return String((mac.readUInt32BE(offset) & 0x7fffffff) % 1_000_000).padStart(6, '0');
}

const USER = process.env.ADMIN_USER;
const PASSWORD = process.env.ADMIN_PASSWORD;
if (!USER || !PASSWORD) fail('ADMIN_USER and ADMIN_PASSWORD are required');

const SLUG = `e2e-panel-${Date.now().toString(36)}`;
const DOCUMENT = {
  slug: SLUG,
  title: 'Panel e2e: what kind of planner are you?',
  description: 'Made by e2e/admin.mjs.',
  lang: 'en',
  tags: ['e2e'],
  estimated_minutes: 1,
  dimensions: [{ key: 'plan', label: 'Planning', weight: 1 }],
  questions: [
    {
      key: 'q1', type: 'single', text: 'Do you keep a budget?',
      options: [
        { key: 'yes', text: 'Yes', scores: { plan: 10 } },
        { key: 'no', text: 'No', scores: { plan: 0 }, next: 'q3' },
      ],
    },
    {
      key: 'q2', type: 'multi', text: 'Which tools do you use?', min_select: 0, max_select: 2,
      options: [
        { key: 'sheet', text: 'A spreadsheet', scores: { plan: 3 } },
        { key: 'app', text: 'An app', scores: { plan: 2 } },
        { key: 'paper', text: 'Paper', scores: { plan: 1 } },
      ],
    },
    { key: 'q3', type: 'scale', text: 'How calm are you about money? (1-5)', scale: { min: 1, max: 5, scores_per_point: { plan: 1 } } },
  ],
  rules: [],
  profiles: [
    { code: 'LOW', title: 'Free spirit', summary: 'Go with the flow.', recommendations: ['Try a budget.'], min: 0, max: 49 },
    { code: 'HIGH', title: 'Planner', summary: 'Everything in order.', recommendations: ['Keep it up.'], min: 50, max: 100 },
  ],
};

async function api(method, path, body) {
  const res = await fetch(`${BASE_URL}${path}`, {
    method,
    headers: body ? { 'content-type': 'application/json' } : {},
    body: body ? JSON.stringify(body) : undefined,
  });
  const text = await res.text();
  assert(res.ok, `${method} ${path}: HTTP ${res.status} ${text}`);
  return text ? JSON.parse(text) : null;
}

/** A visitor's whole session through the public JSON API; returns the result. */
async function visit(slug, query) {
  const started = await api('POST', `/api/v1/tests/${slug}/sessions?${query}`);
  let q = started.first_question;
  for (let i = 0; q && i < 20; i++) {
    const body = q.type === 'scale'
      ? { question_id: q.id, value: q.scale.max }
      : { question_id: q.id, selected_option_ids: [q.options[0].id] };
    q = (await api('POST', `/api/v1/sessions/${started.session_id}/answer`, body)).next_question;
  }
  return api('POST', `/api/v1/sessions/${started.session_id}/finish`);
}

const b = await launch({ viewport: { width: 1280, height: 800 } });
const { page } = b;
let testUrl = null;

async function figure(metric) {
  return Number(await page.locator(`[data-metric="${metric}"]`).getAttribute('data-value'));
}

await test('signed out, the panel asks to sign in and comes back to the page asked for', async () => {
  await page.goto(`${BASE_URL}/admin/tests/new`);
  assert(page.url().startsWith(`${BASE_URL}/admin/login?next=`), `on the sign-in page: ${page.url()}`);
  await page.locator('#username').fill(USER);
  await page.locator('#password').fill('wrong password');
  await Promise.all([page.waitForLoadState('load'), page.locator('button[type=submit]').click()]);
  eq((await page.locator('.alert').innerText()).trim(), 'Wrong username or password.', 'says the password is wrong');
  await page.locator('#password').fill(PASSWORD);
  await Promise.all([page.waitForURL(`${BASE_URL}/admin/tests/new`), page.locator('button[type=submit]').click()]);
  eq(await page.locator('h1').innerText(), 'New test', 'back on the page asked for');
});

await test('a bad document lists every problem, each linked to its question card', async () => {
  const bad = JSON.parse(JSON.stringify(DOCUMENT));
  bad.questions[0].options[1].next = 'nowhere';
  bad.questions[1].text = '';
  await page.locator('#document').fill(JSON.stringify(bad, null, 2));
  await Promise.all([page.waitForLoadState('load'), page.locator('form[enctype] button[type=submit]').click()]);
  eq(await page.locator('#problems-h').innerText(), '2 problem(s)', 'both problems');
  const paths = await page.locator('#problems li[data-path]').evaluateAll((els) => els.map((e) => e.dataset.path));
  eq(JSON.stringify(paths), JSON.stringify(['questions[0].options[1].next', 'questions[1].text']), 'their paths');
  await page.locator('a[href="#question-1"]').click();
  eq(new URL(page.url()).hash, '#question-1', 'the link leads to the card');
  assert(await page.locator('#question-1.qcard.bad').isVisible(), 'the card is highlighted and on screen');
  const kept = await page.locator('#document').inputValue();
  assert(kept.includes('"nowhere"'), 'the document stays in the editor');
});

await test('an admin creates a test from a document and publishes it', async () => {
  await page.locator('#document').fill(JSON.stringify(DOCUMENT, null, 2));
  await Promise.all([page.waitForURL(/\/admin\/tests\/[^/]+\?msg=created$/), page.locator('form[enctype] button[type=submit]').click()]);
  testUrl = page.url().replace(/\?.*$/, '');
  assert((await page.locator('.notice').innerText()).includes('Test created as a draft'), 'created');
  await Promise.all([
    page.waitForURL(/\?msg=published$/),
    page.locator('tr[data-version="1"] form[action$="/publish"] button').click(),
  ]);
  assert(await page.locator('tr[data-version="1"] .badge.served').isVisible(), 'v1 is served');
  const detail = await api('GET', `/api/v1/tests/${SLUG}`);
  eq(detail.version, 1, 'the public API serves v1');
});

let webhookId = null;

await test('an admin adds a webhook and sees its secret once', async () => {
  await page.goto(`${BASE_URL}/admin/webhooks`);
  eq(await page.locator('h1').innerText(), 'Webhooks', 'the webhooks page');
  await page.locator('#url').fill('not a url');
  await page.locator('#event_kinds').fill('quiz.finished');
  await Promise.all([page.waitForLoadState('load'), page.locator('form[action="/admin/webhooks"] button[type=submit]').click()]);
  assert(await page.locator('#problems').isVisible(), 'a bad URL is refused with the problem shown');
  // Port 9 (discard) refuses connections: deliveries fail and wait for their retry.
  await page.locator('#url').fill('http://127.0.0.1:9/e2e-hook');
  await page.locator('#event_kinds').fill('quiz.finished');
  await Promise.all([page.waitForLoadState('load'), page.locator('form[action="/admin/webhooks"] button[type=submit]').click()]);
  const secret = await page.locator('#secret').inputValue();
  assert(secret.startsWith('whsec_'), `the signing secret is shown: ${secret}`);
  webhookId = await page.locator('section[data-webhook]').first().getAttribute('data-webhook');
  assert(webhookId, 'the webhook is listed');
  await page.goto(`${BASE_URL}/admin/webhooks`);
  eq(await page.locator('#secret').count(), 0, 'the secret is not shown again');
  assert((await page.content()).indexOf(secret) < 0, 'nor anywhere in the page');
});

await test('a visit through the API shows up on the dashboard and in its CSV', async () => {
  const result = await visit(SLUG, 'utm_source=e2e-browser&utm_campaign=panel');
  assert(result.profile_code, 'the visitor got a result');
  await page.goto(testUrl);
  await Promise.all([page.waitForURL(/\/dashboard$/), page.locator('a.button', { hasText: 'Dashboard' }).click()]);
  // The counters reach the database within one flush interval.
  for (let i = 0; i < 50 && (await figure('starts')) < 1; i++) {
    await new Promise((r) => setTimeout(r, 200));
    await page.reload();
  }
  assert((await figure('starts')) >= 1, 'starts ≥ 1');
  assert((await figure('finishes')) >= 1, 'finishes ≥ 1');
  assert(await page.locator('[data-source="e2e-browser"]').isVisible(), 'the source is listed');
  assert(await page.locator('[data-campaign="panel"]').isVisible(), 'the campaign is listed');
  eq(await page.locator('#funnel li[data-question="q1"]').getAttribute('data-reached'), '1', 'q1 reached once');
  assert(await page.locator('.chart-wide svg.chart').isVisible(), 'the daily chart is drawn');
  const csvHref = await page.locator('a[download]').getAttribute('href');
  const csv = await (await page.request.get(`${BASE_URL}${csvHref}`)).text();
  assert(csv.startsWith('section,key,label,metric,value'), 'a CSV');
  assert(csv.includes(`summary,,,starts,${await figure('starts')}`), 'the same starts in the CSV');
  assert(csv.includes('source,e2e-browser,,starts,1'), 'the source in the CSV');
});

await test('the dashboard fits a phone without sideways scrolling', async () => {
  await page.setViewportSize({ width: 390, height: 844 });
  await page.reload();
  const overflow = await page.evaluate(() => document.documentElement.scrollWidth - window.innerWidth);
  assert(overflow <= 0, `the page is ${overflow}px wider than the phone`);
  assert(await page.locator('.chart-narrow svg.chart').isVisible(), 'the phone-sized chart shows');
  assert(!(await page.locator('.chart-wide svg.chart').isVisible()), 'the wide chart is hidden');
  await page.setViewportSize({ width: 1280, height: 800 });
});

await test('the finished visit was queued for the webhook, and delivery was attempted', async () => {
  // Fanned out within a second or so of the finish; the first attempt follows at once.
  const row = page.locator(`section[data-webhook="${webhookId}"] tr[data-delivery]`).first();
  for (let i = 0; i < 50; i++) {
    await page.goto(`${BASE_URL}/admin/webhooks`);
    if ((await row.count()) > 0 && !(await row.locator('td.num').innerText()).startsWith('0/')) break;
    await new Promise((r) => setTimeout(r, 200));
  }
  assert((await row.count()) > 0, 'a delivery is listed');
  assert((await row.innerText()).includes('quiz.finished'), 'for the quiz.finished event');
  assert(['pending', 'failed'].includes(await row.getAttribute('data-status')), 'not delivered: the receiver refuses');
  assert(/1\/\d/.test(await row.locator('td.num').innerText()), 'one attempt made so far');
});

await test('the errors page lists server errors (none here)', async () => {
  await page.goto(`${BASE_URL}/admin/errors`);
  eq(await page.locator('h1').innerText(), 'Errors', 'the errors page');
  assert(await page.locator('.empty').isVisible(), 'says there are none');
});

await test('the security page turns two-factor sign-in on with an app code, and off with a recovery code', async () => {
  await page.goto(`${BASE_URL}/admin/security`);
  eq(await page.locator('h1').innerText(), 'Security', 'the security page');
  eq(await page.locator('#totp-state').innerText(), 'off', 'off at first');
  await Promise.all([page.waitForLoadState('load'), page.locator('button', { hasText: 'Set up two-factor sign-in' }).click()]);
  const key = await page.locator('#secret').inputValue();
  assert(/^[A-Z2-7]{32}$/.test(key), `a base32 key: ${key}`);
  assert((await page.locator('#otpauth-link').getAttribute('href')).startsWith('otpauth://totp/'), 'an otpauth link');
  await page.locator('#code').fill(totp(key));
  await Promise.all([page.waitForLoadState('load'), page.locator('button', { hasText: 'Turn on' }).click()]);
  eq(await page.locator('#totp-state').innerText(), 'on', 'on after the first code');
  const codes = await page.locator('#recovery-codes li').allInnerTexts();
  eq(codes.length, 10, 'ten recovery codes, shown once');
  await page.locator('#off-code').fill(codes[0]);
  await Promise.all([page.waitForURL(/\?msg=off$/), page.locator('button', { hasText: 'Turn off' }).click()]);
  eq(await page.locator('#totp-state').innerText(), 'off', 'off again');
});

await test('the API keys page makes a key, shows it once, and revokes it', async () => {
  await page.goto(`${BASE_URL}/admin/api-keys`);
  eq(await page.locator('h1').innerText(), 'API keys', 'the API keys page');
  await page.locator('#name').fill('e2e integration');
  await page.locator('input[name=scope][value="quiz:read"]').check();
  await Promise.all([page.waitForLoadState('load'), page.locator('button', { hasText: 'Make the key' }).click()]);
  const key = await page.locator('#new-key').inputValue();
  assert(key.startsWith('faro_'), `a key: ${key}`);
  const res = await fetch(`${BASE_URL}/api/v1/admin/tests`, { headers: { authorization: `Bearer ${key}` } });
  eq(res.status, 200, 'the key reads the tests');
  const row = page.locator('tr[data-status="active"]', { hasText: 'e2e integration' });
  await Promise.all([page.waitForURL(/\?msg=revoked$/), row.locator('button', { hasText: 'Revoke' }).click()]);
  const refused = await fetch(`${BASE_URL}/api/v1/admin/tests`, { headers: { authorization: `Bearer ${key}` } });
  eq(refused.status, 401, 'refused once revoked');
});

await test('the staff page adds a colleague, changes her role and disables her', async () => {
  await page.goto(`${BASE_URL}/admin/staff`);
  eq(await page.locator('h1').innerText(), 'Staff', 'the staff page');
  await page.locator('#username').fill('e2e-ana');
  await page.locator('#password').fill('Segura-Clave-2026');
  await page.locator('#role').selectOption('agent');
  await Promise.all([page.waitForURL(/\?msg=added$/), page.locator('button', { hasText: /^Add$/ }).click()]);
  const row = page.locator('tr', { hasText: 'e2e-ana' });
  eq(await row.getAttribute('data-role'), 'agent', 'added as an agent');
  await row.locator('summary').click();
  await row.locator('select[name=role]').selectOption('viewer');
  await Promise.all([page.waitForURL(/\?msg=role$/), row.locator('button', { hasText: 'Change role' }).click()]);
  eq(await page.locator('tr', { hasText: 'e2e-ana' }).getAttribute('data-role'), 'viewer', 'now a viewer');
  const again = page.locator('tr', { hasText: 'e2e-ana' });
  await again.locator('summary').click();
  await Promise.all([page.waitForURL(/\?msg=disable$/), again.locator('button', { hasText: 'Disable' }).click()]);
  eq(await page.locator('tr', { hasText: 'e2e-ana' }).getAttribute('data-status'), 'disabled', 'disabled');
});

await test('the settings page saves the branding and restores the version before', async () => {
  await page.goto(`${BASE_URL}/admin/settings`);
  eq(await page.locator('h1').innerText(), 'Settings', 'the settings page');
  await page.locator('#color_primary').fill('#0a7d5a');
  await page.locator('#origins').fill('https://www.example.com');
  await page.locator('#role_agent').fill('Comercial');
  await Promise.all([page.waitForURL(/\?msg=saved&v=\d+$/), page.locator('button', { hasText: 'Save as a new version' }).click()]);
  eq(await page.locator('#color_primary').inputValue(), '#0a7d5a', 'saved');
  const previous = page.locator('#history tbody tr').nth(1);
  if (await previous.count()) {
    await Promise.all([page.waitForURL(/\?msg=restored&v=\d+$/), previous.locator('button', { hasText: 'Restore' }).click()]);
    eq(await page.locator('#role_agent').inputValue(), '', 'the version before has no role names');
  }
});

await test('the audit log shows the changes made in the panel', async () => {
  await page.goto(`${BASE_URL}/admin/audit`);
  eq(await page.locator('h1').innerText(), 'Audit log', 'the audit page');
  assert(await page.locator('tr[data-action="staff.create"]').count() >= 1, 'the colleague added');
  assert(await page.locator('tr[data-action="settings.update"]').count() >= 1, 'the settings saved');
});

await test('the visitors page lists a visitor and erases them', async () => {
  const who = await (await fetch(`${BASE_URL}/api/v1/public/whoami`)).json();
  await page.goto(`${BASE_URL}/admin/visitors`);
  eq(await page.locator('h1').innerText(), 'Visitors', 'the visitors page');
  const row = page.locator(`tr[data-visitor="${who.visitor_id}"]`);
  eq(await row.count(), 1, 'the visitor is listed');
  await row.locator('summary').click();
  await Promise.all([page.waitForURL(/\?msg=deleted$/), row.locator('button', { hasText: 'Erase for good' }).click()]);
  eq(await page.locator(`tr[data-visitor="${who.visitor_id}"]`).count(), 0, 'erased');
});

await test('the console creates a tenant, pauses and resumes it', async () => {
  await page.goto(`${BASE_URL}/admin/visitors`);
  await Promise.all([page.waitForURL(/\/platform$/), page.locator('.who a', { hasText: 'Console' }).click()]);
  eq(await page.locator('h1').innerText(), 'Console', 'the console');
  await page.locator('#slug').fill('e2e-lopez');
  await page.locator('#name').fill('Cocinas López');
  await page.locator('#hosts').fill('cocinas.e2e.test');
  await Promise.all([page.waitForURL(/\/platform\/tenants\/e2e-lopez\?msg=created$/), page.locator('button', { hasText: 'Create the tenant' }).click()]);
  await Promise.all([page.waitForURL(/\?msg=pause$/), page.locator('button', { hasText: /^Pause$/ }).click()]);
  eq(await page.locator('#status').innerText(), 'paused', 'paused');
  await Promise.all([page.waitForURL(/\?msg=resume$/), page.locator('button', { hasText: /^Resume$/ }).click()]);
  eq(await page.locator('#status').innerText(), 'active', 'active again');
});

await test('the console defines a plan with quotas', async () => {
  await page.goto(`${BASE_URL}/platform`);
  await Promise.all([page.waitForURL(/\/platform\/plans$/), page.locator('#plans-link').click()]);
  eq(await page.locator('h1').innerText(), 'Plans', 'the plans page');
  await page.locator('#plan-name').fill('e2e-pro');
  await page.locator('#new-tests').fill('20');
  await page.locator('#new-storage_mb').fill('500');
  await Promise.all([page.waitForURL(/\?saved=e2e-pro$/), page.locator('button', { hasText: 'Create the plan' }).click()]);
  eq(await page.locator('#e2e-pro-tests').inputValue(), '20', 'the quota kept');
  eq(await page.locator('#e2e-pro-staff').inputValue(), '', 'a blank quota is unlimited');
});

await test('the gamification pages show what the design produces; a level change saves; an award is taken back', async () => {
  // A player with points, through the JSON API as a server would send them.
  const { access_token: token } = await api('POST', '/api/v1/admin/login', { username: USER, password: PASSWORD });
  for (const key of ['e2e-g-1', 'e2e-g-2']) {
    const res = await fetch(`${BASE_URL}/api/v1/gamification/events`, {
      method: 'POST',
      headers: { 'content-type': 'application/json', authorization: `Bearer ${token}` },
      body: JSON.stringify({ user: 'e2e-gamer', type: 'conversion.completed', key, display_name: 'Gala Gómez' }),
    });
    eq(res.status, 201, `event ${key} taken`);
  }
  await page.goto(`${BASE_URL}/admin/gamification`);
  eq(await page.locator('h1').innerText(), 'Gamification', 'the overview');
  assert(Number(await page.locator('[data-metric="players"]').getAttribute('data-value')) >= 1, 'a player counted');
  assert(await page.locator('.chart-wide svg.chart rect').count() === 30, 'a column per day');
  assert(await page.locator('#levels li').count() >= 1, 'players per level');
  assert(await page.locator('#top tr[data-user="e2e-gamer"]').isVisible(), 'in the top 10');

  await page.locator('nav[aria-label="Gamification pages"] a', { hasText: 'Design' }).click();
  eq(await page.locator('h1').innerText(), 'Design', 'the design page');
  const before = await page.locator('#levels tr[data-level="2"] td.main').innerText();
  await page.locator('#level-rows input[name=level_title]').nth(1).fill('Explorador e2e');
  await Promise.all([page.waitForURL(/\/admin\/gamification\/design\?msg=saved&v=\d+$/), page.locator('#design-form button[type=submit]').click()]);
  assert((await page.locator('.notice').innerText()).includes('Design saved as version'), 'saved');
  eq(await page.locator('#levels tr[data-level="2"] td.main').innerText(), 'Explorador e2e', `was ${before}`);
  // A threshold that is not a number: the problem at its path, the typed value kept.
  await page.locator('#level-rows input[name=level_min]').nth(2).fill('lots');
  await Promise.all([page.waitForLoadState('load'), page.locator('#design-form button[type=submit]').click()]);
  eq(await page.locator('#problems li[data-path="levels[2].min_points"]').count(), 1, 'the problem and its path');
  eq(await page.locator('#level-rows input[name=level_min]').nth(2).inputValue(), 'lots', 'what was typed is kept');

  await page.goto(`${BASE_URL}/admin/gamification/players`);
  eq(await page.locator('h1').innerText(), 'Players', 'the players page');
  await page.locator('#user').fill('e2e-gamer');
  await Promise.all([page.waitForURL(/\?user=e2e-gamer$/), page.locator('form[role=search] button').click()]);
  assert(await page.locator('#ledger tr[data-kind="award"]').count() >= 2, 'the points history');
  await page.locator('#entry').selectOption({ index: 1 });
  await page.locator('#reason').fill('e2e: a test conversion');
  await Promise.all([page.waitForURL(/msg=reversed$/), page.locator('#reverse button[type=submit]').click()]);
  assert(await page.locator('#ledger tr[data-kind="reversal"]').isVisible(), 'the reversal is in the history');
});

await test('the webhooks, errors, API keys, security, staff, settings, audit, visitors, gamification and console pages fit a phone', async () => {
  await page.setViewportSize({ width: 390, height: 844 });
  for (const path of ['/admin/webhooks', '/admin/errors', '/admin/api-keys', '/admin/security',
    '/admin/staff', '/admin/settings', '/admin/audit', '/admin/visitors', '/admin/gamification',
    '/admin/gamification/design', '/admin/gamification/players', '/admin/gamification/players?user=e2e-gamer',
    '/platform', '/platform/tenants/e2e-lopez',
    '/platform/plans']) {
    await page.goto(`${BASE_URL}${path}`);
    const overflow = await page.evaluate(() => document.documentElement.scrollWidth - window.innerWidth);
    assert(overflow <= 0, `${path} is ${overflow}px wider than the phone`);
  }
  await page.setViewportSize({ width: 1280, height: 800 });
});

await test('switching the test off hides it from visitors; signing out ends the session', async () => {
  await page.goto(testUrl);
  await Promise.all([page.waitForURL(/\?msg=off$/), page.locator('.status-panel button', { hasText: 'Switch off' }).click()]);
  const res = await fetch(`${BASE_URL}/api/v1/tests/${SLUG}`);
  eq(res.status, 404, 'gone from the public API');
  await Promise.all([page.waitForURL(/\/admin\/login\?signed_out=1$/), page.locator('.who button', { hasText: 'Sign out' }).click()]);
  await page.goto(testUrl);
  assert(page.url().startsWith(`${BASE_URL}/admin/login?next=`), 'signed out');
});

await test('nothing left the server and no page error happened', async () => {
  eq(b.external.length, 0, `external requests: ${b.external.join(', ')}`);
  // The refused document above answered 422 on purpose; wrong password 401.
  const errors = b.errors.filter((e) => !/status of (401|422)/.test(e));
  eq(errors.length, 0, `page errors: ${errors.join('; ')}`);
});

await b.close();
done();
