import type { Knex } from "knex";

/**
 * Issue 10 §19: each tray announces its unread threads, and lists them filtered (unread only, with or
 * without a patient) and sorted either way.
 * - `tray_counts` gains, per ELSM and state, the threads the ELSM has not read (`unread`: elsm_unread > 0),
 *   the threads about a patient (`patient`), and both (`patient_unread`); kept by the operations
 *   (src/domain/conversations/counters.ts), backfilled here.
 * - One partial index per filter on (elsm_id, state, last_message_at, id): a filtered tray page is one index
 *   range in either direction, however few of the tray's threads the filter keeps.
 */
const FILTERED = [
  ["conversations_tray_unread", "elsm_unread > 0"],
  ["conversations_tray_with_patient", "patient_id IS NOT NULL"],
  ["conversations_tray_without_patient", "patient_id IS NULL"],
  ["conversations_tray_unread_with_patient", "elsm_unread > 0 AND patient_id IS NOT NULL"],
  ["conversations_tray_unread_without_patient", "elsm_unread > 0 AND patient_id IS NULL"],
] as const;

export async function up(knex: Knex): Promise<void> {
  await knex.schema.alterTable("tray_counts", (t) => {
    t.integer("unread").notNullable().defaultTo(0);
    t.integer("patient").notNullable().defaultTo(0);
    t.integer("patient_unread").notNullable().defaultTo(0);
  });
  // The counts as of this migration (frozen here: counters.ts recountDerived may later derive more).
  const counted = (where: string) => knex.raw(`(SELECT COUNT(*) FROM conversations c WHERE c.elsm_id = tray_counts.elsm_id AND c.state = tray_counts.state AND ${where})`);
  await knex("tray_counts").update({
    unread: counted("c.elsm_unread > 0"),
    patient: counted("c.patient_id IS NOT NULL"),
    patient_unread: counted("c.elsm_unread > 0 AND c.patient_id IS NOT NULL"),
  });
  await knex.schema.alterTable("conversations", (t) => {
    for (const [name, predicate] of FILTERED) t.index(["elsm_id", "state", "last_message_at", "id"], name, { predicate: knex.whereRaw(predicate) });
  });
}

export async function down(knex: Knex): Promise<void> {
  await knex.schema.alterTable("conversations", (t) => {
    for (const [name] of [...FILTERED].reverse()) t.dropIndex([], name);
  });
  await knex.schema.alterTable("tray_counts", (t) => {
    t.dropColumn("patient_unread");
    t.dropColumn("patient");
    t.dropColumn("unread");
  });
}
