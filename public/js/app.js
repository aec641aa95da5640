// Progressive enhancement only: every page works without this file.
(function () {
  "use strict";

  function csrfToken() {
    var meta = document.querySelector('meta[name="csrf-token"]');
    return meta ? meta.getAttribute("content") : "";
  }

  // htmx requests carry the CSRF token as a header too (forms already post it as a field).
  document.addEventListener("htmx:config:request", function (evt) {
    var token = csrfToken();
    if (token && evt.detail && evt.detail.ctx && evt.detail.ctx.request) {
      evt.detail.ctx.request.headers["X-CSRF-Token"] = token;
    }
  });

  function announce(text) {
    var live = document.getElementById("live");
    if (!live || !text) return;
    live.textContent = "";
    window.setTimeout(function () { live.textContent = text; }, 50);
  }

  // After an in-place update, move focus where the user expects it: the error summary, or the new
  // heading of the detail pane; and announce confirmations to screen readers.
  document.addEventListener("htmx:after:swap", function () {
    var main = document.getElementById("main");
    if (!main) return;
    var target = main.querySelector("[data-focus]") || main.querySelector("#detail h1") || main.querySelector("h1");
    if (target) {
      if (!target.hasAttribute("tabindex")) target.setAttribute("tabindex", "-1");
      target.focus();
    }
    var notice = main.querySelector(".notice");
    if (notice) announce(notice.textContent);
  });

  // Without JavaScript the error summary is the first thing read; with it, it also takes focus.
  document.addEventListener("DOMContentLoaded", function () {
    var summary = document.querySelector("[data-focus]");
    if (summary) summary.focus();
  });
})();
