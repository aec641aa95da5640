import fs from "node:fs";
import http from "node:http";
import type { AddressInfo } from "node:net";
import os from "node:os";
import path from "node:path";
import { createRequire } from "node:module";
import { chromium, type Browser, type BrowserContext, type Page } from "playwright-core";
import type { AxeResults, Result } from "axe-core";
import { afterAll, beforeAll } from "vitest";
import { loadConfig } from "../../src/config.js";
import { buildRuntime, prepareDatabase } from "../../src/runtime.js";

const require = createRequire(import.meta.url);

export type RunningApp = Awaited<ReturnType<typeof startServer>>;

/**
 * The real app, migrated and seeded on its own temporary DATA_DIR, listening on a random local port (`env`: more
 * settings; or a function of the app's own address, for settings that name it: PUBLIC_URL, a provider's callback).
 */
export async function startServer(env: Record<string, string> | ((baseUrl: string) => Promise<Record<string, string>>) = {}) {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), "ems-browser-"));
  const server = http.createServer();
  await new Promise<void>((resolve, reject) => {
    server.once("error", reject);
    server.listen(0, "127.0.0.1", () => resolve());
  });
  const { port } = server.address() as AddressInfo;
  const baseUrl = `http://127.0.0.1:${port}`;
  const settings = typeof env === "function" ? await env(baseUrl) : env;
  const config = loadConfig({ ...settings, NODE_ENV: "test", DATA_DIR: dir, SESSION_SECRET: "browser-test-secret-0123456789" });
  const runtime = buildRuntime(config);
  await prepareDatabase(runtime.db);
  server.on("request", runtime.app);
  return {
    ...runtime,
    baseUrl,
    async close() {
      server.closeAllConnections();
      await new Promise<void>((resolve) => server.close(() => resolve()));
      await runtime.db.destroy();
      fs.rmSync(dir, { recursive: true, force: true });
    },
  };
}

/**
 * The browser and the app of a test file: started before its tests, closed after them with every context opened by
 * `context` (read `browser` and `app` inside tests and hooks, once started).
 */
export function browserSuite(env: Record<string, string> = {}) {
  const contexts: BrowserContext[] = [];
  const suite = {
    browser: undefined as unknown as Browser,
    app: undefined as unknown as RunningApp,
    async context(options: Parameters<typeof newContext>[2]): Promise<BrowserContext> {
      const context = await newContext(suite.browser, suite.app, options);
      contexts.push(context);
      return context;
    },
    /** The id of the seeded conversation with this subject. */
    async conversationOf(subject: string): Promise<number> {
      return (await suite.app.db("conversations").where({ subject }).first("id")).id as number;
    },
  };
  beforeAll(async () => {
    suite.browser = await launchBrowser();
    suite.app = await startServer(env);
  });
  afterAll(async () => {
    for (const c of contexts) await c.close();
    await suite.browser?.close();
    await suite.app?.close();
  });
  return suite;
}

/** Debian's Chromium (apt package `chromium`), or CHROME_PATH; flags that let it run headless as root in CI. */
export async function launchBrowser(): Promise<Browser> {
  return chromium.launch({
    executablePath: process.env.CHROME_PATH ?? "/usr/bin/chromium",
    args: ["--headless", "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run", "--disable-background-networking", "--disable-component-update", "--disable-sync"],
  });
}

/**
 * A fresh context (own cookies). `bypassCSP` lets the axe pass inject its script into pages that only
 * allow 'self' scripts; the strict CSP itself is checked by a context made with `bypassCSP: false`.
 */
export async function newContext(
  browser: Browser,
  app: RunningApp,
  options: { javaScriptEnabled: boolean; bypassCSP?: boolean; viewport?: { width: number; height: number } },
): Promise<BrowserContext> {
  const context = await browser.newContext({
    baseURL: app.baseUrl,
    javaScriptEnabled: options.javaScriptEnabled,
    bypassCSP: options.bypassCSP ?? true,
    locale: "fr-FR",
    timezoneId: "Europe/Paris",
    viewport: options.viewport ?? { width: 1280, height: 900 },
  });
  context.setDefaultTimeout(10_000);
  return context;
}

