import crypto from "node:crypto";
import fs from "node:fs";
import path from "node:path";
import { fileURLToPath } from "node:url";
import type { Browser, BrowserContext, Page } from "playwright-core";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { submitCompose } from "../../src/domain/conversations/compose.js";
import { patientsByNir } from "../../src/domain/directory/queries.js";
import { axe, formatViolations, launchBrowser, newContext, signInAgent, startServer, watchErrors, type RunningApp } from "./helpers.js";

/**
 * Issue 10, "a day's work on a hospital PC": the back office at 1024×768 and 1280×800, with JavaScript (htmx) and without.
 * - Opening a row keeps the banner (the agent's name, Se déconnecter) on screen and, with htmx, the list where it was;
 *   the focus goes to the new content's heading without scrolling the page top away.
 * - The tray is as dense as the manual's: at least 7 rows wholly visible under the tray tabs.
 * - After a search the panel folds to one line of criteria ("Modifier la recherche"): the tray stays near the top.
 * Screenshots of each state go to reports/screens/ (their paths are printed).
 */
const here = path.dirname(fileURLToPath(import.meta.url));
const screensDir = path.join(here, "..", "..", "reports", "screens");
const QUESTIONS = 14;

let browser: Browser;
beforeAll(async () => {
  browser = await launchBrowser();
  fs.mkdirSync(screensDir, { recursive: true });
});
afterAll(async () => {
  await browser?.close();
});

/** Dr GENE asks the échelon of Guillaume BUNYEL a few questions: A TRAITER then holds more rows than a screen shows. */
async function fillTray(app: RunningApp) {
  const gene = await app.db("practitioners").where({ nam: "991101197" }).first();
  const actor = { kind: "ps" as const, practitionerId: gene.id, structureId: null, displayName: "Dr Alain GENE" };
  const [guillaume] = await patientsByNir(app.db, "1700469387111");
  for (let i = 1; i <= QUESTIONS; i++) {
    const outcome = await submitCompose(
      { db: app.db, storage: app.storage },
      { actor, ip: "127.0.0.1" },
      { kind: "ps-new", patient: guillaume! },
      {
        action: "send",
        subject: `Question du jour n° ${i}`,
        body: "Bonjour,\nMerci de votre avis.",
        submissionKey: crypto.randomBytes(16).toString("hex"),
        draft: null,
        removeAttachmentIds: [],
        files: [],
      },
    );
    if (outcome.status !== "sent") throw new Error(`question not sent: ${JSON.stringify(outcome)}`);
  }
}

const screens = [
  { width: 1024, height: 768 },
  { width: 1280, height: 800 },
];

