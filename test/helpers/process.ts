import { spawn, spawnSync, type ChildProcess } from "node:child_process";
import crypto from "node:crypto";
import fs from "node:fs";
import http from "node:http";
import net from "node:net";
import os from "node:os";
import path from "node:path";
import { fileURLToPath } from "node:url";
import * as cheerio from "cheerio";
import knexFactory from "knex";
import { connect, type Db } from "../../src/db/connection.js";

/**
 * Real app processes for the scale tests: `node --import tsx src/server.ts` with its settings in the
 * environment (one node process per app process, so a signal reaches the server itself, not a wrapper).
 */

export const ROOT = path.resolve(path.dirname(fileURLToPath(import.meta.url)), "..", "..");

/** A database and a storage folder that several app processes share, and a connection to look into it. */
export type SharedData = {
  dir: string;
  storageDir: string;
  /** The settings every process started on it gets. */
  env: Record<string, string>;
  kind: "sqlite" | "postgres";
  db: Db;
  dispose(): Promise<void>;
};

/**
 * Fresh shared data: one SQLite file, or, when DATABASE_URL is set, a fresh empty PostgreSQL schema
 * (dropped by `dispose`), and one storage folder. The first process started on it migrates and seeds it.
 */
export async function sharedData(): Promise<SharedData> {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), "ems-scale-"));
  const databaseUrl = process.env.DATABASE_URL || undefined;
  const storageDir = path.join(dir, "storage");
  const sqliteFile = path.join(dir, "shared.sqlite3");
  let schema: string | undefined;
  if (databaseUrl) {
    schema = `test_scale_${crypto.randomBytes(6).toString("hex")}`;
    const admin = knexFactory({ client: "pg", connection: databaseUrl });
    await admin.raw(`CREATE SCHEMA ${schema}`);
    await admin.destroy();
  }
  const env: Record<string, string> = {
    DATA_DIR: dir,
    STORAGE_DIR: storageDir,
    OUTBOX_DIR: path.join(dir, "outbox"),
    SQLITE_FILE: sqliteFile,
    DATABASE_URL: databaseUrl ?? "",
    DATABASE_SCHEMA: schema ?? "",
  };
  const db = connect({ databaseUrl, databaseSchema: schema, sqliteFile });
  return {
    dir,
    storageDir,
    env,
    db,
    kind: databaseUrl ? "postgres" : "sqlite",
    async dispose() {
      if (schema) await db.raw(`DROP SCHEMA IF EXISTS ${schema} CASCADE`);
      await db.destroy();
      fs.rmSync(dir, { recursive: true, force: true });
    },
  };
}

/** Where the local storage keeps the bytes of a storage key (see src/domain/attachments/storage.ts). */
export function storedPath(storageDir: string, key: string): string {
  return path.join(storageDir, "objects", key.slice(0, 2), key);
}

/** A port nobody listens on right now (the OS picks it; a race with another program is retried by `startServer`). */
export async function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const probe = net.createServer();
    probe.unref();
    probe.on("error", reject);
    probe.listen(0, "127.0.0.1", () => {
      const { port } = probe.address() as net.AddressInfo;
      probe.close(() => resolve(port));
    });
  });
}

export type Exit = { code: number | null; signal: NodeJS.Signals | null };

export type ServerProcess = {
  name: string;
  port: number;
  baseUrl: string;
  child: ChildProcess;
  pid: number;
  /** Everything the process printed so far (JSON log lines), for failure messages. */
  output(): string;
  /** Resolves when the process has ended. */
  exited: Promise<Exit>;
  /** Resolves with how the process ended, or rejects if it is still running after `timeoutMs`. */
  waitExit(timeoutMs: number): Promise<Exit>;
  /** Sends a signal (unless it has already ended), then `waitExit`. */
  stop(signal?: NodeJS.Signals, timeoutMs?: number): Promise<Exit>;
};

/** `env` adds to (or, with undefined, removes from) the settings every process gets. */
export type StartOptions = {
  name?: string;
  env?: Record<string, string | undefined>;
  readyTimeoutMs?: number;
  /** Called with each process as soon as it is spawned (before it answers). */
  onSpawn?: (child: ChildProcess) => void;
};

