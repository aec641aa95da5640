import type { Browser, BrowserContext, Page } from "playwright-core";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { axe, formatViolations, launchBrowser, newContext, signInAgent, startServer, watchErrors, type RunningApp } from "./helpers.js";

/** Issue 13 §1 in a real browser: Prendre, Attribuer à …, Libérer from the thread page, swapped in place with JavaScript, posted without it. */
let browser: Browser;
beforeAll(async () => {
  browser = await launchBrowser();
});
afterAll(async () => {
  await browser?.close();
});

for (const javaScriptEnabled of [true, false]) {
  describe(`assigning a thread ${javaScriptEnabled ? "with JavaScript (htmx swap)" : "without JavaScript (the forms posted)"}`, () => {
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
      await page.goto(`/bo/conversations/${threadId}`);
    });
    afterAll(async () => {
      await context?.close();
      await app?.close();
    });

    // The text, not as shown (the name is upper-cased by CSS, as the Rédacteur's).
    const holder = async () => ((await page.locator("#assignment-holder").textContent()) ?? "").replace(/\s+/g, " ").trim();

    it("Prendre, then Attribuer à a colleague, then Libérer: each said on the page, the focus on the holder's line (axe 0)", async () => {
      expect(await holder()).toBe("Non attribué : aucun agent ne suit ce fil.");
      expect(formatViolations(await axe(page))).toBe("");
      await page.evaluate(() => Object.assign(window, { sameDocument: true }));

      await page.getByRole("button", { name: "Prendre" }).click();
      await expect.poll(holder).toBe("Attribué à : Anna AIN (vous)");
      expect(await page.locator("main .notice").first().innerText()).toContain("Vous avez pris ce fil");
      await expect.poll(() => page.evaluate(() => document.activeElement?.id)).toBe("assignment-holder");
      // The tray beside it shows who holds the row.
      expect(await page.locator(`#list a[href="/bo/conversations/${threadId}"]`).innerText()).toContain("Attribué à : ANNA AIN");
      expect(formatViolations(await axe(page))).toBe("");

      // No colleague chosen: refused on the select, nothing changed.
      await page.getByRole("button", { name: "Attribuer", exact: true }).click();
      await expect.poll(() => page.locator("#assign-agent-error").count()).toBe(1);
      expect(await holder()).toBe("Attribué à : Anna AIN (vous)");
      expect(formatViolations(await axe(page))).toBe("");

      await page.getByRole("combobox", { name: "Attribuer à" }).selectOption({ label: "Marc DUBOIS" });
      await page.getByRole("button", { name: "Attribuer", exact: true }).click();
      await expect.poll(holder).toBe("Attribué à : Marc DUBOIS");
      await expect.poll(() => page.evaluate(() => document.activeElement?.id)).toBe("assignment-holder");

      await page.getByRole("button", { name: "Libérer" }).click();
      await expect.poll(holder).toBe("Non attribué : aucun agent ne suit ce fil.");
      expect(await page.evaluate(() => "sameDocument" in window)).toBe(javaScriptEnabled);
      expect(await app.db("conversations").where({ id: threadId }).first("assignee_agent_id")).toEqual({ assignee_agent_id: null });
      expect(formatViolations(await axe(page))).toBe("");
      // The empty choice is refused with a 422 on purpose.
      expect(errors.filter((e) => !/status of 422/.test(e))).toEqual([]);
    });

    it("the tray by holder: « Mes échanges » chosen under « Trier et filtrer » is kept in the URL", async () => {
      await page.getByRole("button", { name: "Prendre" }).click();
      await expect.poll(holder).toBe("Attribué à : Anna AIN (vous)");
      await page.locator("details.tray-view-panel summary").click();
      await page.getByRole("combobox", { name: "Attribution" }).selectOption({ label: "Mes échanges" });
      await page.getByRole("button", { name: "Afficher" }).click();
      await expect.poll(() => new URL(page.url()).search).toContain("attribution=moi");
      await expect.poll(() => page.locator("#list-title").innerText()).toMatch(/mes échanges \(1\)$/i);
      expect(await page.locator("#list li.item").count()).toBe(1);
      expect(formatViolations(await axe(page))).toBe("");
    });
  });
}
