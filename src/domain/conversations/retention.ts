import type { Knex } from "knex";
import type { Db } from "../../db/connection.js";
import { isPostgres } from "../../db/dialect.js";
import type { FileStorage } from "../attachments/storage.js";
import { audit } from "../audit/audit.js";
import { elsmMailbox, psMailbox, queueNotification } from "../notifications/mailer.js";
import { lockedSlot } from "./counters.js";
import { removeThread } from "./removal.js";

/**
 * Retention with notice (issue 17 §1), in one place. A secure messaging service is not the medical record: a thread is
 * due for purge once it has had no message for RETENTION_MONTHS (24) and it is closed by the échelon or deleted by the
 * doctor's side — an open thread is never purged.
 * - RETENTION_NOTICE_DAYS (30) before, the notice pass claims the thread (one conditional update: `purge_notice_at` set
 *   once, whichever process wins) and queues one content-free mail to each party through the notifications outbox
 *   (claimed, retried on SMTP failure); the doctor's side that deleted the thread no longer sees it and gets none. The
 *   date announced (`purge_at`) is never less than RETENTION_NOTICE_DAYS away, even for a thread closed long after its
 *   last message: the banner « Cette conversation sera supprimée le … » shows it on both sides with the PDF export.
 * - A new message cancels it: compose.ts's send clears `purge_notice_at` / `purge_at` (the thread is active again, a
 *   doctor's message reopens a closed one); its next notice comes RETENTION_MONTHS after its new last message.
 * - On the date, the purge pass removes the thread whole (removal.ts removeThread: every table naming it, the tray
 *   counts) by batches of PURGE_BATCH threads per transaction, each thread's row locked and its date read again under
 *   the lock, and records `conversation.purged` (ids and counts only). The stored files' keys are written to
 *   `file_removals` in that transaction and removed after the commit (never a row pointing to a missing file); a purge
 *   killed between the two finishes them when it runs again. Idempotent: a thread already purged is simply not found.
 * Both passes run in each app process (server.ts) and as `npm run retention:purge`. The audit trail keeps its own
 * retention (audit/retention.ts).
 */
export type RetentionSettings = { months: number; noticeDays: number };

const DAY_MS = 86_400_000;
const NOTICE_BATCH = 200;
/** Threads per purge transaction: a short lock, whatever the size of the database. */
export const PURGE_BATCH = 20;

function minusMonths(at: Date, months: number): Date {
  const d = new Date(at.getTime());
  d.setUTCMonth(d.getUTCMonth() - months);
  return d;
}

function plusMonths(iso: string, months: number): Date {
  const d = new Date(iso);
  d.setUTCMonth(d.getUTCMonth() + months);
  return d;
}

/** The date a notice sent `now` announces: RETENTION_MONTHS after the last message, never sooner than the notice period. */
export function purgeDateOf(lastMessageAt: string, settings: RetentionSettings, now: Date): string {
  const due = plusMonths(lastMessageAt, settings.months).getTime();
  return new Date(Math.max(due, now.getTime() + settings.noticeDays * DAY_MS)).toISOString();
}

/** The two ranges of threads eligible for a notice: closed by the échelon, or deleted by the doctor's side (literal predicates: the partial indexes). */
const ELIGIBLE = ["state = 'clos' AND purge_notice_at IS NULL", "ps_deleted_at IS NOT NULL AND purge_notice_at IS NULL"] as const;

/** The notice pass's read: one range of a partial index (query-plan tests). */
export function noticeCandidates(db: Knex, which: 0 | 1, cutoff: string, limit = NOTICE_BATCH): Knex.QueryBuilder {
  return db("conversations")
    .whereRaw(ELIGIBLE[which])
    .where("last_message_at", "<=", cutoff)
    .orderBy([{ column: "last_message_at" }, { column: "id" }])
    .limit(limit)
    .select("id");
}

