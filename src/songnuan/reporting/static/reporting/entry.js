/* The data-entry page: live checks, autosave, edit conflicts, and a copy of unsaved edits in localStorage.
 *
 * Plain JavaScript, no build step. Every text it shows comes translated from the page (#entry-config).
 * - Typing: after 400 ms of quiet (or when a field is left) the values go to …/check (nothing stored) and
 *   the findings appear beside the cells; the changed items also go to …/save with the version they were
 *   based on. Saves run one at a time; each carries the version the previous one returned.
 * - A 409 from …/save means someone else saved first: nothing was overwritten; both versions are shown and
 *   the person chooses ("use theirs" or "keep mine", which saves again on top of the new version).
 * - Unsaved edits are kept in localStorage (per submission) until a save succeeds, and restored on load.
 */
(function () {
  "use strict";

  var configNode = document.getElementById("entry-config");
  var form = document.getElementById("entry-form");
  if (!configNode || !form) return;
  var config = JSON.parse(configNode.textContent);
  if (!config.editable || !config.submission) return;

  var text = config.text;
  var csrf = form.querySelector("input[name=csrfmiddlewaretoken]").value;
  var storageKey = "songnuan:draft:" + config.submission;
  var inputs = {};
  Array.prototype.forEach.call(form.querySelectorAll("input[data-item]"), function (input) {
    inputs[input.dataset.item] = input;
  });
  var headerNames = ["reporter", "phone", "report_date"];
  var explanations = Object.assign({}, config.explanations || {});
  var summary = document.getElementById("summary");
  var saveState = document.getElementById("save-state");
  var notice = document.getElementById("notice");
  var conflictBox = document.getElementById("conflict");
  var explainSection = document.getElementById("explanations");
  var explainList = explainSection.querySelector(".explain-list");

  var version = config.version;
  var base = {}; // item → value as last saved (the server's text); what differs from it is unsaved
  Object.keys(inputs).forEach(function (code) { base[code] = inputs[code].value; });
  var baseHeader = headerValues();
  var baseExplanations = Object.assign({}, explanations);
  var edits = 0; // raised on every change; a save clears the local copy only if nothing changed meanwhile
  var shownEdit = -1; // the edit count of the findings on screen (older answers are ignored)
  var timer = null;
  var saving = false;
  var saveAgain = false;
  var inConflict = false;
  var stopped = false; // session expired or access denied: stop sending

  function format(template, values) {
    return template.replace(/\{(\w+)\}/g, function (whole, name) {
      return name in values ? values[name] : whole;
    });
  }

  function clockOf(iso) {
    return iso ? iso.slice(11, 19) : "";
  }

  function headerValues() {
    var header = {};
    headerNames.forEach(function (name) {
      var field = form.elements.namedItem(name);
      if (field) header[name] = field.value;
    });
    return header;
  }

  function collectExplanations() {
    Array.prototype.forEach.call(explainList.querySelectorAll("textarea"), function (area) {
      explanations[area.name.slice("explain-".length)] = area.value;
    });
    return explanations;
  }

  function dirtyValues() {
    var values = {};
    Object.keys(inputs).forEach(function (code) {
      if (inputs[code].value.trim() !== (base[code] || "").trim()) values[code] = inputs[code].value;
    });
    return values;
  }

  function dirtyExplanations() {
    var changed = {};
    var current = collectExplanations();
    Object.keys(current).forEach(function (rule) {
      if ((current[rule] || "").trim() !== (baseExplanations[rule] || "").trim()) changed[rule] = current[rule];
    });
    return changed;
  }

  function isDirty() {
    var header = headerValues();
    return (
      Object.keys(dirtyValues()).length > 0 ||
      Object.keys(dirtyExplanations()).length > 0 ||
      headerNames.some(function (name) { return (header[name] || "") !== (baseHeader[name] || ""); })
    );
  }

  // --- the local copy ---------------------------------------------------------------------------------

  function keepLocally() {
    try {
      localStorage.setItem(storageKey, JSON.stringify({
        base: version, at: Date.now(), values: dirtyValues(), explanations: dirtyExplanations(),
        header: headerValues(),
      }));
    } catch (e) { /* private mode or full: the server copy is still there */ }
  }

  function forgetLocally() {
    try { localStorage.removeItem(storageKey); } catch (e) { /* ignore */ }
  }

  function restoreLocal() {
    var draft = null;
    try { draft = JSON.parse(localStorage.getItem(storageKey) || "null"); } catch (e) { draft = null; }
    if (!draft) return false;
    var savedAt = Date.parse(config.savedAt);
    if (!(draft.at > savedAt)) { forgetLocally(); return false; }
    Object.keys(draft.values || {}).forEach(function (code) {
      if (inputs[code]) inputs[code].value = draft.values[code];
    });
    Object.assign(explanations, draft.explanations || {});
    Object.keys(draft.explanations || {}).forEach(function (rule) {
      var area = explainList.querySelector('textarea[name="explain-' + cssEscape(rule) + '"]');
      if (area) area.value = draft.explanations[rule];
    });
    headerNames.forEach(function (name) {
      var field = form.elements.namedItem(name);
      if (field && draft.header && name in draft.header) field.value = draft.header[name];
    });
    if (!isDirty()) { forgetLocally(); return false; }
    // Saved on top of the version the edits were made on: if someone saved since, that is a conflict.
    version = draft.base;
    var time = new Date(draft.at);
    showNotice(format(text.restored, { time: time.toLocaleTimeString("zh-CN", { hour12: false }) }));
    return true;
  }

  function cssEscape(value) {
    return window.CSS && CSS.escape ? CSS.escape(value) : value.replace(/["\\]/g, "\\$&");
  }

  // --- talking to the server --------------------------------------------------------------------------

  function post(url, payload) {
    return fetch(url, {
      method: "POST",
      credentials: "same-origin",
      headers: { "Content-Type": "application/json", "Accept": "application/json", "X-CSRFToken": csrf },
      body: JSON.stringify(payload),
    }).then(function (response) {
      var type = response.headers.get("Content-Type") || "";
      if (type.indexOf("application/json") === -1) {
        // login_required answered with the login page: the session has expired.
        return { status: 401, data: {} };
      }
      return response.json().then(function (data) { return { status: response.status, data: data }; });
    });
  }

  function allValues() {
    var values = {};
    Object.keys(inputs).forEach(function (code) { values[code] = inputs[code].value; });
    return values;
  }

  function runCheck() {
    if (stopped) return;
    var edit = edits;
    post(config.checkUrl, { values: allValues() }).then(function (answer) {
      if (answer.status === 200) showFindings(answer.data, edit);
      else handleFailure(answer);
    }, offline);
  }

  function runSave() {
    if (stopped || inConflict) return;
    if (saving) { saveAgain = true; return; }
    if (!isDirty()) return;
    saving = true;
    saveAgain = false;
    var edit = edits;
    var sent = dirtyValues();
    var sentExplanations = dirtyExplanations();
    var sentHeader = headerValues();
    setSaveState(text.saving, false);
    post(config.saveUrl, {
      version: version, values: sent, explanations: sentExplanations, header: sentHeader,
    }).then(function (answer) {
      saving = false;
      if (answer.status === 200) {
        saved(answer.data, edit, sent, sentExplanations, sentHeader);
      } else if (answer.status === 409) {
        showConflict(answer.data);
      } else {
        handleFailure(answer);
      }
      if (saveAgain && !inConflict && !stopped) runSave();
    }, function () {
      saving = false;
      offline();
    });
  }

  function saved(data, edit, sent, sentExplanations, sentHeader) {
    version = data.version;
    Object.keys(data.values).forEach(function (code) {
      var shown = data.values[code] === null ? "" : data.values[code];
      base[code] = shown;
      var input = inputs[code];
      // Show the value as stored (１２ → 12) unless the person is still typing in that field.
      if (input && code in sent && input.value === sent[code] && document.activeElement !== input) {
        input.value = shown;
      }
    });
    Object.assign(baseExplanations, sentExplanations);
    baseHeader = sentHeader;
    setSaveState(format(text.saved, { time: clockOf(data.saved_at) }), false);
    showFindings(data, edit);
    if (edit === edits) forgetLocally();
    else keepLocally();
  }

  function handleFailure(answer) {
    if (answer.status === 401) {
      stopped = true;
      keepLocally();
      saveState.textContent = text.expired + " ";
      var link = document.createElement("a");
      link.href = config.loginUrl;
      link.textContent = text.login;
      saveState.appendChild(link);
      saveState.classList.add("error");
    } else if (answer.status === 403) {
      stopped = true;
      setSaveState(answer.data.message || text.denied, true);
    } else {
      setSaveState(format(text.saveFailed, { message: answer.data.message || answer.status }), true);
    }
  }

  function offline() {
    keepLocally();
    setSaveState(text.offline, true);
  }

  function setSaveState(message, isError) {
    saveState.textContent = message;
    saveState.classList.toggle("error", !!isError);
  }

  function showNotice(message) {
    notice.textContent = message;
    notice.hidden = false;
  }

  // --- findings beside the cells ----------------------------------------------------------------------

  function showFindings(data, edit) {
    if (edit < shownEdit) return; // an answer about older values arrived late
    shownEdit = edit;
    collectExplanations();
    var state = {};
    var notes = {};
    var findings = data.errors.concat(data.warnings);
    findings.forEach(function (finding) {
      finding.items.forEach(function (code, position) {
        if (state[code] !== "error") state[code] = finding.severity;
        if (position === 0) (notes[code] = notes[code] || []).push(finding);
      });
    });
    Array.prototype.forEach.call(form.querySelectorAll("tr[data-item]"), function (row) {
      var code = row.dataset.item;
      var cell = row.querySelector("td.value");
      if (state[code]) cell.dataset.state = state[code];
      else delete cell.dataset.state;
      var box = row.querySelector("td.msgs");
      box.textContent = "";
      (notes[code] || []).forEach(function (finding) {
        var line = document.createElement("div");
        line.className = "msg " + finding.severity;
        line.textContent = finding.message;
        box.appendChild(line);
      });
    });
    showSummary(data);
    showExplanations(data.warnings);
  }

  function showSummary(data) {
    summary.textContent = "";
    var line = document.createElement("p");
    if (!data.errors.length && !data.warnings.length) {
      line.className = "msg ok";
      line.textContent = text.ok;
    } else {
      var missing = data.warnings.filter(function (w) { return !(explanations[w.rule] || "").trim(); });
      line.textContent = format(text.summary, { errors: data.errors.length, warnings: data.warnings.length });
      if (missing.length) line.textContent += "；" + format(text.unexplained, { n: missing.length });
    }
    summary.appendChild(line);
  }

  function showExplanations(warnings) {
    collectExplanations();
    var focused = document.activeElement;
    var existing = {};
    Array.prototype.forEach.call(explainList.querySelectorAll(".explain"), function (box) {
      existing[box.dataset.rule] = box;
    });
    var wanted = {};
    warnings.forEach(function (warning) {
      wanted[warning.rule] = true;
      var box = existing[warning.rule];
      if (!box) {
        box = document.createElement("div");
        box.className = "explain";
        box.dataset.rule = warning.rule;
        var head = document.createElement("p");
        var tag = document.createElement("span");
        tag.className = "tag warning";
        tag.textContent = text.warning;
        head.appendChild(tag);
        head.appendChild(document.createTextNode(" "));
        var message = document.createElement("span");
        message.className = "message";
        head.appendChild(message);
        var rule = document.createElement("code");
        rule.textContent = warning.rule;
        head.appendChild(document.createTextNode(" "));
        head.appendChild(rule);
        var area = document.createElement("textarea");
        area.name = "explain-" + warning.rule;
        area.rows = 2;
        area.setAttribute("aria-label", text.explainLabel);
        area.value = explanations[warning.rule] || "";
        box.appendChild(head);
        box.appendChild(area);
      }
      var messageNode = box.querySelector(".message");
      if (messageNode) messageNode.textContent = warning.message;
      box.classList.toggle("missing", !(explanations[warning.rule] || "").trim());
      explainList.appendChild(box); // in the order of the findings
    });
    Object.keys(existing).forEach(function (rule) {
      if (!wanted[rule] && existing[rule] !== (focused && focused.closest && focused.closest(".explain"))) {
        existing[rule].remove();
      }
    });
    explainSection.hidden = warnings.length === 0;
  }

  // --- conflicts --------------------------------------------------------------------------------------

  var conflictData = null;

  function showConflict(data) {
    inConflict = true;
    conflictData = data;
    keepLocally();
    conflictBox.querySelector(".conflict-message").textContent = data.message;
    var body = conflictBox.querySelector("tbody");
    body.textContent = "";
    (data.changed || []).forEach(function (change) {
      var row = document.createElement("tr");
      row.dataset.item = change.item;
      [change.item + " " + change.label, change.theirs, change.yours].forEach(function (value) {
        var cell = document.createElement("td");
        cell.textContent = value === null || value === "" ? text.blank : value;
        row.appendChild(cell);
      });
      body.appendChild(row);
    });
    conflictBox.hidden = false;
    setSaveState(text.unsaved, true);
    conflictBox.scrollIntoView({ block: "center" });
  }

  function takeTheirs(keepMine) {
    var data = conflictData;
    var mine = dirtyValues();
    Object.keys(data.theirs).forEach(function (code) {
      var theirs = data.theirs[code] === null ? "" : data.theirs[code];
      base[code] = theirs;
      // "Keep mine": my changed items stay, everything else becomes theirs (their other edits survive).
      if (inputs[code] && !(keepMine && code in mine)) inputs[code].value = theirs;
    });
    version = data.version;
    inConflict = false;
    conflictData = null;
    conflictBox.hidden = true;
    edits += 1;
    if (keepMine) {
      runSave();
    } else {
      forgetLocally();
      setSaveState("", false);
    }
    runCheck();
  }

  conflictBox.addEventListener("click", function (event) {
    var action = event.target.dataset && event.target.dataset.action;
    if (action === "theirs") takeTheirs(false);
    if (action === "mine") takeTheirs(true);
  });

  // --- events -----------------------------------------------------------------------------------------

  function changed() {
    edits += 1;
    keepLocally();
    if (!inConflict && !stopped) setSaveState(text.unsaved, false);
    clearTimeout(timer);
    timer = setTimeout(flush, 400);
  }

  function flush() {
    clearTimeout(timer);
    timer = null;
    runCheck();
    runSave();
  }

  form.addEventListener("input", changed);
  form.addEventListener("focusout", function (event) {
    if (timer !== null && event.target.matches("input, textarea")) flush();
  });

  // Submitting: save what is typed first, so the server submits exactly what the page shows.
  var submitForm = document.getElementById("submit-form");
  if (submitForm) {
    submitForm.addEventListener("submit", function (event) {
      if (!isDirty() && !saving) return;
      event.preventDefault();
      flush();
      var wait = setInterval(function () {
        if (saving) return;
        clearInterval(wait);
        if (!isDirty() && !inConflict && !stopped) submitForm.submit();
      }, 100);
    });
  }

  window.addEventListener("online", function () {
    if (isDirty()) flush();
  });

  window.addEventListener("beforeunload", function () {
    if (isDirty()) keepLocally();
  });

  if (restoreLocal()) flush();
})();