const running = new Set<ServerProcess>();

/** Starts `src/server.ts` on a free port with the shared data's settings; resolves once /healthz answers. */
export async function startServer(data: Pick<SharedData, "env">, options: StartOptions = {}): Promise<ServerProcess> {
  let lastError: Error | undefined;
  for (let attempt = 0; attempt < 4; attempt += 1) {
    const port = await freePort();
    try {
      return await launch(port, data, options);
    } catch (err) {
      lastError = err as Error;
      if (!/EADDRINUSE/.test(lastError.message)) throw lastError;
    }
  }
  throw lastError;
}

async function launch(port: number, data: Pick<SharedData, "env">, options: StartOptions): Promise<ServerProcess> {
  const name = options.name ?? `app:${port}`;
  const env: Record<string, string | undefined> = {
    ...process.env,
    NODE_ENV: "test",
    LOG_LEVEL: "info",
    SESSION_SECRET: "scale-test-secret-0123456789",
    PUBLIC_URL: "https://ems.example",
    WEB_CONCURRENCY: "1",
    ...data.env,
    ...options.env,
    PORT: String(port),
  };
  for (const [k, v] of Object.entries(env)) if (v === undefined) delete env[k];
  const child = spawn(process.execPath, ["--import", "tsx", "src/server.ts"], { cwd: ROOT, env, stdio: ["ignore", "pipe", "pipe"] });
  options.onSpawn?.(child);
  let output = "";
  const keep = (chunk: Buffer) => {
    output += chunk.toString("utf8");
    if (output.length > 200_000) output = output.slice(-100_000);
  };
  child.stdout!.on("data", keep);
  child.stderr!.on("data", keep);
  const exited = new Promise<Exit>((resolve) => child.once("exit", (code, signal) => resolve({ code, signal })));
  let ended: Exit | null = null;
  void exited.then((e) => {
    ended = e;
  });
  const proc: ServerProcess = {
    name,
    port,
    baseUrl: `http://127.0.0.1:${port}`,
    child,
    pid: child.pid!,
    exited,
    output: () => output,
    async waitExit(timeoutMs) {
      let timer: NodeJS.Timeout | undefined;
      const timeout = new Promise<never>((_, reject) => {
        timer = setTimeout(() => reject(new Error(`${name} (pid ${child.pid}) still running after ${timeoutMs} ms\n${tail(output)}`)), timeoutMs);
      });
      try {
        return await Promise.race([exited, timeout]);
      } finally {
        clearTimeout(timer);
      }
    },
    async stop(signal = "SIGTERM", timeoutMs = 15_000) {
      if (ended) return ended;
      child.kill(signal);
      return proc.waitExit(timeoutMs);
    },
  };
  running.add(proc);
  void exited.then(() => running.delete(proc));

  const deadline = Date.now() + (options.readyTimeoutMs ?? 45_000);
  while (Date.now() < deadline) {
    if (ended) throw new Error(`${name} exited before answering /healthz (${JSON.stringify(ended)})\n${tail(output)}`);
    try {
      const res = await fetch(`${proc.baseUrl}/healthz`, { signal: AbortSignal.timeout(2_000) });
      if (res.ok) {
        await res.arrayBuffer();
        return proc;
      }
    } catch {
      // not listening yet
    }
    await sleep(100);
  }
  child.kill("SIGKILL");
  throw new Error(`${name} did not answer /healthz in time\n${tail(output)}`);
}

/** Starts `src/server.ts` with only these settings (and PATH), expecting it to refuse: its exit code and what it said. */
export function refusedStart(env: Record<string, string>): { status: number | null; said: string } {
  const run = spawnSync(process.execPath, ["--import", "tsx", "src/server.ts"], {
    cwd: ROOT,
    env: { PATH: process.env.PATH, NODE_ENV: "test", ...env },
    encoding: "utf8",
    timeout: 30_000,
  });
  return { status: run.status, said: run.stderr.trim() };
}

