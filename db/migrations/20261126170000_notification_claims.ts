import type { Knex } from "knex";

/** A process claims a notification before mailing it, so that several processes never send it twice. */
export async function up(knex: Knex): Promise<void> {
  await knex.schema.alterTable("notifications", (t) => t.bigInteger("claimed_until"));
}

export async function down(knex: Knex): Promise<void> {
  await knex.schema.alterTable("notifications", (t) => t.dropColumn("claimed_until"));
}
