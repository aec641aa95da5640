import type { Knex } from "knex";

/** Issue 12 §1: the accessibility statement's contact form keeps each message here, for the team to answer. */
export async function up(knex: Knex): Promise<void> {
  await knex.schema.createTable("accessibility_feedback", (t) => {
    t.increments("id");
    t.string("name", 100);
    t.string("email", 254).notNullable();
    t.string("page", 300);
    t.text("message").notNullable();
    t.string("created_at").notNullable();
  });
}

export async function down(knex: Knex): Promise<void> {
  await knex.schema.dropTable("accessibility_feedback");
}
