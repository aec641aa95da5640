import { formatBirthDate } from "../format.js";
import type { PatientCard } from "./queries.js";

/** How a professional party is named everywhere (lists, thread header, recipient shown before a send; manual §6). */
export type ProfessionalCard = { title: string; detail: string };

export function structureCard(s: { raisonSociale: string; finess: string; address: string; postalCode: string; city: string }): ProfessionalCard {
  return { title: s.raisonSociale, detail: `FINESS : ${s.finess} - ${s.address} ${s.postalCode} ${s.city}` };
}

export function practitionerCard(p: { lastName: string; firstName: string; nam: string; postalCode: string; city: string }): ProfessionalCard {
  return { title: `Dr ${p.lastName} ${p.firstName}`, detail: `N°AM : ${p.nam} - ${p.postalCode} ${p.city}` };
}

export type PatientCardView = PatientCard & { birthDateLabel: string };

export function patientView(p: PatientCard | null): PatientCardView | null {
  return p ? { ...p, birthDateLabel: formatBirthDate(p.birthDate) } : null;
}
