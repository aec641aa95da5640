import path from "node:path";
import { fileURLToPath } from "node:url";
import type { Browser, BrowserContext, Page } from "playwright-core";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { fakeClockPage, launchBrowser, newContext, startServer, watchErrors, type RunningApp } from "./helpers.js";

/**
 * Issue 5: the doctor's and the agent's whole loop with the keyboard alone — Tab, Shift+Tab, Enter, Space, Escape,
 * arrows in a <select> and a radio group, and typing — once with JavaScript (htmx updates in place; the focus must
 * land on the error summary, the new content's heading, the search results or back on the trigger) and once
 * without (every action loads a page; an error summary still takes the focus, through autofocus).
 * Only page.keyboard drives the pages: no click(), no fill(). The one exception is the file field: a native file
 * chooser cannot be driven by keys, so the file is given with setInputFiles to the field the keyboard focused.
 */
const pdf = path.join(path.dirname(fileURLToPath(import.meta.url)), "..", "fixtures", "attachments", "valid", "compte-rendu.pdf");

let browser: Browser;
beforeAll(async () => {
  browser = await launchBrowser();
});
afterAll(async () => {
  await browser?.close();
});

/** What a Tab search looks for: a CSS selector, and optionally the element's text. */
type Target = string | { css: string; text: string | RegExp };

