// evalrun item browser. Renders a page of items at a time from the JSON blob, so the DOM stays small
// on 100,000 records. Every answer and prompt is set with textContent: nothing from a run is parsed
// as HTML. The filters live in the URL fragment (#model=X&rule=Y&flag=error&sort=drop), applied on
// load through the same change events a click fires, so a filtered view can be linked.
(function () {
  'use strict';
  var PAGE = 50;
  var D = JSON.parse(document.getElementById('evalrun-data').textContent);
  var dimName = {};
  D.dims.forEach(function (d) { dimName[d.id] = d.name; });
  var ids = ['model', 'category', 'rule', 'flag', 'sort'];
  var ctl = {};
  ids.forEach(function (k) { ctl[k] = document.getElementById('f-' + k); });
  var state = { model: '', category: '', rule: '', flag: '', sort: 'item' };
  var limit = PAGE;

  function el(tag, cls, text) {
    var e = document.createElement(tag);
    if (cls) e.className = cls;
    if (text !== undefined && text !== null) e.textContent = String(text);
    return e;
  }
  function fmt(x) { return x === null || x === undefined ? '–' : (Math.round(x * 100) / 100).toString(); }

  // Per answer: mean of its scored dimensions, failed rules, and the flags the filters use.
  var categories = {}, rules = {};
  D.items.forEach(function (it) {
    if (it.category) categories[it.category] = true;
    var perModel = {};
    it.answers.forEach(function (a) {
      var sum = 0, n = 0;
      a.unjudged = !!a.judge_error;
      a.disagree = false;
      Object.keys(a.dims).forEach(function (k) {
        var d = a.dims[k];
        if (d.score !== null) { sum += d.score; n += 1; }
        else if (d.source !== 'rules') a.unjudged = true;
        if (d.samples.length > 1 && Math.max.apply(null, d.samples) !== Math.min.apply(null, d.samples)) a.disagree = true;
      });
      a.mean = n ? sum / n : null;
      a.failed = a.rules.filter(function (r) { return !r[1]; }).map(function (r) { return r[0]; });
      a.rules.forEach(function (r) { rules[r[0]] = true; });
      if (a.mean !== null) {
        var p = perModel[a.model] || (perModel[a.model] = [0, 0]);
        p[0] += a.mean; p[1] += 1;
      }
    });
    it.gsb.forEach(function (g) {
      g.disagree = g.first_order !== null && g.second_order !== null && g.first_order !== g.second_order;
    });
    it.means = {};
    Object.keys(perModel).forEach(function (m) { it.means[m] = perModel[m][0] / perModel[m][1]; });
    var vals = Object.keys(it.means).map(function (m) { return it.means[m]; });
    it.spread = vals.length > 1 ? Math.max.apply(null, vals) - Math.min.apply(null, vals) : 0;
  });

  function addOptions(select, values) {
    values.forEach(function (v) { var o = el('option', null, v); o.value = v; select.appendChild(o); });
  }
  addOptions(ctl.model, D.models);
  addOptions(ctl.category, Object.keys(categories).sort());
  addOptions(ctl.rule, Object.keys(rules).sort());

  function shownModels() { return state.model ? [state.model] : D.models; }

  // The drop of the viewed model(s) against the baseline on this item (positive = worse than baseline).
  function drop(it) {
    var b = D.baseline === null ? undefined : it.means[D.baseline];
    if (b === undefined) return 0;
    var worst = 0;
    shownModels().forEach(function (m) {
      if (m !== D.baseline && it.means[m] !== undefined) worst = Math.max(worst, b - it.means[m]);
    });
    return worst;
  }

  function matches(it) {
    if (state.category && it.category !== state.category) return false;
    var models = shownModels();
    var answers = it.answers.filter(function (a) { return models.indexOf(a.model) >= 0; });
    if (state.model && answers.length === 0) return false;
    if (state.rule) {
      var any = answers.some(function (a) {
        return state.rule === '*' ? a.failed.length > 0 : a.failed.indexOf(state.rule) >= 0;
      });
      if (!any) return false;
    }
    if (state.flag === 'error' && !answers.some(function (a) { return !!a.error; })) return false;
    if (state.flag === 'unjudged' && !answers.some(function (a) { return a.unjudged; })) return false;
    if (state.flag === 'disagree') {
      var gsbDisagree = it.gsb.some(function (g) { return g.disagree && models.indexOf(g.model) >= 0; });
      if (!gsbDisagree && !answers.some(function (a) { return a.disagree; })) return false;
    }
    return true;
  }

  function renderAnswer(it, a) {
    var s = el('section', 'answer' + (a.error ? ' has-error' : ''));
    s.dataset.model = a.model;
    s.dataset.sample = a.sample;
    s.appendChild(el('h4', null, a.model + (a.sample ? ' · sample ' + a.sample : '') + ' · mean ' + fmt(a.mean)));
    if (a.output !== null) s.appendChild(el('pre', 'output', a.output));
    if (a.error) s.appendChild(el('p', 'error', 'error: ' + a.error));
    var dims = Object.keys(a.dims);
    if (dims.length) {
      var t = el('table', 'scores');
      var hr = el('tr');
      ['dimension', 'score', 'source', 'justification'].forEach(function (h) { hr.appendChild(el('th', null, h)); });
      t.appendChild(hr);
      dims.forEach(function (k) {
        var d = a.dims[k], tr = el('tr');
        tr.appendChild(el('td', null, dimName[k] || k));
        tr.appendChild(el('td', null, fmt(d.score) + (d.samples.length > 1 ? ' (samples ' + d.samples.join(', ') + ')' : '')));
        tr.appendChild(el('td', null, d.source));
        tr.appendChild(el('td', null, d.justification || ''));
        t.appendChild(tr);
      });
      s.appendChild(t);
    }
    if (a.judge_error) s.appendChild(el('p', 'error', 'judge: ' + a.judge_error));
    if (a.rules.length) {
      var ul = el('ul', 'rules');
      a.rules.forEach(function (r) {
        var li = el('li', r[1] ? 'pass' : 'fail', (r[1] ? '✓ ' : '✗ ') + r[0] + (r[2] ? ': ' + r[2] : ''));
        li.dataset.rule = r[0];
        ul.appendChild(li);
      });
      s.appendChild(ul);
    }
    it.gsb.forEach(function (g) {
      if (g.model !== a.model || a.sample !== 0) return;
      var p = el('p', 'gsb', 'GSB vs ' + g.baseline + ': ' + g.verdict + ' (candidate first: ' +
        (g.first_order || '–') + ', baseline first: ' + (g.second_order || '–') + ')');
      if (g.disagree) p.dataset.disagree = 'true';
      s.appendChild(p);
    });
    return s;
  }

  function renderItem(it) {
    var art = el('article', 'item');
    art.dataset.item = it.id;
    var h = el('header');
    h.appendChild(el('h3', null, it.id));
    if (it.category) h.appendChild(el('span', 'tag', it.category));
    h.appendChild(el('span', 'spread', 'score difference ' + fmt(it.spread)));
    if (D.baseline !== null) h.appendChild(el('span', 'drop', 'drop vs ' + D.baseline + ' ' + fmt(drop(it))));
    art.appendChild(h);
    var pr = el('details', 'prompt');
    pr.appendChild(el('summary', null, 'prompt (' + it.messages.length + ' turns)'));
    if (it.system) { var sy = el('div', 'turn'); sy.appendChild(el('b', null, 'system')); sy.appendChild(el('pre', null, it.system)); pr.appendChild(sy); }
    it.messages.forEach(function (m) {
      var d = el('div', 'turn');
      d.appendChild(el('b', null, m[0]));
      d.appendChild(el('pre', null, m[1]));
      pr.appendChild(d);
    });
    art.appendChild(pr);
    var models = shownModels();
    var grid = el('div', 'answers');
    var answers = it.answers.filter(function (a) { return models.indexOf(a.model) >= 0; });
    grid.style.gridTemplateColumns = 'repeat(' + Math.max(1, Math.min(answers.length, 4)) + ', minmax(0, 1fr))';
    answers.forEach(function (a) { grid.appendChild(renderAnswer(it, a)); });
    art.appendChild(grid);
    return art;
  }

  function render() {
    var list = D.items.filter(matches);
    if (state.sort === 'spread') list.sort(function (a, b) { return b.spread - a.spread; });
    if (state.sort === 'drop') list.sort(function (a, b) { return drop(b) - drop(a); });
    var box = document.getElementById('items');
    box.textContent = '';
    var frag = document.createDocumentFragment();
    list.slice(0, limit).forEach(function (it) { frag.appendChild(renderItem(it)); });
    box.appendChild(frag);
    var shown = Math.min(limit, list.length);
    var st = document.getElementById('status');
    st.textContent = 'Showing ' + shown + ' of ' + list.length + ' matching items (' + D.items.length + ' in the run).';
    st.dataset.shown = shown;
    st.dataset.matched = list.length;
    st.dataset.total = D.items.length;
    st.dataset.ready = 'true';
    document.getElementById('more').hidden = shown >= list.length;
  }

  function writeHash() {
    var parts = [];
    ids.forEach(function (k) {
      if (state[k] && !(k === 'sort' && state[k] === 'item')) parts.push(k + '=' + encodeURIComponent(state[k]));
    });
    try { history.replaceState(null, '', parts.length ? '#' + parts.join('&') : location.pathname + location.search); } catch (e) { /* file:// in some browsers */ }
  }

  ids.forEach(function (k) {
    ctl[k].addEventListener('change', function () {
      state[k] = ctl[k].value;
      limit = PAGE;
      writeHash();
      render();
    });
  });
  document.getElementById('more').addEventListener('click', function () { limit += PAGE; render(); });

  // Apply the fragment as if the reader had chosen each value (same change events).
  function applyHash() {
    var h = location.hash.replace(/^#/, '');
    if (!h) return;
    h.split('&').forEach(function (kv) {
      var i = kv.indexOf('=');
      if (i < 0) return;
      var k = kv.slice(0, i), v = decodeURIComponent(kv.slice(i + 1));
      if (!ctl[k]) return;
      var ok = Array.prototype.some.call(ctl[k].options, function (o) { return o.value === v; });
      if (!ok) return;
      ctl[k].value = v;
      ctl[k].dispatchEvent(new Event('change'));
    });
  }
  render();
  applyHash();
})();
