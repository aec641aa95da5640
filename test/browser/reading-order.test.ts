import fs from "node:fs";
import path from "node:path";
import { fileURLToPath } from "node:url";
import type { Browser, BrowserContext, Page } from "playwright-core";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { launchBrowser, newContext, signInAgent, startServer, watchErrors, type RunningApp } from "./helpers.js";

/**
 * Issue 12 §4, §5, §10: what a keyboard, a screen reader or forced colours meet on a thread page of both sides.
 * - §4 the Tab order is the screen's order: skip links, banner, the list column (left), the detail (right), footer;
 *   from the thread's heading the current tray tab is a few Shift+Tab away; the skip links reach the detail and the list.
 * - §5 the open conversation and the current tray tab are marked by more than a colour (a border of ≥ 3:1), and keep
 *   being marked in forced colours, where the pastilles keep their shape and the focus its outline.
 * - §10 upper case comes from CSS, not from the text a screen reader reads; "Retour" says where it goes; each message
 *   of a thread has a heading (author, date).
 * Forced-colours screenshots go to reports/screens/ (their paths are printed).
 */
const here = path.dirname(fileURLToPath(import.meta.url));
const screensDir = path.join(here, "..", "..", "reports", "screens");

let app: RunningApp;
let browser: Browser;
const contexts: BrowserContext[] = [];
beforeAll(async () => {
  app = await startServer();
  browser = await launchBrowser();
  fs.mkdirSync(screensDir, { recursive: true });
});
afterAll(async () => {
  for (const c of contexts) await c.close();
  await browser?.close();
  await app?.close();
});

async function open(javaScriptEnabled = true): Promise<Page> {
  const context = await newContext(browser, app, { javaScriptEnabled });
  contexts.push(context);
  return context.newPage();
}

async function signInPs(page: Page) {
  await page.goto("/ps/login");
  await page.getByLabel("Carte CPS").selectOption({ label: "Dr Alain GENE (N°AM 991101197)" });
  await page.getByLabel("Code PIN").fill("1234");
  await page.getByRole("button", { name: "Se connecter" }).click();
  await page.waitForURL((u) => u.pathname === "/ps");
}

const sides = [
  { side: "ps", signIn: signInPs, list: "/ps/messages" },
  { side: "bo", signIn: (page: Page) => signInAgent(page), list: "/bo/bannettes/a-traiter" },
] as const;

/** Signs in and opens the list's first conversation by its URL (a full page). */
async function openThread(page: Page, side: (typeof sides)[number]) {
  await side.signIn(page);
  await page.goto(side.list);
  const href = await page.locator("#list a.item-link[href*='/conversations/']").first().getAttribute("href");
  await page.goto(href!);
  await page.locator("#thread-title").waitFor();
}

/** The page region the focused element is in. */
function regionOfFocus(page: Page) {
  return page.evaluate(() => {
    const el = document.activeElement;
    if (!el || el === document.body) return "body";
    if (el.matches(".skip-link")) return "skip links";
    if (el.closest("header.banner")) return "banner";
    if (el.closest(".sidebar")) return "list column";
    if (el.closest("#detail")) return "detail";
    if (el.closest("footer")) return "footer";
    return `elsewhere: ${el.tagName}`;
  });
}

function luminance(rgb: string): number {
  const [r, g, b] = (rgb.match(/\d+(\.\d+)?/g) ?? []).slice(0, 3).map((v) => {
    const c = Number(v) / 255;
    return c <= 0.03928 ? c / 12.92 : ((c + 0.055) / 1.055) ** 2.4;
  });
  return 0.2126 * r! + 0.7152 * g! + 0.0722 * b!;
}
function contrast(a: string, b: string): number {
  const [hi, lo] = [luminance(a), luminance(b)].sort((x, y) => y - x);
  return (hi! + 0.05) / (lo! + 0.05);
}

/** The computed styles that tell an element apart without colour, and its colours. */
function styleOf(page: Page, selector: string) {
  return page
    .locator(selector)
    .first()
    .evaluate((el) => {
      const cs = getComputedStyle(el);
      return {
        borderLeft: `${cs.borderLeftStyle} ${cs.borderLeftWidth} ${cs.borderLeftColor}`,
        borderLeftWidth: parseFloat(cs.borderLeftWidth),
        borderLeftStyle: cs.borderLeftStyle,
        borderLeftColor: cs.borderLeftColor,
        border: `${cs.borderTopStyle} ${cs.borderTopWidth} ${cs.borderTopColor}`,
        borderWidth: parseFloat(cs.borderTopWidth),
        borderStyle: cs.borderTopStyle,
        borderColor: cs.borderTopColor,
        background: cs.backgroundColor,
        color: cs.color,
        textDecoration: cs.textDecorationLine,
      };
    });
}

