import type { Knex } from "knex";
import { addReferenceColumn, dropPlainColumn, isPostgres } from "../../src/db/dialect.js";

/**
 * Issue 15 §1: « Retirer le message » — a message withdrawn by its side while the other side has not opened it.
 * - `messages.withdrawn_at` / `withdrawn_by_agent_id`: the tombstone (« Message retiré par … le … »); the body is emptied,
 *   the attachments go (rows and files). The échelon's messages may be withdrawn by any of its agents: who did it is
 *   kept; a doctor's, only by its author (the author is the one who withdrew).
 * - `messages.undo`: the conversation's columns as they were before the message was sent (JSON), written by the send,
 *   so that withdrawing puts the thread back as if the message had not been sent (state, closure, last message, due
 *   date, rédacteur, first answer, deleted by the doctor's side). Read only by the withdrawal, emptied with it.
 * - `notifications.message_id`: the mail a message queued, cancelled by its withdrawal while not yet sent.
 * Nothing to backfill: messages sent before this migration have no undo and cannot be withdrawn.
 */
export async function up(knex: Knex): Promise<void> {
  await knex.schema.alterTable("messages", (t) => {
    t.string("withdrawn_at");
    t.text("undo");
  });
  await addReferenceColumn(knex, "messages", "withdrawn_by_agent_id", { table: "agents", column: "id" });
  await addReferenceColumn(knex, "notifications", "message_id", { table: "messages", column: "id" });
  // The withdrawal cancels its message's pending mail: one index range, never a scan of the outbox.
  await knex.schema.alterTable("notifications", (t) => {
    t.index(["message_id"], "notifications_message");
  });
}

/**
 * The columns go; SQLite cannot drop a column that is a foreign key (ALTER TABLE DROP COLUMN refuses it and a table
 * rebuild is refused by the rows pointing at messages): there the two reference columns stay, emptied, unread by the code.
 */
export async function down(knex: Knex): Promise<void> {
  await knex.schema.alterTable("notifications", (t) => {
    t.dropIndex(["message_id"], "notifications_message");
  });
  for (const [table, column] of [
    ["messages", "undo"],
    ["messages", "withdrawn_at"],
  ] as const)
    await dropPlainColumn(knex, table, column);
  if (isPostgres(knex)) {
    for (const [table, column] of [
      ["notifications", "message_id"],
      ["messages", "withdrawn_by_agent_id"],
    ] as const)
      await dropPlainColumn(knex, table, column);
    return;
  }
  await knex("notifications").update({ message_id: null });
  await knex("messages").update({ withdrawn_by_agent_id: null });
}
