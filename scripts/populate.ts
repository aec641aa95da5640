/**
 * Fills the configured database (SQLite by default, or DATABASE_URL) with national-scale data, on top of the
 * migrated and seeded demo database:
 *
 *   npm run populate -- --messages 1000000 [--conversations 200000] [--seed 42]
 *
 * ~135 ELSMs (one per département + the MSA échelons) with their caisses and 2–4 agents, thousands of liberal doctors,
 * hundreds of structures with salaried doctors, tens of thousands of patients, `messages / 5` conversations on both
 * sides, attachment metadata on ~10 % of messages, and one ELSM (ELSM 751, Paris) whose A TRAITER tray holds more
 * than half of all conversations (≥ 100,000 at 1 M messages). Deterministic (seeded PRNG, fixed calendar), batched
 * multi-row inserts in transactions, a progress bar on stderr, ANALYZE at the end. Refuses an already populated
 * database: start from a fresh file / database.
 */
import { performance } from "node:perf_hooks";
import type { Knex } from "knex";
import { hashPin } from "../src/domain/auth/pin.js";
import { addDefaultClosureReasons } from "../src/domain/closure-reasons/defaults.js";
import { loadConfig } from "../src/config.js";
import { connect } from "../src/db/connection.js";
import { isPostgres } from "../src/db/dialect.js";
import { nameKey } from "../src/domain/directory/names.js";
import { indexWords } from "../src/domain/directory/words.js";
import { nirKey } from "../src/domain/directory/nir.js";
import { backfillFromHistory } from "../db/migrations/20261205010000_deadlines.js";
import { recountDerived } from "../src/domain/conversations/counters.js";
import { rebuildSearchText } from "../src/db/dialect.js";
import { prepareDatabase } from "../src/runtime.js";
import { DEMO_PIN } from "../db/seeds/demo.js";
import { mulberry32 } from "./prng.js";
import {
  ATTACHMENT_NAMES,
  CENTRE_NAMES,
  DEPARTEMENTS,
  ELSM_CLOSINGS,
  ELSM_OPENINGS,
  ELSM_SENTENCES,
  ETABLISSEMENT_KINDS,
  ETABLISSEMENT_NAMES,
  EXTRA_CAISSES,
  FIRST_NAMES_F,
  FIRST_NAMES_M,
  LAST_NAMES,
  MORE_TOWNS,
  MSA,
  PS_CLOSINGS,
  PS_OPENINGS,
  PS_SENTENCES,
  STREETS,
  SUBJECTS,
  type Departement,
} from "./populate-data.js";

// ---- options ------------------------------------------------------------------------------------------------

function option(name: string, fallback: number): number {
  const args = process.argv.slice(2);
  for (let i = 0; i < args.length; i += 1) {
    const a = args[i]!;
    const raw = a === `--${name}` ? args[i + 1] : a.startsWith(`--${name}=`) ? a.slice(name.length + 3) : undefined;
    if (raw !== undefined) {
      const n = Number(raw.replace(/[_,]/g, ""));
      if (!Number.isFinite(n) || n < 0) throw new Error(`--${name}: not a number (${raw})`);
      return Math.floor(n);
    }
  }
  return fallback;
}

const MESSAGES = option("messages", 1_000_000);
const CONVERSATIONS = Math.max(1, Math.min(MESSAGES, option("conversations", Math.round(MESSAGES / 5))));
const LIBERAL_DOCTORS = option("doctors", 8_000);
const STRUCTURES = option("structures", 400);
const PATIENT_NIRS = option("patients", 52_000); // + children sharing a parent's NIR ≈ 60,000 beneficiaries
const SEED = option("seed", 42);
/** Share of the conversations that go to the big ELSM, and share of those waiting in its A TRAITER tray. */
const BIG_SHARE = 0.65;
const BIG_A_TRAITER = 0.8;
const CONVERSATIONS_PER_TRANSACTION = 2_000;
const ROWS_PER_INSERT = 1_000;

/** A fixed calendar keeps runs identical: threads between END − 4 years and END. */
const END = Date.parse("2026-11-01T00:00:00.000Z");
const START = END - 4 * 365 * 86_400_000;
const HOUR = 3_600_000;
const DAY = 24 * HOUR;

// ---- deterministic randomness -------------------------------------------------------------------------------

const rand = mulberry32(SEED);
const int = (lo: number, hi: number) => lo + Math.floor(rand() * (hi - lo + 1)); // inclusive
const chance = (p: number) => rand() < p;
const pick = <T>(items: readonly T[]): T => items[Math.floor(rand() * items.length)]!;
const hex = (chars: number) => {
  let s = "";
  while (s.length < chars)
    s += Math.floor(rand() * 4294967296)
      .toString(16)
      .padStart(8, "0");
  return s.slice(0, chars);
};
const iso = (ms: number) => new Date(Math.floor(ms / 1000) * 1000).toISOString();
const exponential = (mean: number) => -Math.log(1 - rand()) * mean;