describe("§4 the focus order follows the screen's order (desk layout, 1280 px)", () => {
  for (const side of sides) {
    for (const js of [true, false]) {
      it(`${side.side} thread page, JavaScript ${js ? "on" : "off"}: skip links → banner → list column → detail → footer`, async () => {
        const page = await open(js);
        const errors = watchErrors(page);
        await openThread(page, side);
        // The list column is on the left of the detail.
        const [sidebarLeft, detailLeft] = await page.evaluate(() => [
          document.querySelector(".sidebar")!.getBoundingClientRect().left,
          document.querySelector("#detail")!.getBoundingClientRect().left,
        ]);
        expect(sidebarLeft).toBeLessThan(detailLeft);

        await page.evaluate(() => (document.activeElement as HTMLElement | null)?.blur());
        const regions: string[] = [];
        for (let i = 0; i < 120; i++) {
          await page.keyboard.press("Tab");
          const region = await regionOfFocus(page);
          if (region === "body") break;
          if (regions[regions.length - 1] !== region) regions.push(region);
          if (region === "footer" && regions.length > 4) break;
        }
        expect(regions).toEqual(["skip links", "banner", "list column", "detail", "footer"]);
        expect(errors).toEqual([]);
      });
    }
  }

  it("bo: from the thread's heading, the current tray tab (A TRAITER) is a few Shift+Tab away", async () => {
    const page = await open();
    await openThread(page, sides[1]);
    const rows = await page.locator("#list a.item-link").count();
    await page.locator("#thread-title").focus();
    let presses = 0;
    for (; presses < 40; presses++) {
      if (await page.evaluate(() => document.activeElement?.matches("nav[aria-label='Bannettes'] a[aria-current]"))) break;
      await page.keyboard.press("Shift+Tab");
    }
    // Back over the list's rows, the pager, the search and the tray view's panels: not over the banner and the page.
    expect(presses).toBeLessThanOrEqual(rows + 5);
    expect(await page.evaluate(() => document.activeElement?.textContent?.trim().toUpperCase())).toMatch(/^A TRAITER/);
  });

  for (const side of sides) {
    it(`${side.side}: "Aller au contenu" reaches the detail, "Aller à la liste" the list`, async () => {
      const page = await open();
      await openThread(page, side);
      await page.evaluate(() => (document.activeElement as HTMLElement | null)?.blur());
      await page.keyboard.press("Tab");
      expect(await page.evaluate(() => document.activeElement?.textContent)).toBe("Aller au contenu");
      await page.keyboard.press("Enter");
      expect(await page.evaluate(() => document.activeElement?.id)).toBe("detail");
      await page.keyboard.press("Tab");
      expect(await regionOfFocus(page)).toBe("detail");

      await page.getByRole("link", { name: "Aller à la liste" }).focus();
      await page.keyboard.press("Enter");
      expect(await page.evaluate(() => document.activeElement?.id)).toBe("list");
      await page.keyboard.press("Tab");
      expect(await page.evaluate(() => document.activeElement?.closest("#list") !== null)).toBe(true);
    });
  }

  it("ps, htmx: the skip links follow the page swapped in (Services patient → the list → a thread)", async () => {
    const page = await open();
    await signInPs(page);
    const skips = () => page.locator("body > a.skip-link").evaluateAll((els) => els.map((el) => `${el.getAttribute("href")}${(el as HTMLElement).hidden ? " hidden" : ""}`));
    expect(await skips()).toEqual(["#main", "#list hidden"]);
    await page.getByRole("link", { name: /Contacter/ }).click();
    await page.waitForURL((u) => u.pathname === "/ps/messages");
    await expect.poll(skips).toEqual(["#detail", "#list"]);
    await page.locator("#list a.item-link[href*='/conversations/']").first().click();
    await page.locator("#thread-title").waitFor();
    expect(await skips()).toEqual(["#detail", "#list"]);
    expect(await page.evaluate(() => (window as unknown as { htmx?: unknown }).htmx !== undefined)).toBe(true);
  });
});

