import { spawn } from "node:child_process";
import { afterAll, beforeAll, expect, it } from "vitest";
import { submitCompose } from "../../src/domain/conversations/compose.js";
import { recountDerived } from "../../src/domain/conversations/counters.js";
import { patientsByNir } from "../../src/domain/directory/queries.js";
import { purgePass } from "../../src/domain/conversations/retention.js";
import { cliEnv } from "../helpers/cli.js";
import { drGene, bunyel, startTestApp, type TestApp } from "../helpers/app.js";
import { ROOT, sleep, uniquePdf } from "../helpers/process.js";
import fs from "node:fs";
import path from "node:path";
import crypto from "node:crypto";

/**
 * The retention purge killed with SIGKILL in the middle (issue 17 §1): a child process purges 60 threads with a file
 * each, by batches of 3, and is killed once some batches committed; a second run finishes. Then every thread due is
 * gone whole (each audited once), no attachment row points to a missing file, no stored file is left without its row,
 * nothing is left listed for removal, and the counters equal a full recount. SQLite; PostgreSQL with DATABASE_URL.
 */
const THREADS = 60;
let app: TestApp;
beforeAll(async () => {
  app = await startTestApp();
  const gene = await app.db("practitioners").where({ nam: drGene.nam }).first();
  const actor = { kind: "ps" as const, practitionerId: gene.id, structureId: null, displayName: "Dr GENE" };
  const [guillaume] = (await patientsByNir(app.db, bunyel.nir)).filter((p) => p.firstName === bunyel.firstName);
  const ids: number[] = [];
  for (let i = 0; i < THREADS; i += 1) {
    const tmpPath = path.join(app.storage.tmpDir, crypto.randomBytes(16).toString("hex"));
    const bytes = uniquePdf(`purge ${i}`, 500);
    fs.writeFileSync(tmpPath, bytes);
    const outcome = await submitCompose(
      app,
      { actor, ip: "127.0.0.1" },
      { kind: "ps-new", patient: guillaume! },
      {
        action: "send",
        subject: `À purger ${i}`,
        body: "Texte",
        submissionKey: crypto.randomBytes(16).toString("hex"),
        draft: null,
        removeAttachmentIds: [],
        files: [{ originalName: `piece-${i}.pdf`, size: bytes.length, tooLarge: false, tmpPath, sha256: crypto.createHash("sha256").update(bytes).digest("hex") }],
      },
    );
    if (outcome.status !== "sent") throw new Error(JSON.stringify(outcome));
    ids.push(outcome.conversationId);
  }
  // Closed by the échelon, their notice sent a month ago and their date passed (the tray moved as a close moves it).
  const past = new Date(Date.now() - 60_000).toISOString();
  await app.db("conversations").whereIn("id", ids).update({ state: "clos", closed_at: past, purge_notice_at: past, purge_at: past, due_at: null, due_side: null });
  await recountDerived(app.db);
});
afterAll(async () => {
  await app?.close();
});

const purgedRows = async () => Number((await app.db("audit_events").where({ action: "conversation.purged" }).count({ n: "*" }).first())?.n ?? 0);

it("a purge killed mid-way is finished by the next run: no half thread, no orphan file, no row without its file", { timeout: 120_000 }, async () => {
  const child = spawn(process.execPath, ["--import", "tsx", "test/scale/children/retention-purge.ts"], { cwd: ROOT, env: cliEnv(app), stdio: ["ignore", "pipe", "pipe"] });
  let err = "";
  child.stderr.on("data", (c) => {
    err += String(c);
  });
  const exited = new Promise<NodeJS.Signals | number | null>((resolve) => child.on("exit", (code, signal) => resolve(signal ?? code)));
  // Killed once a few batches committed, while others are in flight.
  for (let waited = 0; (await purgedRows()) < 9; waited += 20) {
    if (waited > 60_000) throw new Error(`the child purged nothing: ${err}`);
    await sleep(20);
  }
  child.kill("SIGKILL");
  expect(await exited).toBe("SIGKILL");
  const purgedByChild = await purgedRows();
  expect(purgedByChild, "killed before the end").toBeLessThan(THREADS);
  // What the kill left: files of committed batches still listed for removal (usually some: their removal is slow here).
  const listed = Number((await app.db("file_removals").count({ n: "*" }).first())?.n);
  expect(listed).toBeLessThanOrEqual(purgedByChild);

  await purgePass(app, new Date());

  expect(await purgedRows()).toBe(THREADS);
  expect(Number((await app.db("conversations").where("subject", "like", "À purger%").count({ n: "*" }).first())?.n)).toBe(0);
  expect(Number((await app.db("messages").whereNotIn("conversation_id", app.db("conversations").select("id")).count({ n: "*" }).first())?.n)).toBe(0);
  expect(Number((await app.db("file_removals").count({ n: "*" }).first())?.n)).toBe(0);
  const rows = new Set((await app.db("attachments").pluck("storage_key")) as string[]);
  const stored = new Set<string>();
  for await (const key of app.storage.keysOlderThan(-60_000)) stored.add(key);
  expect(
    [...rows].filter((k) => !stored.has(k)),
    "rows pointing to a missing file",
  ).toEqual([]);
  expect(
    [...stored].filter((k) => !rows.has(k)),
    "files without a row",
  ).toEqual([]);
  const kept = JSON.stringify(
    await app
      .db("tray_counts")
      .orderBy(["elsm_id", "state"])
      .where((w) => w.where("n", ">", 0).orWhere("unread", "<>", 0).orWhere("patient", "<>", 0).orWhere("overdue", "<>", 0))
      .select(),
  );
  await recountDerived(app.db);
  expect(
    JSON.stringify(
      await app
        .db("tray_counts")
        .orderBy(["elsm_id", "state"])
        .where((w) => w.where("n", ">", 0).orWhere("unread", "<>", 0).orWhere("patient", "<>", 0).orWhere("overdue", "<>", 0))
        .select(),
    ),
  ).toBe(kept);
});
