// Progressive enhancement only: every page works without this file.
(function () {
  "use strict";

  function csrfToken() {
    var meta = document.querySelector('meta[name="csrf-token"]');
    return meta ? meta.getAttribute("content") : "";
  }

  // The element that asked for the update (a form's submit button, else the link or form): it may say where
  // the focus goes afterwards (data-focus-after), since by then it has been replaced.
  var focusAfter = null;
  // Whether the list column keeps its scroll position through the update: yes, unless the request shows another list
  // (a tray tab, the pager, the search panel).
  var keepList = true;
  var listScroll = null;

  // htmx requests carry the CSRF token as a header too (forms already post it as a field).
  document.addEventListener("htmx-config-request", function (evt) {
    var ctx = evt.detail && evt.detail.ctx;
    var trigger = (ctx && ctx.request && ctx.request.submitter) || evt.target;
    focusAfter = trigger && trigger.getAttribute ? trigger.getAttribute("data-focus-after") : null;
    keepList = !(trigger && trigger.closest && trigger.closest(".tabs, .pager, .search"));
    var token = csrfToken();
    if (token && ctx && ctx.request) {
      ctx.request.headers["X-CSRF-Token"] = token;
    }
  });

  // A form post answered in place (422 with its errors, the beneficiary choice) has no address of its own:
  // pushing the POST-only URL would make reload and Back show a 404. Keep the form's address instead;
  // a post that redirected (Post/Redirect/Get) pushes the page it landed on as usual, and an address the
  // server names (HX-Push-Url / HX-Replace-Url) is kept.
  document.addEventListener("htmx-before-history-update", function (evt) {
    var detail = evt.detail || {};
    var source = detail.sourceElement;
    var response = detail.response && detail.response.raw;
    if (!source || source.tagName !== "FORM" || source.method !== "post" || !response || response.redirected) return;
    if (response.headers.get("HX-Push-Url") || response.headers.get("HX-Replace-Url")) return;
    evt.preventDefault();
  });

  // The page's live region says a message once, then is emptied: a screen reader user who reaches it later must
  // not find a stale message there.
  var LIVE_STALE_MS = 5000;
  var liveTimers = [];
  function announce(text) {
    var live = document.getElementById("live");
    if (!live || !text) return;
    liveTimers.forEach(window.clearTimeout);
    live.textContent = "";
    liveTimers = [
      window.setTimeout(function () {
        live.textContent = text;
      }, 50),
      window.setTimeout(function () {
        live.textContent = "";
      }, 50 + LIVE_STALE_MS),
    ];
  }

  // A status that has just taken the focus is read by the screen reader for that reason: saying it in the live
  // region too would read it twice.
  function saidByFocus(status) {
    var focused = document.activeElement;
    return Boolean(focused && focused !== document.body && (status === focused || status.contains(focused)));
  }

  // The list column as it scrolls before an update: the whole <main> is swapped (the list's unread marks and counts
  // change too), and the new column is put back where the old one was.
  document.addEventListener("htmx-before-swap", function () {
    var sidebar = document.querySelector("#main .sidebar");
    listScroll = sidebar && keepList ? { sidebar: sidebar.scrollTop, page: window.scrollY } : null;
  });

  // Brings a newly focused element into view without moving what need not move: inside its own scrolling column
  // (desk layout), else in the page, keeping the page top (banner, name, Se déconnecter) on screen when it fits.
  function reveal(el) {
    var box = el.getBoundingClientRect();
    var column = el.closest(".detail, .sidebar");
    if (column && column.scrollHeight > column.clientHeight && getComputedStyle(column).overflowY !== "visible") {
      var area = column.getBoundingClientRect();
      if (box.top < area.top || box.bottom > area.bottom) column.scrollTop += box.top - area.top - 8;
      return;
    }
    if (box.top >= 0 && box.bottom <= window.innerHeight) return;
    var top = box.top + window.scrollY;
    if (top + box.height <= window.innerHeight) window.scrollTo(0, 0);
    else window.scrollTo(0, top - 8);
  }

  // Focuses the first of these elements that can take the focus (one inside a closed <details> cannot).
  function focusFirst(candidates) {
    for (var i = 0; i < candidates.length; i++) {
      var el = candidates[i];
      if (!el) continue;
      if (el.tabIndex < 0 && !el.hasAttribute("tabindex")) el.setAttribute("tabindex", "-1");
      el.focus({ preventScroll: true });
      if (document.activeElement === el) {
        reveal(el);
        return el;
      }
    }
    return null;
  }

  // After an in-place update, move focus where the user expects it: the error summary (or a confirmation
  // question), else where the trigger said (the search results, back to the trigger), else the new heading
  // of the detail pane; and announce confirmations to screen readers.
  document.addEventListener("htmx-after-swap", function () {
    var main = document.getElementById("main");
    if (!main) return;
    var sidebar = main.querySelector(".sidebar");
    if (sidebar && listScroll) {
      sidebar.scrollTop = listScroll.sidebar;
      // One scrolling page (narrow window): the list sits above the detail, so the page keeps its place only
      // when the focus below stays in view; reveal() decides.
      window.scrollTo(0, listScroll.page);
    }
    listScroll = null;
    keepList = true;
    var candidates = [main.querySelector("[data-focus]")];
    (focusAfter || "").split(",").forEach(function (selector) {
      if (selector.trim()) candidates.push(document.querySelector(selector.trim()));
    });
    focusAfter = null;
    candidates.push(main.querySelector("#detail h1"), main.querySelector("h1"));
    var target = focusFirst(candidates);
    // A confirmation, else the new status of the content (search results, the recipient found): a region
    // that arrives with the swap is not read by itself, the page's live region says it.
    var status = main.querySelector(".notice") || (target && target.matches('[role="status"]') ? target : main.querySelector('#detail [role="status"]'));
    if (status && !saidByFocus(status)) announce(status.textContent.replace(/\s+/g, " ").trim());
  });

  // Escape closes the open panel the focus is in (RECHERCHE, Historique des accès: a <details> does not close
  // by itself) and gives the focus back to its summary.
  document.addEventListener("keydown", function (evt) {
    if (evt.key !== "Escape" || evt.defaultPrevented) return;
    var panel = evt.target && evt.target.closest ? evt.target.closest("details[open]") : null;
    if (!panel || panel.closest("dialog")) return;
    panel.open = false;
    var summary = panel.querySelector("summary");
    if (summary) summary.focus();
  });

  // The échelon's reply to a party no notification mail reaches: the warning is on the form (and a box to tick
  // without JavaScript); with it, ENVOYER asks first, and ticks the box when the agent confirms.
  document.addEventListener(
    "submit",
    function (evt) {
      var form = evt.target;
      var box = form && form.querySelector ? form.querySelector('input[name="confirm_no_mail"]') : null;
      var submitter = evt.submitter;
      if (!box || box.checked || !submitter || submitter.value !== "send") return;
      var warning = document.getElementById("no-mail-warning");
      if (window.confirm((warning ? warning.textContent.trim() + " " : "") + "Envoyer quand même ?")) {
        box.checked = true;
        return;
      }
      evt.preventDefault();
      evt.stopImmediatePropagation();
    },
    true,
  );

  // A link that opens a confirmation <dialog> of the page (discarding a draft with its attachments): with
  // JavaScript the question is asked in place; without it the link leads to the same question on its own page.
  // Capture phase: htmx's boosted navigation never sees the click.
  document.addEventListener(
    "click",
    function (evt) {
      var closer = evt.target && evt.target.closest ? evt.target.closest("[data-closes-dialog]") : null;
      if (closer && closer.closest("dialog")) {
        closer.closest("dialog").close();
        return;
      }
      var link = evt.target && evt.target.closest ? evt.target.closest("[data-opens-dialog]") : null;
      if (!link || evt.button !== 0 || evt.ctrlKey || evt.metaKey || evt.shiftKey || evt.altKey) return;
      var dialog = document.getElementById(link.getAttribute("data-opens-dialog"));
      if (!dialog || typeof dialog.showModal !== "function") return;
      evt.preventDefault();
      evt.stopPropagation();
      dialog.showModal();
      var title = dialog.querySelector("[tabindex='-1']");
      if (title) title.focus();
    },
    true,
  );

  // The back office's "Insérer le modèle": without JavaScript it posts the form, which comes back with the text added.
  // With it, the model's filled text is fetched and appended to the message in place, so the form (and the files
  // chosen in it) stays as it is; the focus goes back to the end of the message. Capture phase: before htmx's submit.
  function appendText(value, text) {
    if (value.trim() === "") return text;
    return value + (/\n\n$/.test(value) ? "" : /\n$/.test(value) ? "\n" : "\n\n") + text;
  }
  document.addEventListener(
    "click",
    function (evt) {
      var button = evt.target && evt.target.closest ? evt.target.closest("[data-insert-model]") : null;
      var form = button && button.form;
      var select = form && form.querySelector('select[name="model_id"]');
      var body = form && form.querySelector('textarea[name="body"]');
      if (!select || !body || !window.fetch) return;
      evt.preventDefault();
      evt.stopPropagation();
      if (!select.value) {
        select.focus();
        announce("Choisissez le modèle à insérer dans la liste « Insérer un modèle ».");
        return;
      }
      var context = form.querySelector('input[name="_ctx"]');
      var url = button.getAttribute("data-insert-model").replace("{id}", encodeURIComponent(select.value)) + (context ? "?ctx=" + encodeURIComponent(context.value) : "");
      window
        .fetch(url, { credentials: "same-origin", headers: { Accept: "text/plain" } })
        .then(function (response) {
          var type = response.headers.get("Content-Type") || "";
          if (!response.ok || type.indexOf("text/plain") !== 0) throw new Error("not inserted");
          return response.text();
        })
        .then(function (text) {
          body.value = appendText(body.value, text);
          // Typing, for the session's keep-alive (session.js).
          body.dispatchEvent(new Event("input", { bubbles: true }));
          body.focus();
          body.setSelectionRange(body.value.length, body.value.length);
          body.scrollTop = body.scrollHeight;
          announce("Le modèle a été ajouté à la fin du message.");
        })
        .catch(function () {
          // The page's own answer instead (the form posted, the text added or the error said on the list).
          form.requestSubmit(button);
        });
    },
    true,
  );

  // Without JavaScript the error summary is the first thing read; with it, it also takes focus.
  document.addEventListener("DOMContentLoaded", function () {
    var summary = document.querySelector("[data-focus]");
    if (summary) summary.focus();
  });
})();
