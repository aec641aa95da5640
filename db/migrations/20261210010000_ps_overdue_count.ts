import type { Knex } from "knex";

/**
 * Issue 17 §3, from a profile of the doctor's list on a million messages: « En retard (n) » counted the doctor's
 * overdue threads by reading every one of their conversation rows (5.5 ms for a doctor with 1,617 threads, 1,363
 * overdue; the largest cost of the page). These indexes hold the three columns the count asks (the doctor or the
 * structure, overdue, not deleted on their side): the count reads index entries only (0.12 ms).
 */
export async function up(knex: Knex): Promise<void> {
  await knex.schema.alterTable("conversations", (t) => {
    t.index(["ps_practitioner_id", "overdue", "ps_deleted_at"], "conversations_ps_practitioner_overdue");
    t.index(["ps_structure_id", "overdue", "ps_deleted_at"], "conversations_ps_structure_overdue");
  });
}

export async function down(knex: Knex): Promise<void> {
  await knex.schema.alterTable("conversations", (t) => {
    t.dropIndex([], "conversations_ps_structure_overdue");
    t.dropIndex([], "conversations_ps_practitioner_overdue");
  });
}
