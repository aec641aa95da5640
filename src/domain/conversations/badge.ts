import type { Side } from "./states.js";

/**
 * The pastille of a list row. Two rules, one per side:
 * - the doctor's side (manual §5) tells who started the thread: the ELSM code (dark), or the doctor's
 *   initials / the structure's letters + FINESS digits (light);
 * - the back office (manual §6): light with the PS party's initials (or the structure's letters + FINESS
 *   digits) when the échelon started the thread towards a doctor without a patient; otherwise dark with the
 *   code of the échelon the thread is addressed to.
 * `tone` names the colour through its CSS class: "incoming" is dark blue, "outgoing" light blue.
 */
export type Badge = { text: string; label: string; tone: "incoming" | "outgoing" };

export type BadgeSource = {
  started_by: Side;
  elsm_code: string;
  /** Whether the thread (or draft) concerns a patient. */
  has_patient: boolean;
  /** The doctor who started it (PS side rule). */
  starter_first_name: string | null;
  starter_last_name: string | null;
  /** The liberal doctor the thread is with (back-office rule). */
  party_first_name: string | null;
  party_last_name: string | null;
  /** The structure the thread is with, when it is a structure's. */
  structure_raison_sociale: string | null;
  structure_finess: string | null;
};

function initial(name: string | null): string {
  return (name ?? "")
    .normalize("NFD")
    .replace(/\p{M}/gu, "")
    .replace(/[^A-Za-z]/g, "")
    .charAt(0)
    .toUpperCase();
}

function structureLetters(raisonSociale: string, finess: string): string {
  const letters = raisonSociale
    .normalize("NFD")
    .replace(/[^A-Za-z]/g, "")
    .slice(0, 2)
    .toUpperCase();
  return `${letters}${finess.slice(0, 2)}`;
}

const fullName = (first: string | null, last: string | null) => `Dr ${first ?? ""} ${last ?? ""}`.replace(/\s+/g, " ").trim();

export function badgeFor(row: BadgeSource, viewer: Side): Badge {
  return viewer === "elsm" ? backOfficeBadge(row) : doctorBadge(row);
}

function doctorBadge(row: BadgeSource): Badge {
  if (row.started_by === "elsm") return { text: row.elsm_code, label: `Conversation ouverte par l'échelon ${row.elsm_code}`, tone: "incoming" };
  if (row.structure_raison_sociale && row.structure_finess) {
    return { text: structureLetters(row.structure_raison_sociale, row.structure_finess), label: `Conversation ouverte par ${row.structure_raison_sociale}`, tone: "outgoing" };
  }
  const text = `${initial(row.starter_first_name)}${initial(row.starter_last_name)}`;
  return { text, label: `Conversation ouverte par le ${fullName(row.starter_first_name, row.starter_last_name)}`, tone: "outgoing" };
}

function backOfficeBadge(row: BadgeSource): Badge {
  if (row.started_by === "elsm" && !row.has_patient) {
    if (row.structure_raison_sociale && row.structure_finess) {
      return {
        text: structureLetters(row.structure_raison_sociale, row.structure_finess),
        label: `Question de l'échelon sans patient, adressée à ${row.structure_raison_sociale}`,
        tone: "outgoing",
      };
    }
    if (row.party_last_name) {
      return {
        text: `${initial(row.party_first_name)}${initial(row.party_last_name)}`,
        label: `Question de l'échelon sans patient, adressée au ${fullName(row.party_first_name, row.party_last_name)}`,
        tone: "outgoing",
      };
    }
  }
  return { text: row.elsm_code, label: `Conversation adressée à l'échelon ${row.elsm_code}`, tone: "incoming" };
}
