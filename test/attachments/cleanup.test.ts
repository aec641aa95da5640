import fs from "node:fs";
import path from "node:path";
import { afterAll, beforeAll, expect, it } from "vitest";
import { bunyel, drGene, fixture, hiddenFields, selectPatient, signInPs, startTestApp, type TestApp } from "../helpers/app.js";

let app: TestApp;
beforeAll(async () => { app = await startTestApp(); });
afterAll(async () => { await app.close(); });

const stored = (key: string) => fs.existsSync(path.join(app.config.storageDir, "objects", key.slice(0, 2), key));

async function draftWithTwoFiles() {
  const s = await signInPs(app, drGene);
  await selectPatient(s, bunyel);
  const form = await s.agent.get("/ps/conversations/new");
  const res = await s.agent.post("/ps/conversations").field({ ...hiddenFields(form.text), subject: "Brouillon à nettoyer", body: "", action: "draft" })
    .attach("attachments", fixture("valid", "radio.png")).attach("attachments", fixture("valid", "photo.jpg"));
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
  expect(await app.db("attachments").whereIn("id", rows.map((r) => r.id))).toEqual([]);
  expect(rows.some((r) => stored(r.storage_key))).toBe(false);
});
