import crypto from "node:crypto";
import type { CheerioAPI } from "cheerio";
import type { Response } from "supertest";
import request from "supertest";
import { expect } from "vitest";
import { submitCompose } from "../../src/domain/conversations/compose.js";
import { loadConversation } from "../../src/domain/conversations/scope.js";
import type { AgentActor } from "../../src/domain/actor.js";
import { $, csrfFrom, hiddenFields, selectPatient, type Session, type TestApp } from "./app.js";

/** Keeps a response body as raw bytes (supertest only buffers text and JSON by itself). */
export function binary(res: NodeJS.ReadableStream, done: (err: Error | null, body: Buffer) => void): void {
  const chunks: Buffer[] = [];
  res.on("data", (c: Buffer) => chunks.push(c));
  res.on("end", () => done(null, Buffer.concat(chunks)));
}

export async function download(s: Session, href: string): Promise<Response> {
  return s.agent
    .get(href)
    .buffer(true)
    .parse(binary as never);
}

/** A download whose stored file cannot be read: the HTML page « Pièce jointe indisponible », not a broken file. Returns the page. */
export function expectUnavailablePage(res: Response): CheerioAPI {
  expect(res.status).toBe(500);
  expect(res.headers["content-type"]).toMatch(/^text\/html/);
  expect(res.headers["content-disposition"]).toBeUndefined();
  const page = $(String(res.body));
  expect(textOf(page, "main h1")).toBe("Pièce jointe indisponible");
  expect(textOf(page, "main")).toContain("Cette pièce jointe n'a pas pu être lue");
  return page;
}

/** Text of the first match, whitespace collapsed. */
/** The text of every element a selector matches in a page's HTML, whitespace collapsed. */
export function textAll(html: string, selector: string): string {
  return $(html)(selector).text().replace(/\s+/g, " ").trim();
}

export function textOf(page: CheerioAPI, selector: string): string {
  return page(selector).first().text().replace(/\s+/g, " ").trim();
}

export type Row = { href: string; subject: string; badge: string; lines: string[]; date: string; unread: boolean; draft: boolean };

/** The rows of the PS list column, as a reader sees them. */
export function listRows(html: string): Row[] {
  const page = $(html);
  return page("#list li.item")
    .toArray()
    .map((li) => {
      const row = page(li);
      const clean = (s: string) => s.replace(/\s+/g, " ").trim();
      return {
        href: row.find("a.item-link").attr("href") ?? "",
        subject: clean(row.find(".item-title").text()),
        badge: clean(row.find(".badge [aria-hidden=true]").text()),
        lines: row
          .find(".item-line")
          .toArray()
          .map((l) => clean(page(l).text())),
        date: clean(row.find(".item-date").text()),
        unread: row.hasClass("unread"),
        draft: row.hasClass("draft"),
      };
    });
}

/** The patient card as label → value ("NIR" → "1700469387111 72"). */
export function patientCard(page: CheerioAPI, scope: string): Record<string, string> {
  const out: Record<string, string> = {};
  page(`${scope} dl.patient-card > div`).each((_, div) => {
    out[page(div).find("dt").text().trim()] = page(div).find("dd").text().replace(/\s+/g, " ").trim();
  });
  return out;
}

/** Selects the patient and opens the new-question form; returns its HTML and hidden fields. */
export async function openCompose(s: Session, patient: { nir: string; key: string; firstName?: string }) {
  await selectPatient(s, patient);
  const res = await s.agent.get("/ps/conversations/new");
  if (res.status !== 200) throw new Error(`compose form: ${res.status}`);
  return { html: res.text, hidden: hiddenFields(res.text) };
}

/** The doctor sends a new question about `patient` (with `files` attached); its thread's id. */
export async function sendPsQuestion(
  s: Session,
  patient: { nir: string; key: string; firstName?: string },
  subject: string,
  body = "Bonjour.",
  files: Upload[] = [],
): Promise<number> {
  const { hidden } = await openCompose(s, patient);
  const sent = await postForm(s, "/ps/conversations", { ...hidden, subject, body, action: "send" }, files);
  if (sent.status !== 303) throw new Error(`question not sent: ${sent.status}`);
  return Number(sent.headers.location.split("/").pop());
}

export type Upload = { path?: string; buffer?: Buffer; name?: string };

/** Posts a compose form as a browser does (multipart), with its files. */
export function postForm(s: Session, action: string, fields: Record<string, string>, files: Upload[] = []) {
  let req = s.agent.post(action).field(fields);
  for (const f of files) {
    req = f.buffer ? req.attach("attachments", f.buffer, { filename: f.name ?? "fichier.pdf" }) : req.attach("attachments", f.path!, f.name ? { filename: f.name } : undefined);
  }
  return req;
}

