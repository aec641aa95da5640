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
 * Issue 14 §5 in a real browser: the échelon's « Tableau de bord », reached from the banner, with and without
 * JavaScript — axe 0, each chart an image with an accessible name, its bars the same figures as the table below it.
 * A screenshot goes to reports/screens/dashboard-<js|nojs>.png (its path is printed).
 */
const here = path.dirname(fileURLToPath(import.meta.url));
const screensDir = path.join(here, "..", "..", "reports", "screens");
const HOUR = 3_600_000;

let browser: Browser;
beforeAll(async () => {
  browser = await launchBrowser();
  fs.mkdirSync(screensDir, { recursive: true });
});
afterAll(async () => {
  await browser?.close();
});

/** Six questions from Dr GENE this week, four answered by the échelon after 2, 4, 6 and 30 hours; two from earlier weeks. */
async function someWork(app: RunningApp) {
  const gene = await app.db("practitioners").where({ nam: "991101197" }).first();
  const actor = { kind: "ps" as const, practitionerId: gene.id, structureId: null, displayName: "Dr Alain GENE" };
  const [guillaume] = await patientsByNir(app.db, "1700469387111");
  const ids: number[] = [];
  for (let i = 1; i <= 8; i++) {
    const outcome = await submitCompose(
      { db: app.db, storage: app.storage },
      { actor, ip: "127.0.0.1" },
      { kind: "ps-new", patient: guillaume! },
      {
        action: "send",
        subject: `Question du tableau n° ${i}`,
        body: "Bonjour.",
        submissionKey: crypto.randomBytes(16).toString("hex"),
        draft: null,
        removeAttachmentIds: [],
        files: [],
      },
    );
    if (outcome.status !== "sent") throw new Error("not sent");
    ids.push(outcome.conversationId);
  }
  const now = Date.now();
  const answers = [2, 4, 6, 30];
  for (const [i, id] of ids.entries()) {
    const created = i < 6 ? new Date(now - 60_000 * (i + 1)) : new Date(now - (i - 4) * 7 * 24 * HOUR);
    await app
      .db("conversations")
      .where({ id })
      .update({ created_at: created.toISOString(), first_answer_at: answers[i] === undefined ? null : new Date(created.getTime() + answers[i]! * HOUR).toISOString() });
  }
}

for (const javaScriptEnabled of [true, false]) {
  describe(`the Tableau de bord ${javaScriptEnabled ? "with JavaScript" : "without JavaScript"}`, () => {
    let app: RunningApp;
    let context: BrowserContext;
    let page: Page;
    let errors: string[];

    beforeAll(async () => {
      app = await startServer();
      await someWork(app);
      context = await newContext(browser, app, { javaScriptEnabled, viewport: { width: 1280, height: 900 } });
      page = await context.newPage();
      errors = watchErrors(page);
      await signInAgent(page);
    });
    afterAll(async () => {
      await context?.close();
      await app?.close();
    });

    it("opens from the banner; each chart is an image named by its title, and its bars are the table's figures (axe 0)", async () => {
      await page.getByRole("link", { name: "Tableau de bord" }).click();
      await page.locator("h1", { hasText: "Tableau de bord" }).waitFor();
      const file = path.join(screensDir, `dashboard-${javaScriptEnabled ? "js" : "nojs"}.png`);
      // The workspace scrolls inside its panes: a tall window shows the whole dashboard (charts and tables) at once.
      await page.setViewportSize({ width: 1280, height: 2400 });
      await page.screenshot({ path: file, fullPage: true });
      await page.setViewportSize({ width: 1280, height: 900 });
      console.log(`screenshot: ${file}`);
      expect(formatViolations(await axe(page))).toBe("");
      expect(await page.getByRole("img", { name: "Questions reçues par semaine" }).count()).toBe(1);
      expect(await page.getByRole("img", { name: "Délai de première réponse par semaine, en heures" }).count()).toBe(1);

      const figures = await page.evaluate(() => {
        const rows = (id: string) => [...document.querySelectorAll(`#${id} tbody tr`)].map((tr) => [...tr.children].map((c) => c.textContent!.trim()));
        const bars = (id: string) => [...document.querySelectorAll(`#${id} rect title`)].map((t) => t.textContent!.trim());
        return { questions: rows("table-questions"), delays: rows("table-delays"), questionBars: bars("chart-questions"), delayBars: bars("chart-delays") };
      });
      expect(figures.questions).toHaveLength(26);
      // One bar per week, each saying the table's number.
      expect(figures.questionBars).toEqual(figures.questions.map(([week, n]) => `${week} — Questions reçues : ${n} questions`));
      expect(figures.questions[25]!.slice(1)).toEqual(["6", "4"]);
      // Median of 2, 4, 6, 30 = the 2nd (4 h); 90th percentile = the 4th (30 h).
      expect(figures.delays[25]!.slice(1)).toEqual(["4", "30"]);
      const expectedDelayBars = figures.delays.flatMap(([week, median, p90]) =>
        median === "—" ? [] : [`${week} — Délai médian : ${median} heures`, `${week} — 90e centile : ${p90} heures`],
      );
      expect(figures.delayBars).toEqual(expectedDelayBars);
      // The bars' heights follow the figures: this week's is the tallest question bar.
      const heights = await page.locator("#chart-questions rect").evaluateAll((rects) => rects.map((r) => Number(r.getAttribute("height"))));
      expect(Math.max(...heights)).toBe(heights[heights.length - 1]);
    });

    it("another period is chosen from the list, kept in the URL and in the CSV link", async () => {
      await page.getByLabel("Période").selectOption("8");
      await page.getByRole("button", { name: "Afficher" }).click();
      await page.waitForURL((u) => u.searchParams.get("semaines") === "8");
      await expect.poll(() => page.locator("#table-questions tbody tr").count()).toBe(8);
      expect(await page.getByRole("link", { name: "Télécharger les chiffres (CSV)" }).getAttribute("href")).toBe("/bo/tableau-de-bord.csv?semaines=8");
      expect(formatViolations(await axe(page))).toBe("");
    });

    it("reported no script or CSP error", () => {
      expect(errors).toEqual([]);
    });
  });
}
