// Query result views for the editor: a table, a bar chart (a label and a numeric column), a timeline (a column of
// dates or years) and a graph (CONSTRUCT/DESCRIBE). Charts use vendor/charts.js (Chart.js, d3-force), loaded on
// first use. Exposed as window.FwgraphResults.
(function () {
  "use strict";
  var XSD = "http://www.w3.org/2001/XMLSchema#";
  var NUMERIC = ["integer", "decimal", "double", "float", "int", "long", "short", "byte", "nonNegativeInteger",
    "positiveInteger", "negativeInteger", "nonPositiveInteger", "unsignedInt", "unsignedLong"].map(function (t) { return XSD + t; });
  var DATES = [XSD + "date", XSD + "dateTime", XSD + "gYear", XSD + "gYearMonth"];
  var LABELS = ["http://www.w3.org/2000/01/rdf-schema#label", "http://www.w3.org/2004/02/skos/core#prefLabel"];
  var MAX_GRAPH_NODES = 150;
  var script = document.currentScript;
  var chartsUrl = script && script.dataset.charts;
  var charts = null;
  var chart = null;  // the Chart.js chart on screen, destroyed before the next view

  function loadCharts() {
    if (window.FwgraphCharts) { return Promise.resolve(window.FwgraphCharts); }
    if (!charts) {
      charts = new Promise(function (resolve, reject) {
        var s = document.createElement("script");
        s.src = chartsUrl;
        s.onload = function () { resolve(window.FwgraphCharts); };
        s.onerror = function () { charts = null; reject(new Error("the chart library could not be loaded")); };
        document.head.appendChild(s);
      });
    }
    return charts;
  }

  // ------------------------------------------------------------------ result models

  function fromJson(doc) {
    if (typeof doc.boolean === "boolean") { return { kind: "ask", boolean: doc.boolean, vars: [], rows: [] }; }
    return { kind: "select", vars: doc.head.vars || [], rows: doc.results.bindings };
  }

  var TERM = /^(?:<([^>]*)>|_:(\S+)|"((?:[^"\\]|\\.)*)"(?:@([A-Za-z0-9-]+)|\^\^<([^>]*)>)?)\s*/;

  function unescape(s) {
    return s.replace(/\\(u[0-9A-Fa-f]{4}|U[0-9A-Fa-f]{8}|.)/g, function (m, c) {
      if (c.charAt(0) === "u" || c.charAt(0) === "U") { return String.fromCodePoint(parseInt(c.slice(1), 16)); }
      return { t: "\t", n: "\n", r: "\r", b: "\b", f: "\f" }[c] || c;
    });
  }

  function readTerm(text) {
    var m = TERM.exec(text);
    if (!m) { return null; }
    var term;
    if (m[1] !== undefined) { term = { type: "uri", value: m[1] }; }
    else if (m[2] !== undefined) { term = { type: "bnode", value: m[2] }; }
    else {
      term = { type: "literal", value: unescape(m[3]) };
      if (m[4]) { term["xml:lang"] = m[4]; }
      if (m[5]) { term.datatype = m[5]; }
    }
    return { term: term, rest: text.slice(m[0].length) };
  }

  function fromNTriples(text) {
    var triples = [];
    text.split("\n").forEach(function (line) {
      line = line.trim();
      if (!line || line.charAt(0) === "#") { return; }
      var s = readTerm(line); if (!s) { return; }
      var p = readTerm(s.rest); if (!p) { return; }
      var o = readTerm(p.rest); if (!o) { return; }
      triples.push({ s: s.term, p: p.term, o: o.term });
    });
    return { kind: "graph", vars: ["subject", "predicate", "object"], triples: triples,
      rows: triples.map(function (t) { return { subject: t.s, predicate: t.p, object: t.o }; }) };
  }

  function size(result) { return result.kind === "graph" ? result.triples.length : result.rows.length; }

  // ------------------------------------------------------------------ which views fit

  function column(result, test) {
    return result.vars.filter(function (v) {
      var seen = 0;
      var ok = result.rows.every(function (row) {
        if (!row[v]) { return true; }
        seen += 1;
        return test(row[v]);
      });
      return ok && seen > 0;
    });
  }

  function isNumber(t) { return t.type === "literal" && NUMERIC.indexOf(t.datatype) >= 0; }
  function isDate(t) { return t.type === "literal" && DATES.indexOf(t.datatype) >= 0; }
  function isText(t) { return t.type === "literal" && !isNumber(t) && !isDate(t); }
  function isResource(t) { return t.type === "uri"; }

  function labelColumn(result, except) {
    var texts = column(result, isText).filter(function (v) { return v !== except; });
    var iris = column(result, isResource).filter(function (v) { return v !== except; });
    return texts[0] || iris[0] || null;
  }

  function barColumns(result) {
    if (result.kind !== "select" || !result.rows.length) { return null; }
    var number = column(result, isNumber)[0];
    var label = labelColumn(result);
    return number && label ? { label: label, value: number } : null;
  }

  function timelineColumns(result) {
    if (result.kind !== "select" || !result.rows.length) { return null; }
    var date = column(result, isDate)[0];
    var label = date && labelColumn(result, date);
    return date && label ? { label: label, date: date } : null;
  }

  function views(result) {
    var out = ["Table"];
    if (barColumns(result)) { out.push("BarChart"); }
    if (timelineColumns(result)) { out.push("Timeline"); }
    if (result.kind === "graph" && result.triples.length) { out.push("Graph"); }
    return out;
  }

  // ------------------------------------------------------------------ rendering

  function text(term, compact) {
    if (!term) { return ""; }
    if (term.type === "uri") { return compact(term.value); }
    if (term.type === "bnode") { return "_:" + term.value; }
    return term.value;
  }

  // Only http(s) IRIs become links. A result can hold any IRI (a permalink puts any query in anyone's page):
  // a javascript:, data: or other link would run or open something when followed. The others stay text.
  function linkable(iri) {
    return /^https?:\/\//i.test(iri);
  }

  // An IRI of the dataset links to this server's page for it (the w3id.org address redirects there only
  // once it is registered); any other http(s) IRI links to itself.
  var BASE = "https://w3id.org/fwgraph/";
  function localHref(iri, root) {
    return iri.indexOf(BASE) === 0 ? root + "/" + iri.slice(BASE.length) : iri;
  }

  function cell(term, compact, root) {
    var td = document.createElement("td");
    if (!term) { return td; }
    if (term.type === "uri" && linkable(term.value)) {
      var a = document.createElement("a");
      a.href = localHref(term.value, root);
      a.textContent = term.value;
      a.title = term.value;
      td.appendChild(a);
    } else if (term.type === "uri") {
      td.textContent = term.value;
    } else if (term.type === "bnode") {
      td.textContent = "_:" + term.value;
    } else {
      td.textContent = term.value;
      if (term["xml:lang"]) { td.lang = term["xml:lang"]; }
      if (term.datatype && isNumber(term)) { td.className = "number"; }
    }
    return td;
  }

  var PAGE_ROWS = 100;

  // Sort order of two cells: numbers as numbers, everything else as text; empty cells last.
  function compareTerms(a, b) {
    if (!a || !b) { return a ? -1 : b ? 1 : 0; }
    if (isNumber(a) && isNumber(b)) { return Number(a.value) - Number(b.value); }
    return String(a.value).localeCompare(String(b.value), undefined, { numeric: true, sensitivity: "base" });
  }

  // The result table: sortable columns (buttons in the headers, so the keyboard sorts too), a filter over
  // every cell's text and pages of PAGE_ROWS rows.
  function renderTable(container, result, compact, root) {
    if (result.kind === "ask") {
      var p = document.createElement("p");
      p.className = "boolean";
      p.textContent = result.boolean ? "true" : "false";
      container.appendChild(p);
      return;
    }
    var state = { sortVar: null, descending: false, filter: "", page: 0 };
    var tools = document.createElement("div");
    tools.className = "table-tools";
    var label = document.createElement("label");
    label.textContent = "Filter rows ";
    var filter = document.createElement("input");
    filter.type = "search";
    filter.className = "table-filter";
    label.appendChild(filter);
    var info = document.createElement("span");
    info.className = "table-info";
    info.setAttribute("aria-live", "polite");
    var prev = document.createElement("button");
    prev.type = "button";
    prev.textContent = "Previous";
    prev.className = "table-prev";
    var next = document.createElement("button");
    next.type = "button";
    next.textContent = "Next";
    next.className = "table-next";
    [label, prev, info, next].forEach(function (el) { tools.appendChild(el); });
    var table = document.createElement("table");
    table.className = "results";
    var head = table.createTHead().insertRow();
    var buttons = {};
    result.vars.forEach(function (v) {
      var th = document.createElement("th");
      th.scope = "col";
      var b = document.createElement("button");
      b.type = "button";
      b.className = "sort";
      b.textContent = v;
      b.addEventListener("click", function () {
        state.descending = state.sortVar === v ? !state.descending : false;
        state.sortVar = v;
        state.page = 0;
        draw();
      });
      buttons[v] = th;
      th.appendChild(b);
      head.appendChild(th);
    });
    var body = table.createTBody();
    var texts = result.rows.map(function (row) {
      return result.vars.map(function (v) { return row[v] ? String(row[v].value).toLowerCase() : ""; }).join("\u0001");
    });
    function draw() {
      var needle = state.filter.toLowerCase();
      var rows = result.rows.filter(function (row, i) { return !needle || texts[i].indexOf(needle) >= 0; });
      if (state.sortVar) {
        var v = state.sortVar;
        rows = rows.slice().sort(function (a, b) {
          var c = compareTerms(a[v], b[v]);
          return state.descending ? -c : c;
        });
      }
      var pages = Math.max(1, Math.ceil(rows.length / PAGE_ROWS));
      state.page = Math.min(state.page, pages - 1);
      body.textContent = "";
      rows.slice(state.page * PAGE_ROWS, (state.page + 1) * PAGE_ROWS).forEach(function (row) {
        var tr = body.insertRow();
        result.vars.forEach(function (v) { tr.appendChild(cell(row[v], compact, root)); });
      });
      result.vars.forEach(function (v) {
        if (v === state.sortVar) { buttons[v].setAttribute("aria-sort", state.descending ? "descending" : "ascending"); }
        else { buttons[v].removeAttribute("aria-sort"); }
      });
      info.textContent = rows.length === 0 ? "no rows" :
        "rows " + (state.page * PAGE_ROWS + 1) + "–" + Math.min(rows.length, (state.page + 1) * PAGE_ROWS) +
        " of " + rows.length + (rows.length < result.rows.length ? " (filtered from " + result.rows.length + ")" : "");
      prev.disabled = state.page === 0;
      next.disabled = state.page >= pages - 1;
    }
    filter.addEventListener("input", function () { state.filter = filter.value; state.page = 0; draw(); });
    prev.addEventListener("click", function () { state.page -= 1; draw(); });
    next.addEventListener("click", function () { state.page += 1; draw(); });
    container.appendChild(tools);
    var scroller = document.createElement("div");
    scroller.className = "table-scroll";
    scroller.appendChild(table);
    container.appendChild(scroller);
    draw();
  }

  function chartBox(container, rows, caption) {
    var figure = document.createElement("figure");
    figure.className = "chart";
    var box = document.createElement("div");
    box.className = "chart-box";
    box.style.height = Math.max(220, rows * 22 + 60) + "px";
    var canvas = document.createElement("canvas");
    canvas.setAttribute("role", "img");
    canvas.setAttribute("aria-label", caption + " (the Table view lists the same values)");
    box.appendChild(canvas);
    var figcaption = document.createElement("figcaption");
    figcaption.textContent = caption;
    figure.appendChild(box);
    figure.appendChild(figcaption);
    container.appendChild(figure);
    return canvas;
  }

  // A colour of the page's palette (light or dark, as the reader's system asks), for the charts.
  function cssColor(name, fallback) {
    return getComputedStyle(document.documentElement).getPropertyValue(name).trim() || fallback;
  }

  function shorten(s) { return s.length > 48 ? s.slice(0, 47) + "…" : s; }

  function renderBar(container, result, compact, lib) {
    var cols = barColumns(result);
    var rows = result.rows.filter(function (r) { return r[cols.value]; });
    var canvas = chartBox(container, rows.length, cols.value + " by " + cols.label);
    chart = new lib.Chart(canvas, {
      type: "bar",
      data: {
        labels: rows.map(function (r) { return shorten(text(r[cols.label], compact)); }),
        datasets: [{ label: cols.value, data: rows.map(function (r) { return Number(r[cols.value].value); }),
          backgroundColor: cssColor("--accent", "#1a5fb4") }]
      },
      options: {
        indexAxis: "y", responsive: true, maintainAspectRatio: false, animation: false,
        scales: { x: { beginAtZero: true, ticks: { color: cssColor("--fg", "#1d1f21") } }, y: { ticks: { color: cssColor("--fg", "#1d1f21"), autoSkip: false } } },
        plugins: { tooltip: { enabled: true } }
      }
    });
  }

  function time(term) {
    var v = term.value.trim();
    var m = /^(-?\d{4,})(?:-(\d{2}))?(?:-(\d{2}))?/.exec(v);
    if (!m) { return NaN; }
    if (term.datatype === XSD + "dateTime") { var t = Date.parse(v); if (!isNaN(t)) { return t; } }
    return Date.UTC(Number(m[1]), m[2] ? Number(m[2]) - 1 : 0, m[3] ? Number(m[3]) : 1);
  }

  function renderTimeline(container, result, compact, lib) {
    var cols = timelineColumns(result);
    var rows = result.rows.filter(function (r) { return r[cols.date] && r[cols.label] && !isNaN(time(r[cols.date])); });
    var labels = [];
    rows.forEach(function (r) {
      var l = shorten(text(r[cols.label], compact));
      if (labels.indexOf(l) < 0) { labels.push(l); }
    });
    var yearsOnly = rows.every(function (r) { return r[cols.date].datatype === XSD + "gYear"; });
    var canvas = chartBox(container, labels.length, cols.label + " over " + cols.date);
    chart = new lib.Chart(canvas, {
      type: "scatter",
      data: {
        datasets: [{ label: cols.date, backgroundColor: cssColor("--accent", "#1a5fb4"), pointRadius: 5,
          data: rows.map(function (r) {
            return { x: time(r[cols.date]), y: shorten(text(r[cols.label], compact)), when: r[cols.date].value };
          }) }]
      },
      options: {
        responsive: true, maintainAspectRatio: false, animation: false,
        scales: {
          x: { type: "linear", ticks: { color: cssColor("--fg", "#1d1f21"), callback: function (v) {
            var d = new Date(v);
            return yearsOnly ? String(d.getUTCFullYear()) : d.toISOString().slice(0, 10);
          } } },
          y: { type: "category", labels: labels, ticks: { color: cssColor("--fg", "#1d1f21"), autoSkip: false } }
        },
        plugins: { tooltip: { callbacks: { label: function (ctx) { return ctx.raw.y + ": " + ctx.raw.when; } } } }
      }
    });
  }

  var SVG = "http://www.w3.org/2000/svg";

  function svg(name, attrs, parent) {
    var el = document.createElementNS(SVG, name);
    Object.keys(attrs).forEach(function (k) { el.setAttribute(k, attrs[k]); });
    if (parent) { parent.appendChild(el); }
    return el;
  }

  function nodeKey(term) { return term.type + ":" + term.value; }

  // A graph node's caption: its label, a compact name, or the end of its IRI.
  function nodeText(term, compact) {
    var name = text(term, compact);
    if (term.type !== "uri" || name !== term.value) { return name; }
    var parts = term.value.replace(/[#/]+$/, "").split(/[#/]/);
    return parts.slice(-2).join("/");
  }

  function short(s) { return s.length > 32 ? s.slice(0, 31) + "…" : s; }

  function renderGraph(container, result, compact, lib, root) {
    var nodes = [];
    var byKey = {};
    var links = [];
    var names = {};
    result.triples.forEach(function (t) {
      if (LABELS.indexOf(t.p.value) >= 0 && t.o.type === "literal" && !names[nodeKey(t.s)]) { names[nodeKey(t.s)] = t.o.value; }
    });
    function node(term, literalOf) {
      var key = term.type === "literal" ? "literal:" + literalOf + ":" + nodes.length : nodeKey(term);
      if (!byKey[key]) {
        if (nodes.length >= MAX_GRAPH_NODES) { return null; }
        byKey[key] = { id: key, term: term, label: short(names[key] || nodeText(term, compact)) };
        nodes.push(byKey[key]);
      }
      return byKey[key];
    }
    var cut = false;
    result.triples.forEach(function (t) {
      var s = node(t.s);
      var o = s && node(t.o, s.id);
      if (!s || !o) { cut = true; return; }
      links.push({ source: s, target: o, label: compact(t.p.value) });
    });
    var sim = lib.forceSimulation(nodes)
      .force("link", lib.forceLink(links).distance(function (l) { return l.target.term.type === "literal" ? 110 : 150; }))
      .force("charge", lib.forceManyBody().strength(-520))
      .force("center", lib.forceCenter(0, 0))
      .force("collide", lib.forceCollide(function (n) { return Math.min(90, 12 + n.label.length * 2.6); }))
      .stop();
    for (var i = 0; i < 400; i++) { sim.tick(); }
    var xs = nodes.map(function (n) { return n.x; });
    var ys = nodes.map(function (n) { return n.y; });
    var pad = 90;
    var minX = Math.min.apply(null, xs) - pad, minY = Math.min.apply(null, ys) - pad;
    var width = Math.max.apply(null, xs) - minX + pad, height = Math.max.apply(null, ys) - minY + pad;
    var figure = document.createElement("figure");
    figure.className = "graph";
    var root_ = svg("svg", { viewBox: [minX, minY, width, height].join(" "), width: Math.round(width),
      height: Math.round(height), role: "img",
      "aria-label": "Graph of " + nodes.length + " nodes and " + links.length + " edges (the Table view lists the triples)" });
    var edges = svg("g", { "class": "edges" }, root_);
    links.forEach(function (l) {
      var line = svg("line", { x1: l.source.x, y1: l.source.y, x2: l.target.x, y2: l.target.y }, edges);
      svg("title", {}, line).textContent = l.label;
      if (links.length <= 40) {
        var label = svg("text", { x: (l.source.x + l.target.x) / 2, y: (l.source.y + l.target.y) / 2, "class": "edge-label" }, edges);
        label.textContent = l.label;
      }
    });
    var layer = svg("g", { "class": "nodes" }, root_);
    nodes.forEach(function (n) {
      var parent = layer;
      if (n.term.type === "uri") {
        var local = localHref(n.term.value, root);
        parent = linkable(n.term.value) ? svg("a", { href: local }, layer) : svg("g", {}, layer);
        var title = svg("title", {}, parent);
        title.textContent = n.term.value;
      }
      svg("circle", { cx: n.x, cy: n.y, r: n.term.type === "literal" ? 4 : 9, "class": "node-" + n.term.type }, parent);
      var t = svg("text", { x: n.x + 12, y: n.y + 4, "class": "node-label node-label-" + n.term.type }, parent);
      t.textContent = n.label;
    });
    var box = document.createElement("div");
    box.className = "graph-box";
    box.tabIndex = 0;  // scrollable by keyboard
    box.setAttribute("aria-label", "Graph (scrollable)");
    box.appendChild(root_);
    figure.appendChild(box);
    var caption = document.createElement("figcaption");
    caption.textContent = nodes.length + " nodes, " + links.length + " edges" +
      (cut ? " (the first " + MAX_GRAPH_NODES + " nodes: the Table view lists every triple)" : "");
    figure.appendChild(caption);
    container.appendChild(figure);
    box.scrollLeft = (box.scrollWidth - box.clientWidth) / 2;
    box.scrollTop = (box.scrollHeight - box.clientHeight) / 2;
  }

  function render(container, result, viewName, options) {
    var compact = (options && options.compact) || function (iri) { return iri; };
    var root = (options && options.root) || "";
    if (chart) { chart.destroy(); chart = null; }
    container.textContent = "";
    container.dataset.view = viewName;
    if (viewName === "Table" || views(result).indexOf(viewName) < 0) {
      container.dataset.view = "Table";
      renderTable(container, result, compact, root);
      return Promise.resolve();
    }
    var loading = document.createElement("p");
    loading.textContent = "Drawing…";
    container.appendChild(loading);
    return loadCharts().then(function (lib) {
      if (container.dataset.view !== viewName) { return; }  // another view was chosen meanwhile
      container.textContent = "";
      if (viewName === "BarChart") { renderBar(container, result, compact, lib); }
      else if (viewName === "Timeline") { renderTimeline(container, result, compact, lib); }
      else { renderGraph(container, result, compact, lib, root); }
    });
  }

  window.FwgraphResults = { fromJson: fromJson, fromNTriples: fromNTriples, size: size, views: views, render: render };
}());
