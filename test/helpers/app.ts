import fs from "node:fs";
import os from "node:os";
import path from "node:path";
import * as cheerio from "cheerio";
import { Writable } from "node:stream";
import request from "supertest";
import { loadConfig } from "../../src/config.js";
import knexFactory from "knex";
import { buildRuntime, prepareDatabase } from "../../src/runtime.js";
import { testStorageSettings } from "./s3.js";

export type TestApp = Awaited<ReturnType<typeof startTestApp>>;

/**
 * A fresh app, migrated and seeded with the demo data: on its own SQLite file, or, when DATABASE_URL
 * points to PostgreSQL, in its own schema (dropped at close) so that runs never see each other's data.
 * Its attachments in its own folder, or with TEST_STORAGE=s3 in its own bucket (test/helpers/s3.ts).
 */
export async function startTestApp(env: Record<string, string> = {}, options: { log?: Writable } = {}) {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), "ems-test-"));
  const databaseUrl = env.DATABASE_URL ?? process.env.DATABASE_URL;
  const schema = databaseUrl
    ? `test_${path
        .basename(dir)
        .replace(/[^a-z0-9]/gi, "")
        .toLowerCase()}`
    : undefined;
  if (databaseUrl && schema) {
    const admin = knexFactory({ client: "pg", connection: databaseUrl });
    await admin.raw(`CREATE SCHEMA ${schema}`);
    await admin.destroy();
  }
  const settings: Record<string, string> = {
    NODE_ENV: "test",
    DATA_DIR: dir,
    SESSION_SECRET: "test-secret-0123456789",
    PUBLIC_URL: "https://ems.example",
    ...(databaseUrl && schema ? { DATABASE_URL: databaseUrl, DATABASE_SCHEMA: schema } : {}),
    ...(await testStorageSettings()),
    ...env,
  };
  const config = loadConfig(settings);
  const runtime = buildRuntime(config, { logDestination: options.log });
  await prepareDatabase(runtime.db);
  return {
    ...runtime,
    dir,
    /** The settings it was started with (for a CLI run on the same data). */
    settings,
    async close() {
      if (schema) await runtime.db.raw(`DROP SCHEMA ${schema} CASCADE`);
      await runtime.db.destroy();
      fs.rmSync(dir, { recursive: true, force: true });
    },
  };
}

/** Everything the app logs, line by line (pass `stream` as startTestApp's `log`). */
export function captureLog() {
  const lines: string[] = [];
  const stream = new Writable({
    write(chunk, _enc, done) {
      lines.push(...String(chunk).split("\n").filter(Boolean));
      done();
    },
  });
  return { stream, lines, entries: () => lines.map((l) => JSON.parse(l) as Record<string, unknown>) };
}

/** The id of an ELSM's first closure reason (issue 14 §3: a close names one), as the close form sends it. */
export async function closeReasonId(app: TestApp, elsmCode = "ELSM 011"): Promise<string> {
  const row = await app
    .db("closure_reasons as r")
    .join("elsms as e", "e.id", "r.elsm_id")
    .where("e.code", elsmCode)
    .orderBy([{ column: "r.position" }, { column: "r.id" }])
    .first("r.id");
  return String(row.id);
}

/** Demo people, by the identifiers printed in the README. */
/** A fresh app with the two parties most tests start from: Dr GENE signed in, and Anna AIN of his patient's échelon. */
export async function startWithGeneAndAnna(): Promise<{ app: TestApp; gene: Session; anna: Session }> {
  const app = await startTestApp();
  return { app, gene: await signInPs(app, drGene), anna: await signInAgent(app, annaAin) };
}

export const drGene = { nam: "991101197" };
export const drMezin = { nam: "381711787" };
export const drLuanikazuzi = { nam: "971609219" };
export const drMartin = { nam: "011234567" };
export const drRoux = { nam: "011500011" };
export const drBenali = { nam: "011500029" };
export const drLeroy = { nam: "341500017" };
export const annaAin = { lastName: "AIN" };
export const marcDubois = { lastName: "DUBOIS" };
export const paulHerault = { lastName: "HERAULT" };
export const marieRhone = { lastName: "RHONE" };