/**
 * A page whose clock is Playwright's fake one, signed in as `context` is. Its own context: a clock is installed on a
 * whole context, so fast-forwarding it on a page of the test's context would also open the session warning on the
 * test's other pages. Closing the page closes its context.
 */
export async function fakeClockPage(browser: Browser, app: RunningApp, context: BrowserContext): Promise<Page> {
  const own = await browser.newContext({
    baseURL: app.baseUrl,
    bypassCSP: true,
    locale: "fr-FR",
    timezoneId: "Europe/Paris",
    viewport: { width: 1280, height: 900 },
    storageState: await context.storageState(),
  });
  own.setDefaultTimeout(10_000);
  const page = await own.newPage();
  page.on("close", () => void own.close());
  await page.clock.install();
  return page;
}

/** Signs an agent in through the back-office login page; lands on their A TRAITER tray. */
export async function signInAgent(page: Page, agent = "Anna AIN — ELSM de l'AIN"): Promise<void> {
  await page.goto("/bo/login");
  await page.getByLabel("Agent").selectOption({ label: agent });
  await page.getByRole("button", { name: "Se connecter" }).click();
  await page.waitForURL((u) => u.pathname === "/bo/bannettes/a-traiter");
}

/** Problems a page reported by itself: uncaught errors and console errors (CSP refusals show up there). */
export function watchErrors(page: Page): string[] {
  const errors: string[] = [];
  page.on("pageerror", (err) => errors.push(`pageerror: ${err.message}`));
  page.on("console", (msg) => {
    if (msg.type() === "error") errors.push(`console: ${msg.text()}`);
  });
  return errors;
}

const axeSource = fs.readFileSync(require.resolve("axe-core/axe.min.js"), "utf8");
/** The axe-core rule tags the sweep runs (WCAG 2.0, 2.1, 2.2, A and AA); the audit record names them. */
export const TAGS = ["wcag2a", "wcag2aa", "wcag21aa", "wcag22aa"];

/**
 * Runs axe-core on the page as it is now (WCAG 2.2 A/AA rules) and returns the violations.
 * The script goes in as a tag (hence `bypassCSP` on the context). With JavaScript disabled a tag never runs
 * and timers never fire, but DevTools evaluation still works: the source is evaluated that way, with
 * setTimeout/requestAnimationFrame stood in by microtasks so axe's queue can finish (no page script runs there).
 */
export async function axe(page: Page): Promise<Result[]> {
  const hasAxe = () => page.evaluate(() => typeof (window as unknown as { axe?: unknown }).axe !== "undefined");
  if (!(await hasAxe())) {
    await page.addScriptTag({ content: axeSource });
    if (!(await hasAxe())) {
      await page.evaluate(() => {
        const w = window as unknown as Record<string, unknown>;
        w.setTimeout = (fn: () => void) => {
          void Promise.resolve().then(fn);
          return 0;
        };
        w.clearTimeout = () => undefined;
        w.requestAnimationFrame = (fn: (t: number) => void) => {
          void Promise.resolve().then(() => fn(performance.now()));
          return 0;
        };
      });
      await page.evaluate(`${axeSource}\n;0`);
    }
  }
  const results = (await page.evaluate(async (tags) => {
    const axeApi = (window as unknown as { axe: typeof import("axe-core") }).axe;
    return axeApi.run(document, { runOnly: { type: "tag", values: tags }, resultTypes: ["violations"] });
  }, TAGS)) as AxeResults;
  return results.violations;
}

/** Violations as a reader wants them in a failed test: rule, impact, help, and each offending node. */
export function formatViolations(violations: Result[]): string {
  return violations
    .map((v) =>
      [
        `[${v.impact ?? "?"}] ${v.id}: ${v.help} (${v.helpUrl})`,
        ...v.nodes.map((n) => `    ${n.target.join(" ")}\n      ${n.html.slice(0, 200)}\n      ${n.failureSummary?.replace(/\n/g, "\n      ") ?? ""}`),
      ].join("\n"),
    )
    .join("\n\n");
}
