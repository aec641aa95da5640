import request from "supertest";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import {
  $,
  annaAin,
  arnaud,
  bunyel,
  csrfFrom,
  drGene,
  drMezin,
  hiddenFields,
  marcDubois,
  paulHerault,
  signInAgent,
  signInPs,
  startTestApp,
  type Session,
  type TestApp,
} from "../helpers/app.js";
import { countRows as count, freshThread as aFreshThread, listRows, openCompose, postForm, practitionerId, textAll } from "../helpers/ps.js";

/**
 * Issue 15 §2: the continuous autosave (public/js/autosave.js) posts the compose form in the background with
 * `X-Autosave: 1` and the draft's id and version. Each save is answered 204 with the draft's new version; a save
 * against a newer version is refused (409) with both texts, nothing overwritten; a forged or another's draft id is a
 * 404 and creates nothing; a text over the limit is refused in French; an autosave never sends, never shows anything to
 * the other side; posted after the session expired, it is rescued into a draft after the login.
 */
let app: TestApp;
beforeAll(async () => {
  app = await startTestApp();
});
afterAll(async () => {
  await app.close();
});

const autosave = (s: Session, action: string, fields: Record<string, string>) => postForm(s, action, { ...fields, action: "draft" }).set("X-Autosave", "1");
const draftRow = (id: string | number) =>
  app
    .db("drafts")
    .where({ id: Number(id) })
    .first();

const freshThread = (subject: string) => aFreshThread(app, subject);

