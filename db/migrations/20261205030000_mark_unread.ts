import type { Knex } from "knex";

/**
 * Issue 14 §4: « Marquer comme non lu », each side for itself.
 * - `conversations.ps_marked_unread` / `elsm_marked_unread`: the side marked the thread unread while it had no unread
 *   message of the other side. The side's counter (`ps_unread` / `elsm_unread`) then counts it as one more, so every
 *   reader of "counter > 0" (the row, ÉCHANGES MÉDICAUX (n), tray_counts.unread, the tray's "non lus" filter and its
 *   partial indexes) follows without counting anything new. Opening the thread clears both (operations.ts); the
 *   messages' read_at (the other side's [Lu]) is never touched by the mark.
 * Nothing to backfill: no thread is marked before this migration.
 */
export async function up(knex: Knex): Promise<void> {
  await knex.schema.alterTable("conversations", (t) => {
    t.boolean("ps_marked_unread").notNullable().defaultTo(false);
    t.boolean("elsm_marked_unread").notNullable().defaultTo(false);
  });
}

/** The marks leave the counters first (and the trays' unread counts, recounted as of this migration), then the columns go. */
export async function down(knex: Knex): Promise<void> {
  await knex("conversations")
    .where({ ps_marked_unread: true })
    .update({ ps_unread: knex.raw("ps_unread - 1") });
  await knex("conversations")
    .where({ elsm_marked_unread: true })
    .update({ elsm_unread: knex.raw("elsm_unread - 1") });
  const counted = (where: string) => knex.raw(`(SELECT COUNT(*) FROM conversations c WHERE c.elsm_id = tray_counts.elsm_id AND c.state = tray_counts.state AND ${where})`);
  await knex("tray_counts").update({ unread: counted("c.elsm_unread > 0"), patient_unread: counted("c.elsm_unread > 0 AND c.patient_id IS NOT NULL") });
  // ALTER TABLE … DROP COLUMN on both databases: Knex's SQLite way (a copy of the table) fails on the rows that refer to it.
  for (const column of ["elsm_marked_unread", "ps_marked_unread"]) await knex.raw("ALTER TABLE ?? DROP COLUMN ??", ["conversations", column]);
}
