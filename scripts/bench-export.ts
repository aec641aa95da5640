/**
 * The PDF export's benchmark (issue 15 §3: a 50-message thread exports in ≤ 300 ms server-side), on a fresh demo
 * database — no `npm run populate` needed:
 *
 *   npm run bench -- --parts export            (or: npx tsx scripts/bench-export.ts)
 *   npm run bench -- --parts export --export-pg postgres://postgres@127.0.0.1:5432/test   (PostgreSQL too)
 *
 * Builds the app in this process (production mode) on a new SQLite file (and, with --export-pg, in a new schema of
 * that PostgreSQL database, dropped at the end), adds a thread of Dr GENE with 50 messages (both sides alternating,
 * ~700 characters each with French signs, two attachments on every fifth message: their rows only, the export never
 * reads the files), signs in on each side over HTTP and downloads the thread's PDF --export-samples times (200) after
 * 20 warm-up downloads. Each download is timed inside the server, from the request to the last byte of the answer
 * (session, scope, audit row, view model, PDF drawing). Writes median / p95 / max into docs/PERFORMANCE.md between the
 * `bench-export:start` / `bench-export:end` markers (`--no-write` to skip).
 */
import crypto from "node:crypto";
import fs from "node:fs";
import http from "node:http";
import type { AddressInfo } from "node:net";
import os from "node:os";
import path from "node:path";
import { once } from "node:events";
import { fileURLToPath, pathToFileURL } from "node:url";
import knexFactory from "knex";
import { loadConfig } from "../src/config.js";
import { buildRuntime, prepareDatabase } from "../src/runtime.js";

const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), "..");
const MESSAGES = 50;
const WARMUP = 20;

export type ExportTiming = { database: string; side: string; samples: number; median: number; p95: number; max: number; bytes: number; pages: number };

const log = (line: string) => process.stderr.write(`${line}\n`);
function percentile(xs: number[], p: number): number {
  const s = [...xs].sort((a, b) => a - b);
  return s[Math.min(s.length - 1, Math.max(0, Math.ceil((p / 100) * s.length) - 1))]!;
}

/** A cookie-keeping client for the app's forms (CSRF token read from the page). */
class Client {
  cookie = "";
  constructor(private port: number) {}
  request(method: string, pathName: string, form?: Record<string, string>): Promise<{ status: number; body: Buffer }> {
    const payload = form ? new URLSearchParams(form).toString() : undefined;
    return new Promise((resolve, reject) => {
      const req = http.request(
        {
          host: "127.0.0.1",
          port: this.port,
          path: pathName,
          method,
          headers: {
            ...(this.cookie ? { Cookie: this.cookie } : {}),
            ...(payload ? { "Content-Type": "application/x-www-form-urlencoded", "Content-Length": Buffer.byteLength(payload) } : {}),
          },
        },
        (res) => {
          const set = res.headers["set-cookie"]?.find((c) => c.startsWith("ems.sid="));
          if (set) this.cookie = set.split(";")[0]!;
          const chunks: Buffer[] = [];
          res.on("data", (c: Buffer) => chunks.push(c));
          res.on("end", () => resolve({ status: res.statusCode ?? 0, body: Buffer.concat(chunks) }));
        },
      );
      req.on("error", reject);
      req.end(payload);
    });
  }
  async login(pathName: string, fields: Record<string, string>): Promise<void> {
    const page = (await this.request("GET", pathName)).body.toString();
    const csrf = /name="csrf-token" content="([^"]+)"/.exec(page)?.[1] ?? /name="_csrf" value="([^"]+)"/.exec(page)?.[1];
    const res = await this.request("POST", pathName, { _csrf: csrf ?? "", ...fields });
    if (res.status !== 303) throw new Error(`${pathName}: login failed (${res.status})`);
  }
}

const BODY =
  "Bonjour, suite à l'examen du 12/10, l'état général s'améliore : l'œdème des membres inférieurs a régressé, la " +
  "tension reste à 13/8 sous traitement. « Reprise à mi-temps thérapeutique » envisagée à compter du mois prochain, " +
  "sous réserve de l'avis du médecin du travail ; les frais de transport (environ 45 € par semaine) – à préciser – " +
  "restent à la charge de l'assuré. Pouvez-vous confirmer la durée maximale de l'arrêt indemnisable et les pièces à " +
  "fournir ? Je joins le compte rendu d'hospitalisation et le dernier bilan biologique. Bien confraternellement. ";

