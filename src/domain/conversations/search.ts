import type { Knex } from "knex";
import { z } from "zod";
import { NIR_TYPED_MAX, normalizeNir, readTypedNir } from "../directory/nir.js";
import { IDENTIFIER_TYPED_MAX, isIdentifierShape, normalizeIdentifier } from "../directory/recipients.js";
import { idsMatchingWords, type WordKind } from "../directory/words.js";
import type { RequestContext } from "../actor.js";
import { audit } from "../audit/audit.js";
import { keptQuery, TEXT_MAX, textError, textFilter, textRefusal } from "./full-text.js";
import type { ListFilter } from "./lists.js";

/**
 * The longest value each search field keeps (the templates' maxlength comes from here too). A NIR or an
 * N°AM may be typed with spaces or dots: it is normalised, then checked, never cut.
 */
export const SEARCH_MAX = { name: 80, nir: NIR_TYPED_MAX, nam: IDENTIFIER_TYPED_MAX, postalCode: 5, city: 80, professionalName: 160, text: TEXT_MAX } as const;

const trimmed = (max: number) =>
  z
    .string()
    .catch("")
    .transform((s) => s.trim().slice(0, max));
/** An identifier in its stored form when it is one, else as typed (trimmed) for the form to show it again with its error. */
const identifier = (normalize: (s: string) => string, valid: (s: string) => boolean) =>
  z
    .string()
    .catch("")
    .transform((s) => (valid(normalize(s)) ? normalize(s) : s.trim().slice(0, 200)));
/** The words to search (full-text.ts): never cut in the middle of a word. */
const query = z.string().catch("").transform(keptQuery);
const nir = identifier(normalizeNir, (v) => readTypedNir(v).ok);

/** The doctor's search panel (manual §5): by patient name or NIR; by words of the subjects and messages (issue 13 §6). */
export const psSearchFields = z.object({ nom: trimmed(SEARCH_MAX.name), nir, texte: query });
export type PsSearch = z.infer<typeof psSearchFields>;

/** The back-office search panel (manual §11). Sent by POST and kept in the session: never in a URL. */
export const boSearchFields = z
  .object({
    texte: query,
    // « Inclure les notes internes »: only with words to search.
    notes: z
      .unknown()
      .optional()
      .transform((v): string => (v === "1" ? "1" : "")),
    patient_nom: trimmed(SEARCH_MAX.name),
    patient_prenom: trimmed(SEARCH_MAX.name),
    patient_nir: nir,
    ps_nam: identifier(normalizeIdentifier, isIdentifierShape),
    ps_cp: identifier(normalizeIdentifier, (v) => /^[0-9]{5}$/.test(v)),
    ps_ville: trimmed(SEARCH_MAX.city),
    ps_nom: trimmed(SEARCH_MAX.professionalName),
    agent_nom: trimmed(SEARCH_MAX.name),
    agent_prenom: trimmed(SEARCH_MAX.name),
  })
  .transform((s) => ({ ...s, notes: s.texte ? s.notes : "" }));
export type BoSearch = z.infer<typeof boSearchFields>;

export type SearchErrors = Record<string, string>;

function nirError(typed: string): string | null {
  const t = readTypedNir(typed);
  if (t.ok) return null;
  if (t.problem === "length") return `Le NIR doit comporter 13 caractères, éventuellement suivis de la clé (vous en avez saisi ${t.length}).`;
  if (t.problem === "shape") return "Le NIR ne peut contenir que des chiffres (et 2A ou 2B pour la Corse) : vérifiez la saisie.";
  return "La clé ne correspond pas au NIR saisi : vérifiez le NIR ou saisissez-le sans sa clé.";
}

/** A field too short (or too long) to find anything: said on the field rather than answered "0 résultat". */
const CHECKS: Record<string, (v: string) => string | null> = {
  nir: nirError,
  patient_nir: nirError,
  ps_nam: (v) => {
    const n = normalizeIdentifier(v);
    return isIdentifierShape(n) ? null : `Le N°AM doit comporter 9 chiffres, ou le n° FINESS 9 caractères (vous en avez saisi ${n.length}).`;
  },
  ps_cp: (v) => (/^[0-9]{5}$/.test(normalizeIdentifier(v)) ? null : "Le code postal doit comporter 5 chiffres."),
  texte: textError,
};
const NAME_FIELDS = ["nom", "patient_nom", "patient_prenom", "ps_ville", "ps_nom", "agent_nom", "agent_prenom"];

export type SearchOutcome<S> = { ok: true; search: S | null } | { ok: false; values: S; errors: SearchErrors };

