import type { Knex } from "knex";

/** Indexes for the back-office search criteria (professional by city / postal code, agent by first name). */
export async function up(knex: Knex): Promise<void> {
  await knex.schema.alterTable("practitioners", (t) => t.index(["city"]));
  await knex.schema.alterTable("structures", (t) => {
    t.index(["postal_code"]);
    t.index(["city"]);
  });
  await knex.schema.alterTable("agents", (t) => t.index(["first_name_key"]));
  await knex.schema.alterTable("patients", (t) => t.index(["first_name_key"]));
}

export async function down(knex: Knex): Promise<void> {
  await knex.schema.alterTable("patients", (t) => t.dropIndex(["first_name_key"]));
  await knex.schema.alterTable("agents", (t) => t.dropIndex(["first_name_key"]));
  await knex.schema.alterTable("structures", (t) => {
    t.dropIndex(["city"]);
    t.dropIndex(["postal_code"]);
  });
  await knex.schema.alterTable("practitioners", (t) => t.dropIndex(["city"]));
}