/** A thread of Dr GENE (a copy of « info ALD ») with MESSAGES messages; its id. */
async function fiftyMessageThread(db: ReturnType<typeof buildRuntime>["db"]): Promise<number> {
  const model = await db("conversations").where({ subject: "info ALD" }).first();
  const agent = await db("agents").where({ elsm_id: model.elsm_id }).first("id");
  const { id: _id, ...rest } = model;
  const start = Date.parse("2026-01-05T08:00:00Z");
  const at = (i: number) => new Date(start + i * 3_600_000).toISOString();
  const [row] = await db("conversations")
    .insert({ ...rest, subject: "Banc d'essai : fil de 50 messages", last_message_at: at(MESSAGES - 1), last_message_side: "elsm" })
    .returning("id");
  const id = Number(typeof row === "object" ? row.id : row);
  for (let i = 0; i < MESSAGES; i += 1) {
    const ps = i % 2 === 0;
    const [m] = await db("messages")
      .insert({
        conversation_id: id,
        side: ps ? "ps" : "elsm",
        body: `${i + 1}. ${BODY}`,
        author_practitioner_id: ps ? model.started_by_practitioner_id : null,
        author_agent_id: ps ? null : agent.id,
        sent_at: at(i),
        read_at: at(i + 1),
      })
      .returning("id");
    const messageId = Number(typeof m === "object" ? m.id : m);
    if (i % 5 !== 4) continue;
    for (const [name, mime] of [
      [`compte-rendu-${i + 1}.pdf`, "application/pdf"],
      [`bilan-${i + 1}.png`, "image/png"],
    ]) {
      await db("attachments").insert({
        message_id: messageId,
        storage_key: crypto.randomBytes(16).toString("hex"),
        original_name: name,
        mime_type: mime,
        extension: name.split(".").pop(),
        size_bytes: 100_000 + i * 1_000,
        sha256: crypto.createHash("sha256").update(name).digest("hex"),
        created_at: at(i),
      });
    }
  }
  return id;
}

async function timeDatabase(database: string, env: Record<string, string>, samples: number): Promise<ExportTiming[]> {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), "ems-bench-export-"));
  const schema = env.DATABASE_URL ? `bench_export_${process.pid}` : undefined;
  if (env.DATABASE_URL && schema) {
    const admin = knexFactory({ client: "pg", connection: env.DATABASE_URL });
    await admin.raw(`CREATE SCHEMA ${schema}`);
    await admin.destroy();
  }
  const config = loadConfig({
    NODE_ENV: "production",
    DATA_DIR: dir,
    SESSION_SECRET: "bench-session-secret-0123456789abcdef",
    LOG_LEVEL: "warn",
    // Plain HTTP on the loopback: production mode would otherwise mark the session cookie Secure.
    COOKIE_SECURE: "false",
    ...env,
    ...(schema ? { DATABASE_SCHEMA: schema } : {}),
  });
  const rt = buildRuntime(config);
  const out: ExportTiming[] = [];
  let times: number[] | null = null;
  const server = http.createServer((req, res) => {
    const t0 = process.hrtime.bigint();
    const sink = times;
    if (sink) res.on("finish", () => sink.push(Number(process.hrtime.bigint() - t0) / 1e6));
    rt.app(req, res);
  });
  try {
    await prepareDatabase(rt.db);
    const id = await fiftyMessageThread(rt.db);
    server.listen(0, "127.0.0.1");
    await once(server, "listening");
    const { port } = server.address() as AddressInfo;
    const doctor = new Client(port);
    await doctor.login("/ps/login", { card: String((await rt.db("practitioners").where({ nam: "991101197" }).first("id")).id), pin: "1234" });
    const agent = new Client(port);
    const elsm = (await rt.db("conversations").where({ id }).first("elsm_id")).elsm_id;
    await agent.login("/bo/login", { agent: String((await rt.db("agents").where({ elsm_id: elsm }).first("id")).id) });
    for (const [side, client, url] of [
      ["PS", doctor, `/ps/conversations/${id}/pdf`],
      ["back office", agent, `/bo/conversations/${id}/pdf`],
    ] as const) {
      let last: Buffer = Buffer.alloc(0);
      for (let i = 0; i < WARMUP; i += 1) last = (await client.request("GET", url)).body;
      if (last.subarray(0, 5).toString() !== "%PDF-") throw new Error(`${url}: not a PDF`);
      times = [];
      for (let i = 0; i < samples; i += 1) {
        const res = await client.request("GET", url);
        if (res.status !== 200) throw new Error(`${url}: ${res.status}`);
      }
      const t = times;
      times = null;
      const pages = (last.toString("latin1").match(/\/Type \/Page\b/g) ?? []).length;
      out.push({ database, side, samples: t.length, median: percentile(t, 50), p95: percentile(t, 95), max: Math.max(...t), bytes: last.length, pages });
      log(
        `  export ${database} ${side}: median ${percentile(t, 50).toFixed(1)} ms, p95 ${percentile(t, 95).toFixed(1)} ms, max ${Math.max(...t).toFixed(1)} ms; ${last.length} bytes, ${pages} pages`,
      );
    }
  } finally {
    server.close();
    server.closeAllConnections();
    if (schema) await rt.db.raw(`DROP SCHEMA ${schema} CASCADE`);
    await rt.db.destroy();
    fs.rmSync(dir, { recursive: true, force: true });
  }
  return out;
}

