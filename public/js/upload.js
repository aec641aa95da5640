// Upload progress of a compose post carrying files (issue 15 §4). htmx 4 posts with fetch(), which tells nothing of
// the bytes sent: for such a post this script hands htmx its own fetch (ctx.fetch, htmx 4's way to replace it) that
// sends through XMLHttpRequest, so the native <progress> shows the bytes sent and « Annuler l'envoi » stops the post.
// All else stays htmx's, as for any form: the form's fields (CSRF token, hidden fields, the button pressed), its
// headers, the swap of the answer (the thread after the redirect, or the form again with its errors), the history.
// Before that, the files chosen are checked against the server's rules, in its words (data-upload on the file input:
// size, empty file, format by extension, count): a refusal is shown by the field and in the error summary, nothing is
// sent — a courtesy only, the server stays the authority. Without JavaScript the plain form posts, as ever.
(function () {
  "use strict";
  if (!window.XMLHttpRequest || !window.FormData || !window.Response) return;
  var STEP = 25;
  var CANCELLED = "Envoi annulé — votre message n'a pas été envoyé.";
  var FAILED = "L'envoi a été interrompu (connexion perdue) : votre message n'a pas été envoyé. Réessayez.";
  /** The post under way of each form, while its files go. */
  var uploads = new WeakMap();

  function fileInput(form) {
    return form.querySelector ? form.querySelector("input[type=file][data-upload]") : null;
  }

  /** The server's refusal of each file chosen that it would refuse by its size, emptiness, name or rank. */
  function refusals(form, input) {
    var rules = JSON.parse(input.getAttribute("data-upload"));
    var extensions = (input.getAttribute("accept") || "").toLowerCase().split(",");
    // The files the draft keeps ("Retirer" not ticked) count towards the limit, as on the server.
    var joined = form.querySelectorAll('input[name="remove_attachment"]:not(:checked), input[name="remove_held"]:not(:checked)').length;
    var messages = [];
    for (var i = 0; i < input.files.length; i++) {
      var file = input.files[i];
      var dot = file.name.lastIndexOf(".");
      var known = dot > 0 && extensions.indexOf(file.name.slice(dot).toLowerCase()) >= 0;
      var reason = file.size > rules.maxBytes ? "large" : file.size === 0 ? "empty" : !known ? "format" : joined >= rules.maxFiles ? "count" : null;
      if (reason) messages.push(rules[reason].replace("{name}", file.name));
      else joined++;
    }
    return messages;
  }

  function items(list, messages, link) {
    list.textContent = "";
    messages.forEach(function (message) {
      var li = document.createElement("li");
      var text = li;
      if (link) {
        text = li.appendChild(document.createElement("a"));
        text.href = "#attachments";
      }
      text.textContent = message;
      list.appendChild(li);
    });
  }

  /** The refusals as the server's answer shows them: under the field, and in the summary above the form, which takes the focus. */
  function showRefusals(form, input, messages) {
    var list = document.getElementById("attachments-error");
    if (!list) {
      list = document.createElement("ul");
      list.className = "field-error";
      list.id = "attachments-error";
      input.insertAdjacentElement("afterend", list);
    }
    list.setAttribute("data-browser-check", "");
    items(list, messages, false);
    input.setAttribute("aria-invalid", "true");
    var described = (input.getAttribute("aria-describedby") || "").split(" ");
    if (described.indexOf("attachments-error") < 0) input.setAttribute("aria-describedby", described.concat("attachments-error").join(" ").trim());
    var summary = document.getElementById("error-summary");
    if (!summary) {
      summary = document.createElement("div");
      summary.className = "error-summary";
      summary.id = "error-summary";
      summary.setAttribute("role", "alert");
      summary.setAttribute("tabindex", "-1");
      summary.setAttribute("aria-labelledby", "error-summary-title");
      summary.innerHTML = '<h2 id="error-summary-title"></h2><ul></ul>';
      form.parentNode.insertBefore(summary, form);
    }
    summary.setAttribute("data-browser-check", "");
    summary.querySelector("h2").textContent = messages.length > 1 ? "Le formulaire contient " + messages.length + " erreurs" : "Le formulaire contient une erreur";
    items(summary.querySelector("ul"), messages, true);
    if (document.title.indexOf("Erreur : ") !== 0) document.title = "Erreur : " + document.title;
    summary.focus();
  }

  /** The files chosen now pass: what this script said of earlier ones goes (the server's answer will say the rest). */
  function clearRefusals(form, input) {
    var shown = form.parentNode.querySelectorAll("[data-browser-check]");
    if (!shown.length) return;
    for (var i = 0; i < shown.length; i++) shown[i].remove();
    input.removeAttribute("aria-invalid");
    input.setAttribute("aria-describedby", (input.getAttribute("aria-describedby") || "").replace(/\s*attachments-error/, ""));
    document.title = document.title.replace(/^Erreur : /, "");
  }

  /** What a post may need to say (refusals, « Envoi annulé ») and the bar with its Cancel button, in the form. */
  function viewOf(form, submitter) {
    var box = form.querySelector(".upload-progress");
    var status = form.querySelector("#upload-status");
    if (!box || !status) return null;
    var bar = box.querySelector("progress");
    var percent = box.querySelector(".upload-percent");
    var cancel = box.querySelector("#upload-cancel");
    var next = STEP;
    function say(text) {
      if (status.textContent !== text) status.textContent = text;
    }
    return {
      start: function () {
        bar.max = 100;
        bar.value = 0;
        percent.textContent = "0 %";
        cancel.hidden = false;
        box.hidden = false;
        say("Envoi des pièces jointes en cours…");
      },
      // Every event moves the bar and its label; the live region says it only every STEP %.
      sent: function (loaded, total) {
        bar.max = total;
        bar.value = loaded;
        var p = Math.floor((loaded * 100) / total);
        percent.textContent = p + " %";
        if (p >= next && p < 100) {
          next = (Math.floor(p / STEP) + 1) * STEP;
          say("Envoi des pièces jointes : " + Math.floor(p / STEP) * STEP + " %");
        }
      },
      // Every byte is out: the server may already be writing the message, it can no longer be cancelled.
      uploaded: function () {
        bar.value = bar.max;
        percent.textContent = "100 %";
        if (cancel.contains(document.activeElement) && submitter) submitter.focus();
        cancel.hidden = true;
        say("Pièces jointes envoyées : enregistrement en cours…");
      },
      /** The post is over: the bar goes; `message` says why when the form stays (cancelled, cut). */
      end: function (message) {
        var hadFocus = box.contains(document.activeElement) || document.activeElement === document.body;
        box.hidden = true;
        say(message || "");
        if (hadFocus && submitter && submitter.isConnected) submitter.focus();
      },
    };
  }

  function sentFiles(body) {
    var found = false;
    body.forEach(function (value) {
      if (typeof value !== "string" && value.name !== "") found = true;
    });
    return found;
  }

  /** The XMLHttpRequest's answer as the Response fetch() would give htmx (the address reached after a redirect included). */
  function responseOf(xhr, url) {
    var headers = new Headers();
    xhr
      .getAllResponseHeaders()
      .trim()
      .split(/[\r\n]+/)
      .forEach(function (line) {
        var at = line.indexOf(":");
        if (at > 0) headers.append(line.slice(0, at).trim(), line.slice(at + 1).trim());
      });
    var empty = xhr.status === 204 || xhr.status === 205 || xhr.status === 304;
    var response = new Response(empty ? null : xhr.responseText, { status: xhr.status, statusText: xhr.statusText, headers: headers });
    var asked = new URL(url, window.location.href).href.split("#")[0];
    Object.defineProperty(response, "url", { value: xhr.responseURL });
    Object.defineProperty(response, "redirected", { value: xhr.responseURL !== asked });
    return response;
  }

  /** htmx's request sent through XMLHttpRequest, its upload shown; rejected as fetch() would be when cancelled or cut. */
  function send(form, view, url, init) {
    return new Promise(function (resolve, reject) {
      var xhr = new XMLHttpRequest();
      xhr.open(init.method || "POST", url);
      var headers = init.headers || {};
      Object.keys(headers).forEach(function (name) {
        xhr.setRequestHeader(name, headers[name]);
      });
      function over(message) {
        uploads.delete(form);
        view.end(message);
      }
      xhr.upload.addEventListener("progress", function (event) {
        if (event.lengthComputable && event.total > 0) view.sent(event.loaded, event.total);
      });
      xhr.upload.addEventListener("load", view.uploaded);
      xhr.addEventListener("load", function () {
        over("");
        resolve(responseOf(xhr, url));
      });
      xhr.addEventListener("error", function () {
        over(FAILED);
        reject(new TypeError("upload failed"));
      });
      xhr.addEventListener("abort", function () {
        over(CANCELLED);
        reject(new DOMException(CANCELLED, "AbortError"));
      });
      if (init.signal)
        init.signal.addEventListener("abort", function () {
          xhr.abort();
        });
      uploads.set(form, xhr);
      view.start();
      xhr.send(init.body);
    });
  }

  // Before htmx's own submit handler (on the form): files refused are said, nothing sent; one post at a time.
  document.addEventListener(
    "submit",
    function (event) {
      var form = event.target;
      var input = fileInput(form);
      if (!input) return;
      var refused = uploads.has(form) ? [] : input.files && input.files.length && !input.disabled ? refusals(form, input) : [];
      if (!uploads.has(form) && !refused.length) return clearRefusals(form, input);
      event.preventDefault();
      event.stopImmediatePropagation();
      if (refused.length) showRefusals(form, input, refused);
    },
    true,
  );

  // A form post carrying files: htmx's fetch replaced by the XMLHttpRequest above. No timeout of htmx's (60 s) on it:
  // a slow link may take longer, the bar shows it going and « Annuler l'envoi » stops it.
  document.addEventListener("htmx-before-request", function (event) {
    var ctx = event.detail && event.detail.ctx;
    var form = ctx && ctx.sourceElement;
    if (!form || form.tagName !== "FORM" || !fileInput(form) || !(ctx.request.body instanceof FormData) || !sentFiles(ctx.request.body)) return;
    var view = viewOf(form, ctx.request.submitter);
    if (!view) return;
    window.clearTimeout(ctx.requestTimeout);
    ctx.fetch = function (url, init) {
      return send(form, view, url, init);
    };
  });

  document.addEventListener("click", function (event) {
    var button = event.target && event.target.closest ? event.target.closest("#upload-cancel") : null;
    var xhr = button && button.form ? uploads.get(button.form) : null;
    if (xhr) xhr.abort();
  });
})();
