import type { Knex } from "knex";
import { addReferenceColumn } from "../../src/db/dialect.js";

/**
 * Issue 13 §1: a thread is taken by one agent of its échelon (or by none).
 * - `conversations.assignee_agent_id`: the agent the thread is assigned to, null when nobody holds it. Only
 *   Prendre / Attribuer à / Libérer write it (domain/conversations/assignment.ts): a reply does not.
 * - (elsm_id, assignee_agent_id, last_message_at, id): an agent's threads across the three trays ("Mes échanges"),
 *   one index range in either direction.
 * - (elsm_id, state, assignee_agent_id, last_message_at, id): a tray filtered on "Mes échanges"; partial
 *   (elsm_id, state, last_message_at, id) WHERE assignee_agent_id IS NULL: a tray filtered on "Non attribués"
 *   (an IS NULL condition is not an equality to PostgreSQL's planner: a partial index keeps the order).
 * - `audit_events.assignee_agent_id`: whom a thread was given to (conversation.assigned) — an id, as the rest.
 */
export async function up(knex: Knex): Promise<void> {
  await addReferenceColumn(knex, "conversations", "assignee_agent_id", { table: "agents", column: "id" });
  await knex.schema.alterTable("conversations", (t) => {
    t.index(["elsm_id", "assignee_agent_id", "last_message_at", "id"], "conversations_assignee");
    t.index(["elsm_id", "state", "assignee_agent_id", "last_message_at", "id"], "conversations_tray_assignee");
    t.index(["elsm_id", "state", "last_message_at", "id"], "conversations_tray_unassigned", { predicate: knex.whereNull("assignee_agent_id") });
  });
  // No foreign key: the audit trail names ids as they were, like its actor_id.
  await knex.schema.alterTable("audit_events", (t) => {
    t.integer("assignee_agent_id");
  });
}

export async function down(knex: Knex): Promise<void> {
  await knex.schema.alterTable("conversations", (t) => {
    t.dropIndex([], "conversations_tray_unassigned");
    t.dropIndex([], "conversations_tray_assignee");
    t.dropIndex([], "conversations_assignee");
  });
  await knex.schema.alterTable("conversations", (t) => t.dropColumn("assignee_agent_id"));
  await knex.schema.alterTable("audit_events", (t) => t.dropColumn("assignee_agent_id"));
}