function report(timings: ExportTiming[], samples: number, command: string): string {
  const L = [
    `Measured ${new Date().toISOString().slice(0, 16).replace("T", " ")} UTC with \`${command}\` (Node ${process.version}, ${os.cpus().length} cores,`,
    `load ${os
      .loadavg()
      .map((x) => x.toFixed(2))
      .join(" ")}): a thread of ${MESSAGES} messages (~700 characters each, 20 attachments), ${samples} downloads per side after ${WARMUP} warm-up ones,`,
    "each timed inside the server from the request to the last byte sent (session, scope, audit row, view model, PDF).",
    "",
    "| database | side | downloads | median (ms) | p95 (ms) | max (ms) | PDF size | pages |",
    "|---|---|---|---|---|---|---|---|",
    ...timings.map(
      (t) => `| ${t.database} | ${t.side} | ${t.samples} | ${t.median.toFixed(1)} | ${t.p95.toFixed(1)} | ${t.max.toFixed(1)} | ${Math.round(t.bytes / 1024)} KB | ${t.pages} |`,
    ),
  ];
  return L.join("\n");
}

function writeReport(markdown: string): void {
  const file = path.join(root, "docs/PERFORMANCE.md");
  const start = "<!-- bench-export:start -->";
  const end = "<!-- bench-export:end -->";
  let text = fs.readFileSync(file, "utf8");
  if (!text.includes(start) || !text.includes(end)) text += `\n${start}\n${end}\n`;
  text = `${text.slice(0, text.indexOf(start))}${start}\n${markdown}\n${end}${text.slice(text.indexOf(end) + end.length)}`;
  fs.writeFileSync(file, text);
  log(`export results written to ${path.relative(root, file)}`);
}

/** The export benchmark: SQLite, and PostgreSQL when a URL is given; the table written into docs/PERFORMANCE.md unless `write` is false. */
export async function benchExport(options: { pgUrl?: string; samples?: number; write?: boolean; command?: string } = {}): Promise<ExportTiming[]> {
  const samples = options.samples ?? 200;
  const timings = await timeDatabase("SQLite", { DATABASE_URL: "" }, samples);
  if (options.pgUrl) timings.push(...(await timeDatabase("PostgreSQL", { DATABASE_URL: options.pgUrl }, samples)));
  const markdown = report(timings, samples, options.command ?? "npm run bench -- --parts export");
  process.stdout.write(`${markdown}\n`);
  if (options.write !== false) writeReport(markdown);
  return timings;
}

if (process.argv[1] && import.meta.url === pathToFileURL(path.resolve(process.argv[1])).href) {
  const argv = process.argv.slice(2);
  const value = (name: string) => {
    const i = argv.indexOf(`--${name}`);
    return i >= 0 ? argv[i + 1] : undefined;
  };
  benchExport({
    pgUrl: value("export-pg"),
    samples: value("export-samples") ? Number(value("export-samples")) : undefined,
    write: !argv.includes("--no-write"),
    command: `npx tsx scripts/bench-export.ts${argv.length ? ` ${argv.join(" ")}` : ""}`,
  }).then(
    () => process.exit(0),
    (err) => {
      process.stderr.write(`${err instanceof Error ? (err.stack ?? err.message) : String(err)}\n`);
      process.exit(1);
    },
  );
}
