import type { Db } from "../../db/connection.js";
import { practitionerCard, structureCard, type ProfessionalCard } from "./cards.js";
import { amongBeneficiaries, CHOOSE_BENEFICIARY, chosenBeneficiary } from "./patient-lookup.js";
import { readTypedNir } from "./nir.js";
import { patientsByNir, structureById, structureByFiness, practitionerById, practitionerByNam, type PatientCard, type Practitioner, type Structure } from "./queries.js";

/** Who an ELSM message goes to: a liberal doctor, or a structure (never a single salaried doctor, manual §8). */
export type Recipient = { kind: "practitioner"; practitioner: Practitioner } | { kind: "structure"; structure: Structure };

/** `beneficiaries`: those offered for a choice when the NIR OD has several (else empty). */
export type Resolution =
  | { ok: true; patient: PatientCard | null; recipient: Recipient; beneficiaries: PatientCard[] }
  | { ok: false; field: "nir_od" | "destinataire" | "patient"; message: string; beneficiaries?: PatientCard[] };

function recipientName(r: Recipient): string {
  return r.kind === "structure" ? r.structure.raisonSociale : `Dr ${r.practitioner.firstName} ${r.practitioner.lastName}`;
}

function withMailbox(r: Recipient, patient: PatientCard | null, field: "nir_od" | "destinataire", beneficiaries: PatientCard[] = []): Resolution {
  const mailbox = r.kind === "structure" ? r.structure.mailbox : r.practitioner.mailbox;
  if (!mailbox) {
    return {
      ok: false,
      field,
      ...(beneficiaries.length ? { beneficiaries } : {}),
      message: `${recipientName(r)} n'a pas de boîte mail de notification active dans ${r.kind === "structure" ? "son compte amelipro principal" : "son compte amelipro"} : ${r.kind === "structure" ? "la structure ne peut pas être prévenue" : "ce médecin ne peut pas être prévenu"} d'un message, l'envoi n'est donc pas possible.`,
    };
  }
  return { ok: true, patient, recipient: r, beneficiaries };
}

/** The longest N°AM or FINESS a field takes as typed: 9 characters with spaces or dots between groups, and room to spare. */
export const IDENTIFIER_TYPED_MAX = 20;

/** An N°AM or a FINESS as typed (spaces, dots, lower case) reduced to the stored form. */
export function normalizeIdentifier(raw: string): string {
  return raw.replace(/[\s.]+/g, "").toUpperCase();
}

/** The stored form of an N°AM (9 digits) or a FINESS (9 characters, 2A/2B for Corsica). */
export function isIdentifierShape(value: string): boolean {
  return /^[0-9A-Z]{9}$/.test(value);
}

/** A salaried doctor is reached through their structure; a liberal one directly. */
async function recipientForPractitioner(db: Db, p: Practitioner): Promise<Recipient> {
  if (p.structureId) return { kind: "structure", structure: (await structureById(db, p.structureId))! };
  return { kind: "practitioner", practitioner: p };
}

/**
 * By the patient's NIR OD: the médecin traitant (or the structure where they work) receives it (manual §7–8).
 * Several beneficiaries of the échelon under that NIR: the agent chooses one (`chosen`, a patient id), as a
 * doctor does (patient-lookup.ts); never the first one by default.
 */
export async function recipientByNir(db: Db, elsmId: number, raw: string, chosen?: unknown): Promise<Resolution> {
  const typed = readTypedNir(raw);
  if (!typed.ok) {
    const message =
      typed.problem === "key"
        ? "La clé ne correspond pas au NIR OD saisi."
        : "Le NIR OD doit comporter 13 caractères (chiffres, 2A ou 2B pour la Corse), éventuellement suivis de la clé.";
    return { ok: false, field: "nir_od", message };
  }
  const found = (await patientsByNir(db, typed.nir)).filter((b) => b.elsmId === elsmId);
  if (found.length === 0) {
    return { ok: false, field: "nir_od", message: "Aucun patient rattaché à votre échelon ne correspond à ce NIR OD." };
  }
  const lookup = amongBeneficiaries(found);
  const beneficiaries = lookup.status === "several" ? lookup.candidates : [];
  const patient = lookup.status === "found" ? lookup.patient : chosenBeneficiary(beneficiaries, chosen);
  if (!patient) return { ok: false, field: "patient", beneficiaries, message: CHOOSE_BENEFICIARY };
  if (!patient.attendingPractitionerId) {
    return {
      ok: false,
      field: "nir_od",
      ...(beneficiaries.length ? { beneficiaries } : {}),
      message: `${patient.firstName} ${patient.lastName} n'a pas déclaré de médecin traitant : adressez votre question par N°AM ou FINESS.`,
    };
  }
  const doctor = (await practitionerById(db, patient.attendingPractitionerId))!;
  return withMailbox(await recipientForPractitioner(db, doctor), patient, "nir_od", beneficiaries);
}

/** By N°AM (a liberal doctor, general question) or FINESS (a centre or establishment). */
export async function recipientByIdentifier(db: Db, raw: string): Promise<Resolution> {
  const value = normalizeIdentifier(raw);
  if (!isIdentifierShape(value)) {
    return { ok: false, field: "destinataire", message: "Le destinataire doit être un N°AM (9 chiffres) ou un n° FINESS (9 caractères)." };
  }
  const doctor = await practitionerByNam(db, value);
  if (doctor?.structureId) {
    const structure = (await structureById(db, doctor.structureId))!;
    return {
      ok: false,
      field: "destinataire",
      message: `Ce N°AM est celui d'un médecin salarié : on ne peut pas écrire à un médecin salarié en particulier. Adressez-vous à sa structure, ${structure.raisonSociale}, par son FINESS ${structure.finess}.`,
    };
  }
  if (doctor) return withMailbox({ kind: "practitioner", practitioner: doctor }, null, "destinataire");
  const structure = await structureByFiness(db, value);
  if (structure) return withMailbox({ kind: "structure", structure }, null, "destinataire");
  return { ok: false, field: "destinataire", message: `Aucun médecin (N°AM) ni aucune structure (FINESS) ne correspond à « ${value} ».` };
}

/** The doctor or structure of a conversation, named, when no notification mail can reach them (no active mailbox); else null. */
export async function partyWithoutMailbox(db: Db, practitionerId: number | null, structureId: number | null): Promise<string | null> {
  const r: Recipient | null = structureId
    ? await structureById(db, structureId).then((structure) => (structure ? { kind: "structure" as const, structure } : null))
    : practitionerId
      ? await practitionerById(db, practitionerId).then((practitioner) => (practitioner ? { kind: "practitioner" as const, practitioner } : null))
      : null;
  if (!r) return null;
  const mailbox = r.kind === "structure" ? r.structure.mailbox : r.practitioner.mailbox;
  return mailbox ? null : recipientName(r);
}

export function recipientCard(r: Recipient): ProfessionalCard {
  return r.kind === "structure" ? structureCard(r.structure) : practitionerCard(r.practitioner);
}
