import path from "node:path";
import { fileURLToPath } from "node:url";
import type { Browser, BrowserContext, Page } from "playwright-core";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { axe, formatViolations, launchBrowser, newContext, startServer, watchErrors, type RunningApp } from "./helpers.js";

const fixtures = path.join(path.dirname(fileURLToPath(import.meta.url)), "..", "fixtures", "attachments", "valid");
const drGeneCard = "Dr Alain GENE (N°AM 991101197)";
const subject = "Arrêt de travail après lombalgie aiguë";

let browser: Browser;
beforeAll(async () => {
  browser = await launchBrowser();
});
afterAll(async () => {
  await browser?.close();
});

/**
 * The doctor's journey of issue 2, once with JavaScript (htmx swaps #main in place) and once without
 * (plain links and form posts). Steps run in order on one page; once a step fails the next ones say so
 * instead of failing on a page they did not expect.
 */
for (const javaScriptEnabled of [true, false]) {
  describe(`doctor's journey ${javaScriptEnabled ? "with JavaScript (htmx)" : "without JavaScript"}`, () => {
    let app: RunningApp;
    let context: BrowserContext;
    let page: Page;
    let errors: string[];
    let navigations: string[];
    let broken: string | null = null;

    beforeAll(async () => {
      app = await startServer();
      context = await newContext(browser, app, { javaScriptEnabled });
      page = await context.newPage();
      errors = watchErrors(page);
      navigations = [];
      page.on("request", (r) => {
        if (r.isNavigationRequest() && r.frame() === page.mainFrame()) navigations.push(`${r.method()} ${new URL(r.url()).pathname}`);
      });
    });
    afterAll(async () => {
      await context?.close();
      await app?.close();
    });

    function step(name: string, fn: () => Promise<void>) {
      it(name, async () => {
        if (broken) throw new Error(`not run: an earlier step failed (${broken})`);
        try {
          await fn();
          // A failed send answers 422 on purpose; anything else the page logs as an error is a bug.
          expect(
            errors.filter((e) => !/status of 422/.test(e)),
            "errors reported by the page",
          ).toEqual([]);
        } catch (err) {
          broken = name;
          throw err;
        }
      });
    }

    const detail = () => page.locator("#detail");
    const list = () => page.locator("#list");
    const listTitle = () => list().locator("h2");
    const notice = () => detail().locator(".notice");
    const currentPath = () => new URL(page.url()).pathname;

    async function expectAccessible(state: string) {
      const violations = await axe(page);
      expect(violations, `axe violations on ${state} (${currentPath()}):\n${formatViolations(violations)}`).toEqual([]);
    }

    /** From here on, every action should swap #main in place (with JS) or load a whole page (without). */
    async function markPage() {
      await page.evaluate(() => {
        (window as unknown as { __marker?: number }).__marker = 1;
      });
      navigations.length = 0;
    }

    /** With JS: no page load since markPage, one banner, focus moved into the new content. Without: a real page load. */
    async function expectArrived(focus: string = "#detail h1") {
      const marker = await page.evaluate(() => (window as unknown as { __marker?: number }).__marker);
      expect(await page.locator("header.banner").count(), "one page header, not a page inside the page").toBe(1);
      if (javaScriptEnabled) {
        expect(marker, "the page was not reloaded (htmx swapped #main)").toBe(1);
        expect(navigations, "no browser navigation happened").toEqual([]);
        await expect.poll(() => page.evaluate((sel) => document.activeElement?.matches(sel) ?? false, focus), { message: `focus on ${focus}` }).toBe(true);
      } else {
        expect(marker, "a full page load happened").toBeUndefined();
        expect(navigations.length, "the browser navigated").toBeGreaterThan(0);
        expect(await page.evaluate(() => typeof (window as unknown as { htmx?: unknown }).htmx)).toBe("undefined");
        await markPage();
      }
    }

    step("signs in with a CPS card and opens Échanges médicaux sécurisés from Services patient", async () => {
      await page.goto("/ps/login");
      await expectAccessible("the CPS login page");
      await page.getByLabel("Carte CPS").selectOption({ label: drGeneCard });
      await page.getByLabel("Code PIN").fill("1234");
      await page.getByRole("button", { name: "Se connecter" }).click();
      await page.waitForURL((u) => u.pathname === "/ps");
      await expect.poll(() => page.locator("h1").innerText()).toBe("Services patient");
      await expectAccessible("Services patient");
      await markPage();

      await page.getByRole("link", { name: /Contacter/ }).click();
      await page.waitForURL((u) => u.pathname === "/ps/messages");
      await expect.poll(() => listTitle().innerText()).toContain("ÉCHANGES MÉDICAUX (1)");
      await expectArrived();
      expect(await page.title()).toContain("Mes échanges");
      await expect.poll(() => page.getByRole("button", { name: "+ POSER UNE QUESTION" }).isDisabled()).toBe(true);
      await expectAccessible("the message list, no patient selected");
    });

    step("selects a patient by NIR, choosing Guillaume among the beneficiaries of a shared NIR", async () => {
      await page.getByRole("link", { name: "Sélectionner un patient" }).click();
      await page.waitForURL((u) => u.pathname === "/ps/patient");
      await detail().getByRole("heading", { name: "Sélectionner un patient" }).waitFor();
      await expectArrived();
      await expectAccessible("the patient selection page");

      await detail().getByLabel("NIR", { exact: true }).fill("1700469387111");
      await detail().getByLabel("Clé").fill("72");
      await detail().locator('form[action="/ps/patient/nir"]').getByRole("button", { name: "Sélectionner le patient" }).click();
      const choice = detail().getByRole("group", { name: /Plusieurs bénéficiaires/ });
      await choice.waitFor();
      // The choice is announced as it appears: the focus is on its legend.
      await expectArrived("fieldset.beneficiaries legend");
      expect(await choice.getByRole("radio").count()).toBe(3);
      // A post answered in place keeps the form's address with htmx (reload shows the form, not a 404).
      expect(currentPath()).toBe(javaScriptEnabled ? "/ps/patient" : "/ps/patient/nir");
      await expectAccessible("the beneficiary choice");

      await choice.getByLabel(/Guillaume BUNYEL/).check();
      await detail().locator('form[action="/ps/patient/choose"]').getByRole("button", { name: "Choisir ce bénéficiaire" }).click();
      await page.waitForURL((u) => u.pathname === "/ps/messages");
      await expect.poll(() => notice().innerText()).toContain("Patient sélectionné : Guillaume BUNYEL");
      await expectArrived();
      const card = page.locator("#patient-panel .patient-card");
      expect(await card.innerText()).toMatch(/Guillaume BUNYEL[\s\S]*1700469387111 72[\s\S]*17\/04\/1970[\s\S]*ELSM de l'AIN[\s\S]*1211/);
      await expectAccessible("the message list with the selected patient");
    });

    step("refuses to send an empty question, then keeps it as a draft with two attachments", async () => {
      await page.getByRole("link", { name: "+ POSER UNE QUESTION" }).click();
      await page.waitForURL((u) => u.pathname === "/ps/conversations/new");
      await detail().getByRole("heading", { name: "POSER UNE QUESTION MÉDICALE" }).waitFor();
      await expectArrived();
      await expectAccessible("the compose form");

      await page.getByRole("button", { name: "ENVOYER" }).click();
      const summary = detail().locator("#error-summary");
      await summary.waitFor();
      await expectArrived("#error-summary");
      expect(await summary.innerText()).toContain("Le formulaire contient 2 erreurs");
      expect(await page.title()).toMatch(/^Erreur : /);
      // With htmx the address stays the form's (reload shows the form); without, it is the POST's.
      expect(currentPath()).toBe(javaScriptEnabled ? "/ps/conversations/new" : "/ps/conversations");
      await expectAccessible("the compose form with its error summary");

      await page.getByLabel("Objet", { exact: true }).fill(subject);
      await page.getByLabel("Pièce(s) jointe(s)").setInputFiles([fixture("compte-rendu.pdf"), fixture("radio.png")]);
      await page.getByRole("button", { name: "ENREGISTRER COMME BROUILLON" }).click();
      await page.waitForURL((u) => /^\/ps\/drafts\/\d+$/.test(u.pathname));
      await expect.poll(() => notice().innerText()).toContain("Le brouillon a été enregistré.");
      await expectArrived();
      const attached = detail().getByRole("list", { name: "Pièces jointes déjà enregistrées" });
      expect(await attached.locator("li").allInnerTexts()).toEqual([expect.stringContaining("compte-rendu.pdf"), expect.stringContaining("radio.png")]);
      await expectAccessible("the saved draft");
    });

    step("reopens the draft from the list, completes it and sends it", async () => {
      await detail().getByRole("link", { name: "RETOUR" }).click();
      await page.waitForURL((u) => u.pathname === "/ps/messages");
      const draftLink = list().getByRole("link", { name: new RegExp(`^${subject}, brouillon`) });
      await draftLink.waitFor();
      await expectArrived();
      await expectAccessible("the list with the draft");

      await draftLink.click();
      await page.waitForURL((u) => /^\/ps\/drafts\/\d+$/.test(u.pathname));
      await expect.poll(() => page.getByLabel("Objet", { exact: true }).inputValue()).toBe(subject);
      await expectArrived();
      expect(await detail().getByRole("list", { name: "Pièces jointes déjà enregistrées" }).locator("li").count()).toBe(2);
      await expectAccessible("the reopened draft");

      await page.getByLabel("Message").fill("Bonjour,\nQuelle durée d'arrêt retenir ? Compte rendu et radio joints.\nBien confraternellement.");
      await page.getByRole("button", { name: "ENVOYER" }).click();
      await page.waitForURL((u) => /^\/ps\/conversations\/\d+$/.test(u.pathname));
      await expect.poll(() => notice().innerText()).toContain("Votre message a été envoyé.");
      await expectArrived();
      expect(await detail().locator("h1").innerText()).toBe(subject.toUpperCase());
      const attachments = detail().getByRole("list", { name: "Pièces jointes" });
      expect(await attachments.getByRole("link").allInnerTexts()).toEqual(["compte-rendu.pdf", "radio.png"]);
      expect(
        await list()
          .getByRole("link", { name: /, brouillon,/ })
          .allInnerTexts(),
      ).not.toContainEqual(expect.stringContaining(subject));
      await expectAccessible("the sent conversation");

      const [download] = await Promise.all([page.waitForEvent("download"), attachments.getByRole("link", { name: "radio.png" }).click()]);
      expect(download.suggestedFilename()).toBe("radio.png");
      expect(currentPath(), "downloading leaves the page as it was").toMatch(/^\/ps\/conversations\/\d+$/);
      navigations.length = 0;
    });

    step("opens the ELSM's unread thread, which stops being bold, and replies to it", async () => {
      const row = list().locator("li", { hasText: "Durée arrêt de travail Lombalgie" });
      expect(await row.getAttribute("class")).toContain("unread");
      expect(await row.locator(".item-subject").evaluate((e) => getComputedStyle(e).fontWeight)).toBe("700");
      expect(await listTitle().innerText()).toContain("ÉCHANGES MÉDICAUX (1)");

      const sentPath = currentPath();
      await row.getByRole("link").click();
      await page.waitForURL((u) => /^\/ps\/conversations\/\d+$/.test(u.pathname) && u.pathname !== sentPath);
      await expect.poll(() => detail().locator("h1").innerText()).toBe("DURÉE ARRÊT DE TRAVAIL LOMBALGIE");
      await expectArrived();
      const threadPath = currentPath();
      expect(await detail().locator(".message-elsm").innerText()).toContain("lombalgie commune");
      expect(await row.getAttribute("class")).not.toContain("unread");
      expect(await row.locator(".item-subject").evaluate((e) => getComputedStyle(e).fontWeight)).toBe("400");
      expect(await listTitle().innerText()).toContain("ÉCHANGES MÉDICAUX (0)");
      await expectAccessible("the ELSM thread");

      await detail().getByRole("link", { name: "RÉPONDRE" }).click();
      await page.waitForURL((u) => u.pathname === `${threadPath}/reply`);
      await detail().getByRole("heading", { name: "RÉPONDRE" }).waitFor();
      await expectArrived();
      await expectAccessible("the reply form");

      await page.getByLabel("Message").fill("Merci pour ces précisions, je prolonge de 5 jours.");
      await page.getByRole("button", { name: "ENVOYER" }).click();
      await page.waitForURL((u) => u.pathname === threadPath);
      await expect.poll(() => notice().innerText()).toContain("Votre message a été envoyé.");
      await expectArrived();
      expect(await detail().locator(".message").last().innerText()).toContain("je prolonge de 5 jours");
      await expectAccessible("the thread with the reply");
    });

    step("searches by Nom through the RECHERCHE panel, then resets the search", async () => {
      await page.locator(".search summary").click();
      await page.getByLabel("Nom du patient").fill("bunyel");
      await page.getByRole("button", { name: "RECHERCHER" }).click();
      await page.waitForURL((u) => u.pathname === "/ps/messages");
      const state = list().locator(".search-state");
      await expect.poll(() => state.innerText()).toMatch(/Résultats de la recherche : \d+ conversations?\./);
      // The focus goes to what the search changed: the results' status, at the top of the list.
      await expectArrived("#search-results");
      const rows = await list().locator("li").allInnerTexts();
      expect(rows.length).toBeGreaterThan(1);
      for (const row of rows) expect(row).toContain("Patient(e): Guillaume BUNYEL");
      expect(rows.join("\n")).toContain(subject);
      expect(rows.join("\n")).not.toContain("Durée arrêt de travail Lombalgie");
      expect(await page.getByLabel("Nom du patient").inputValue()).toBe("bunyel");
      await expectAccessible("the search results");

      await page.getByRole("button", { name: "RÉINITIALISER" }).click();
      await expect.poll(() => state.count()).toBe(0);
      // The panel closes with the reset: the focus goes back to its summary (RÉINITIALISER is hidden in it).
      await expectArrived("#search-toggle");
      expect(await list().locator("li", { hasText: "Durée arrêt de travail Lombalgie" }).count()).toBe(1);
      expect(await page.getByLabel("Nom du patient").inputValue()).toBe("");
      await expectAccessible("the list after resetting the search");
    });

    step("deletes a conversation after confirming", async () => {
      const gone = "RV pour échange confraternel";
      await list()
        .getByRole("link", { name: new RegExp(gone) })
        .click();
      await page.waitForURL((u) => /^\/ps\/conversations\/\d+$/.test(u.pathname));
      await expect.poll(() => detail().locator("h1").innerText()).toBe(gone.toUpperCase());
      await expectArrived();
      const threadPath = currentPath();
      await expectAccessible("the ELSM thread to delete");

      await detail().getByRole("link", { name: "SUPPRIMER LA CONVERSATION" }).click();
      await page.waitForURL((u) => u.pathname === `${threadPath}/delete`);
      await expect.poll(() => detail().locator("h1").innerText()).toContain(`Supprimer la conversation « ${gone} »`);
      await expectArrived();
      expect(
        await list()
          .getByRole("link", { name: new RegExp(gone) })
          .count(),
        "still listed until confirmed",
      ).toBe(1);
      await expectAccessible("the delete confirmation");

      await detail().getByRole("button", { name: "Confirmer la suppression" }).click();
      await page.waitForURL((u) => u.pathname === "/ps/messages");
      await expect.poll(() => notice().innerText()).toContain("La conversation a été supprimée de votre liste.");
      await expectArrived();
      expect(
        await list()
          .getByRole("link", { name: new RegExp(gone) })
          .count(),
      ).toBe(0);
      await expectAccessible("the list after the deletion");

      const response = await page.goto(threadPath);
      expect(response?.status(), "a deleted conversation cannot be opened again").toBe(404);
      expect(await page.locator("h1").innerText()).toBe("Page introuvable");
      await expectAccessible("the not-found page");
      errors.splice(
        errors.findIndex((e) => /status of 404/.test(e)),
        1,
      );
    });
  });
}

/** htmx depends on the page's own scripts being allowed by the strict CSP (script-src/style-src 'self'). */
describe("under the strict Content-Security-Policy", () => {
  let app: RunningApp;
  beforeAll(async () => {
    app = await startServer();
  });
  afterAll(async () => {
    await app?.close();
  });

  it("runs htmx and app.js without a CSP refusal or a script error", async () => {
    const context = await newContext(browser, app, { javaScriptEnabled: true, bypassCSP: false });
    try {
      const page = await context.newPage();
      const errors = watchErrors(page);
      const refusals: string[] = [];
      await page.exposeFunction("__cspRefusal", (what: string) => refusals.push(what));
      await page.addInitScript(() => {
        document.addEventListener("securitypolicyviolation", (e) => {
          (window as unknown as { __cspRefusal(s: string): void }).__cspRefusal(`${e.violatedDirective} ${e.blockedURI}`);
        });
      });
      await page.goto("/ps/login");
      await page.getByLabel("Carte CPS").selectOption({ label: drGeneCard });
      await page.getByLabel("Code PIN").fill("1234");
      await page.getByRole("button", { name: "Se connecter" }).click();
      await page.waitForURL((u) => u.pathname === "/ps");
      await page.getByRole("link", { name: /Contacter/ }).click();
      await page.waitForURL((u) => u.pathname === "/ps/messages");
      await page
        .locator("#list")
        .getByRole("link", { name: /info ALD/ })
        .click();
      await expect.poll(() => page.locator("#detail h1").innerText()).toBe("INFO ALD");
      expect(await page.evaluate(() => typeof (window as unknown as { htmx?: unknown }).htmx)).toBe("object");
      expect(await page.locator("#main[data-htmx-powered], #main a[data-htmx-powered]").count()).toBeGreaterThan(0);
      expect(refusals).toEqual([]);
      expect(errors).toEqual([]);
    } finally {
      await context.close();
    }
  });
});

function fixture(name: string): string {
  return path.join(fixtures, name);
}
