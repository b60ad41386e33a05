// Query editor on the landing page: fill the textarea from the example select and run queries in the page.
// Without JavaScript the form still works: it submits GET /sparql?query=...&format=html.
(function () {
  "use strict";
  var form = document.getElementById("query-form");
  if (!form) { return; }
  var select = document.getElementById("example");
  var text = document.getElementById("query-text");
  var status = document.getElementById("query-status");
  var results = document.getElementById("results");
  var examples = JSON.parse(document.getElementById("examples-data").textContent || "[]");
  var byName = {};
  examples.forEach(function (e) { byName[e.name] = e; });

  select.addEventListener("change", function () {
    var example = byName[select.value];
    if (example) { text.value = example.text; }
  });

  function cell(term) {
    var td = document.createElement("td");
    if (!term) { return td; }
    if (term.type === "uri") {
      var a = document.createElement("a");
      a.href = term.value;
      a.textContent = term.value;
      td.appendChild(a);
    } else if (term.type === "bnode") {
      td.textContent = "_:" + term.value;
    } else {
      td.textContent = term.value;
      if (term["xml:lang"]) { td.lang = term["xml:lang"]; }
    }
    return td;
  }

  function renderTable(doc) {
    results.textContent = "";
    if (typeof doc.boolean === "boolean") {
      var p = document.createElement("p");
      p.className = "boolean";
      p.textContent = doc.boolean ? "true" : "false";
      results.appendChild(p);
      return 1;
    }
    var vars = doc.head.vars || [];
    var table = document.createElement("table");
    table.className = "results";
    var head = table.createTHead().insertRow();
    vars.forEach(function (v) {
      var th = document.createElement("th");
      th.textContent = v;
      head.appendChild(th);
    });
    var body = table.createTBody();
    doc.results.bindings.forEach(function (b) {
      var tr = body.insertRow();
      vars.forEach(function (v) { tr.appendChild(cell(b[v])); });
    });
    results.appendChild(table);
    return doc.results.bindings.length;
  }

  form.addEventListener("submit", function (event) {
    event.preventDefault();
    status.textContent = "Running…";
    results.textContent = "";
    var url = form.action + "?query=" + encodeURIComponent(text.value);
    fetch(url, { headers: { "Accept": "application/sparql-results+json, text/turtle;q=0.9" } })
      .then(function (response) {
        var type = response.headers.get("Content-Type") || "";
        if (!response.ok) {
          return response.text().then(function (t) { throw new Error(response.status + ": " + t); });
        }
        if (type.indexOf("json") >= 0) {
          return response.json().then(function (doc) {
            var n = renderTable(doc);
            var truncated = doc.head && doc.head.link && doc.head.link.length;
            status.textContent = n + " row" + (n === 1 ? "" : "s") + (truncated ? " (truncated)" : "");
          });
        }
        return response.text().then(function (t) {
          var pre = document.createElement("pre");
          pre.textContent = t;
          results.appendChild(pre);
          status.textContent = "graph result";
        });
      })
      .catch(function (err) {
        status.textContent = "";
        var pre = document.createElement("pre");
        pre.className = "error";
        pre.textContent = String(err.message || err);
        results.appendChild(pre);
      });
  });
}());
