import type { BoSearch } from "./search.js";

/** One criterion of a search as the agent typed it, for the summary shown above the folded panel. */
export type SearchCriterion = { label: string; value: string };

/** What each back-office search field is called in the summary (the panel's fieldset gives the context there). */
const BO_LABELS: Record<Exclude<keyof BoSearch, "notes">, string> = {
  texte: "Mots",
  patient_nir: "NIR",
  patient_nom: "Nom du patient",
  patient_prenom: "Prénom du patient",
  ps_nam: "N°AM / FINESS",
  ps_nom: "Nom du professionnel",
  ps_cp: "Code postal",
  ps_ville: "Ville",
  agent_nom: "Nom de l'agent",
  agent_prenom: "Prénom de l'agent",
};

/**
 * The filled criteria of a back-office search, in the panel's order of importance (NIR first). Shown on the agent's own
 * screen only: the search itself stays in the session, never in a URL.
 */
export function boSearchCriteria(search: BoSearch | null | undefined): SearchCriterion[] {
  if (!search) return [];
  // The words say where they were looked for (the notes only when ticked).
  const shown = (k: Exclude<keyof BoSearch, "notes">) =>
    k === "texte" ? `${search.texte} (${search.notes === "1" ? "objets, messages et notes internes" : "objets et messages"})` : search[k];
  return (Object.keys(BO_LABELS) as Exclude<keyof BoSearch, "notes">[]).filter((k) => search[k]).map((k) => ({ label: BO_LABELS[k], value: shown(k) }));
}
