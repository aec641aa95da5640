import type { Browser, BrowserContext, Page } from "playwright-core";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { axe, formatViolations, launchBrowser, newContext, signInAgent, startServer, watchErrors, type RunningApp } from "./helpers.js";

/** Issue 14 §4 in a real browser: « Marquer comme non lu » from a thread, on both sides, with htmx and without JavaScript. */
let browser: Browser;
beforeAll(async () => {
  browser = await launchBrowser();
});
afterAll(async () => {
  await browser?.close();
});

const NOTICE = "La conversation est marquée comme non lue.";

for (const javaScriptEnabled of [true, false]) {
  describe(`mark unread ${javaScriptEnabled ? "with JavaScript (htmx swap)" : "without JavaScript (the form posted)"}`, () => {
    let app: RunningApp;
    let context: BrowserContext;
    let errors: string[];

    beforeAll(async () => {
      app = await startServer();
      context = await newContext(browser, app, { javaScriptEnabled });
    });
    afterAll(async () => {
      await context?.close();
      await app?.close();
    });

    /** Opens the thread from its row, marks it unread, and checks the list it lands on: notice, row unread, axe 0. */
    async function markFromThread(page: Page, id: number, subject: string, listPath: string) {
      await page.locator(`#list a.item-link[href$="/conversations/${id}"]`).click();
      await expect.poll(() => page.locator("#thread-title").innerText()).toBe(subject.toUpperCase());
      expect(await page.locator(`#list a.item-link[href$="/conversations/${id}"]`).evaluate((a) => a.closest("li")!.classList.contains("unread"))).toBe(false);
      expect(formatViolations(await axe(page))).toBe("");
      // A mark on the document: with JavaScript it survives (htmx swapped <main>), without it the post loads a new page.
      await page.evaluate(() => Object.assign(window, { sameDocument: true }));
      await page.getByRole("button", { name: "Marquer comme non lu" }).click();
      await page.waitForURL((u) => u.pathname === listPath);
      await expect.poll(() => page.locator("main .notice").count()).toBe(1);
      expect(await page.locator("main .notice").innerText()).toBe(NOTICE);
      const row = page.locator(`#list a.item-link[href$="/conversations/${id}"]`);
      expect(await row.evaluate((a) => a.closest("li")!.classList.contains("unread"))).toBe(true);
      expect(await row.getAttribute("aria-label")).toContain("non lu");
      expect(await page.evaluate(() => "sameDocument" in window)).toBe(javaScriptEnabled);
      expect(formatViolations(await axe(page))).toBe("");
    }

    it("the échelon: back on its tray, the thread unread in the tab's count", async () => {
      const page = await context.newPage();
      errors = watchErrors(page);
      const thread = await app.db("conversations").where({ subject: "ALD - demande d'info critères HAS" }).first("id", "subject");
      await signInAgent(page);
      const tab = page.locator('nav .tabs a[aria-current="page"]');
      const unreadIn = async () => Number(/· (\d+) non lu/.exec(await tab.innerText())?.[1] ?? 0);
      const before = await unreadIn();
      await markFromThread(page, thread.id, thread.subject, "/bo/bannettes/a-traiter");
      expect(await unreadIn()).toBe(before + 1);
      expect(errors).toEqual([]);
      await page.close();
    });

    it("the doctor: back on the list, counted in ÉCHANGES MÉDICAUX (n)", async () => {
      const page = await context.newPage();
      errors = watchErrors(page);
      const thread = await app.db("conversations").where({ subject: "RV pour échange confraternel" }).first("id", "subject");
      await page.goto("/ps/login");
      await page.getByLabel("Carte CPS").selectOption({ label: "Dr Alain GENE (N°AM 991101197)" });
      await page.getByLabel("Code PIN").fill("1234");
      await page.getByRole("button", { name: "Se connecter" }).click();
      await page.waitForURL((u) => u.pathname === "/ps");
      await page.goto("/ps/messages");
      const count = async () => Number(/\((\d+)\)/.exec(await page.locator("#list-title").innerText())?.[1]);
      const before = await count();
      await markFromThread(page, thread.id, thread.subject, "/ps/messages");
      expect(await count()).toBe(before + 1);
      expect(errors).toEqual([]);
      await page.close();
    });
  });
}
