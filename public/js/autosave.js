// Continuous autosave of a compose form (issue 15 §2): ~2 s after typing stops in the subject or the message, the
// form is posted in the background (`X-Autosave: 1`: the server only saves the draft, never sends) with the draft id
// and version it shows. Without JavaScript the "ENREGISTRER COMME BROUILLON" button does the same, unchanged.
// The form is never replaced: on 204 only its hidden draft_id / draft_version (and its action, once a question's
// draft exists) change, so the next save or ENVOYER takes that draft; "Brouillon enregistré à 14:02" is said politely
// in #autosave-status, the focus stays where it is. A newer version met (409: another tab, a colleague) shows both
// texts after the form and stops the autosave until the user chooses; a refusal (too long, 404…) is said, the text
// stays. session.js calls window.emsAutosave.now() before the session ends (the same save, the one path).
(function () {
  "use strict";
  var DELAY_MS = 2000;
  var states = new WeakMap();
  var parisTime = new Intl.DateTimeFormat("fr-FR", { timeZone: "Europe/Paris", hour: "2-digit", minute: "2-digit" });

  function currentForm() {
    return document.querySelector("form.compose");
  }

  function fieldsOf(form) {
    return form.querySelectorAll("#subject, #body");
  }

  function textOf(form, which) {
    var fields = fieldsOf(form);
    var values = [];
    for (var i = 0; i < fields.length; i++) values.push(fields[i][which]);
    return JSON.stringify(values);
  }

  function hiddenValue(form, name) {
    var input = form.querySelector('input[type="hidden"][name="' + name + '"]');
    return input ? input.value : "";
  }

  function setHidden(form, name, value) {
    var input = form.querySelector('input[type="hidden"][name="' + name + '"]');
    if (value === null) {
      if (input) input.remove();
      return;
    }
    if (!input) {
      input = document.createElement("input");
      input.type = "hidden";
      input.name = name;
      form.insertBefore(input, form.firstChild);
    }
    input.value = value;
  }

  /** This form's autosave state; what the server holds is, to begin with, what the page showed. */
  function stateOf(form) {
    var state = states.get(form);
    if (!state) {
      state = { shown: textOf(form, "defaultValue"), saved: null, timer: 0, busy: false, again: false, paused: false, submitting: false, submitter: undefined };
      states.set(form, state);
    }
    return state;
  }

  function say(form, text, refused) {
    var status = form.querySelector("#autosave-status");
    if (!status) return;
    status.classList.toggle("refused", Boolean(refused));
    // The same words again are not said again (a save each pause would otherwise repeat the time every 2 s).
    if (status.textContent !== text) status.textContent = text;
  }

  function hasText(form) {
    var fields = fieldsOf(form);
    for (var i = 0; i < fields.length; i++) if (fields[i].value.trim() !== "") return true;
    return false;
  }

  /** What the form would post, minus files and file choices: autosave keeps the draft's attachments as they are. */
  function bodyOf(form) {
    var data = new FormData(form);
    var drop = ["_files", "remove_attachment", "remove_held"];
    data.forEach(function (value, key) {
      if (typeof value !== "string" && drop.indexOf(key) < 0) drop.push(key);
    });
    drop.forEach(function (key) {
      data.delete(key);
    });
    data.set("action", "draft");
    return data;
  }

  function conflictRegion(form) {
    var next = form.nextElementSibling;
    return next && next.classList.contains("autosave-conflict") ? next : null;
  }

  /** A newer version met: both texts after the form (the server's fragment), the autosave paused until a choice. */
  function showConflict(form, state, html) {
    var old = conflictRegion(form);
    if (old) old.remove();
    var holder = document.createElement("div");
    holder.innerHTML = html;
    var region = holder.querySelector(".autosave-conflict");
    if (!region) return;
    form.insertAdjacentElement("afterend", region);
    state.paused = true;
    say(form, "Brouillon non enregistré : il a été modifié ailleurs entre-temps. Les deux textes sont affichés sous le formulaire ; choisissez celui à garder.", true);
    var keep = region.querySelector("[data-autosave-keep]");
    var take = region.querySelector("[data-autosave-take]");
    keep.addEventListener("click", function () {
      // Mine replaces theirs: the next save names the version now on the server (as the page without JS does).
      var id = region.getAttribute("data-draft-id");
      setHidden(form, "draft_id", id);
      setHidden(form, "draft_version", id ? region.getAttribute("data-draft-version") : null);
      resolved(form, state, region);
      save(form, true);
    });
    if (take)
      take.addEventListener("click", function () {
        var subject = form.querySelector("#subject");
        if (subject) subject.value = region.getAttribute("data-subject");
        form.querySelector("#body").value = region.getAttribute("data-body");
        setHidden(form, "draft_id", region.getAttribute("data-draft-id"));
        setHidden(form, "draft_version", region.getAttribute("data-draft-version"));
        state.saved = textOf(form, "value");
        resolved(form, state, region);
        say(form, "Le brouillon enregistré a été repris dans le formulaire.");
      });
  }

  /** The choice made: the region goes, the focus (on its button) goes back to the message, the autosave resumes. */
  function resolved(form, state, region) {
    region.remove();
    state.paused = false;
    var body = form.querySelector("#body");
    if (body) body.focus();
  }

  function refusal(res) {
    if (res.type === "opaqueredirect") return Promise.resolve("Votre session a expiré : votre texte sera repris en brouillon après votre reconnexion.");
    if (res.status === 404) return Promise.resolve("Brouillon non enregistré : ce brouillon est introuvable (supprimé entre-temps ?). Votre texte reste dans le formulaire.");
    var type = res.headers.get("Content-Type") || "";
    if (type.indexOf("text/plain") === 0) return res.text();
    return Promise.resolve("Brouillon non enregistré automatiquement (erreur " + res.status + "). Votre texte reste dans le formulaire : utilisez ENREGISTRER COMME BROUILLON.");
  }

  /**
   * One save of this form, if its text changed since the server last had it. `expiring`: the save before the session
   * ends, which also keeps a text shown but never saved (a form given back with what was typed).
   */
  function save(form, expiring) {
    var state = stateOf(form);
    window.clearTimeout(state.timer);
    if (state.paused || state.submitting || !form.isConnected) return;
    if (state.busy) {
      state.again = true;
      return;
    }
    var text = textOf(form, "value");
    var known = state.saved !== null ? state.saved : expiring && !hiddenValue(form, "draft_id") ? JSON.stringify([]) : state.shown;
    if (text === known || (!hiddenValue(form, "draft_id") && !hasText(form))) return;
    state.busy = true;
    // getAttribute: the form's buttons are named "action", which shadows form.action.
    fetch(form.getAttribute("action"), { method: "POST", body: bodyOf(form), headers: { "X-Autosave": "1" }, credentials: "same-origin", redirect: "manual" })
      .then(function (res) {
        document.dispatchEvent(new CustomEvent("ems-server-answer", { detail: { headers: res.headers } }));
        if (res.status === 204 && res.headers.get("X-Draft-Id")) {
          state.saved = text;
          setHidden(form, "draft_id", res.headers.get("X-Draft-Id"));
          setHidden(form, "draft_version", res.headers.get("X-Draft-Version"));
          form.setAttribute("action", res.headers.get("X-Draft-Action"));
          if (window.history.replaceState) window.history.replaceState(window.history.state, "", res.headers.get("X-Draft-Href"));
          say(form, "Brouillon enregistré à " + parisTime.format(new Date(res.headers.get("X-Draft-Version"))));
          return;
        }
        if (res.status === 409 && (res.headers.get("Content-Type") || "").indexOf("text/html") === 0) {
          return res.text().then(function (html) {
            showConflict(form, state, html);
          });
        }
        // Refused: said, the text stays; a draft gone or a session expired stops the autosave (nothing more to try).
        if (res.status === 404 || res.type === "opaqueredirect") state.paused = true;
        return refusal(res).then(function (message) {
          say(form, message, true);
        });
      })
      .catch(function () {
        say(form, "Brouillon non enregistré : le serveur n'a pas répondu. Votre texte reste dans le formulaire ; l'enregistrement sera retenté.", true);
      })
      .then(function () {
        state.busy = false;
        if (state.submitter !== undefined) {
          // ENVOYER or ENREGISTRER was pressed during the save: posted now, with the draft's new version.
          var submitter = state.submitter;
          state.submitter = undefined;
          if (form.isConnected) form.requestSubmit(submitter || undefined);
          return;
        }
        if (state.again) {
          state.again = false;
          save(form, false);
        }
      });
  }

  function isTyped(target) {
    return target && (target.id === "subject" || target.id === "body") && target.form && target.form.classList.contains("compose");
  }

  document.addEventListener("input", function (event) {
    if (!isTyped(event.target)) return;
    var form = event.target.form;
    var state = stateOf(form);
    window.clearTimeout(state.timer);
    state.timer = window.setTimeout(function () {
      save(form, false);
    }, DELAY_MS);
  });

  // A post of the form is never raced by a background save: one in flight is waited for, then the post goes with
  // the version it returned; once posted, nothing more is autosaved from this form.
  document.addEventListener(
    "submit",
    function (event) {
      var form = event.target;
      if (!form.classList || !form.classList.contains("compose")) return;
      var state = stateOf(form);
      if (state.busy) {
        event.preventDefault();
        event.stopPropagation();
        state.submitter = event.submitter || null;
        return;
      }
      window.clearTimeout(state.timer);
      state.submitting = true;
    },
    true,
  );

  // A post that left the form in place (no answer from the network, « Annuler l'envoi » of upload.js): its autosave
  // goes on. htmx's last event of every request, answered or not (a form its answer replaced is no longer connected).
  document.addEventListener("htmx-finally-request", function (event) {
    var form = event.target;
    if (form && form.classList && form.classList.contains("compose") && form.isConnected) stateOf(form).submitting = false;
  });

  window.emsAutosave = {
    /** The save before the session ends (session.js). */
    now: function () {
      var form = currentForm();
      if (form) save(form, true);
    },
  };
})();
