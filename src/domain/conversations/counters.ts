import type { Knex } from "knex";
import { isPostgres } from "../../db/dialect.js";
import type { ConversationState, Side } from "./states.js";

/**
 * Derived values kept up to date by the operations that change them, so that no page counts or
 * joins through a large table: the unread messages of each side on the conversation row
 * (`ps_unread`, `elsm_unread`), the size of each ELSM tray (`tray_counts`), and the patient's
 * name key on the conversation (`patient_last_name_key`, for the back office's name search).
 */
export async function moveTray(trx: Knex, elsmId: number, from: ConversationState | null, to: ConversationState): Promise<void> {
  if (from === to) return;
  if (from) await trx("tray_counts").where({ elsm_id: elsmId, state: from }).decrement("n", 1);
  await trx("tray_counts")
    .insert({ elsm_id: elsmId, state: to, n: 1 })
    .onConflict(["elsm_id", "state"])
    .merge({ n: trx.raw("tray_counts.n + 1") });
}

/**
 * Reads a conversation's state for a change, locking the row where the database can (PostgreSQL).
 * FOR NO KEY UPDATE, not FOR UPDATE: the draft and attachment rows written earlier in the same
 * transaction hold KEY SHARE locks on it through their foreign keys, which FOR UPDATE would deadlock on.
 */
export async function lockedState(trx: Knex, conversationId: number): Promise<ConversationState> {
  const q = trx("conversations").where({ id: conversationId }).first("state");
  const row = await (isPostgres(trx) ? q.forNoKeyUpdate() : q);
  return row.state as ConversationState;
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
  const unread = (side: Side) => db.raw("(SELECT COUNT(*) FROM messages m WHERE m.conversation_id = conversations.id AND m.side = ? AND m.read_at IS NULL)", [side]);
  await db("conversations").update({ ps_unread: unread("elsm"), elsm_unread: unread("ps") });
  await db("tray_counts").del();
  await db.raw("INSERT INTO tray_counts (elsm_id, state, n) SELECT elsm_id, state, COUNT(*) FROM conversations GROUP BY elsm_id, state");
}
