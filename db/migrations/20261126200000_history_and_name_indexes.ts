import type { Knex } from "knex";

/**
 * From the benchmark (docs/PERFORMANCE.md): a thread's "Historique des accès" reads its newest 50
 * openings straight from an index, however often the thread was opened (one audit row per opening);
 * a search by patient name finds the patients' ids in the index alone (PostgreSQL needs the id in it).
 */
export async function up(knex: Knex): Promise<void> {
  await knex.schema.alterTable("audit_events", (t) => {
    t.index(["object_type", "object_id", "action", "at", "id"], "audit_events_object_history");
    t.dropIndex(["object_type", "object_id", "at"]);
  });
  await knex.schema.alterTable("patients", (t) => {
    t.index(["last_name_key", "id"], "patients_last_name_key_id");
    t.dropIndex(["last_name_key"]);
  });
}

export async function down(knex: Knex): Promise<void> {
  await knex.schema.alterTable("patients", (t) => {
    t.index(["last_name_key"]);
    t.dropIndex([], "patients_last_name_key_id");
  });
  await knex.schema.alterTable("audit_events", (t) => {
    t.index(["object_type", "object_id", "at"]);
    t.dropIndex([], "audit_events_object_history");
  });
}
