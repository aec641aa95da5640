import crypto from "node:crypto";
import fs from "node:fs";
import os from "node:os";
import path from "node:path";
import knexFactory from "knex";
import { seedDemo } from "../../db/seeds/demo.js";
import { connect, type Db } from "../../src/db/connection.js";
import type { AgentActor, PsActor, RequestContext } from "../../src/domain/actor.js";
import type { UploadedFile } from "../../src/domain/attachments/service.js";
import { s3Storage } from "../../src/domain/attachments/s3-storage.js";
import { localStorage, StoredFileMissing, type FileStorage } from "../../src/domain/attachments/storage.js";
import { bucketSettings, testOnS3 } from "../helpers/s3.js";
import type { ComposeInput } from "../../src/domain/conversations/compose.js";
import type { ConversationRow } from "../../src/domain/conversations/scope.js";
import type { ConversationState } from "../../src/domain/conversations/states.js";
import { patientsByNir, type PatientCard } from "../../src/domain/directory/queries.js";

/**
 * The domain tests call src/domain directly, so they only need a migrated and seeded database and a
 * file store (a folder, or with TEST_STORAGE=s3 a bucket) — not the Express app that test/helpers/app.ts also
 * builds (importing it costs about a second per file). Same isolation as startTestApp: its own SQLite file, or its own PostgreSQL schema
 * (dropped at close) when DATABASE_URL is set.
 */
export type DomainFixture = { db: Db; storage: FileStorage; deps: { db: Db; storage: FileStorage }; close(): Promise<void> };

export async function seededDomain(): Promise<DomainFixture> {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), "ems-domain-"));
  const databaseUrl = process.env.DATABASE_URL || undefined;
  const schema = databaseUrl ? `test_domain_${crypto.randomBytes(6).toString("hex")}` : undefined;
  if (databaseUrl && schema) {
    const admin = knexFactory({ client: "pg", connection: databaseUrl });
    await admin.raw(`CREATE SCHEMA ${schema}`);
    await admin.destroy();
  }
  const db = connect({ databaseUrl, databaseSchema: schema, sqliteFile: path.join(dir, "domain.sqlite3") });
  await db.migrate.latest();
  await seedDemo(db);
  const root = path.join(dir, "attachments");
  const bucket = testOnS3 ? await bucketSettings() : null;
  const storage = bucket ? s3Storage({ bucket: bucket.STORAGE_S3_BUCKET!, region: bucket.STORAGE_S3_REGION!, endpoint: bucket.STORAGE_S3_ENDPOINT }, root) : localStorage(root);
  return {
    db,
    storage,
    deps: { db, storage },
    async close() {
      if (schema) await db.raw(`DROP SCHEMA ${schema} CASCADE`);
      await db.destroy();
      fs.rmSync(dir, { recursive: true, force: true });
    },
  };
}

/** Demo people and patients (the same identifiers as test/helpers/app.ts and the README). */
export const nam = {
  gene: "991101197",
  mezin: "381711787",
  luanikazuzi: "971609219",
  martin: "011234567", // liberal, no notification mailbox
  roux: "011500011", // salaried, CENTRE DE SANTE LES TILLEULS
  benali: "011500029", // salaried, CENTRE DE SANTE LES TILLEULS
  leroy: "341500017", // salaried, CLINIQUE DU PARC
} as const;
export const finess = { tilleuls: "010012345", parc: "340098765" } as const;
export const nir = {
  bunyel: { nir: "1700469387111", key: "72" }, // Guillaume (ouvrant droit), Léa and Hugo; ELSM 011, Dr GENE
  solana: { nir: "2851175123045", key: "45" }, // ELSM 011, Dr MEZIN
  ferrand: { nir: "1620369387222", key: "46" }, // ELSM 011, Dr GENE
  moreauMsa: { nir: "2450201053456", key: "19" }, // MSA 069, Dr ROUX (salaried) → the centre
  petitNoDoctor: { nir: "1900534172789", key: "05" }, // ELSM 341, no médecin traitant
  casanova2A: { nir: "278052A012034", key: "04" }, // ELSM 341, Dr MARTIN (no mailbox)
  arnaud: { nir: "1660538185099", key: "15" }, // ELSM 341, Dr LEROY (salaried) → the clinic
} as const;

export async function psActor(db: Db, doctorNam: string): Promise<PsActor> {
  const p = await db("practitioners").where({ nam: doctorNam }).first();
  if (!p) throw new Error(`no practitioner ${doctorNam}`);
  return { kind: "ps", practitionerId: p.id, structureId: p.structure_id ?? null, displayName: `Dr ${p.first_name} ${p.last_name}` };
}

