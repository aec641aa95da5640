import type { Db } from "../../db/connection.js";
import type { RequestContext } from "../actor.js";
import { audit } from "../audit/audit.js";
import { parseId } from "../ids.js";
import { checkNir } from "./nir.js";
import { patientById, patientsByNir, vitaleCards, type PatientCard } from "./queries.js";

/** How a doctor picks the patient of a question (manual §2): a Carte Vitale read, or a NIR typed with its key. */
export type PatientLookup =
  | { status: "found"; patient: PatientCard }
  /** Several beneficiaries under one NIR (a parent and children): the doctor chooses one. */
  | { status: "several"; candidates: PatientCard[] }
  /** With the beneficiaries to offer again when the refusal is about the choice among them. */
  | { status: "refused"; field: string; message: string; candidates?: PatientCard[] };

export async function patientFromVitale(db: Db, rawId: unknown): Promise<PatientLookup> {
  const id = parseId(rawId);
  const card = (await vitaleCards(db)).find((c) => c.id === id);
  if (!card) return { status: "refused", field: "vitale", message: "Aucune carte Vitale n'a été lue : choisissez une carte." };
  return { status: "found", patient: card };
}

/** What asks for a choice when a NIR has several beneficiaries (a parent and children, twins: the rang tells them apart). */
export const CHOOSE_BENEFICIARY = "Choisissez l'un des bénéficiaires proposés.";

/** The beneficiaries under one NIR: the only one is the patient; several are offered for a choice. */
export function amongBeneficiaries(found: PatientCard[]): PatientLookup {
  return found.length === 1 ? { status: "found", patient: found[0]! } : { status: "several", candidates: found };
}

/** The beneficiary chosen (by id) among those offered, or null: never the first one by default. */
export function chosenBeneficiary(offered: PatientCard[], rawId: unknown): PatientCard | null {
  const id = parseId(rawId);
  return id === null ? null : (offered.find((p) => p.id === id) ?? null);
}

export async function patientFromNir(db: Db, rawNir: string, rawKey: string): Promise<PatientLookup> {
  const check = checkNir(rawNir, rawKey);
  if (!check.ok) return { status: "refused", field: check.field, message: check.message };
  const found = await patientsByNir(db, check.nir);
  if (found.length === 0) return { status: "refused", field: "nir", message: "Aucun patient n'est connu sous ce NIR : vérifiez la saisie ou lisez la carte Vitale." };
  return amongBeneficiaries(found);
}

/**
 * The beneficiary chosen among those offered; anything else offers them again, with the error on the
 * first radio button, or, with nothing offered any more (or the offered ones gone), asks for the NIR again.
 */
export async function patientFromChoice(db: Db, offered: number[], rawId: unknown): Promise<PatientLookup> {
  const candidates = (await Promise.all(offered.map((c) => patientById(db, c)))).filter((p) => p !== null);
  const chosen = chosenBeneficiary(candidates, rawId);
  if (chosen) return { status: "found", patient: chosen };
  if (candidates.length === 0) return { status: "refused", field: "nir", message: "Saisissez de nouveau le NIR du patient." };
  return { status: "refused", field: `patient-${candidates[0]!.id}`, message: CHOOSE_BENEFICIARY, candidates };
}

/** Every patient whose identity a page is about to show is one audit row (issue 11 §6): the one found, or each offered. */
export async function traceShown(db: Db, ctx: RequestContext, patients: readonly { id: number }[]): Promise<void> {
  for (const p of patients) await audit(db, ctx, "patient.displayed", { type: "patient", id: p.id });
}

/** The patients a doctor's look-up shows: the one found, or the beneficiaries offered (again). */
export function shownBy(lookup: PatientLookup): PatientCard[] {
  if (lookup.status === "found") return [lookup.patient];
  if (lookup.status === "several") return lookup.candidates;
  return lookup.candidates ?? [];
}
