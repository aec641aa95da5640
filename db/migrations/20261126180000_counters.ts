import type { Knex } from "knex";
import { recountDerived } from "../../src/conversations/counters.js";

/** Unread counts on each conversation and tray sizes per ELSM, maintained by the operations (src/conversations/counters.ts). */
export async function up(knex: Knex): Promise<void> {
  await knex.schema.alterTable("conversations", (t) => {
    t.integer("ps_unread").notNullable().defaultTo(0); // ELSM messages the PS side has not opened
    t.integer("elsm_unread").notNullable().defaultTo(0); // PS messages the ELSM has not opened
  });
  await knex.schema.createTable("tray_counts", (t) => {
    t.integer("elsm_id").notNullable().references("elsms.id");
    t.string("state", 10).notNullable();
    t.integer("n").notNullable();
    t.primary(["elsm_id", "state"]);
  });
  await recountDerived(knex);
}

export async function down(knex: Knex): Promise<void> {
  await knex.schema.dropTableIfExists("tray_counts");
  await knex.schema.alterTable("conversations", (t) => {
    t.dropColumn("elsm_unread");
    t.dropColumn("ps_unread");
  });
}
