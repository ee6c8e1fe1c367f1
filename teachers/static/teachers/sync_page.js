/* The course sync page, enhanced: select all, section filter and sort without reloading, a
   live summary, and fixes in place sent with fetch. Without this script every form still works. */
(function () {
  "use strict";

  var panel, postForm, filterForm, live;

  function $(selector, root) { return (root || document).querySelector(selector); }
  function $$(selector, root) { return Array.prototype.slice.call((root || document).querySelectorAll(selector)); }

  function plural(n, one, many) { return n + " " + (n === 1 ? one : many); }
  function grades(n) { return plural(n, "changed grade", "changed grades"); }

  function rows() { return $$("tbody.assignment", panel); }
  function plan(row) {
    if (!row._plan) { row._plan = JSON.parse(row.getAttribute("data-plan")); }
    return row._plan;
  }

  function selectedSections() {
    return $$('input[name="section"]', filterForm).filter(function (box) { return box.checked; })
      .map(function (box) { return Number(box.value); });
  }

  function allSections() {
    return $$('input[name="section"]', filterForm).map(function (box) { return Number(box.value); });
  }

  /* What the row shows under the current filter; mirrors AssignmentRow in teachers/selectors.py. */
  function view(row, chosen) {
    var data = plan(row);
    var shown = data.sections.filter(function (s) { return chosen.indexOf(s.id) !== -1; });
    var changed = 0, waiting = 0;
    shown.forEach(function (s) { if (s.blocked) { waiting += s.changed; } else { changed += s.changed; } });
    var blocked = data.blockedWhole || (shown.length > 0 && shown.every(function (s) { return s.blocked; }));
    if (blocked) { waiting += changed; changed = 0; }
    return {
      shown: shown,
      visible: shown.length > 0 || data.sections.length === 0,
      changed: changed,
      waiting: waiting,
      blocked: blocked,
      hasPlans: data.sections.length > 0
    };
  }

  function sendText(v) {
    if (v.blocked) { return "Blocked" + (v.waiting ? " \u00b7 " + grades(v.waiting) + " waiting" : ""); }
    if (!v.hasPlans) { return "Not given to any section"; }
    if (!v.changed) { return "Nothing new to send"; }
    return grades(v.changed) + (v.waiting ? " (" + v.waiting + " held back)" : "");
  }

  function renderDue(row, v) {
    var list = $(".due-list", row);
    if (!list || !v.hasPlans) { return; }
    var labels = v.shown.map(function (s) { return s.due; });
    var same = labels.every(function (label) { return label === labels[0]; });
    var lines = same ? [["", labels[0] || "No due date"]] : v.shown.map(function (s) { return [s.name, s.due]; });
    list.textContent = "";
    lines.forEach(function (line) {
      var item = document.createElement("li");
      if (line[0]) {
        var who = document.createElement("span");
        who.className = "muted";
        who.textContent = line[0] + ":";
        item.appendChild(who);
        item.appendChild(document.createTextNode(" "));
      }
      var date = document.createElement("span");
      if (line[1] === "No due date") { date.className = "text-bad"; }
      date.textContent = line[1];
      item.appendChild(date);
      list.appendChild(item);
    });
  }

  function applyFilter() {
    var chosen = selectedSections();
    if (!chosen.length) { chosen = allSections(); }
    rows().forEach(function (row) {
      var v = view(row, chosen);
      row.hidden = !v.visible;
      row._view = v;
      var pick = $("input.pick", row);
      if (pick) { pick.disabled = !v.visible; }
      renderDue(row, v);
      var send = $(".send", row);
      if (send) {
        send.textContent = sendText(v);
        send.className = "send" + (v.blocked ? " text-bad" : (!v.changed ? " muted" : ""));
      }
      $$("[data-section]", row).forEach(function (item) {
        item.hidden = chosen.indexOf(Number(item.getAttribute("data-section"))) === -1;
      });
    });
    $$(".course-issues [data-section]", panel).forEach(function (item) {
      var sid = item.getAttribute("data-section");
      item.hidden = sid !== "" && chosen.indexOf(Number(sid)) === -1;
    });
    var holder = $("#post-sections");
    holder.textContent = "";
    chosen.forEach(function (sid) {
      var input = document.createElement("input");
      input.type = "hidden";
      input.name = "section";
      input.value = sid;
      holder.appendChild(input);
    });
    summarise();
  }

  function summarise() {
    var listed = 0, picked = 0, send = 0;
    rows().forEach(function (row) {
      if (row.hidden) { return; }
      listed += 1;
      var pick = $("input.pick", row);
      if (pick && pick.checked) {
        picked += 1;
        send += (row._view ? row._view.changed : 0);
      }
    });
    var all = $("#select-all", panel);
    if (all) {
      all.checked = listed > 0 && picked === listed;
      all.indeterminate = picked > 0 && picked < listed;
    }
    var text = picked + " of " + plural(listed, "assignment", "assignments") + " selected \u00b7 " +
      grades(send) + " will be sent";
    var summary = $("#selection-summary");
    if (summary.textContent !== text) { summary.textContent = text; }
    $("#post-grades").disabled = picked === 0;
  }

  /* Names as people read them ("Quiz 2" before "Quiz 10"), like natural_key on the server. */
  var collator = window.Intl ? new Intl.Collator(undefined, { numeric: true, sensitivity: "base" }) : null;
  function byName(a, b) {
    var x = plan(a).name.trim(), y = plan(b).name.trim();
    return collator ? collator.compare(x, y) : (x.toLowerCase() < y.toLowerCase() ? -1 : x.toLowerCase() > y.toLowerCase() ? 1 : 0);
  }

  function sortKey(row, key) {
    var dates = (row._view ? row._view.shown : plan(row).sections)
      .map(function (s) { return s.dueAt; }).filter(Boolean).sort();
    return dates.length ? dates[0] : null;
  }

  function sortRows(key, dir) {
    var table = $("#assignments", panel);
    if (!table) { return; }
    var list = rows();
    list.sort(function (a, b) {
      var order;
      if (key === "name") {
        order = byName(a, b) || Number(a.getAttribute("data-id")) - Number(b.getAttribute("data-id"));
        return dir === "desc" ? -order : order;
      }
      var x = sortKey(a, key), y = sortKey(b, key);
      if (x === y) { return byName(a, b); }
      if (x === null) { return 1; }   /* undated last either way, as on the server */
      if (y === null) { return -1; }
      order = x < y ? -1 : 1;
      return dir === "desc" ? -order : order;
    });
    list.forEach(function (row) { table.appendChild(row); });
    $$("th[aria-sort]", table).forEach(function (th) { th.removeAttribute("aria-sort"); });
    var link = $('a.sort[data-sort="' + key + '"]', table);
    link.closest("th").setAttribute("aria-sort", dir === "desc" ? "descending" : "ascending");
    panel.setAttribute("data-sort", key);
    panel.setAttribute("data-dir", dir);
    $('input[name="sort"]', filterForm).value = key;
    $('input[name="dir"]', filterForm).value = dir;
  }

  /* Keep the address in step with the filter and sort, so a reload shows the same list. */
  function remember() {
    if (!window.history || !window.history.replaceState || !window.URLSearchParams) { return; }
    var query = new URLSearchParams();
    var chosen = selectedSections();
    if (chosen.length && chosen.length < allSections().length) {
      chosen.forEach(function (sid) { query.append("section", sid); });
    }
    query.set("sort", panel.getAttribute("data-sort"));
    query.set("dir", panel.getAttribute("data-dir"));
    window.history.replaceState(null, "", window.location.pathname + "?" + query.toString());
  }

  function announce(text) {
    live.textContent = "";
    window.setTimeout(function () { live.textContent = text; }, 50);
  }

  function updateCounter(input) {
    var counter = input.form && $(".counter", input.form);
    if (!counter) { return; }
    var max = Number(input.getAttribute("data-max"));
    counter.textContent = input.value.length + " / " + max;
    counter.classList.toggle("counter--over", input.value.length > max);
  }

  function wire() {
    var all = $("#select-all", panel);
    if (all) { all.hidden = false; }
    $$('input[data-max]', panel).forEach(updateCounter);
    sortRows(panel.getAttribute("data-sort") || "date", panel.getAttribute("data-dir") || "asc");
    applyFilter();
  }

  function submitFix(form) {
    var error = $(".field-error", form);
    var unchecked = rows().filter(function (row) {
      var pick = $("input.pick", row);
      return pick && !pick.checked;
    }).map(function (row) { return row.getAttribute("data-id"); });
    var rowId = form.closest("tbody.assignment").getAttribute("data-id");
    form.classList.add("is-busy");
    form.setAttribute("aria-busy", "true");
    $$("button", form).forEach(function (b) { b.disabled = true; });
    error.textContent = "";
    announce("Saving the change in Canvas\u2026");
    fetch(form.action, {
      method: "POST",
      body: new FormData(form),
      headers: { "Accept": "application/json", "X-CSRFToken": form.elements.csrfmiddlewaretoken.value },
      credentials: "same-origin"
    }).then(function (response) {
      return response.json().catch(function () { return { ok: false, error: "The server sent an unexpected answer (HTTP " + response.status + "). Please try again." }; });
    }).then(function (answer) {
      if (!answer.ok) {
        form.classList.remove("is-busy");
        form.removeAttribute("aria-busy");
        $$("button", form).forEach(function (b) { b.disabled = false; });
        error.textContent = answer.error || "The change was not saved.";
        var field = $("input:not([type=hidden])", form);
        if (field) { field.setAttribute("aria-invalid", "true"); field.focus(); }
        if (answer.login_url) {
          var link = document.createElement("a");
          link.href = answer.login_url;
          link.textContent = " Sign in with Canvas again";
          error.appendChild(link);
        }
        announce(error.textContent);
        return;
      }
      panel.innerHTML = answer.html;
      unchecked.forEach(function (id) {
        var pick = $("#pick-" + id, panel);
        if (pick) { pick.checked = false; }
      });
      wire();
      var notice = document.createElement("p");
      notice.className = "notice notice--success";
      notice.id = "fix-result";
      notice.textContent = answer.message;
      panel.insertBefore(notice, panel.firstChild);
      var row = $("#assignment-" + rowId, panel);
      var target = row && $(".assignment__name", row);
      if (target) { target.setAttribute("tabindex", "-1"); target.focus(); }
      announce(answer.message);
    }).catch(function () {
      form.classList.remove("is-busy");
      form.removeAttribute("aria-busy");
      $$("button", form).forEach(function (b) { b.disabled = false; });
      error.textContent = "The page could not reach the server. Check your connection and try again; your text is still here.";
      announce(error.textContent);
    });
  }

  document.addEventListener("DOMContentLoaded", function () {
    panel = $("#sync-panel");
    postForm = $("#post-form");
    filterForm = $("#filter-form");
    if (!panel || !postForm || !filterForm) { return; }
    live = document.createElement("div");
    live.className = "visually-hidden";
    live.setAttribute("aria-live", "polite");
    live.setAttribute("role", "status");
    document.body.appendChild(live);

    filterForm.addEventListener("change", function () {
      applyFilter();
      remember();
      var chosen = selectedSections();
      announce(plural(rows().filter(function (r) { return !r.hidden; }).length, "assignment", "assignments") +
        " listed for " + (chosen.length && chosen.length < allSections().length ? plural(chosen.length, "section", "sections") : "all sections"));
    });
    filterForm.addEventListener("submit", function (event) { event.preventDefault(); applyFilter(); });

    panel.addEventListener("click", function (event) {
      var link = event.target.closest("a.sort");
      if (!link) { return; }
      event.preventDefault();
      var key = link.getAttribute("data-sort");
      var dir = panel.getAttribute("data-sort") === key && panel.getAttribute("data-dir") === "asc" ? "desc" : "asc";
      sortRows(key, dir);
      remember();
      announce("Sorted by " + (key === "name" ? "name" : "due date") + (dir === "asc" ? ", ascending" : ", descending"));
    });

    panel.addEventListener("change", function (event) {
      var box = event.target;
      if (box.id === "select-all") {
        rows().forEach(function (row) {
          var pick = $("input.pick", row);
          if (pick && !row.hidden) { pick.checked = box.checked; }
        });
      }
      if (box.matches("input.pick, #select-all")) { summarise(); }
    });

    panel.addEventListener("input", function (event) {
      if (event.target.matches("input[data-max]")) { updateCounter(event.target); }
    });

    panel.addEventListener("submit", function (event) {
      var form = event.target.closest("form[data-fix]");
      if (!form || !window.fetch || !window.FormData) { return; }
      event.preventDefault();
      submitFix(form);
    });

    wire();
  });
})();