/** Kills (SIGKILL, by pid) every server this test file started and has not stopped: for afterAll. */
export async function killAll(): Promise<void> {
  await Promise.all([...running].map((p) => p.stop("SIGKILL", 5_000).catch(() => undefined)));
}

export function tail(text: string, lines = 40): string {
  return text.trim().split("\n").slice(-lines).join("\n");
}

export const sleep = (ms: number) => new Promise<void>((resolve) => setTimeout(resolve, ms));

/**
 * A browser-like HTTP client over fetch: one cookie jar, no automatic redirects, and a base URL that can
 * change between requests (the same cookie presented to another process).
 */
export class Client {
  readonly cookies = new Map<string, string>();
  csrf = "";

  constructor(public baseUrl: string) {}

  async request(pathname: string, init: RequestInit = {}): Promise<Response> {
    const headers = new Headers(init.headers);
    if (this.cookies.size) headers.set("cookie", [...this.cookies].map(([k, v]) => `${k}=${v}`).join("; "));
    const res = await fetch(`${this.baseUrl}${pathname}`, { ...init, headers, redirect: "manual" });
    for (const line of res.headers.getSetCookie()) {
      const [pair] = line.split(";");
      const eq = pair!.indexOf("=");
      const name = pair!.slice(0, eq).trim();
      const value = pair!.slice(eq + 1).trim();
      if (/expires=Thu, 01 Jan 1970/i.test(line) || value === "") this.cookies.delete(name);
      else this.cookies.set(name, value);
    }
    return res;
  }

  async get(pathname: string): Promise<{ status: number; text: string; res: Response }> {
    const res = await this.request(pathname);
    return { status: res.status, text: await res.text(), res };
  }

  async getBytes(pathname: string): Promise<{ status: number; body: Buffer; res: Response }> {
    const res = await this.request(pathname);
    return { status: res.status, body: Buffer.from(await res.arrayBuffer()), res };
  }

  /** A urlencoded form post. */
  async postForm(pathname: string, fields: Record<string, string>): Promise<{ status: number; location: string | null; text: string }> {
    const res = await this.request(pathname, { method: "POST", body: new URLSearchParams(fields) });
    return { status: res.status, location: res.headers.get("location"), text: await res.text() };
  }

  /** A multipart form post, as the compose form sends it. */
  async postMultipart(
    pathname: string,
    fields: Record<string, string>,
    files: { name: string; content: Buffer; type?: string }[] = [],
    signal?: AbortSignal,
  ): Promise<{ status: number; location: string | null; text: string }> {
    const form = new FormData();
    for (const [k, v] of Object.entries(fields)) form.append(k, v);
    for (const f of files) form.append("attachments", new Blob([new Uint8Array(f.content)], { type: f.type ?? "application/octet-stream" }), f.name);
    const res = await this.request(pathname, { method: "POST", body: form, signal });
    return { status: res.status, location: res.headers.get("location"), text: await res.text() };
  }

  cookieHeader(): string {
    return [...this.cookies].map(([k, v]) => `${k}=${v}`).join("; ");
  }
}

export function csrfOf(html: string): string {
  const page = cheerio.load(html);
  const token = page('meta[name="csrf-token"]').attr("content") ?? page('input[name="_csrf"]').first().val();
  if (!token) throw new Error(`no csrf token in page: ${html.slice(0, 300)}`);
  return String(token);
}

export function hiddenInputs(html: string, formSelector = "form.compose"): Record<string, string> {
  const page = cheerio.load(html);
  const out: Record<string, string> = {};
  page(`${formSelector} input[type="hidden"]`).each((_, el) => {
    out[page(el).attr("name")!] = String(page(el).val() ?? "");
  });
  return out;
}

