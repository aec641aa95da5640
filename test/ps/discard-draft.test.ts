import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { $, annaAin, bunyel, drGene, drMezin, fixture, hiddenFields, signInAgent, signInPs, startTestApp, type Session, type TestApp } from "../helpers/app.js";
import { conversationBySubject, listRows, openCompose, postForm, textOf } from "../helpers/ps.js";

/** Supprimer ce brouillon: a draft with attachments is discarded only after a confirmation (a page without JavaScript). */
let app: TestApp;
let gene: Session;
beforeAll(async () => {
  app = await startTestApp();
  gene = await signInPs(app, drGene);
});
afterAll(async () => {
  await app.close();
});

const pdf = { path: fixture("valid", "compte-rendu.pdf") };
const png = { path: fixture("valid", "radio.png") };

async function psDraft(subject: string, files: { path: string }[]) {
  const { hidden } = await openCompose(gene, bunyel);
  const saved = await postForm(gene, "/ps/conversations", { ...hidden, subject, body: "Texte", action: "draft" }, files);
  expect(saved.status).toBe(303);
  return saved.headers.location as string;
}

describe("the doctor's draft", () => {
  it("with attachments: Supprimer ce brouillon leads to « Supprimer ce brouillon et ses 2 pièces jointes ? », a confirm post and a cancel link", async () => {
    const href = await psDraft("Deux PJ à jeter", [pdf, png]);
    const page = $((await gene.agent.get(href)).text);
    expect(page("form.discard").length).toBe(0);
    const link = page("a:contains('Supprimer ce brouillon')");
    expect(link.attr("href")).toBe(`${href}/delete`);

    const confirm = await gene.agent.get(link.attr("href")!);
    expect(confirm.status).toBe(200);
    const question = $(confirm.text);
    expect(textOf(question, "#detail h1")).toBe("Supprimer ce brouillon et ses 2 pièces jointes ?");
    expect(question("#detail a:contains('Annuler')").attr("href")).toBe(href);
    expect(question("#detail form").attr("method")).toBe("post");
    expect(question("#detail form").attr("action")).toBe(`${href}/delete`);
    expect(question("#detail form button[type=submit]").text().trim()).toBe("Confirmer la suppression");
    // Asking changed nothing: the draft is still listed.
    expect(listRows(confirm.text).some((r) => r.subject === "[Brouillon] Deux PJ à jeter")).toBe(true);

    const res = await gene.agent
      .post(question("#detail form").attr("action")!)
      .type("form")
      .send({ _csrf: question("#detail form input[name=_csrf]").val() });
    expect(res.status).toBe(303);
    const after = await gene.agent.get(res.headers.location);
    expect(textOf($(after.text), ".notice")).toBe("Le brouillon a été supprimé.");
    expect(listRows(after.text).some((r) => r.subject === "[Brouillon] Deux PJ à jeter")).toBe(false);
    expect((await gene.agent.get(href)).status).toBe(404);
  });

  it("one attachment: « Supprimer ce brouillon et sa pièce jointe ? »", async () => {
    const href = await psDraft("Une PJ à jeter", [pdf]);
    const question = $((await gene.agent.get(`${href}/delete`)).text);
    expect(textOf(question, "#detail h1")).toBe("Supprimer ce brouillon et sa pièce jointe ?");
  });

  it("the compose page also holds the same question in a closed dialog, for JavaScript", async () => {
    const href = await psDraft("Dialogue PJ", [pdf, png]);
    const page = $((await gene.agent.get(href)).text);
    const dialog = page("dialog#discard-dialog");
    expect(dialog.attr("open")).toBeUndefined();
    expect(textOf(page, "dialog#discard-dialog h2")).toBe("Supprimer ce brouillon et ses 2 pièces jointes ?");
    expect(dialog.find("form").attr("action")).toBe(`${href}/delete`);
    expect(page("a[data-opens-dialog=discard-dialog]").attr("href")).toBe(`${href}/delete`);
  });

  it("Annuler goes back to the draft, untouched", async () => {
    const href = await psDraft("PJ gardée", [pdf]);
    const question = $((await gene.agent.get(`${href}/delete`)).text);
    const back = await gene.agent.get(question("#detail a:contains('Annuler')").attr("href")!);
    expect(back.status).toBe(200);
    expect($(back.text)("input#subject").val()).toBe("PJ gardée");
    expect($(back.text)(".attached a").text()).toBe("compte-rendu.pdf");
  });

  it("without attachments: discarded directly by its button", async () => {
    const href = await psDraft("Sans PJ à jeter", []);
    const page = $((await gene.agent.get(href)).text);
    const form = page("form.discard");
    expect(form.attr("action")).toBe(`${href}/delete`);
    expect(form.find("button").text().trim()).toBe("Supprimer ce brouillon");
    const res = await gene.agent.post(form.attr("action")!).type("form").send({ _csrf: gene.csrf });
    expect(res.status).toBe(303);
    expect((await gene.agent.get(href)).status).toBe(404);
  });

  it("a reply draft with an attachment asks too, and Annuler returns to the reply page", async () => {
    const c = await conversationBySubject(app, "Durée arrêt de travail Lombalgie");
    const form = await gene.agent.get(`/ps/conversations/${c.id}/reply`);
    await postForm(gene, `/ps/conversations/${c.id}/messages`, { ...hiddenFields(form.text), body: "Réponse avec PJ", action: "draft" }, [pdf]);
    const reply = $((await gene.agent.get(`/ps/conversations/${c.id}/reply`)).text);
    const link = reply("a[data-opens-dialog]");
    const question = $((await gene.agent.get(link.attr("href")!)).text);
    expect(textOf(question, "#detail h1")).toBe("Supprimer ce brouillon et sa pièce jointe ?");
    expect(question("#detail a:contains('Annuler')").attr("href")).toBe(`/ps/conversations/${c.id}/reply`);
    const res = await gene.agent.post(question("#detail form").attr("action")!).type("form").send({ _csrf: gene.csrf });
    expect(res.headers.location).toBe(`/ps/conversations/${c.id}`);
    expect(await app.db("drafts").where({ conversation_id: c.id, side: "ps" })).toHaveLength(0);
  });

  it("another doctor gets 404 for the question page", async () => {
    const href = await psDraft("PJ privée", [pdf]);
    const mezin = await signInPs(app, drMezin);
    const res = await mezin.agent.get(`${href}/delete`);
    expect(res.status).toBe(404);
    expect(res.text).not.toContain("PJ privée");
  });
});

