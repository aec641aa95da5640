import type { Knex } from "knex";

/** Issue 13 §3: the échelon's saved replies (modèles de réponse), shared by its agents. */
export async function up(knex: Knex): Promise<void> {
  await knex.schema.createTable("reply_models", (t) => {
    t.increments("id");
    t.integer("elsm_id").notNullable().references("id").inTable("elsms");
    t.string("title", 120).notNullable();
    t.text("body").notNullable();
    t.string("created_at").notNullable();
    t.string("updated_at").notNullable();
    t.integer("updated_by_agent_id").references("id").inTable("agents");
    // The ELSM's list, by title: one index range.
    t.index(["elsm_id", "title"], "reply_models_elsm_title");
  });
}

export async function down(knex: Knex): Promise<void> {
  await knex.schema.dropTable("reply_models");
}