/** The search as kept (null when nothing was filled in: an empty search shows the whole list), or the fields it cannot be run with. */
export function readSearch<S extends Record<string, string>>(schema: z.ZodType<S>, body: unknown): SearchOutcome<S> {
  const search = schema.parse(body ?? {});
  const errors: SearchErrors = {};
  for (const [field, value] of Object.entries(search)) {
    if (!value) continue;
    const error = CHECKS[field]?.(value) ?? (NAME_FIELDS.includes(field) && !/[\p{L}\p{N}]/u.test(value) ? "Saisissez au moins une lettre." : null);
    if (error) errors[field] = error;
  }
  if (Object.keys(errors).length) return { ok: false, values: search, errors };
  return { ok: true, search: Object.values(search).some(Boolean) ? search : null };
}

/** A search is started: what was filled in is kept (or nothing), and the search is traced (never its terms). A refused one runs nothing. */
export async function startSearch<S extends Record<string, string>>(db: Knex, ctx: RequestContext, schema: z.ZodType<S>, body: unknown): Promise<SearchOutcome<S>> {
  let outcome = readSearch(schema, body);
  // The words the engine cannot search (its stop words) are known to it only: asked once the fields are well formed.
  const refusal = outcome.ok && outcome.search?.texte ? await textRefusal(db, outcome.search.texte) : null;
  if (refusal && outcome.ok && outcome.search) outcome = { ok: false, values: outcome.search, errors: { texte: refusal } };
  if (outcome.ok) await audit(db, ctx, "search");
  return outcome;
}

/** A search's conditions on the list's query, and those checked on its rows in the list's order (full-text.ts). */
export type SearchFilter = { where: ListFilter; inOrder: ListFilter | null };

/** The patients whose NIR is the one typed (13 characters: its key, checked before, is left out). */
function patientsWithNir(db: Knex, typed: string): Knex.QueryBuilder {
  return db("patients").select("id").where("nir", typed.slice(0, 13));
}

/** The doctor's list, narrowed as the back office's: by any word of the patient's name, or by NIR. */
export async function psSearchFilter(db: Knex, s: PsSearch): Promise<SearchFilter> {
  // The doctor's words: subjects and messages only (never the échelon's notes); the list's scope does the rest.
  const text = s.texte ? await textFilter(db, s.texte, { ps: true }) : null;
  const where: ListFilter = (q) => {
    text?.where(q);
    if (s.nom) q.whereIn("c.patient_id", idsMatchingWords(db, "patient_last", s.nom));
    if (s.nir) q.whereIn("c.patient_id", patientsWithNir(db, s.nir));
  };
  return { where, inOrder: text?.inOrder ?? null };
}

/**
 * Applies each filled search field; all of them must match. Each criterion first finds the few
 * patients / practitioners / structures / agents it names (by index: names, raisons sociales and cities
 * by any word, see directory/words.ts), then their conversations.
 */
export async function boSearchFilter(db: Knex, s: BoSearch, elsmId: number): Promise<SearchFilter> {
  const words = (kind: WordKind, typed: string) => idsMatchingWords(db, kind, typed);
  const text = s.texte ? await textFilter(db, s.texte, { elsmId, notes: s.notes === "1" }) : null;
  const where: ListFilter = (q) => {
    text?.where(q);
    if (s.patient_nom) q.whereIn("c.patient_id", words("patient_last", s.patient_nom));
    if (s.patient_prenom) q.whereIn("c.patient_id", words("patient_first", s.patient_prenom));
    if (s.patient_nir) q.whereIn("c.patient_id", patientsWithNir(db, s.patient_nir));
    // The conversations of the professionals (or agents) found, by their own index (ps_practitioner_id…,
    // ps_structure_id…, redacteur_agent_id): at a million messages, filtering the ELSM's whole list instead
    // read its 130,000 conversations (600–1,000 ms for a name; 4–50 ms this way).
    const conversationsOf = (column: string, ids: Knex.QueryBuilder) => db("conversations").select("id").whereIn(column, ids);
    const professional = (doctors: Knex.QueryBuilder, structures: Knex.QueryBuilder) =>
      q.whereIn("c.id", conversationsOf("ps_practitioner_id", doctors).union(conversationsOf("ps_structure_id", structures)));
    // A FINESS typed in the N°AM field, or a raison sociale typed in Nom, finds a structure's threads.
    if (s.ps_nam) professional(db("practitioners").select("id").where("nam", s.ps_nam), db("structures").select("id").where("finess", s.ps_nam));
    if (s.ps_cp) professional(db("practitioners").select("id").where("postal_code", s.ps_cp), db("structures").select("id").where("postal_code", s.ps_cp));
    if (s.ps_ville) professional(words("practitioner_city", s.ps_ville), words("structure_city", s.ps_ville));
    if (s.ps_nom) professional(words("practitioner_name", s.ps_nom), words("structure_name", s.ps_nom));
    if (s.agent_nom) q.whereIn("c.id", conversationsOf("redacteur_agent_id", words("agent_last", s.agent_nom)));
    if (s.agent_prenom) q.whereIn("c.id", conversationsOf("redacteur_agent_id", words("agent_first", s.agent_prenom)));
  };
  return { where, inOrder: text?.inOrder ?? null };
}
