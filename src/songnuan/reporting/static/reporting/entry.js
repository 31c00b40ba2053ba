/* The data-entry page: live checks and autosave through the JSON API, edit conflicts, and a copy of unsaved
 * edits in localStorage.
 *
 * Plain JavaScript, no build step. Every text it shows comes translated from the page (#entry-config and the
 * <template> elements); the findings come rendered from the server (reporting/findings.py), and are swapped in.
 * - Typing: after 400 ms of quiet (or when a field is left) all values go to POST …/check (nothing stored),
 *   and the changed items, explanations and header go to PUT on the table with the version they were based
 *   on. Saves run one at a time; each carries the version the previous one returned.
 * - Both answers carry the findings as HTML fragments (summary, rows, explanations). An answer about older
 *   edits than those on screen is ignored; for the same edits a save's answer wins over a check's (it also
 *   knows the explanations just stored).
 * - What is unsaved is what differs from the server's last answer: `saved` holds the values, explanations
 *   and header the server stored at `version`; the inputs and `explanations` (what the person typed, kept
 *   across swaps) hold the page's. Nothing else decides what is sent.
 * - A 409 with both sides means someone else saved first: nothing was overwritten; both versions are shown
 *   and the person chooses ("use theirs" or "keep mine", which saves again on top of the new version).
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
  var EXPLAIN = "explain-";
  var inputs = {};
  Array.prototype.forEach.call(form.querySelectorAll("input[data-item]"), function (input) {
    inputs[input.dataset.item] = input;
  });
  var headerNames = ["reporter", "phone", "report_date"];
  var summary = document.getElementById("summary");
  var saveState = document.getElementById("save-state");
  var notice = document.getElementById("notice");
  var conflictBox = document.getElementById("conflict");
  var explainSection = document.getElementById("explanations");
  var explainList = explainSection.querySelector(".explain-list");

  var version = config.version;
  // What the server holds at `version` (values as the server writes them); what differs from it is unsaved.
  var saved = { values: {}, explanations: Object.assign({}, config.explanations || {}), header: headerValues() };
  Object.keys(inputs).forEach(function (code) { saved.values[code] = inputs[code].value; });
  // The text last sent for an item that the server stored as saved.values[code] (１２ → 12): not unsaved.
  var sentAs = {};
  // The explanations on the page: the stored ones, and what the person typed since (kept when swapped).
  var explanations = Object.assign({}, saved.explanations);

  var edits = 0; // raised on every change; a save clears the local copy only if nothing changed meanwhile
  var shown = { edit: -1, save: false }; // the findings on screen: of which edit, from a save's answer
  var timer = null;
  var retryDelay = 0; // after a server error or no network: try again later, longer each time
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

  function textOf(value) {
    return value === null || value === undefined ? "" : String(value);
  }

  function same(a, b) {
    return textOf(a).trim() === textOf(b).trim();
  }

  function ruleOf(area) {
    return area.name.slice(EXPLAIN.length);
  }

  function headerValues() {
    var header = {};
    headerNames.forEach(function (name) {
      var field = form.elements.namedItem(name);
      if (field) header[name] = field.value;
    });
    return header;
  }

  // --- what is unsaved --------------------------------------------------------------------------------

  function dirtyValues() {
    var values = {};
    Object.keys(inputs).forEach(function (code) {
      var typed = inputs[code].value;
      if (!same(typed, saved.values[code]) && typed !== sentAs[code]) values[code] = typed;
    });
    return values;
  }

  function dirtyExplanations() {
    var changed = {};
    Object.keys(explanations).forEach(function (rule) {
      if (!same(explanations[rule], saved.explanations[rule])) changed[rule] = explanations[rule];
    });
    return changed;
  }

  function dirtyHeader() {
    var header = headerValues();
    return headerNames.some(function (name) { return !same(header[name], saved.header[name]); });
  }

  function isDirty() {
    return (
      Object.keys(dirtyValues()).length > 0 || Object.keys(dirtyExplanations()).length > 0 || dirtyHeader()
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
    showTypedExplanations();
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

  // --- talking to the server --------------------------------------------------------------------------

  function send(method, url, payload) {
    return fetch(url, {
      method: method,
      credentials: "same-origin",
      headers: { "Content-Type": "application/json", "Accept": "application/json", "X-CSRFToken": csrf },
      body: JSON.stringify(payload),
    }).then(function (response) {
      var type = response.headers.get("Content-Type") || "";
      if (type.indexOf("application/json") === -1) {
        // The API always answers JSON: anything else is a server error or a proxy's page (try again later).
        return { status: response.status >= 500 ? response.status : 502, data: {} };
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
    send("POST", config.checkUrl, { values: allValues() }).then(function (answer) {
      if (answer.status === 200) showFindings(answer.data.findings_html, edit, false);
      else if (answer.status === 401 || answer.status === 403) handleFailure(answer);
      // Other refusals of a check change nothing on the page: the save that goes with it reports them.
    }, function () { /* no network: the save reports it */ });
  }

  function runSave() {
    if (stopped || inConflict) return;
    if (saving) { saveAgain = true; return; }
    if (!isDirty()) return;
    saving = true;
    saveAgain = false;
    var edit = edits;
    var sent = dirtyValues();
    setSaveState(text.saving, false);
    send("PUT", config.tableUrl, {
      version: version, values: sent, explanations: dirtyExplanations(), header: headerValues(),
    }).then(function (answer) {
      saving = false;
      if (answer.status === 200) {
        retryDelay = 0;
        stored(answer.data, edit, sent);
      } else if (answer.status === 409 && answer.data.theirs) {
        showConflict(answer.data);
      } else {
        handleFailure(answer);
      }
      if (saveAgain && !inConflict && !stopped) runSave();
    }, function () {
      saving = false;
      keepLocally();
      setSaveState(text.offline, true);
      retryLater();
    });
  }

  function stored(table, edit, sent) {
    version = table.version;
    Object.keys(table.values).forEach(function (code) {
      var input = inputs[code];
      saved.values[code] = textOf(table.values[code]);
      delete sentAs[code];
      if (input && code in sent && input.value === sent[code]) {
        // Show the value as stored (１２ → 12), unless the person is still in that field.
        if (document.activeElement === input) sentAs[code] = sent[code];
        else input.value = saved.values[code];
      }
    });
    saved.explanations = Object.assign({}, table.explanations);
    saved.header = {
      reporter: table.header.reporter, phone: table.header.phone, report_date: textOf(table.header.report_date),
    };
    setSaveState(format(text.saved, { time: clockOf(table.updated_at) }), false);
    showFindings(table.findings_html, edit, true);
    if (edit === edits) forgetLocally();
    else keepLocally();
  }

  function handleFailure(answer) {
    var message = answer.data.message;
    if (answer.status === 401) {
      stopped = true;
      keepLocally();
      saveState.replaceChildren(document.getElementById("expired").content.cloneNode(true));
      saveState.classList.add("error");
    } else if (answer.status === 403) {
      stopped = true;
      setSaveState(message || text.denied, true);
    } else {
      keepLocally();
      setSaveState(format(text.saveFailed, { message: message || answer.status }), true);
      if (answer.status >= 500) retryLater();
    }
  }

  function retryLater() {
    retryDelay = Math.min(retryDelay ? retryDelay * 2 : 2000, 60000);
    clearTimeout(timer);
    timer = setTimeout(flush, retryDelay);
  }

  function setSaveState(message, isError) {
    saveState.textContent = message;
    saveState.classList.toggle("error", !!isError);
  }

  function showNotice(message) {
    notice.textContent = message;
    notice.hidden = false;
  }

  // --- findings: fragments from the server, swapped in ------------------------------------------------

  function parsed(html, context) {
    // Parsed as if inside `context` (rows inside the table's body), so every element comes out as sent.
    var range = document.createRange();
    range.selectNodeContents(context);
    return range.createContextualFragment(html);
  }

  function showFindings(fragments, edit, fromSave) {
    if (edit < shown.edit || (edit === shown.edit && shown.save && !fromSave)) return; // older news
    shown = { edit: edit, save: fromSave };
    summary.innerHTML = fragments.summary;
    var rows = parsed(fragments.rows, form.querySelector("table.entry tbody"));
    Array.prototype.forEach.call(rows.querySelectorAll("tr[data-item]"), function (news) {
      var row = document.getElementById("item-" + news.dataset.item);
      if (!row) return;
      var cell = row.querySelector("td.value");
      if (news.dataset.state) cell.dataset.state = news.dataset.state;
      else delete cell.dataset.state;
      row.querySelector("td.msgs").replaceWith(news.querySelector("td.msgs"));
    });
    swapExplanations(parsed(fragments.explanations, explainList));
  }

  /* The server's boxes replace the page's, with two things kept: the text the person typed (not saved yet,
   * or saved after this answer was made) and the box being typed in, which is left in place so that its
   * focus, caret and an unfinished input-method composition are not lost. */
  function swapExplanations(incoming) {
    var active = document.activeElement;
    var typing = active && active.tagName === "TEXTAREA" && explainList.contains(active)
      ? active.closest(".explain") : null;
    Array.prototype.slice.call(explainList.children).forEach(function (box) {
      if (box !== typing) box.remove();
    });
    var afterTyping = false;
    Array.prototype.slice.call(incoming.querySelectorAll(".explain")).forEach(function (box) {
      if (typing && box.dataset.rule === typing.dataset.rule) {
        typing.className = box.className;
        typing.replaceChild(box.querySelector("p"), typing.querySelector("p"));
        afterTyping = true;
      } else if (typing && !afterTyping) {
        explainList.insertBefore(box, typing);
      } else {
        explainList.appendChild(box);
      }
    });
    showTypedExplanations();
    explainSection.hidden = explainList.children.length === 0;
  }

  function showTypedExplanations() {
    Array.prototype.forEach.call(explainList.querySelectorAll("textarea"), function (area) {
      var rule = ruleOf(area);
      if (rule in explanations && area.value !== explanations[rule]) area.value = explanations[rule];
      area.closest(".explain").classList.toggle("missing", !area.value.trim());
    });
  }

  // --- conflicts --------------------------------------------------------------------------------------

  var conflictData = null;

  function showConflict(data) {
    inConflict = true;
    conflictData = data;
    keepLocally();
    conflictBox.querySelector(".conflict-message").textContent = data.message;
    var body = conflictBox.querySelector("tbody");
    var rowTemplate = document.getElementById("conflict-row");
    body.replaceChildren();
    (data.changed || []).forEach(function (change) {
      var row = rowTemplate.content.firstElementChild.cloneNode(true);
      row.dataset.item = change.item;
      row.querySelector(".item").textContent = change.item + " " + change.label;
      row.querySelector(".theirs").textContent = textOf(change.theirs) || text.blank;
      row.querySelector(".yours").textContent = textOf(change.yours) || text.blank;
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
      var theirs = textOf(data.theirs[code]);
      saved.values[code] = theirs;
      delete sentAs[code];
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

  function changed(event) {
    var target = event.target;
    if (target.tagName === "TEXTAREA" && target.name.indexOf(EXPLAIN) === 0) {
      explanations[ruleOf(target)] = target.value;
    }
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
    var target = event.target;
    if (timer !== null && target.matches("input, textarea")) flush();
    // Leaving a field that holds what was saved as another text (１２): show it as stored.
    var code = target.dataset && target.dataset.item;
    if (code && code in sentAs && target.value === sentAs[code]) {
      target.value = saved.values[code];
      delete sentAs[code];
    }
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

  // 从台账填入空白项: the ledger's figures (config.ledger, as the page shows them) into the blank inputs only;
  // what is typed stays. Then the normal check and autosave, as if typed.
  var fillButton = document.getElementById("fill-from-ledger");
  if (fillButton) {
    fillButton.addEventListener("click", function () {
      var ledger = config.ledger || {};
      var filled = 0;
      Object.keys(ledger).forEach(function (code) {
        var input = inputs[code];
        if (input && !input.value.trim()) {
          input.value = ledger[code];
          filled += 1;
        }
      });
      if (!filled) { showNotice(text.ledgerNothing); return; }
      showNotice(format(text.ledgerFilled, { n: filled }));
      edits += 1;
      keepLocally();
      flush();
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