for (const javaScriptEnabled of [true, false]) {
  for (const viewport of screens) {
    const size = `${viewport.width}×${viewport.height}`;
    describe(`the back office on a ${size} screen ${javaScriptEnabled ? "with JavaScript (htmx)" : "without JavaScript"}`, () => {
      let app: RunningApp;
      let context: BrowserContext;
      let page: Page;
      let errors: string[];

      beforeAll(async () => {
        app = await startServer();
        await fillTray(app);
        context = await newContext(browser, app, { javaScriptEnabled, viewport });
        page = await context.newPage();
        errors = watchErrors(page);
        await signInAgent(page);
      });
      afterAll(async () => {
        await context?.close();
        await app?.close();
      });

      async function screenshot(name: string) {
        const file = path.join(screensDir, `${name}-${viewport.width}x${viewport.height}-${javaScriptEnabled ? "js" : "nojs"}.png`);
        await page.screenshot({ path: file });
        console.log(`screenshot: ${file}`);
      }

      /** The agent's name and Se déconnecter, wholly inside the window. */
      async function bannerOnScreen() {
        for (const el of [page.locator(".banner .who"), page.getByRole("button", { name: "Se déconnecter" })]) {
          const box = await el.boundingBox();
          expect(box, "the banner is on the page").not.toBeNull();
          expect(box!.y, "the banner is not scrolled away").toBeGreaterThanOrEqual(0);
          expect(box!.y + box!.height).toBeLessThanOrEqual(viewport.height);
        }
      }

      /** Rows of the tray list wholly visible: inside the window and the list column's visible part, under the tabs. */
      const visibleRows = () =>
        page.evaluate(() => {
          const column = document.querySelector(".sidebar")!.getBoundingClientRect();
          const tabs = document.querySelector(".tabs")!.getBoundingClientRect();
          const bottom = Math.min(window.innerHeight, column.bottom);
          return [...document.querySelectorAll("#list .item")].filter((row) => {
            const r = row.getBoundingClientRect();
            return r.height > 0 && r.top >= Math.max(0, tabs.bottom, column.top) && r.bottom <= bottom + 0.5;
          }).length;
        });

      it("shows at least 7 rows of the tray under the tray tabs, in readable text with targets of 24 px and more", async () => {
        expect(await page.locator("#list .item").count()).toBeGreaterThanOrEqual(QUESTIONS);
        await screenshot("tray");
        expect(await visibleRows()).toBeGreaterThanOrEqual(7);
        const sizes = await page.evaluate(() => ({
          line: parseFloat(getComputedStyle(document.querySelector("#list .item-line")!).fontSize),
          subject: parseFloat(getComputedStyle(document.querySelector("#list .item-title")!).fontSize),
          row: document.querySelector("#list .item-link")!.getBoundingClientRect().height,
        }));
        expect(sizes.line).toBeGreaterThanOrEqual(13);
        expect(sizes.subject).toBeGreaterThanOrEqual(14);
        expect(sizes.row).toBeGreaterThanOrEqual(24);
        await bannerOnScreen();
      });

      it("opens a row far down the list: the banner stays, the list stays where it was (htmx), the focus goes to the thread's heading", async () => {
        const rows = page.locator("#list .item-link");
        const row = rows.nth(10);
        const subject = (await row.locator(".item-subject").innerText()).trim();
        await row.scrollIntoViewIfNeeded();
        const before = await page.evaluate(() => ({ list: document.querySelector(".sidebar")!.scrollTop, page: window.scrollY }));
        expect(before.list, "the list column scrolled to reach the row").toBeGreaterThan(0);
        const rowTop = (await row.boundingBox())!.y;
        await page.evaluate(() => {
          (window as unknown as { __marker?: number }).__marker = 1;
        });
        await row.click();
        await page.locator("#detail h1", { hasText: subject }).waitFor();
        await page.waitForURL((u) => /^\/bo\/conversations\/\d+$/.test(u.pathname));
        await bannerOnScreen();
        expect(await page.evaluate(() => window.scrollY), "the page top is not scrolled away").toBe(0);
        if (javaScriptEnabled) {
          expect(await page.evaluate(() => (window as unknown as { __marker?: number }).__marker), "updated in place by htmx").toBe(1);
          await expect.poll(() => page.evaluate(() => document.activeElement?.matches("#detail h1") ?? false), { message: "focus on the thread's heading" }).toBe(true);
          const after = await page.evaluate(() => document.querySelector(".sidebar")!.scrollTop);
          expect(Math.abs(after - before.list), "the list column kept its scroll position").toBeLessThanOrEqual(2);
          const current = page.locator("#list .item-link[aria-current]");
          expect((await current.innerText()).toUpperCase()).toContain(subject.toUpperCase());
          expect(Math.abs((await current.boundingBox())!.y - rowTop), "the opened row did not move").toBeLessThanOrEqual(2);
        }
        // The thread's heading is on screen either way.
        const heading = (await page.locator("#detail h1").boundingBox())!;
        expect(heading.y).toBeGreaterThanOrEqual(0);
        expect(heading.y + heading.height).toBeLessThanOrEqual(viewport.height);
        await screenshot("thread-opened");
        const violations = await axe(page);
        expect(violations, formatViolations(violations)).toEqual([]);
      });

      it("after a search, folds the panel to a line of criteria, and the tray stays near the top", async () => {
        await page.locator("details.search summary").click();
        await page.locator("#s-patient-nir").fill("1700469387111");
        await page.getByRole("button", { name: "RECHERCHER" }).click();
        await page.locator("#search-results").waitFor();
        await page.waitForURL((u) => u.pathname === "/bo/recherche");
        expect(new URL(page.url()).search, "no criterion in the address").toBe("");
        await expect.poll(() => page.locator("#search-criteria").innerText()).toBe("Recherche : NIR 1700469387111");
        expect(await page.locator("details.search").getAttribute("open")).toBeNull();
        const tabs = (await page.locator(".tabs").boundingBox())!;
        expect(tabs.y, "the tray tabs near the top").toBeLessThan(400);
        const firstRow = (await page.locator("#list .item").first().boundingBox())!;
        expect(firstRow.y + firstRow.height, "the tray's first row on screen").toBeLessThanOrEqual(viewport.height);
        expect(await visibleRows()).toBeGreaterThanOrEqual(5);
        await bannerOnScreen();
        await screenshot("after-search");
        const violations = await axe(page);
        expect(violations, formatViolations(violations)).toEqual([]);

        // "Modifier la recherche" opens the form again with what was typed.
        await page.getByText("Modifier la recherche").click();
        expect(await page.locator("details.search").getAttribute("open")).not.toBeNull();
        expect(await page.locator("#s-patient-nir").inputValue()).toBe("1700469387111");
        await screenshot("search-modify");
      });

      it("reported no script or CSP error", () => {
        expect(errors).toEqual([]);
      });
    });
  }
}
