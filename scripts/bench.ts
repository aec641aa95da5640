/**
 * The benchmark of issue 6, on databases filled by `npm run populate`:
 *
 *   DATA_DIR=/tmp/ems-bench npm run bench -- --pg postgres://postgres@127.0.0.1:5432/ems_bench
 *
 * Starts a bare Express 5 "hello world" (the reference) and the app (`node --import tsx src/server.ts`, production
 * mode) as child processes on this machine; signs in as the doctor with the most threads and as agents of the ELSM
 * with the biggest A TRAITER tray; runs autocannon (50 connections, 10 s, after a 3 s warm-up) on the doctor's list,
 * the A TRAITER tray, a thread, a NIR search and a name search, on SQLite (1 process) and PostgreSQL (1 and 2
 * processes); measures CPU time (app processes, PostgreSQL, the load tool, everything else), peak RSS, the
 * server-side time of the two searches (sequential requests timed inside the server, SQL timed from Knex's events)
 * and the RSS growth while one request uploads 5 files of just under 10 MB. Prints the tables and writes them into
 * docs/PERFORMANCE.md between the `bench:start` / `bench:end` markers (`--no-write` to skip).
 *
 * Options: --pg URL (default postgres://postgres@127.0.0.1:5432/ems_bench) · --sqlite FILE (default: the app's
 * SQLite file for DATA_DIR / SQLITE_FILE) · --only sqlite,sqlite2,pg1,pg2 (sqlite2: two app processes on the one file) · --duration 10 · --warmup 3 · --connections 50 ·
 * --samples 200 · --uploads 3 · --ports 4500-4599 (listen only there; or BENCH_PORTS) · --parts load,searches,uploads,export (a subset, e.g. with --no-write while tuning; `export`
 * alone needs no populated database: scripts/bench-export.ts, the PDF export of a 50-message thread on a fresh demo
 * database, --export-pg URL for PostgreSQL too, --export-samples 200, written between its own markers) ·
 * --searches NIR,name,words,dashboard (which server-side pages: searches by NIR, by name, full-text; the Tableau de bord) ·
 * --app-log-level error (the app's log on stderr; silent by default) · --slow-sql 10 (print each search request's queries slower than 10 ms, while tuning) · --app-node-flags "--trace-gc" · --pages "PS list,BO thread" (a subset of the closed-loop pages, e.g. to profile one) · --report FILE.json (re-render a saved run) · --no-write · --quiet-wait 180 and
 * --quiet-cores 0.2 (the machine may be shared: before each run, wait up to 180 s for the other processes to use less
 * than 0.2 core; the CPU they used during each run is reported as "other").
 * The app processes write to the databases like users do (sessions, audit rows of opened threads, one uploaded
 * message per upload): bench a populated copy, not production. The raw results are saved as JSON in the temp folder.
 */
import { execFileSync, spawn, type ChildProcess } from "node:child_process";
import crypto from "node:crypto";
import fs from "node:fs";
import http from "node:http";
import type { AddressInfo } from "node:net";
import os from "node:os";
import path from "node:path";
import { once } from "node:events";
import { fileURLToPath } from "node:url";
import autocannon, { type Result } from "autocannon";
import type { Knex } from "knex";
import { loadConfig } from "../src/config.js";
import { connect, type Db } from "../src/db/connection.js";
import { buildRuntime } from "../src/runtime.js";
import { benchExport } from "./bench-export.js";
import { mulberry32 } from "./prng.js";

const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), "..");

// ---- options ------------------------------------------------------------------------------------------------

const argv = process.argv.slice(2);
function arg(name: string): string | undefined {
  const i = argv.findIndex((a) => a === `--${name}` || a.startsWith(`--${name}=`));
  if (i < 0) return undefined;
  const a = argv[i]!;
  return a.includes("=") ? a.slice(a.indexOf("=") + 1) : argv[i + 1];
}
const num = (name: string, fallback: number) => (arg(name) ? Number(arg(name)) : fallback);
const DURATION = num("duration", 10);
const WARMUP = num("warmup", 3);
const CONNECTIONS = num("connections", 50);
const SAMPLES = num("samples", 200);
/** Upload measurements per database, each in a freshly started app process (garbage collection timing varies). */
const UPLOADS = num("uploads", 3);
/** This machine may be shared: before each run, wait (up to this many seconds) until other processes use < QUIET_CORES. */
const QUIET_WAIT = num("quiet-wait", 180);
const QUIET_CORES = num("quiet-cores", 0.2);
const WRITE = !argv.includes("--no-write");
/** While tuning: print the server-side searches' queries slower than this many ms (their SQL, never their values). */
const SLOW_SQL = num("slow-sql", 0);
/** Which server-side searches (--searches NIR,name,words; all by default). */
const SEARCHES = arg("searches")
  ?.split(",")
  .map((x) => x.trim());
const PG_URL = arg("pg") ?? process.env.BENCH_DATABASE_URL ?? "postgres://postgres@127.0.0.1:5432/ems_bench";
const SQLITE_FILE = arg("sqlite") ?? loadConfig({ ...process.env, DATABASE_URL: "" }).sqliteFile;
const ONLY = new Set((arg("only") ?? "sqlite,pg1,pg2").split(",").map((s) => s.trim()));
/** Which measurements: the autocannon runs, the server-side search timings, the upload RSS (all by default). */
const PARTS = new Set((arg("parts") ?? "load,searches,uploads,export,openloop").split(",").map((s) => s.trim()));
/** Which closed-loop pages (--pages "PS list,BO thread"; all by default), e.g. to profile one page with --cpu-prof. */
const PAGES = arg("pages")
  ? new Set(
      arg("pages")!
        .split(",")
        .map((s) => s.trim()),
    )
  : null;
/** Extra Node.js flags for the app processes, e.g. --app-node-flags=--trace-gc (NODE_OPTIONS refuses some). */
const APP_NODE_FLAGS = (arg("app-node-flags") ?? "").split(/\s+/).filter(Boolean);
const SECRET = "bench-session-secret-0123456789abcdef";
const UPLOAD_FILE_BYTES = 10 * 1024 * 1024 - 4096; // the limit is 10 MiB per file: just under it
const COMMAND = `${process.env.DATA_DIR ? `DATA_DIR=${process.env.DATA_DIR} ` : ""}npm run bench --${argv.length ? ` ${argv.join(" ")}` : ""}`;

const log = (line: string) => process.stderr.write(`${line}\n`);
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));
const median = (xs: number[]) => percentile(xs, 50);
function percentile(xs: number[], p: number): number {
  if (!xs.length) return NaN;
  const s = [...xs].sort((a, b) => a - b);
  return s[Math.min(s.length - 1, Math.max(0, Math.ceil((p / 100) * s.length) - 1))]!;
}
const fmt = (n: number, digits = 1) => (Number.isFinite(n) ? n.toFixed(digits) : "–");
const int = (n: number) => (Number.isFinite(n) ? Math.round(n).toLocaleString("en-US") : "–");

// ---- /proc: processes, CPU time, memory ------------------------------------------------------------------------

const TICK = Number(execFileSync("getconf", ["CLK_TCK"]).toString().trim()) || 100;