export async function agentActor(db: Db, lastName: string): Promise<AgentActor> {
  const a = await db("agents").where({ last_name: lastName }).first();
  if (!a) throw new Error(`no agent ${lastName}`);
  return { kind: "agent", agentId: a.id, elsmId: a.elsm_id, displayName: `${a.first_name} ${a.last_name}` };
}

/** A close form naming the first closure reason of the agent's ELSM (issue 14 §3). */
export async function closeForm(db: Db, actor: AgentActor): Promise<{ reason_id: string }> {
  const r = await db("closure_reasons")
    .where({ elsm_id: actor.elsmId })
    .orderBy([{ column: "position" }, { column: "id" }])
    .first("id");
  return { reason_id: String(r.id) };
}

export function ctx<A extends PsActor | AgentActor>(actor: A): RequestContext<A> {
  return { actor, ip: "127.0.0.1" };
}

export function newKey(): string {
  return crypto.randomBytes(16).toString("hex");
}

/** A compose form as posted: nothing typed, a fresh submission key, unless told otherwise. */
export function form(fields: Partial<ComposeInput> = {}): ComposeInput {
  return { action: "send", subject: "", body: "", submissionKey: newKey(), draft: null, removeAttachmentIds: [], files: [], ...fields };
}

export function fixturePath(...parts: string[]): string {
  return path.join(path.dirname(new URL(import.meta.url).pathname), "..", "fixtures", "attachments", ...parts);
}

/** A fixture as the web layer hands an upload over: a copy in the store's temporary folder (acceptUploads moves it). */
export function upload(storage: FileStorage, ...parts: string[]): UploadedFile {
  const bytes = fs.readFileSync(fixturePath(...parts));
  const tmpPath = path.join(storage.tmpDir, newKey());
  fs.writeFileSync(tmpPath, bytes);
  return { originalName: parts[parts.length - 1]!, size: bytes.length, tooLarge: false, tmpPath, sha256: crypto.createHash("sha256").update(bytes).digest("hex") };
}

/** Whether the store still holds the bytes of `key`. */
export async function isStored(storage: FileStorage, key: string): Promise<boolean> {
  try {
    (await storage.open(key)).destroy();
    return true;
  } catch (err) {
    if (err instanceof StoredFileMissing) return false;
    throw err;
  }
}

export async function count(db: Db, table: string, where: Record<string, unknown> = {}): Promise<number> {
  const [row] = await db(table).where(where).count<{ n: number | string }[]>({ n: "*" });
  return Number(row?.n ?? 0);
}

export async function elsmIdOf(db: Db, code: string): Promise<number> {
  return (await db("elsms").where({ code }).first("id")).id;
}

/** The three tray sizes of an ELSM, as the back office shows them. */
export async function trays(db: Db, elsmId: number): Promise<Record<ConversationState, number>> {
  const out: Record<ConversationState, number> = { a_traiter: 0, en_cours: 0, clos: 0 };
  for (const r of await db("tray_counts").where({ elsm_id: elsmId }).select("state", "n")) out[r.state as ConversationState] = Number(r.n);
  return out;
}

/** What the tray sizes must be: the conversations of the ELSM counted by state. */
export async function actualTrays(db: Db, elsmId: number): Promise<Record<ConversationState, number>> {
  const out: Record<ConversationState, number> = { a_traiter: 0, en_cours: 0, clos: 0 };
  const rows = await db("conversations").where({ elsm_id: elsmId }).groupBy("state").select("state").count<{ state: string; n: number | string }[]>({ n: "*" });
  for (const r of rows) out[r.state as ConversationState] = Number(r.n);
  return out;
}

export async function conversationBySubject(db: Db, subject: string): Promise<ConversationRow> {
  const row = await db("conversations").where({ subject }).first();
  if (!row) throw new Error(`no conversation "${subject}"`);
  return row as ConversationRow;
}

export async function conversationById(db: Db, id: number): Promise<ConversationRow & Record<string, unknown>> {
  return (await db("conversations").where({ id }).first()) as ConversationRow & Record<string, unknown>;
}

/** A patient card by NIR (and first name, for one of several beneficiaries). */
export async function patient(db: Db, patientNir: string, firstName?: string): Promise<PatientCard> {
  const all = await patientsByNir(db, patientNir);
  const found = firstName ? all.find((p) => p.firstName === firstName) : all[0];
  if (!found) throw new Error(`no patient ${patientNir} ${firstName ?? ""}`);
  return found;
}

export async function auditRows(db: Db, action: string, objectId: number): Promise<number> {
  return count(db, "audit_events", { action, object_id: objectId });
}