/** Weighted choice in O(log n) over a cumulative table. */
class Weighted<T> {
  private readonly cumulative: number[] = [];
  private total = 0;
  constructor(
    readonly items: T[],
    weight: (item: T, index: number) => number,
  ) {
    items.forEach((item, i) => {
      this.total += weight(item, i);
      this.cumulative.push(this.total);
    });
  }
  get size(): number {
    return this.items.length;
  }
  pick(): T {
    const x = rand() * this.total;
    let lo = 0;
    let hi = this.cumulative.length - 1;
    while (lo < hi) {
      const mid = (lo + hi) >> 1;
      if (this.cumulative[mid]! > x) hi = mid;
      else lo = mid + 1;
    }
    return this.items[lo]!;
  }
}

/** Zipf-like popularity: a few doctors are chosen as médecin traitant (and so get threads) far more than others. */
const popularity = (_: unknown, rank: number) => 1 / (rank + 20);
const surnames = new Weighted(LAST_NAMES, (_, i) => 1 / (i + 8));
const firstName = (female: boolean) => pick(female ? FIRST_NAMES_F : FIRST_NAMES_M);

/** Luhn key, used by the N°AM and FINESS identifiers. */
function luhn(digits: string): string {
  let sum = 0;
  for (let i = 0; i < digits.length; i += 1) {
    let d = Number(/\d/.test(digits[digits.length - 1 - i]!) ? digits[digits.length - 1 - i] : 0);
    if (i % 2 === 0) {
      d *= 2;
      if (d > 9) d -= 9;
    }
    sum += d;
  }
  return String((10 - (sum % 10)) % 10);
}

// ---- progress bar (stderr) ----------------------------------------------------------------------------------

class Progress {
  private done = 0;
  private last = 0;
  private lastPercentLogged = -1;
  private readonly started = performance.now();
  private readonly tty = Boolean(process.stderr.isTTY);
  constructor(
    private readonly label: string,
    private readonly total: number,
  ) {}

  tick(n: number): void {
    this.done += n;
    const now = performance.now();
    if (now - this.last < 200 && this.done < this.total) return;
    this.last = now;
    this.draw(now);
  }

  private draw(now: number): void {
    const ratio = this.total ? Math.min(1, this.done / this.total) : 1;
    const elapsed = (now - this.started) / 1000;
    const rate = elapsed > 0 ? this.done / elapsed : 0;
    const eta = rate > 0 ? (this.total - this.done) / rate : 0;
    const width = 30;
    const bar = "█".repeat(Math.round(ratio * width)).padEnd(width, "░");
    const line =
      `${this.label} ${bar} ${(ratio * 100).toFixed(1).padStart(5)} %  ${this.done.toLocaleString("en-US")}/${this.total.toLocaleString("en-US")}` +
      `  ${Math.round(rate).toLocaleString("en-US")}/s  ${elapsed.toFixed(0)} s elapsed  ETA ${eta.toFixed(0)} s`;
    if (this.tty) process.stderr.write(`\r${line}\x1b[K`);
    else {
      const percent = Math.floor(ratio * 10) * 10;
      if (percent !== this.lastPercentLogged) {
        this.lastPercentLogged = percent;
        process.stderr.write(`${line}\n`);
      }
    }
  }

  finish(): void {
    this.draw(performance.now());
    if (this.tty) process.stderr.write("\n");
  }
}

// ---- batched inserts ----------------------------------------------------------------------------------------

type Row = unknown[];
type Db = Knex | Knex.Transaction;

/** Multi-row INSERTs of at most ROWS_PER_INSERT rows, and at most the driver's bound-variable limit. */
async function insertRows(db: Db, postgres: boolean, table: string, columns: string[], rows: Row[]): Promise<void> {
  const maxVariables = postgres ? 65_535 : 32_766; // SQLite ≥ 3.32 (the sqlite3 package ships 3.5x)
  const perInsert = Math.max(1, Math.min(ROWS_PER_INSERT, Math.floor(maxVariables / columns.length)));
  const tuple = `(${columns.map(() => "?").join(",")})`;
  const head = `INSERT INTO ${table} (${columns.join(",")}) VALUES `;
  for (let i = 0; i < rows.length; i += perInsert) {
    const chunk = rows.slice(i, i + perInsert);
    const bindings: unknown[] = [];
    for (const r of chunk) for (const v of r) bindings.push(v);
    await db.raw(head + new Array(chunk.length).fill(tuple).join(","), bindings as Knex.RawBinding[]);
  }
}

async function maxId(db: Db, table: string): Promise<number> {
  const [row] = await db(table).max<{ m: number | string | null }[]>({ m: "id" });
  return Number(row?.m ?? 0);
}

// ---- the directory ------------------------------------------------------------------------------------------

