// The query editor on the landing page: CodeMirror 6 (vendor/codemirror.js) with SPARQL highlighting, completion
// from /terms.json, error markers from the endpoint's own parse errors, an address that reproduces each run,
// "copy link", "copy as curl", downloads in every format and the result views of results.js.
// Without JavaScript the form still works: it submits GET /sparql?query=...&format=html.
(function () {
  "use strict";
  var form = document.getElementById("query-form");
  var CM = window.FwgraphCodeMirror;
  var Results = window.FwgraphResults;
  if (!form || !CM || !Results) { return; }

  var root = form.getAttribute("action").replace(/\/sparql$/, "");
  var endpoint = root + "/sparql";
  var textarea = document.getElementById("query-text");
  var select = document.getElementById("example");
  var description = document.getElementById("example-description");
  var formatSelect = document.getElementById("format");
  var download = document.getElementById("download");
  var share = document.getElementById("share");
  var status = document.getElementById("query-status");
  var viewsBar = document.getElementById("views");
  var results = document.getElementById("results");
  var examples = JSON.parse(document.getElementById("examples-data").textContent || "[]");
  var byName = {};
  examples.forEach(function (e) { byName[e.name] = e; });

  var MEDIA = {
    html: "text/html", json: "application/sparql-results+json", csv: "text/csv",
    tsv: "text/tab-separated-values", xml: "application/sparql-results+xml", turtle: "text/turtle",
    jsonld: "application/ld+json", nt: "application/n-triples"
  };
  var EXTENSION = { html: "html", json: "srj", csv: "csv", tsv: "tsv", xml: "srx", turtle: "ttl", jsonld: "jsonld", nt: "nt" };
  var KEYWORDS = ["SELECT", "DISTINCT", "WHERE", "OPTIONAL", "FILTER", "NOT EXISTS", "EXISTS", "UNION", "MINUS",
    "GROUP BY", "ORDER BY", "HAVING", "LIMIT", "OFFSET", "CONSTRUCT", "DESCRIBE", "ASK", "VALUES", "BIND", "AS",
    "COUNT", "GROUP_CONCAT", "SAMPLE", "SEPARATOR", "LANG", "LANGMATCHES", "STR", "REGEX", "CONTAINS",
    "STRSTARTS", "LCASE", "UCASE", "YEAR", "COALESCE", "IF", "DESC", "ASC", "PREFIX", "BASE"];

  var current = { view: null, result: null };

  // ------------------------------------------------------------------ the editor

  var host = document.getElementById("editor");
  var shadow = host.attachShadow({ mode: "open" });  // CodeMirror's styles go to the shadow root's adopted sheets
  var theme = CM.EditorView.theme({
    "&": { border: "1px solid #8a9099", borderRadius: "4px", fontSize: "0.92rem", backgroundColor: "#fff", color: "#1d1f21" },
    "&.cm-focused": { outline: "3px solid #1a5fb4", outlineOffset: "1px" },
    ".cm-content": { fontFamily: "ui-monospace, SFMono-Regular, Menlo, monospace", minHeight: "14em" },
    ".cm-scroller": { maxHeight: "32em", overflow: "auto" },
    ".cm-gutters": { backgroundColor: "#f4f6f8", color: "#4d5156", borderRight: "1px solid #d0d4d9" },
    ".cm-tooltip-autocomplete ul li[aria-selected]": { backgroundColor: "#1a5fb4", color: "#fff" },
    ".cm-completionDetail": { color: "#4d5156", marginLeft: "0.6em" },
    ".cm-tooltip-autocomplete ul li[aria-selected] .cm-completionDetail": { color: "#fff" },
    ".cm-lintRange-error": { backgroundColor: "#fbe3e4" },
    ".cm-diagnostic-error": { borderLeft: "4px solid #a51d2d", color: "#1d1f21" }
  });
  var view = new CM.EditorView({
    parent: shadow,
    root: shadow,
    state: CM.EditorState.create({
      doc: textarea.value,
      extensions: [
        CM.lineNumbers(), CM.highlightActiveLineGutter(), CM.history(), CM.drawSelection(), CM.indentOnInput(),
        CM.bracketMatching(), CM.closeBrackets(), CM.highlightActiveLine(), CM.lintGutter(),
        CM.StreamLanguage.define(CM.sparql),
        CM.syntaxHighlighting(CM.defaultHighlightStyle, { fallback: true }),
        CM.autocompletion({ override: [complete] }),
        CM.keymap.of([{ key: "Mod-Enter", run: function () { run(true); return true; } }]
          .concat(CM.closeBracketsKeymap, CM.defaultKeymap, CM.historyKeymap, CM.completionKeymap)),
        // tabindex: the editable content is the keyboard's way into the scrolling editor (axe: scrollable-region-focusable)
        CM.EditorView.contentAttributes.of({ "aria-label": "SPARQL query", "aria-describedby": "query-status",
          tabindex: "0" }),
        CM.EditorView.updateListener.of(function (update) {
          if (update.docChanged) { textarea.value = update.state.doc.toString(); }
        }),
        theme
      ]
    })
  });
  textarea.hidden = true;
  host.hidden = false;
  Array.prototype.forEach.call(document.querySelectorAll(".js-only"), function (el) { el.hidden = false; });
  document.getElementById("query-label").addEventListener("click", function () { view.focus(); });

  function setQuery(text) {
    view.dispatch({ changes: { from: 0, to: view.state.doc.length, insert: text } });
    view.dispatch(CM.setDiagnostics(view.state, []));
  }

  function queryText() { return view.state.doc.toString(); }

  // ------------------------------------------------------------------ completion

  var terms = fetch(root + "/terms.json", { headers: { Accept: "application/json" } })
    .then(function (r) { return r.ok ? r.json() : null; })
    .catch(function () { return null; });

  function options(t) {
    var out = KEYWORDS.map(function (k) { return { label: k, type: "keyword", boost: -10 }; });
    if (!t) { return out; }
    Object.keys(t.prefixes).forEach(function (p) {
      out.push({ label: p + ":", type: "namespace", detail: t.prefixes[p], apply: prefixedName(p + ":", p), boost: -5 });
    });
    function add(list, type, boost) {
      list.forEach(function (term) {
        var name = term.name || "<" + term.iri + ">";
        var prefix = term.name ? term.name.split(":")[0] : null;
        out.push({
          label: name, type: type, boost: boost, apply: prefixedName(name, prefix),
          detail: term.label || (term.count !== undefined ? term.count + " uses" : ""),
          info: term.iri
        });
      });
    }
    add(t.classes, "class", 2);
    add(t.properties, "property", 1);
    add(t.resources, "constant", 0);
    return out;
  }

  // Accepting a prefixed name also declares its prefix when the query does not yet.
  function prefixedName(name, prefix) {
    return function (editor, completion, from, to) {
      var changes = [{ from: from, to: to, insert: name }];
      var doc = editor.state.doc.toString();
      var ns = null;
      if (prefix && cachedTerms && cachedTerms.prefixes[prefix] &&
          !new RegExp("PREFIX\\s+" + prefix + ":", "i").test(doc)) {
        ns = cachedTerms.prefixes[prefix];
        changes.push({ from: prologueEnd(editor.state.doc), insert: "PREFIX " + prefix + ": <" + ns + ">\n" });
      }
      var set = editor.state.changes(changes);
      editor.dispatch({ changes: set, selection: { anchor: set.mapPos(to, 1) }, scrollIntoView: true });
    };
  }

  // Where a new PREFIX line goes: after the last PREFIX line, else after the leading comment lines.
  function prologueEnd(doc) {
    var pos = 0;
    var lastPrefix = -1;
    for (var i = 1; i <= doc.lines; i++) {
      var line = doc.line(i);
      if (/^\s*PREFIX\b/i.test(line.text)) { lastPrefix = line.to + 1; }
      else if (/^\s*(#|$)/.test(line.text) && lastPrefix < 0) { pos = line.to + 1; }
      else if (!/^\s*(#|$|BASE\b)/i.test(line.text)) { break; }
    }
    return Math.min(lastPrefix >= 0 ? lastPrefix : pos, doc.length);
  }

  var cachedTerms = null;
  terms.then(function (t) { cachedTerms = t; });

  function complete(context) {
    var word = context.matchBefore(/<?[A-Za-z_][\w-]*:?[\w.-]*|\?\w*/);
    if (!word || word.text.charAt(0) === "?" || (word.from === word.to && !context.explicit)) {
      return context.explicit ? terms.then(function (t) { return { from: context.pos, options: options(t) }; }) : null;
    }
    return terms.then(function (t) {
      return { from: word.from, options: options(t), validFor: /^[\w:.-]*$/ };
    });
  }

  // ------------------------------------------------------------------ examples

  function defaultView(text) {
    var m = /^#\s*defaultView\s*:\s*(\w+)/im.exec(text);
    return m ? m[1] : null;
  }

  select.addEventListener("change", function () {
    var example = byName[select.value];
    description.textContent = example ? example.description : "";
    if (example) {
      setQuery(example.text);
      current.view = null;
    }
  });

  // ------------------------------------------------------------------ address, sharing, downloads

  function queryForm(text) {
    var stripped = text.replace(/#[^\n]*/g, " ").replace(/<[^>\s]*>/g, "<>").replace(/"[^"\n]*"|'[^'\n]*'/g, "''");
    var m = /\b(SELECT|ASK|CONSTRUCT|DESCRIBE)\b/i.exec(stripped);
    return m ? m[1].toLowerCase() : "select";
  }

  function kindOf(text) {
    var f = queryForm(text);
    return f === "construct" || f === "describe" ? "graph" : "select";
  }

  function pageAddress(text, viewName) {
    var params = new URLSearchParams();
    params.set("query", text);
    if (viewName) { params.set("view", viewName); }
    return location.pathname + "?" + params.toString();
  }

  function resultAddress(text, fmt) {
    return endpoint + "?" + new URLSearchParams({ query: text, format: fmt }).toString();
  }

  function updateFormats() {
    var kind = kindOf(queryText());
    var fmt = formatSelect.value;
    Array.prototype.forEach.call(formatSelect.options, function (o) {
      var usable = o.value === "html" ? kind === "select" : o.dataset.kind === kind;
      o.disabled = !usable;
    });
    if (formatSelect.selectedOptions[0].disabled) {
      formatSelect.value = kind === "graph" ? "turtle" : "json";
    }
    fmt = formatSelect.value;
    download.href = resultAddress(queryText(), fmt);
    var name = select.value || "query";
    download.setAttribute("download", "fwgraph-" + name + "." + EXTENSION[fmt]);
    download.textContent = "Download " + formatSelect.selectedOptions[0].textContent.replace(/ \(.*\)$/, "");
  }

  function shellQuote(s) { return "'" + s.replace(/'/g, "'\\''") + "'"; }

  // The query with a PREFIX line for each of the project's prefixes it uses without declaring: fwgraph
  // declares them itself (as Wikidata's service does), another endpoint or a copied command needs them written.
  function withDeclarations(text) {
    if (!cachedTerms) { return text; }
    var lines = "";
    Object.keys(cachedTerms.prefixes).forEach(function (p) {
      var used = new RegExp("(^|[^\\w.:?$<-])" + p + ":").test(text);
      var own = new RegExp("PREFIX\\s+" + p + ":", "i").test(text);
      if (used && !own) { lines += "PREFIX " + p + ": <" + cachedTerms.prefixes[p] + ">\n"; }
    });
    return lines + text;
  }

  function curlCommand() {
    var fmt = formatSelect.value;
    return "curl -H " + shellQuote("Accept: " + MEDIA[fmt]) + " --data-urlencode " +
      shellQuote("query=" + withDeclarations(queryText())) + " " + shellQuote(new URL(endpoint, location.href).href);
  }

  function offer(text, what) {
    share.hidden = false;
    share.textContent = text;
    function said(msg) { status.textContent = msg; }
    if (navigator.clipboard && navigator.clipboard.writeText) {
      navigator.clipboard.writeText(text).then(function () { said(what + " copied to the clipboard."); },
        function () { said(what + " shown below: select it and copy."); });
    } else {
      said(what + " shown below: select it and copy.");
    }
  }

  document.getElementById("copy-link").addEventListener("click", function () {
    offer(new URL(pageAddress(queryText(), current.view), location.href).href, "Link");
  });
  document.getElementById("copy-curl").addEventListener("click", function () { offer(curlCommand(), "curl command"); });
  formatSelect.addEventListener("change", updateFormats);
  view.dom.addEventListener("focusout", updateFormats);
  download.addEventListener("click", updateFormats);

  // ------------------------------------------------------------------ running

  function markError(line, column, message) {
    var doc = view.state.doc;
    if (!line) {
      view.dispatch(CM.setDiagnostics(view.state, []));
      return;
    }
    var l = doc.line(Math.max(1, Math.min(line, doc.lines)));
    var from = Math.min(l.from + Math.max(0, (column || 1) - 1), l.to);
    var to = Math.min(from + 1, doc.length);
    if (from === to && from > 0) { from -= 1; }
    view.dispatch(CM.setDiagnostics(view.state, [{ from: from, to: to, severity: "error", message: message }]));
  }

  function showViews(available) {
    viewsBar.hidden = false;
    Array.prototype.forEach.call(viewsBar.querySelectorAll("button"), function (b) {
      b.hidden = available.indexOf(b.dataset.view) < 0;
      b.setAttribute("aria-pressed", String(b.dataset.view === current.view));
    });
  }

  function render() {
    var result = current.result;
    var available = Results.views(result);
    if (available.indexOf(current.view) < 0) { current.view = available[0]; }
    showViews(available);
    Results.render(results, result, current.view, { compact: compact, root: root }).catch(function (err) {
      results.textContent = "";
      var pre = document.createElement("pre");
      pre.className = "error";
      pre.textContent = String(err.message || err);
      results.appendChild(pre);
    });
  }

  viewsBar.addEventListener("click", function (event) {
    var button = event.target.closest("button[data-view]");
    if (!button || !current.result) { return; }
    current.view = button.dataset.view;
    history.replaceState(null, "", pageAddress(queryText(), current.view));
    render();
  });

  function compact(iri) {
    if (!cachedTerms) { return iri; }
    var best = null;
    Object.keys(cachedTerms.prefixes).forEach(function (p) {
      var ns = cachedTerms.prefixes[p];
      if (iri.indexOf(ns) === 0 && iri.length > ns.length && (!best || ns.length > best[1].length)) { best = [p, ns]; }
    });
    return best ? best[0] + ":" + iri.slice(best[1].length) : iri;
  }

  // ------------------------------------------------------------------ recent queries (this browser only)

  var HISTORY_KEY = "fwgraph.history";
  var HISTORY_SIZE = 20;
  var historyList = document.getElementById("history-list");

  function readHistory() {
    try {
      var items = JSON.parse(localStorage.getItem(HISTORY_KEY) || "[]");
      return Array.isArray(items) ? items.filter(function (i) { return i && typeof i.query === "string"; }) : [];
    } catch (e) { return []; }  // storage disabled or a damaged entry: no history, no error
  }

  function remember(text) {
    var items = readHistory().filter(function (i) { return i.query !== text; });
    items.unshift({ query: text, at: new Date().toISOString() });
    try { localStorage.setItem(HISTORY_KEY, JSON.stringify(items.slice(0, HISTORY_SIZE))); } catch (e) { /* full */ }
    showHistory();
  }

  function showHistory() {
    if (!historyList) { return; }
    var items = readHistory();
    historyList.textContent = "";
    document.getElementById("history").hidden = items.length === 0;
    items.forEach(function (item) {
      var li = document.createElement("li");
      var b = document.createElement("button");
      b.type = "button";
      b.className = "history-item";
      var first = item.query.split("\n").filter(function (l) { return l.trim() && !/^\s*(PREFIX|#)/i.test(l); })[0] || item.query;
      b.textContent = first.trim().slice(0, 80);
      b.title = item.query;
      b.addEventListener("click", function () {
        view.dispatch({ changes: { from: 0, to: view.state.doc.length, insert: item.query } });
        current.view = null;
        run(true);
      });
      var when = document.createElement("small");
      when.textContent = " " + item.at.slice(0, 16).replace("T", " ");
      li.appendChild(b);
      li.appendChild(when);
      historyList.appendChild(li);
    });
  }
  showHistory();

  var running = null;

  function run(push) {
    var text = queryText();
    remember(text);
    var wanted = current.view || defaultView(text) || "Table";
    current.view = wanted;
    var address = pageAddress(text, wanted);
    if (push && location.pathname + location.search !== address) { history.pushState(null, "", address); }
    else { history.replaceState(null, "", address); }
    updateFormats();
    status.textContent = "Running…";
    results.textContent = "";
    viewsBar.hidden = true;
    view.dispatch(CM.setDiagnostics(view.state, []));
    if (running) { running.abort(); }
    running = new AbortController();
    var started = performance.now();
    fetch(endpoint + "?" + new URLSearchParams({ query: text }).toString(), {
      headers: { Accept: "application/sparql-results+json, application/n-triples;q=0.9" },
      signal: running.signal
    }).then(function (response) {
      var type = response.headers.get("Content-Type") || "";
      if (!response.ok) {
        return response.text().then(function (body) {
          var doc = null;
          try { doc = JSON.parse(body); } catch (e) { doc = null; }
          var message = doc && doc.message ? doc.message : body;
          markError(doc && doc.line, doc && doc.column, message);
          var err = new Error(response.status + " " + (doc && doc.error ? doc.error : response.statusText) + ": " + message);
          throw err;
        });
      }
      var truncated = response.headers.get("X-Fwgraph-Truncated") === "true";
      var maxRows = response.headers.get("X-SPARQL-MaxRows");
      return (type.indexOf("json") >= 0 ? response.json() : response.text()).then(function (body) {
        var result = type.indexOf("json") >= 0 ? Results.fromJson(body) : Results.fromNTriples(body);
        result.truncated = truncated;
        current.result = result;
        var seconds = ((performance.now() - started) / 1000).toFixed(2);
        var n = Results.size(result);
        var unit = result.kind === "graph" ? " triple" : " row";
        status.textContent = (result.kind === "ask" ? "Answer: " + result.boolean
          : n + unit + (n === 1 ? "" : "s")) +
          (truncated ? " (truncated at " + (maxRows || n) + ": add a LIMIT or download a narrower query)" : "") +
          " in " + seconds + " s.";
        render();
      });
    }).catch(function (err) {
      if (err.name === "AbortError") { return; }
      status.textContent = "The query failed.";
      var pre = document.createElement("pre");
      pre.className = "error";
      pre.id = "query-error";
      pre.textContent = String(err.message || err);
      results.appendChild(pre);
    });
  }

  form.addEventListener("submit", function (event) {
    event.preventDefault();
    run(true);
  });

  function fromAddress() {
    var params = new URLSearchParams(location.search);
    var text = params.get("query");
    if (text === null) { return false; }
    if (text !== queryText()) { setQuery(text); }
    current.view = params.get("view");
    select.value = "";
    examples.forEach(function (e) { if (e.text === text) { select.value = e.name; } });
    description.textContent = select.value ? byName[select.value].description : "";
    run(false);
    return true;
  }

  window.addEventListener("popstate", fromAddress);
  fromAddress();
  updateFormats();
}());