describe("autosave versions", () => {
  it("a doctor's new question: the first autosave creates its draft, the next one updates it at the version returned; it is listed as a draft", async () => {
    const s = await signInPs(app, drGene);
    const { html, hidden } = await openCompose(s, arnaud);
    // The polite region the script speaks in is part of the form (empty without JavaScript); the button is unchanged.
    expect($(html)("form.compose #autosave-status[aria-live=polite]").text()).toBe("");
    expect($(html)("form.compose button[name=action][value=draft]").text()).toBe("Enregistrer comme brouillon");

    const first = await autosave(s, "/ps/conversations", { ...hidden, subject: "Autosave question", body: "Premier jet" });
    expect(first.status).toBe(204);
    const id = first.headers["x-draft-id"];
    expect(first.headers["x-draft-action"]).toBe(`/ps/drafts/${id}`);
    expect(first.headers["x-draft-version"]).toBe((await draftRow(id)).updated_at);

    const second = await autosave(s, first.headers["x-draft-action"], {
      ...hidden,
      draft_id: id,
      draft_version: first.headers["x-draft-version"],
      subject: "Autosave question",
      body: "Premier jet, puis la suite",
    });
    expect(second.status).toBe(204);
    expect(second.headers["x-draft-id"]).toBe(id);
    expect(second.headers["x-draft-version"]).not.toBe(first.headers["x-draft-version"]);
    const row = await draftRow(id);
    expect(row.body).toBe("Premier jet, puis la suite");
    expect(second.headers["x-draft-version"]).toBe(row.updated_at);
    expect(await count(app.db("drafts").where({ subject: "Autosave question" }))).toBe(1);

    const list = listRows((await s.agent.get("/ps/messages")).text);
    expect(list.find((r) => r.subject.includes("Autosave question"))?.draft).toBe(true);
  });

  it("a save against a newer version (another tab) is refused with both texts; the newer draft is not overwritten", async () => {
    const s = await signInPs(app, drGene);
    const { hidden } = await openCompose(s, bunyel);
    const first = await autosave(s, "/ps/conversations", { ...hidden, subject: "Deux onglets", body: "Texte de départ" });
    const id = first.headers["x-draft-id"];
    const v1 = first.headers["x-draft-version"];
    // The other tab saves first, at v1.
    const other = await autosave(s, `/ps/drafts/${id}`, { ...hidden, draft_id: id, draft_version: v1, subject: "Deux onglets", body: "Texte de l'autre onglet" });
    expect(other.status).toBe(204);
    // This tab still shows v1.
    const stale = await autosave(s, `/ps/drafts/${id}`, { ...hidden, draft_id: id, draft_version: v1, subject: "Deux onglets", body: "Texte de cet onglet" });
    expect(stale.status).toBe(409);
    expect(stale.headers["content-type"]).toMatch(/^text\/html/);
    const region = $(stale.text)(".autosave-conflict");
    expect(region.find("h2").text()).toBe("Brouillon non enregistré : il a changé entre-temps");
    expect(textAll(stale.text, ".draft-conflict")).toContain("Texte de l'autre onglet");
    expect(textAll(stale.text, ".draft-typed")).toContain("Texte de cet onglet");
    expect(textAll(stale.text, ".autosave-conflict .notice")).toContain("Rien n'a été écrasé");
    // What the script needs to resolve it: the version now on the server, and its text to take back.
    expect(region.attr("data-draft-id")).toBe(id);
    expect(region.attr("data-draft-version")).toBe(other.headers["x-draft-version"]);
    expect(region.attr("data-body")).toBe("Texte de l'autre onglet");
    expect((await draftRow(id)).body).toBe("Texte de l'autre onglet");

    // "Garder mon texte": the next save names the version now on the server, and goes through.
    const kept = await autosave(s, `/ps/drafts/${id}`, {
      ...hidden,
      draft_id: id,
      draft_version: other.headers["x-draft-version"],
      subject: "Deux onglets",
      body: "Texte de cet onglet",
    });
    expect(kept.status).toBe(204);
    expect((await draftRow(id)).body).toBe("Texte de cet onglet");
  });

  it("two tabs of one reply: the second tab's first autosave meets the draft the first created — 409, nothing overwritten", async () => {
    const id = await freshThread("Autosave réponse deux onglets");
    const s = await signInPs(app, drGene);
    const form = hiddenFields((await s.agent.get(`/ps/conversations/${id}/reply`)).text);
    const action = `/ps/conversations/${id}/messages`;
    const a = await autosave(s, action, { ...form, body: "Onglet A" });
    expect(a.status).toBe(204);
    expect(a.headers["x-draft-action"]).toBe(action);
    const formB = hiddenFields((await s.agent.get(`/ps/conversations/${id}/reply`)).text);
    const b = await autosave(s, action, { ...formB, draft_id: "", draft_version: "", body: "Onglet B" });
    expect(b.status).toBe(409);
    expect(textAll(b.text, ".draft-conflict")).toContain("Onglet A");
    expect(textAll(b.text, ".draft-typed")).toContain("Onglet B");
    expect($(b.text)(".autosave-conflict").attr("data-draft-id")).toBe(a.headers["x-draft-id"]);
    expect(await app.db("drafts").where({ conversation_id: id }).select("body")).toEqual([{ body: "Onglet A" }]);
  });

  it("the échelon's shared reply draft: a colleague's newer save is never overwritten by an autosave at the old version", async () => {
    const id = await freshThread("Autosave réponse partagée");
    const anna = await signInAgent(app, annaAin);
    const marc = await signInAgent(app, marcDubois);
    const action = `/bo/conversations/${id}/messages`;
    const annaForm = hiddenFields((await anna.agent.get(`/bo/conversations/${id}/reply`)).text);
    const annaFirst = await autosave(anna, action, { ...annaForm, body: "Anna commence" });
    expect(annaFirst.status).toBe(204);
    // Marc opens the reply: he sees Anna's draft at its version.
    const marcForm = hiddenFields((await marc.agent.get(`/bo/conversations/${id}/reply`)).text);
    expect(marcForm.draft_version).toBe(annaFirst.headers["x-draft-version"]);
    const annaNext = { ...annaForm, draft_id: annaFirst.headers["x-draft-id"], draft_version: annaFirst.headers["x-draft-version"] };
    expect((await autosave(anna, action, { ...annaNext, body: "Anna continue" })).status).toBe(204);
    const stale = await autosave(marc, action, { ...marcForm, body: "Marc écrit par-dessus" });
    expect(stale.status).toBe(409);
    expect(textAll(stale.text, ".draft-conflict")).toContain("Anna continue");
    expect(textAll(stale.text, ".draft-conflict")).toContain("Anna AIN");
    expect(textAll(stale.text, ".draft-typed")).toContain("Marc écrit par-dessus");
    expect((await app.db("drafts").where({ conversation_id: id }).first("body")).body).toBe("Anna continue");
  });
});

