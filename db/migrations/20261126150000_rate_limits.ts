import type { Knex } from "knex";

/** Hit counters of the rate limiters, shared by every app process. */
export async function up(knex: Knex): Promise<void> {
  await knex.schema.createTable("rate_limits", (t) => {
    t.string("key", 200).primary();
    t.integer("hits").notNullable();
    t.bigInteger("reset_at").notNullable().index();
  });
}

export async function down(knex: Knex): Promise<void> {
  await knex.schema.dropTableIfExists("rate_limits");
}
