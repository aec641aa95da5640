import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { formatTime } from "../../src/domain/format.js";
import { colleaguesWriting, markWriting, PRESENCE_WINDOW_MS } from "../../src/domain/conversations/presence.js";
import { $, annaAin, drGene, hiddenFields, marcDubois, signInAgent, signInPs, startTestApp, type Session, type TestApp, closeReasonId } from "../helpers/app.js";
import { agentActor } from "../helpers/ps.js";

/** Issue 13 §4: « Marc DUBOIS rédige une réponse depuis 14:02 », and two agents never overwrite each other's reply. */
let app: TestApp;
let anna: Session;
let marc: Session;
const squash = (s: string) => s.replace(/\s+/g, " ").trim();

beforeAll(async () => {
  app = await startTestApp();
  anna = await signInAgent(app, annaAin);
  marc = await signInAgent(app, marcDubois);
});
afterAll(async () => {
  await app.close();
});

/** A thread of ELSM 011 the échelon may answer, each test its own. */
async function openThread(skip: number): Promise<number> {
  const rows = await app.db("conversations as c").join("elsms as e", "e.id", "c.elsm_id").where("e.code", "ELSM 011").whereNot("c.state", "clos").orderBy("c.id").select("c.id");
  return rows[skip]!.id;
}

async function presenceOn(s: Session, url: string): Promise<string> {
  const res = await s.agent.get(url);
  expect(res.status).toBe(200);
  return squash($(res.text)("#presence-note").text());
}

const startedAt = async (id: number, lastName: string) =>
  (await app.db("reply_presence as w").join("agents as a", "a.id", "w.agent_id").where({ "w.conversation_id": id, "a.last_name": lastName }).first("w.started_at"))?.started_at as
    | string
    | undefined;

function replyPost(s: Session, id: number, form: string, fields: Record<string, string>) {
  return s.agent.post(`/bo/conversations/${id}/messages`).field({ ...hiddenFields(form), ...fields });
}

