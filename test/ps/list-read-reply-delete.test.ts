import { afterAll, beforeAll, describe, expect, it } from "vitest";
import {
  $,
  bunyel,
  drBenali,
  drGene,
  drLeroy,
  drLuanikazuzi,
  drMezin,
  drRoux,
  hiddenFields,
  marieRhone,
  moreauMsa,
  selectPatient,
  signInAgent,
  signInPs,
  startTestApp,
  type Session,
  type TestApp,
} from "../helpers/app.js";
import { conversationBySubject, elsmWrites, listRows, openCompose, postForm, textOf } from "../helpers/ps.js";

/** Each block gets its own app: reading, replying and deleting change what the next block would see. */
function freshApp() {
  const ref = {} as { app: TestApp };
  beforeAll(async () => {
    ref.app = await startTestApp();
  });
  afterAll(async () => {
    await ref.app.close();
  });
  return ref;
}

const idOf = async (app: TestApp, subject: string) => (await conversationBySubject(app, subject)).id as number;

describe("the list", () => {
  const ctx = freshApp();
  let s: Session;
  beforeAll(async () => {
    s = await signInPs(ctx.app, drGene);
  });

  it("shows the doctor's conversations newest first, after their drafts, as in the manual", async () => {
    const rows = listRows((await s.agent.get("/ps/messages")).text);
    expect(rows.map((r) => r.subject)).toEqual([
      "[Brouillon] Maladie pro - Urgent",
      "Durée arrêt de travail Lombalgie",
      "info ALD",
      "ALD - demande d'info critères HAS",
      "complément d'info PSE",
      "Arrêt de travail durée maxi",
      "RV pour échange confraternel",
    ]);
  });

  it("a question just sent comes first", async () => {
    const { hidden } = await openCompose(s, bunyel);
    const res = await postForm(s, "/ps/conversations", { ...hidden, subject: "La plus récente", body: "Bonjour", action: "send" });
    const rows = listRows((await s.agent.get("/ps/messages")).text).filter((r) => !r.draft);
    expect(rows[0]!.subject).toBe("La plus récente");
    expect(rows[0]!.href).toBe(res.headers.location);
  });

  it("badges tell who started the thread: ELSM code, or the liberal doctor's initials", async () => {
    const rows = listRows((await s.agent.get("/ps/messages")).text);
    const badge = (subject: string) => rows.find((r) => r.subject === subject)!.badge;
    expect(badge("Durée arrêt de travail Lombalgie")).toBe("ELSM 011");
    expect(badge("complément d'info PSE")).toBe("ELSM 011");
    expect(badge("info ALD")).toBe("AG");
    expect(badge("Arrêt de travail durée maxi")).toBe("AG");
  });

  it("for a structure, the badge is the first 2 letters of the raison sociale and the first 2 digits of the FINESS", async () => {
    const roux = await signInPs(ctx.app, drRoux);
    const rows = listRows((await roux.agent.get("/ps/messages")).text);
    expect(rows.find((r) => r.subject === "Suivi ALD diabète")!.badge).toBe("CE01");

    const leroy = await signInPs(ctx.app, drLeroy);
    const parc = listRows((await leroy.agent.get("/ps/messages")).text);
    expect(parc.find((r) => r.subject === "Chirurgie bariatrique - entente préalable")!.badge).toBe("CL34");
    expect(parc.find((r) => r.subject === "Questionnaire pré-opératoire")!.badge).toBe("ELSM 341");

    // A question a salaried doctor starts carries the structure's badge, not the doctor's initials.
    const { hidden } = await openCompose(roux, moreauMsa);
    await postForm(roux, "/ps/conversations", { ...hidden, subject: "Question du centre", body: "Bonjour", action: "send" });
    const benali = await signInPs(ctx.app, drBenali);
    const seen = listRows((await benali.agent.get("/ps/messages")).text);
    expect(seen.find((r) => r.subject === "Question du centre")!.badge).toBe("CE01");
  });

  it("names the patient as 'Patient(e): NAME - NIR: …', and nothing when there is none", async () => {
    const rows = listRows((await s.agent.get("/ps/messages")).text);
    expect(rows.find((r) => r.subject === "info ALD")!.lines).toEqual(["Patient(e): Guillaume BUNYEL - NIR: 1700469387111"]);
    expect(rows.find((r) => r.subject === "complément d'info PSE")!.lines).toEqual([]);
  });

  it("dates read like the manual's, in Europe/Paris time (summer and winter)", async () => {
    const rows = listRows((await s.agent.get("/ps/messages")).text);
    const dates = Object.fromEntries(rows.filter((r) => !r.draft).map((r) => [r.subject, r.date]));
    // The manual writes the day without a leading zero: "mardi, 9/04/2019 18:45".
    expect(dates).toMatchObject({
      "Durée arrêt de travail Lombalgie": "mardi, 23/04/2019 11:15",
      "info ALD": "lundi, 15/04/2019 15:14",
      "ALD - demande d'info critères HAS": "mardi, 9/04/2019 18:45",
      "complément d'info PSE": "mercredi, 13/02/2019 14:34",
      "Arrêt de travail durée maxi": "mercredi, 5/12/2018 09:30",
      "RV pour échange confraternel": "mardi, 23/01/2018 16:46",
    });
  });

  it("unread incoming threads are marked (bold) and counted in the header", async () => {
    const page = $((await s.agent.get("/ps/messages")).text);
    expect(page("#list-title").contents().first().text().trim()).toBe("Échanges médicaux (1)");
    const rows = listRows(page.html());
    expect(rows.filter((r) => r.unread).map((r) => r.subject)).toEqual(["Durée arrêt de travail Lombalgie"]);
    // The doctor's own unanswered question is not "unread" for them.
    expect(rows.find((r) => r.subject === "info ALD")!.unread).toBe(false);
  });
});

