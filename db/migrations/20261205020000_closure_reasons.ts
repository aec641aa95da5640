import type { Knex } from "knex";
import { dropPlainColumn } from "../../src/db/dialect.js";
import { addDefaultClosureReasons } from "../../src/domain/closure-reasons/defaults.js";

/**
 * Issue 14 §3: closing a thread names a reason.
 * - `closure_reasons`: the échelon's short list (label ≤ 120, its order by position), seeded here with the default list
 *   for the ELSMs already there.
 * - `conversations.closed_reason_label` / `closed_reason_text`: the reason's label copied at the close (editing or
 *   deleting the reason later rewrites no history) and the optional précision; cleared when a doctor's message reopens it.
 */
export async function up(knex: Knex): Promise<void> {
  await knex.schema.createTable("closure_reasons", (t) => {
    t.increments("id");
    t.integer("elsm_id").notNullable().references("id").inTable("elsms");
    t.string("label", 120).notNullable();
    t.integer("position").notNullable();
    t.string("created_at").notNullable();
    t.string("updated_at").notNullable();
    t.integer("updated_by_agent_id").references("id").inTable("agents");
    // The ELSM's list, in its order: one index range.
    t.index(["elsm_id", "position", "id"], "closure_reasons_elsm_position");
  });
  await knex.schema.alterTable("conversations", (t) => {
    t.string("closed_reason_label", 120);
    t.string("closed_reason_text", 500);
  });
  await addDefaultClosureReasons(knex);
}

export async function down(knex: Knex): Promise<void> {
  await dropPlainColumn(knex, "conversations", "closed_reason_text");
  await dropPlainColumn(knex, "conversations", "closed_reason_label");
  await knex.schema.dropTable("closure_reasons");
}
