import type { Knex } from "knex";

/** Unread counts on each conversation and tray sizes per ELSM, maintained by the operations (src/domain/conversations/counters.ts). */
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
  // The counts as of this migration (frozen here: src/domain/conversations/counters.ts may later derive more columns).
  const unread = (side: "ps" | "elsm") => knex.raw("(SELECT COUNT(*) FROM messages m WHERE m.conversation_id = conversations.id AND m.side = ? AND m.read_at IS NULL)", [side]);
  await knex("conversations").update({ ps_unread: unread("elsm"), elsm_unread: unread("ps") });
  await knex.raw("INSERT INTO tray_counts (elsm_id, state, n) SELECT elsm_id, state, COUNT(*) FROM conversations GROUP BY elsm_id, state");
}

export async function down(knex: Knex): Promise<void> {
  await knex.schema.dropTableIfExists("tray_counts");
  await knex.schema.alterTable("conversations", (t) => {
    t.dropColumn("elsm_unread");
    t.dropColumn("ps_unread");
  });
}