type Stat = { pid: number; comm: string; ppid: number; cpu: number; childCpu: number };
function stat(pid: number): Stat | null {
  try {
    const raw = fs.readFileSync(`/proc/${pid}/stat`, "utf8");
    const close = raw.lastIndexOf(")");
    const comm = raw.slice(raw.indexOf("(") + 1, close);
    const f = raw.slice(close + 2).split(" ");
    return { pid, comm, ppid: Number(f[1]), cpu: (Number(f[11]) + Number(f[12])) / TICK, childCpu: (Number(f[13]) + Number(f[14])) / TICK };
  } catch {
    return null;
  }
}
function allStats(): Stat[] {
  return fs
    .readdirSync("/proc")
    .filter((d) => /^\d+$/.test(d))
    .map((d) => stat(Number(d)))
    .filter((s): s is Stat => s !== null);
}
/** A process and all its descendants (cluster workers, tsx's esbuild service). */
function tree(rootPid: number, stats = allStats()): Stat[] {
  const out: Stat[] = [];
  const wanted = new Set([rootPid]);
  let grew = true;
  while (grew) {
    grew = false;
    for (const s of stats) {
      if (!wanted.has(s.pid) && wanted.has(s.ppid)) {
        wanted.add(s.pid);
        grew = true;
      }
    }
  }
  for (const s of stats) if (wanted.has(s.pid)) out.push(s);
  return out;
}
function memKb(pid: number, field: "VmRSS" | "VmHWM"): number {
  try {
    const m = new RegExp(`^${field}:\\s+(\\d+) kB`, "m").exec(fs.readFileSync(`/proc/${pid}/status`, "utf8"));
    return m ? Number(m[1]) : 0;
  } catch {
    return 0;
  }
}
/** The database a postgres backend (or a parallel worker, through its leader) serves, from its process title. */
function backendDatabase(pid: number, depth = 0): string | null {
  try {
    // "postgres: 15/main: <user> <database> 127.0.0.1(54321) idle" / "postgres: 15/main: parallel worker for PID 123"
    const title = fs
      .readFileSync(`/proc/${pid}/cmdline`, "utf8")
      .replace(/\0/g, " ")
      .trim()
      .replace(/^postgres: (?:\S+\/\S+: )?/, "");
    const worker = /^parallel worker for PID (\d+)/.exec(title);
    if (worker) return depth < 2 ? backendDatabase(Number(worker[1]), depth + 1) : null;
    const backend = /^(\S+) (\S+) (?:\d+\.\d+\.\d+\.\d+\(|\[local\]|[0-9a-f:]+\()/.exec(title);
    return backend ? backend[2]! : null;
  } catch {
    return null;
  }
}
const BENCH_DATABASE = (() => {
  try {
    return new URL(PG_URL).pathname.slice(1) || "postgres";
  } catch {
    return "";
  }
})();
/**
 * PostgreSQL CPU: every postgres process, plus what the postmaster's exited children (backends, parallel workers)
 * used; `others` is the part of live backends serving other databases (other users of a shared server).
 */
function postgresCpu(stats: Stat[]): { total: number; others: number } {
  const pg = stats.filter((s) => s.comm === "postgres" || s.comm.startsWith("postgres"));
  const pids = new Set(pg.map((s) => s.pid));
  let total = 0;
  let others = 0;
  for (const s of pg) {
    total += s.cpu + (pids.has(s.ppid) ? 0 : s.childCpu);
    const db = backendDatabase(s.pid);
    if (db && db !== BENCH_DATABASE) others += s.cpu;
  }
  return { total, others };
}
/** Busy CPU seconds of the whole machine (all cores), from /proc/stat. */
function machineBusy(): number {
  const f = fs.readFileSync("/proc/stat", "utf8").split("\n")[0]!.trim().split(/\s+/).slice(1).map(Number);
  const [user, nice, system, , , irq, softirq, steal] = f as [number, number, number, number, number, number, number, number];
  return (user + nice + system + irq + softirq + steal) / TICK;
}
const loadavg = () =>
  os
    .loadavg()
    .map((l) => l.toFixed(2))
    .join(" ");

type Cpu = { app: number; pg: number; pgOthers: number; tool: number; machine: number; at: number };
function cpuSnapshot(appPid: number): Cpu {
  const stats = allStats();
  const self = process.cpuUsage();
  return {
    app: tree(appPid, stats).reduce((s, p) => s + p.cpu, 0),
    pg: postgresCpu(stats).total,
    pgOthers: postgresCpu(stats).others,
    tool: (self.user + self.system) / 1e6,
    machine: machineBusy(),
    at: performance.now(),
  };
}

/** Samples the resident memory of a process tree (sum over its processes) until stopped. */
function rssSampler(appPid: number, everyMs: number) {
  let peakKb = 0;
  let pids = tree(appPid).map((s) => s.pid);
  const sample = () => {
    const kb = pids.reduce((sum, pid) => sum + memKb(pid, "VmRSS"), 0);
    if (kb > peakKb) peakKb = kb;
  };
  const refresh = setInterval(() => {
    pids = tree(appPid).map((s) => s.pid);
  }, 1000);
  const timer = setInterval(sample, everyMs);
  sample();
  return {
    stop(): { peakMb: number; hwmMb: number } {
      clearInterval(timer);
      clearInterval(refresh);
      sample();
      return { peakMb: peakKb / 1024, hwmMb: pids.reduce((sum, pid) => sum + memKb(pid, "VmHWM"), 0) / 1024 };
    },
  };
}

// ---- child processes ----------------------------------------------------------------------------------------

const children = new Set<ChildProcess>();
/** --ports 4500-4599: the app and hello-world processes listen in this range (a shared machine); else any free port. */
const PORTS = (() => {
  const m = /^(\d+)-(\d+)$/.exec(arg("ports") ?? process.env.BENCH_PORTS ?? "");
  return m ? { first: Number(m[1]), last: Number(m[2]) } : null;
})();
let nextPort = PORTS?.first ?? 0;
async function freePort(): Promise<number> {
  for (let tries = 0; ; tries += 1) {
    const wanted = PORTS ? nextPort : 0;
    if (PORTS) nextPort = nextPort >= PORTS.last ? PORTS.first : nextPort + 1;
    const s = http.createServer();
    const ok = await new Promise<boolean>((resolve) => {
      s.once("error", () => resolve(false));
      s.listen(wanted, "127.0.0.1", () => resolve(true));
    });
    if (!ok) {
      if (!PORTS || tries > PORTS.last - PORTS.first) throw new Error(`no free port in ${PORTS?.first}-${PORTS?.last}`);
      continue;
    }
    const { port } = s.address() as AddressInfo;
    await new Promise((r) => s.close(r));
    return port;
  }
}

async function waitHealthy(port: number, pathName: string, timeoutMs = 90_000): Promise<void> {
  const until = Date.now() + timeoutMs;
  while (Date.now() < until) {
    const ok = await new Promise<boolean>((resolve) => {
      const req = http.get({ host: "127.0.0.1", port, path: pathName, agent: false }, (res) => {
        res.resume();
        resolve(res.statusCode === 200);
      });
      req.on("error", () => resolve(false));
      req.setTimeout(2000, () => req.destroy());
    });
    if (ok) return;
    await sleep(250);
  }
  throw new Error(`server on port ${port} not healthy after ${timeoutMs} ms`);
}

async function stopChild(child: ChildProcess): Promise<void> {
  if (child.exitCode !== null || child.signalCode !== null) return void children.delete(child);
  const pids = child.pid ? tree(child.pid).map((s) => s.pid) : [];
  child.kill("SIGTERM");
  const exited = await Promise.race([once(child, "exit").then(() => true), sleep(12_000).then(() => false)]);
  if (!exited)
    for (const pid of pids) {
      try {
        process.kill(pid, "SIGKILL");
      } catch {
        /* gone */
      }
    }
  children.delete(child);
}

async function startHello(): Promise<{ child: ChildProcess; port: number }> {
  const port = await freePort();
  const code = `import express from "express";
const app = express();
app.get("/", (_req, res) => { res.send("Hello World!"); });
app.listen(${port}, "127.0.0.1");`;
  const child = spawn(process.execPath, ["--input-type=module", "-e", code], { cwd: root, stdio: ["ignore", "inherit", "inherit"] });
  children.add(child);
  await waitHealthy(port, "/");
  return { child, port };
}

type Target = { name: "sqlite" | "sqlite2" | "pg1" | "pg2"; label: string; database: "sqlite" | "pg"; workers: number; env: Record<string, string> };

function appEnv(target: Target, dataDir: string, port: number): NodeJS.ProcessEnv {
  const env: NodeJS.ProcessEnv = { ...process.env };
  delete env.DATABASE_URL;
  delete env.SQLITE_FILE;
  delete env.DATABASE_SCHEMA;
  return {
    ...env,
    ...target.env,
    PORT: String(port),
    DATA_DIR: dataDir,
    NODE_ENV: "production",
    SESSION_SECRET: SECRET,
    LOG_LEVEL: arg("app-log-level") ?? "silent",
    SEED_DEMO: "false",
    WEB_CONCURRENCY: String(target.workers),
    // Plain HTTP on the loopback: production mode would otherwise mark the session cookie Secure (TLS is in front in a deployment).
    COOKIE_SECURE: "false",
    // The open-loop mix signs in a hundred and more sessions from one address.
    LOGIN_LIMIT_PER_ADDRESS: "100000",
  };
}

async function startApp(target: Target, dataDir: string): Promise<{ child: ChildProcess; port: number }> {
  const port = await freePort();
  const child = spawn(process.execPath, [...APP_NODE_FLAGS, "--import", "tsx", "src/server.ts"], {
    cwd: root,
    env: appEnv(target, dataDir, port),
    stdio: ["ignore", "inherit", "inherit"],
  });
  children.add(child);
  await waitHealthy(port, "/healthz");
  if (target.workers > 1) {
    // Every worker listening: as many node processes as workers under the primary, then a moment to settle.
    const until = Date.now() + 30_000;
    while (Date.now() < until && tree(child.pid!).filter((s) => s.ppid === child.pid && s.comm.startsWith("node")).length < target.workers) await sleep(200);
    await sleep(1500);
  }
  return { child, port };
}

// ---- a tiny HTTP client with one session cookie -------------------------------------------------------------

type Res = { status: number; headers: http.IncomingHttpHeaders; body: string };
const keepAlive = new http.Agent({ keepAlive: true, maxSockets: 1 });

class Client {
  cookie = "";
  constructor(readonly port: number) {}

  request(
    method: string,
    pathName: string,
    options: { form?: Record<string, string>; headers?: http.OutgoingHttpHeaders; write?: (req: http.ClientRequest) => Promise<void> } = {},
  ): Promise<Res> {
    return new Promise((resolve, reject) => {
      const body = options.form ? new URLSearchParams(options.form).toString() : undefined;
      const headers: http.OutgoingHttpHeaders = {
        accept: "text/html",
        ...(this.cookie ? { cookie: this.cookie } : {}),
        ...(body !== undefined ? { "content-type": "application/x-www-form-urlencoded", "content-length": Buffer.byteLength(body) } : {}),
        ...options.headers,
      };
      const req = http.request({ host: "127.0.0.1", port: this.port, path: pathName, method, headers, agent: keepAlive }, (res) => {
        const chunks: Buffer[] = [];
        res.on("data", (c: Buffer) => chunks.push(c));
        res.on("end", () => {
          const set = res.headers["set-cookie"]?.find((c) => c.startsWith("ems.sid="));
          if (set) this.cookie = set.split(";")[0]!;
          resolve({ status: res.statusCode ?? 0, headers: res.headers, body: Buffer.concat(chunks).toString("utf8") });
        });
        res.on("error", reject);
      });
      req.on("error", reject);
      if (options.write) options.write(req).then(() => req.end(), reject);
      else req.end(body);
    });
  }
  get(p: string) {
    return this.request("GET", p);
  }
  post(p: string, form: Record<string, string>) {
    return this.request("POST", p, { form });
  }
}

function hidden(html: string, name: string): string {
  const m = new RegExp(`name="${name}" value="([^"]*)"`).exec(html) ?? (name === "_csrf" ? /name="csrf-token" content="([^"]+)"/.exec(html) : null);
  if (!m) throw new Error(`no ${name} field in the page`);
  return m[1]!
    .replace(/&amp;/g, "&")
    .replace(/&quot;/g, '"')
    .replace(/&#39;/g, "'")
    .replace(/&lt;/g, "<")
    .replace(/&gt;/g, ">");
}

async function loginPs(port: number, practitionerId: number): Promise<Client> {
  const c = new Client(port);
  const page = await c.get("/ps/login");
  const res = await c.post("/ps/login", { _csrf: hidden(page.body, "_csrf"), card: String(practitionerId), pin: "1234" });
  if (res.status !== 303) throw new Error(`PS login failed: ${res.status}`);
  return c;
}

async function loginAgent(port: number, agentId: number): Promise<Client> {
  const c = new Client(port);
  const page = await c.get("/bo/login");
  const res = await c.post("/bo/login", { _csrf: hidden(page.body, "_csrf"), agent: String(agentId) });
  if (res.status !== 303) throw new Error(`agent login failed: ${res.status}`);
  return c;
}

type Criteria = Record<string, string>;
/** POST /bo/recherche stores the criteria in the session; GET /bo/recherche then shows the results. */
async function storeSearch(c: Client, criteria: Criteria): Promise<string> {
  const tray = await c.get("/bo/bannettes/a-traiter");
  const res = await c.post("/bo/recherche", { _csrf: hidden(tray.body, "_csrf"), ...criteria });
  if (res.status !== 303) throw new Error(`search failed: ${res.status}`);
  const page = await c.get("/bo/recherche");
  return /<p role="status"[^>]*>([^<]*)<\/p>/.exec(page.body)?.[1]?.trim() ?? "?";
}

// ---- what to measure on: chosen from the data -----------------------------------------------------------------

type Picks = {
  doctor: { id: number; name: string; threads: number };
  elsm: { id: number; code: string; aTraiter: number; total: number };
  agentIds: number[];
  thread: { id: number; messages: number; attachments: number };
  nir: { nir: string; key: string; name: string };
  lastName: string;
  singlePatient: { nir: string; key: string };
};

async function pick(db: Db): Promise<Picks> {
  const [doc] = await db("conversations as c")
    .join("practitioners as p", "p.id", "c.ps_practitioner_id")
    .whereNull("c.ps_deleted_at")
    .groupBy("p.id", "p.first_name", "p.last_name")
    .select("p.id", "p.first_name", "p.last_name")
    .count<{ id: number; first_name: string; last_name: string; n: number }[]>({ n: "*" })
    .orderBy("n", "desc")
    .limit(1);
  const [big] = await db("conversations")
    .where({ state: "a_traiter" })
    .groupBy("elsm_id")
    .select("elsm_id")
    .count<{ elsm_id: number; n: number }[]>({ n: "*" })
    .orderBy("n", "desc")
    .limit(1);
  if (!doc || !big) throw new Error("no conversations: run `npm run populate` first");
  const elsm = await db("elsms").where({ id: big.elsm_id }).first("code");
  const [total] = await db("conversations").where({ elsm_id: big.elsm_id }).count<{ n: number }[]>({ n: "*" });
  const agentIds = (await db("agents").where({ elsm_id: big.elsm_id }).orderBy("id").select("id")).map((a: { id: number }) => a.id);
  // A thread of the big tray with a patient, several messages and attachments: the newest such among the first pages.
  const recent = await db("conversations")
    .where({ elsm_id: big.elsm_id, state: "a_traiter" })
    .whereNotNull("patient_id")
    .orderBy([
      { column: "last_message_at", order: "desc" },
      { column: "id", order: "desc" },
    ])
    .limit(400)
    .select("id", "patient_id");
  let thread: Picks["thread"] | null = null;
  let patientId = 0;
  for (const c of recent) {
    const [m] = await db("messages").where({ conversation_id: c.id }).count<{ n: number }[]>({ n: "*" });
    const [a] = await db("attachments as a").join("messages as m", "m.id", "a.message_id").where("m.conversation_id", c.id).count<{ n: number }[]>({ n: "*" });
    if (Number(m?.n) >= 5 && Number(a?.n) >= 1) {
      thread = { id: c.id, messages: Number(m!.n), attachments: Number(a!.n) };
      patientId = c.patient_id;
      break;
    }
  }
  if (!thread) throw new Error("no thread with ≥ 5 messages and an attachment in the big tray");
  const patient = await db("patients").where({ id: patientId }).first("nir", "nir_key", "first_name", "last_name");
  const [common] = await db("patients as p")
    .join("caisses as ca", "ca.id", "p.caisse_id")
    .where("ca.elsm_id", big.elsm_id)
    .groupBy("p.last_name_key")
    .select("p.last_name_key")
    .count<{ last_name_key: string; n: number }[]>({ n: "*" })
    .orderBy("n", "desc")
    .limit(1);
  const single = await db("patients").groupBy("nir", "nir_key").havingRaw("COUNT(*) = 1").select("nir", "nir_key").orderBy("nir").first();
  return {
    doctor: { id: doc.id, name: `Dr ${doc.first_name} ${doc.last_name}`, threads: Number(doc.n) },
    elsm: { id: big.elsm_id, code: elsm.code, aTraiter: Number(big.n), total: Number(total?.n) },
    agentIds,
    thread,
    nir: { nir: patient.nir, key: patient.nir_key, name: `${patient.first_name} ${patient.last_name}` },
    lastName: common!.last_name_key,
    singlePatient: { nir: single.nir, key: single.nir_key },
  };
}

// ---- load runs ------------------------------------------------------------------------------------------------

type Run = {
  target: string;
  page: string;
  path: string;
  reqPerSec: number;
  p50: number;
  p99: number;
  requests: number;
  bad: number;
  peakRssMb: number;
  hwmMb: number;
  cpu: { app: number; pg: number; tool: number; other: number; wall: number };
  load: string;
  /** req/s of the hello world measured just before this target's runs (the ratio's reference). */
  helloReqPerSec?: number;
};

async function cannon(port: number, pathName: string, cookie: string, seconds: number): Promise<Result> {
  return autocannon({ url: `http://127.0.0.1:${port}${pathName}`, connections: CONNECTIONS, duration: seconds, headers: cookie ? { cookie } : {} });
}

/** Waits until the rest of the machine is quiet (or QUIET_WAIT has passed); returns the cores the others used last. */
async function waitQuiet(): Promise<number> {
  const until = Date.now() + QUIET_WAIT * 1000;
  let warned = false;
  for (;;) {
    const busy = machineBusy();
    const self = process.cpuUsage();
    await sleep(2000);
    const own = process.cpuUsage(self);
    const others = (machineBusy() - busy - (own.user + own.system) / 1e6) / 2;
    if (others <= QUIET_CORES || Date.now() > until) {
      if (warned) log(`  … ${others <= QUIET_CORES ? "quiet" : "still busy, measuring anyway"} (others ${others.toFixed(2)} cores)`);
      return others;
    }
    if (!warned) log(`  waiting for a quiet machine: other processes use ${others.toFixed(2)} cores`);
    warned = true;
  }
}

async function measure(target: string, page: string, appPid: number, port: number, pathName: string, cookie: string): Promise<Run> {
  if (QUIET_WAIT > 0) await waitQuiet();
  if (WARMUP > 0) await cannon(port, pathName, cookie, WARMUP);
  const load = loadavg();
  const rss = rssSampler(appPid, 100);
  const before = cpuSnapshot(appPid);
  const r = await cannon(port, pathName, cookie, DURATION);
  const after = cpuSnapshot(appPid);
  const mem = rss.stop();
  const app = after.app - before.app;
  // Backends of other databases (a shared server) are counted with "other", not with the app's PostgreSQL.
  const pgOthers = Math.max(0, after.pgOthers - before.pgOthers);
  const pg = Math.max(0, after.pg - before.pg - pgOthers);
  const tool = after.tool - before.tool;
  const run: Run = {
    target,
    page,
    path: pathName,
    reqPerSec: r.requests.average,
    p50: r.latency.p50,
    p99: r.latency.p99,
    requests: r.requests.total,
    bad: r.non2xx + r.errors + r.timeouts,
    peakRssMb: mem.peakMb,
    hwmMb: mem.hwmMb,
    cpu: { app, pg, tool, other: Math.max(0, after.machine - before.machine - app - pg - tool), wall: (after.at - before.at) / 1000 },
    load,
  };
  log(
    `  ${target.padEnd(7)} ${page.padEnd(18)} ${fmt(run.reqPerSec, 0).padStart(7)} req/s  p50 ${fmt(run.p50)} ms  p99 ${fmt(run.p99)} ms  ` +
      `bad ${run.bad}  RSS ${fmt(run.peakRssMb, 0)} MB  CPU s app ${fmt(app)} pg ${fmt(pg)} tool ${fmt(tool)} other ${fmt(run.cpu.other)}  (load ${load})`,
  );
  return run;
}

// ---- server-side search time (in-process, so the server's own clock and Knex's query events) ------------------

type SearchTiming = {
  database: string;
  search: string;
  criteria: string;
  found: string;
  samples: number;
  request: number;
  requestP90: number;
  searchSql: number;
  trayCounts: number;
  trayPage: number;
  pageRows?: number;
  session: number;
  sqlPerRequest?: number;
  queriesPerRequest?: number;
};

async function serverSideSearches(target: Target, dataDir: string, picks: Picks): Promise<SearchTiming[]> {
  const config = loadConfig({ ...appEnv(target, dataDir, 0) });
  const rt = buildRuntime(config);
  const started = new Map<string, bigint>();
  let current: Record<string, number[]> | null = null;
  const kind = (sql: string) =>
    /pg_stats|plainto_tsquery/i.test(sql)
      ? "other" // the words' tsqueries and frequencies, read before the search (dialect textConditions)
      : /patient_id["`]? in \(select|patient_last_name_key["`]? >=|search_text/i.test(sql)
        ? "searchSql"
        : /["`]c["`]\.["`]id["`] in \(/i.test(sql)
          ? "pageRows"
          : /tray_counts/i.test(sql) || (/group by/i.test(sql) && /conversations/i.test(sql))
            ? "trayCounts"
            : /["`]state["`] = /i.test(sql) && /order by/i.test(sql)
              ? "trayPage"
              : /["`]?sessions["`]?/.test(sql)
                ? "session"
                : "other";
  rt.db.on("query", (q: { __knexQueryUid: string }) => started.set(q.__knexQueryUid, process.hrtime.bigint()));
  rt.db.on("query-response", (_r: unknown, q: { __knexQueryUid: string; sql: string }) => {
    const t0 = started.get(q.__knexQueryUid);
    started.delete(q.__knexQueryUid);
    if (t0 === undefined || !current) return;
    const bucket = kind(q.sql);
    const ms = Number(process.hrtime.bigint() - t0) / 1e6;
    current[bucket] ??= [];
    current[bucket].push(ms);
    if (SLOW_SQL > 0 && ms > SLOW_SQL) log(`    slow (${bucket}, ${fmt(ms, 1)} ms): ${q.sql}`);
  });
  let requestTimes: number[] | null = null;
  const server = http.createServer((req, res) => {
    const t0 = process.hrtime.bigint();
    const sink = requestTimes;
    if (sink) res.on("finish", () => sink.push(Number(process.hrtime.bigint() - t0) / 1e6));
    rt.app(req, res);
  });
  server.listen(await freePort(), "127.0.0.1");
  await once(server, "listening");
  const { port } = server.address() as AddressInfo;
  const out: SearchTiming[] = [];
  try {
    for (const [search, criteria] of [
      ["NIR", { patient_nir: picks.nir.nir }],
      ["name", { patient_nom: picks.lastName }],
      // Full-text (issue 13 §6): a word in ~1 message in 14, two words, with the notes, a word in no message, words + a name.
      ["words", { texte: "lombalgie" }],
      ["words", { texte: "lombalgie chronique" }],
      ["words", { texte: "sédentaire", notes: "1" }],
      ["words", { texte: "zygomatique" }],
      ["words", { texte: "lombalgie", patient_nom: picks.lastName }],
      // Issue 14 §5: the échelon's Tableau de bord (26 weeks), timed the same way.
      ["dashboard", {}],
    ] as [string, Criteria][]) {
      if (SEARCHES && !SEARCHES.includes(search)) continue;
      const c = await loginAgent(port, picks.agentIds[0]!);
      const page = search === "dashboard" ? "/bo/tableau-de-bord" : "/bo/recherche";
      const found = search === "dashboard" ? "26 semaines" : await storeSearch(c, criteria);
      for (let i = 0; i < 20; i += 1) await c.get(page);
      if (QUIET_WAIT > 0) await waitQuiet();
      requestTimes = [];
      const perQuery: Record<string, number[]> = {};
      current = perQuery;
      for (let i = 0; i < SAMPLES; i += 1) {
        const res = await c.get(page);
        if (res.status !== 200) throw new Error(`${page}: ${res.status}`);
      }
      current = null;
      const times = requestTimes;
      requestTimes = null;
      const perRequest = (k: string) => median(perQuery[k] ?? []);
      const allSql = Object.values(perQuery).flat();
      out.push({
        database: target.database === "sqlite" ? "SQLite" : "PostgreSQL",
        search,
        criteria: Object.entries(criteria)
          .map(([k, v]) => `${k}=${v}`)
          .join(" "),
        found,
        samples: times.length,
        request: median(times),
        requestP90: percentile(times, 90),
        searchSql: perRequest("searchSql"),
        trayCounts: perRequest("trayCounts"),
        trayPage: perRequest("trayPage"),
        pageRows: perRequest("pageRows"),
        session: perRequest("session"),
        sqlPerRequest: allSql.reduce((a, b) => a + b, 0) / times.length,
        queriesPerRequest: allSql.length / times.length,
      });
      log(
        `  ${target.database.padEnd(7)} ${search.padEnd(5)} search (${found}): request median ${fmt(median(times), 2)} ms (p90 ${fmt(percentile(times, 90), 2)}), ` +
          `search SQL ${fmt(perRequest("searchSql"), 2)} ms, tray counts ${fmt(perRequest("trayCounts"), 2)} ms, tray page ${fmt(perRequest("trayPage"), 2)} ms`,
      );
    }
  } finally {
    await sleep(300); // the last requests' session writes finish after their responses
    server.close();
    server.closeAllConnections();
    await rt.db.destroy();
  }
  return out;
}

// ---- upload RSS ---------------------------------------------------------------------------------------------

/** A valid one-page PDF whose content stream is padded with spaces up to `size` bytes. */
function paddedPdf(file: string, size: number): void {
  const head = Buffer.from("%PDF-1.4\n%\xe2\xe3\xcf\xd3\n", "latin1");
  const objs = [
    "1 0 obj\n<< /Type /Catalog /Pages 2 0 R >>\nendobj\n",
    "2 0 obj\n<< /Type /Pages /Kids [3 0 R] /Count 1 >>\nendobj\n",
    "3 0 obj\n<< /Type /Page /Parent 2 0 R /MediaBox [0 0 595 842] /Contents 4 0 R >>\nendobj\n",
  ];
  const build = (n: number) => {
    const offsets: number[] = [];
    let at = head.length;
    for (const o of objs) {
      offsets.push(at);
      at += o.length;
    }
    offsets.push(at);
    const streamHead = `4 0 obj\n<< /Length ${n} >>\nstream\n`;
    const streamTail = "\nendstream\nendobj\n";
    at += streamHead.length + n + streamTail.length;
    const xref = `xref\n0 5\n0000000000 65535 f \n${offsets.map((o) => `${String(o).padStart(10, "0")} 00000 n \n`).join("")}`;
    const trailer = `trailer\n<< /Size 5 /Root 1 0 R >>\nstartxref\n${at}\n%%EOF\n`;
    return {
      before: head.length + objs.join("").length + streamHead.length,
      after: streamTail.length + xref.length + trailer.length,
      parts: [objs.join(""), streamHead, streamTail, xref, trailer],
    };
  };
  let n = size - 1000;
  for (let i = 0; i < 5; i += 1) {
    const b = build(n);
    n += size - (b.before + n + b.after);
  }
  const b = build(n);
  const [objsText, streamHead, streamTail, xref, trailer] = b.parts as [string, string, string, string, string];
  const fd = fs.openSync(file, "w");
  fs.writeSync(fd, head);
  fs.writeSync(fd, objsText + streamHead);
  const block = Buffer.alloc(1 << 20, 0x20);
  for (let left = n; left > 0; left -= block.length) fs.writeSync(fd, block, 0, Math.min(block.length, left));
  fs.writeSync(fd, streamTail + xref + trailer);
  fs.closeSync(fd);
  if (fs.statSync(file).size !== size) throw new Error(`padded PDF is ${fs.statSync(file).size} bytes, wanted ${size}`);
}

type Upload = { database: string; status: number; location: string; seconds: number; baselineMb: number; peakMb: number; growthMb: number; stored: number };

async function uploadRss(target: Target, dataDir: string, picks: Picks, pdf: string): Promise<Upload> {
  const { child, port } = await startApp(target, dataDir);
  try {
    const c = await loginPs(port, picks.doctor.id);
    const portal = await c.get("/ps/patient");
    const sel = await c.post("/ps/patient/nir", { _csrf: hidden(portal.body, "_csrf"), nir: picks.singlePatient.nir, key: picks.singlePatient.key });
    if (sel.status !== 303) throw new Error(`patient selection failed: ${sel.status}`);
    /** Sends one message with `files` copies of `pdf` as a streamed multipart request. */
    const send = async (pdfFile: string, files: number) => {
      const form = await c.get("/ps/conversations/new");
      const fields: Record<string, string> = {
        _csrf: hidden(form.body, "_csrf"),
        _ctx: hidden(form.body, "_ctx"),
        submission_key: hidden(form.body, "submission_key"),
        subject: "Examens joints (bench)",
        body: "Bonjour,\nCi-joint les examens.\nBien confraternellement.",
        action: "send",
      };
      const boundary = `----ems-bench-${crypto.randomBytes(8).toString("hex")}`;
      const fieldText = Object.entries(fields)
        .map(([k, v]) => `--${boundary}\r\nContent-Disposition: form-data; name="${k}"\r\n\r\n${v}\r\n`)
        .join("");
      const size = fs.statSync(pdfFile).size;
      const fileHead = (i: number) =>
        `--${boundary}\r\nContent-Disposition: form-data; name="attachments"; filename="examen-${i + 1}.pdf"\r\nContent-Type: application/pdf\r\n\r\n`;
      const tail = `--${boundary}--\r\n`;
      let length = Buffer.byteLength(fieldText) + Buffer.byteLength(tail);
      for (let i = 0; i < files; i += 1) length += Buffer.byteLength(fileHead(i)) + size + 2;
      return c.request("POST", "/ps/conversations", {
        headers: { "content-type": `multipart/form-data; boundary=${boundary}`, "content-length": length },
        write: async (req) => {
          const put = async (chunk: Buffer | string) => {
            if (!req.write(chunk)) await once(req, "drain");
          };
          await put(fieldText);
          for (let i = 0; i < files; i += 1) {
            await put(fileHead(i));
            for await (const chunk of fs.createReadStream(pdfFile, { highWaterMark: 64 * 1024 })) await put(chunk as Buffer);
            await put("\r\n");
          }
          await put(tail);
        },
      });
    };

    // Warm the code paths first: the list, and one send with a small attachment (modules loaded on first use,
    // compiled code), so that the growth measured is the upload's, not the first send's.
    for (let i = 0; i < 3; i += 1) await c.get("/ps/messages");
    const small = path.join(path.dirname(pdf), "petit.pdf");
    if (!fs.existsSync(small)) paddedPdf(small, 100 * 1024);
    const warm = await send(small, 1);
    if (warm.status !== 303) throw new Error(`warm-up send refused: ${warm.status}`);
    if (QUIET_WAIT > 0) await waitQuiet();
    await sleep(500);
    const pid = child.pid!;
    const baselineKb = tree(pid).reduce((sum, s) => sum + memKb(s.pid, "VmRSS"), 0);
    const sampler = rssSampler(pid, 5);
    const t0 = performance.now();
    const res = await send(pdf, 5);
    const size = fs.statSync(pdf).size;
    const seconds = (performance.now() - t0) / 1000;
    await sleep(300);
    const mem = sampler.stop();
    const location = String(res.headers.location ?? "");
    if (res.status !== 303 || !/\/ps\/conversations\/\d+$/.test(location)) throw new Error(`upload refused: ${res.status} ${res.body.slice(0, 300)}`);
    const id = Number(location.split("/").pop());
    const db = connect(
      target.database === "sqlite"
        ? { databaseUrl: undefined, sqliteFile: SQLITE_FILE, databaseSchema: undefined }
        : { databaseUrl: PG_URL, sqliteFile: "", databaseSchema: undefined },
    );
    const [stored] = await db("attachments as a").join("messages as m", "m.id", "a.message_id").where("m.conversation_id", id).count<{ n: number }[]>({ n: "*" });
    await db.destroy();
    const out: Upload = {
      database: target.label,
      status: res.status,
      location,
      seconds,
      baselineMb: baselineKb / 1024,
      peakMb: mem.peakMb,
      growthMb: mem.peakMb - baselineKb / 1024,
      stored: Number(stored?.n ?? 0),
    };
    log(
      `  ${target.name.padEnd(7)} upload 5 × ${fmt(size / 1048576, 2)} MB: ${res.status} in ${fmt(seconds, 2)} s, ${out.stored} attachments stored, RSS ${fmt(out.baselineMb)} → peak ${fmt(out.peakMb)} MB (+${fmt(out.growthMb)} MB)`,
    );
    return out;
  } finally {
    await stopChild(child);
  }
}

// ---- open-loop mixed workload (issue 17 §3) -------------------------------------------------------------------
//
// Requests arrive at a fixed mean rate whatever the server does: a schedule of arrival times is drawn first (Poisson
// arrivals: exponential gaps, seeded), a timer sends each request when its time comes without waiting for earlier
// answers (a new keep-alive socket whenever all are busy), and each latency runs from the request's SCHEDULED time to
// the last byte of its answer. A server that falls behind therefore shows its queue in the latencies instead of
// slowing the load tool down (no coordinated omission); the lag between scheduled and actual send is reported too,
// to show the load tool itself kept up.

type Kind = "list" | "thread" | "search" | "send" | "draft" | "download";
const KINDS: Kind[] = ["list", "thread", "search", "send", "draft", "download"];
/** The mix: 55 % list/tray pages, 25 % thread views, 8 % searches, 5 % sends, 5 % drafts (autosaves), 2 % downloads. */
const MIX: [Kind, number][] = [
  ["list", 55],
  ["thread", 25],
  ["search", 8],
  ["send", 5],
  ["draft", 5],
  ["download", 2],
];
const OPEN_RATES = (arg("rates") ?? "50,100,200,400").split(",").map(Number);
const OPEN_DURATION = num("openloop-duration", 20);
const OPEN_DOCTORS = num("openloop-doctors", 120);
const OPEN_ELSMS = num("openloop-elsms", 12);
const ATTACHMENT_BYTES = 1024 * 1024;

type Session = {
  side: "ps" | "bo";
  client: Client;
  csrf: string;
  threads: number[];
  /** Where this session's replies go, and the signed form context of that reply form. */
  reply: { conversationId: number; ctx: string };
  /** Where its autosaves go: another thread, the draft named after the first save. */
  draft: { conversationId: number; ctx: string; id: string; version: string };
  downloads: number[];
  search: boolean;
};

async function replyForm(s: { side: "ps" | "bo"; client: Client }, conversationId: number): Promise<{ ctx: string; csrf: string; draftId: string; draftVersion: string }> {
  const page = await s.client.get(`/${s.side}/conversations/${conversationId}/reply`);
  if (page.status !== 200) throw new Error(`/${s.side}/conversations/${conversationId}/reply: ${page.status}`);
  // A reply draft kept from an earlier run: the form names it, and the autosaves continue it (else 409, a conflict).
  const draft = /name="draft_id"/.test(page.body)
    ? { draftId: hidden(page.body, "draft_id"), draftVersion: hidden(page.body, "draft_version") }
    : { draftId: "", draftVersion: "" };
  return { ctx: hidden(page.body, "_ctx"), csrf: hidden(page.body, "_csrf"), ...draft };
}

/** A reply as the form posts it: urlencoded, or multipart with one PDF attached (`pdf`). */
function replyRequest(s: Session, where: { conversationId: number; ctx: string }, fields: Record<string, string>, pdf: Buffer | null) {
  // The échelon's reply to a doctor without a notification mailbox is sent once that is confirmed (the form's tick box).
  const confirm: Record<string, string> = s.side === "bo" && fields.action === "send" ? { confirm_no_mail: "1" } : {};
  const all: Record<string, string> = { _csrf: s.csrf, _ctx: where.ctx, submission_key: crypto.randomBytes(16).toString("hex"), ...confirm, ...fields };
  const pathName = `/${s.side}/conversations/${where.conversationId}/messages`;
  if (!pdf) {
    const body = Buffer.from(new URLSearchParams(all).toString());
    return { method: "POST", path: pathName, body, headers: { "content-type": "application/x-www-form-urlencoded" } };
  }
  const boundary = `----ems-open-${crypto.randomBytes(8).toString("hex")}`;
  const head = Object.entries(all)
    .map(([k, v]) => `--${boundary}\r\nContent-Disposition: form-data; name="${k}"\r\n\r\n${v}\r\n`)
    .join("");
  const file = `--${boundary}\r\nContent-Disposition: form-data; name="attachments"; filename="compte-rendu.pdf"\r\nContent-Type: application/pdf\r\n\r\n`;
  const body = Buffer.concat([Buffer.from(head + file), pdf, Buffer.from(`\r\n--${boundary}--\r\n`)]);
  return { method: "POST", path: pathName, body, headers: { "content-type": `multipart/form-data; boundary=${boundary}` } };
}

/** Signs in the sessions of the mix: many doctors (their own threads) and every agent of the biggest échelons. */
async function openSessions(db: Db, port: number, pdf: Buffer): Promise<Session[]> {
  const doctors = (await db("conversations")
    .whereNull("ps_deleted_at")
    .whereNotNull("ps_practitioner_id")
    .groupBy("ps_practitioner_id")
    .havingRaw("COUNT(*) >= 20")
    .orderByRaw("COUNT(*) DESC")
    .limit(OPEN_DOCTORS)
    .select("ps_practitioner_id as id")) as { id: number }[];
  const elsms = (await db("conversations").groupBy("elsm_id").orderByRaw("COUNT(*) DESC").limit(OPEN_ELSMS).select("elsm_id as id")) as { id: number }[];
  const agents = (await db("agents")
    .whereIn(
      "elsm_id",
      elsms.map((e) => e.id),
    )
    .orderBy("id")
    .select("id", "elsm_id")) as { id: number; elsm_id: number }[];
  const recent = (q: Knex.QueryBuilder) =>
    q
      .orderBy([
        { column: "last_message_at", order: "desc" },
        { column: "id", order: "desc" },
      ])
      .limit(30)
      .pluck("id") as Promise<number[]>;
  const sessions: Session[] = [];
  const open = async (side: "ps" | "bo", client: Client, threads: number[], writable: number[], search: boolean) => {
    // Replies go to a thread of even id, autosaves to one of odd id: from one run to the next (states move), a thread
    // never gets both (a send into a thread holding this user's draft would be a conflict).
    const replyTo = writable.find((id) => id % 2 === 0);
    const draftIn = writable.find((id) => id % 2 === 1);
    if (replyTo === undefined || draftIn === undefined || !threads.length) return;
    const s = { side, client };
    let reply = await replyForm(s, replyTo);
    if (reply.draftId) {
      // A draft left there by an earlier run: discarded, so that the sends are plain replies (not conflicts with it).
      const res = await client.post(`/${side}/drafts/${reply.draftId}/delete`, { _csrf: reply.csrf });
      if (res.status !== 303) throw new Error(`draft discard: ${res.status}`);
      reply = await replyForm(s, replyTo);
    }
    const draft = await replyForm(s, draftIn);
    sessions.push({
      side,
      client,
      csrf: reply.csrf,
      threads,
      reply: { conversationId: replyTo, ctx: reply.ctx },
      draft: { conversationId: draftIn, ctx: draft.ctx, id: draft.draftId, version: draft.draftVersion },
      downloads: [],
      search,
    });
  };
  for (const d of doctors) {
    const mine = () => db("conversations").where({ ps_practitioner_id: d.id }).whereNull("ps_deleted_at");
    await open("ps", await loginPs(port, d.id), await recent(mine()), await recent(mine().whereNot({ state: "clos" })), false);
  }
  for (const [i, a] of agents.entries()) {
    const theirs = () => db("conversations").where({ elsm_id: a.elsm_id });
    const client = await loginAgent(port, a.id);
    // Every other agent keeps a search in its session (NIR or name, as the closed-loop runs): GET /bo/recherche shows it.
    const search = i % 2 === 0;
    if (search) {
      const p = (await db("conversations as c")
        .join("patients as p", "p.id", "c.patient_id")
        .where("c.elsm_id", a.elsm_id)
        .orderBy("c.id", "desc")
        .first("p.nir", "p.last_name_key")) as { nir: string; last_name_key: string } | undefined;
      if (p) await storeSearch(client, i % 4 === 0 ? { patient_nir: p.nir } : { patient_nom: p.last_name_key.slice(0, 5) });
    }
    await open(
      "bo",
      client,
      await recent(theirs().where({ state: "a_traiter" })),
      await recent(
        theirs()
          .whereNot({ state: "clos" })
          .offset(100 + 3 * i),
      ),
      search,
    );
  }
  // Files to download: one reply with a 1 MB PDF from each of the first sessions of each side, its attachment id read back.
  for (const side of ["ps", "bo"] as const) {
    for (const s of sessions.filter((x) => x.side === side).slice(0, 6)) {
      const r = replyRequest(s, s.reply, { body: "Compte rendu joint (bench).", action: "send" }, pdf);
      const res = await s.client.request(r.method, r.path, { headers: { ...r.headers, "content-length": r.body.length }, write: async (req) => void req.write(r.body) });
      if (res.status !== 303) throw new Error(`${side} send with attachment: ${res.status} ${/class="error[^>]*>([^<]+)/.exec(res.body)?.[1] ?? res.body.slice(0, 300)}`);
      const thread = await s.client.get(`/${side}/conversations/${s.reply.conversationId}`);
      const ids = [...thread.body.matchAll(new RegExp(`/${side}/attachments/(\\d+)`, "g"))].map((m) => Number(m[1]));
      s.downloads.push(...ids.slice(-1));
    }
  }
  return sessions;
}

type Sample = { kind: Kind; at: number; ms: number; status: number; lag: number };
type OpenRun = {
  target: string;
  rate: number;
  seconds: number;
  sent: number;
  achieved: number;
  load: string;
  lagP99: number;
  cpu: { app: number; pg: number; tool: number; other: number };
  kinds: Record<Kind, { n: number; p50: number; p95: number; p99: number; max: number; errors: number }>;
  all: { n: number; p50: number; p95: number; p99: number; errors: number };
  statuses: Record<string, number>;
};

const EXPECTED: Record<Kind, number[]> = { list: [200], thread: [200], search: [200], send: [303], draft: [204], download: [200] };

/** One scheduled request: what it sends, on which session. */
function planRequest(
  kind: Kind,
  s: Session,
  rnd: () => number,
  pdf: Buffer,
): { method: string; path: string; body?: Buffer; headers?: http.OutgoingHttpHeaders; after?: (res: http.IncomingMessage) => void } {
  const pickOf = <T>(xs: T[]) => xs[Math.floor(rnd() * xs.length)]!;
  switch (kind) {
    case "list":
      if (s.side === "ps") return { method: "GET", path: rnd() < 0.85 ? "/ps/messages" : "/ps" };
      return { method: "GET", path: rnd() < 0.7 ? "/bo/bannettes/a-traiter" : rnd() < 0.6 ? "/bo/bannettes/en-cours" : "/bo/mes-echanges" };
    case "thread":
      return { method: "GET", path: `/${s.side}/conversations/${pickOf(s.threads)}` };
    case "search":
      return { method: "GET", path: "/bo/recherche" };
    case "download":
      return { method: "GET", path: `/${s.side}/attachments/${pickOf(s.downloads)}` };
    case "send":
      return replyRequest(s, s.reply, { body: "Bonjour,\nVoici les éléments demandés.\nBien confraternellement.", action: "send" }, rnd() < 0.2 ? pdf : null);
    case "draft": {
      const fields: Record<string, string> = { body: `Brouillon en cours de saisie ${Math.floor(rnd() * 1e6)}`, action: "draft" };
      if (s.draft.id) Object.assign(fields, { draft_id: s.draft.id, draft_version: s.draft.version });
      const r = replyRequest(s, s.draft, fields, null);
      return {
        ...r,
        headers: { ...r.headers, "x-autosave": "1" },
        after: (res) => {
          if (res.statusCode === 204) {
            s.draft.id = String(res.headers["x-draft-id"] ?? s.draft.id);
            s.draft.version = String(res.headers["x-draft-version"] ?? s.draft.version);
          }
        },
      };
    }
  }
}

async function openLoop(
  targetLabel: string,
  appPid: number,
  port: number,
  sessions: Session[],
  rate: number,
  seconds: number,
  seed: number,
  pdf: Buffer,
  record: boolean,
): Promise<OpenRun> {
  const rnd = mulberry32(seed);
  const total = MIX.reduce((a, [, w]) => a + w, 0);
  const drawKind = (): Kind => {
    let x = rnd() * total;
    for (const [k, w] of MIX) {
      x -= w;
      if (x < 0) return k;
    }
    return "list";
  };
  const bySide = {
    ps: sessions.filter((s) => s.side === "ps"),
    bo: sessions.filter((s) => s.side === "bo"),
    search: sessions.filter((s) => s.search),
    download: sessions.filter((s) => s.downloads.length),
  };
  // The schedule: Poisson arrivals at `rate` per second, each with its kind and session, drawn before the run.
  const plan: { at: number; kind: Kind; session: Session }[] = [];
  for (let t = 0; ; ) {
    t += (-Math.log(1 - rnd()) / rate) * 1000;
    if (t >= seconds * 1000) break;
    const kind = drawKind();
    const pool = kind === "search" ? bySide.search : kind === "download" ? bySide.download : rnd() < 0.5 ? bySide.ps : bySide.bo;
    plan.push({ at: t, kind, session: pool[Math.floor(rnd() * pool.length)]! });
  }
  const agent = new http.Agent({ keepAlive: true, maxSockets: Infinity });
  const samples: Sample[] = [];
  const load = loadavg();
  const before = cpuSnapshot(appPid);
  const t0 = performance.now() + 20;
  let outstanding = 0;
  let resolveDone: () => void = () => {};
  const done = new Promise<void>((r) => (resolveDone = r));
  let next = 0;
  const fire = (p: (typeof plan)[number]) => {
    const r = planRequest(p.kind, p.session, rnd, pdf);
    const scheduled = t0 + p.at;
    const lag = performance.now() - scheduled;
    outstanding += 1;
    const finish = (status: number) => {
      samples.push({ kind: p.kind, at: p.at, ms: performance.now() - scheduled, status, lag });
      outstanding -= 1;
      if (outstanding === 0 && next >= plan.length) resolveDone();
    };
    const headers: http.OutgoingHttpHeaders = { accept: "text/html", cookie: p.session.client.cookie, ...r.headers };
    if (r.body) headers["content-length"] = r.body.length;
    const req = http.request({ host: "127.0.0.1", port, path: r.path, method: r.method, headers, agent }, (res) => {
      r.after?.(res);
      res.on("data", () => {});
      res.on("end", () => finish(res.statusCode ?? 0));
      res.on("error", () => finish(-1));
    });
    req.setTimeout(60_000, () => req.destroy());
    req.on("error", () => finish(-1));
    req.end(r.body);
  };
  const tick = () => {
    const now = performance.now() - t0;
    while (next < plan.length && plan[next]!.at <= now) fire(plan[next++]!);
    if (next < plan.length) setTimeout(tick, Math.max(0, plan[next]!.at - (performance.now() - t0) - 0.5));
    else if (outstanding === 0) resolveDone();
  };
  setTimeout(tick, 20);
  await done;
  const after = cpuSnapshot(appPid);
  agent.destroy();
  const pgOthers = Math.max(0, after.pgOthers - before.pgOthers);
  const app = after.app - before.app;
  const pg = Math.max(0, after.pg - before.pg - pgOthers);
  const tool = after.tool - before.tool;
  const wall = (after.at - before.at) / 1000;
  const stats = (xs: Sample[]) => {
    const ms = xs.map((s) => s.ms);
    return {
      n: xs.length,
      p50: percentile(ms, 50),
      p95: percentile(ms, 95),
      p99: percentile(ms, 99),
      max: Math.max(...ms),
      errors: xs.filter((s) => !EXPECTED[s.kind].includes(s.status)).length,
    };
  };
  const kinds = Object.fromEntries(KINDS.map((k) => [k, stats(samples.filter((s) => s.kind === k))])) as OpenRun["kinds"];
  const statuses: Record<string, number> = {};
  for (const s of samples) if (!EXPECTED[s.kind].includes(s.status)) statuses[`${s.kind} ${s.status}`] = (statuses[`${s.kind} ${s.status}`] ?? 0) + 1;
  const run: OpenRun = {
    target: targetLabel,
    rate,
    seconds,
    sent: samples.length,
    achieved: samples.length / seconds,
    load,
    lagP99: percentile(
      samples.map((s) => s.lag),
      99,
    ),
    cpu: { app, pg, tool, other: Math.max(0, after.machine - before.machine - app - pg - tool) },
    kinds,
    all: stats(samples),
    statuses,
  };
  if (record)
    log(
      `  ${targetLabel.padEnd(15)} ${String(rate).padStart(4)} req/s: ${samples.length} requests, p50 ${fmt(run.all.p50)} p95 ${fmt(run.all.p95)} p99 ${fmt(run.all.p99)} ms, errors ${run.all.errors} ${JSON.stringify(statuses)}; ` +
        KINDS.map((k) => `${k} p99 ${fmt(kinds[k].p99)}`).join(", ") +
        `; CPU ms/req app ${fmt((app * 1000) / samples.length, 2)} db ${fmt((pg * 1000) / samples.length, 2)} tool ${fmt((tool * 1000) / samples.length, 2)} other ${fmt(run.cpu.other)} s over ${fmt(wall)} s; send lag p99 ${fmt(run.lagP99)} ms (load ${load})`,
    );
  return run;
}

async function openLoopRuns(target: Target, dataDir: string): Promise<OpenRun[]> {
  const pdfFile = path.join(dataDir, "compte-rendu.pdf");
  if (!fs.existsSync(pdfFile)) paddedPdf(pdfFile, ATTACHMENT_BYTES);
  const pdf = fs.readFileSync(pdfFile);
  const { child, port } = await startApp(target, dataDir);
  const db = connect(
    target.database === "sqlite"
      ? { databaseUrl: undefined, sqliteFile: SQLITE_FILE, databaseSchema: undefined, sqliteConnections: 1 }
      : { databaseUrl: PG_URL, sqliteFile: "", databaseSchema: undefined },
  );
  const runs: OpenRun[] = [];
  try {
    const sessions = await openSessions(db, port, pdf);
    log(`  ${target.label}: ${sessions.filter((s) => s.side === "ps").length} doctors' and ${sessions.filter((s) => s.side === "bo").length} agents' sessions signed in`);
    // Warm-up: 5 s at the lowest rate (code compiled, caches filled), not recorded.
    await openLoop(target.label, child.pid!, port, sessions, OPEN_RATES[0] ?? 50, 5, 1, pdf, false);
    for (const [i, rate] of OPEN_RATES.entries()) {
      if (QUIET_WAIT > 0) await waitQuiet();
      runs.push(await openLoop(target.label, child.pid!, port, sessions, rate, OPEN_DURATION, 100 + i, pdf, true));
    }
  } finally {
    await db.destroy();
    await stopChild(child);
  }
  return runs;
}

function openLoopReport(runs: OpenRun[]): string {
  const L: string[] = [];
  L.push(
    `### Open-loop mixed workload — Poisson arrivals at a fixed rate, ${runs[0]?.seconds ?? OPEN_DURATION} s per rate, latency from each request's scheduled time`,
    "",
    "Mix: 55 % list/tray pages (doctors' list and portal; A TRAITER, EN COURS, Tous mes échanges), 25 % thread views, 8 % searches (the agent's stored NIR or name search), " +
      "5 % sends (replies; one in five with a 1 MB PDF), 5 % autosaves of a reply draft, 2 % attachment downloads (1 MB), spread over the signed-in doctors and agents.",
    "",
    "| database · processes | rate req/s | requests | load avg | kind | p50 ms | p95 ms | p99 ms | max ms | errors | CPU ms/req: app · database · load tool | other CPU s |",
    "|---|---:|---:|---|---|---:|---:|---:|---:|---:|---|---:|",
  );
  for (const r of runs) {
    const per = (s: number) => fmt((s * 1000) / r.sent, 2);
    L.push(
      `| ${r.target} | **${r.rate}** | ${r.sent} | ${r.load} | **all** | ${fmt(r.all.p50)} | ${fmt(r.all.p95)} | **${fmt(r.all.p99)}** | – | ${r.all.errors}${
        Object.keys(r.statuses).length
          ? ` (${Object.entries(r.statuses)
              .map(([k, v]) => `${k}: ${v}`)
              .join(", ")})`
          : ""
      } | ${per(r.cpu.app)} · ${r.target.startsWith("SQLite") ? "(in app)" : per(r.cpu.pg)} · ${per(r.cpu.tool)} | ${fmt(r.cpu.other)} |`,
    );
    for (const k of KINDS) {
      const s = r.kinds[k];
      L.push(`| | | ${s.n} | | ${k} | ${fmt(s.p50)} | ${fmt(s.p95)} | ${fmt(s.p99)} | ${fmt(s.max)} | ${s.errors} | | |`);
    }
  }
  return L.join("\n");
}

// ---- report ---------------------------------------------------------------------------------------------------

function machine(): string {
  const cpu = /model name\s*:\s*(.+)/.exec(fs.readFileSync("/proc/cpuinfo", "utf8"))?.[1] ?? "?";
  return `${os.cpus().length} cores (${cpu}), ${fmt(os.totalmem() / 2 ** 30, 0)} GiB RAM, Node ${process.version}, ${os.type()} ${os.release()}`;
}

type BenchData = {
  command: string;
  machine: string;
  started: string;
  finished: string;
  pgVersion: string;
  pgSettings: string;
  loadStart: string;
  loadEnd: string;
  settings: { connections: number; duration: number; warmup: number; samples: number };
  picks: Record<string, Picks>;
  hello: Run[];
  runs: Run[];
  searches: SearchTiming[];
  uploads: Upload[];
};

/** CPU milliseconds per request of one part (app processes, PostgreSQL, load tool) over a run. */
const perRequest = (r: Run, seconds: number) => (r.requests ? (seconds * 1000) / r.requests : NaN);

function report(data: BenchData): string {
  const { connections, duration, warmup, samples } = data.settings;
  const L: string[] = [];
  L.push(`Produced by \`${data.command}\` (${data.started} → ${data.finished}).`, "");
  L.push(`Machine: ${data.machine}. ${data.pgVersion}; ${data.pgSettings}. Load average (1/5/15 min) at start ${data.loadStart}, at end ${data.loadEnd}.`, "");
  for (const [db, p] of Object.entries(data.picks)) {
    L.push(
      `- ${db}: doctor ${p.doctor.name} (id ${p.doctor.id}, ${p.doctor.threads} threads); ${p.elsm.code} (${p.elsm.total.toLocaleString("en-US")} threads, ` +
        `${p.elsm.aTraiter.toLocaleString("en-US")} in A TRAITER), agent id ${p.agentIds[0]}; thread ${p.thread.id} (${p.thread.messages} messages, ${p.thread.attachments} attachments); ` +
        `NIR search ${p.nir.nir} (${p.nir.name}); name search "${p.lastName}" (a prefix: also matches longer names).`,
    );
  }
  L.push("", `### Throughput and latency — autocannon, ${connections} connections, ${duration} s after a ${warmup} s warm-up`, "");
  L.push(
    `Hello world (bare Express 5, 1 process), measured before each database's runs and at the end: ` +
      `${data.hello.map((h) => `**${int(h.reqPerSec)} req/s** (p50 ${fmt(h.p50)} ms, p99 ${fmt(h.p99)} ms; ${fmt(perRequest(h, h.cpu.app), 3)} CPU ms/req; other processes ${fmt(h.cpu.other)} CPU s)`).join(", ")}. ` +
      'Each "÷ hello" ratio is against the hello world measured just before that database\'s runs.',
    "",
  );
  const helloMs = median(data.hello.map((h) => perRequest(h, h.cpu.app)));
  L.push(
    "| database · processes | page | req/s | ÷ hello | p50 ms | p99 ms | non-2xx + errors | app peak RSS MB | CPU s: app · PostgreSQL · autocannon · other | app CPU ms/req | PG CPU ms/req | ÷ hello, CPU per request |",
  );
  L.push("|---|---|---:|---:|---:|---:|---:|---:|---|---:|---:|---:|");
  for (const r of data.runs) {
    const app = perRequest(r, r.cpu.app);
    const pg = perRequest(r, r.cpu.pg);
    L.push(
      `| ${r.target} | ${r.page} | ${int(r.reqPerSec)} | ${fmt((100 * r.reqPerSec) / (r.helloReqPerSec ?? NaN), 1)} % | ${fmt(r.p50)} | ${fmt(r.p99)} | ${r.bad} | ${fmt(r.peakRssMb, 0)} | ` +
        `${fmt(r.cpu.app)} · ${fmt(r.cpu.pg)} · ${fmt(r.cpu.tool)} · ${fmt(r.cpu.other)} | ${fmt(app, 2)} | ${r.target.startsWith("PostgreSQL") ? fmt(pg, 2) : "–"} | ` +
        `${fmt((100 * helloMs) / app, 1)} % |`,
    );
  }
  L.push(
    "",
    `CPU seconds over the ${duration} s run, from /proc (utime + stime): "app" sums the app's processes (cluster primary + workers; SQLite runs inside them), ` +
      `"PostgreSQL" every postgres process (plus exited backends), "autocannon" the bench process, "other" the rest of the machine (2 cores = ${2 * duration} CPU s). ` +
      `The last column compares CPU cost instead of throughput — hello world's app CPU per request (median ${fmt(helloMs, 3)} ms) ÷ the page's — which stays meaningful when other processes share the cores.`,
    "",
  );
  const pg1 = data.runs.filter((r) => r.target === "PostgreSQL · 1");
  const pg2 = data.runs.filter((r) => r.target === "PostgreSQL · 2");
  if (pg1.length && pg2.length) {
    L.push("#### PostgreSQL, 1 vs 2 app processes", "");
    L.push(
      "| page | req/s 1 → 2 | ratio | app CPU ms/req 1 · 2 | PG CPU ms/req 1 · 2 | autocannon CPU ms/req 1 · 2 | total CPU ms/req 1 · 2 | projected req/s, one core per app process, PG and load tool on cores of their own: 1 · 2 | PG cores needed then: 1 · 2 |",
    );
    L.push("|---|---:|---:|---:|---:|---:|---:|---:|---:|");
    for (const a of pg1) {
      const b = pg2.find((x) => x.page === a.page);
      if (!b) continue;
      const total = (r: Run) => perRequest(r, r.cpu.app + r.cpu.pg + r.cpu.tool);
      const proj = (r: Run, n: number) => (n * 1000) / perRequest(r, r.cpu.app);
      L.push(
        `| ${a.page} | ${int(a.reqPerSec)} → ${int(b.reqPerSec)} | ${fmt(b.reqPerSec / a.reqPerSec, 2)} | ${fmt(perRequest(a, a.cpu.app), 2)} · ${fmt(perRequest(b, b.cpu.app), 2)} | ` +
          `${fmt(perRequest(a, a.cpu.pg), 2)} · ${fmt(perRequest(b, b.cpu.pg), 2)} | ${fmt(perRequest(a, a.cpu.tool), 2)} · ${fmt(perRequest(b, b.cpu.tool), 2)} | ${fmt(total(a), 2)} · ${fmt(total(b), 2)} | ` +
          `${int(proj(a, 1))} · ${int(proj(b, 2))} | ${fmt((proj(a, 1) * perRequest(a, a.cpu.pg)) / 1000, 2)} · ${fmt((proj(b, 2) * perRequest(b, b.cpu.pg)) / 1000, 2)} |`,
      );
    }
    L.push(
      "",
      "Projection: an app process with a core of its own serves 1000 ÷ (its CPU ms per request) requests per second; the last column is how many cores PostgreSQL would need at that rate.",
      "",
    );
  }
  L.push("### Server-side time of the searches", "");
  L.push(
    `${samples} sequential GET /bo/recherche on one connection, the criteria stored in that session, timed inside the server (request: from arrival to the last byte written; SQL: Knex's query → query-response events). ` +
      "The search page also renders the tray column (A TRAITER page + the three tray counts). A list picks its page's ids first " +
      '(search ids, A TRAITER ids), then reads the shown columns of those rows ("page rows", one query per list). ' +
      "The last two columns sum every query of a request (session, lists, counts, drafts).",
    "",
  );
  L.push(
    "| database | search | results shown | request median ms | request p90 ms | search ids SQL median ms | tray counts SQL ms | A TRAITER ids SQL ms | page rows SQL ms | session SQL ms | all SQL per request ms | queries per request |",
  );
  L.push("|---|---|---|---:|---:|---:|---:|---:|---:|---:|---:|---:|");
  const opt = (v: number | undefined) => (v === undefined ? "–" : fmt(v, 2));
  for (const s of data.searches) {
    L.push(
      `| ${s.database} | ${s.search} (${s.criteria}) | ${s.found} | ${fmt(s.request, 2)} | ${fmt(s.requestP90, 2)} | ${fmt(s.searchSql, 2)} | ${fmt(s.trayCounts, 2)} | ${fmt(s.trayPage, 2)} | ${opt(s.pageRows)} | ${fmt(s.session, 2)} | ${opt(s.sqlPerRequest)} | ${opt(s.queriesPerRequest)} |`,
    );
  }
  L.push("", "### Upload: RSS growth while one request uploads 5 files of just under 10 MB", "");
  L.push("| database | response | time s | attachments stored | app RSS before MB | peak MB | growth MB |");
  L.push("|---|---|---:|---:|---:|---:|---:|");
  for (const u of data.uploads) {
    L.push(`| ${u.database} | ${u.status} → ${u.location} | ${fmt(u.seconds, 2)} | ${u.stored} | ${fmt(u.baselineMb)} | ${fmt(u.peakMb)} | ${fmt(u.growthMb)} |`);
  }
  L.push(
    "",
    "Each row is a freshly started app process, warmed up by three list pages and one send with a 100 KB attachment (so that the code loaded and compiled on a first send is not counted as upload memory). RSS sampled every 5 ms from /proc/<pid>/status (VmRSS, summed over the app's processes) from just before the request until 300 ms after the response.",
  );
  return L.join("\n");
}

function writeReport(markdown: string, marker = "bench"): void {
  const file = path.join(root, "docs/PERFORMANCE.md");
  const start = `<!-- ${marker}:start -->`;
  const end = `<!-- ${marker}:end -->`;
  const block = `${start}\n${markdown}\n${end}`;
  let text = fs.existsSync(file) ? fs.readFileSync(file, "utf8") : `# Performance\n\n${start}\n${end}\n`;
  if (!text.includes(start) || !text.includes(end)) text += `\n${start}\n${end}\n`;
  text = text.slice(0, text.indexOf(start)) + block + text.slice(text.indexOf(end) + end.length);
  fs.writeFileSync(file, text);
  log(`results written to ${path.relative(root, file)}`);
}

// ---- main -----------------------------------------------------------------------------------------------------

async function main(): Promise<void> {
  const previous = arg("report");
  if (previous) {
    // Re-render a saved run (the JSON the bench leaves in the temporary folder).
    const markdown = report(JSON.parse(fs.readFileSync(previous, "utf8")) as BenchData);
    process.stdout.write(`${markdown}\n`);
    if (WRITE) writeReport(markdown);
    return;
  }
  // The PDF export (issue 15 §3): quick, on its own fresh database, its own block of docs/PERFORMANCE.md.
  if (PARTS.has("export")) {
    const samples = arg("export-samples");
    await benchExport({ pgUrl: arg("export-pg"), samples: samples ? Number(samples) : undefined, write: WRITE, command: COMMAND });
    if (PARTS.size === 1) return;
  }
  const started = new Date().toISOString();
  const loadStart = loadavg();
  const dataDir = fs.mkdtempSync(path.join(os.tmpdir(), "ems-bench-run-"));
  const pdf = path.join(dataDir, "examen.pdf");
  paddedPdf(pdf, UPLOAD_FILE_BYTES);

  const targets: Target[] = [];
  const picks: Record<string, Picks> = {};
  if (ONLY.has("sqlite") || ONLY.has("sqlite2")) {
    if (!fs.existsSync(SQLITE_FILE)) throw new Error(`no SQLite database at ${SQLITE_FILE}: run DATA_DIR=… npm run populate first`);
    if (ONLY.has("sqlite")) targets.push({ name: "sqlite", label: "SQLite · 1", database: "sqlite", workers: 1, env: { SQLITE_FILE } });
    // Two app processes on one SQLite file (WAL: readers side by side, one writer at a time across processes).
    if (ONLY.has("sqlite2")) targets.push({ name: "sqlite2", label: "SQLite · 2", database: "sqlite", workers: 2, env: { SQLITE_FILE } });
  }
  if (ONLY.has("pg1")) targets.push({ name: "pg1", label: "PostgreSQL · 1", database: "pg", workers: 1, env: { DATABASE_URL: PG_URL } });
  if (ONLY.has("pg2")) targets.push({ name: "pg2", label: "PostgreSQL · 2", database: "pg", workers: 2, env: { DATABASE_URL: PG_URL } });

  let pgVersion = "PostgreSQL not used";
  let pgSettings = "";
  for (const database of new Set(targets.map((t) => t.database))) {
    const db = connect(
      database === "sqlite" ? { databaseUrl: undefined, sqliteFile: SQLITE_FILE, databaseSchema: undefined } : { databaseUrl: PG_URL, sqliteFile: "", databaseSchema: undefined },
    );
    try {
      picks[database === "sqlite" ? "SQLite" : "PostgreSQL"] = await pick(db);
      if (database === "pg") {
        pgVersion = String((await db.raw("SHOW server_version")).rows[0].server_version).replace(/^/, "PostgreSQL ");
        const setting = async (n: string) => String((await db.raw(`SHOW ${n}`)).rows[0][n]);
        pgSettings = `shared_buffers ${await setting("shared_buffers")}, work_mem ${await setting("work_mem")}, synchronous_commit ${await setting("synchronous_commit")} (server defaults)`;
      }
    } finally {
      await db.destroy();
    }
  }
  log(`bench: ${targets.map((t) => t.label).join(", ")}; ${CONNECTIONS} connections, ${DURATION} s (+${WARMUP} s warm-up); load ${loadStart}`);
  for (const [db, p] of Object.entries(picks)) log(`  ${db}: ${JSON.stringify(p)}`);

  const runs: Run[] = [];
  const hello: Run[] = [];
  const helloRun = async () => {
    const h = await startHello();
    try {
      hello.push(await measure("hello", "hello world", h.child.pid!, h.port, "/", ""));
    } finally {
      await stopChild(h.child);
    }
  };
  for (const target of PARTS.has("load") ? targets : []) {
    const p = picks[target.database === "sqlite" ? "SQLite" : "PostgreSQL"]!;
    // The reference is measured again right before each target, so that each ratio compares runs close in time.
    await helloRun();
    const reference = hello[hello.length - 1]!.reqPerSec;
    const { child, port } = await startApp(target, dataDir);
    try {
      const doctor = await loginPs(port, p.doctor.id);
      const agent = await loginAgent(port, p.agentIds[0]!);
      const nirAgent = await loginAgent(port, p.agentIds[1] ?? p.agentIds[0]!);
      const nameAgent = await loginAgent(port, p.agentIds[2] ?? p.agentIds[0]!);
      const nirFound = await storeSearch(nirAgent, { patient_nir: p.nir.nir });
      const nameFound = await storeSearch(nameAgent, { patient_nom: p.lastName });
      const check = async (c: Client, pathName: string, expect: RegExp) => {
        const res = await c.get(pathName);
        if (res.status !== 200 || !expect.test(res.body)) throw new Error(`${pathName}: ${res.status}, unexpected page`);
      };
      await check(doctor, "/ps/messages", /class="item/);
      await check(agent, "/bo/bannettes/a-traiter", /class="item/);
      await check(agent, `/bo/conversations/${p.thread.id}`, /<h1/);
      log(`  ${target.label}: NIR search shows "${nirFound}", name search shows "${nameFound}"`);
      const pages: [string, string, Client][] = [
        // The floor of a signed-in page: the session read and a small render, no list (the portal's two tiles).
        ["PS portal", "/ps", doctor],
        ["PS list", "/ps/messages", doctor],
        ["BO A TRAITER", "/bo/bannettes/a-traiter", agent],
        ["BO thread", `/bo/conversations/${p.thread.id}`, agent],
        ["BO NIR search", "/bo/recherche", nirAgent],
        ["BO name search", "/bo/recherche", nameAgent],
      ];
      for (const [page, pathName, client] of pages.filter(([name]) => !PAGES || PAGES.has(name))) {
        runs.push({ ...(await measure(target.label, page, child.pid!, port, pathName, client.cookie)), helloReqPerSec: reference });
      }
    } finally {
      await stopChild(child);
    }
  }
  if (PARTS.has("load")) await helloRun();

  // The open-loop mix (issue 17 §3): SQLite with one process, PostgreSQL with two; its own block of docs/PERFORMANCE.md.
  const openRuns: OpenRun[] = [];
  for (const target of PARTS.has("openloop") ? targets.filter((t) => t.database === "sqlite" || t.workers === 2) : []) {
    openRuns.push(...(await openLoopRuns(target, dataDir)));
  }
  if (openRuns.length) {
    const saved = path.join(os.tmpdir(), `ems-openloop-${started.replace(/[:.]/g, "-")}.json`);
    fs.writeFileSync(saved, JSON.stringify(openRuns, null, 2));
    const markdown = `Produced by \`${COMMAND}\` (${started} → ${new Date().toISOString()}); machine: ${machine()}; load average at start ${loadStart}. Raw: ${path.basename(saved)}.\n\n${openLoopReport(openRuns)}`;
    process.stdout.write(`${markdown}\n`);
    if (WRITE) writeReport(markdown, "openloop");
  }

  const searches: SearchTiming[] = [];
  const uploads: Upload[] = [];
  for (const target of targets.filter((t) => t.workers === 1)) {
    const p = picks[target.database === "sqlite" ? "SQLite" : "PostgreSQL"]!;
    if (PARTS.has("searches")) searches.push(...(await serverSideSearches(target, dataDir, p)));
    for (let i = 0; i < (PARTS.has("uploads") ? UPLOADS : 0); i += 1) uploads.push(await uploadRss(target, dataDir, p, pdf));
  }

  const data: BenchData = {
    command: COMMAND,
    machine: machine(),
    started,
    finished: new Date().toISOString(),
    pgVersion,
    pgSettings,
    loadStart,
    loadEnd: loadavg(),
    settings: { connections: CONNECTIONS, duration: DURATION, warmup: WARMUP, samples: SAMPLES },
    picks,
    hello,
    runs,
    searches,
    uploads,
  };
  const saved = path.join(os.tmpdir(), `ems-bench-${started.replace(/[:.]/g, "-")}.json`);
  fs.writeFileSync(saved, JSON.stringify(data, null, 2));
  log(`raw results: ${saved} (re-render with npm run bench -- --report ${saved})`);
  if (runs.length || searches.length || uploads.length) {
    const markdown = report(data);
    process.stdout.write(`${markdown}\n`);
    if (WRITE) writeReport(markdown);
  }
  fs.rmSync(dataDir, { recursive: true, force: true });
}

// Whatever happens, no child process outlives the bench.
process.on("exit", () => {
  for (const c of children) {
    for (const pid of c.pid ? tree(c.pid).map((t) => t.pid) : []) {
      try {
        process.kill(pid, "SIGKILL");
      } catch {
        /* gone */
      }
    }
  }
});
const stopAll = async () => {
  for (const c of [...children]) await stopChild(c);
};
process.once("SIGINT", () => void stopAll().then(() => process.exit(130)));
main()
  .then(stopAll, async (err) => {
    process.stderr.write(`${err instanceof Error ? (err.stack ?? err.message) : String(err)}\n`);
    await stopAll();
    process.exit(1);
  })
  .then(() => process.exit(process.exitCode ?? 0));