describe("opening a thread", () => {
  const ctx = freshApp();

  it("shows the thread and marks the ELSM's messages read (messages.read_at), not the doctor's own", async () => {
    const s = await signInPs(ctx.app, drGene);
    const id = await idOf(ctx.app, "Durée arrêt de travail Lombalgie");
    expect(await ctx.app.db("messages").where({ conversation_id: id, side: "elsm" }).whereNull("read_at")).toHaveLength(1);

    const page = $((await s.agent.get(`/ps/conversations/${id}`)).text);
    expect(textOf(page, "#thread-title")).toBe("Durée arrêt de travail Lombalgie");
    expect(textOf(page, ".message-elsm .author")).toBe("ELSM de l'AIN");
    expect(textOf(page, ".message-elsm .date")).toBe("mardi, 23/04/2019 11:15");
    expect(page(".message-elsm .message-body").text()).toContain("lombalgie commune");
    expect(page('a:contains("Répondre")').attr("href")).toBe(`/ps/conversations/${id}/reply`);
    expect(page('a:contains("Supprimer la conversation")').attr("href")).toBe(`/ps/conversations/${id}/delete`);

    const messages = await ctx.app.db("messages").where({ conversation_id: id, side: "elsm" });
    expect(messages.every((m) => m.read_at !== null)).toBe(true);
    const after = $((await s.agent.get("/ps/messages")).text);
    expect(after("#list-title").contents().first().text().trim()).toBe("Échanges médicaux (0)");
    expect(listRows(after.html()).some((r) => r.unread)).toBe(false);

    const own = await idOf(ctx.app, "info ALD");
    await s.agent.get(`/ps/conversations/${own}`);
    expect(await ctx.app.db("messages").where({ conversation_id: own, side: "ps" }).first("read_at")).toEqual({ read_at: null });
  });

  it("a new ELSM message makes the thread unread again and counts in the header", async () => {
    const s = await signInPs(ctx.app, drGene);
    const id = await idOf(ctx.app, "complément d'info PSE");
    await elsmWrites(ctx.app, "AIN", id, "Relance : merci de votre retour.");
    const page = $((await s.agent.get("/ps/messages")).text);
    expect(page("#list-title").contents().first().text().trim()).toBe("Échanges médicaux (1)");
    const rows = listRows(page.html());
    expect(rows.find((r) => r.subject === "complément d'info PSE")!.unread).toBe(true);
    expect(rows.filter((r) => !r.draft)[0]!.subject).toBe("complément d'info PSE");
  });
});

