import type { Db, Row } from "../../db/connection.js";

export type CpsCard = { id: number; label: string };

/** The simulated CPS cards: a liberal doctor by name and N°AM, a salaried one by structure and FINESS. */
export async function cpsCards(db: Db): Promise<CpsCard[]> {
  const rows = await db("practitioners as p")
    .leftJoin("structures as s", "s.id", "p.structure_id")
    .orderBy(["p.last_name", "p.first_name"])
    .select("p.id", "p.nam", "p.last_name", "p.first_name", "s.raison_sociale", "s.finess");
  return rows.map((r) => ({
    id: r.id,
    label: r.raison_sociale ? `Dr ${r.first_name} ${r.last_name} — ${r.raison_sociale} (FINESS ${r.finess})` : `Dr ${r.first_name} ${r.last_name} (N°AM ${r.nam})`,
  }));
}

export type AgentCard = { id: number; label: string };

export async function agentCards(db: Db): Promise<AgentCard[]> {
  const rows = await db("agents as a")
    .join("elsms as e", "e.id", "a.elsm_id")
    .orderBy(["e.code", "a.last_name"])
    .select("a.id", "a.first_name", "a.last_name", "e.name as elsm_name");
  return rows.map((r) => ({ id: r.id, label: `${r.first_name} ${r.last_name} — ${r.elsm_name}` }));
}

/** Everything the patient card shows (manual §2), plus what routing a message needs. */
export type PatientCard = {
  id: number;
  lastName: string;
  firstName: string;
  nir: string;
  nirKey: string;
  birthDate: string;
  rang: number;
  regime: "general" | "agricole";
  elsmId: number;
  elsmName: string;
  centreGestion: string;
  attendingPractitionerId: number | null;
};

const cardColumns = [
  "p.id",
  "p.last_name",
  "p.first_name",
  "p.nir",
  "p.nir_key",
  "p.birth_date",
  "p.rang",
  "p.attending_practitioner_id",
  "c.regime",
  "c.centre_gestion",
  "e.id as elsm_id",
  "e.name as elsm_name",
];

function toCard(r: Row): PatientCard {
  return {
    id: r.id,
    lastName: r.last_name,
    firstName: r.first_name,
    nir: r.nir,
    nirKey: r.nir_key,
    birthDate: r.birth_date,
    rang: r.rang,
    regime: r.regime,
    elsmId: r.elsm_id,
    elsmName: r.elsm_name,
    centreGestion: r.centre_gestion,
    attendingPractitionerId: r.attending_practitioner_id,
  };
}

function patientsQuery(db: Db) {
  return db("patients as p").join("caisses as c", "c.id", "p.caisse_id").join("elsms as e", "e.id", "c.elsm_id");
}

export async function patientById(db: Db, id: number): Promise<PatientCard | null> {
  const row = await patientsQuery(db).where("p.id", id).first(cardColumns);
  return row ? toCard(row) : null;
}

/** All beneficiaries covered under one NIR (a parent and children are told apart by birth date and rang). */
export async function patientsByNir(db: Db, nir: string): Promise<PatientCard[]> {
  const rows = await patientsQuery(db).where("p.nir", nir).orderBy(["p.birth_date", "p.rang"]).select(cardColumns);
  return rows.map(toCard);
}

/** The demo Carte Vitale cards the simulated reader can "read". */
export async function vitaleCards(db: Db): Promise<PatientCard[]> {
  const rows = await patientsQuery(db).where("p.demo_vitale_card", true).orderBy("p.last_name").select(cardColumns);
  return rows.map(toCard);
}

export type Practitioner = {
  id: number;
  nam: string;
  lastName: string;
  firstName: string;
  postalCode: string;
  city: string;
  structureId: number | null;
  mailbox: string | null;
};

export async function practitionerById(db: Db, id: number): Promise<Practitioner | null> {
  const r = await db("practitioners").where({ id }).first();
  return r ? toPractitioner(r) : null;
}

export async function practitionerByNam(db: Db, nam: string): Promise<Practitioner | null> {
  const r = await db("practitioners").where({ nam }).first();
  return r ? toPractitioner(r) : null;
}

function toPractitioner(r: Row): Practitioner {
  return {
    id: r.id,
    nam: r.nam,
    lastName: r.last_name,
    firstName: r.first_name,
    postalCode: r.postal_code,
    city: r.city,
    structureId: r.structure_id,
    mailbox: r.mailbox,
  };
}

export type Structure = {
  id: number;
  kind: string;
  finess: string;
  raisonSociale: string;
  address: string;
  postalCode: string;
  city: string;
  mailbox: string | null;
};

export async function structureById(db: Db, id: number): Promise<Structure | null> {
  const r = await db("structures").where({ id }).first();
  return r ? toStructure(r) : null;
}

export async function structureByFiness(db: Db, finess: string): Promise<Structure | null> {
  const r = await db("structures").where({ finess }).first();
  return r ? toStructure(r) : null;
}

function toStructure(r: Row): Structure {
  return {
    id: r.id,
    kind: r.kind,
    finess: r.finess,
    raisonSociale: r.raison_sociale,
    address: r.address,
    postalCode: r.postal_code,
    city: r.city,
    mailbox: r.mailbox,
  };
}
