import type { Knex } from "knex";
import { dropPlainColumn } from "../../src/db/dialect.js";

/**
 * Issue 16: the identifiers the real logins name people by.
 * - `practitioners.rpps`: the 11-digit RPPS number Pro Santé Connect gives (SubjectNameID = "8" + RPPS); unique, null
 *   for a practitioner not (yet) known by it — who can still use the simulated card.
 * - `agents.sso_id`: the agent's identifier at the insurer's identity provider (the claim AGENT_OIDC_ID_CLAIM); unique, null
 *   likewise.
 * Nothing to backfill: the demo seed gives every demo person one; a real directory fills them.
 */
export async function up(knex: Knex): Promise<void> {
  await knex.schema.alterTable("practitioners", (t) => {
    t.string("rpps", 11).nullable();
    t.unique(["rpps"], { indexName: "practitioners_rpps_unique" });
  });
  await knex.schema.alterTable("agents", (t) => {
    t.string("sso_id", 255).nullable();
    t.unique(["sso_id"], { indexName: "agents_sso_id_unique" });
  });
}

export async function down(knex: Knex): Promise<void> {
  await knex.schema.alterTable("agents", (t) => t.dropUnique(["sso_id"], "agents_sso_id_unique"));
  await dropPlainColumn(knex, "agents", "sso_id");
  await knex.schema.alterTable("practitioners", (t) => t.dropUnique(["rpps"], "practitioners_rpps_unique"));
  await dropPlainColumn(knex, "practitioners", "rpps");
}
