// The contribution form's checks as you type: the filled form becomes a Turtle record (POST /contribute), which
// /validate checks against the shapes; every problem and every violation or warning is shown at once, beside the
// field its shape belongs to, in the plain words the page carries for each shape (#form-advice, from the shapes).
// Without JavaScript the form still works: its buttons show the record (with a link to /validate) or download it.
(function () {
  "use strict";
  var form = document.getElementById("contribution");
  if (!form) { return; }
  var validateUrl = form.dataset.validate;
  var verdict = document.getElementById("verdict");
  var recordMessages = document.getElementById("record-messages");
  var preview = document.getElementById("preview");
  var turtleBox = document.getElementById("turtle");
  var slugInput = document.getElementById("slug");
  var downloadName = document.getElementById("download-name");
  var advice = JSON.parse(document.getElementById("form-advice").textContent);
  var timer = null;
  var generation = 0;

  Array.prototype.forEach.call(document.querySelectorAll(".js-only"), function (el) { el.hidden = false; });

  function clearFeedback() {
    Array.prototype.forEach.call(form.querySelectorAll(".feedback"), function (ul) { ul.textContent = ""; });
    Array.prototype.forEach.call(form.querySelectorAll(".has-violation, .has-warning"), function (el) {
      el.classList.remove("has-violation", "has-warning");
    });
    Array.prototype.forEach.call(form.querySelectorAll("[aria-invalid]"), function (el) { el.removeAttribute("aria-invalid"); });
  }

  function say(list, severity, text) {
    var li = document.createElement("li");
    li.className = severity.toLowerCase();
    li.textContent = ({ Violation: "To fix", Warning: "Suggested", Info: "Note" }[severity] || severity) + ": " + text;
    list.appendChild(li);
  }

  function mark(fieldset, severity, text) {
    say(fieldset.querySelector(".feedback"), severity, text);
    if (severity === "Violation") {
      fieldset.classList.add("has-violation");
      Array.prototype.forEach.call(fieldset.querySelectorAll("input, select, textarea"), function (el) {
        el.setAttribute("aria-invalid", "true");
      });
    } else if (!fieldset.classList.contains("has-violation")) {
      fieldset.classList.add("has-warning");
    }
  }

  // The field a result is about: the field its shape belongs to; else the record's own property, else a property
  // of one of its node values.
  function fieldFor(result) {
    var known = advice[result.sourceShape];
    if (known) { return document.getElementById(known.field); }
    if (!result.path) { return null; }
    var top = form.querySelector('fieldset.form-field[data-key="' + CSS.escape(result.path) + '"]');
    if (top && !/^_:/.test(result.focusNode || "")) { return top; }  // about the record itself
    var nested = form.querySelector('.nested [data-key="' + CSS.escape(result.path) + '"]');
    return nested ? nested.closest("fieldset.form-field") : top;
  }

  function plain(result) {
    var known = advice[result.sourceShape];
    var value = result.value && !/^_:/.test(result.value) ? " (you gave: " + result.value + ")" : "";
    return (known ? known.text : result.message) + value;
  }

  function showProblems(problems) {
    problems.forEach(function (doc) {
      var fieldset = document.getElementById(doc.field === "extra" ? "f-extra" : "f-slug");
      var where = doc.line ? "line " + doc.line + (doc.column ? ", column " + doc.column : "") + ": " : "";
      mark(fieldset, "Violation", where + doc.message);
    });
  }

  function showReport(report, problems) {
    clearFeedback();
    showProblems(problems);
    report.results.forEach(function (r) {
      var fieldset = fieldFor(r);
      if (fieldset) { mark(fieldset, r.severity, plain(r)); }
      else { say(recordMessages, r.severity, plain(r)); }
    });
    var violations = report.violations + problems.length;
    verdict.className = "report-summary " + (violations ? "violation" : "conforms");
    verdict.textContent = (violations ? "Not ready yet" : "Ready to propose") + ": " + violations +
      " problem(s) to fix, " + report.warnings + " recommendation(s)." +
      (violations ? " Each is shown beside its field." : "");
  }

  function showInputError(doc) {
    clearFeedback();
    showProblems([doc]);
    verdict.className = "report-summary violation";
    verdict.textContent = "The record cannot be written yet.";
  }

  function check() {
    var mine = ++generation;
    var problems = [];
    var body = new URLSearchParams(new FormData(form));
    verdict.className = "report-summary";
    verdict.textContent = "Checking…";
    fetch(form.getAttribute("action"), { method: "POST", body: body, headers: { Accept: "application/json" } })
      .then(function (response) {
        return response.json().then(function (doc) { return { ok: response.ok, doc: doc }; });
      })
      .then(function (answer) {
        if (mine !== generation) { return null; }
        if (!answer.doc.turtle) { showInputError(answer.doc); return null; }
        problems = answer.doc.problems || [];
        turtleBox.textContent = answer.doc.turtle;
        return fetch(validateUrl, { method: "POST", body: answer.doc.turtle,
          headers: { "Content-Type": "text/turtle", Accept: "application/json" } });
      })
      .then(function (response) {
        if (!response || mine !== generation) { return; }
        if (response.status === 503 || response.status === 429) {  // busy, or busy with our previous check
          var wait = Number(response.headers.get("Retry-After") || "2");
          verdict.textContent = "The validator is busy; checking again in " + wait + " s.";
          timer = setTimeout(check, wait * 1000);
          return;
        }
        return response.json().then(function (doc) {
          if (mine !== generation) { return; }
          if (doc.results) { showReport(doc, problems); }
          else { showInputError({ field: "extra", message: doc.message || "the record cannot be read" }); }
        });
      })
      .catch(function (err) {
        verdict.className = "report-summary violation";
        verdict.textContent = "The check failed: " + (err.message || err);
      });
  }

  function later() {
    clearTimeout(timer);
    timer = setTimeout(check, 600);
    downloadName.textContent = (slugInput.value.trim() || "record") + ".ttl";
  }

  form.addEventListener("input", later);
  form.addEventListener("change", later);

  // "Add another": a copy of the field's last value (or node value), emptied, with the next index.
  form.addEventListener("click", function (event) {
    var button = event.target.closest("button.add-value");
    if (!button) { return; }
    var fieldset = document.getElementById(button.dataset.for);
    var values = fieldset.querySelector(".values");
    var last = values.lastElementChild;
    var copy = last.cloneNode(true);
    var count = values.children.length;
    var all = [copy].concat(Array.prototype.slice.call(copy.querySelectorAll("*")));
    all.forEach(function (el) {
      if (el.id) { el.id = el.id + "-" + count; }
      if (el.htmlFor) { el.htmlFor = el.htmlFor + "-" + count; }
      if (el.name && copy.classList.contains("nested")) { el.name = el.name.replace(/\[\d+\]/, "[" + count + "]"); }
      if (el.type === "hidden") { el.remove(); }
      else if (el.matches("input, textarea, select")) { el.value = ""; }
    });
    if (copy.classList.contains("nested")) { copy.dataset.index = String(count); }
    values.appendChild(copy);
    var focus = copy.matches("input, textarea, select") ? copy : copy.querySelector("input, textarea, select");
    if (focus) { focus.focus(); }
  });

  form.addEventListener("submit", function (event) {
    var action = event.submitter ? event.submitter.value : "preview";
    if (action === "preview") {  // with scripts the record is on this page already
      event.preventDefault();
      check();
      preview.open = true;
      preview.scrollIntoView();
    }
  });

  check();
}());
