import type { Browser, BrowserContext, Page } from "playwright-core";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { axe, formatViolations, launchBrowser, newContext, signInAgent, startServer, watchErrors, type RunningApp } from "./helpers.js";

/**
 * Issue 10 §19 in a browser, with JavaScript (htmx swaps the page in place) and without (plain GET form and links):
 * the tray's order and filters are chosen in its small form, shown in the URL and the heading, kept by the tabs,
 * and the page passes axe.
 */
let browser: Browser;
beforeAll(async () => {
  browser = await launchBrowser();
});
afterAll(async () => {
  await browser?.close();
});

for (const javaScriptEnabled of [true, false]) {
  describe(`a tray's order and filters ${javaScriptEnabled ? "with JavaScript" : "without JavaScript"}`, () => {
    let app: RunningApp;
    let context: BrowserContext;
    let page: Page;
    let errors: string[];

    beforeAll(async () => {
      app = await startServer();
      context = await newContext(browser, app, { javaScriptEnabled });
      page = await context.newPage();
      errors = watchErrors(page);
      await signInAgent(page);
    });
    afterAll(async () => {
      await context?.close();
      await app?.close();
    });

    it("the tab reads its unread threads as a sentence", async () => {
      const tab = page.locator("nav[aria-label='Bannettes']").getByRole("link", { name: /^A TRAITER : \d+ échanges?, dont \d+ non lus?$/ });
      expect(await tab.count()).toBe(1);
    });

    it("the form is folded under « Trier et filtrer » while the tray is shown as it comes; its controls are at least 24×24 px (WCAG 2.5.8)", async () => {
      const panel = page.locator("details.tray-view-panel");
      expect(await panel.getAttribute("open")).toBeNull();
      expect(await page.getByLabel("Ordre").isVisible()).toBe(false);
      await panel.locator("summary").click();
      await page.getByLabel("Ordre").waitFor();
      const small = await page.locator("form.tray-view").evaluate((form) =>
        [...form.querySelectorAll("a, button, input, select")]
          .map((el) => ({ el: `${el.tagName} ${el.getAttribute("name") ?? el.textContent}`, r: el.getBoundingClientRect() }))
          .filter(({ r }) => r.width < 24 || r.height < 24)
          .map(({ el }) => el),
      );
      expect(small).toEqual([]);
    });

    it("choosing unread only and oldest first shows them in the URL and the heading, and the tabs keep them", async () => {
      await page.getByLabel("Ordre").selectOption("anciennes");
      await page.getByLabel("Non lus seulement").check();
      await page.getByRole("button", { name: "Afficher" }).click();
      await page.locator("#list-title", { hasText: "non lus" }).waitFor();
      const url = new URL(page.url());
      expect(url.pathname).toBe("/bo/bannettes/a-traiter");
      expect(Object.fromEntries(url.searchParams)).toEqual({ ordre: "anciennes", patient: "tous", non_lus: "1", attribution: "tous" });
      expect(await page.locator("#list-title").innerText()).toMatch(/^A TRAITER — non lus \(\d+\)$/);
      expect(await page.locator("#list .item.unread").count()).toBe(await page.locator("#list .item").count());
      const violations = await axe(page);
      expect(violations, formatViolations(violations)).toEqual([]);

      await page.locator("nav[aria-label='Bannettes']").getByRole("link", { name: /^CLOS/ }).click();
      await page.locator("#list-title", { hasText: "CLOS — non lus" }).waitFor();
      expect(await page.getByLabel("Ordre").inputValue()).toBe("anciennes");
      expect(await page.getByLabel("Non lus seulement").isChecked()).toBe(true);

      await page.getByRole("link", { name: "Effacer le tri et les filtres" }).click();
      await page.locator("#list-title", { hasText: /^CLOS \(\d+\)$/ }).waitFor();
      expect(new URL(page.url()).search).toBe("");
      expect(await page.locator("details.tray-view-panel").getAttribute("open"), "folded again once nothing is chosen").toBeNull();
      expect(errors).toEqual([]);
    });
  });
}
