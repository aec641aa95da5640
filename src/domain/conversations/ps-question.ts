import type { Db } from "../../db/connection.js";
import { NotFound } from "../errors.js";
import { patientById, type PatientCard } from "../directory/queries.js";
import { newQuestionDraft, type DraftRow } from "./scope.js";

/**
 * The patient of a doctor's new question: the one the server signed into the form (or, without a
 * form, the one selected in the session), never a client id; a patient no longer known is a 404.
 */
export async function questionPatient(db: Db, patientId: number | null | undefined): Promise<PatientCard> {
  const patient = patientId ? await patientById(db, patientId) : null;
  if (!patient) throw new NotFound();
  return patient;
}

/** The patient a doctor's saved question is about (a reply draft is no question: 404). */
export function draftPatient(db: Db, draft: DraftRow): Promise<PatientCard> {
  return questionPatient(db, newQuestionDraft(draft).patient_id);
}
