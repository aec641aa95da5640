import path from "node:path";
import { fileURLToPath } from "node:url";
import type { Browser, BrowserContext, Page } from "playwright-core";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { axe, formatViolations, launchBrowser, newContext, startServer, watchErrors, type RunningApp } from "./helpers.js";

/**
 * Issue 3's loop across both sides, in two browsers side by side (a doctor, an agent), with
 * JavaScript and without: send → A TRAITER (bold) → opened (read on the doctor's side) → answer
 * (EN COURS) → the doctor answers (A TRAITER) → closed (CLOS) → the doctor writes again (A TRAITER).
 * An agent of another ELSM never sees it. axe-core on every back-office page and state.
 */
const pdf = path.join(path.dirname(fileURLToPath(import.meta.url)), "..", "fixtures", "attachments", "valid", "compte-rendu.pdf");

let browser: Browser;
beforeAll(async () => {
  browser = await launchBrowser();
});
afterAll(async () => {
  await browser?.close();
});

for (const javaScriptEnabled of [true, false]) {
  describe(`the loop across both sides ${javaScriptEnabled ? "with JavaScript" : "without JavaScript"}`, () => {
    let app: RunningApp;
    let contexts: BrowserContext[] = [];
    let doctor: Page;
    let agent: Page;
    const errorLists: string[][] = [];
    const subject = `Question boucle ${javaScriptEnabled ? "JS" : "sans JS"}`;
    const SUBJECT = subject.toUpperCase();
    let threadPath = "";

    async function open(): Promise<Page> {
      const context = await newContext(browser, app, { javaScriptEnabled });
      contexts.push(context);
      const page = await context.newPage();
      const found = watchErrors(page);
      errorLists.push(found);
      return page;
    }

    async function accessible(page: Page, state: string) {
      const violations = await axe(page);
      expect(violations, `axe on ${state}:\n${formatViolations(violations)}`).toEqual([]);
    }

    /** Opens a tray from its tab and waits for the new list (not the one already on screen). */
    async function trayItem(page: Page, tray: "A TRAITER" | "EN COURS" | "CLOS") {
      await page.locator("#list").evaluate((el) => el.setAttribute("data-stale", ""));
      await page
        .locator("nav[aria-label='Bannettes']")
        .getByRole("link", { name: new RegExp(`^${tray}`) })
        .click();
      await page.locator("#list:not([data-stale]) h2", { hasText: tray }).waitFor();
      return page.locator("#list .item", { hasText: SUBJECT });
    }

    beforeAll(async () => {
      app = await startServer();
      doctor = await open();
      agent = await open();
    });
    afterAll(async () => {
      for (const c of contexts) await c.close();
      contexts = [];
      await app?.close();
    });

    it("the doctor writes with an attachment", async () => {
      await doctor.goto("/ps/login");
      await doctor.getByLabel("Carte CPS").selectOption({ label: "Dr Jean-Luc MEZIN (N°AM 381711787)" });
      await doctor.getByLabel("Code PIN").fill("1234");
      await doctor.getByRole("button", { name: "Se connecter" }).click();
      await doctor.getByRole("link", { name: /Contacter/ }).click();
      await doctor.getByRole("link", { name: "Sélectionner un patient" }).click();
      await doctor.locator("#detail").getByLabel("NIR", { exact: true }).fill("2851175123045");
      await doctor.locator("#detail").getByLabel("Clé").fill("45");
      await doctor.locator('form[action="/ps/patient/nir"]').getByRole("button", { name: "Sélectionner le patient" }).click();
      await doctor.getByRole("link", { name: "+ POSER UNE QUESTION" }).click();
      await doctor.getByLabel("Objet", { exact: true }).fill(subject);
      await doctor.getByLabel("Message").fill("Bonjour, pouvez-vous confirmer la prise en charge ?");
      await doctor.getByLabel("Pièce(s) jointe(s)").setInputFiles([pdf]);
      await doctor.getByRole("button", { name: "ENVOYER" }).click();
      await doctor.waitForURL((u) => /^\/ps\/conversations\/\d+$/.test(u.pathname));
      threadPath = new URL(doctor.url()).pathname;
      await expect.poll(() => doctor.locator(".message-ps .read-state").innerText()).toBe("Pas encore lu par l'échelon");
    });

    it("the agent finds it bold in A TRAITER, and the trays pass axe", async () => {
      await agent.goto("/bo/login");
      await accessible(agent, "the agent login");
      await agent.getByLabel("Agent").selectOption({ label: "Anna AIN — ELSM de l'AIN" });
      await agent.getByRole("button", { name: "Se connecter" }).click();
      await agent.waitForURL((u) => u.pathname === "/bo/bannettes/a-traiter");
      if (javaScriptEnabled)
        await agent.evaluate(() => {
          (window as unknown as { __marker?: number }).__marker = 1;
        });
      const item = await trayItem(agent, "A TRAITER");
      await item.waitFor();
      expect(await item.getAttribute("class")).toContain("unread");
      const weight = await item.locator(".item-subject").evaluate((el) => getComputedStyle(el).fontWeight);
      expect(Number(weight)).toBeGreaterThanOrEqual(700);
      expect(await item.innerText()).toContain("Non lu");
      expect(await item.innerText()).toContain("Dr MEZIN Jean-Luc");
      await accessible(agent, "A TRAITER with an unread thread");
      await trayItem(agent, "EN COURS");
      await accessible(agent, "EN COURS with a draft");
      await trayItem(agent, "CLOS");
      await accessible(agent, "CLOS");
      if (javaScriptEnabled) {
        expect(await agent.evaluate(() => (window as unknown as { __marker?: number }).__marker), "tabs swapped in place by htmx").toBe(1);
      }
    });

    it("the agent opens it; the doctor then sees it read", async () => {
      const item = await trayItem(agent, "A TRAITER");
      await item.getByRole("link").click();
      await agent.locator("#detail h1", { hasText: SUBJECT }).waitFor();
      expect(await agent.locator(".messages .attachments").innerText()).toContain("compte-rendu.pdf");
      await accessible(agent, "an opened thread");
      await doctor.goto(threadPath);
      expect(await doctor.locator(".message-ps .read-state").innerText()).toMatch(/^Lu par l'échelon le /);
    });

    it("the agent answers (→ EN COURS, [Lu] once the doctor opens it)", async () => {
      await agent.getByRole("link", { name: /^Répondre/i }).click();
      await agent.getByLabel("Message").waitFor();
      await accessible(agent, "the reply form");
      await agent.getByRole("button", { name: "ENVOYER" }).click();
      await agent.locator("#error-summary").waitFor();
      await accessible(agent, "the reply form with an error");
      await agent.getByLabel("Message").fill("Bonjour Docteur, c'est confirmé.");
      await agent.getByRole("button", { name: "ENVOYER" }).click();
      await agent.locator(".notice", { hasText: "Votre message a été envoyé." }).waitFor();
      expect(await (await trayItem(agent, "EN COURS")).count()).toBe(1);
      await doctor.goto("/ps/messages");
      const row = doctor.locator("#list .item", { hasText: subject });
      expect(await row.getAttribute("class")).toContain("unread");
      await row.getByRole("link").click();
      await doctor.locator(".message-elsm", { hasText: "c'est confirmé" }).waitFor();
      const tagged = await trayItem(agent, "EN COURS");
      expect(await tagged.innerText()).toContain("[Lu]");
    });

    it("the doctor answers back (→ A TRAITER)", async () => {
      await doctor.getByRole("link", { name: "RÉPONDRE" }).click();
      await doctor.getByLabel("Message").fill("Merci beaucoup.");
      await doctor.getByRole("button", { name: "ENVOYER" }).click();
      await doctor.locator(".notice", { hasText: "Votre message a été envoyé." }).waitFor();
      expect(await (await trayItem(agent, "A TRAITER")).count()).toBe(1);
    });

    it("the agent closes it after confirming (→ CLOS, readable, no RÉPONDRE)", async () => {
      await (await trayItem(agent, "A TRAITER")).getByRole("link").click();
      await agent.getByRole("link", { name: "CLÔTURER LA CONVERSATION" }).click();
      await agent.getByRole("button", { name: "Confirmer la clôture" }).waitFor();
      await accessible(agent, "the close confirmation");
      await agent.getByLabel("Motif de clôture").selectOption({ label: "Réponse apportée" });
      await agent.getByRole("button", { name: "Confirmer la clôture" }).click();
      await agent.locator(".notice", { hasText: "clôturée" }).waitFor();
      expect(await agent.getByRole("link", { name: /^Répondre/i }).count()).toBe(0);
      await accessible(agent, "a closed thread");
      expect(await (await trayItem(agent, "CLOS")).count()).toBe(1);
    });

    it("the doctor writes again (→ A TRAITER)", async () => {
      await doctor.goto(threadPath);
      await doctor.getByRole("link", { name: "RÉPONDRE" }).click();
      await doctor.getByLabel("Message").fill("Une dernière question.");
      await doctor.getByRole("button", { name: "ENVOYER" }).click();
      await doctor.locator(".notice", { hasText: "Votre message a été envoyé." }).waitFor();
      expect(await (await trayItem(agent, "A TRAITER")).count()).toBe(1);
      expect(await (await trayItem(agent, "CLOS")).count()).toBe(0);
    });

    it("the search panel finds it by patient name across the trays", async () => {
      await agent.locator("details.search summary").click();
      await agent.getByLabel("Nom du patient", { exact: true }).fill("solana");
      await agent.getByRole("button", { name: "RECHERCHER" }).click();
      await agent.locator(".results .item", { hasText: SUBJECT }).waitFor();
      expect(await agent.locator(".results .item", { hasText: SUBJECT }).innerText()).toContain("[A TRAITER]");
      expect(new URL(agent.url()).search).toBe("");
      await accessible(agent, "search results");
    });

    it("an agent of another ELSM never sees it", async () => {
      const other = await open();
      await other.goto("/bo/login");
      await other.getByLabel("Agent").selectOption({ label: "Paul HERAULT — ELSM de l'HÉRAULT" });
      await other.getByRole("button", { name: "Se connecter" }).click();
      for (const tray of ["A TRAITER", "EN COURS", "CLOS"] as const) expect(await (await trayItem(other, tray)).count()).toBe(0);
      const id = threadPath.split("/").pop();
      const res = await other.goto(`/bo/conversations/${id}`);
      expect(res?.status()).toBe(404);
      await accessible(other, "the 404 page");
    });

    it("no page reported an error", () => {
      expect(errorLists.flat().filter((e) => !/status of (404|422)/.test(e))).toEqual([]);
    });
  });
}
