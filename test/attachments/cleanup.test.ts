import { execFile } from "node:child_process";
import crypto from "node:crypto";
import fs from "node:fs";
import path from "node:path";
import { promisify } from "node:util";
import { afterAll, beforeAll, expect, it } from "vitest";
import { bunyel, drGene, fixture, hiddenFields, selectPatient, signInPs, startTestApp, type TestApp } from "../helpers/app.js";
import { storedFilePath } from "../helpers/s3.js";

let app: TestApp;
beforeAll(async () => {
  app = await startTestApp();
});
afterAll(async () => {
  await app.close();
});

/** Where a stored key's bytes sit on disk: the local folder's file, or the S3 server's (its mtime is the object's LastModified). */
const file = (key: string) => storedFilePath(app.config, key);
const stored = (key: string) => fs.existsSync(file(key));

async function draftWithTwoFiles() {
  const s = await signInPs(app, drGene);
  await selectPatient(s, bunyel);
  const form = await s.agent.get("/ps/conversations/new");
  const res = await s.agent
    .post("/ps/conversations")
    .field({ ...hiddenFields(form.text), subject: "Brouillon à nettoyer", body: "", action: "draft" })
    .attach("attachments", fixture("valid", "radio.png"))
    .attach("attachments", fixture("valid", "photo.jpg"));
  const draftId = Number(res.headers.location.split("/").pop());
  const rows = await app.db("attachments").where({ draft_id: draftId }).orderBy("id");
  return { s, url: res.headers.location as string, draftId, rows };
}

it("removing an attachment from a draft deletes its row and its file", async () => {
  const { s, url, rows } = await draftWithTwoFiles();
  expect(rows.every((r) => stored(r.storage_key))).toBe(true);
  const page = await s.agent.get(url);
  const res = await s.agent.post(url).field({ ...hiddenFields(page.text), subject: "Brouillon à nettoyer", body: "", action: "draft", remove_attachment: String(rows[0].id) });
  expect(res.status).toBe(303);
  expect(await app.db("attachments").where({ id: rows[0].id }).first()).toBeUndefined();
  expect(stored(rows[0].storage_key)).toBe(false);
  expect(stored(rows[1].storage_key)).toBe(true);
});

it("discarding a draft deletes its attachments, rows and files", async () => {
  const { s, url, draftId, rows } = await draftWithTwoFiles();
  const res = await s.agent.post(`${url}/delete`).type("form").send({ _csrf: s.csrf });
  expect(res.status).toBe(303);
  expect(await app.db("drafts").where({ id: draftId }).first()).toBeUndefined();
  expect(
    await app.db("attachments").whereIn(
      "id",
      rows.map((r) => r.id),
    ),
  ).toEqual([]);
  expect(rows.some((r) => stored(r.storage_key))).toBe(false);
});

it("npm run storage:sweep removes stored files no attachment points to, once older than a day, and nothing else", async () => {
  const { rows } = await draftWithTwoFiles();
  /** A file stored with no row pointing to it (a crash between the two), last written `ageHours` ago. */
  const place = async (ageHours: number) => {
    const tmp = path.join(app.storage.tmpDir, crypto.randomBytes(16).toString("hex"));
    fs.writeFileSync(tmp, "%PDF-1.4 orphan");
    const key = await app.storage.put(tmp);
    const when = new Date(Date.now() - ageHours * 3600_000);
    fs.utimesSync(file(key), when, when);
    return key;
  };
  const oldOrphan = await place(30);
  const youngOrphan = await place(1);
  const twoDaysAgo = new Date(Date.now() - 48 * 3600_000);
  for (const r of rows) fs.utimesSync(file(r.storage_key), twoDaysAgo, twoDaysAgo);

  const env = { ...process.env, ...app.settings, LOG_LEVEL: "silent" };
  const { stdout } = await promisify(execFile)(process.execPath, ["--import", "tsx", "src/cli/sweep-storage.ts"], { env });
  expect(JSON.parse(stdout.trim().split("\n").pop()!)).toMatchObject({ event: "storage.swept", removed: 1 });
  expect(fs.existsSync(file(oldOrphan))).toBe(false);
  expect(fs.existsSync(file(youngOrphan))).toBe(true);
  expect(rows.every((r) => stored(r.storage_key))).toBe(true);
});
