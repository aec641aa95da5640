import type { Browser } from "playwright-core";
import { afterAll, beforeAll, expect, it } from "vitest";
import { launchBrowser, newContext, startServer, type RunningApp } from "./helpers.js";

/** A thread prints cleanly, to be filed in the medical record: no navigation, every message, the patient card, dates. */
let browser: Browser;
let app: RunningApp;
beforeAll(async () => {
  browser = await launchBrowser();
  app = await startServer();
});
afterAll(async () => {
  await browser?.close();
  await app?.close();
});

it("prints a thread without navigation, with the patient card, every message and its date", async () => {
  const context = await newContext(browser, app, { javaScriptEnabled: false });
  const page = await context.newPage();
  await page.goto("/ps/login");
  await page.getByLabel("Carte CPS").selectOption({ label: "Dr Alain GENE (N°AM 991101197)" });
  await page.getByLabel("Code PIN").fill("1234");
  await page.getByRole("button", { name: "Se connecter" }).click();
  const id = (await app.db("conversations").where({ subject: "Arrêt de travail durée maxi" }).first("id")).id;
  await page.goto(`/ps/conversations/${id}`);
  await page.emulateMedia({ media: "print" });
  const visible = (selector: string) => page.locator(selector).first().isVisible();
  for (const hidden of [".sidebar", ".banner .identity", ".thread-actions", "footer", ".skip-link"]) expect(await visible(hidden), hidden).toBe(false);
  for (const shown of ["#detail h1", ".patient-card", ".messages"]) expect(await visible(shown), shown).toBe(true);
  const text = await page.locator("#detail").innerText();
  expect(text).toContain("Guillaume BUNYEL");
  expect(text).toMatch(/mardi, 4\/12\/2018 10:05/);
  expect(await page.locator(".message").count()).toBe(2);
  const pdf = await page.pdf({ format: "A4" });
  expect(pdf.subarray(0, 4).toString()).toBe("%PDF");
  await context.close();
});