/** The purge pass's read: a range of purge_at. */
export function purgeCandidates(db: Knex, at: string, limit = PURGE_BATCH): Knex.QueryBuilder {
  return db("conversations")
    .whereNotNull("purge_at")
    .where("purge_at", "<=", at)
    .orderBy([{ column: "purge_at" }, { column: "id" }])
    .limit(limit)
    .select("id");
}

/** Queues the notices of the threads entering their notice period, each once (several processes safe). */
export async function noticePass(db: Db, settings: RetentionSettings, now: Date): Promise<{ noticed: number; mails: number }> {
  const cutoff = minusMonths(new Date(now.getTime() + settings.noticeDays * DAY_MS), settings.months).toISOString();
  let noticed = 0;
  let mails = 0;
  for (const which of [0, 1] as const) {
    for (;;) {
      const ids = (await noticeCandidates(db, which, cutoff)).map((r: { id: number }) => Number(r.id));
      let claimedHere = 0;
      for (const id of ids) {
        const sent = await db.transaction(async (trx) => {
          const c = await trx("conversations").where({ id }).first("elsm_id", "last_message_at", "ps_practitioner_id", "ps_structure_id", "ps_deleted_at");
          if (!c || c.last_message_at > cutoff) return null;
          // THE claim: one process sets the notice, for this very last message, while the thread is still closed or deleted.
          const claimed = await trx("conversations")
            .where({ id, last_message_at: c.last_message_at })
            .whereNull("purge_notice_at")
            .where((w) => w.where("state", "clos").orWhereNotNull("ps_deleted_at"))
            .update({ purge_notice_at: now.toISOString(), purge_at: purgeDateOf(c.last_message_at, settings, now) });
          if (claimed !== 1) return null;
          const targets = [await elsmMailbox(trx, c.elsm_id), c.ps_deleted_at ? null : await psMailbox(trx, c.ps_practitioner_id, c.ps_structure_id)];
          let queued = 0;
          for (const target of targets) {
            if (!target) continue;
            await queueNotification(trx, id, target, "retention");
            queued += 1;
          }
          return queued;
        });
        if (sent === null) continue;
        claimedHere += 1;
        noticed += 1;
        mails += sent;
      }
      if (ids.length < NOTICE_BATCH || claimedHere === 0) break;
    }
  }
  return { noticed, mails };
}

export type PurgeCounts = { threads: number; messages: number; attachments: number; drafts: number; notes: number; files: number };

const count = async (q: Knex.QueryBuilder) => Number(((await q.count({ n: "*" }).first()) as { n: number | string } | undefined)?.n ?? 0);

/** What a thread's purge removes, counted (the audit row, and --dry-run). */
async function countsOf(db: Knex, id: number) {
  const messageIds = db("messages").where({ conversation_id: id }).select("id");
  const draftIds = db("drafts").where({ conversation_id: id }).select("id");
  const [messages, drafts, notes, files] = await Promise.all([
    count(db("messages").where({ conversation_id: id })),
    count(db("drafts").where({ conversation_id: id })),
    count(db("internal_notes").where({ conversation_id: id })),
    count(db("attachments").where((w) => w.whereIn("message_id", messageIds).orWhereIn("draft_id", draftIds))),
  ]);
  return { messages, drafts, notes, attachments: files };
}

/** Stored files a purge committed the removal of: removed, then their rows (a crash in between: removed again, harmlessly). */
async function removeCommittedFiles(db: Db, storage: FileStorage): Promise<number> {
  let removed = 0;
  for (;;) {
    const rows = (await db("file_removals").orderBy("id").limit(500).select("id", "storage_key")) as { id: number; storage_key: string }[];
    if (rows.length === 0) return removed;
    const done: number[] = [];
    for (const r of rows) {
      try {
        await storage.remove(r.storage_key);
        done.push(r.id);
        removed += 1;
      } catch {
        // Left for the next pass (a storage that cannot take a delete now).
      }
    }
    if (done.length === 0) return removed;
    await db("file_removals").whereIn("id", done).del();
  }
}