describe("replying", () => {
  const ctx = freshApp();

  it("RÉPONDRE opens a form without Objet; a draft reply is kept, reopened, then sent", async () => {
    const s = await signInPs(ctx.app, drGene);
    const id = await idOf(ctx.app, "Durée arrêt de travail Lombalgie");
    const form = await s.agent.get(`/ps/conversations/${id}/reply`);
    expect(form.status).toBe(200);
    const page = $(form.text);
    expect(textOf(page, "#detail h1")).toBe("Répondre");
    expect(page("form.compose input#subject").length).toBe(0);
    expect(page("form.compose textarea#body").length).toBe(1);
    expect(page("form.compose").attr("action")).toBe(`/ps/conversations/${id}/messages`);

    const saved = await postForm(s, `/ps/conversations/${id}/messages`, { ...hiddenFields(form.text), body: "Réponse en cours", action: "draft" });
    expect(saved.status).toBe(303);
    expect(saved.headers.location).toBe(`/ps/conversations/${id}/reply`);
    expect(await ctx.app.db("messages").where({ conversation_id: id })).toHaveLength(1);

    const reopened = await s.agent.get(saved.headers.location);
    const again = $(reopened.text);
    expect(again("textarea#body").text()).toBe("Réponse en cours");
    expect(again("input[name=draft_id]").length).toBe(1);

    const sent = await postForm(s, `/ps/conversations/${id}/messages`, { ...hiddenFields(reopened.text), body: "Réponse en cours, complétée.", action: "send" });
    expect(sent.status).toBe(303);
    expect(sent.headers.location).toBe(`/ps/conversations/${id}`);
    const thread = $((await s.agent.get(sent.headers.location)).text);
    expect(
      thread(".messages > li")
        .toArray()
        .map((li) => thread(li).find(".message-body").text()),
    ).toEqual([expect.stringContaining("lombalgie commune"), "Réponse en cours, complétée."]);
    expect(await ctx.app.db("drafts").where({ conversation_id: id })).toHaveLength(0);
    expect(await ctx.app.db("conversations").where({ id }).first()).toMatchObject({ state: "a_traiter", last_message_side: "ps" });
    expect(listRows((await s.agent.get("/ps/messages")).text).filter((r) => !r.draft)[0]!.subject).toBe("Durée arrêt de travail Lombalgie");
  });

  it("an empty reply is refused with one clear error about the message", async () => {
    const s = await signInPs(ctx.app, drGene);
    const id = await idOf(ctx.app, "complément d'info PSE");
    const form = await s.agent.get(`/ps/conversations/${id}/reply`);
    const res = await postForm(s, `/ps/conversations/${id}/messages`, { ...hiddenFields(form.text), body: "  ", action: "send" });
    expect(res.status).toBe(422);
    const page = $(res.text);
    expect(textOf(page, "#body-error")).toContain("Saisissez le texte du message");
    // The reply form has no Objet: the summary must not send the doctor looking for one.
    expect(
      page(".error-summary li")
        .toArray()
        .map((li) => page(li).find("a").attr("href")),
    ).toEqual(["#body"]);
    expect(page(".error-summary").text()).not.toContain("objet");
  });

  it("saving an empty reply draft is refused with an error on the message field", async () => {
    const s = await signInPs(ctx.app, drGene);
    const id = await idOf(ctx.app, "complément d'info PSE");
    const form = await s.agent.get(`/ps/conversations/${id}/reply`);
    const res = await postForm(s, `/ps/conversations/${id}/messages`, { ...hiddenFields(form.text), body: "", action: "draft" });
    expect(res.status).toBe(422);
    const page = $(res.text);
    const links = page(".error-summary li a")
      .toArray()
      .map((a) => page(a).attr("href"));
    expect(links).toHaveLength(1);
    // Every summary entry must point at a field that exists on this form.
    expect(page(links[0]!).length).toBe(1);
  });

  it("a doctor can still answer a thread the ELSM closed, which reopens it (A TRAITER)", async () => {
    const s = await signInPs(ctx.app, drLuanikazuzi);
    const id = await idOf(ctx.app, "Sans dossier");
    const form = await s.agent.get(`/ps/conversations/${id}/reply`);
    const res = await postForm(s, `/ps/conversations/${id}/messages`, { ...hiddenFields(form.text), body: "Une précision encore.", action: "send" });
    expect(res.status).toBe(303);
    expect(await ctx.app.db("conversations").where({ id }).first()).toMatchObject({ state: "a_traiter", closed_at: null, last_message_side: "ps" });
  });
});

