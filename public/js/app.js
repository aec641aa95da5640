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

  // A form post answered in place (422 with its errors, the beneficiary choice) has no address of its own:
  // pushing the POST-only URL would make reload and Back show a 404. Keep the form's address instead;
  // a post that redirected (Post/Redirect/Get) pushes the page it landed on as usual, and an address the
  // server names (HX-Push-Url / HX-Replace-Url) is kept.
  document.addEventListener("htmx:before:history:update", function (evt) {
    var detail = evt.detail || {};
    var source = detail.sourceElement;
    var response = detail.response && detail.response.raw;
    if (!source || source.tagName !== "FORM" || source.method !== "post" || !response || response.redirected) return;
    if (response.headers.get("HX-Push-Url") || response.headers.get("HX-Replace-Url")) return;
    evt.preventDefault();
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
