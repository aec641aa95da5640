import { afterAll, beforeAll, describe, expect, it } from "vitest";
import type { AgentActor, PsActor } from "../../src/domain/actor.js";
import { submitCompose, type ComposeOutcome } from "../../src/domain/conversations/compose.js";
import { recountDerived } from "../../src/domain/conversations/counters.js";
import { addInternalNote } from "../../src/domain/conversations/internal-notes.js";
import { closeConversation, deleteForPs } from "../../src/domain/conversations/operations.js";
import { markWriting } from "../../src/domain/conversations/presence.js";
import { noticePass, purgePass, purgeDateOf } from "../../src/domain/conversations/retention.js";
import { loadConversation } from "../../src/domain/conversations/scope.js";
import { isPostgres } from "../../src/db/dialect.js";
import { agentActor, closeForm, conversationById, count, ctx, form, isStored, nam, nir, patient, psActor, seededDomain, upload, type DomainFixture } from "./helpers.js";

/**
 * Retention with notice (issue 17 §1), with a fake clock: the passes are given the time. A closed or deleted thread
 * without a message for 24 months is announced 30 days before (once, both parties), then purged whole on the date.
 */
const SETTINGS = { months: 24, noticeDays: 30 };
const DAY = 86_400_000;

let f: DomainFixture;
let gene: PsActor;
let anna: AgentActor;
let reason: { reason_id: string };
beforeAll(async () => {
  f = await seededDomain();
  gene = await psActor(f.db, nam.gene);
  anna = await agentActor(f.db, "AIN");
  reason = await closeForm(f.db, anna);
  // The demo's closed and deleted threads out of the way first (their notices and purges would mix with the counts below).
  const far = new Date(Date.now() + 800 * DAY);
  await noticePass(f.db, SETTINGS, far);
  await purgePass(f.deps, new Date(far.getTime() + 31 * DAY));
  await f.db("notifications").del();
});
afterAll(async () => {
  await f?.close();
});

function sent(o: ComposeOutcome): number {
  if (o.status !== "sent") throw new Error(`not sent: ${JSON.stringify(o)}`);
  return o.conversationId;
}

/** 24 months after the thread's last message (the purge date a timely notice announces). */
async function dueDate(id: number): Promise<Date> {
  const c = await conversationById(f.db, id);
  const d = new Date(c.last_message_at);
  d.setUTCMonth(d.getUTCMonth() + SETTINGS.months);
  return d;
}

/** A doctor's question with a file, the échelon's answer with a file, a note, a doctor's reply draft with a file, presence. */
async function fullThread(subject: string): Promise<{ id: number; keys: string[] }> {
  const guillaume = await patient(f.db, nir.bunyel.nir, "Guillaume");
  const id = sent(
    await submitCompose(
      f.deps,
      ctx(gene),
      { kind: "ps-new", patient: guillaume },
      form({ subject, body: "Motsecretretention question", files: [upload(f.storage, "valid", "compte-rendu.pdf")] }),
    ),
  );
  let c = await loadConversation(f.db, anna, String(id));
  sent(await submitCompose(f.deps, ctx(anna), { kind: "reply", conversation: c }, form({ body: "Réponse de l'échelon", files: [upload(f.storage, "valid", "photo.jpg")] })));
  expect(await addInternalNote(f.db, ctx(anna), c, { note: "Note entre collègues" })).toMatchObject({ status: "added" });
  c = await loadConversation(f.db, gene, String(id));
  const draft = await submitCompose(
    f.deps,
    ctx(gene),
    { kind: "reply", conversation: c },
    form({ action: "draft", body: "Brouillon du médecin", files: [upload(f.storage, "valid", "compte-rendu.pdf")] }),
  );
  expect(draft.status).toBe("saved");
  await markWriting(f.db, anna, id);
  const keys = (await f
    .db("attachments")
    .whereIn("message_id", f.db("messages").where({ conversation_id: id }).select("id"))
    .orWhereIn("draft_id", f.db("drafts").where({ conversation_id: id }).select("id"))
    .pluck("storage_key")) as string[];
  expect(keys).toHaveLength(3);
  return { id, keys };
}

async function close(id: number) {
  expect(await closeConversation(f.deps, ctx(anna), await loadConversation(f.db, anna, String(id)), reason)).toEqual({ closed: true });
}

