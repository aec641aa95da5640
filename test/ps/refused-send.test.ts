import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { $, bunyel, drGene, fixture, hiddenFields, signInPs, startTestApp, type Session, type TestApp } from "../helpers/app.js";
import { conversationBySubject, listRows, openCompose, postForm, textOf } from "../helpers/ps.js";

/** ENVOYER refused (a file refused, a field missing): what was kept in a draft is said on the page and shown in the list. */
let app: TestApp;
let s: Session;
beforeAll(async () => {
  app = await startTestApp();
  s = await signInPs(app, drGene);
});
afterAll(async () => {
  await app.close();
});

const KEPT = "Votre texte et vos pièces jointes valides sont conservés dans un brouillon.";
const refusedFile = { path: fixture("hostile", "ordonnance.pdf") };
const validFile = { path: fixture("valid", "compte-rendu.pdf") };
const htmx = { "HX-Request": "true", "HX-Request-Type": "partial" };

describe("a doctor's question refused on ENVOYER", () => {
  it("with a refused attachment: the page says the message was not sent and kept in a draft, and the list shows that draft", async () => {
    const { hidden } = await openCompose(s, bunyel);
    const res = await postForm(s, "/ps/conversations", { ...hidden, subject: "Envoi avec PJ refusée", body: "Texte", action: "send" }, [refusedFile, validFile]);
    expect(res.status).toBe(422);
    const page = $(res.text);
    expect(textOf(page, "#detail .notice")).toBe(`Message non envoyé : un fichier a été refusé. ${KEPT}`);
    const draft = await app.db("drafts").where({ subject: "Envoi avec PJ refusée" }).first();
    const row = listRows(res.text).find((r) => r.subject === "[Brouillon] Envoi avec PJ refusée");
    expect(row?.href).toBe(`/ps/drafts/${draft.id}`);
    expect(page(`#list a[href="/ps/drafts/${draft.id}"]`).attr("aria-current")).toBe("page");
    expect(await conversationBySubject(app, "Envoi avec PJ refusée")).toBeUndefined();
  });

  it("the same post made by htmx answers the fragment with the notice and the draft row, and names the draft's address", async () => {
    const { hidden } = await openCompose(s, bunyel);
    const res = await postForm(s, "/ps/conversations", { ...hidden, subject: "Envoi htmx PJ refusée", body: "Texte", action: "send" }, [refusedFile]).set(htmx);
    expect(res.status).toBe(422);
    expect(res.text).not.toContain("<html");
    const draft = await app.db("drafts").where({ subject: "Envoi htmx PJ refusée" }).first();
    expect(res.headers["hx-replace-url"]).toBe(`/ps/drafts/${draft.id}`);
    const page = $(res.text);
    expect(textOf(page, "#detail .notice")).toBe(`Message non envoyé : un fichier a été refusé. ${KEPT}`);
    expect(listRows(res.text).some((r) => r.subject === "[Brouillon] Envoi htmx PJ refusée")).toBe(true);
  });

  it("without its message: the objet typed is kept in a draft, and the page says so", async () => {
    const { hidden } = await openCompose(s, bunyel);
    const res = await postForm(s, "/ps/conversations", { ...hidden, subject: "Objet seul gardé", body: "", action: "send" });
    expect(res.status).toBe(422);
    expect(textOf($(res.text), "#detail .notice")).toBe(`Message non envoyé : un champ est à corriger. ${KEPT}`);
    expect(listRows(res.text).some((r) => r.subject === "[Brouillon] Objet seul gardé")).toBe(true);
  });

  it("with nothing typed: nothing is kept, and no draft notice is shown", async () => {
    const { hidden } = await openCompose(s, bunyel);
    const before = await app.db("drafts").count<{ n: number }[]>({ n: "*" });
    const res = await postForm(s, "/ps/conversations", { ...hidden, subject: "", body: "", action: "send" });
    expect(res.status).toBe(422);
    expect($(res.text)("#detail .notice").length).toBe(0);
    expect(await app.db("drafts").count<{ n: number }[]>({ n: "*" })).toEqual(before);
  });

  it("ENREGISTRER COMME BROUILLON with a refused attachment says the draft was saved without it", async () => {
    const { hidden } = await openCompose(s, bunyel);
    const res = await postForm(s, "/ps/conversations", { ...hidden, subject: "Brouillon PJ refusée", body: "Texte", action: "draft" }, [refusedFile]);
    expect(res.status).toBe(422);
    expect(textOf($(res.text), "#detail .notice")).toBe("Brouillon enregistré avec votre texte et vos pièces jointes valides, mais un fichier a été refusé.");
    expect(listRows(res.text).some((r) => r.subject === "[Brouillon] Brouillon PJ refusée")).toBe(true);
  });
});

describe("a doctor's reply refused on ENVOYER", () => {
  it("with a refused attachment: the page says so, and the thread's row carries the [Brouillon] tag", async () => {
    const c = await conversationBySubject(app, "Durée arrêt de travail Lombalgie");
    const form = await s.agent.get(`/ps/conversations/${c.id}/reply`);
    const res = await postForm(s, `/ps/conversations/${c.id}/messages`, { ...hiddenFields(form.text), body: "Réponse gardée", action: "send" }, [refusedFile]).set(htmx);
    expect(res.status).toBe(422);
    expect(textOf($(res.text), "#detail .notice")).toBe(`Message non envoyé : un fichier a été refusé. ${KEPT}`);
    expect(listRows(res.text).find((r) => r.href === `/ps/conversations/${c.id}`)?.subject).toBe("[Brouillon] Durée arrêt de travail Lombalgie");
    expect(await app.db("drafts").where({ conversation_id: c.id, body: "Réponse gardée" })).toHaveLength(1);
  });
});
