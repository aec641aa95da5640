import type { Knex } from "knex";
import { isPostgres } from "../../db/dialect.js";
import type { ConversationState, Side } from "./states.js";

/**
 * Derived values kept up to date by the operations that change them, so that no page counts or
 * joins through a large table: the unread messages of each side on the conversation row
 * (`ps_unread`, `elsm_unread`, one more while the side has marked the thread unread: `ps_marked_unread`,
 * `elsm_marked_unread`, operations.ts markUnread), the size of each ELSM tray with its threads unread by the ELSM and about
 * a patient (`tray_counts`: n, unread, patient, patient_unread), and the patient's name key on the
 * conversation (`patient_last_name_key`, for the back office's name search).
 */

/**
 * Where a conversation counts in its ELSM's trays: its state, unread by the ELSM (elsm_unread > 0, a mark included),
 * about a patient, overdue (deadlines.ts). `dueSide` rides along (who owes the answer), read under the same lock; it counts nowhere.
 */
export type TraySlot = { state: ConversationState; unread: boolean; patient: boolean; overdue: boolean; dueSide?: Side | null };

/** The tray_counts columns a slot adds to. */
function columnsOf(slot: TraySlot): Record<"n" | "unread" | "patient" | "patient_unread" | "overdue", number> {
  const unread = slot.unread ? 1 : 0;
  const patient = slot.patient ? 1 : 0;
  return { n: 1, unread, patient, patient_unread: unread * patient, overdue: slot.overdue ? 1 : 0 };
}

/** Moves a conversation from one slot to another (null: a new conversation), in the caller's transaction. */
export async function moveTray(trx: Knex, elsmId: number, from: TraySlot | null, to: TraySlot): Promise<void> {
  if (from && from.state === to.state && from.unread === to.unread && from.patient === to.patient && from.overdue === to.overdue) return;
  const added = columnsOf(to);
  if (from) {
    const removed = columnsOf(from);
    if (from.state === to.state) {
      // Same tray: only the difference (n is unchanged).
      const delta = Object.fromEntries(Object.entries(added).map(([k, v]) => [k, trx.raw("?? + ?", [k, v - removed[k as keyof typeof removed]])]));
      await trx("tray_counts").where({ elsm_id: elsmId, state: to.state }).update(delta);
      return;
    }
    await removeFromTray(trx, elsmId, from);
  }
  await trx("tray_counts")
    .insert({ elsm_id: elsmId, state: to.state, ...added })
    .onConflict(["elsm_id", "state"])
    .merge(Object.fromEntries(Object.entries(added).map(([k, v]) => [k, trx.raw("?? + ?", [`tray_counts.${k}`, v])])));
}

/** Takes a conversation out of its ELSM's trays (a thread removed whole: its only message withdrawn, recall.ts). */
export async function removeFromTray(trx: Knex, elsmId: number, slot: TraySlot): Promise<void> {
  const removed = columnsOf(slot);
  await trx("tray_counts")
    .where({ elsm_id: elsmId, state: slot.state })
    .update(Object.fromEntries(Object.entries(removed).map(([k, v]) => [k, trx.raw("?? - ?", [k, v])])));
}

/**
 * Reads a conversation's slot for a change, locking the row. PostgreSQL: FOR NO KEY UPDATE, not FOR UPDATE: the draft
 * and attachment rows written earlier in the same transaction hold KEY SHARE locks on it through their foreign keys,
 * which FOR UPDATE would deadlock on. SQLite: its lock is the database's write lock, which every transaction already
 * holds from its start (`BEGIN IMMEDIATE`, src/db/dialect.ts): a read here cannot be followed by a failed upgrade.
 */
export async function lockedSlot(trx: Knex, conversationId: number): Promise<TraySlot> {
  const q = trx("conversations").where({ id: conversationId }).first("state", "elsm_unread", "patient_id", "overdue", "due_side");
  const row = await (isPostgres(trx) ? q.forNoKeyUpdate() : q);
  return {
    state: row.state as ConversationState,
    unread: Number(row.elsm_unread) > 0,
    patient: row.patient_id !== null,
    overdue: Boolean(row.overdue),
    dueSide: (row.due_side as Side | null) ?? null,
  };
}

/**
 * Takes the thread's row lock before its messages are written (PostgreSQL), as a withdrawal does (recall.ts), so the two
 * never deadlock. SQLite: nothing — its writers are serialised, and a read first would only make a second process's
 * write fail busy instead of waiting.
 */
export async function lockThread(trx: Knex, conversationId: number): Promise<void> {
  if (isPostgres(trx)) await trx("conversations").where({ id: conversationId }).forNoKeyUpdate().first("id");
}

/** The patient's search key copied onto a new conversation (patients' names are reference data, never edited here). */
export function patientNameKey(trx: Knex, patientId: number | null): Knex.QueryBuilder | null {
  return patientId === null ? null : trx("patients").select("last_name_key").where({ id: patientId });
}

/** Recomputes every derived value from the rows (after the demo seed or a bulk load). */
export async function recountDerived(db: Knex): Promise<void> {
  await db("conversations")
    .whereNotNull("patient_id")
    .update({ patient_last_name_key: db("patients").select("last_name_key").where("patients.id", db.ref("conversations.patient_id")) });
  // A side's counter: the other side's messages it has not read (a withdrawn one is never read, and never counts), plus
  // one when it marked the thread unread.
  const unread = (side: Side, mark: string) =>
    db.raw(
      `((SELECT COUNT(*) FROM messages m WHERE m.conversation_id = conversations.id AND m.side = ? AND m.read_at IS NULL AND m.withdrawn_at IS NULL) + CASE WHEN ?? THEN 1 ELSE 0 END)`,
      [side, mark],
    );
  await db("conversations").update({ ps_unread: unread("elsm", "ps_marked_unread"), elsm_unread: unread("ps", "elsm_marked_unread") });
  await db("tray_counts").del();
  await db.raw(
    `INSERT INTO tray_counts (elsm_id, state, n, unread, patient, patient_unread, overdue)
     SELECT elsm_id, state, COUNT(*),
       SUM(CASE WHEN elsm_unread > 0 THEN 1 ELSE 0 END),
       SUM(CASE WHEN patient_id IS NOT NULL THEN 1 ELSE 0 END),
       SUM(CASE WHEN elsm_unread > 0 AND patient_id IS NOT NULL THEN 1 ELSE 0 END),
       SUM(CASE WHEN overdue = ? THEN 1 ELSE 0 END)
     FROM conversations GROUP BY elsm_id, state`,
    [true],
  );
}
