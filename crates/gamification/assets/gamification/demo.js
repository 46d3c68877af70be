/* The widget's demo page (GET /gamification/demo, only with FARO_DEMO): signs an end user in
 * or up through the JSON API, so the browser holds Faro's sign-in cookies, then asks the
 * widget to draw again. A landing page of a real site signs people in its own way. */
(function () {
  'use strict';
  var form = document.getElementById('sign-in');
  var status = document.getElementById('sign-in-status');
  var signedIn = document.getElementById('signed-in');

  function csrf() {
    var m = document.cookie.match(/(?:^|; )faro_user_csrf=([^;]*)/);
    return m ? decodeURIComponent(m[1]) : null;
  }

  async function post(path, body) {
    var headers = { 'content-type': 'application/json', accept: 'application/json' };
    if (csrf()) headers['x-csrf-token'] = csrf();
    var res = await fetch(path, { method: 'POST', headers: headers, body: JSON.stringify(body || {}) });
    var data = res.status === 204 ? null : await res.json().catch(function () { return null; });
    if (!res.ok) throw new Error((data && data.error && data.error.message) || 'HTTP ' + res.status);
    return data;
  }

  async function show() {
    var me = null;
    if (csrf()) {
      var res = await fetch('/api/v1/me', { headers: { accept: 'application/json' } });
      if (res.ok) me = await res.json();
    }
    form.hidden = !!me;
    signedIn.hidden = !me;
    document.getElementById('who').textContent = me ? me.email : '';
  }

  form.addEventListener('submit', async function (e) {
    e.preventDefault();
    var action = (e.submitter && e.submitter.value) || 'login';
    var data = new FormData(form);
    status.textContent = '…';
    try {
      await post('/api/v1/auth/' + action, { email: data.get('email'), password: data.get('password') });
      status.textContent = '';
      form.reset();
      await show();
      await window.FaroGamification.refresh();
    } catch (err) {
      status.textContent = err.message;
    }
  });

  document.getElementById('sign-out').addEventListener('click', async function () {
    await post('/api/v1/auth/logout').catch(function () { return null; });
    await show();
    await window.FaroGamification.refresh();
  });

  show();
})();
