import type { Browser, BrowserContext, Page } from "playwright-core";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { axe, formatViolations, launchBrowser, newContext, signInAgent, startServer, watchErrors, type RunningApp } from "./helpers.js";

/** Issue 13 §2 in a real browser: an internal note added from the thread page, swapped in place with JavaScript, posted without it. */
let browser: Browser;
beforeAll(async () => {
  browser = await launchBrowser();
});
afterAll(async () => {
  await browser?.close();
});

for (const javaScriptEnabled of [true, false]) {
  describe(`an internal note ${javaScriptEnabled ? "with JavaScript (htmx swap)" : "without JavaScript (the form posted)"}`, () => {
    let app: RunningApp;
    let context: BrowserContext;
    let page: Page;
    let errors: string[];
    let threadId: number;

    beforeAll(async () => {
      app = await startServer();
      const ain = await app.db("elsms").where({ code: "ELSM 011" }).first("id");
      threadId = (await app.db("conversations").where({ elsm_id: ain.id }).whereNotNull("patient_id").orderBy("id").first("id")).id;
      context = await newContext(browser, app, { javaScriptEnabled });
      page = await context.newPage();
      errors = watchErrors(page);
      await signInAgent(page);
      await page.goto(`/bo/conversations/${threadId}`);
    });
    afterAll(async () => {
      await context?.close();
      await app?.close();
    });

    it("refuses an empty note on its field, then shows the note labelled as internal, focused, between the messages (axe 0)", async () => {
      await page.getByRole("button", { name: "Ajouter la note" }).click();
      await expect.poll(() => page.locator("#note-error").count()).toBe(1);
      expect(await page.locator(".internal-note").count()).toBe(0);
      expect(formatViolations(await axe(page))).toBe("");

      const urlBefore = page.url();
      // A mark on the document: with JavaScript it survives (htmx swapped <main>), without it the post loads a new page.
      await page.evaluate(() => Object.assign(window, { sameDocument: true }));
      await page.getByRole("textbox", { name: "Note interne" }).fill("Voir avec le Dr Martin avant de répondre.");
      await page.getByRole("button", { name: "Ajouter la note" }).click();
      const note = page.locator(".internal-note");
      await expect.poll(() => note.count()).toBe(1);
      expect(await note.locator("h2").innerText()).toContain("Note interne — non visible du professionnel de santé");
      expect(await note.innerText()).toContain("Voir avec le Dr Martin avant de répondre.");
      expect(await note.innerText()).toContain("Anna AIN");
      // In the thread's list with the messages, not in a block of its own.
      expect(await page.locator("ol.messages > li.internal-note").count()).toBe(1);
      await expect.poll(() => page.evaluate(() => document.activeElement?.classList.contains("internal-note") ?? false)).toBe(true);
      expect(await page.locator("main .notice").first().innerText()).toContain("La note interne a été ajoutée");
      expect(await page.evaluate(() => "sameDocument" in window)).toBe(javaScriptEnabled);
      expect(urlBefore).not.toBe(page.url());
      expect(new URL(page.url()).search).not.toContain("Martin");
      expect(formatViolations(await axe(page))).toBe("");
      // The empty note is refused with a 422 on purpose.
      expect(errors.filter((e) => !/status of 422/.test(e))).toEqual([]);
    });
  });
}