/** The thread's entries in the full-text index (SQLite: its rowid range; PostgreSQL: its rows). */
async function indexed(id: number): Promise<number> {
  if (isPostgres(f.db)) return count(f.db, "search_text", { conversation_id: id });
  const rows = await f.db.raw("SELECT COUNT(*) AS n FROM search_text WHERE rowid >= ? AND rowid < ?", [id * 2 ** 24, (id + 1) * 2 ** 24]);
  return Number(rows[0].n);
}

/** The derived counters as kept, then as a full recount makes them: equal. */
async function expectCountsRight() {
  const snapshot = async () => ({
    // A tray emptied keeps its row at zero; the recount writes none: compared without all-zero rows.
    trays: (await f.db("tray_counts").orderBy(["elsm_id", "state"]).select("elsm_id", "state", "n", "unread", "patient", "patient_unread", "overdue")).filter((r) =>
      ["n", "unread", "patient", "patient_unread", "overdue"].some((k) => Number(r[k]) !== 0),
    ),
    unread: await f.db("conversations").orderBy("id").select("id", "ps_unread", "elsm_unread"),
  });
  const kept = JSON.parse(JSON.stringify(await snapshot()));
  await recountDerived(f.db);
  expect(JSON.parse(JSON.stringify(await snapshot()))).toEqual(kept);
}