describe("an autosave that cannot be written", () => {
  it("a forged draft id, another doctor's, another échelon's: 404, nothing created", async () => {
    const id = await freshThread("Autosave ids forgés");
    const gene = await signInPs(app, drGene);
    const mezin = await signInPs(app, drMezin);
    const { hidden } = await openCompose(mezin, bunyel);
    const theirs = await autosave(mezin, "/ps/conversations", { ...hidden, subject: "Brouillon du Dr MEZIN", body: "À lui" });
    expect(theirs.status).toBe(204);
    const theirId = theirs.headers["x-draft-id"];
    const before = await count(app.db("drafts"));

    const geneForm = hiddenFields((await gene.agent.get(`/ps/conversations/${id}/reply`)).text);
    for (const [action, fields] of [
      [`/ps/drafts/999999`, { draft_id: "999999", draft_version: "2026-01-01T00:00:00.000Z" }],
      [`/ps/drafts/${theirId}`, { draft_id: theirId, draft_version: theirs.headers["x-draft-version"] }],
      [`/ps/conversations/${id}/messages`, { draft_id: "999999" }],
      [`/ps/conversations/${id}/messages`, { draft_id: theirId }],
      [`/ps/conversations/${id}/messages`, { draft_id: "abc" }],
    ] as const) {
      const res = await autosave(gene, action, { ...geneForm, ...fields, subject: "Forgé", body: "Texte forgé" });
      expect(res.status, action).toBe(404);
    }
    expect((await draftRow(theirId)).body).toBe("À lui");

    // The échelon of the Hérault cannot reach a draft of the Ain's shared reply.
    const anna = await signInAgent(app, annaAin);
    const annaSaved = await autosave(anna, `/bo/conversations/${id}/messages`, {
      ...hiddenFields((await anna.agent.get(`/bo/conversations/${id}/reply`)).text),
      body: "Réponse de l'Ain",
    });
    expect(annaSaved.status).toBe(204);
    const paul = await signInAgent(app, paulHerault);
    const paulPage = await paul.agent.get("/bo/conversations/new");
    const res = await autosave(paul, `/bo/drafts/${annaSaved.headers["x-draft-id"]}`, { ...hiddenFields(paulPage.text), body: "Hérault" });
    expect(res.status).toBe(404);
    expect(await count(app.db("drafts"))).toBe(before + 1);
    expect((await draftRow(annaSaved.headers["x-draft-id"])).body).toBe("Réponse de l'Ain");
  });

  it("25,000 characters: refused with a French message (422), the draft keeps its last text, never a 500", async () => {
    const s = await signInPs(app, drGene);
    const { hidden } = await openCompose(s, arnaud);
    const first = await autosave(s, "/ps/conversations", { ...hidden, subject: "Autosave trop long", body: "Texte court" });
    const id = first.headers["x-draft-id"];
    const long = "x".repeat(25_000);
    const res = await autosave(s, `/ps/drafts/${id}`, { ...hidden, draft_id: id, draft_version: first.headers["x-draft-version"], subject: "Autosave trop long", body: long });
    expect(res.status).toBe(422);
    expect(res.headers["content-type"]).toMatch(/^text\/plain/);
    expect(res.text).toBe("Brouillon non enregistré automatiquement. Le message ne peut pas dépasser 20000 caractères (25000 saisis). Votre texte reste dans le formulaire.");
    expect((await draftRow(id)).body).toBe("Texte court");
    // A new question's first save too: nothing created.
    const before = await count(app.db("drafts"));
    const fresh = await openCompose(s, arnaud);
    expect((await autosave(s, "/ps/conversations", { ...fresh.hidden, subject: "Long d'emblée", body: long })).status).toBe(422);
    expect(await count(app.db("drafts"))).toBe(before);
  });

  it("a reply in a thread the échelon closed: refused in French, nothing written", async () => {
    const id = await freshThread("Autosave fil clos");
    const anna = await signInAgent(app, annaAin);
    const form = hiddenFields((await anna.agent.get(`/bo/conversations/${id}/reply`)).text);
    await app.db("conversations").where({ id }).update({ state: "clos", closed_at: new Date().toISOString() });
    const res = await autosave(anna, `/bo/conversations/${id}/messages`, { ...form, body: "Trop tard" });
    expect(res.status).toBe(409);
    expect(res.text).toMatch(/^Brouillon non enregistré automatiquement\. .*clos.* Votre texte reste dans le formulaire\.$/);
    expect(await count(app.db("drafts").where({ conversation_id: id }))).toBe(0);
  });
});

