import type { Knex } from "knex";

/**
 * Issue 13 §4: who of the échelon is writing the thread's shared reply. One row per thread and agent: since when
 * (`started_at`) and when last seen at it (`seen_at`: the reply form opened, the draft saved or autosaved). Rows older
 * than the window (domain/conversations/presence.ts) are only not shown; a send, a discard or a close removes them.
 */
export async function up(knex: Knex): Promise<void> {
  await knex.schema.createTable("reply_presence", (t) => {
    t.integer("conversation_id").notNullable().references("conversations.id");
    t.integer("agent_id").notNullable().references("agents.id");
    t.string("started_at", 24).notNullable();
    t.string("seen_at", 24).notNullable();
    t.primary(["conversation_id", "agent_id"]);
  });
}

export async function down(knex: Knex): Promise<void> {
  await knex.schema.dropTable("reply_presence");
}
