import type { Knex } from "knex";

/**
 * Issue 13 §2: the échelon's internal notes on a thread, between colleagues only (never shown to the doctor's
 * side, never notified). A thread's notes are read in time order: (conversation_id, created_at, id).
 * (The patient's other threads, §5, read the existing index conversations_patient_elsm.)
 */
export async function up(knex: Knex): Promise<void> {
  await knex.schema.createTable("internal_notes", (t) => {
    t.increments("id");
    t.integer("conversation_id").notNullable().references("conversations.id");
    t.integer("elsm_id").notNullable().references("elsms.id");
    t.integer("author_agent_id").notNullable().references("agents.id");
    t.text("body").notNullable();
    t.string("created_at", 24).notNullable();
    t.index(["conversation_id", "created_at", "id"], "internal_notes_thread");
  });
}

export async function down(knex: Knex): Promise<void> {
  await knex.schema.dropTable("internal_notes");
}