describe("§5 current-state indicators", () => {
  it("the open conversation has a left border of at least 3:1 against the row and the column; the other rows do not", async () => {
    const page = await open();
    await openThread(page, sides[1]);
    const current = await styleOf(page, "#list a.item-link[aria-current]");
    const other = await styleOf(page, "#list a.item-link:not([aria-current])");
    expect(current.borderLeftStyle).toBe("solid");
    expect(current.borderLeftWidth).toBeGreaterThanOrEqual(3);
    expect(contrast(current.borderLeftColor, current.background)).toBeGreaterThanOrEqual(3);
    expect(contrast(current.borderLeftColor, "rgb(255, 255, 255)")).toBeGreaterThanOrEqual(3);
    expect(other.borderLeft).not.toBe(current.borderLeft);
  });

  for (const side of sides) {
    it(`${side.side}, forced colours: the current row${side.side === "bo" ? " and tray tab" : ""} stand out, pastilles keep a border, the focus an outline`, async () => {
      const page = await open();
      await openThread(page, side);
      await page.emulateMedia({ forcedColors: "active" });
      expect(await page.evaluate(() => matchMedia("(forced-colors: active)").matches)).toBe(true);

      const current = await styleOf(page, "#list a.item-link[aria-current]");
      const other = await styleOf(page, "#list a.item-link:not([aria-current])");
      expect(current.borderLeftStyle).toBe("solid");
      expect(current.borderLeftWidth).toBeGreaterThanOrEqual(3);
      expect(`${current.borderLeft} ${current.background}`).not.toBe(`${other.borderLeft} ${other.background}`);

      const badge = await styleOf(page, "#list .badge");
      expect(["solid", "double"]).toContain(badge.borderStyle);
      expect(badge.borderWidth).toBeGreaterThanOrEqual(1);
      expect(badge.borderColor).not.toBe(badge.background);

      if (side.side === "bo") {
        const tab = await styleOf(page, "nav[aria-label='Bannettes'] a[aria-current]");
        const otherTab = await styleOf(page, "nav[aria-label='Bannettes'] a:not([aria-current])");
        expect(tab.borderWidth).toBeGreaterThan(otherTab.borderWidth);
        expect(`${tab.background} ${tab.color}`).not.toBe(`${otherTab.background} ${otherTab.color}`);
      }

      await page.locator("#list a.item-link").first().focus();
      await page.keyboard.press("Shift+Tab");
      await page.keyboard.press("Tab");
      const outline = await page.evaluate(() => {
        const cs = getComputedStyle(document.activeElement!);
        return { style: cs.outlineStyle, width: parseFloat(cs.outlineWidth), visible: document.activeElement!.matches(":focus-visible") };
      });
      expect(outline.visible).toBe(true);
      expect(outline.style).not.toBe("none");
      expect(outline.width).toBeGreaterThanOrEqual(2);

      const file = path.join(screensDir, `forced-colors-${side.side}-thread.png`);
      await page.screenshot({ path: file, fullPage: true });
      console.log(`forced colours, ${side.side} thread: ${file}`);

      if (side.side === "bo") {
        // The [Lu] and [Brouillon] tags are framed too: a tray that shows one.
        for (const tray of ["en-cours", "clos", "a-traiter"]) {
          await page.goto(`/bo/bannettes/${tray}`);
          if (await page.locator("#list .tag").count()) break;
        }
        const tag = await styleOf(page, "#list .tag");
        expect(tag.borderStyle).toBe("solid");
        expect(tag.borderWidth).toBeGreaterThanOrEqual(1);
      }
    });
  }
});

describe("§10 text: upper case by CSS, Retour says where, messages have headings", () => {
  /** Elements whose text a screen reader reads (textContent) must not be all capitals, while the screen (innerText) is. */
  async function caps(page: Page, selector: string) {
    return page
      .locator(selector)
      .evaluateAll((els) => els.map((el) => ({ text: (el.textContent ?? "").replace(/\s+/g, " ").trim(), shown: (el as HTMLElement).innerText.replace(/\s+/g, " ").trim() })));
  }
  const allCaps = (s: string) => /\p{Lu}{2}/u.test(s) && s === s.toUpperCase();

  for (const side of sides) {
    it(`${side.side} thread page: subject and buttons upper-cased on screen only; "Retour à la liste"; a heading per message`, async () => {
      const page = await open();
      await openThread(page, side);
      const pieces = [
        ...(await caps(page, "#thread-title")),
        ...(await caps(page, ".thread-actions .button")),
        ...(await caps(page, ".sidebar .ask .button")),
        ...(side.side === "bo" ? await caps(page, "#list .item-subject") : []),
      ];
      expect(pieces.length).toBeGreaterThan(3);
      for (const p of pieces) {
        expect(allCaps(p.text), `"${p.text}" is upper case in the HTML`).toBe(false);
        expect(p.shown, `"${p.text}" is shown upper-cased`).toBe(p.shown.toUpperCase());
      }
      expect(await page.locator("#detail").getByRole("link", { name: "Retour à la liste", exact: true }).count()).toBe(1);
      expect(await page.getByText("RETOUR", { exact: true }).count()).toBe(0);

      const messages = await page.locator(".messages > li").count();
      const headings = await page.locator(".messages").getByRole("heading", { level: 2 }).allTextContents();
      expect(headings).toHaveLength(messages);
      for (const h of headings) expect(h).toMatch(/\d{2}\/\d{2}\/\d{4}/);
      if (side.side === "ps") expect(headings.join(" ")).toMatch(/Dr Alain GENE|ELSM/);
    });

    it(`${side.side} reply page: "Retour à la conversation", ENVOYER upper-cased by CSS`, async () => {
      const page = await open();
      await openThread(page, side);
      const thread = new URL(page.url()).pathname;
      await page.goto(`${thread}/reply`);
      const back = page.getByRole("link", { name: "Retour à la conversation", exact: true });
      expect(await back.getAttribute("href")).toBe(thread);
      const buttons = await caps(page, "#detail .buttons .button");
      expect(buttons.map((b) => b.shown)).toEqual(["RETOUR À LA CONVERSATION", "ENREGISTRER COMME BROUILLON", "ENVOYER"]);
      for (const b of buttons) expect(allCaps(b.text), `"${b.text}" is upper case in the HTML`).toBe(false);
    });
  }
});