/** Builds a multipart body by hand, so a file name reaches the server exactly as written in the header. */
export function rawMultipart(fields: Record<string, string>, files: { rawFilename: string; content: Buffer }[]): { body: Buffer; contentType: string } {
  const boundary = `----ems${crypto.randomBytes(8).toString("hex")}`;
  const parts: Buffer[] = [];
  for (const [name, value] of Object.entries(fields)) {
    parts.push(Buffer.from(`--${boundary}\r\nContent-Disposition: form-data; name="${name}"\r\n\r\n${value}\r\n`, "utf8"));
  }
  for (const f of files) {
    parts.push(
      Buffer.from(`--${boundary}\r\nContent-Disposition: form-data; name="attachments"; filename="${f.rawFilename}"\r\nContent-Type: application/octet-stream\r\n\r\n`, "utf8"),
    );
    parts.push(f.content, Buffer.from("\r\n"));
  }
  parts.push(Buffer.from(`--${boundary}--\r\n`));
  return { body: Buffer.concat(parts), contentType: `multipart/form-data; boundary=${boundary}` };
}

export async function practitionerId(app: TestApp, who: { nam: string }): Promise<number> {
  return (await app.db("practitioners").where({ nam: who.nam }).first("id")).id;
}

export async function conversationBySubject(app: TestApp, subject: string) {
  return app.db("conversations").where({ subject }).first();
}

export async function agentActor(app: TestApp, lastName: string): Promise<AgentActor> {
  const a = await app.db("agents").where({ last_name: lastName }).first();
  return { kind: "agent", agentId: a.id, elsmId: a.elsm_id, displayName: `${a.last_name} ${a.first_name}` };
}

/**
 * The échelon answers in a conversation, through the same domain operation the back office uses
 * (`confirmNoMail`: the agent ticked "Envoyer sans courriel de notification", for a party without mailbox).
 */
export async function elsmWrites(app: TestApp, agentLastName: string, conversationId: number, body: string, confirmNoMail = false) {
  const actor = await agentActor(app, agentLastName);
  const conversation = await loadConversation(app.db, actor, String(conversationId));
  const outcome = await submitCompose(
    { db: app.db, storage: app.storage },
    { actor, ip: "127.0.0.1" },
    { kind: "reply", conversation },
    {
      action: "send",
      subject: "",
      body,
      submissionKey: crypto.randomBytes(16).toString("hex"),
      draft: null,
      removeAttachmentIds: [],
      files: [],
      confirmNoMail,
    },
  );
  if (outcome.status !== "sent") throw new Error(`ELSM message not sent: ${JSON.stringify(outcome)}`);
  return outcome;
}

/** The value of a cookie set by a response (undefined when the response set none). */
export function setCookie(res: Response, name: string): string | undefined {
  const raw = res.headers["set-cookie"] as unknown as string[] | undefined;
  const line = (raw ?? []).find((c) => c.startsWith(`${name}=`));
  return line ? decodeURIComponent(line.slice(name.length + 1).split(";")[0]!) : undefined;
}

/** The session id inside a signed express-session cookie value ("s:<sid>.<signature>"). */
export function sidOf(cookieValue: string): string {
  return cookieValue.replace(/^s:/, "").replace(/\.[^.]*$/, "");
}

/** Signs in on the back office without needing its pages (they are being built): returns a PS-side CSRF token too. */
export async function signInAgentRaw(app: TestApp, lastName: string) {
  const agent = request.agent(app.app);
  const page = await agent.get("/bo/login");
  const id = (await app.db("agents").where({ last_name: lastName }).first("id")).id;
  const res = await agent
    .post("/bo/login")
    .type("form")
    .send({ agent: String(id), _csrf: csrfFrom(page.text) });
  if (res.status !== 303) throw new Error(`agent login failed: ${res.status}`);
  return agent;
}

/** Table sizes that any state change would alter (the audit trail and read marks excepted). */
export async function snapshot(app: TestApp) {
  const out: Record<string, unknown> = {};
  for (const table of ["conversations", "messages", "drafts", "attachments", "notifications"]) {
    out[table] = Number((await app.db(table).count<{ n: number }[]>({ n: "*" }))[0]!.n);
  }
  out.deleted = await app.db("conversations").whereNotNull("ps_deleted_at").pluck("id");
  out.states = await app.db("conversations").orderBy("id").pluck("state");
  out.draftTexts = await app.db("drafts").orderBy("id").select("subject", "body");
  out.pins = await app.db("practitioners").orderBy("id").select("failed_pin_attempts", "card_blocked_at");
  return out;
}

/** A row count, as a number on both databases (PostgreSQL answers a string). */
export const countRows = async (q: ReturnType<TestApp["db"]>) => Number((await q.count({ n: "*" }).first())?.n);

/** A fresh thread of Dr GENE with the ELSM de l'Ain (a copy of « info ALD » and its doctor's message), without any draft. */
export async function freshThread(app: TestApp, subject: string): Promise<number> {
  const model = await app.db("conversations").where({ subject: "info ALD" }).first();
  const { id: _id, ...rest } = model;
  const [row] = await app
    .db("conversations")
    .insert({ ...rest, subject })
    .returning("id");
  const id = Number(typeof row === "object" ? row.id : row);
  await app
    .db("messages")
    .insert({ conversation_id: id, side: "ps", body: "Question du médecin", author_practitioner_id: model.started_by_practitioner_id, sent_at: model.last_message_at });
  return id;
}
