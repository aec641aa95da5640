/**
 * `npm run budget`: the weight budgets of issue 5, measured over HTTP on a fresh demo instance.
 * First load of each main page (HTML + CSS + JS, gzip as served) ≤ 50 KB; each htmx fragment
 * ≤ 8 KB gzip; responses compressed; static assets content-hashed with a one-year cache; no fonts.
 * Exits 1 when a budget is exceeded.
 */
import fs from "node:fs";
import http from "node:http";
import type { AddressInfo } from "node:net";
import os from "node:os";
import path from "node:path";
import { loadConfig } from "../src/config.js";
import { buildRuntime, prepareDatabase } from "../src/runtime.js";

const FIRST_LOAD_BUDGET = 50 * 1024;
const FRAGMENT_BUDGET = 8 * 1024;

type Fetched = { status: number; bytes: number; raw: number; headers: http.IncomingHttpHeaders; body: string };

function get(port: number, url: string, headers: Record<string, string> = {}, method = "GET", payload?: string): Promise<Fetched> {
  return new Promise((resolve, reject) => {
    const req = http.request({ host: "127.0.0.1", port, path: url, method, headers: { "Accept-Encoding": "gzip", ...headers } }, (res) => {
      const chunks: Buffer[] = [];
      res.on("data", (c: Buffer) => chunks.push(c));
      res.on("end", async () => {
        const wire = Buffer.concat(chunks);
        const zlib = await import("node:zlib");
        const plain = res.headers["content-encoding"] === "gzip" ? zlib.gunzipSync(wire) : wire;
        resolve({ status: res.statusCode ?? 0, bytes: wire.length, raw: plain.length, headers: res.headers, body: plain.toString("utf8") });
      });
    });
    req.on("error", reject);
    if (payload) req.write(payload);
    req.end();
  });
}

async function main() {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), "ems-budget-"));
  const runtime = buildRuntime(
    loadConfig({ ...process.env, NODE_ENV: "production", COOKIE_SECURE: "false", DATA_DIR: dir, SESSION_SECRET: "budget-secret-000000000000", LOG_LEVEL: "silent" }),
  );
  await prepareDatabase(runtime.db);
  const server = runtime.app.listen(0);
  const port = (server.address() as AddressInfo).port;
  let cookie = "";
  const jar = (f: Fetched) => {
    const set = ([] as string[]).concat(f.headers["set-cookie"] ?? []).find((c) => c.startsWith("ems.sid="));
    if (set) cookie = set.split(";")[0]!;
    return f;
  };
  const page = (url: string, extra: Record<string, string> = {}) => get(port, url, { Cookie: cookie, ...extra }).then(jar);
  const post = (url: string, form: Record<string, string>) =>
    get(port, url, { Cookie: cookie, "Content-Type": "application/x-www-form-urlencoded" }, "POST", new URLSearchParams(form).toString()).then(jar);
  const token = (f: Fetched) => /name="_csrf" value="([^"]+)"|name="csrf-token" content="([^"]+)"/.exec(f.body)!.slice(1).find(Boolean)!;

  const problems: string[] = [];
  const rows: string[] = [];
  const assetsOf = (html: string) => [...html.matchAll(/(?:href|src)="(\/assets\/[^"]+)"/g)].map((m) => m[1]!);

  async function firstLoad(label: string, url: string) {
    const html = await page(url);
    if (html.status !== 200) problems.push(`${label}: status ${html.status}`);
    if (html.headers["content-encoding"] !== "gzip") problems.push(`${label}: HTML not compressed`);
    let total = html.bytes;
    for (const asset of assetsOf(html.body)) {
      const a = await page(asset);
      total += a.bytes;
      if (!/max-age=31536000/.test(String(a.headers["cache-control"])) || !/\.[0-9a-f]{10}\./.test(asset)) problems.push(`${asset}: not hashed with a long cache`);
      if (/\.(woff2?|ttf|otf)$/.test(asset)) problems.push(`${asset}: web font`);
    }
    const fragment = await page(url, { "HX-Request": "true", "HX-Request-Type": "partial" });
    rows.push(`| ${label} | ${url} | ${html.bytes} | ${total} | ${fragment.bytes} (${fragment.raw} raw) |`);
    if (total > FIRST_LOAD_BUDGET) problems.push(`${label}: first load ${total} B > ${FIRST_LOAD_BUDGET}`);
    if (fragment.bytes > FRAGMENT_BUDGET) problems.push(`${label}: fragment ${fragment.bytes} B > ${FRAGMENT_BUDGET}`);
    return html;
  }

  const login = await firstLoad("Connexion CPS", "/ps/login");
  const gene = await runtime.db("practitioners").where({ nam: "991101197" }).first("id");
  await post("/ps/login", { _csrf: token(login), card: String(gene.id), pin: "1234" });
  const list = await firstLoad("Liste du médecin", "/ps/messages");
  await post("/ps/patient/nir", { _csrf: token(list), nir: "2851175123045", key: "45" });
  const thread = await runtime.db("conversations").where({ subject: "info ALD" }).first("id");
  await firstLoad("Fil (médecin)", `/ps/conversations/${thread.id}`);
  await firstLoad("Rédaction", "/ps/conversations/new");
  const bo = await firstLoad("Connexion échelon", "/bo/login");
  const anna = await runtime.db("agents").where({ last_name: "AIN" }).first("id");
  cookie = "";
  const fresh = await page("/bo/login");
  await post("/bo/login", { _csrf: token(fresh), agent: String(anna.id) });
  void bo;
  for (const tray of ["a-traiter", "en-cours", "clos"]) await firstLoad(`Bannette ${tray}`, `/bo/bannettes/${tray}`);
  await firstLoad("Fil (échelon)", `/bo/conversations/${thread.id}`);

  console.log("| page | URL | HTML gzip (B) | first load gzip (B) | htmx fragment gzip (B) |");
  console.log("|---|---|---|---|---|");
  for (const r of rows) console.log(r);
  server.close();
  await runtime.db.destroy();
  fs.rmSync(dir, { recursive: true, force: true });
  if (problems.length) {
    console.error(`\nBudget exceeded:\n- ${problems.join("\n- ")}`);
    process.exit(1);
  }
  console.log(`\nAll budgets met (first load ≤ ${FIRST_LOAD_BUDGET} B, fragments ≤ ${FRAGMENT_BUDGET} B, compressed, hashed assets, no fonts).`);
}

await main();