/** Signs a doctor in with the simulated CPS card (demo PIN) and keeps the page's CSRF token. */
export async function signInPsOver(client: Client, db: Db, nam: string, pin = "1234"): Promise<void> {
  const card = await db("practitioners").where({ nam }).first("id");
  if (!card) throw new Error(`no practitioner ${nam}`);
  const loginPage = await client.get("/ps/login");
  const res = await client.postForm("/ps/login", { _csrf: csrfOf(loginPage.text), card: String(card.id), pin });
  if (res.status !== 303) throw new Error(`login failed: ${res.status} ${res.text.slice(0, 300)}`);
  const home = await client.get("/ps/messages");
  if (home.status !== 200) throw new Error(`/ps/messages after login: ${home.status}`);
  client.csrf = csrfOf(home.text);
}

/** Selects a patient by NIR (a NIR with one beneficiary) for the signed-in doctor. */
export async function selectPatientOver(client: Client, patient: { nir: string; key: string }): Promise<void> {
  const res = await client.postForm("/ps/patient/nir", { _csrf: client.csrf, nir: patient.nir, key: patient.key });
  if (res.status !== 303) throw new Error(`patient selection failed: ${res.status} ${res.text.slice(0, 300)}`);
}

/** Opens the new-question form and returns its hidden fields (_csrf, _ctx, submission_key). */
export async function composeFields(client: Client): Promise<Record<string, string>> {
  const form = await client.get("/ps/conversations/new");
  if (form.status !== 200) throw new Error(`compose form: ${form.status}`);
  const hidden = hiddenInputs(form.text);
  if (!hidden._ctx || !hidden.submission_key) throw new Error(`compose form without _ctx/submission_key: ${JSON.stringify(hidden)}`);
  return hidden;
}

/** A fresh idempotency key, the shape the compose form carries (32 hex). */
export function submissionKey(): string {
  return crypto.randomBytes(16).toString("hex");
}

/** A small, valid PDF whose bytes are unique to `label` (so each upload can be told apart byte for byte). */
export function uniquePdf(label: string, padding = 0): Buffer {
  const text = `(${label.replace(/[()\\]/g, "_")}) Tj`;
  const stream = `BT /F1 12 Tf 72 720 Td ${text} ET`;
  const objects = [
    "<< /Type /Catalog /Pages 2 0 R >>",
    "<< /Type /Pages /Kids [3 0 R] /Count 1 >>",
    "<< /Type /Page /Parent 2 0 R /MediaBox [0 0 612 792] /Contents 4 0 R /Resources << /Font << /F1 5 0 R >> >> >>",
    `<< /Length ${stream.length} >>\nstream\n${stream}\nendstream`,
    "<< /Type /Font /Subtype /Type1 /BaseFont /Helvetica >>",
  ];
  let body = "%PDF-1.4\n";
  const offsets: number[] = [];
  objects.forEach((o, i) => {
    offsets.push(body.length);
    body += `${i + 1} 0 obj\n${o}\nendobj\n`;
  });
  const xref = body.length;
  body += `xref\n0 ${objects.length + 1}\n0000000000 65535 f \n${offsets.map((o) => `${String(o).padStart(10, "0")} 00000 n \n`).join("")}`;
  body += `trailer\n<< /Size ${objects.length + 1} /Root 1 0 R >>\nstartxref\n${xref}\n%%EOF\n`;
  const pad =
    padding > 0
      ? `%${crypto
          .randomBytes(Math.ceil(padding / 2))
          .toString("hex")
          .slice(0, padding)}\n`
      : "";
  return Buffer.concat([Buffer.from(body, "latin1"), Buffer.from(pad, "latin1")]);
}

export function sha256(buf: Buffer): string {
  return crypto.createHash("sha256").update(buf).digest("hex");
}

/** Builds a multipart body by hand (to send it in pieces over a raw connection). */
export function multipartBody(fields: Record<string, string>, files: { name: string; content: Buffer }[]): { body: Buffer; contentType: string } {
  const boundary = `----emsscale${crypto.randomBytes(8).toString("hex")}`;
  const parts: Buffer[] = [];
  for (const [name, value] of Object.entries(fields)) {
    parts.push(Buffer.from(`--${boundary}\r\nContent-Disposition: form-data; name="${name}"\r\n\r\n${value}\r\n`, "utf8"));
  }
  for (const f of files) {
    parts.push(Buffer.from(`--${boundary}\r\nContent-Disposition: form-data; name="attachments"; filename="${f.name}"\r\nContent-Type: application/pdf\r\n\r\n`, "utf8"));
    parts.push(f.content, Buffer.from("\r\n"));
  }
  parts.push(Buffer.from(`--${boundary}--\r\n`));
  return { body: Buffer.concat(parts), contentType: `multipart/form-data; boundary=${boundary}` };
}