export const bunyel = { nir: "1700469387111", key: "72", firstName: "Guillaume" };
export const solana = { nir: "2851175123045", key: "45" };
export const moreauMsa = { nir: "2450201053456", key: "19" };
export const petitNoDoctor = { nir: "1900534172789", key: "05" };
export const casanova2A = { nir: "278052A012034", key: "04" };
export const arnaud = { nir: "1660538185099", key: "15" };

export function $(html: string) {
  return cheerio.load(html);
}

export function csrfFrom(html: string): string {
  const page = $(html);
  const token = page('meta[name="csrf-token"]').attr("content") ?? page('input[name="_csrf"]').first().val();
  if (!token) throw new Error("no csrf token in page");
  return String(token);
}

export type Session = { agent: ReturnType<typeof request.agent>; csrf: string; refresh(): Promise<string> };

async function session(app: TestApp, loginPath: string, fields: Record<string, string>, home: string): Promise<Session> {
  const agent = request.agent(app.app);
  const loginPage = await agent.get(loginPath);
  const res = await agent
    .post(loginPath)
    .type("form")
    .send({ ...fields, _csrf: csrfFrom(loginPage.text) });
  if (res.status !== 303) throw new Error(`login failed: ${res.status} ${res.text.slice(0, 300)}`);
  const s: Session = {
    agent,
    csrf: "",
    async refresh() {
      s.csrf = csrfFrom((await agent.get(home)).text);
      return s.csrf;
    },
  };
  await s.refresh();
  return s;
}

export async function signInPs(app: TestApp, who: { nam: string }, pin = "1234"): Promise<Session> {
  const card = await app.db("practitioners").where({ nam: who.nam }).first("id");
  return session(app, "/ps/login", { card: String(card.id), pin }, "/ps/messages");
}

export async function signInAgent(app: TestApp, who: { lastName: string }): Promise<Session> {
  const agent = await app.db("agents").where({ last_name: who.lastName }).first("id");
  return session(app, "/bo/login", { agent: String(agent.id) }, "/bo/bannettes/a-traiter");
}

export function fixture(...parts: string[]): string {
  return path.join(path.dirname(new URL(import.meta.url).pathname), "..", "fixtures", "attachments", ...parts);
}

/** Selects a patient by NIR for a signed-in PS; under a shared NIR, picks the beneficiary named `firstName` (or the first). */
export async function selectPatient(s: Session, patient: { nir: string; key: string; firstName?: string }) {
  const res = await s.agent.post("/ps/patient/nir").type("form").send({ _csrf: s.csrf, nir: patient.nir, key: patient.key });
  if (res.status === 303) return res;
  const page = $(res.text);
  const choices = page('input[name="patient"][type="radio"]');
  if (res.status !== 200 || choices.length === 0) throw new Error(`patient selection failed: ${res.status}`);
  let id = String(choices.first().val());
  choices.each((_, el) => {
    const label = page(`label[for="${page(el).attr("id")}"]`).text();
    if (patient.firstName && label.includes(patient.firstName)) id = String(page(el).val());
  });
  const chosen = await s.agent.post("/ps/patient/choose").type("form").send({ _csrf: s.csrf, patient: id });
  if (chosen.status !== 303) throw new Error(`patient choice failed: ${chosen.status}`);
  return chosen;
}

/** The compose form's hidden fields, as the browser would post them back. */
export function hiddenFields(html: string, formSelector = "form.compose"): Record<string, string> {
  const page = $(html);
  const out: Record<string, string> = {};
  page(`${formSelector} input[type="hidden"]`).each((_, el) => {
    out[page(el).attr("name")!] = String(page(el).val() ?? "");
  });
  return out;
}
