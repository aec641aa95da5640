import type { Knex } from "knex";

/**
 * From the benchmark on a million messages (docs/PERFORMANCE.md): the unread count reads only the
 * conversations with something unread (partial indexes), and a search by patient takes its newest
 * threads of one ELSM straight from an index.
 */
export async function up(knex: Knex): Promise<void> {
  await knex.schema.alterTable("conversations", (t) => {
    t.index(["ps_practitioner_id"], "conversations_ps_practitioner_unread", {
      predicate: knex.whereRaw("ps_unread > 0 AND ps_deleted_at IS NULL"),
    });
    t.index(["ps_structure_id"], "conversations_ps_structure_unread", {
      predicate: knex.whereRaw("ps_unread > 0 AND ps_deleted_at IS NULL"),
    });
    t.index(["patient_id", "elsm_id", "last_message_at", "id"], "conversations_patient_elsm");
  });
}

export async function down(knex: Knex): Promise<void> {
  await knex.schema.alterTable("conversations", (t) => {
    t.dropIndex([], "conversations_patient_elsm");
    t.dropIndex([], "conversations_ps_structure_unread");
    t.dropIndex([], "conversations_ps_practitioner_unread");
  });
}
