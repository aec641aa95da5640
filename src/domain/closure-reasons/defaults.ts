import type { Knex } from "knex";

/**
 * The closure reasons every ELSM starts with (issue 14 §3), written by the migration for the ELSMs already there, by
 * the demo seed and by scripts/populate.ts — any new code path creating ELSMs must call addDefaultClosureReasons.
 * A leaf (Knex types only): the migrations import it, and the database connection imports the migrations.
 */
export const DEFAULT_CLOSURE_REASONS = ["Réponse apportée", "Demande sans objet", "Dossier transmis au service compétent", "Sans réponse du professionnel de santé"] as const;

/** The default list for every ELSM that has no reason yet (any number of ELSMs: a few inserts of 500 rows). */
export async function addDefaultClosureReasons(knex: Knex): Promise<void> {
  const elsmIds = (await knex("elsms")
    .whereNotExists(knex("closure_reasons").whereRaw("closure_reasons.elsm_id = elsms.id").select(knex.raw("1")))
    .orderBy("id")
    .pluck("id")) as number[];
  const now = new Date().toISOString();
  const rows = elsmIds.flatMap((elsmId) =>
    DEFAULT_CLOSURE_REASONS.map((label, i) => ({ elsm_id: elsmId, label, position: i + 1, created_at: now, updated_at: now, updated_by_agent_id: null })),
  );
  for (let i = 0; i < rows.length; i += 500) await knex("closure_reasons").insert(rows.slice(i, i + 500));
}
