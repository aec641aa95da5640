import type { Knex } from "knex";
import { isPostgres } from "../db/dialect.js";

/**
 * Derived numbers kept up to date by the operations that change them, so that no page counts
 * through a large table: the unread messages of each side on the conversation row
 * (`ps_unread`, `elsm_unread`), and the size of each ELSM tray (`tray_counts`).
 */
export type TrayState = "a_traiter" | "en_cours" | "clos";

export async function moveTray(trx: Knex, elsmId: number, from: TrayState | null, to: TrayState): Promise<void> {
  if (from === to) return;
  if (from) await trx("tray_counts").where({ elsm_id: elsmId, state: from }).decrement("n", 1);
  await trx("tray_counts").insert({ elsm_id: elsmId, state: to, n: 1 }).onConflict(["elsm_id", "state"]).merge({ n: trx.raw("tray_counts.n + 1") });
}

/**
 * Reads a conversation's state for a change, locking the row where the database can (PostgreSQL).
 * FOR NO KEY UPDATE, not FOR UPDATE: the draft and attachment rows written earlier in the same
 * transaction hold KEY SHARE locks on it through their foreign keys, which FOR UPDATE would deadlock on.
 */
export async function lockedState(trx: Knex, conversationId: number): Promise<TrayState> {
  const q = trx("conversations").where({ id: conversationId }).first("state");
  const row = await (isPostgres(trx) ? q.forNoKeyUpdate() : q);
  return row.state as TrayState;
}

/** Recomputes every derived number from the rows (after a migration, the demo seed or a bulk load). */
export async function recountDerived(db: Knex): Promise<void> {
  const unread = (side: "ps" | "elsm") =>
    db.raw("(SELECT COUNT(*) FROM messages m WHERE m.conversation_id = conversations.id AND m.side = ? AND m.read_at IS NULL)", [side]);
  await db("conversations").update({ ps_unread: unread("elsm"), elsm_unread: unread("ps") });
  await db("tray_counts").del();
  await db.raw("INSERT INTO tray_counts (elsm_id, state, n) SELECT elsm_id, state, COUNT(*) FROM conversations GROUP BY elsm_id, state");
}