describe("an autosave never sends", () => {
  it("a doctor's question posted as « send » with X-Autosave is only a draft: no thread, nothing for the échelon, no mail", async () => {
    const s = await signInPs(app, drGene);
    const { hidden } = await openCompose(s, arnaud);
    const mails = await count(app.db("notifications"));
    const threads = await count(app.db("conversations"));
    const res = await postForm(s, "/ps/conversations", { ...hidden, subject: "Jamais envoyé", body: "Brouillon seulement", action: "send" }).set("X-Autosave", "1");
    expect(res.status).toBe(204);
    expect(await count(app.db("conversations"))).toBe(threads);
    expect(await count(app.db("notifications"))).toBe(mails);
    expect(await count(app.db("drafts").where({ subject: "Jamais envoyé" }))).toBe(1);
    // The échelon's trays do not show it.
    const anna = await signInAgent(app, annaAin);
    expect((await anna.agent.get("/bo/bannettes/a-traiter")).text).not.toContain("Jamais envoyé");
  });

  it("the échelon's question and reply: drafts only; the doctor sees no new thread and no new message", async () => {
    const anna = await signInAgent(app, annaAin);
    const page = await anna.agent.get("/bo/conversations/new");
    const threads = await count(app.db("conversations"));
    const question = await postForm(anna, "/bo/conversations", {
      ...hiddenFields(page.text),
      nir_od: bunyel.nir,
      subject: "Question ELSM en cours",
      body: "Début",
      action: "send",
    }).set("X-Autosave", "1");
    expect(question.status).toBe(204);
    expect(question.headers["x-draft-action"]).toBe(`/bo/drafts/${question.headers["x-draft-id"]}`);
    expect(await count(app.db("conversations"))).toBe(threads);
    // Without a recipient yet, it is saved too (the recipient is looked up when sent).
    const blank = await postForm(anna, "/bo/conversations", { ...hiddenFields(page.text), subject: "Sans destinataire", body: "Début" }).set("X-Autosave", "1");
    expect(blank.status).toBe(204);

    const id = await freshThread("Autosave réponse jamais envoyée");
    const messages = await count(app.db("messages").where({ conversation_id: id }));
    const form = hiddenFields((await anna.agent.get(`/bo/conversations/${id}/reply`)).text);
    const reply = await postForm(anna, `/bo/conversations/${id}/messages`, { ...form, body: "Réponse en cours", action: "send" }).set("X-Autosave", "1");
    expect(reply.status).toBe(204);
    expect(await count(app.db("messages").where({ conversation_id: id }))).toBe(messages);
    const gene = await signInPs(app, drGene);
    const thread = await gene.agent.get(`/ps/conversations/${id}`);
    expect(thread.text).not.toContain("Réponse en cours");
    expect((await gene.agent.get("/ps/messages")).text).not.toContain("Question ELSM en cours");
  });
});

describe("an autosave posted after the session expired", () => {
  it("is rescued: to the login page, then its text is in a draft once the doctor signs in again", async () => {
    const s = await signInPs(app, drGene);
    const { hidden } = await openCompose(s, bunyel);
    await app.db("sessions").del();
    const res = await autosave(s, "/ps/conversations", { ...hidden, subject: "Autosave expirée", body: "Tapé après l'expiration" });
    expect(res.status).toBe(303);
    expect(res.headers.location).toBe("/ps/login?expire=1");
    expect(await count(app.db("drafts").where({ subject: "Autosave expirée" }))).toBe(0);

    const login = await s.agent.get("/ps/login");
    expect(textAll(login.text, ".notice")).toContain("le texte que vous aviez saisi a été conservé en brouillon");
    const back = await s.agent
      .post("/ps/login")
      .type("form")
      .send({ _csrf: csrfFrom(login.text), card: String(await practitionerId(app, drGene)), pin: "1234" });
    expect(back.headers.location).toMatch(/^\/ps\/drafts\/\d+$/);
    const draft = $((await s.agent.get(back.headers.location)).text);
    expect(draft("input#subject").val()).toBe("Autosave expirée");
    expect(draft("textarea#body").text()).toBe("Tapé après l'expiration");
  });

  it("without any session cookie at all, an autosave is sent to the login page and writes nothing", async () => {
    const before = await count(app.db("drafts"));
    const res = await request(app.app).post("/ps/conversations").set("X-Autosave", "1").field({ subject: "Anonyme", body: "Rien", action: "draft" });
    expect(res.status).toBe(303);
    expect(await count(app.db("drafts"))).toBe(before);
  });
});
