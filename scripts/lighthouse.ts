/**
 * `npm run lighthouse`: Lighthouse 12.8.2 (the last line for Node 20) on the main pages of issue 5, in Debian's
 * Chromium, mobile preset with its default (simulated) throttling — a slow machine on a slow link.
 *
 * The app runs in this process on a temporary demo database (NODE_ENV=production: cached templates, no stack
 * traces); a doctor and an agent sign in over HTTP and Lighthouse gets their session cookie as an extra header.
 * Lighthouse is not a dependency of the project: it is fetched by `npx --yes lighthouse@12.8.2`.
 * Reports (JSON + HTML) go to reports/lighthouse/ (git-ignored); a table of scores is printed, with the audits
 * that cost points. Exits 1 when a page is below target: performance ≥ 98, accessibility 100, best practices 100.
 *
 * Environment: CHROME_PATH (default /usr/bin/chromium), LIGHTHOUSE_PAGES (comma-separated names, to run a few).
 */
import { spawn } from "node:child_process";
import fs from "node:fs";
import type { AddressInfo } from "node:net";
import os from "node:os";
import path from "node:path";
import { fileURLToPath } from "node:url";
import { loadConfig } from "../src/config.js";
import { buildRuntime, prepareDatabase } from "../src/runtime.js";

const LIGHTHOUSE = "lighthouse@12.8.2";
const TARGETS = { performance: 98, accessibility: 100, "best-practices": 100 } as const;
type Category = keyof typeof TARGETS;
const CATEGORIES = Object.keys(TARGETS) as Category[];
const CHROME_FLAGS = [
  "--headless",
  "--no-sandbox",
  "--disable-gpu",
  "--disable-quic",
  "--no-first-run",
  "--disable-background-networking",
  "--disable-component-update",
  "--disable-sync",
].join(" ");

const root = path.join(path.dirname(fileURLToPath(import.meta.url)), "..");
const outDir = path.join(root, "reports", "lighthouse");

type Page = { name: string; label: string; url: string; cookie: string };
type Report = {
  categories: Record<string, { score: number | null; auditRefs: { id: string; weight: number }[] }>;
  audits: Record<string, { id: string; title: string; score: number | null; scoreDisplayMode: string; displayValue?: string }>;
  runWarnings?: string[];
};

/** A tiny cookie-keeping client for the sign-in steps (form posts, CSRF token, Post/Redirect/Get). */
function client(base: string) {
  let cookie = "";
  const keep = (res: Response) => {
    for (const c of res.headers.getSetCookie()) if (/^(__Host-)?ems\.sid=/.test(c)) cookie = c.split(";")[0]!;
    return res;
  };
  const token = (html: string) => {
    const m = /name="_csrf" value="([^"]+)"|name="csrf-token" content="([^"]+)"/.exec(html);
    if (!m) throw new Error("no CSRF token on the page");
    return (m[1] ?? m[2])!;
  };
  return {
    get cookie() {
      return cookie;
    },
    async page(url: string): Promise<string> {
      const res = keep(await fetch(base + url, { headers: { cookie }, redirect: "manual" }));
      if (res.status !== 200) throw new Error(`GET ${url}: ${res.status}`);
      return res.text();
    },
    async post(url: string, from: string, form: Record<string, string>): Promise<void> {
      const body = new URLSearchParams({ _csrf: token(from), ...form });
      const res = keep(await fetch(base + url, { method: "POST", headers: { cookie, "content-type": "application/x-www-form-urlencoded" }, body, redirect: "manual" }));
      if (res.status !== 303) throw new Error(`POST ${url}: ${res.status} (expected a 303 redirect)`);
    },
  };
}

function run(command: string, args: string[], env: NodeJS.ProcessEnv): Promise<{ code: number; output: string }> {
  return new Promise((resolve, reject) => {
    // Asynchronous on purpose: the app answering Lighthouse lives in this very process.
    const child = spawn(command, args, { env, stdio: ["ignore", "pipe", "pipe"] });
    let output = "";
    child.stdout.on("data", (d: Buffer) => {
      output += d.toString();
    });
    child.stderr.on("data", (d: Buffer) => {
      output += d.toString();
    });
    child.on("error", reject);
    child.on("close", (code) => resolve({ code: code ?? 1, output }));
  });
}

async function lighthouse(page: Page, base: string): Promise<Report> {
  const prefix = path.join(outDir, page.name);
  const args = [
    "--yes",
    LIGHTHOUSE,
    base + page.url,
    `--chrome-flags=${CHROME_FLAGS}`,
    `--only-categories=${CATEGORIES.join(",")}`,
    "--output=json",
    "--output=html",
    `--output-path=${prefix}`,
    "--quiet",
  ];
  if (page.cookie) args.push(`--extra-headers=${JSON.stringify({ Cookie: page.cookie })}`);
  const env = { ...process.env, CHROME_PATH: process.env.CHROME_PATH ?? "/usr/bin/chromium" };
  const json = `${prefix}.report.json`;
  // Lighthouse sometimes loses the trace of a load on a busy machine (NO_NAVSTART, NO_FCP…): try again.
  for (let attempt = 1; ; attempt++) {
    fs.rmSync(json, { force: true });
    fs.rmSync(`${prefix}.report.html`, { force: true });
    const { code, output } = await run("npx", args, env);
    if (code === 0 && fs.existsSync(json)) return JSON.parse(fs.readFileSync(json, "utf8")) as Report;
    if (attempt === 3) throw new Error(`Lighthouse failed on ${page.url} (exit ${code}):\n${output}`);
    process.stderr.write(`  Lighthouse failed (${output.trim().split("\n").pop()}), trying again…\n`);
  }
}