describe("retention with notice", () => {
  it("announces a closed thread 30 days before its date, once, to both parties, and purges it whole on the date", async () => {
    const { id, keys } = await fullThread("Rétention complète");
    await close(id);
    const date = await dueDate(id);

    expect(await noticePass(f.db, SETTINGS, new Date(date.getTime() - 31 * DAY))).toEqual({ noticed: 0, mails: 0 });
    expect((await conversationById(f.db, id)).purge_at).toBeNull();

    const noticeTime = new Date(date.getTime() - 30 * DAY);
    expect(await noticePass(f.db, SETTINGS, noticeTime)).toEqual({ noticed: 1, mails: 2 });
    expect(await noticePass(f.db, SETTINGS, new Date(noticeTime.getTime() + DAY))).toEqual({ noticed: 0, mails: 0 });
    const noticed = await conversationById(f.db, id);
    expect(noticed.purge_at).toBe(date.toISOString());
    const mails = await f.db("notifications").where({ conversation_id: id, kind: "retention" }).select("recipient_elsm_id", "recipient_practitioner_id");
    expect(mails).toHaveLength(2);
    expect(mails.some((m) => m.recipient_elsm_id === anna.elsmId)).toBe(true);
    expect(mails.some((m) => m.recipient_practitioner_id === gene.practitionerId)).toBe(true);

    // Not a minute early.
    expect((await purgePass(f.deps, new Date(date.getTime() - 60_000))).threads).toBe(0);
    expect(await count(f.db, "messages", { conversation_id: id })).toBe(2);

    const dry = await purgePass(f.deps, date, { dryRun: true });
    expect(dry).toMatchObject({ threads: 1, messages: 2, attachments: 3, drafts: 1, notes: 1 });
    expect(await count(f.db, "messages", { conversation_id: id })).toBe(2);

    expect(await indexed(id)).toBeGreaterThanOrEqual(4);
    const purged = await purgePass(f.deps, date);
    expect(purged).toEqual({ threads: 1, messages: 2, attachments: 3, drafts: 1, notes: 1, files: 3 });
    expect(await conversationById(f.db, id)).toBeUndefined();
    for (const table of ["messages", "drafts", "internal_notes", "reply_presence", "notifications"]) expect(await count(f.db, table, { conversation_id: id }), table).toBe(0);
    expect(Number((await f.db("attachments").whereIn("storage_key", keys).count({ n: "*" }).first())?.n)).toBe(0);
    for (const key of keys) expect(await isStored(f.storage, key)).toBe(false);
    expect(await count(f.db, "file_removals")).toBe(0);
    // Out of the search index (subject, messages, note).
    expect(await indexed(id)).toBe(0);
    // The audit row: ids and counts only.
    const row = await f.db("audit_events").where({ action: "conversation.purged", object_id: id }).first();
    expect(JSON.parse(row.counts)).toEqual({ messages: 2, drafts: 1, notes: 1, attachments: 3 });
    await expectCountsRight();
    // Idempotent: nothing more to do.
    expect(await purgePass(f.deps, new Date(date.getTime() + DAY))).toMatchObject({ threads: 0, files: 0 });
  });

  it("never announces nor purges an open thread, however old", async () => {
    const guillaume = await patient(f.db, nir.bunyel.nir, "Guillaume");
    const id = sent(await submitCompose(f.deps, ctx(gene), { kind: "ps-new", patient: guillaume }, form({ subject: "Toujours ouverte", body: "Question" })));
    const far = new Date((await dueDate(id)).getTime() + 365 * DAY);
    await noticePass(f.db, SETTINGS, far);
    await purgePass(f.deps, far);
    expect((await conversationById(f.db, id)).purge_at).toBeNull();
    expect(await count(f.db, "messages", { conversation_id: id })).toBe(1);
  });

  it("a new message cancels the purge: the doctor's reply reopens the closed thread, which is kept on the date", async () => {
    const { id } = await fullThread("Rétention annulée");
    await close(id);
    const date = await dueDate(id);
    await noticePass(f.db, SETTINGS, new Date(date.getTime() - 30 * DAY));
    expect((await conversationById(f.db, id)).purge_at).toBe(date.toISOString());
    expect(await count(f.db, "notifications", { conversation_id: id, kind: "retention" })).toBe(2);
    const c = await loadConversation(f.db, gene, String(id));
    const draft = await f.db("drafts").where({ conversation_id: id, side: "ps" }).first();
    sent(await submitCompose(f.deps, ctx(gene), { kind: "reply", conversation: c }, form({ body: "Une dernière question", draft, draftVersion: draft.updated_at })));
    const after = await conversationById(f.db, id);
    expect(after).toMatchObject({ state: "a_traiter", purge_at: null, purge_notice_at: null });
    // The notices not mailed yet go with it: nobody is told of a purge that will not happen.
    expect(await count(f.db, "notifications", { conversation_id: id, kind: "retention" })).toBe(0);
    expect((await purgePass(f.deps, new Date(date.getTime() + DAY))).threads).toBe(0);
    expect(await count(f.db, "messages", { conversation_id: id })).toBe(3);
    await expectCountsRight();
  });

  it("a thread the doctor's side deleted is announced to the échelon only (the doctor no longer sees it), then purged", async () => {
    const { id } = await fullThread("Rétention supprimée côté PS");
    await deleteForPs(f.deps, ctx(gene), await loadConversation(f.db, gene, String(id)));
    const date = await dueDate(id);
    expect(await noticePass(f.db, SETTINGS, new Date(date.getTime() - 30 * DAY))).toEqual({ noticed: 1, mails: 1 });
    expect(await f.db("notifications").where({ conversation_id: id, kind: "retention" }).pluck("recipient_elsm_id")).toEqual([anna.elsmId]);
    expect((await purgePass(f.deps, date)).threads).toBe(1);
    expect(await conversationById(f.db, id)).toBeUndefined();
    await expectCountsRight();
  });

  it("a thread closed long after its last message still gets its full notice period", async () => {
    const now = new Date("2031-01-01T00:00:00.000Z");
    expect(purgeDateOf("2026-01-01T00:00:00.000Z", SETTINGS, now)).toBe(new Date(now.getTime() + 30 * DAY).toISOString());
    expect(purgeDateOf("2030-01-01T00:00:00.000Z", SETTINGS, new Date("2031-12-02T00:00:00.000Z"))).toBe("2032-01-01T00:00:00.000Z");
  });

  it("files a purge committed but did not remove (killed in between) are removed by the next pass", async () => {
    const { id, keys } = await fullThread("Rétention reprise");
    await close(id);
    // As a crash right after the commit leaves it: the rows gone, the files listed for removal, still stored.
    await f.db("attachments").whereIn("storage_key", keys).del();
    await f.db("file_removals").insert(keys.map((storage_key) => ({ storage_key, created_at: new Date().toISOString() })));
    for (const key of keys) expect(await isStored(f.storage, key)).toBe(true);
    expect((await purgePass(f.deps, new Date())).files).toBe(3);
    for (const key of keys) expect(await isStored(f.storage, key)).toBe(false);
    expect(await count(f.db, "file_removals")).toBe(0);
  });
});
