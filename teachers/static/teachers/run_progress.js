/* A sync run's progress page: polls the run's JSON every two seconds while it is active and
   updates the page in place (no reload); announces status changes to screen readers. */
(function () {
  "use strict";

  var POLL_MS = 2000;
  var root, live, lastStatus;

  function $(selector, base) { return (base || document).querySelector(selector); }
  function $$(selector, base) { return Array.prototype.slice.call((base || document).querySelectorAll(selector)); }

  function cell(tag, text, className, label) {
    var node = document.createElement(tag);
    if (tag === "th") { node.setAttribute("scope", "row"); }
    if (className) { node.className = className; }
    if (label) { node.setAttribute("data-label", label); }
    node.textContent = text;
    return node;
  }

  function setField(name, value) {
    $$('[data-field="' + name + '"]', root).forEach(function (node) { node.textContent = value; });
  }

  function empty(body, columns, text) {
    var row = document.createElement("tr");
    var only = cell("td", text, "muted");
    only.colSpan = columns;
    row.appendChild(only);
    body.appendChild(row);
  }

  function renderAssignments(list) {
    var body = $("#run-assignments tbody", root);
    body.textContent = "";
    if (!list.length) { empty(body, 7, "Planning the sync\u2026"); return; }
    list.forEach(function (a) {
      var row = document.createElement("tr");
      row.appendChild(cell("th", a.assignment, "", "Assignment"));
      row.appendChild(cell("td", a.section, "", "Section"));
      var status = cell("td", "", "", "Status");
      var pill = cell("span", a.status_label, "pill pill--" + a.status);
      status.appendChild(pill);
      if (a.blocked_by.length) {
        status.appendChild(document.createTextNode(" "));
        status.appendChild(cell("span", a.blocked_by.join(", "), "small muted"));
      }
      row.appendChild(status);
      [["posted", "Posted"], ["unchanged", "Unchanged"], ["skipped", "Skipped"], ["failed", "Failed"]].forEach(function (pair) {
        row.appendChild(cell("td", String(a.grades[pair[0]]), "num", pair[1]));
      });
      body.appendChild(row);
    });
  }

  function renderGrades(kind, block) {
    var table = $('table[data-kind="' + kind + '"]', root);
    var body = $("tbody", table);
    var columns = kind === "failed" ? 5 : 4;
    body.textContent = "";
    if (!block.grades.length) { empty(body, columns, "None."); }
    block.grades.forEach(function (g) {
      var row = document.createElement("tr");
      row.appendChild(cell("th", g.student, "", "Student"));
      row.appendChild(cell("td", g.assignment, "", "Assignment"));
      row.appendChild(cell("td", g.section, "", "Section"));
      row.appendChild(cell("td", g.reason_label, "", "Reason"));
      if (kind === "failed") { row.appendChild(cell("td", g.detail || "\u2014", "", "Infinite Campus said")); }
      body.appendChild(row);
    });
    setField(kind + "_count", String(block.count));
    setField(kind + "_more", block.more ? "And " + block.more + " more." : "");
  }

  function render(data) {
    var state = $('[data-field="status_label"]', root);
    state.className = "pill pill--" + data.status;
    setField("status_label", data.status_label);
    setField("finished_at_label", data.finished_at_label || "Not yet");
    setField("grades_settled", String(data.grades_settled));
    setField("grades_total", String(data.grades_total));
    setField("message", data.message || "");
    var bar = $("#run-progress", root);
    bar.max = data.grades_total || 1;
    bar.value = data.grades_total ? data.grades_settled : (data.finished ? 1 : 0);
    Object.keys(data.grades).forEach(function (status) {
      $$('[data-count="' + status + '"]', root).forEach(function (node) { node.textContent = String(data.grades[status]); });
    });
    renderAssignments(data.assignments);
    renderGrades("failed", data.failed);
    renderGrades("skipped", data.skipped);
    root.setAttribute("data-finished", data.finished ? "true" : "false");
    root.setAttribute("data-status", data.status);
    if (data.status !== lastStatus) {
      lastStatus = data.status;
      var words = "Sync " + data.status_label.toLowerCase();
      if (data.finished) {
        words += ": " + data.grades.posted + " grades posted, " + data.grades.failed + " failed, " +
          data.grades.skipped + " skipped.";
      }
      live.textContent = words;
    }
  }

  function poll() {
    fetch(root.getAttribute("data-progress-url"), { headers: { "Accept": "application/json" }, credentials: "same-origin" })
      .then(function (response) {
        if (!response.ok) { throw new Error("HTTP " + response.status); }
        return response.json();
      })
      .then(function (data) {
        render(data);
        if (!data.finished) { window.setTimeout(poll, POLL_MS); }
      })
      .catch(function () { window.setTimeout(poll, POLL_MS * 3); });
  }

  document.addEventListener("DOMContentLoaded", function () {
    root = document.getElementById("run");
    if (!root || !window.fetch) { return; }
    live = document.getElementById("run-live");
    lastStatus = root.getAttribute("data-status");
    if (root.getAttribute("data-finished") !== "true") { window.setTimeout(poll, POLL_MS / 2); }
  });
})();
