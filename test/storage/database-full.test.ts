import { execFileSync } from "node:child_process";
import fs from "node:fs";
import os from "node:os";
import path from "node:path";
import request from "supertest";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { STORAGE_UNAVAILABLE_NOTICE } from "../../src/domain/errors.js";
import { $, bunyel, captureLog, drGene, hiddenFields, signInPs, startTestApp, type Session, type TestApp } from "../helpers/app.js";
import { openCompose, postForm, snapshot, textOf } from "../helpers/ps.js";

/**
 * Issue 11, item 5: the database cannot store anything. SQLite: its file on a small tmpfs, filled up (a real
 * SQLITE_FULL; skipped where the runner cannot mount). PostgreSQL: its real disk_full error (SQLSTATE 53100)
 * raised by triggers on the tables a user's writes touch.
 */
const postgres = Boolean(process.env.DATABASE_URL);
const mountPoint = fs.mkdtempSync(path.join(os.tmpdir(), "ems-dbfull-"));
function mountTmpfs(): boolean {
  try {
    execFileSync("mount", ["-t", "tmpfs", "-o", "size=24m", "tmpfs", mountPoint], { stdio: "ignore" });
    return true;
  } catch {
    return false;
  }
}
const mounted = postgres ? false : mountTmpfs();
const runnable = postgres || mounted;

let app: TestApp;
let s: Session;
const log = captureLog();
const FULL_TABLES = ["messages", "drafts", "conversations", "sessions", "audit_events", "rate_limits"];

async function fill() {
  if (postgres) {
    await app.db.raw(`CREATE OR REPLACE FUNCTION disk_full() RETURNS trigger AS $$ BEGIN RAISE EXCEPTION 'could not extend file' USING ERRCODE = '53100'; END $$ LANGUAGE plpgsql`);
    for (const t of FULL_TABLES) await app.db.raw(`CREATE TRIGGER ${t}_disk_full BEFORE INSERT OR UPDATE OR DELETE ON ${t} FOR EACH ROW EXECUTE FUNCTION disk_full()`);
    return;
  }
  try {
    execFileSync("dd", ["if=/dev/zero", `of=${path.join(mountPoint, "filler")}`, "bs=64k"], { stdio: "ignore" });
  } catch {
    // dd stops at "No space left on device": the disk is full.
  }
}

async function unfill() {
  if (postgres) {
    for (const t of FULL_TABLES) await app.db.raw(`DROP TRIGGER IF EXISTS ${t}_disk_full ON ${t}`);
    return;
  }
  fs.rmSync(path.join(mountPoint, "filler"), { force: true });
}

let conversationId: number;
beforeAll(async () => {
  if (!runnable) return;
  app = await startTestApp({ LOG_LEVEL: "info", ...(postgres ? {} : { DATA_DIR: mountPoint }) }, { log: log.stream });
  s = await signInPs(app, drGene);
  const { hidden } = await openCompose(s, bunyel);
  const sent = await postForm(s, "/ps/conversations", { ...hidden, subject: "Fil avant le disque plein", body: "Première question", action: "send" });
  conversationId = Number(sent.headers.location!.split("/").pop());
});
afterAll(async () => {
  if (app) await app.close().catch(() => undefined);
  if (mounted) execFileSync("umount", ["-l", mountPoint]);
  fs.rmSync(mountPoint, { recursive: true, force: true });
});

const CANNOT_MOUNT = "this runner cannot mount a tmpfs (needs root in a container allowing mount): SQLite's disk cannot be filled";
function needsFullDisk(ctx: { skip(note?: string): never }) {
  if (!runnable) ctx.skip(CANNOT_MOUNT);
}

describe(`the database full (${postgres ? "PostgreSQL 53100" : "SQLite on a full tmpfs"})`, () => {
  let replyHidden: Record<string, string>;
  it("a reply it cannot store: 503, the reply form again with the text typed and the notice, nothing written", async (ctx) => {
    needsFullDisk(ctx);
    replyHidden = hiddenFields((await s.agent.get(`/ps/conversations/${conversationId}/reply`)).text);
    const before = await snapshot(app);
    await fill();
    const res = await postForm(s, `/ps/conversations/${conversationId}/messages`, { ...replyHidden, body: "Réponse au disque plein", action: "send" });
    expect(res.status).toBe(503);
    const page = $(res.text);
    expect(textOf(page, "#detail .notice")).toBe(STORAGE_UNAVAILABLE_NOTICE);
    expect(page("form.compose textarea#body").val()).toBe("Réponse au disque plein");
    await unfill();
    expect(await snapshot(app)).toEqual(before);
    await fill();
  });

  it("is logged at error level by the database's code, without the text", (ctx) => {
    needsFullDisk(ctx);
    const entry = log.entries().find((e) => e.msg === "storage unavailable: compose form given back");
    expect(entry).toMatchObject({ level: 50, route: "/ps/conversations/:conversationId/messages", code: postgres ? "53100" : "SQLITE_FULL" });
    expect(log.lines.join("\n")).not.toMatch(/disque plein|Première question/);
  });

  it("a page whose session cannot be written (a new visitor's login page) answers a French 503 page, not a closed socket", async (ctx) => {
    needsFullDisk(ctx);
    const visitor = request.agent(app.app);
    const res = await visitor.get("/ps/login");
    expect(res.status).toBe(503);
    const page = $(res.text);
    expect(textOf(page, "main h1")).toBe("Service momentanément indisponible");
    expect(textOf(page, "main")).toContain("Le service ne peut rien enregistrer pour le moment");
  });

  it("deleting the thread it cannot store answers the French 503 page, and the thread stays", async (ctx) => {
    needsFullDisk(ctx);
    const res = await s.agent.post(`/ps/conversations/${conversationId}/delete`).type("form").send({ _csrf: s.csrf });
    expect(res.status).toBe(503);
    expect(textOf($(res.text), "main h1")).toBe("Service momentanément indisponible");
    expect((await app.db("conversations").where({ id: conversationId }).first("ps_deleted_at")).ps_deleted_at).toBeNull();
  });

  it("/healthz reports the database failing, then ok once it takes writes again", async (ctx) => {
    needsFullDisk(ctx);
    const failing = await request(app.app).get("/healthz");
    expect(failing.status).toBe(503);
    expect(failing.body).toMatchObject({ status: "failing", database: "failing" });
    await unfill();
    const ok = await request(app.app).get("/healthz");
    expect(ok.status).toBe(200);
    expect(ok.body).toEqual({ status: "ok" });
    // And the reply goes, from the form given back.
    const res = await postForm(s, `/ps/conversations/${conversationId}/messages`, { ...replyHidden, body: "Réponse après le disque plein", action: "send" });
    expect(res.status).toBe(303);
  });
});
