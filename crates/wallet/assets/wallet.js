/* The wallet page (GET /wallet): signs the end user in or up through the JSON API (the
 * browser then holds Faro's sign-in cookies), and buys credits: the site's offer, a top-up
 * intent, the test provider's checkout, then the balance watched until the credits arrive
 * (the wallet takes them from the outbox, usually within a second). */
(function () {
  'use strict';
  var main = document.getElementById('wallet');
  var lang = main.dataset.lang;

  function csrf() {
    var m = document.cookie.match(/(?:^|; )faro_user_csrf=([^;]*)/);
    return m ? decodeURIComponent(m[1]) : null;
  }

  function fill(template, pairs) {
    return template.replace(/\{(\w+)\}/g, function (all, k) { return k in pairs ? pairs[k] : all; });
  }

  async function call(method, path, body, extra) {
    var headers = { accept: 'application/json' };
    if (body !== undefined) headers['content-type'] = 'application/json';
    if (method !== 'GET' && csrf()) headers['x-csrf-token'] = csrf();
    Object.assign(headers, extra || {});
    var res = await fetch(path, { method: method, headers: headers, body: body === undefined ? undefined : JSON.stringify(body) });
    var data = res.status === 204 ? null : await res.json().catch(function () { return null; });
    if (!res.ok) {
      var err = new Error((data && data.error && data.error.message) || 'HTTP ' + res.status);
      err.code = data && data.error && data.error.code;
      throw err;
    }
    return data;
  }

  function say(el, text, kind) {
    el.textContent = text;
    el.className = 'status' + (kind ? ' ' + kind : '');
  }

  var signIn = document.getElementById('sign-in');
  if (signIn) {
    signIn.addEventListener('submit', async function (e) {
      e.preventDefault();
      var action = (e.submitter && e.submitter.value) || 'login';
      var data = new FormData(signIn);
      var status = document.getElementById('sign-in-status');
      status.textContent = '';
      try {
        await call('POST', '/api/v1/auth/' + action, { email: data.get('email'), password: data.get('password') });
        location.reload();
      } catch (err) {
        status.textContent = err.message;
      }
    });
    // An access cookie lives 15 minutes; the refresh cookie brings a new one.
    if (csrf()) call('POST', '/api/v1/auth/refresh', {}).then(function () { location.reload(); }, function () {});
    return;
  }

  document.getElementById('sign-out').addEventListener('click', async function () {
    await call('POST', '/api/v1/auth/logout', {}).catch(function () { return null; });
    location.href = '/wallet';
  });

  var buy = document.getElementById('buy');
  var input = document.getElementById('credits');
  var price = document.getElementById('price');
  var checkout = document.getElementById('checkout');
  var payButton = document.getElementById('pay');
  var buyStatus = document.getElementById('buy-status');
  var offer = null;
  var intent = null;

  function money(cents, currency) {
    return new Intl.NumberFormat(lang, { style: 'currency', currency: currency }).format(cents / 100);
  }

  function showPrice() {
    var n = parseInt(input.value, 10);
    var ok = offer && n >= offer.min_credits && n <= offer.max_credits;
    input.setAttribute('aria-invalid', ok ? 'false' : 'true');
    price.textContent = ok ? fill(main.dataset.price, { credits: n, price: money(n * offer.credit_price_cents, offer.currency) }) : (offer ? offer.min_credits + '–' + offer.max_credits : '');
    return ok ? n : null;
  }

  call('GET', '/api/v1/payments/topup').then(function (o) {
    offer = o;
    if (o.provider !== 'test') {
      say(buyStatus, main.dataset.stripe);
      return;
    }
    input.min = o.min_credits;
    input.max = o.max_credits;
    input.value = Math.min(Math.max(100, o.min_credits), o.max_credits);
    buy.hidden = false;
    showPrice();
  }, function () {
    say(buyStatus, main.dataset.notForSale);
  });

  input.addEventListener('input', showPrice);

  buy.addEventListener('submit', async function (e) {
    e.preventDefault();
    var n = showPrice();
    if (!n) { input.focus(); return; }
    say(buyStatus, '');
    try {
      var key = (crypto.randomUUID && crypto.randomUUID()) || String(Date.now()) + Math.random();
      intent = await call('POST', '/api/v1/wallet/topup', { credits: n }, { 'idempotency-key': key });
      payButton.textContent = fill(main.dataset.pay, { price: money(intent.amount_cents, intent.currency) });
      buy.hidden = true;
      checkout.hidden = false;
      payButton.focus();
    } catch (err) {
      say(buyStatus, fill(main.dataset.failed, { error: err.message }), 'bad');
    }
  });

  async function end(outcome) {
    try {
      var after = await call('POST', '/api/v1/payments/test/intents/' + intent.id + '/confirm', { outcome: outcome });
      if (after.status !== 'succeeded') {
        say(buyStatus, main.dataset.declined, 'bad');
        return;
      }
      checkout.hidden = true;
      say(buyStatus, main.dataset.crediting);
      var before = parseInt(document.getElementById('available').textContent, 10);
      for (var i = 0; i < 50; i++) {
        var b = await call('GET', '/api/v1/wallet/balance');
        if (b.available > before) { location.href = '/wallet?paid=1'; return; }
        await new Promise(function (r) { setTimeout(r, 200); });
      }
      location.href = '/wallet?paid=1';
    } catch (err) {
      say(buyStatus, fill(main.dataset.failed, { error: err.message }), 'bad');
    }
  }

  payButton.addEventListener('click', function () { end('succeed'); });
  document.getElementById('decline').addEventListener('click', function () { end('fail'); });
})();