/** Purges the threads whose announced date has come (`dryRun`: counts only, nothing written). */
export async function purgePass(deps: { db: Db; storage: FileStorage }, now: Date, options: { dryRun?: boolean; batch?: number } = {}): Promise<PurgeCounts> {
  const { db, storage } = deps;
  const at = now.toISOString();
  const total: PurgeCounts = { threads: 0, messages: 0, attachments: 0, drafts: 0, notes: 0, files: 0 };
  const add = (c: Omit<PurgeCounts, "threads" | "files">) => {
    total.threads += 1;
    total.messages += c.messages;
    total.attachments += c.attachments;
    total.drafts += c.drafts;
    total.notes += c.notes;
  };
  if (options.dryRun) {
    let after: { at: string; id: number } | null = null;
    for (;;) {
      const q = db("conversations").whereNotNull("purge_at").where("purge_at", "<=", at);
      if (after) q.where((w) => w.where("purge_at", ">", after!.at).orWhere((x) => x.where("purge_at", after!.at).where("id", ">", after!.id)));
      const rows = (await q
        .orderBy([{ column: "purge_at" }, { column: "id" }])
        .limit(200)
        .select("id", "purge_at")) as { id: number; purge_at: string }[];
      for (const r of rows) add(await countsOf(db, Number(r.id)));
      if (rows.length < 200) return total;
      after = { at: rows.at(-1)!.purge_at, id: Number(rows.at(-1)!.id) };
    }
  }
  // A purge killed after its commit left its files listed: removed first.
  total.files += await removeCommittedFiles(db, storage);
  for (;;) {
    const ids = ((await purgeCandidates(db, at, options.batch ?? PURGE_BATCH)) as { id: number }[]).map((r) => Number(r.id)).sort((a, b) => a - b);
    if (ids.length === 0) break;
    const purged = await db.transaction(async (trx) => {
      let n = 0;
      for (const id of ids) {
        // The row locked (PostgreSQL) and its date read again: a message sent meanwhile cancelled it; another process purged it.
        const q = trx("conversations").where({ id }).whereNotNull("purge_at").where("purge_at", "<=", at).first("id", "elsm_id");
        const c = await (isPostgres(trx) ? q.forNoKeyUpdate() : q);
        if (!c) continue;
        const counts = await countsOf(trx, id);
        const slot = await lockedSlot(trx, id);
        const keys = await removeThread(trx, id, Number(c.elsm_id), slot);
        const created = new Date().toISOString();
        for (let i = 0; i < keys.length; i += 200) await trx("file_removals").insert(keys.slice(i, i + 200).map((storage_key) => ({ storage_key, created_at: created })));
        await audit(trx, { actor: null, ip: "retention" }, "conversation.purged", { type: "conversation", id }, undefined, counts);
        add(counts);
        n += 1;
      }
      return n;
    });
    total.files += await removeCommittedFiles(db, storage);
    // Every thread of the batch taken by another process (or cancelled): the range moved on, read it again.
    if (purged === 0 && ids.length < (options.batch ?? PURGE_BATCH)) break;
  }
  return total;
}

/** Both passes, as the app and the CLI run them. */
export async function retentionPass(deps: { db: Db; storage: FileStorage }, settings: RetentionSettings, now: Date) {
  const notices = await noticePass(deps.db, settings, now);
  const purged = await purgePass(deps, now);
  return { ...notices, purged };
}

/** The banner both sides read on a thread with a notice: « Cette conversation sera supprimée le 03/01/2027 … ». */
export function purgeBanner(purgeAt: string | null | undefined): string | null {
  if (!purgeAt) return null;
  const date = new Intl.DateTimeFormat("fr-FR", { timeZone: "Europe/Paris", day: "2-digit", month: "2-digit", year: "numeric" }).format(new Date(purgeAt));
  return `Cette conversation sera supprimée le ${date} — exportez-la pour le dossier du patient`;
}
