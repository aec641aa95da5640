// Session time limit (RGAA 13.1): warn before the idle timeout, offer to extend, and save a message
// being typed as a draft before the session ends. Without JavaScript the page states the end time.
(function () {
  "use strict";
  var meta = document.querySelector('meta[name="session-minutes"]');
  var dialog = document.getElementById("session-dialog");
  if (!meta || !dialog || typeof dialog.showModal !== "function") return;
  var idleMs = Number(meta.getAttribute("content")) * 60000;
  var warnBeforeMs = Math.min(2 * 60000, idleMs / 2);
  var saveBeforeMs = 20000;
  var deadline = 0;
  var timers = [];
  var returnFocus = null;

  function token() {
    var m = document.querySelector('meta[name="csrf-token"]');
    return m ? m.getAttribute("content") : "";
  }

  function pad(n) {
    return (n < 10 ? "0" : "") + n;
  }

  function updateNote() {
    var note = document.getElementById("session-note");
    if (!note) return;
    var end = new Date(deadline);
    note.textContent =
      "Sans activité de votre part, votre session se terminera à " +
      pad(end.getHours()) +
      ":" +
      pad(end.getMinutes()) +
      " ; un message en cours de saisie sera alors conservé en brouillon.";
  }

  function composeWithText() {
    var form = document.querySelector("form.compose");
    if (!form) return null;
    var fields = form.querySelectorAll("#subject, #body");
    for (var i = 0; i < fields.length; i++) if (fields[i].value.trim() !== "") return form;
    return null;
  }

  function autosave() {
    var form = composeWithText();
    var button = form && form.querySelector('button[name="action"][value="draft"]');
    if (button) form.requestSubmit(button);
  }

  function warn() {
    if (dialog.open) return;
    returnFocus = document.activeElement;
    dialog.showModal();
    document.getElementById("session-extend").focus();
  }

  function schedule() {
    timers.forEach(window.clearTimeout);
    deadline = Date.now() + idleMs;
    updateNote();
    timers = [window.setTimeout(warn, idleMs - warnBeforeMs), window.setTimeout(autosave, idleMs - saveBeforeMs)];
  }

  function close() {
    dialog.close();
  }

  // However the dialog closes (its buttons, or Escape), the focus goes back where it was.
  dialog.addEventListener("close", function () {
    if (returnFocus && returnFocus.isConnected && returnFocus.focus) returnFocus.focus();
    returnFocus = null;
  });

  document.getElementById("session-extend").addEventListener("click", function () {
    fetch("/session/prolonger", { method: "POST", headers: { "X-CSRF-Token": token() }, credentials: "same-origin" }).then(function (res) {
      if (res.ok) {
        schedule();
        close();
        var live = document.getElementById("live");
        if (live) live.textContent = "Votre session a été prolongée.";
      } else {
        window.location.href = "/";
      }
    });
  });
  document.getElementById("session-dismiss").addEventListener("click", close);
  // Every htmx request reaches the server, which extends the session: restart the countdown.
  document.addEventListener("htmx-after-request", schedule);
  schedule();
})();
