/* Faro public pages: progressive enhancement only. Every page works without this file.
 *
 * On a question page, answers go to the JSON API (/api/v1/sessions/{id}/answer) and the next
 * question is drawn in place from the API's answer, in the same markup the server renders
 * (templates/public/question.html). Anything unexpected (a network error, a session that
 * moved on, an expired session) falls back to the plain form or to reloading the page, whose
 * GET always shows the session's true state.
 *
 * On a result page: "copy link" and the system share sheet.
 */
(function () {
  'use strict';
  document.documentElement.classList.add('js');

  function fill(tpl, vars) {
    return String(tpl || '').replace(/\{(\w+)\}/g, function (m, k) {
      return Object.prototype.hasOwnProperty.call(vars, k) ? String(vars[k]) : m;
    });
  }

  function el(tag, attrs, children) {
    var node = document.createElement(tag);
    Object.keys(attrs || {}).forEach(function (k) {
      if (attrs[k] !== null && attrs[k] !== undefined && attrs[k] !== false) {
        node.setAttribute(k, attrs[k] === true ? '' : String(attrs[k]));
      }
    });
    (children || []).forEach(function (c) {
      node.append(c);
    });
    return node;
  }

  function initQuiz(root) {
    var form = document.getElementById('question-form');
    if (!form || !window.fetch || !root.dataset.api) return;
    var api = root.dataset.api;
    var T = {};
    try { T = JSON.parse(root.dataset.texts || '{}'); } catch (e) { return; }
    var live = document.getElementById('live');
    var testTitle = (root.querySelector('.quiz-test') || {}).textContent || '';
    var busy = false;
    var fallback = false;
    form.noValidate = true;
    setupScale();

    form.addEventListener('submit', function (ev) {
      if (fallback) return;
      ev.preventDefault();
      if (busy) return;
      var submitter = ev.submitter || null;
      var skip = !!(submitter && submitter.name === 'skip');
      var fs = form.querySelector('fieldset');
      var body = collect(fs, skip);
      if (!skip) {
        var problem = validate(fs, body);
        if (problem) { showError(fs, problem); return; }
      }
      hideError(fs);
      setBusy(true);
      post(api + '/answer', body).then(function (res) {
        if (res.ok) {
          return res.json().then(function (data) {
            if (data.result_ready) return finish();
            render(data.next_question);
            setBusy(false);
          });
        }
        setBusy(false);
        if (res.status === 422) { showError(fs, errorFor(fs)); return; }
        if (res.status === 429) {
          showError(fs, fill(T.rateLimited, { n: res.headers.get('Retry-After') || '60' }));
          return;
        }
        // Moved on elsewhere, finished, expired or gone: the page knows what is true now.
        location.reload();
      }).catch(function () { nativeSubmit(submitter); });
    });

    function post(url, body) {
      return fetch(url, {
        method: 'POST',
        headers: { 'Content-Type': 'application/json', 'Accept': 'application/json' },
        body: body ? JSON.stringify(body) : '',
        credentials: 'same-origin'
      });
    }

    function finish() {
      return post(api + '/finish', null).then(function (res) {
        if (!res.ok) { location.reload(); return; }
        return res.json().then(function (result) {
          var u = new URL(result.share_url, location.href);
          location.assign(u.origin === location.origin ? u.pathname : '/r/' + u.pathname.split('/').pop());
        });
      });
    }

    function nativeSubmit(submitter) {
      setBusy(false);
      fallback = true;
      if (form.requestSubmit) {
        form.requestSubmit(submitter && submitter.form === form && submitter.isConnected ? submitter : undefined);
      } else {
        form.submit();
      }
    }

    function setBusy(on) {
      busy = on;
      form.setAttribute('aria-busy', on ? 'true' : 'false');
      Array.prototype.forEach.call(form.querySelectorAll('button'), function (b) { b.disabled = on; });
      if (live) live.textContent = on ? (T.sending || '') : '';
    }

    function collect(fs, skip) {
      var body = { question_id: form.elements.question_id.value };
      if (fs.dataset.type === 'scale') {
        var range = fs.querySelector('input[type=range]');
        body.value = skip || !range ? null : parseInt(range.value, 10);
      } else {
        body.selected_option_ids = skip ? [] : Array.prototype.map.call(
          fs.querySelectorAll('input[name=option]:checked'), function (i) { return i.value; });
      }
      return body;
    }

    function validate(fs, body) {
      var required = fs.dataset.required === 'true';
      var type = fs.dataset.type;
      if (type === 'scale') return body.value === null || isNaN(body.value) ? (required ? errorFor(fs) : null) : null;
      var n = body.selected_option_ids.length;
      if (n === 0 && !required) return null;
      var min = +fs.dataset.min;
      var max = +fs.dataset.max;
      if (type === 'single') min = max = 1;
      return n < min || n > max ? errorFor(fs) : null;
    }

    function errorFor(fs) {
      var type = fs.dataset.type;
      var min = +fs.dataset.min;
      var max = +fs.dataset.max;
      if (type === 'scale') {
        var r = fs.querySelector('input[type=range]');
        return fill(T.errValue, { min: r ? r.min : '', max: r ? r.max : '' });
      }
      if (type === 'multi') {
        if (min === max) return fill(T.errExactly, { n: min });
        if (min === 0) return fill(T.errMax, { max: max });
        return fill(T.errRange, { min: min, max: max });
      }
      return T.errOne;
    }

    function describe(fs, id, on) {
      var ids = (fs.getAttribute('aria-describedby') || '').split(' ').filter(function (x) { return x && x !== id; });
      if (on) ids.push(id);
      if (ids.length) fs.setAttribute('aria-describedby', ids.join(' '));
      else fs.removeAttribute('aria-describedby');
    }

    function showError(fs, message) {
      var p = fs.querySelector('#q-error');
      if (!p) return;
      p.textContent = message;
      p.hidden = false;
      describe(fs, 'q-error', true);
    }

    function hideError(fs) {
      var p = fs.querySelector('#q-error');
      if (p) p.hidden = true;
      describe(fs, 'q-error', false);
    }

    function hintFor(q) {
      if (q.type !== 'multi') return null;
      var n = q.options.length;
      var min = q.min_select == null ? 0 : q.min_select;
      var max = q.max_select == null ? n : q.max_select;
      if (min === max) return fill(T.errExactly, { n: min });
      if (max >= n && min <= 1) return T.hintAny;
      if (min <= 1) return fill(T.hintMax, { max: max });
      return fill(T.hintRange, { min: min, max: max });
    }

    function scaleBlock(s) {
      var mid = s.min + Math.trunc((s.max - s.min) / 2);
      var labelled = s.min_label || s.max_label;
      var range = el('input', {
        type: 'range', id: 'q-value', name: 'value', min: s.min, max: s.max, step: 1, value: mid,
        'aria-describedby': labelled ? 'scale-min scale-max' : null
      });
      var block = el('div', { 'class': 'scale' }, [
        el('label', { 'class': 'visually-hidden', 'for': 'q-value' }, [fill(T.scaleLabel, { min: s.min, max: s.max })]),
        el('div', { 'class': 'scale-row' }, [range, el('output', { 'class': 'scale-output', 'for': 'q-value' }, [String(mid)])])
      ]);
      if (s.max - s.min <= 10) {
        var ticks = el('div', { 'class': 'scale-ticks', 'aria-hidden': 'true' });
        for (var i = s.min; i <= s.max; i++) ticks.append(el('span', {}, [String(i)]));
        block.append(ticks);
      }
      if (labelled) {
        var lo = el('span', { id: 'scale-min' });
        var hi = el('span', { id: 'scale-max' });
        if (s.min_label) lo.append(el('b', {}, [String(s.min)]), ' ' + s.min_label);
        if (s.max_label) hi.append(el('b', {}, [String(s.max)]), ' ' + s.max_label);
        block.append(el('div', { 'class': 'scale-labels' }, [lo, hi]));
      }
      return block;
    }

    function render(q) {
      var old = form.querySelector('fieldset');
      var n = q.options.length;
      var fs = el('fieldset', {
        id: 'q', 'class': 'q enter', 'data-type': q.type,
        'data-min': q.min_select == null ? 0 : q.min_select,
        'data-max': q.max_select == null ? n : q.max_select,
        'data-required': q.required ? 'true' : 'false'
      });
      var h1 = el('h1', { 'class': 'q-text', id: 'q-text', tabindex: '-1' }, [q.text]);
      if (!q.required) h1.append(' ', el('span', { 'class': 'optional' }, ['(' + T.optional + ')']));
      fs.append(el('legend', {}, [h1]));
      var described = [];
      if (q.help) { fs.append(el('p', { 'class': 'q-help', id: 'q-help' }, [q.help])); described.push('q-help'); }
      var hint = hintFor(q);
      if (hint) { fs.append(el('p', { 'class': 'q-hint', id: 'q-hint' }, [hint])); described.push('q-hint'); }
      fs.append(el('p', { 'class': 'q-error', id: 'q-error', role: 'alert', hidden: true }));
      if (q.type === 'scale' && q.scale) {
        fs.append(scaleBlock(q.scale));
      } else {
        var box = el('div', { 'class': 'options' });
        q.options.forEach(function (o) {
          var input = el('input', {
            type: q.type === 'multi' ? 'checkbox' : 'radio', name: 'option', value: o.id,
            required: q.type === 'single' && q.required
          });
          box.append(el('label', { 'class': 'option' }, [input, el('span', {}, [o.text])]));
        });
        fs.append(box);
      }
      if (described.length) fs.setAttribute('aria-describedby', described.join(' '));
      old.replaceWith(fs);
      form.elements.question_id.value = q.id;

      var p = q.progress;
      var total = Math.max(p.total_estimate, p.index, 1);
      var label = fill(T.progress, { n: p.index, total: total });
      var text = document.getElementById('progress-text');
      if (text) text.textContent = label;
      var bar = root.querySelector('[role=progressbar]');
      if (bar) {
        bar.setAttribute('aria-valuenow', p.index);
        bar.setAttribute('aria-valuemax', total);
        var fillEl = bar.querySelector('.progress-fill');
        if (fillEl) fillEl.style.width = (p.index * 100 / total).toFixed(1) + '%';
      }
      document.title = label + ' · ' + testTitle.trim();

      var actions = form.querySelector('.actions');
      var buttons = [];
      if (!q.required) buttons.push(el('button', { type: 'submit', name: 'skip', value: '1', 'class': 'btn btn-ghost', formnovalidate: true }, [T.skip]));
      buttons.push(el('button', { type: 'submit', 'class': 'btn btn-primary', id: 'submit' }, [
        p.index >= total ? T.seeResult : T.next, ' ', el('span', { 'aria-hidden': 'true' }, ['→'])
      ]));
      actions.replaceChildren.apply(actions, buttons);
      var notice = root.querySelector('.notice');
      if (notice) notice.remove();

      setupScale();
      if (root.getBoundingClientRect().top < 0) root.scrollIntoView();
      h1.focus({ preventScroll: true });
    }

    function setupScale() {
      var range = form.querySelector('input[type=range]');
      var out = form.querySelector('output.scale-output');
      if (!range || !out) return;
      out.hidden = false;
      out.value = range.value;
      range.addEventListener('input', function () { out.value = range.value; });
    }
  }

  function initShare() {
    var input = document.getElementById('share-url');
    var copy = document.getElementById('copy-link');
    var status = document.getElementById('copy-status');
    if (input) input.addEventListener('focus', function () { input.select(); });
    if (copy && input) {
      copy.hidden = false;
      copy.addEventListener('click', function () {
        var done = function () {
          if (status) status.textContent = copy.dataset.copied || '';
          setTimeout(function () { if (status) status.textContent = ''; }, 4000);
        };
        var legacy = function () {
          input.select();
          try { if (document.execCommand('copy')) done(); } catch (e) { /* the field stays selected */ }
        };
        if (navigator.clipboard && window.isSecureContext) navigator.clipboard.writeText(input.value).then(done, legacy);
        else legacy();
      });
    }
    var native = document.getElementById('native-share');
    if (native && input && navigator.share) {
      native.closest('li').hidden = false;
      native.addEventListener('click', function () {
        navigator.share({ title: native.dataset.title, text: native.dataset.text, url: input.value })
          .catch(function () { /* dismissed */ });
      });
    }
  }

  var quiz = document.getElementById('quiz');
  if (quiz) initQuiz(quiz);
  if (document.getElementById('share-url')) initShare();
})();
