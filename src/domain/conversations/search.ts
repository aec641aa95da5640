import type { Knex } from "knex";
import { whereStartsWith } from "../../db/dialect.js";
import { nameKey } from "../directory/names.js";
import { normalizeNir } from "../directory/nir.js";
import { normalizeIdentifier } from "../directory/recipients.js";
import { z } from "zod";
import type { RequestContext } from "../actor.js";
import { audit } from "../audit/audit.js";

/** The longest value each search field keeps (the templates' maxlength comes from here too). */
export const SEARCH_MAX = { name: 80, nir: 15, nam: 9, postalCode: 5, city: 80, professionalName: 160 } as const;

const trimmed = (max: number) =>
  z
    .string()
    .catch("")
    .transform((s) => s.trim().slice(0, max));
const nir = z
  .string()
  .catch("")
  .transform((s) => normalizeNir(s).slice(0, SEARCH_MAX.nir));

/** The doctor's search panel (manual §5): by patient name or NIR. */
export const psSearchFields = z.object({ nom: trimmed(SEARCH_MAX.name), nir });
export type PsSearch = z.infer<typeof psSearchFields>;

/** The back-office search panel (manual §11). Sent by POST and kept in the session: never in a URL. */
export const boSearchFields = z.object({
  patient_nom: trimmed(SEARCH_MAX.name),
  patient_prenom: trimmed(SEARCH_MAX.name),
  patient_nir: nir,
  ps_nam: z
    .string()
    .catch("")
    .transform((s) => normalizeIdentifier(s).slice(0, SEARCH_MAX.nam)),
  ps_cp: trimmed(SEARCH_MAX.postalCode),
  ps_ville: trimmed(SEARCH_MAX.city),
  ps_nom: trimmed(SEARCH_MAX.professionalName),
  agent_nom: trimmed(SEARCH_MAX.name),
  agent_prenom: trimmed(SEARCH_MAX.name),
});
export type BoSearch = z.infer<typeof boSearchFields>;

/** The search as kept, or null when nothing was filled in (an empty search shows the whole list). */
export function readSearch<S extends Record<string, string>>(schema: z.ZodType<S>, body: unknown): S | null {
  const search = schema.parse(body ?? {});
  return Object.values(search).some(Boolean) ? search : null;
}

/** A search is started: what was filled in is kept (or nothing), and the search is traced (never its terms). */
export async function startSearch<S extends Record<string, string>>(db: Knex, ctx: RequestContext, schema: z.ZodType<S>, body: unknown): Promise<S | null> {
  const search = readSearch(schema, body);
  await audit(db, ctx, "search");
  return search;
}

export type ListFilter = (q: Knex.QueryBuilder) => void;

/** The patients whose NIR is the one typed (13 characters: a key typed after it is ignored). */
function patientsWithNir(db: Knex, typed: string): Knex.QueryBuilder {
  return db("patients").select("id").where("nir", typed.slice(0, 13));
}

/** The doctor's list, narrowed as the back office's: by the patient's name key copied onto the conversation, or by NIR. */
export function psSearchFilter(db: Knex, s: PsSearch): ListFilter {
  return (q) => {
    if (s.nom) whereStartsWith(q, "c.patient_last_name_key", nameKey(s.nom));
    if (s.nir) q.whereIn("c.patient_id", patientsWithNir(db, s.nir));
  };
}

/**
 * Applies each filled search field; all of them must match. Each criterion first finds the few
 * patients / practitioners / structures / agents it names (by index), then their conversations.
 */
export function boSearchFilter(db: Knex, s: BoSearch): ListFilter {
  const key = (v: string) => nameKey(v);
  const ids = (table: string, build: (q: Knex.QueryBuilder) => void) => {
    const q = db(table).select("id");
    build(q);
    return q;
  };
  return (q) => {
    // The name alone: one index range of the ELSM's conversations (the patient's key is copied onto them).
    if (s.patient_nom) whereStartsWith(q, "c.patient_last_name_key", key(s.patient_nom));
    if (s.patient_prenom || s.patient_nir) {
      q.whereIn(
        "c.patient_id",
        ids("patients", (p) => {
          if (s.patient_prenom) whereStartsWith(p, "first_name_key", key(s.patient_prenom));
          if (s.patient_nir) p.where("nir", s.patient_nir.slice(0, 13));
        }),
      );
    }
    const professional = (doctor: (p: Knex.QueryBuilder) => void, structure: (p: Knex.QueryBuilder) => void) =>
      q.where((w) => w.whereIn("c.ps_practitioner_id", ids("practitioners", doctor)).orWhereIn("c.ps_structure_id", ids("structures", structure)));
    // A FINESS typed in the N°AM field, or a raison sociale typed in Nom, finds a structure's threads.
    if (s.ps_nam)
      professional(
        (p) => p.where("nam", s.ps_nam),
        (p) => p.where("finess", s.ps_nam),
      );
    if (s.ps_cp)
      professional(
        (p) => p.where("postal_code", s.ps_cp),
        (p) => p.where("postal_code", s.ps_cp),
      );
    if (s.ps_ville)
      professional(
        (p) => whereStartsWith(p, "city", key(s.ps_ville)),
        (p) => whereStartsWith(p, "city", key(s.ps_ville)),
      );
    if (s.ps_nom)
      professional(
        (p) => whereStartsWith(p, "last_name_key", key(s.ps_nom)),
        (p) => whereStartsWith(p, "raison_sociale_key", key(s.ps_nom)),
      );
    if (s.agent_nom || s.agent_prenom) {
      q.whereIn(
        "c.redacteur_agent_id",
        ids("agents", (a) => {
          if (s.agent_nom) whereStartsWith(a, "last_name_key", key(s.agent_nom));
          if (s.agent_prenom) whereStartsWith(a, "first_name_key", key(s.agent_prenom));
        }),
      );
    }
  };
}
