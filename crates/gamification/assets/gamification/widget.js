/*! Faro gamification widget: a leaderboard, a progress bar and badge toasts for any page.
 * No dependencies. Docs: docs/gamification.md, "Widget".
 *
 *   <script src="https://FARO/gamification/widget.js" defer></script>
 *   <div data-faro-gamification="leaderboard" data-period="weekly" data-limit="10"></div>
 *   <div data-faro-gamification="progress"></div>
 *   <button data-faro-track="content.shared">Share</button>
 *
 * or FaroGamification.mount(el, {part: 'leaderboard'}), .track(type, props), .configure({...}).
 * Everything is drawn in a shadow root with DOM nodes and textContent: names on the board are
 * user data and are never parsed as markup.
 */
(function () {
  'use strict';
  if (window.FaroGamification && window.FaroGamification.version) return;

  var script = document.currentScript;
  var ds = (script && script.dataset) || {};
  var BASE = script && script.src ? new URL(script.src, location.href).origin : location.origin;
  var config = { token: ds.token || null, getToken: null, lang: ds.lang || null, theme: ds.theme || null };
  var mounted = [];
  var toastBox = null;

  var TEXTS = {
    en: ['Leaderboard', 'All time', 'This week', 'This month', 'No points scored yet.', 'pts',
      'Level', '{n} points to {t}', 'Top level reached', 'Sign in to see your progress.',
      'Badge unlocked!', 'Level up!', 'Close', 'Could not load. Please try again later.', 'points'],
    es: ['Ranking', 'Histórico', 'Esta semana', 'Este mes', 'Nadie ha sumado puntos todavía.', 'pts',
      'Nivel', 'Faltan {n} puntos para {t}', 'Nivel máximo alcanzado', 'Inicia sesión para ver tu progreso.',
      '¡Insignia desbloqueada!', '¡Subiste de nivel!', 'Cerrar', 'No se pudo cargar. Inténtalo más tarde.', 'puntos'],
    ca: ['Rànquing', 'Sempre', 'Aquesta setmana', 'Aquest mes', 'Encara ningú no ha sumat punts.', 'pts',
      'Nivell', 'Falten {n} punts per a {t}', 'Nivell màxim assolit', 'Inicia la sessió per veure el teu progrés.',
      'Insígnia desbloquejada!', 'Has pujat de nivell!', 'Tanca', "No s'ha pogut carregar. Torna-ho a provar més tard.", 'punts'],
    pt: ['Classificação', 'Geral', 'Esta semana', 'Este mês', 'Ninguém pontuou ainda.', 'pts',
      'Nível', 'Faltam {n} pontos para {t}', 'Nível máximo alcançado', 'Entre na sua conta para ver o seu progresso.',
      'Insígnia desbloqueada!', 'Subiu de nível!', 'Fechar', 'Não foi possível carregar. Tente mais tarde.', 'pontos'],
  };
  var KEYS = ['board', 'all_time', 'weekly', 'monthly', 'empty', 'pts', 'level', 'next', 'top',
    'signin', 'badge', 'levelup', 'close', 'error', 'points'];
  var PERIODS = ['all_time', 'weekly', 'monthly'];

  function pickLang(wanted) {
    var l = String(wanted || config.lang || document.documentElement.lang || 'en').slice(0, 2).toLowerCase();
    return TEXTS[l] ? l : 'en';
  }

  function texts(lang) {
    var t = { lang: lang };
    KEYS.forEach(function (k, i) { t[k] = TEXTS[lang][i]; });
    return t;
  }

  function fill(tpl, vars) {
    return tpl.replace(/\{(\w)\}/g, function (m, k) { return vars[k]; });
  }

  function num(n, lang) {
    try { return Number(n).toLocaleString(lang); } catch (e) { return String(n); }
  }

  /** A DOM node: text goes in as textContent, never as markup. */
  function h(tag, cls, text) {
    var n = document.createElement(tag);
    if (cls) n.className = cls;
    if (text !== undefined && text !== null) n.textContent = String(text);
    return n;
  }

  function cookie(name) {
    var m = document.cookie.match(new RegExp('(?:^|; )' + name + '=([^;]*)'));
    return m ? decodeURIComponent(m[1]) : null;
  }

  async function token() {
    if (config.getToken) return (await config.getToken()) || null;
    return config.token;
  }

  /** Whether there is a sign-in to use: a token, or Faro's sign-in cookie on its own host. */
  async function signedIn() {
    return !!((await token()) || cookie('faro_user_csrf'));
  }

  async function call(method, path, body, retried) {
    var headers = { accept: 'application/json' };
    var bearer = await token();
    if (bearer) headers.authorization = 'Bearer ' + bearer;
    else if (method !== 'GET' && cookie('faro_user_csrf')) headers['x-csrf-token'] = cookie('faro_user_csrf');
    if (body) headers['content-type'] = 'application/json';
    var res = await fetch(BASE + path, {
      method: method,
      headers: headers,
      body: body ? JSON.stringify(body) : undefined,
      credentials: path.indexOf('/leaderboard') > 0 ? 'omit' : 'include',
    });
    // The cookie's access token lives 15 minutes: renew it once with the refresh cookie.
    if (res.status === 401 && !bearer && !retried && cookie('faro_user_csrf')) {
      var renewed = await call('POST', '/api/v1/auth/refresh', {}, true).then(function () { return true; }, function () { return false; });
      if (renewed) return call(method, path, body, true);
    }
    if (!res.ok) {
      var err = new Error('Faro answered ' + res.status + ' to ' + method + ' ' + path);
      err.status = res.status;
      throw err;
    }
    return res.status === 204 ? null : res.json();
  }

  var DARK = '--a:var(--faro-accent,#60a5fa);--bg:var(--faro-bg,#111827);--fg:var(--faro-fg,#f3f4f6);' +
    '--mu:var(--faro-muted,#9ca3af);--ln:var(--faro-line,#374151)';
  var CSS = [
    ':host{display:block;--a:var(--faro-accent,#2563eb);--bg:var(--faro-bg,#fff);--fg:var(--faro-fg,#111827);',
    '--mu:var(--faro-muted,#6b7280);--ln:var(--faro-line,#e5e7eb);font:15px/1.4 system-ui,-apple-system,"Segoe UI",Roboto,sans-serif;color:var(--fg)}',
    '@media (prefers-color-scheme:dark){:host(:not([data-theme=light])){' + DARK + '}}:host([data-theme=dark]){' + DARK + '}',
    '*{box-sizing:border-box}[hidden]{display:none!important}',
    '.card{background:var(--bg);border:1px solid var(--ln);border-radius:12px;padding:14px 16px;max-width:100%;overflow-wrap:anywhere}',
    '.hd{display:flex;flex-wrap:wrap;gap:8px;align-items:center;justify-content:space-between;margin-bottom:8px}',
    'h2{font-size:1.05em;margin:0}',
    '.tabs{display:flex;gap:4px}',
    'button{font:inherit;color:inherit;cursor:pointer}',
    '.tabs button{border:1px solid var(--ln);background:none;border-radius:999px;padding:4px 10px;font-size:.85em;min-height:32px}',
    '.tabs button[aria-pressed=true]{background:var(--a);border-color:var(--a);color:#fff}',
    'button:focus-visible{outline:2px solid var(--a);outline-offset:2px}',
    'ol{list-style:none;margin:0;padding:0}',
    'li{display:flex;gap:10px;align-items:center;padding:8px 0;border-top:1px solid var(--ln)}',
    'li:first-child{border-top:0}',
    '.rk{flex:none;width:28px;height:28px;border-radius:50%;display:grid;place-items:center;font-weight:700;font-size:.85em;background:var(--ln)}',
    'li:nth-child(-n+3) .rk{background:var(--a);color:#fff}',
    '.nm{flex:1 1 0;width:0;overflow:hidden;text-overflow:ellipsis;white-space:nowrap}',
    '.lv{color:var(--mu);font-size:.85em}',
    '.pt{font-weight:700;font-variant-numeric:tabular-nums;white-space:nowrap}',
    '.mu{color:var(--mu);font-size:.9em;margin:6px 0 0}',
    '.top{display:flex;gap:12px;align-items:center}',
    '.big{flex:none;width:44px;height:44px;border-radius:50%;background:var(--a);color:#fff;display:grid;place-items:center;font-weight:700;font-size:1.2em}',
    '.ti{font-weight:700;display:block}',
    '.bar{height:10px;border-radius:999px;background:var(--ln);overflow:hidden;margin-top:12px}',
    '.fill{height:100%;width:0;background:var(--a);border-radius:inherit}',
    '.toasts{position:fixed;z-index:2147483000;right:16px;bottom:16px;left:16px;display:flex;flex-direction:column;align-items:flex-end;gap:8px;pointer-events:none}',
    '.toast{pointer-events:auto;display:flex;gap:12px;align-items:center;width:min(360px,100%);background:var(--bg);color:var(--fg);',
    'border:1px solid var(--ln);border-left:4px solid var(--a);border-radius:12px;padding:12px 12px 12px 14px;box-shadow:0 8px 24px rgba(0,0,0,.18)}',
    '.ic{font-size:1.8em;line-height:1}',
    '.toast div{flex:1;min-width:0}',
    '.x{flex:none;border:0;background:none;font-size:1.4em;line-height:1;width:36px;height:36px;border-radius:8px;color:var(--mu)}',
    '@media (prefers-reduced-motion:no-preference){.fill{transition:width .6s ease}.toast{animation:in .3s ease-out}}',
    '@keyframes in{from{opacity:0;transform:translateY(12px)}}',
  ].join('');
  var sheet = null;

  function shadow(el) {
    var root;
    try {
      root = el.shadowRoot || el.attachShadow({ mode: 'open' });
    } catch (e) {
      // Elements that cannot hold a shadow root (a <ul>, a <button>) get a <div> that can.
      var host = h('div');
      el.replaceChildren(host);
      root = host.attachShadow({ mode: 'open' });
    }
    // A constructed sheet passes a page's CSP without 'unsafe-inline'; old browsers get <style>.
    try {
      sheet = sheet || new CSSStyleSheet();
      if (!sheet.cssRules.length) sheet.replaceSync(CSS);
      root.adoptedStyleSheets = [sheet];
      root.replaceChildren();
    } catch (e) {
      root.replaceChildren(h('style', null, CSS));
    }
    return root;
  }

  function card(root, title, t) {
    var box = h('section', 'card');
    if (title) {
      var hd = h('div', 'hd');
      hd.appendChild(h('h2', null, title));
      box.appendChild(hd);
    }
    box.setAttribute('lang', t.lang);
    root.appendChild(box);
    return box;
  }

  // ---- leaderboard -------------------------------------------------------------------------

  function leaderboard(w) {
    var t = w.t;
    var o = w.opts;
    var period = PERIODS.indexOf(o.period) >= 0 ? o.period : 'all_time';
    var limit = Math.min(100, Math.max(1, parseInt(o.limit, 10) || 10));
    var box = card(w.root, o.title || t.board, t);
    var list = h('ol');
    list.setAttribute('aria-label', t.board);
    var msg = h('p', 'mu');
    var buttons = [];
    if (String(o.tabs) !== 'false') {
      var tabs = h('div', 'tabs');
      tabs.setAttribute('role', 'group');
      PERIODS.forEach(function (p) {
        var b = h('button', null, t[p]);
        b.type = 'button';
        b.dataset.period = p;
        b.addEventListener('click', function () { period = p; load(); });
        buttons.push(b);
        tabs.appendChild(b);
      });
      box.firstChild.appendChild(tabs);
    }
    box.appendChild(list);
    box.appendChild(msg);

    async function load() {
      buttons.forEach(function (b) { b.setAttribute('aria-pressed', String(b.dataset.period === period)); });
      box.setAttribute('aria-busy', 'true');
      try {
        var board = await call('GET', '/api/v1/gamification/leaderboard?period=' + period + '&limit=' + limit);
        list.replaceChildren.apply(list, board.items.map(function (r) {
          var li = h('li');
          li.appendChild(h('span', 'rk', r.rank));
          var name = h('span', 'nm', r.display_name);
          name.appendChild(document.createTextNode(' '));
          name.appendChild(h('span', 'lv', t.level + ' ' + r.level));
          li.appendChild(name);
          li.appendChild(h('span', 'pt', num(r.points, t.lang) + ' ' + t.pts));
          return li;
        }));
        msg.textContent = board.items.length ? '' : t.empty;
      } catch (e) {
        msg.textContent = t.error;
      }
      box.removeAttribute('aria-busy');
    }
    return load;
  }

  // ---- progress ----------------------------------------------------------------------------

  function progress(w) {
    var t = w.t;
    var box = card(w.root, w.opts.title, t);
    var top = h('div', 'top');
    var circle = h('span', 'big');
    circle.setAttribute('aria-hidden', 'true');
    var text = h('div');
    var title = h('span', 'ti');
    var sub = h('span', 'mu');
    text.append(title, sub);
    top.append(circle, text);
    var bar = h('div', 'bar');
    bar.setAttribute('role', 'progressbar');
    bar.setAttribute('aria-valuemin', '0');
    bar.setAttribute('aria-valuemax', '100');
    var fillEl = h('div', 'fill');
    bar.appendChild(fillEl);
    var next = h('p', 'mu');
    box.append(top, bar, next);

    function draw(p) {
      if (!p) {
        top.hidden = bar.hidden = true;
        next.textContent = p === null ? t.signin : t.error;
        return;
      }
      top.hidden = bar.hidden = false;
      var lv = p.level;
      circle.textContent = lv.number;
      title.textContent = lv.title;
      sub.textContent = t.level + ' ' + lv.number + ' · ' + num(p.points, t.lang) + ' ' + t.points;
      var pct = Math.max(0, Math.min(100, lv.progress_percent));
      fillEl.style.width = pct + '%';
      bar.setAttribute('aria-valuenow', String(pct));
      bar.setAttribute('aria-valuetext', pct + '%');
      var line = lv.next
        ? fill(t.next, { n: num(lv.next.min_points - p.lifetime_points, t.lang), t: lv.next.title })
        : t.top;
      bar.setAttribute('aria-label', line);
      next.textContent = line;
    }
    w.draw = draw;
    return function () { return profile(); };
  }

  /** Reads the signed-in user's profile and draws every progress bar; null when signed out. */
  async function profile() {
    var p = null;
    var failed = false;
    if (await signedIn()) {
      try {
        p = await call('GET', '/api/v1/gamification/profile');
      } catch (e) {
        failed = e.status !== 401;
      }
    }
    mounted.forEach(function (w) { if (w.draw) w.draw(failed ? undefined : p); });
    return p;
  }

  // ---- toasts ------------------------------------------------------------------------------

  function toasts() {
    if (toastBox && toastBox.isConnected) return toastBox;
    var host = h('div');
    host.setAttribute('data-faro-toasts', '');
    if (config.theme) host.setAttribute('data-theme', config.theme);
    document.body.appendChild(host);
    var root = shadow(host);
    toastBox = h('div', 'toasts');
    toastBox.setAttribute('role', 'status');
    toastBox.setAttribute('aria-live', 'polite');
    root.appendChild(toastBox);
    return toastBox;
  }

  function toast(icon, heading, line, lang) {
    var t = texts(pickLang(lang));
    var box = toasts();
    var el = h('div', 'toast');
    el.setAttribute('lang', t.lang);
    var ic = h('span', 'ic', icon);
    ic.setAttribute('aria-hidden', 'true');
    var body = h('div');
    body.append(h('strong', 'ti', heading), h('span', null, line));
    var x = h('button', 'x', '×');
    x.type = 'button';
    x.setAttribute('aria-label', t.close);
    el.append(ic, body, x);
    var timer;
    function close() { clearTimeout(timer); el.remove(); }
    function later() { clearTimeout(timer); timer = setTimeout(close, 8000); }
    x.addEventListener('click', close);
    el.addEventListener('keydown', function (e) { if (e.key === 'Escape') close(); });
    // Hovering or focusing the toast holds it on screen.
    el.addEventListener('mouseenter', function () { clearTimeout(timer); });
    el.addEventListener('focusin', function () { clearTimeout(timer); });
    el.addEventListener('mouseleave', later);
    box.appendChild(el);
    later();
    return el;
  }

  // ---- the API -----------------------------------------------------------------------------

  function mount(el, opts) {
    opts = Object.assign({}, el.dataset, opts || {});
    var part = opts.part || el.getAttribute('data-faro-gamification');
    var make = { leaderboard: leaderboard, progress: progress }[part];
    if (!make) throw new Error('FaroGamification.mount: part must be "leaderboard" or "progress"');
    mounted = mounted.filter(function (m) { return m.el !== el; });
    var w = { el: el, opts: opts, t: texts(pickLang(opts.lang)), root: shadow(el) };
    w.load = make(w);
    mounted.push(w);
    w.load();
    return { refresh: function () { return w.load(); } };
  }

  /** Reloads every mounted part (after a sign-in, say). */
  function refresh() {
    var boards = mounted.filter(function (w) { return !w.draw; }).map(function (w) { return w.load(); });
    return Promise.all(boards.concat([profile()]));
  }

  /** Reports an event of the signed-in user; shows a toast for each badge and level it unlocks. */
  async function track(type, props, opts) {
    opts = opts || {};
    var body = { type: type, props: props || {} };
    if (opts.key) body.key = String(opts.key);
    var out = await call('POST', '/api/v1/gamification/me/events', body);
    document.dispatchEvent(new CustomEvent('faro-gamification', { detail: out }));
    if (out.duplicate) return out;
    var p = await refresh().then(function (r) { return r[r.length - 1]; }, function () { return null; });
    var t = texts(pickLang(opts.lang));
    (out.badges || []).forEach(function (key) {
      var b = ((p && p.badges) || []).filter(function (x) { return x.key === key; })[0] || { name: key, icon: '🏅' };
      toast(b.icon || '🏅', t.badge, b.name, opts.lang);
    });
    if (out.level_up) {
      var lv = p && p.level && p.level.number === out.level_up ? ': ' + p.level.title : '';
      toast('⭐', t.levelup, t.level + ' ' + out.level_up + lv, opts.lang);
    }
    return out;
  }

  function configure(o) {
    Object.assign(config, o || {});
    return refresh();
  }

  function start() {
    document.querySelectorAll('[data-faro-gamification]').forEach(function (el) {
      try { mount(el); } catch (e) { console.warn(e.message); }
    });
  }

  document.addEventListener('click', function (e) {
    var b = e.target.closest && e.target.closest('[data-faro-track]');
    if (!b) return;
    var props = {};
    try { props = JSON.parse(b.getAttribute('data-faro-props') || '{}'); } catch (err) { /* no props */ }
    track(b.getAttribute('data-faro-track'), props, { key: b.getAttribute('data-faro-key') })
      .catch(function (err) { console.warn('FaroGamification.track: ' + err.message); });
  });

  window.FaroGamification = {
    version: 1, mount: mount, track: track, refresh: refresh, configure: configure,
  };
  if (document.readyState === 'loading') document.addEventListener('DOMContentLoaded', start);
  else start();
})();
