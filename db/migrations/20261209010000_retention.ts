import type { Knex } from "knex";
import { dropPlainColumn } from "../../src/db/dialect.js";

/**
 * Issue 17 §1: retention with notice (src/domain/conversations/retention.ts).
 * - `conversations.purge_notice_at`: when the notice mail was queued (the claim: set once, by one process);
 *   `conversations.purge_at`: the purge date it announced (the banner's date). A new message clears both.
 * - `audit_events.counts`: what a purge removed, as JSON counts (`conversation.purged` only; ids and counts, no text).
 * - `file_removals`: stored files whose rows a purge deleted, written in its transaction and emptied once each file is
 *   removed — a purge killed between its commit and its files finishes them when it runs again.
 * - Indexes: the notice pass reads two ranges of last_message_at (closed threads, threads the doctor's side deleted),
 *   both without a notice yet; the purge reads a range of purge_at.
 */
export async function up(knex: Knex): Promise<void> {
  await knex.schema.alterTable("conversations", (t) => {
    t.string("purge_notice_at");
    t.string("purge_at");
  });
  await knex.schema.alterTable("audit_events", (t) => {
    t.text("counts");
  });
  await knex.schema.createTable("file_removals", (t) => {
    t.increments("id").primary();
    t.string("storage_key", 64).notNullable();
    t.string("created_at").notNullable();
  });
  await knex.schema.alterTable("conversations", (t) => {
    t.index(["last_message_at", "id"], "conversations_retention_closed", { predicate: knex.whereRaw("state = 'clos' AND purge_notice_at IS NULL") });
    t.index(["last_message_at", "id"], "conversations_retention_deleted", { predicate: knex.whereRaw("ps_deleted_at IS NOT NULL AND purge_notice_at IS NULL") });
    t.index(["purge_at", "id"], "conversations_purge_at", { predicate: knex.whereRaw("purge_at IS NOT NULL") });
  });
}

export async function down(knex: Knex): Promise<void> {
  await knex.schema.alterTable("conversations", (t) => {
    t.dropIndex(["last_message_at", "id"], "conversations_retention_closed");
    t.dropIndex(["last_message_at", "id"], "conversations_retention_deleted");
    t.dropIndex(["purge_at", "id"], "conversations_purge_at");
  });
  await knex.schema.dropTable("file_removals");
  await dropPlainColumn(knex, "audit_events", "counts");
  await dropPlainColumn(knex, "conversations", "purge_at");
  await dropPlainColumn(knex, "conversations", "purge_notice_at");
}