describe("someone else is answering", () => {
  it("an agent with the reply form open is named on the thread page and the reply form of a colleague, with the time they started — never to themself", async () => {
    const id = await openThread(0);
    expect(await presenceOn(marc, `/bo/conversations/${id}`)).toBe("");
    await anna.agent.get(`/bo/conversations/${id}/reply`);
    const since = formatTime(new Date((await startedAt(id, "AIN"))!));
    const expected = `Anna AIN rédige une réponse depuis ${since}.`;
    expect(await presenceOn(marc, `/bo/conversations/${id}`)).toMatch(new RegExp(`^${expected} Si vous écrivez aussi, aucun texte ne sera écrasé`));
    expect(await presenceOn(marc, `/bo/conversations/${id}/reply`)).toContain(expected);
    // Anna does not see herself; she sees Marc, who has now opened the form too.
    expect(await presenceOn(anna, `/bo/conversations/${id}/reply`)).toContain("Marc DUBOIS rédige une réponse depuis");
    expect(await presenceOn(anna, `/bo/conversations/${id}`)).not.toContain("Anna AIN");
  });

  it("two agents on the same reply: the second's post on a draft saved since is a conflict with both texts, the first's draft untouched", async () => {
    const id = await openThread(1);
    const annaForm = (await anna.agent.get(`/bo/conversations/${id}/reply`)).text;
    const marcForm = (await marc.agent.get(`/bo/conversations/${id}/reply`)).text;
    expect(squash($(marcForm)("#presence-note").text())).toContain("Anna AIN rédige une réponse depuis");
    const saved = await replyPost(anna, id, annaForm, { body: "Texte d'Anna, en cours.", action: "draft" });
    expect(saved.status).toBe(303);
    const before = await app.db("drafts").where({ conversation_id: id, side: "elsm" }).first("id", "body", "updated_at");
    expect(before.body).toBe("Texte d'Anna, en cours.");
    // Marc's form was shown before Anna's draft existed: his send does not take it, nor overwrite it.
    const late = await replyPost(marc, id, marcForm, { body: "Texte de Marc.", action: "send" });
    expect(late.status).toBe(409);
    const page = $(late.text);
    expect(page("textarea[name=body]").val()).toBe("Texte de Marc.");
    expect(squash(page(".draft-conflict").text())).toContain("Texte d'Anna, en cours.");
    expect(await app.db("drafts").where({ conversation_id: id, side: "elsm" }).first("id", "body", "updated_at")).toEqual(before);
    expect(await app.db("messages").where({ conversation_id: id, body: "Texte de Marc." })).toEqual([]);
  });

  it("the same shared reply draft open by two agents: each is warned of the other; the second save at the stale version is refused in French, their text kept, the first's untouched — by a post or an autosave", async () => {
    const id = await openThread(6);
    const first = await replyPost(anna, id, (await anna.agent.get(`/bo/conversations/${id}/reply`)).text, { body: "Brouillon commun v1", action: "draft" });
    expect(first.status).toBe(303);
    const annaForm = (await anna.agent.get(`/bo/conversations/${id}/reply`)).text;
    const marcForm = (await marc.agent.get(`/bo/conversations/${id}/reply`)).text;
    // Both forms name the same draft at the same version; each says who else writes.
    expect($(marcForm)("textarea[name=body]").val()).toBe("Brouillon commun v1");
    expect($(marcForm)("input[name=draft_version]").val()).toBe($(annaForm)("input[name=draft_version]").val());
    expect(squash($(marcForm)("#presence-note").text())).toContain("Anna AIN rédige une réponse depuis");
    expect(squash($((await anna.agent.get(`/bo/conversations/${id}/reply`)).text)("#presence-note").text())).toContain("Marc DUBOIS rédige une réponse depuis");

    expect((await replyPost(anna, id, annaForm, { body: "Brouillon commun v2 d'Anna", action: "draft" })).status).toBe(303);
    const kept = await app.db("drafts").where({ conversation_id: id, side: "elsm" }).first("id", "body", "updated_at");

    const stale = await replyPost(marc, id, marcForm, { body: "Texte de Marc sur la v1", action: "draft" });
    expect(stale.status).toBe(409);
    const page = $(stale.text);
    expect(squash(page("main").text())).toContain("Rien n'a été envoyé ni enregistré : le brouillon de cette réponse a changé depuis l'ouverture de ce formulaire.");
    expect(page("textarea[name=body]").val()).toBe("Texte de Marc sur la v1");
    expect(squash(page(".draft-conflict").text())).toContain("Brouillon commun v2 d'Anna");
    expect(squash(page(".draft-conflict figcaption").text())).toContain("Anna AIN");

    const autosave = await marc.agent
      .post(`/bo/conversations/${id}/messages`)
      .set("X-Autosave", "1")
      .set("HX-Request", "true")
      .field({ ...hiddenFields(marcForm), body: "Texte de Marc, autosauvegardé", action: "draft" });
    expect(autosave.status).toBe(409);
    expect(squash($(autosave.text).root().text())).toContain("Rien n'a été écrasé");
    expect(await app.db("drafts").where({ conversation_id: id, side: "elsm" }).select("id", "body", "updated_at")).toEqual([kept]);
  });

  it("a draft saved or autosaved keeps the agent shown; their send ends it, as their discard does", async () => {
    const id = await openThread(2);
    const form = (await anna.agent.get(`/bo/conversations/${id}/reply`)).text;
    const first = await startedAt(id, "AIN");
    // Autosave (session.js): 204, the stretch goes on from the same start.
    const auto = await replyPost(anna, id, form, { body: "Brouillon automatique", action: "draft" }).set("X-Autosave", "1");
    expect(auto.status).toBe(204);
    expect(await startedAt(id, "AIN")).toBe(first);
    expect(await presenceOn(marc, `/bo/conversations/${id}`)).toContain("Anna AIN rédige une réponse");
    const draftForm = (await anna.agent.get(`/bo/conversations/${id}/reply`)).text;
    const sent = await replyPost(anna, id, draftForm, { body: "Réponse envoyée par Anna.", action: "send", confirm_no_mail: "1" });
    expect(sent.status).toBe(303);
    expect(await startedAt(id, "AIN")).toBeUndefined();
    expect(await presenceOn(marc, `/bo/conversations/${id}`)).toBe("");

    // Marc starts a draft, then discards it: no longer writing.
    const marcForm = (await marc.agent.get(`/bo/conversations/${id}/reply`)).text;
    expect((await replyPost(marc, id, marcForm, { body: "Brouillon de Marc", action: "draft" })).status).toBe(303);
    const draft = await app.db("drafts").where({ conversation_id: id, side: "elsm" }).first("id");
    expect(await presenceOn(anna, `/bo/conversations/${id}`)).toContain("Marc DUBOIS rédige une réponse");
    expect((await marc.agent.post(`/bo/drafts/${draft.id}/delete`).type("form").send({ _csrf: marc.csrf })).status).toBe(303);
    expect(await presenceOn(anna, `/bo/conversations/${id}`)).toBe("");
  });

  it("closing the thread ends everyone's; the doctor's side never says who writes", async () => {
    const id = await openThread(3);
    await anna.agent.get(`/bo/conversations/${id}/reply`);
    const c = await app.db("conversations").where({ id }).first("ps_practitioner_id");
    if (c.ps_practitioner_id) {
      const nam = (await app.db("practitioners").where({ id: c.ps_practitioner_id }).first("nam")).nam;
      const doctor = nam === drGene.nam ? await signInPs(app, drGene) : await signInPs(app, { nam });
      const seen = await doctor.agent.get(`/ps/conversations/${id}`);
      expect(seen.status).toBe(200);
      expect(seen.text).not.toContain("rédige une réponse");
    }
    expect(
      (
        await marc.agent
          .post(`/bo/conversations/${id}/close`)
          .type("form")
          .send({ _csrf: marc.csrf, reason_id: await closeReasonId(app) })
      ).status,
    ).toBe(303);
    expect(await app.db("reply_presence").where({ conversation_id: id })).toEqual([]);
  });
});

