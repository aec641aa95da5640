import type { Browser, BrowserContext, Page } from "playwright-core";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { axe, formatViolations, launchBrowser, newContext, signInAgent, startServer, watchErrors, type RunningApp } from "./helpers.js";

/** Issue 14 §3 in a real browser: a thread closed with a reason from its confirmation page, with and without JavaScript. */
let browser: Browser;
beforeAll(async () => {
  browser = await launchBrowser();
});
afterAll(async () => {
  await browser?.close();
});

for (const javaScriptEnabled of [true, false]) {
  describe(`closing with a reason ${javaScriptEnabled ? "with JavaScript (htmx)" : "without JavaScript (the form posted)"}`, () => {
    let app: RunningApp;
    let context: BrowserContext;
    let page: Page;
    let errors: string[];
    let threadId: number;

    beforeAll(async () => {
      app = await startServer();
      const ain = await app.db("elsms").where({ code: "ELSM 011" }).first("id");
      threadId = (await app.db("conversations").where({ elsm_id: ain.id, state: "a_traiter" }).orderBy("id").first("id")).id;
      context = await newContext(browser, app, { javaScriptEnabled });
      page = await context.newPage();
      errors = watchErrors(page);
      await signInAgent(page);
    });
    afterAll(async () => {
      await context?.close();
      await app?.close();
    });

    it("the confirmation page and the reasons page it links to pass axe", async () => {
      await page.goto(`/bo/conversations/${threadId}`);
      await page.locator(`#detail a[href="/bo/conversations/${threadId}/close"]`).click();
      await page.getByRole("button", { name: "Confirmer la clôture" }).waitFor();
      expect(await page.getByLabel("Motif de clôture").inputValue()).toBe("");
      expect(formatViolations(await axe(page))).toBe("");
      await page.getByRole("link", { name: "Gérer les motifs de clôture" }).click();
      await page.getByRole("link", { name: "Créer un motif" }).waitFor();
      expect(await page.locator(".closure-reasons li").count()).toBe(4);
      expect(formatViolations(await axe(page))).toBe("");
    });

    it("refuses a close without a reason on its field (the précision kept), then closes with the reason chosen by keyboard", async () => {
      await page.goto(`/bo/conversations/${threadId}/close`);
      await page.getByLabel("Précision (facultatif)").fill("Compte rendu reçu.");
      await page.getByRole("button", { name: "Confirmer la clôture" }).click();
      await page.locator("#closure-reason-error").waitFor();
      expect(await page.locator("#closure-reason-error").innerText()).toBe("Choisissez le motif de clôture dans la liste.");
      expect(await page.getByLabel("Précision (facultatif)").inputValue()).toBe("Compte rendu reçu.");
      expect(await page.locator("#error-summary a[href='#closure-reason']").count()).toBe(1);
      expect(formatViolations(await axe(page))).toBe("");

      // The keyboard alone chooses the reason: ArrowDown on the closed list (the first reason after the prompt).
      await page.getByLabel("Motif de clôture").focus();
      await page.keyboard.press("ArrowDown");
      expect(await page.locator("#closure-reason option:checked").innerText()).toBe("Réponse apportée");
      // A mark on the document: with JavaScript it survives (htmx swapped <main>), without it the post loads a new page.
      await page.evaluate(() => Object.assign(window, { sameDocument: true }));
      await page.getByRole("button", { name: "Confirmer la clôture" }).click();
      await page.locator(".notice", { hasText: "clôturée" }).waitFor();
      const line = page.locator(".thread-closure");
      expect(await line.innerText()).toMatch(/^Conversation close par Anna AIN le .+ — motif : Réponse apportée — précision : Compte rendu reçu\.$/);
      expect(await page.evaluate(() => "sameDocument" in window)).toBe(javaScriptEnabled);
      expect(formatViolations(await axe(page))).toBe("");
      expect(await app.db("conversations").where({ id: threadId }).first("state", "closed_reason_label")).toEqual({ state: "clos", closed_reason_label: "Réponse apportée" });
      // The refused close answered 422 on purpose.
      expect(errors.filter((e) => !/status of 422/.test(e))).toEqual([]);
    });
  });
}
