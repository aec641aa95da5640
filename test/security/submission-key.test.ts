import { textAll } from "../helpers/ps.js";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import {
  annaAin,
  arnaud,
  bunyel,
  drGene,
  hiddenFields,
  marcDubois,
  paulHerault,
  selectPatient,
  signInAgent,
  signInPs,
  startTestApp,
  type Session,
  type TestApp,
} from "../helpers/app.js";

/**
 * Issue 11 §8: the submission_key of a compose form makes a double post deliver once. It is the sender's:
 * a key taken from someone else's form (another ELSM, another agent) or from another of the sender's own
 * forms never fails, never lands on another thread with "Votre message a été envoyé", never touches another draft.
 */
let app: TestApp;
beforeAll(async () => {
  app = await startTestApp();
});
afterAll(async () => {
  await app.close();
});

const text = textAll;

async function ask(s: Session, patient: { nir: string; key: string; firstName?: string }, subject: string): Promise<number> {
  await selectPatient(s, patient);
  const form = await s.agent.get("/ps/conversations/new");
  const res = await s.agent.post("/ps/conversations").field({ ...hiddenFields(form.text), subject, body: "Question", action: "send" });
  expect(res.status).toBe(303);
  return Number(res.headers.location.split("/").pop());
}

/** Posts the reply form of thread `id` as `s`, with `key` in place of the form's own submission key. */
async function replyWithKey(s: Session, base: "/bo" | "/ps", id: number, key: string, body: string, action = "send") {
  const form = await s.agent.get(`${base}/conversations/${id}/reply`);
  return s.agent.post(`${base}/conversations/${id}/messages`).field({ ...hiddenFields(form.text), submission_key: key, body, action });
}

/** Replies to thread `id` as `s` with the form as served; returns the key it used. */
async function replied(s: Session, base: "/bo" | "/ps", id: number, body: string, action = "send"): Promise<string> {
  const form = await s.agent.get(`${base}/conversations/${id}/reply`);
  const fields = hiddenFields(form.text);
  const res = await s.agent.post(`${base}/conversations/${id}/messages`).field({ ...fields, body, action });
  expect(res.status).toBe(303);
  return fields.submission_key!;
}

async function followFlash(s: Session, res: { headers: Record<string, string> }) {
  return text((await s.agent.get(res.headers.location!)).text, ".flash, [role=status]");
}

describe("a submission key reused or forged", () => {
  it("taken from another ELSM's message: the reply is delivered where it was written, no server error", async () => {
    const gene = await signInPs(app, drGene);
    const anna = await signInAgent(app, annaAin);
    const paul = await signInAgent(app, paulHerault);
    const ain = await ask(gene, bunyel, "Clé de l'Ain");
    const herault = await ask(gene, arnaud, "Clé de l'Hérault");
    const key = await replied(anna, "/bo", ain, "Réponse de l'Ain");

    const res = await replyWithKey(paul, "/bo", herault, key, "Réponse de l'Hérault");
    expect(res.status).toBe(303);
    expect(res.headers.location).toBe(`/bo/conversations/${herault}`);
    expect(await app.db("messages").where({ conversation_id: herault, side: "elsm" }).pluck("body")).toEqual(["Réponse de l'Hérault"]);
    expect(await app.db("messages").where({ conversation_id: ain, side: "elsm" }).pluck("body")).toEqual(["Réponse de l'Ain"]);
  });

  it("taken from the same ELSM's message in another thread: delivered in this thread, never a confirmation for a message not sent", async () => {
    const gene = await signInPs(app, drGene);
    const anna = await signInAgent(app, annaAin);
    const marc = await signInAgent(app, marcDubois);
    const a = await ask(gene, bunyel, "Premier fil");
    const b = await ask(gene, bunyel, "Deuxième fil");
    const c = await ask(gene, bunyel, "Troisième fil");
    const key = await replied(anna, "/bo", a, "Réponse au premier");

    const same = await replyWithKey(anna, "/bo", b, key, "Réponse au deuxième");
    expect(same.status).toBe(303);
    expect(same.headers.location).toBe(`/bo/conversations/${b}`);
    expect(await app.db("messages").where({ conversation_id: b, side: "elsm" }).pluck("body")).toEqual(["Réponse au deuxième"]);

    const colleague = await replyWithKey(marc, "/bo", c, key, "Réponse au troisième");
    expect(colleague.status).toBe(303);
    expect(colleague.headers.location).toBe(`/bo/conversations/${c}`);
    expect(await followFlash(marc, colleague)).toContain("Votre message a été envoyé");
    expect(await app.db("messages").where({ conversation_id: c, side: "elsm" }).pluck("body")).toEqual(["Réponse au troisième"]);
    expect(await app.db("messages").where({ conversation_id: a, side: "elsm" }).pluck("body")).toEqual(["Réponse au premier"]);
  });

  it("a doctor's new question posted with the key of one of his replies is sent as a new question", async () => {
    const gene = await signInPs(app, drGene);
    const a = await ask(gene, bunyel, "Fil répondu");
    const key = await replied(gene, "/ps", a, "Ma relance");
    await selectPatient(gene, bunyel);
    const form = await gene.agent.get("/ps/conversations/new");
    const res = await gene.agent.post("/ps/conversations").field({ ...hiddenFields(form.text), submission_key: key, subject: "Nouvelle question", body: "Texte", action: "send" });
    expect(res.status).toBe(303);
    const created = await app.db("conversations").where({ subject: "Nouvelle question" }).first();
    expect(created).toBeDefined();
    expect(res.headers.location).toBe(`/ps/conversations/${created.id}`);
  });

  it("taken from another agent's draft: the draft is saved, the other draft is untouched, no server error", async () => {
    const gene = await signInPs(app, drGene);
    const anna = await signInAgent(app, annaAin);
    const paul = await signInAgent(app, paulHerault);
    const a = await ask(gene, bunyel, "Brouillon de l'Ain");
    const b = await ask(gene, bunyel, "Brouillon bis de l'Ain");
    const herault = await ask(gene, arnaud, "Brouillon de l'Hérault");
    const key = await replied(anna, "/bo", a, "Brouillon d'Anna", "draft");

    const other = await replyWithKey(paul, "/bo", herault, key, "Brouillon de Paul", "draft");
    expect(other.status).toBe(303);
    const own = await replyWithKey(anna, "/bo", b, key, "Autre brouillon d'Anna", "draft");
    expect(own.status).toBe(303);
    expect(await app.db("drafts").where({ conversation_id: a }).pluck("body")).toEqual(["Brouillon d'Anna"]);
    expect(await app.db("drafts").where({ conversation_id: herault }).pluck("body")).toEqual(["Brouillon de Paul"]);
    expect(await app.db("drafts").where({ conversation_id: b }).pluck("body")).toEqual(["Autre brouillon d'Anna"]);
  });

  it("the same form posted twice still delivers once", async () => {
    const gene = await signInPs(app, drGene);
    const anna = await signInAgent(app, annaAin);
    const id = await ask(gene, bunyel, "Double envoi");
    const form = await anna.agent.get(`/bo/conversations/${id}/reply`);
    const fields = { ...hiddenFields(form.text), body: "Une seule fois", action: "send" };
    const first = await anna.agent.post(`/bo/conversations/${id}/messages`).field(fields);
    const again = await anna.agent.post(`/bo/conversations/${id}/messages`).field(fields);
    expect([first.status, again.status]).toEqual([303, 303]);
    expect(again.headers.location).toBe(`/bo/conversations/${id}`);
    expect(await app.db("messages").where({ conversation_id: id, side: "elsm" })).toHaveLength(1);
  });
});