for (const javaScriptEnabled of [true, false]) {
  describe(`the whole loop with the keyboard alone ${javaScriptEnabled ? "with JavaScript (htmx)" : "without JavaScript"}`, () => {
    let app: RunningApp;
    const contexts: BrowserContext[] = [];
    const errorLists: string[][] = [];
    const subject = `Question au clavier ${javaScriptEnabled ? "avec JS" : "sans JS"}`;
    const agentSubject = `Question de l'échelon au clavier ${javaScriptEnabled ? "avec JS" : "sans JS"}`;

    beforeAll(async () => {
      app = await startServer();
    });
    afterAll(async () => {
      for (const c of contexts) await c.close();
      await app?.close();
    });

    async function open(): Promise<{ context: BrowserContext; page: Page; navigations: string[] }> {
      const context = await newContext(browser, app, { javaScriptEnabled });
      contexts.push(context);
      const page = await context.newPage();
      errorLists.push(watchErrors(page));
      const navigations: string[] = [];
      page.on("request", (r) => {
        if (r.isNavigationRequest() && r.frame() === page.mainFrame()) navigations.push(`${r.method()} ${new URL(r.url()).pathname}`);
      });
      return { context, page, navigations };
    }

    /** A compact description of the focused element, for messages. */
    const focused = (page: Page) =>
      page.evaluate(() => {
        const el = document.activeElement;
        if (!el || el === document.body) return "body";
        return `${el.tagName.toLowerCase()}${el.id ? `#${el.id}` : ""} « ${(el.textContent ?? "").replace(/\s+/g, " ").trim().slice(0, 50)} »`;
      });

    const isFocused = (page: Page, target: Target) =>
      page.evaluate(
        ({ css, source, flags, exact }) => {
          const el = document.activeElement;
          if (!el || el === document.body || !el.matches(css)) return false;
          const text = (el.textContent ?? "").replace(/\s+/g, " ").trim();
          if (exact !== null) return text === exact;
          if (source !== null) return new RegExp(source, flags).test(text);
          return true;
        },
        typeof target === "string"
          ? { css: target, source: null, flags: "", exact: null }
          : {
              css: target.css,
              source: target.text instanceof RegExp ? target.text.source : null,
              flags: target.text instanceof RegExp ? target.text.flags : "",
              exact: typeof target.text === "string" ? target.text : null,
            },
      );

    /** Presses Tab (or Shift+Tab) until the target has the focus. */
    async function tabTo(page: Page, target: Target, options: { back?: boolean; max?: number } = {}) {
      const key = options.back ? "Shift+Tab" : "Tab";
      for (let i = 0; i < (options.max ?? 80); i++) {
        await page.keyboard.press(key);
        if (await isFocused(page, target)) return;
      }
      throw new Error(`${key} never reached ${JSON.stringify(target, (_k, v) => (v instanceof RegExp ? String(v) : v))} (focus on ${await focused(page)})`);
    }

    /** On a focused <select>: arrows up or down to the option with that label. */
    async function chooseOption(page: Page, label: string) {
      const { labels, index } = await page.evaluate(() => {
        const select = document.activeElement as HTMLSelectElement;
        return { labels: [...select.options].map((o) => o.label), index: select.selectedIndex };
      });
      const wanted = labels.indexOf(label);
      expect(wanted, `option « ${label} » among ${JSON.stringify(labels)}`).toBeGreaterThan(-1);
      for (let i = 0; i < Math.abs(wanted - index); i++) await page.keyboard.press(wanted > index ? "ArrowDown" : "ArrowUp");
      expect(
        await page.evaluate(() => {
          const s = document.activeElement as HTMLSelectElement;
          return s.options[s.selectedIndex]?.label;
        }),
      ).toBe(label);
    }

    async function expectFocus(page: Page, target: Target, what: string) {
      await expect.poll(() => isFocused(page, target), { message: `focus on ${what} (it is on ${await focused(page)})` }).toBe(true);
    }

    /** From here on, htmx should update in place (with JS), or the browser load a page (without). */
    async function mark(page: Page, navigations: string[]) {
      await page.evaluate(() => {
        (window as unknown as { __marker?: number }).__marker = 1;
      });
      navigations.length = 0;
    }

    /**
     * After a keyboard action: with JS, the same page (no load), updated by htmx, the focus where expected;
     * without JS, a new page was loaded (and an error summary, if any, has the focus).
     */
    async function arrived(page: Page, navigations: string[], ready: Target, focus: Target, what: string) {
      await page
        .locator(typeof ready === "string" ? ready : ready.css, typeof ready === "string" ? {} : { hasText: ready.text })
        .first()
        .waitFor();
      const marker = await page.evaluate(() => (window as unknown as { __marker?: number }).__marker);
      if (javaScriptEnabled) {
        expect(marker, `${what}: no page load, htmx updated the page in place`).toBe(1);
        expect(navigations, `${what}: no browser navigation`).toEqual([]);
        await expectFocus(page, focus, what);
      } else {
        expect(marker, `${what}: a page was loaded`).toBeUndefined();
        await page.waitForLoadState();
        if (typeof focus === "string" && focus.includes("error-summary")) await expectFocus(page, focus, what);
        await mark(page, navigations);
      }
    }

    describe("the doctor", () => {
      let page: Page;
      let context: BrowserContext;
      let navigations: string[];
      let broken: string | null = null;

      beforeAll(async () => {
        ({ page, context, navigations } = await open());
      });

      function step(name: string, fn: () => Promise<void>) {
        it(name, async () => {
          if (broken) throw new Error(`not run: an earlier step failed (${broken})`);
          try {
            await fn();
          } catch (err) {
            broken = name;
            throw err;
          }
        });
      }

      step("signs in with a CPS card: a wrong PIN (the error summary takes the focus), then the right one", async () => {
        await page.goto("/");
        await page.keyboard.press("Tab");
        await expectFocus(page, "a.skip-link", "the skip link, first on the page");
        await tabTo(page, { css: "a.entry", text: "Espace professionnel de santé" });
        await page.keyboard.press("Enter");
        await page.waitForURL((u) => u.pathname === "/ps/login");

        await tabTo(page, "#card");
        await chooseOption(page, "Dr Alain GENE (N°AM 991101197)");
        await page.keyboard.press("Tab");
        await expectFocus(page, "#pin", "the PIN field, next after the card");
        await page.keyboard.type("9999");
        await page.keyboard.press("Enter");
        await page.locator(".error-summary").waitFor();
        await expectFocus(page, ".error-summary", "the error summary of the login page");
        expect(await page.locator(".error-summary").innerText()).toContain("Code PIN erroné");

        await tabTo(page, "#pin");
        await page.keyboard.type("1234");
        await page.keyboard.press("Tab");
        await expectFocus(page, { css: "button", text: "Se connecter" }, "the Se connecter button");
        await page.keyboard.press("Space");
        await page.waitForURL((u) => u.pathname === "/ps");
        await mark(page, navigations);
      });

      step("opens the messages and selects a patient by NIR: a wrong key, then the beneficiary choice", async () => {
        await tabTo(page, "a[href='/ps/messages']");
        await page.keyboard.press("Enter");
        await arrived(page, navigations, "#list .list-title", "#detail h1", "the message list");

        await tabTo(page, "a[href='/ps/patient']");
        await page.keyboard.press("Enter");
        await arrived(page, navigations, { css: "#detail h1", text: "Sélectionner un patient" }, "#detail h1", "the patient selection page");

        await tabTo(page, "#nir");
        await page.keyboard.type("1700469387111");
        await page.keyboard.press("Tab");
        await expectFocus(page, "#key", "the key field");
        await page.keyboard.type("7");
        await page.keyboard.press("Enter");
        await arrived(page, navigations, "#error-summary", "#error-summary", "the NIR error summary");
        expect(await page.locator("#error-summary").innerText()).toContain("2 chiffres");

        // The summary's link leads to the field in error.
        await page.keyboard.press("Tab");
        await expectFocus(page, "#error-summary a[href='#key']", "the summary's link to the key");
        await page.keyboard.press("Enter");
        await expectFocus(page, "#key", "the key field, from the summary");
        expect(await page.locator("#key").getAttribute("aria-invalid")).toBe("true");
        await page.keyboard.press("Control+A");
        await page.keyboard.type("72");
        await page.keyboard.press("Enter");
        await arrived(page, navigations, "input[type=radio][name=patient]", "fieldset.beneficiaries legend", "the beneficiary choice (its legend, so it is announced)");

        await tabTo(page, "input[type=radio][name=patient]");
        for (let i = 0; i < 3 && !(await page.evaluate(() => (document.activeElement as HTMLInputElement).labels?.[0]?.textContent?.includes("Guillaume"))); i++) {
          await page.keyboard.press("ArrowDown");
        }
        await page.keyboard.press("Space");
        expect(await page.locator("input[type=radio]:checked").evaluate((r) => (r as HTMLInputElement).labels?.[0]?.textContent)).toContain("Guillaume BUNYEL");
        await page.keyboard.press("Tab");
        await expectFocus(page, { css: "button", text: "Choisir ce bénéficiaire" }, "the choice's button");
        await page.keyboard.press("Enter");
        await arrived(page, navigations, { css: ".notice", text: "Patient sélectionné" }, "#detail h1", "the list with the patient selected");
        if (javaScriptEnabled) await expect.poll(() => page.locator("#live").innerText()).toContain("Patient sélectionné : Guillaume BUNYEL");
      });

      step("writes a question: sent empty (errors), then kept as a draft with an attachment, then sent", async () => {
        await tabTo(page, "a[href='/ps/conversations/new']");
        await page.keyboard.press("Enter");
        await arrived(page, navigations, "#subject", "#detail h1", "the compose form");

        await tabTo(page, "button[value=send]");
        await page.keyboard.press("Enter");
        await arrived(page, navigations, "#error-summary", "#error-summary", "the compose error summary");

        await page.keyboard.press("Tab");
        await expectFocus(page, "#error-summary a[href='#subject']", "the summary's link to Objet");
        await page.keyboard.press("Enter");
        await expectFocus(page, "#subject", "the Objet field, from the summary");
        await page.keyboard.type(subject);
        await tabTo(page, "#attachments");
        // A native file chooser cannot be driven by keys: the file goes to the field the keyboard focused.
        await page.locator("#attachments:focus").setInputFiles(pdf);
        await tabTo(page, "button[value=draft]");
        await page.keyboard.press("Space");
        await arrived(page, navigations, { css: ".notice", text: "Le brouillon a été enregistré." }, "#detail h1", "the saved draft");
        expect(await page.locator(".attached li").innerText()).toContain("compte-rendu.pdf");

        await tabTo(page, "#body");
        await page.keyboard.type("Bonjour, pouvez-vous confirmer la prise en charge ? Compte rendu joint.");
        await tabTo(page, "button[value=send]");
        await page.keyboard.press("Enter");
        await arrived(page, navigations, { css: "#detail h1", text: subject }, "#detail h1", "the sent question");
        expect(await page.locator(".notice").innerText()).toContain("Votre message a été envoyé.");
      });

      step("opens the ELSM's unread thread and replies to it", async () => {
        await tabTo(page, { css: "#list a.item-link", text: /Durée arrêt de travail Lombalgie/ });
        await page.keyboard.press("Enter");
        await arrived(page, navigations, { css: "#detail h1", text: "DURÉE ARRÊT DE TRAVAIL LOMBALGIE" }, "#detail h1", "the opened thread");

        await tabTo(page, { css: "a", text: "Répondre" });
        await page.keyboard.press("Enter");
        await arrived(page, navigations, { css: "#detail h1", text: "RÉPONDRE" }, "#detail h1", "the reply form");
        await tabTo(page, "#body");
        await page.keyboard.type("Merci, je prolonge de 5 jours.");
        await tabTo(page, "button[value=send]");
        await page.keyboard.press("Enter");
        await arrived(page, navigations, { css: ".notice", text: "Votre message a été envoyé." }, "#detail h1", "the thread after the reply");
        expect(await page.locator(".message").last().innerText()).toContain("je prolonge de 5 jours");
      });

      step("searches by name (Enter in the field), closes the panel with Escape, resets the search", async () => {
        await tabTo(page, "#search-toggle");
        await page.keyboard.press("Enter");
        expect(await page.locator("details.search").getAttribute("open")).not.toBeNull();
        await page.keyboard.press("Tab");
        await expectFocus(page, "#search-nom", "the Nom field of the search panel");
        await page.keyboard.type("bunyel");
        await page.keyboard.press("Enter");
        await arrived(page, navigations, "#search-results", "#search-results", "the search results");
        const rows = await page.locator("#list li").allInnerTexts();
        expect(rows.length).toBeGreaterThan(0);
        for (const row of rows) expect(row).toContain("Guillaume BUNYEL");

        if (javaScriptEnabled) {
          await tabTo(page, "#search-nom");
          await page.keyboard.press("Escape");
          await expectFocus(page, "#search-toggle", "the search panel's summary, after Escape");
          expect(await page.locator("details.search").getAttribute("open")).toBeNull();
          await page.keyboard.press("Enter");
          expect(await page.locator("details.search").getAttribute("open")).not.toBeNull();
        }
        await tabTo(page, "#search-reset");
        await page.keyboard.press("Enter");
        await arrived(page, navigations, { css: "#list .item", text: /Lombalgie/ }, "#search-toggle", "the list after the reset (focus back on the panel)");
        expect(await page.locator("#search-results").count()).toBe(0);
      });

      step("deletes a conversation: Shift+Tab to Annuler and back, then confirms", async () => {
        await tabTo(page, { css: "#list a.item-link", text: /RV pour échange confraternel/ });
        await page.keyboard.press("Enter");
        await arrived(page, navigations, { css: "#detail h1", text: "RV POUR ÉCHANGE CONFRATERNEL" }, "#detail h1", "the thread to delete");
        await tabTo(page, { css: "a", text: "Supprimer la conversation" });
        await page.keyboard.press("Enter");
        await arrived(page, navigations, { css: "button", text: "Confirmer la suppression" }, "#detail h1", "the delete confirmation");
        await tabTo(page, { css: "button", text: "Confirmer la suppression" });
        await page.keyboard.press("Shift+Tab");
        await expectFocus(page, { css: "a", text: "Annuler" }, "Annuler, before the confirm button");
        await page.keyboard.press("Tab");
        await page.keyboard.press("Enter");
        await arrived(page, navigations, { css: ".notice", text: "supprimée" }, "#detail h1", "the list after deleting");
        expect(await page.locator("#list a.item-link", { hasText: "RV pour échange confraternel" }).count()).toBe(0);
      });

      if (javaScriptEnabled) {
        step("the session warning: Prolonger la session with Enter; Escape closes it and the focus comes back", async () => {
          const timed = await fakeClockPage(browser, app, context);
          errorLists.push(watchErrors(timed));
          await timed.goto("/ps/messages");
          await tabTo(timed, "a[href='/ps/conversations/new']");
          await timed.clock.fastForward("28:10");
          await timed.locator("#session-dialog[open]").waitFor();
          await expectFocus(timed, "#session-extend", "Prolonger la session");
          await timed.keyboard.press("Tab");
          await expectFocus(timed, "#session-dismiss", "Fermer");
          await timed.keyboard.press("Shift+Tab");
          await expectFocus(timed, "#session-extend", "Prolonger la session, back");
          await timed.keyboard.press("Enter");
          await expect.poll(() => timed.locator("#session-dialog[open]").count()).toBe(0);
          await expect.poll(() => timed.locator("#live").innerText()).toContain("Votre session a été prolongée.");
          await expectFocus(timed, "a[href='/ps/conversations/new']", "the element focused before the dialog");

          await timed.clock.fastForward("28:10");
          await timed.locator("#session-dialog[open]").waitFor();
          await timed.keyboard.press("Escape");
          await expect.poll(() => timed.locator("#session-dialog[open]").count()).toBe(0);
          await expectFocus(timed, "a[href='/ps/conversations/new']", "the element focused before the dialog, after Escape");
          await timed.close();
        });
      }

      step("logs out: Shift+Tab back to Se déconnecter", async () => {
        await tabTo(page, { css: "button", text: "Se déconnecter" }, { back: true });
        await page.keyboard.press("Enter");
        await page.waitForURL((u) => u.pathname === "/ps/login");
        expect((await page.locator(".notice").count()) + (await page.locator("h1", { hasText: "Connexion" }).count())).toBeGreaterThan(0);
      });
    });

    describe("the agent", () => {
      let page: Page;
      let navigations: string[];
      let broken: string | null = null;

      beforeAll(async () => {
        ({ page, navigations } = await open());
      });

      function step(name: string, fn: () => Promise<void>) {
        it(name, async () => {
          if (broken) throw new Error(`not run: an earlier step failed (${broken})`);
          try {
            await fn();
          } catch (err) {
            broken = name;
            throw err;
          }
        });
      }

      step("signs in", async () => {
        await page.goto("/bo/login");
        await tabTo(page, "#agent");
        await chooseOption(page, "Anna AIN — ELSM de l'AIN");
        await page.keyboard.press("Tab");
        await expectFocus(page, { css: "button", text: "Se connecter" }, "Se connecter");
        await page.keyboard.press("Enter");
        await page.waitForURL((u) => u.pathname === "/bo/bannettes/a-traiter");
        await mark(page, navigations);
      });

      step("opens the doctor's question from A TRAITER; Historique des accès opens with Space (and closes with Escape)", async () => {
        await tabTo(page, { css: "#list a.item-link", text: new RegExp(subject) });
        await page.keyboard.press("Enter");
        await arrived(page, navigations, { css: "#detail h1", text: subject }, "#detail h1", "the doctor's question");
        expect(await page.locator(".messages .attachments").innerText()).toContain("compte-rendu.pdf");

        await tabTo(page, "details.history summary");
        await page.keyboard.press("Space");
        await page.locator(".history-table").waitFor();
        if (javaScriptEnabled) {
          await page.keyboard.press("Escape");
          await expect.poll(() => page.locator("details.history[open]").count()).toBe(0);
          await expectFocus(page, "details.history summary", "the history summary, after Escape");
        }
      });

      step("replies: sent empty (error summary), the summary's link to Message, then sent", async () => {
        await tabTo(page, { css: "a", text: /^Répondre/ }, { back: true });
        await page.keyboard.press("Enter");
        await arrived(page, navigations, { css: "#detail h1", text: "RÉPONDRE" }, "#detail h1", "the reply form");
        await tabTo(page, "button[value=send]");
        await page.keyboard.press("Space");
        await arrived(page, navigations, "#error-summary", "#error-summary", "the reply's error summary");
        await page.keyboard.press("Tab");
        await expectFocus(page, "#error-summary a[href='#body']", "the summary's link to Message");
        await page.keyboard.press("Enter");
        await expectFocus(page, "#body", "the Message field, from the summary");
        await page.keyboard.type("Bonjour Docteur, la prise en charge est confirmée.");
        await tabTo(page, "button[value=send]");
        await page.keyboard.press("Enter");
        await arrived(page, navigations, { css: ".notice", text: "Votre message a été envoyé." }, "#detail h1", "the thread after the reply");
      });

      step("closes the conversation after confirming", async () => {
        await tabTo(page, { css: "a", text: "Clôturer la conversation" });
        await page.keyboard.press("Enter");
        await arrived(page, navigations, { css: "button", text: "Confirmer la clôture" }, "#detail h1", "the close confirmation");
        // The reason (issue 14 §3), chosen with the arrows.
        await tabTo(page, "#closure-reason");
        await chooseOption(page, "Réponse apportée");
        await tabTo(page, { css: "button", text: "Confirmer la clôture" });
        await page.keyboard.press("Space");
        await arrived(page, navigations, { css: ".notice", text: "clôturée" }, "#detail h1", "the closed thread");
        expect(await page.locator("a", { hasText: /^Répondre/i }).count()).toBe(0);
      });

      step("writes to a patient's médecin traitant: recipient by NIR OD (Enter), a draft with an attachment, then sent", async () => {
        await tabTo(page, "a[href='/bo/conversations/new']");
        await page.keyboard.press("Enter");
        await arrived(page, navigations, "#nir_od", "#detail h1", "the compose form");
        await tabTo(page, "#nir_od");
        await page.keyboard.type("1620369387222");
        await page.keyboard.press("Enter");
        await arrived(page, navigations, ".recipient", "#lookup", "the recipient shown (focus back on the button)");
        expect(await page.locator(".recipient").innerText()).toContain("Dr GENE Alain");
        if (javaScriptEnabled) await expect.poll(() => page.locator("#live").innerText()).toContain("Le message sera adressé à");

        await tabTo(page, "#subject");
        await page.keyboard.type(agentSubject);
        await page.keyboard.press("Tab");
        await expectFocus(page, "#body", "Message, after Objet");
        await page.keyboard.type("Bonjour Docteur, pouvez-vous nous adresser le dernier compte rendu ?");
        await page.keyboard.press("Tab");
        await expectFocus(page, "#attachments", "Pièce(s) jointe(s), after Message");
        // A native file chooser cannot be driven by keys: the file goes to the field the keyboard focused.
        await page.locator("#attachments:focus").setInputFiles(pdf);
        await tabTo(page, "button[value=draft]");
        await page.keyboard.press("Enter");
        await arrived(page, navigations, { css: ".notice", text: "Le brouillon a été enregistré." }, "#detail h1", "the saved draft");

        await tabTo(page, "button[value=send]");
        await page.keyboard.press("Enter");
        await arrived(page, navigations, { css: "#detail h1", text: agentSubject }, "#detail h1", "the sent question");
        expect(await page.locator(".notice").innerText()).toContain("Votre message a été envoyé.");
      });

      step("switches trays and searches by patient name; Escape closes the panel", async () => {
        await tabTo(page, { css: "nav a", text: /^CLOS/ });
        await page.keyboard.press("Enter");
        await arrived(page, navigations, { css: "#list h2", text: "CLOS" }, "#detail h1", "the CLOS tray");
        expect(await page.locator("#list a.item-link", { hasText: subject.toUpperCase() }).count()).toBe(1);

        await tabTo(page, "#search-toggle");
        await page.keyboard.press("Enter");
        await page.keyboard.press("Tab");
        await expectFocus(page, "#s-patient-nom", "the patient's Nom field");
        await page.keyboard.type("ferrand");
        await page.keyboard.press("Enter");
        await arrived(page, navigations, "#search-results", "#search-results", "the search results");
        expect(await page.locator(".results .item").allInnerTexts()).toContainEqual(expect.stringContaining(agentSubject.toUpperCase()));
        // The panel is folded under the criteria after the search; « Modifier la recherche » opens it with the name kept.
        expect(await page.locator("details.search[open]").count()).toBe(0);
        await tabTo(page, { css: "#search-toggle", text: "Modifier la recherche" });
        await page.keyboard.press("Enter");
        await page.keyboard.press("Tab");
        await expectFocus(page, "#s-patient-nom", "the patient's Nom field, still holding the name");
        expect(await page.locator("#s-patient-nom").inputValue()).toBe("ferrand");
        if (javaScriptEnabled) {
          await page.keyboard.press("Escape");
          await expectFocus(page, "#search-toggle", "the search panel's summary, after Escape");
          expect(await page.locator("details.search[open]").count()).toBe(0);
        }
      });

      step("logs out", async () => {
        await tabTo(page, { css: "button", text: "Se déconnecter" }, { back: true });
        await page.keyboard.press("Enter");
        await page.waitForURL((u) => u.pathname === "/bo/login");
      });
    });

    it("no page reported an error", () => {
      // Refused forms answer 422 on purpose.
      expect(errorLists.flat().filter((e) => !/status of 422/.test(e))).toEqual([]);
    });
  });
}