/**
 * A POST whose body is sent in two steps: `sendHead()` writes its first `headBytes` bytes and leaves the
 * request in flight; `finish()` writes the rest and resolves with the response.
 */
export function slowPost(baseUrl: string, pathname: string, headers: Record<string, string>, body: Buffer, headBytes: number, sharedAgent?: http.Agent) {
  const url = new URL(pathname, baseUrl);
  // Without an agent of the caller's, the connection is closed once the answer has arrived.
  const agent = sharedAgent ?? new http.Agent({ keepAlive: false });
  let resolveResponse: (r: { status: number; headers: http.IncomingHttpHeaders; body: string }) => void;
  let rejectResponse: (err: Error) => void;
  const response = new Promise<{ status: number; headers: http.IncomingHttpHeaders; body: string }>((resolve, reject) => {
    resolveResponse = resolve;
    rejectResponse = reject;
  });
  const req = http.request(
    {
      host: url.hostname,
      port: url.port,
      path: url.pathname,
      method: "POST",
      agent,
      headers: { ...headers, "content-length": String(body.length) },
    },
    (res) => {
      const chunks: Buffer[] = [];
      res.on("data", (c: Buffer) => chunks.push(c));
      res.on("end", () => resolveResponse({ status: res.statusCode ?? 0, headers: res.headers, body: Buffer.concat(chunks).toString("utf8") }));
      res.on("error", rejectResponse);
    },
  );
  req.on("error", (err) => rejectResponse(err));
  req.flushHeaders();
  return {
    sendHead() {
      req.write(body.subarray(0, headBytes));
    },
    async finish() {
      req.end(body.subarray(headBytes));
      try {
        return await response;
      } finally {
        if (!sharedAgent) agent.destroy();
      }
    },
  };
}

/**
 * A GET on a connection of its own, closed after the answer (as a new client, or a load balancer's
 * health check, would open): the status, or the network error code (ECONNREFUSED when nothing listens).
 */
export function freshGet(url: string, cookie = ""): Promise<{ status: number; location?: string; body: string; error?: string }> {
  return new Promise((resolve) => {
    const req = http.get(url, { agent: false, headers: { cookie, connection: "close" }, timeout: 5_000 }, (res) => {
      let body = "";
      res.setEncoding("utf8");
      res.on("data", (c: string) => {
        body += c;
      });
      res.on("end", () => resolve({ status: res.statusCode ?? 0, location: res.headers.location, body }));
      res.on("error", (err: NodeJS.ErrnoException) => resolve({ status: 0, body, error: err.code ?? err.message }));
    });
    req.on("timeout", () => req.destroy(Object.assign(new Error("timeout"), { code: "ETIMEDOUT" })));
    req.on("error", (err: NodeJS.ErrnoException) => resolve({ status: 0, body: "", error: err.code ?? err.message }));
  });
}

/** Whether process `pid` has `file` open (Linux /proc). */
export function hasOpen(pid: number, file: string): boolean {
  try {
    const dir = `/proc/${pid}/fd`;
    return fs.readdirSync(dir).some((fd) => {
      try {
        return fs.readlinkSync(path.join(dir, fd)) === file;
      } catch {
        return false;
      }
    });
  } catch {
    return false;
  }
}

/** Waits until `check` is true (polling), or fails with `what`. */
export async function until(what: string, check: () => boolean | Promise<boolean>, timeoutMs = 10_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (Date.now() < deadline) {
    if (await check()) return;
    await sleep(25);
  }
  throw new Error(`timed out waiting for ${what}`);
}