/** The audits that cost points in a category (score below 1 and a weight), most expensive first. */
function losses(report: Report, category: Category): string[] {
  const cat = report.categories[category];
  if (!cat) return [];
  return cat.auditRefs
    .map((ref) => ({ ref, audit: report.audits[ref.id]! }))
    .filter(({ ref, audit }) => audit && audit.score !== null && audit.score < 1 && (ref.weight > 0 || audit.scoreDisplayMode === "binary"))
    .sort((a, b) => b.ref.weight * (1 - (b.audit.score ?? 0)) - a.ref.weight * (1 - (a.audit.score ?? 0)))
    .map(({ audit }) => `${audit.id} (${Math.round((audit.score ?? 0) * 100)}${audit.displayValue ? `, ${audit.displayValue}` : ""}): ${audit.title}`);
}

async function main() {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), "ems-lighthouse-"));
  // Plain http on 127.0.0.1: no Secure cookie (production's default), which would also turn on HSTS.
  const runtime = buildRuntime(
    loadConfig({ ...process.env, NODE_ENV: "production", DATA_DIR: dir, SESSION_SECRET: "lighthouse-secret-0123456789abcdef", LOG_LEVEL: "silent", COOKIE_SECURE: "false" }),
  );
  await prepareDatabase(runtime.db);
  const server = runtime.app.listen(0, "127.0.0.1");
  await new Promise((resolve) => server.once("listening", resolve));
  const base = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  fs.mkdirSync(outDir, { recursive: true });

  try {
    // The doctor: Dr GENE, with a patient selected (the compose form needs one).
    const doctor = client(base);
    const gene = await runtime.db("practitioners").where({ nam: "991101197" }).first("id");
    await doctor.post("/ps/login", await doctor.page("/ps/login"), { card: String(gene.id), pin: "1234" });
    await doctor.post("/ps/patient/nir", await doctor.page("/ps/patient"), { nir: "1620369387222", key: "46" });
    const thread = await runtime.db("conversations").where({ subject: "Arrêt de travail durée maxi" }).first("id");

    // The agent: Anna AIN.
    const agent = client(base);
    const anna = await runtime.db("agents").where({ last_name: "AIN" }).first("id");
    await agent.post("/bo/login", await agent.page("/bo/login"), { agent: String(anna.id) });

    const pages: Page[] = [
      { name: "connexion", label: "Connexion CPS", url: "/ps/login", cookie: "" },
      { name: "liste", label: "Liste du médecin", url: "/ps/messages", cookie: doctor.cookie },
      { name: "fil", label: "Fil de discussion", url: `/ps/conversations/${thread.id}`, cookie: doctor.cookie },
      { name: "redaction", label: "Rédaction", url: "/ps/conversations/new", cookie: doctor.cookie },
      { name: "bannette-a-traiter", label: "Bannette A TRAITER", url: "/bo/bannettes/a-traiter", cookie: agent.cookie },
      { name: "bannette-en-cours", label: "Bannette EN COURS", url: "/bo/bannettes/en-cours", cookie: agent.cookie },
      { name: "bannette-clos", label: "Bannette CLOS", url: "/bo/bannettes/clos", cookie: agent.cookie },
    ];
    const only = process.env.LIGHTHOUSE_PAGES?.split(",")
      .map((s) => s.trim())
      .filter(Boolean);
    const chosen = only?.length ? pages.filter((p) => only.includes(p.name)) : pages;

    const rows: string[] = [];
    const problems: string[] = [];
    for (const page of chosen) {
      process.stderr.write(`Lighthouse: ${page.label} (${page.url})…\n`);
      const report = await lighthouse(page, base);
      const scores = CATEGORIES.map((c) => Math.round((report.categories[c]?.score ?? 0) * 100));
      rows.push(`| ${page.label} | ${page.url} | ${scores.join(" | ")} |`);
      CATEGORIES.forEach((c, i) => {
        if (scores[i]! < TARGETS[c]) problems.push(`${page.label}: ${c} ${scores[i]} < ${TARGETS[c]}\n    ${losses(report, c).join("\n    ")}`);
      });
      for (const w of report.runWarnings ?? []) process.stderr.write(`  warning: ${w}\n`);
    }

    console.log(`\nLighthouse ${LIGHTHOUSE.split("@")[1]}, mobile, simulated throttling — reports in ${path.relative(root, outDir)}/\n`);
    console.log("| page | URL | performance | accessibility | best practices |");
    console.log("|---|---|---|---|---|");
    for (const r of rows) console.log(r);
    if (problems.length) {
      console.error(
        `\nBelow target (performance ≥ ${TARGETS.performance}, accessibility ${TARGETS.accessibility}, best practices ${TARGETS["best-practices"]}):\n- ${problems.join("\n- ")}`,
      );
      process.exitCode = 1;
    } else {
      console.log(`\nEvery page meets its targets (performance ≥ ${TARGETS.performance}, accessibility ${TARGETS.accessibility}, best practices ${TARGETS["best-practices"]}).`);
    }
  } finally {
    server.closeAllConnections();
    server.close();
    await runtime.db.destroy();
    fs.rmSync(dir, { recursive: true, force: true });
  }
}

await main();