describe("deleting a conversation", () => {
  const ctx = freshApp();

  it("asks for confirmation first: the confirmation page deletes nothing", async () => {
    const s = await signInPs(ctx.app, drGene);
    const id = await idOf(ctx.app, "RV pour échange confraternel");
    const page = $((await s.agent.get(`/ps/conversations/${id}/delete`)).text);
    expect(textOf(page, "#detail h1")).toContain("Supprimer la conversation « RV pour échange confraternel »");
    expect(page(`form[method=post][action="/ps/conversations/${id}/delete"] button`).text().trim()).toBe("Confirmer la suppression");
    expect(page('a:contains("Annuler")').attr("href")).toBe(`/ps/conversations/${id}`);
    expect((await ctx.app.db("conversations").where({ id }).first()).ps_deleted_at).toBeNull();
  });

  it("then the thread is gone from the list, 404 on every page for the doctor (a reply posted into it: refused, its text given back), but kept on the ELSM side", async () => {
    const s = await signInPs(ctx.app, drGene);
    const id = await idOf(ctx.app, "RV pour échange confraternel");
    const before = await ctx.app.db("conversations").where({ id }).first();
    const res = await s.agent.post(`/ps/conversations/${id}/delete`).type("form").send({ _csrf: s.csrf });
    expect(res.status).toBe(303);
    expect(res.headers.location).toBe("/ps/messages");
    const list = $((await s.agent.get("/ps/messages")).text);
    expect(textOf(list, ".notice")).toContain("supprimée");
    expect(listRows(list.html()).some((r) => r.subject === "RV pour échange confraternel")).toBe(false);

    expect((await s.agent.get(`/ps/conversations/${id}`)).status).toBe(404);
    expect((await s.agent.get(`/ps/conversations/${id}/reply`)).status).toBe(404);
    expect((await s.agent.get(`/ps/conversations/${id}/delete`)).status).toBe(404);
    const reply = await postForm(s, `/ps/conversations/${id}/messages`, { _csrf: s.csrf, body: "Encore là ?", action: "send" });
    expect(reply.status).toBe(410);
    expect($(reply.text)("main textarea").text()).toBe("Encore là ?");
    expect(await ctx.app.db("messages").where({ conversation_id: id })).toHaveLength(1);

    const after = await ctx.app.db("conversations").where({ id }).first();
    expect(after.ps_deleted_at).not.toBeNull();
    expect(after.state).toBe(before.state);
  });

  it("also drops the doctor's reply draft in it", async () => {
    const s = await signInPs(ctx.app, drGene);
    const id = await idOf(ctx.app, "complément d'info PSE");
    const form = await s.agent.get(`/ps/conversations/${id}/reply`);
    await postForm(s, `/ps/conversations/${id}/messages`, { ...hiddenFields(form.text), body: "Brouillon de réponse", action: "draft" });
    await s.agent.post(`/ps/conversations/${id}/delete`).type("form").send({ _csrf: s.csrf });
    expect(await ctx.app.db("drafts").where({ conversation_id: id })).toHaveLength(0);
  });

  it("a later ELSM message brings it back to the doctor, unread", async () => {
    const s = await signInPs(ctx.app, drGene);
    const id = await idOf(ctx.app, "RV pour échange confraternel");
    expect((await s.agent.get(`/ps/conversations/${id}`)).status).toBe(404);
    await elsmWrites(ctx.app, "AIN", id, "Je relance : êtes-vous disponible ?");
    const rows = listRows((await s.agent.get("/ps/messages")).text);
    const row = rows.find((r) => r.subject === "RV pour échange confraternel");
    expect(row).toBeDefined();
    expect(row!.unread).toBe(true);
    const thread = $((await s.agent.get(`/ps/conversations/${id}`)).text);
    expect(thread(".message-body").last().text()).toBe("Je relance : êtes-vous disponible ?");
  });

  it("a salaried doctor's deletion removes the thread for the whole structure", async () => {
    const roux = await signInPs(ctx.app, drRoux);
    const id = await idOf(ctx.app, "Suivi ALD diabète");
    await roux.agent.post(`/ps/conversations/${id}/delete`).type("form").send({ _csrf: roux.csrf });
    const benali = await signInPs(ctx.app, drBenali);
    expect(listRows((await benali.agent.get("/ps/messages")).text).some((r) => r.subject === "Suivi ALD diabète")).toBe(false);
    expect((await benali.agent.get(`/ps/conversations/${id}`)).status).toBe(404);
  });
});

