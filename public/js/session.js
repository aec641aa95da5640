// Session time limit (RGAA 13.1): warn before the idle timeout, offer to extend, and save a message being typed as a
// draft before the session ends. Without JavaScript the page states the end time.
// The deadline is the server's (meta session-remaining-ms, then the X-Session-Remaining header of each answer).
// Typing in a form is activity: it extends the session (at most once a minute), so the warning never opens under
// someone typing; the autosave (autosave.js) posts in the background and never replaces the form.
(function () {
  "use strict";
  var idleMeta = document.querySelector('meta[name="session-idle-ms"]');
  var remainingMeta = document.querySelector('meta[name="session-remaining-ms"]');
  var dialog = document.getElementById("session-dialog");
  if (!idleMeta || !remainingMeta || !dialog || typeof dialog.showModal !== "function") return;
  var idleMs = Number(idleMeta.getAttribute("content"));
  var warnBeforeMs = Math.min(2 * 60000, idleMs / 2);
  var saveBeforeMs = Math.min(20000, idleMs / 6);
  var extendEveryMs = Math.min(60000, idleMs / 4);
  var deadline = Date.now() + Number(remainingMeta.getAttribute("content"));
  var lastExtended = Date.now();
  var lastActivity = 0;
  var savedFor = 0;
  var warnedFor = 0;
  var announcedAt = 0;
  var announcedMinutes = -1;
  var returnFocus = null;
  var remaining = document.getElementById("session-remaining");
  var announce = document.getElementById("session-announce");
  var parisTime = new Intl.DateTimeFormat("fr-FR", { timeZone: "Europe/Paris", hour: "2-digit", minute: "2-digit" });

  function token() {
    var m = document.querySelector('meta[name="csrf-token"]');
    return m ? m.getAttribute("content") : "";
  }

  function plural(n, word) {
    return n + " " + word + (n > 1 ? "s" : "");
  }

  function spoken(ms) {
    var s = Math.max(0, Math.ceil(ms / 1000));
    var m = Math.floor(s / 60);
    s = s % 60;
    if (m === 0) return plural(s, "seconde");
    return s === 0 ? plural(m, "minute") : plural(m, "minute") + " et " + plural(s, "seconde");
  }

  /** The note's wording is the server's (views/layouts/app.eta): only its end time moves. */
  function updateNote() {
    var at = document.getElementById("session-ends-at");
    if (at) at.textContent = parisTime.format(new Date(deadline));
  }

  /** The server's word on what is left, from any of its answers. */
  function heard(headers) {
    var left = headers && headers.get("X-Session-Remaining");
    if (left === null || left === undefined || left === "") return;
    deadline = Date.now() + Number(left);
    updateNote();
  }

  function extend() {
    lastExtended = Date.now();
    return fetch("/session/prolonger", { method: "POST", headers: { "X-CSRF-Token": token() }, credentials: "same-origin" }).then(function (res) {
      if (res.ok) heard(res.headers);
      return res.ok;
    });
  }

  function warn() {
    warnedFor = deadline;
    returnFocus = document.activeElement;
    announcedAt = 0;
    announcedMinutes = -1;
    show();
    dialog.showModal();
    document.getElementById("session-extend").focus();
  }

  /** The visible countdown every second; spoken (politely) when the dialog opens, then at most once a minute. */
  function show() {
    var left = deadline - Date.now();
    remaining.textContent = left > 0 ? spoken(left) : "0 seconde";
    var minutes = Math.ceil(Math.max(0, left) / 60000);
    if (minutes !== announcedMinutes && Date.now() - announcedAt >= 60000) {
      announcedAt = Date.now();
      announcedMinutes = minutes;
      announce.textContent = left > 0 ? "Il reste " + spoken(left) + " avant la fin de votre session." : "Votre session a expiré.";
    }
  }

  function tick() {
    var left = deadline - Date.now();
    if (left <= saveBeforeMs && savedFor !== deadline) {
      savedFor = deadline;
      // The text being typed saved as a draft now (autosave.js: the one background save, never replacing the form).
      if (window.emsAutosave) window.emsAutosave.now();
    }
    if (dialog.open) return show();
    // Once for each deadline: closed with "Fermer" or Escape, it stays closed until the session is extended.
    if (left > warnBeforeMs || left <= 0 || warnedFor === deadline) return;
    // Typed since the last extension (within its minute): that was activity, tell the server instead of warning.
    if (lastActivity > lastExtended) return void extend();
    warn();
  }

  function isTextField(el) {
    return el && (el.tagName === "TEXTAREA" || (el.tagName === "INPUT" && /^(text|search|email|tel|url|number|password|)$/.test(el.type)));
  }

  function typed(event) {
    if (dialog.contains(event.target) || !event.target.closest || !event.target.closest("form")) return;
    lastActivity = Date.now();
    if (lastActivity - lastExtended >= extendEveryMs) extend();
  }

  // However the dialog closes (its buttons, or Escape), the focus goes back where it was.
  dialog.addEventListener("close", function () {
    var target = returnFocus && !returnFocus.isConnected && returnFocus.id ? document.getElementById(returnFocus.id) : returnFocus;
    if (target && target.isConnected && target.focus) target.focus();
    returnFocus = null;
  });

  // A character typed while the dialog is open was meant for the field: it goes there, and it is activity.
  dialog.addEventListener("keydown", function (event) {
    if (event.key.length !== 1 || event.ctrlKey || event.metaKey || event.altKey || !isTextField(returnFocus)) return;
    if (event.key === " " && event.target.tagName === "BUTTON") return;
    event.preventDefault();
    var field = returnFocus;
    dialog.close();
    var start = field.selectionStart === null ? field.value.length : field.selectionStart;
    var end = field.selectionEnd === null ? start : field.selectionEnd;
    field.setRangeText(event.key, start, end, "end");
    field.dispatchEvent(new Event("input", { bubbles: true }));
    extend();
  });

  document.getElementById("session-extend").addEventListener("click", function () {
    extend().then(function (ok) {
      if (!ok) return window.location.reload();
      dialog.close();
      var live = document.getElementById("live");
      if (live) live.textContent = "Votre session a été prolongée.";
    });
  });
  document.getElementById("session-dismiss").addEventListener("click", function () {
    dialog.close();
  });
  // Typing is what changes a field (input events): moving through the page with Tab is not activity.
  document.addEventListener("input", typed, true);
  // Every htmx request reaches the server, which extends the session and says until when.
  document.addEventListener("htmx-after-request", function (event) {
    var ctx = event.detail && event.detail.ctx;
    if (ctx && ctx.response) heard(ctx.response.headers);
  });
  // The autosave's answers extend the session too.
  document.addEventListener("ems-server-answer", function (event) {
    heard(event.detail && event.detail.headers);
  });
  updateNote();
  window.setInterval(tick, 1000);
})();