describe("the window of a few minutes", () => {
  it("a mark older than the window is not shown; a mark after such a pause starts a new stretch", async () => {
    const id = await openThread(4);
    const annaActor = await agentActor(app, "AIN");
    const marcActor = await agentActor(app, "DUBOIS");
    const t0 = new Date("2026-12-02T13:02:00.000Z");
    await markWriting(app.db, annaActor, id, t0);
    await markWriting(app.db, annaActor, id, new Date(t0.getTime() + 3 * 60_000));
    expect(await colleaguesWriting(app.db, marcActor, id, new Date(t0.getTime() + 4 * 60_000))).toEqual([{ name: "Anna AIN", since: formatTime(t0) }]);
    // Last seen at 13:05: shown until 13:10, not after.
    expect(await colleaguesWriting(app.db, marcActor, id, new Date(t0.getTime() + 3 * 60_000 + PRESENCE_WINDOW_MS))).toHaveLength(1);
    expect(await colleaguesWriting(app.db, marcActor, id, new Date(t0.getTime() + 3 * 60_000 + PRESENCE_WINDOW_MS + 1000))).toEqual([]);
    const later = new Date(t0.getTime() + 20 * 60_000);
    await markWriting(app.db, annaActor, id, later);
    expect(await colleaguesWriting(app.db, marcActor, id, later)).toEqual([{ name: "Anna AIN", since: formatTime(later) }]);
    // Never oneself.
    expect(await colleaguesWriting(app.db, annaActor, id, later)).toEqual([]);
  });
});