describe("search", () => {
  const ctx = freshApp();
  let s: Session;
  beforeAll(async () => {
    s = await signInPs(ctx.app, drGene);
  });

  const subjects = async (who = s) => listRows((await who.agent.get("/ps/messages")).text).map((r) => r.subject);
  const BUNYEL = ["info ALD", "ALD - demande d'info critères HAS", "Arrêt de travail durée maxi"];

  it("has Nom and NIR fields with RÉINITIALISER and RECHERCHER", async () => {
    const page = $((await s.agent.get("/ps/messages")).text);
    const form = page('form[action="/ps/search"][method=post]');
    expect(form.find(`#${form.find('label:contains("Nom")').attr("for")}[name=nom]`).length).toBe(1);
    expect(form.find(`#${form.find('label:contains("NIR")').attr("for")}[name=nir]`).length).toBe(1);
    expect(form.find('button:contains("Rechercher")').length).toBe(1);
    expect(form.find('button:contains("Réinitialiser")').attr("formaction")).toBe("/ps/search/reset");
  });

  it("by Nom, whatever the case or accents", async () => {
    const res = await s.agent.post("/ps/search").type("form").send({ _csrf: s.csrf, nom: "bünyel", nir: "" });
    expect(res.status).toBe(303);
    expect(await subjects()).toEqual(BUNYEL);
    const page = $((await s.agent.get("/ps/messages")).text);
    expect(page("#search-nom").val()).toBe("bünyel");
  });

  it("by NIR, with or without spaces and key", async () => {
    await s.agent.post("/ps/search").type("form").send({ _csrf: s.csrf, nom: "", nir: "1 70 04 69 387 111" });
    expect(await subjects()).toEqual(BUNYEL);
    await s.agent.post("/ps/search").type("form").send({ _csrf: s.csrf, nom: "", nir: "1700469387111 72" });
    expect(await subjects()).toEqual(BUNYEL);
  });

  it("finds nothing outside the doctor's own threads", async () => {
    await s.agent.post("/ps/search").type("form").send({ _csrf: s.csrf, nom: "SOLANA", nir: "" });
    const page = $((await s.agent.get("/ps/messages")).text);
    expect(listRows(page.html())).toEqual([]);
    expect(textOf(page, "#list .empty")).toBe("Aucune conversation ne correspond à la recherche.");
  });

  it("RÉINITIALISER brings the whole list back", async () => {
    await s.agent.post("/ps/search/reset").type("form").send({ _csrf: s.csrf });
    expect(await subjects()).toContain("Durée arrêt de travail Lombalgie");
    expect(await subjects()).toContain("[Brouillon] Maladie pro - Urgent");
  });

  it("a salaried doctor finds the structure's threads by the patient's name", async () => {
    const benali = await signInPs(ctx.app, drBenali);
    await benali.agent.post("/ps/search").type("form").send({ _csrf: benali.csrf, nom: "Moreau", nir: "" });
    expect(await subjects(benali)).toEqual(["Suivi ALD diabète"]);
  });

  it("by Nom, finds a thread sent today", async () => {
    await selectPatient(s, bunyel);
    const form = await s.agent.get("/ps/conversations/new");
    const sent = await s.agent.post("/ps/conversations").field({ ...hiddenFields(form.text), subject: "Question du jour", body: "Texte", action: "send" });
    expect(sent.status).toBe(303);
    await s.agent.post("/ps/search").type("form").send({ _csrf: s.csrf, nom: "bunyel", nir: "" });
    expect(await subjects()).toEqual(["Question du jour", ...BUNYEL]);
  });
});

