import type { Browser, Page } from "playwright-core";
import { afterAll, beforeAll, expect, it } from "vitest";
import { launchBrowser, newContext, startServer, type RunningApp } from "./helpers.js";

/**
 * The error summary as a reader sees it: when an error wraps over several lines (a narrow window, a long message),
 * its bullet stays on the first line, beside the start of the message — not level with its last line.
 */
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

/** The rows of pixels (relative to the item's top) where the bullet left of the item is drawn. */
async function bulletRows(page: Page, decoder: Page): Promise<{ rows: number[]; lineHeight: number; height: number }> {
  const item = page.locator(".error-summary li").first();
  const box = await item.evaluate((li) => {
    const r = li.getBoundingClientRect();
    const list = li.parentElement!.getBoundingClientRect();
    return { x: list.left, y: r.top, width: r.left - list.left, height: r.height, lineHeight: parseFloat(getComputedStyle(li).lineHeight) };
  });
  expect(box.width, "the bullets sit in the list's left padding").toBeGreaterThan(4);
  const png = await page.screenshot({ clip: { x: box.x, y: box.y, width: box.width, height: box.height } });
  // Chromium decodes its own screenshot: rows holding dark pixels are the bullet.
  const rows = await decoder.evaluate(async (data) => {
    const img = new Image();
    img.src = `data:image/png;base64,${data}`;
    await img.decode();
    const canvas = document.createElement("canvas");
    canvas.width = img.width;
    canvas.height = img.height;
    const ctx = canvas.getContext("2d")!;
    ctx.drawImage(img, 0, 0);
    const { data: px } = ctx.getImageData(0, 0, img.width, img.height);
    const dark: number[] = [];
    for (let y = 0; y < img.height; y++) {
      for (let x = 0; x < img.width; x++) {
        const i = (y * img.width + x) * 4;
        if (px[i] + px[i + 1] + px[i + 2] < 600) {
          dark.push(y);
          break;
        }
      }
    }
    return dark;
  }, png.toString("base64"));
  return { rows, lineHeight: box.lineHeight, height: box.height };
}

it("a wrapped error keeps its bullet on its first line, at 320 px wide and on a wide screen", async () => {
  const context = await newContext(browser, app, { javaScriptEnabled: false });
  const page = await context.newPage();
  const decoder = await context.newPage();
  await page.goto("/ps/login");
  await page.getByLabel("Carte CPS").selectOption({ label: "Dr Alain GENE (N°AM 991101197)" });
  await page.getByLabel("Code PIN").fill("0000");
  await page.getByRole("button", { name: "Se connecter" }).click();
  await page.locator(".error-summary li").first().waitFor();
  for (const width of [320, 1024]) {
    await page.setViewportSize({ width, height: 800 });
    // A message long enough to wrap at either width, in the app's own list, link and styles.
    await page
      .locator(".error-summary li a")
      .first()
      .evaluate((a, w) => {
        a.textContent = `Code PIN erroné : il vous reste 2 essais avant que la carte ne soit bloquée ${"— vérifiez le code inscrit sur le courrier de votre carte ".repeat(w > 600 ? 4 : 1)}`;
      }, width);
    const { rows, lineHeight, height } = await bulletRows(page, decoder);
    expect(height, `the message wraps at ${width} px`).toBeGreaterThan(lineHeight * 2);
    expect(rows.length, `a bullet is drawn at ${width} px`).toBeGreaterThan(0);
    expect(Math.max(...rows), `the bullet is on the first line at ${width} px (rows ${rows.join(",")}, line ${lineHeight}px)`).toBeLessThan(lineHeight + 6);
  }
  await context.close();
});
