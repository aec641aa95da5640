import type { Knex } from "knex";

/**
 * The back office's search by patient name (docs/PERFORMANCE.md): the patient's name key copied onto
 * the conversation, so that a name prefix is one range of an index per ELSM instead of one probe per
 * matching patient (2,639 patients for "MARTIN" on a million messages). Kept by
 * src/domain/conversations/counters.ts (patientNameKey, recountDerived).
 */
export async function up(knex: Knex): Promise<void> {
  await knex.schema.alterTable("conversations", (t) => {
    t.string("patient_last_name_key", 80);
    t.index(["elsm_id", "patient_last_name_key", "last_message_at", "id"], "conversations_elsm_patient_name");
  });
  await knex("conversations")
    .whereNotNull("patient_id")
    .update({ patient_last_name_key: knex("patients").select("last_name_key").where("patients.id", knex.ref("conversations.patient_id")) });
}

export async function down(knex: Knex): Promise<void> {
  await knex.schema.alterTable("conversations", (t) => {
    t.dropIndex([], "conversations_elsm_patient_name");
    t.dropColumn("patient_last_name_key");
  });
}