describe("the back office's draft", () => {
  it("a question draft with attachments asks « Supprimer ce brouillon et ses 2 pièces jointes ? » first, then is discarded", async () => {
    const anna = await signInAgent(app, annaAin);
    const blank = await anna.agent.get("/bo/conversations/new");
    const guillaume = await app.db("patients").where({ nir: bunyel.nir, first_name: "Guillaume" }).first("id");
    const saved = await postForm(
      anna,
      "/bo/conversations",
      { ...hiddenFields(blank.text), nir_od: bunyel.nir, patient: String(guillaume.id), subject: "Question ELSM à jeter", body: "Texte", action: "draft" },
      [pdf, png],
    );
    expect(saved.status).toBe(303);
    const href = saved.headers.location as string;
    const page = $((await anna.agent.get(href)).text);
    const link = page("a[data-opens-dialog]");
    expect(link.text().trim()).toBe("Supprimer ce brouillon");
    const question = $((await anna.agent.get(link.attr("href")!)).text);
    expect(textOf(question, "#detail h1")).toBe("Supprimer ce brouillon et ses 2 pièces jointes ?");
    expect(question("#detail a:contains('Annuler')").attr("href")).toBe(href);
    const res = await anna.agent.post(question("#detail form").attr("action")!).type("form").send({ _csrf: anna.csrf });
    expect(res.status).toBe(303);
    expect((await anna.agent.get(href)).status).toBe(404);
  });
});