type Town = { cp: string; city: string };
type Dep = Departement & { index: number; towns: Town[]; cpamElsmId: number; cpamCaisseIds: number[]; msaCaisseId: number; doctors: Doctor[]; doctorPick?: Weighted<Doctor> };
type Doctor = { id: number; dep: Dep; structureId: number | null; lastName: string; firstName: string };
type Structure = { id: number; dep: Dep; members: Doctor[] };
type Patient = { id: number; dep: Dep; elsmId: number; attending: Doctor | null; lastName: string };

function townsOf(d: Departement): Town[] {
  return [{ cp: d.cp, city: d.city }, ...(MORE_TOWNS[d.code] ?? []).map(([cp, city]) => ({ cp, city }))];
}

function address(): string {
  return `${int(1, 150)} ${pick(STREETS)}`;
}

function mailboxName(first: string, last: string): string {
  return nameKey(`${first}.${last}`)
    .toLowerCase()
    .replace(/[^a-z.]/g, "");
}

async function main(): Promise<void> {
  const config = loadConfig();
  // SQLite: one connection, so that the pragmas below hold for every statement.
  const db = connect({ ...config, sqliteConnections: 1 });
  const postgres = isPostgres(db);
  const where = postgres ? `PostgreSQL ${config.databaseUrl?.replace(/\/\/[^@]*@/, "//")}` : `SQLite ${config.sqliteFile}`;
  const t0 = performance.now();
  const phase = (label: string) => process.stderr.write(`[${((performance.now() - t0) / 1000).toFixed(1).padStart(6)} s] ${label}\n`);
  try {
    phase(`populate ${where}: ${MESSAGES.toLocaleString("en-US")} messages in ${CONVERSATIONS.toLocaleString("en-US")} conversations (seed ${SEED})`);
    await prepareDatabase(db);
    const existing = await db("conversations").count<{ n: number | string }[]>({ n: "*" });
    if (Number(existing[0]?.n ?? 0) > 100 || (await db("elsms").where({ code: "ELSM 751" }).first("id"))) {
      throw new Error("this database is already populated: start from a fresh one (delete the SQLite file, or drop and create the PostgreSQL database)");
    }
    if (!postgres) {
      // One connection (pool of 1): a large page cache for the index builds; nothing else writes meanwhile.
      await db.raw("PRAGMA cache_size = -262144");
      await db.raw("PRAGMA temp_store = MEMORY");
      await db.raw("PRAGMA synchronous = OFF");
    }

    const ids: Record<string, number> = {};
    for (const t of ["elsms", "caisses", "agents", "structures", "practitioners", "patients", "conversations", "messages", "attachments", "drafts"]) {
      ids[t] = await maxId(db, t);
    }
    const next = (table: string) => (ids[table] = ids[table]! + 1);

    // -- ELSMs, caisses (demo ones reused for Ain, Hérault and MSA Ain-Rhône) --
    const demoElsm = async (code: string) => (await db("elsms").where({ code }).first("id"))?.id as number | undefined;
    const demoCaisse = async (name: string) => (await db("caisses").where({ name }).first("id"))?.id as number | undefined;
    const ain = await demoElsm("ELSM 011");
    const herault = await demoElsm("ELSM 341");
    const msaAinRhone = await demoElsm("MSA 069");
    const demoCaisses: Record<string, number | undefined> = {
      "01": await demoCaisse("CPAM de l'Ain"),
      "34": await demoCaisse("CPAM de l'Hérault"),
    };
    const msaAinRhoneCaisse = await demoCaisse("MSA Ain-Rhône");

    const elsmRows: Row[] = [];
    const caisseRows: Row[] = [];
    const deps: Dep[] = DEPARTEMENTS.map((d, index) => ({ ...d, index, towns: townsOf(d), cpamElsmId: 0, cpamCaisseIds: [], msaCaisseId: 0, doctors: [] }));
    const byCode = new Map(deps.map((d) => [d.code, d]));
    const code3 = (c: string) => c.padStart(3, "0");
    for (const d of deps) {
      const reuse = d.code === "01" ? ain : d.code === "34" ? herault : undefined;
      if (reuse && demoCaisses[d.code]) {
        d.cpamElsmId = reuse;
        d.cpamCaisseIds.push(demoCaisses[d.code]!);
        continue;
      }
      d.cpamElsmId = next("elsms");
      const elsmCode = `ELSM ${d.code.length === 3 ? d.code : `${d.code}1`}`;
      elsmRows.push([d.cpamElsmId, elsmCode, `ELSM ${d.de}${d.name}`, `${elsmCode.replace(/\s/g, "").toLowerCase()}@assurance-maladie.example`]);
      const names = EXTRA_CAISSES[d.code] ?? [`CPAM ${d.de}${d.name.charAt(0)}${d.name.slice(1).toLowerCase()}`];
      names.forEach((name, i) => {
        const id = next("caisses");
        d.cpamCaisseIds.push(id);
        caisseRows.push([id, "general", name, `${code3(d.code).slice(-3)}${i + 1}`.slice(0, 4), d.cpamElsmId]);
      });
    }
    for (const m of MSA) {
      const elsmId = next("elsms");
      const caisseId = next("caisses");
      const code = `MSA ${code3(m.deps[0]!)}`;
      elsmRows.push([elsmId, code, `Échelon médical ${m.name}`, `echelon.${code.replace(/\s/g, "").toLowerCase()}@msa.example`]);
      caisseRows.push([caisseId, "agricole", m.name, `${code3(m.deps[0]!)}9`, elsmId]);
      for (const c of m.deps) byCode.get(c)!.msaCaisseId = caisseId;
    }
    for (const c of ["01", "69"]) {
      const d = byCode.get(c)!;
      if (msaAinRhone && msaAinRhoneCaisse) d.msaCaisseId = msaAinRhoneCaisse;
    }
    const caisseElsm = new Map<number, number>(caisseRows.map((r) => [r[0] as number, r[4] as number]));
    if (ain && demoCaisses["01"]) caisseElsm.set(demoCaisses["01"], ain);
    if (herault && demoCaisses["34"]) caisseElsm.set(demoCaisses["34"], herault);
    if (msaAinRhone && msaAinRhoneCaisse) caisseElsm.set(msaAinRhoneCaisse, msaAinRhone);
    for (const d of deps) if (!d.msaCaisseId) d.msaCaisseId = d.cpamCaisseIds[0]!; // no MSA known: the CPAM
    const paris = byCode.get("75")!;
    const bigElsmId = paris.cpamElsmId;

    // -- agents: 2–4 per new ELSM, 4 for the big one --
    const agentRows: Row[] = [];
    for (const r of elsmRows) {
      const elsmId = r[0] as number;
      const count = elsmId === bigElsmId ? 4 : int(2, 4);
      for (let i = 0; i < count; i += 1) {
        const female = chance(0.6);
        const first = firstName(female);
        const last = surnames.pick();
        agentRows.push([next("agents"), elsmId, last, first, nameKey(last), nameKey(first)]);
      }
    }

    // -- structures and doctors --
    const depByWeight = new Weighted(deps, (d) => d.weight);
    const pinHash = hashPin(DEMO_PIN); // one hash shared by every generated card (scrypt per row would cost minutes)
    const namsUsed = new Set<string>((await db("practitioners").select("nam")).map((r: { nam: string }) => r.nam));
    const finessUsed = new Set<string>((await db("structures").select("finess")).map((r: { finess: string }) => r.finess));
    const nam = (dep: Dep) => {
      const prefix = dep.code.length === 3 ? dep.code.slice(1) : /^2[AB]$/.test(dep.code) ? "20" : dep.code;
      for (;;) {
        const body = `${prefix}1${String(int(0, 99_999)).padStart(5, "0")}`;
        const value = body + luhn(body);
        if (!namsUsed.has(value)) {
          namsUsed.add(value);
          return value;
        }
      }
    };
    const finess = (dep: Dep) => {
      const prefix = dep.code.length === 3 ? dep.code.slice(0, 2) : dep.code;
      for (;;) {
        const body = `${prefix}${pick(["0", "0", "1", "2", "3", "4", "5", "6", "7", "8", "9"])}${String(int(0, 99_999)).padStart(5, "0")}`;
        const value = body + luhn(body);
        if (!finessUsed.has(value)) {
          finessUsed.add(value);
          return value;
        }
      }
    };

    const structureRows: Row[] = [];
    const practitionerRows: Row[] = [];
    const structures: Structure[] = [];
    const doctorRow = (dep: Dep, town: Town, structureId: number | null, withMailbox: boolean): Doctor => {
      const female = chance(0.5);
      const first = firstName(female);
      const last = surnames.pick();
      const id = next("practitioners");
      const n = nam(dep);
      practitionerRows.push([id, n, last, first, nameKey(last), town.cp, town.city, structureId, withMailbox ? `${mailboxName(first, last)}.${n}@medecin.example` : null, pinHash]);
      return { id, dep, structureId, lastName: last, firstName: first };
    };
    // Liberal doctors first, so that the most "popular" doctors of a département are liberal (their own list).
    for (let i = 0; i < LIBERAL_DOCTORS; i += 1) {
      const dep = depByWeight.pick();
      dep.doctors.push(doctorRow(dep, pick(dep.towns), null, chance(0.9)));
    }
    for (let i = 0; i < STRUCTURES; i += 1) {
      const dep = depByWeight.pick();
      const town = pick(dep.towns);
      const centre = chance(0.55);
      const raison = centre ? `CENTRE DE SANTE ${pick(CENTRE_NAMES)}` : `${pick(ETABLISSEMENT_KINDS)} ${pick(ETABLISSEMENT_NAMES)}${chance(0.3) ? ` ${town.city}` : ""}`;
      const id = next("structures");
      const f = finess(dep);
      structureRows.push([
        id,
        centre ? "centre_sante" : "etablissement",
        f,
        raison,
        nameKey(raison),
        address(),
        town.cp,
        town.city,
        chance(0.85) ? `accueil.${f}@structures.example` : null,
      ]);
      const s: Structure = { id, dep, members: [] };
      const members = centre ? int(2, 5) : int(2, 6);
      for (let k = 0; k < members; k += 1) s.members.push(doctorRow(dep, town, id, chance(0.1)));
      dep.doctors.push(...s.members);
      structures.push(s);
    }
    const structureById = new Map(structures.map((s) => [s.id, s]));
    for (const d of deps) d.doctorPick = d.doctors.length ? new Weighted(d.doctors, popularity) : undefined;
    const anyDoctor = (dep: Dep): Doctor => (dep.doctorPick ?? paris.doctorPick!).pick();

    // -- patients: a NIR, sometimes shared with children (rang), a caisse, usually a médecin traitant --
    const patientRows: Row[] = [];
    const patients: Patient[] = [];
    const nirsUsed = new Set<string>((await db("patients").select("nir")).map((r: { nir: string }) => r.nir));
    const patientDeps = new Weighted(deps, (d) => (d.code === "75" ? 44 : d.weight));
    const addPatient = (dep: Dep, nir: string, key: string, last: string, female: boolean, birth: string, rang: number, caisseId: number, attending: Doctor | null) => {
      const first = firstName(female);
      const id = next("patients");
      patientRows.push([id, nir, key, last, first, nameKey(last), nameKey(first), birth, rang, caisseId, attending?.id ?? null, false]);
      patients.push({ id, dep, elsmId: caisseElsm.get(caisseId)!, attending, lastName: last });
    };
    for (let i = 0; i < PATIENT_NIRS; i += 1) {
      const dep = patientDeps.pick();
      const female = chance(0.52);
      const year = int(1935, 2004);
      const month = int(1, 12);
      const birthDep = chance(0.8) ? (dep.code.length === 3 ? dep.code.slice(0, 2) : dep.code) : pick(deps).code.slice(0, 2);
      let nir = "";
      for (;;) {
        nir = `${female ? 2 : 1}${String(year % 100).padStart(2, "0")}${String(month).padStart(2, "0")}${birthDep}${String(int(1, 999)).padStart(3, "0")}${String(int(1, 999)).padStart(3, "0")}`;
        if (!nirsUsed.has(nir)) break;
      }
      nirsUsed.add(nir);
      const key = nirKey(nir);
      const last = surnames.pick();
      const caisseId = chance(0.1) ? dep.msaCaisseId : pick(dep.cpamCaisseIds);
      const attending = chance(0.92) ? anyDoctor(dep) : null;
      const birth = `${year}-${String(month).padStart(2, "0")}-${String(int(1, 28)).padStart(2, "0")}`;
      addPatient(dep, nir, key, last, female, birth, 1, caisseId, attending);
      if (chance(0.12)) {
        // Children covered under the parent's NIR: told apart by birth date and rang (twins share a birth date).
        const children = int(1, 3);
        let childBirth = "";
        for (let k = 0; k < children; k += 1) {
          const twin = k > 0 && chance(0.1);
          if (!twin) childBirth = `${int(2008, 2024)}-${String(int(1, 12)).padStart(2, "0")}-${String(int(1, 28)).padStart(2, "0")}`;
          addPatient(dep, nir, key, last, chance(0.5), childBirth, twin ? 2 : 1, caisseId, attending);
        }
      }
    }
    // Unique (nir, birth_date, rang): drop the rare clash of two children born the same day without being twins.
    {
      const seen = new Set<string>();
      for (let i = patientRows.length - 1; i >= 0; i -= 1) {
        const r = patientRows[i]!;
        const k = `${r[1]}|${r[7]}|${r[8]}`;
        if (seen.has(k)) r[8] = (r[8] as number) + 1;
        seen.add(`${r[1]}|${r[7]}|${r[8]}`);
      }
    }

    phase(
      `directory: ${elsmRows.length} ELSMs, ${caisseRows.length} caisses, ${agentRows.length} agents, ${structureRows.length} structures, ` +
        `${practitionerRows.length} practitioners, ${patientRows.length} patients`,
    );
    const dirProgress = new Progress("directory    ", elsmRows.length + caisseRows.length + agentRows.length + structureRows.length + practitionerRows.length + patientRows.length);
    await db.transaction(async (trx) => {
      const put = async (table: string, columns: string[], rows: Row[]) => {
        for (let i = 0; i < rows.length; i += 5_000) {
          await insertRows(trx, postgres, table, columns, rows.slice(i, i + 5_000));
          dirProgress.tick(Math.min(5_000, rows.length - i));
        }
      };
      await put("elsms", ["id", "code", "name", "mailbox"], elsmRows);
      // Each new ELSM's default closure reasons (issue 14 §3).
      await addDefaultClosureReasons(trx);
      await put("caisses", ["id", "regime", "name", "centre_gestion", "elsm_id"], caisseRows);
      await put("agents", ["id", "elsm_id", "last_name", "first_name", "last_name_key", "first_name_key"], agentRows);
      await put("structures", ["id", "kind", "finess", "raison_sociale", "raison_sociale_key", "address", "postal_code", "city", "mailbox"], structureRows);
      await put("practitioners", ["id", "nam", "last_name", "first_name", "last_name_key", "postal_code", "city", "structure_id", "mailbox", "pin_hash"], practitionerRows);
      await put(
        "patients",
        ["id", "nir", "nir_key", "last_name", "first_name", "last_name_key", "first_name_key", "birth_date", "rang", "caisse_id", "attending_practitioner_id", "demo_vitale_card"],
        patientRows,
      );
      // The any-word search keys of names, raisons sociales and cities.
      for (const table of ["agents", "structures", "practitioners", "patients"] as const) await indexWords(trx, table);
    });
    dirProgress.finish();

    // -- conversations, messages, attachments, drafts --
    const agentsByElsm = new Map<number, number[]>();
    for (const a of (await db("agents").select("id", "elsm_id")) as { id: number; elsm_id: number }[]) {
      const list = agentsByElsm.get(a.elsm_id) ?? [];
      list.push(a.id);
      agentsByElsm.set(a.elsm_id, list);
    }
    const bigPatients = patients.filter((p) => p.elsmId === bigElsmId);
    const otherPatients = patients.filter((p) => p.elsmId !== bigElsmId);
    const otherDeps = new Weighted(
      deps.filter((d) => d !== paris),
      (d) => d.weight,
    );

    // Message counts: 1 to 12, mean = MESSAGES / CONVERSATIONS, summing exactly to MESSAGES.
    const mean = MESSAGES / CONVERSATIONS;
    const counts = new Uint8Array(CONVERSATIONS);
    let sum = 0;
    for (let i = 0; i < CONVERSATIONS; i += 1) {
      const n = Math.max(1, Math.min(12, Math.round(1 + exponential(Math.max(0.01, mean - 1)))));
      counts[i] = n;
      sum += n;
    }
    for (let guard = 0; sum !== MESSAGES && guard < 50_000_000; guard += 1) {
      const i = int(0, CONVERSATIONS - 1);
      if (sum < MESSAGES && counts[i]! < 12) {
        counts[i]! += 1;
        sum += 1;
      } else if (sum > MESSAGES && counts[i]! > 1) {
        counts[i]! -= 1;
        sum -= 1;
      }
    }

    const conversationColumns = [
      "id",
      "subject",
      "patient_id",
      "ps_practitioner_id",
      "ps_structure_id",
      "elsm_id",
      "started_by",
      "started_by_practitioner_id",
      "started_by_agent_id",
      "state",
      "redacteur_agent_id",
      "last_message_at",
      "last_message_side",
      "ps_deleted_at",
      "closed_at",
      "created_at",
    ];
    const messageColumns = ["id", "conversation_id", "side", "author_practitioner_id", "author_agent_id", "body", "sent_at", "read_at"];
    const attachmentColumns = ["id", "message_id", "storage_key", "original_name", "mime_type", "extension", "size_bytes", "sha256", "created_at"];
    const draftColumns = ["id", "side", "author_practitioner_id", "author_agent_id", "elsm_id", "conversation_id", "patient_id", "subject", "body", "created_at", "updated_at"];

    const body = (side: "ps" | "elsm") => {
      const [openings, sentences, closings] = side === "ps" ? [PS_OPENINGS, PS_SENTENCES, PS_CLOSINGS] : [ELSM_OPENINGS, ELSM_SENTENCES, ELSM_CLOSINGS];
      const parts = [pick(openings), ""];
      const n = int(1, 4);
      const start = int(0, sentences.length - 1);
      const step = int(1, sentences.length - 1); // distinct sentences: a walk with a fixed step
      const used = new Set<number>();
      for (let i = 0, j = start; used.size < n && i < 2 * n; i += 1, j = (j + step) % sentences.length) {
        if (used.has(j)) continue;
        used.add(j);
        parts.push(sentences[j]!);
      }
      parts.push("", pick(closings));
      return parts.join("\n");
    };

    const stats = { attachments: 0, drafts: 0, deleted: 0, states: { a_traiter: 0, en_cours: 0, clos: 0 } as Record<string, number>, bigATraiter: 0 };
    const span = END - START - 60 * DAY;
    const progress = new Progress("messages     ", MESSAGES);
    for (let first = 0; first < CONVERSATIONS; first += CONVERSATIONS_PER_TRANSACTION) {
      const conversations: Row[] = [];
      const messages: Row[] = [];
      const attachments: Row[] = [];
      const drafts: Row[] = [];
      const last = Math.min(CONVERSATIONS, first + CONVERSATIONS_PER_TRANSACTION);
      for (let i = first; i < last; i += 1) {
        const big = chance(BIG_SHARE);
        // Who: a patient (and so their caisse's ELSM), the PS party (usually the médecin traitant), the ELSM's agents.
        let patient: Patient | null = null;
        let doctor: Doctor;
        let elsmId: number;
        if (chance(0.9) && (big ? bigPatients : otherPatients).length) {
          patient = pick(big ? bigPatients : otherPatients);
          doctor = patient.attending && chance(0.85) ? patient.attending : anyDoctor(patient.dep);
          elsmId = patient.elsmId;
        } else {
          const dep = big ? paris : otherDeps.pick();
          doctor = anyDoctor(dep);
          elsmId = dep.cpamElsmId;
        }
        const structure = doctor.structureId ? structureById.get(doctor.structureId)! : null;
        const agents = agentsByElsm.get(elsmId) ?? [];
        const leadAgent = agents.length ? pick(agents) : null;

        // State first (the big ELSM's backlog), then sides consistent with it.
        const state =
          elsmId === bigElsmId ? (chance(BIG_A_TRAITER) ? "a_traiter" : chance(0.6) ? "en_cours" : "clos") : chance(0.2) ? "a_traiter" : chance(0.45) ? "en_cours" : "clos";
        const n = counts[i]!;
        let startedBy: "ps" | "elsm" = chance(leadAgent ? 0.7 : 1) ? "ps" : "elsm";
        const sides: ("ps" | "elsm")[] = [];
        for (let k = 0; k < n; k += 1) {
          if (k === 0) sides.push(startedBy);
          else sides.push(chance(0.85) ? (sides[k - 1] === "ps" ? "elsm" : "ps") : sides[k - 1]!);
        }
        const needed = state === "a_traiter" ? "ps" : state === "en_cours" ? "elsm" : null;
        if (needed && sides[n - 1] !== needed) sides[n - 1] = needed;
        if (!leadAgent) sides.fill("ps");
        startedBy = sides[0]!;

        // When: conversation starts spread over the period (ids follow time), gaps of hours to weeks.
        const created = START + ((i + rand()) / CONVERSATIONS) * span;
        const times: number[] = [created];
        for (let k = 1; k < n; k += 1) times.push(times[k - 1]! + 10 * 60_000 + exponential(2.5 * DAY));
        const overflow = times[n - 1]! - (END - HOUR);
        if (overflow > 0) {
          const scale = (END - HOUR - created) / (times[n - 1]! - created);
          for (let k = 1; k < n; k += 1) times[k] = created + (times[k]! - created) * scale;
        }

        const conversationId = next("conversations");
        let redacteur: number | null = null;
        let starterPractitioner: number | null = null;
        let starterAgent: number | null = null;
        for (let k = 0; k < n; k += 1) {
          const side = sides[k]!;
          const sentAt = times[k]!;
          const author = side === "ps" ? (structure && chance(0.3) ? pick(structure.members).id : doctor.id) : chance(0.8) || agents.length < 2 ? leadAgent! : pick(agents);
          if (k === 0) {
            if (side === "ps") starterPractitioner = author;
            else starterAgent = author;
          }
          if (side === "elsm") redacteur = author;
          // Read by the other side: almost always before the next message; the last one about half the time.
          const isLast = k === n - 1;
          const nextAt = isLast ? Math.min(END, sentAt + 5 * DAY) : times[k + 1]!;
          const read = isLast ? chance(state === "clos" ? 0.9 : 0.5) : chance(0.97);
          const readAt = read ? iso(sentAt + rand() * Math.max(60_000, nextAt - sentAt)) : null;
          const messageId = next("messages");
          messages.push([messageId, conversationId, side, side === "ps" ? author : null, side === "elsm" ? author : null, body(side), iso(sentAt), readAt]);
          if (chance(0.1)) {
            const files = chance(0.8) ? 1 : chance(0.75) ? 2 : 3;
            for (let f = 0; f < files; f += 1) {
              const [name, ext, mime] = pick(ATTACHMENT_NAMES);
              const size = Math.min(10 * 1024 * 1024, Math.round(Math.exp(11 + rand() * 4.5)));
              attachments.push([next("attachments"), messageId, hex(32), `${name}${f ? `-${f + 1}` : ""}.${ext}`, mime, ext, size, hex(64), iso(sentAt)]);
            }
          }
        }
        const lastAt = times[n - 1]!;
        const closedAt = state === "clos" ? iso(Math.min(END, lastAt + rand() * 10 * DAY)) : null;
        const deletedAt = chance(0.04) ? iso(Math.min(END, lastAt + HOUR + rand() * 30 * DAY)) : null;
        const subject = pick(SUBJECTS);
        conversations.push([
          conversationId,
          subject,
          patient?.id ?? null,
          structure ? null : doctor.id,
          structure ? structure.id : null,
          elsmId,
          startedBy,
          starterPractitioner,
          starterAgent,
          state,
          redacteur,
          iso(lastAt),
          sides[n - 1],
          deletedAt,
          closedAt,
          iso(created),
        ]);
        stats.states[state]! += 1;
        if (elsmId === bigElsmId && state === "a_traiter") stats.bigATraiter += 1;
        if (deletedAt) stats.deleted += 1;
        // A reply draft kept by the ELSM on some open threads (shown as [Brouillon] in the trays).
        if (state !== "clos" && leadAgent && chance(0.01)) {
          const at = iso(Math.min(END, lastAt + rand() * 2 * DAY));
          drafts.push([next("drafts"), "elsm", null, leadAgent, elsmId, conversationId, null, "", "Bonjour Docteur,\n", at, at]);
        }
      }
      await db.transaction(async (trx) => {
        await insertRows(trx, postgres, "conversations", conversationColumns, conversations);
        for (let m = 0; m < messages.length; m += ROWS_PER_INSERT) {
          const chunk = messages.slice(m, m + ROWS_PER_INSERT);
          await insertRows(trx, postgres, "messages", messageColumns, chunk);
          progress.tick(chunk.length);
        }
        await insertRows(trx, postgres, "attachments", attachmentColumns, attachments);
        if (drafts.length) await insertRows(trx, postgres, "drafts", draftColumns, drafts);
      });
      stats.attachments += attachments.length;
      stats.drafts += drafts.length;
    }
    progress.finish();

    // A few new-question drafts of doctors (listed as [Brouillon] on their side).
    const psDrafts: Row[] = [];
    for (const p of patients) {
      if (!p.attending || p.attending.structureId || !chance(0.01)) continue;
      const at = iso(END - rand() * 30 * DAY);
      psDrafts.push([next("drafts"), "ps", p.attending.id, null, p.elsmId, null, p.id, pick(SUBJECTS), "Bonjour,\n", at, at]);
    }
    await db.transaction((trx) => insertRows(trx, postgres, "drafts", draftColumns, psDrafts));
    stats.drafts += psDrafts.length;

    if (postgres) {
      // Explicit ids were inserted: move each serial sequence past them.
      for (const t of Object.keys(ids)) {
        await db.raw(`SELECT setval(pg_get_serial_sequence('${t}', 'id'), (SELECT COALESCE(MAX(id), 1) FROM ${t}))`);
      }
    }
    // Rows went in directly: compute the counters the operations normally keep (tray sizes, unread counts).
    phase("first answers and answer-due dates from each thread's history…");
    await backfillFromHistory(db, new Date());
    phase("recounting tray sizes and unread counts…");
    await recountDerived(db);
    phase("full-text index of subjects, messages and notes…");
    await rebuildSearchText(db);
    const loaded = (performance.now() - t0) / 1000;
    phase(`loaded in ${loaded.toFixed(1)} s; ${postgres ? "VACUUM (ANALYZE)" : "ANALYZE + WAL checkpoint"}…`);
    if (postgres) {
      // ANALYZE for the planner's statistics; VACUUM sets the visibility map that index-only scans (tray counts) need.
      await db.raw("VACUUM (ANALYZE)");
    } else {
      await db.raw("ANALYZE");
      await db.raw("PRAGMA wal_checkpoint(TRUNCATE)");
    }
    const total = (performance.now() - t0) / 1000;

    const count = async (t: string) => Number((await db(t).count<{ n: number | string }[]>({ n: "*" }))[0]?.n ?? 0);
    const topDoctor = await db("conversations")
      .whereNotNull("ps_practitioner_id")
      .whereNull("ps_deleted_at")
      .groupBy("ps_practitioner_id")
      .select("ps_practitioner_id")
      .count<{ ps_practitioner_id: number; n: number }[]>({ n: "*" })
      .orderBy("n", "desc")
      .limit(1);
    const summary = {
      database: where,
      seconds: { load: Number(loaded.toFixed(1)), analyze: Number((total - loaded).toFixed(1)), total: Number(total.toFixed(1)) },
      rows: Object.fromEntries(
        await Promise.all(
          ["elsms", "caisses", "agents", "structures", "practitioners", "patients", "conversations", "messages", "attachments", "drafts"].map(
            async (t) => [t, await count(t)] as const,
          ),
        ),
      ),
      states: stats.states,
      psDeleted: stats.deleted,
      bigElsm: { code: "ELSM 751", id: bigElsmId, aTraiter: stats.bigATraiter },
      topDoctor: topDoctor[0] ? { practitionerId: topDoctor[0].ps_practitioner_id, conversations: Number(topDoctor[0].n) } : null,
    };
    process.stdout.write(`${JSON.stringify(summary, null, 2)}\n`);
  } finally {
    await db.destroy();
  }
}

main().catch((err) => {
  process.stderr.write(`\n${err instanceof Error ? (err.stack ?? err.message) : String(err)}\n`);
  process.exit(1);
});