describe("who sees which threads", () => {
  const ctx = freshApp();

  it("salaried doctors of one structure see, open and answer each other's threads", async () => {
    const roux = await signInPs(ctx.app, drRoux);
    const { hidden } = await openCompose(roux, moreauMsa);
    const res = await postForm(roux, "/ps/conversations", { ...hidden, subject: "Posée par Dr Roux", body: "Bonjour", action: "send" });
    const id = await idOf(ctx.app, "Posée par Dr Roux");
    expect(await conversationBySubject(ctx.app, "Posée par Dr Roux")).toMatchObject({ ps_practitioner_id: null });
    expect(res.status).toBe(303);

    const benali = await signInPs(ctx.app, drBenali);
    const rows = listRows((await benali.agent.get("/ps/messages")).text);
    expect(rows.map((r) => r.subject)).toEqual(expect.arrayContaining(["Posée par Dr Roux", "Suivi ALD diabète"]));
    const thread = $((await benali.agent.get(`/ps/conversations/${id}`)).text);
    expect(textOf(thread, ".message-ps .author")).toContain("Dr Hélène ROUX");
    const form = await benali.agent.get(`/ps/conversations/${id}/reply`);
    const reply = await postForm(benali, `/ps/conversations/${id}/messages`, { ...hiddenFields(form.text), body: "Complément de Dr Benali", action: "send" });
    expect(reply.status).toBe(303);
    expect(await ctx.app.db("messages").where({ conversation_id: id })).toHaveLength(2);
  });

  it("in a structure's shared thread, each message names the salaried colleague who wrote it, on both sides", async () => {
    const id = await idOf(ctx.app, "Suivi ALD diabète");
    const benali = await signInPs(ctx.app, drBenali);
    const form = await benali.agent.get(`/ps/conversations/${id}/reply`);
    const reply = await postForm(benali, `/ps/conversations/${id}/messages`, { ...hiddenFields(form.text), body: "Réponse de Dr Benali", action: "send" });
    expect(reply.status).toBe(303);
    const authors = (html: string) => {
      const page = $(html);
      return page(".message-ps")
        .map((_, el) => page(el).find(".author").text().trim())
        .get();
    };
    const roux = await signInPs(ctx.app, drRoux);
    const expected = ["Dr Hélène ROUX — CENTRE DE SANTE LES TILLEULS", "Dr Karim BENALI — CENTRE DE SANTE LES TILLEULS"];
    expect(authors((await roux.agent.get(`/ps/conversations/${id}`)).text)).toEqual(expected);
    const agent = await signInAgent(ctx.app, marieRhone);
    expect(authors((await agent.agent.get(`/bo/conversations/${id}`)).text)).toEqual(expected);
  });

  it("a structure's threads stay out of other structures' and liberal doctors' reach", async () => {
    const id = await idOf(ctx.app, "Suivi ALD diabète");
    for (const who of [drLeroy, drGene]) {
      const s = await signInPs(ctx.app, who);
      expect(listRows((await s.agent.get("/ps/messages")).text).some((r) => r.subject === "Suivi ALD diabète")).toBe(false);
      expect((await s.agent.get(`/ps/conversations/${id}`)).status).toBe(404);
    }
  });

  it("liberal doctors see only their own threads", async () => {
    const mezin = await signInPs(ctx.app, drMezin);
    expect(listRows((await mezin.agent.get("/ps/messages")).text).map((r) => r.subject)).toEqual(["Recherche"]);
    const gene = await signInPs(ctx.app, drGene);
    const geneRows = listRows((await gene.agent.get("/ps/messages")).text).map((r) => r.subject);
    expect(geneRows).not.toContain("Recherche");
    expect(geneRows).not.toContain("Sans dossier");
  });
});

describe("with htmx", () => {
  const ctx = freshApp();

  it("the same URL answers a partial request with the fragment only, and says it varies on it", async () => {
    const s = await signInPs(ctx.app, drGene);
    const full = await s.agent.get("/ps/messages");
    const partial = await s.agent.get("/ps/messages").set("HX-Request", "true").set("HX-Request-Type", "partial");
    expect(partial.status).toBe(200);
    expect(partial.headers.vary).toMatch(/HX-Request/i);
    const fragment = $(partial.text);
    expect(fragment("html > body > header.banner").length).toBe(0);
    expect(partial.text).not.toMatch(/<!doctype html>/i);
    expect(listRows(partial.text)).toEqual(listRows(full.text));
    expect($(full.text)("header.banner").length).toBe(1);
  });
});
