import { textAll } from "../helpers/ps.js";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import {
  $,
  annaAin,
  bunyel,
  drGene,
  drLeroy,
  drMartin,
  drRoux,
  fixture,
  hiddenFields,
  paulHerault,
  signInAgent,
  signInPs,
  startTestApp,
  type Session,
  type TestApp,
} from "../helpers/app.js";

let app: TestApp;
beforeAll(async () => {
  app = await startTestApp();
});
afterAll(async () => {
  await app.close();
});

const text = textAll;

/** The id of one of the beneficiaries under a NIR (Bunyel's has three: the agent chooses one, as a doctor does). */
async function beneficiary(nir: string, firstName: string): Promise<string> {
  return String((await app.db("patients").where({ nir, first_name: firstName }).first("id")).id);
}

/** Fills the recipient, asks to see it (as the agent would), then posts the form with `fields`. */
async function writeTo(s: Session, recipient: { nir_od?: string; destinataire?: string; patient?: string }, fields: Record<string, string>, files: string[] = []) {
  const blank = await s.agent.get("/bo/conversations/new");
  const shown = await s.agent.post("/bo/conversations").field({ ...hiddenFields(blank.text), ...recipient, action: "lookup" });
  let req = s.agent.post("/bo/conversations").field({ ...hiddenFields(shown.text), ...recipient, ...fields });
  for (const f of files) req = req.attach("attachments", f);
  return { shown, res: await req };
}

describe("writing to a doctor or a structure", () => {
  it("by NIR OD shows the patient's médecin traitant before sending, then sends to him with the patient", async () => {
    const anna = await signInAgent(app, annaAin);
    const { shown, res } = await writeTo(
      anna,
      { nir_od: bunyel.nir, patient: await beneficiary(bunyel.nir, "Guillaume") },
      { subject: "Question ELSM", body: "Bonjour Docteur", action: "send" },
      [fixture("valid", "releve.xlsx")],
    );
    expect(shown.status).toBe(200);
    expect(text(shown.text, ".recipient")).toContain("Dr GENE Alain");
    expect(text(shown.text, ".patient-card")).toContain("Guillaume BUNYEL");
    expect(res.status).toBe(303);
    const id = Number(res.headers.location.split("/").pop());
    const conversation = await app.db("conversations").where({ id }).first();
    const gene = await app.db("practitioners").where({ nam: "991101197" }).first();
    expect(conversation).toMatchObject({ ps_practitioner_id: gene.id, started_by: "elsm", state: "en_cours" });
    expect(conversation.patient_id).not.toBeNull();

    const doctor = await signInPs(app, drGene);
    const list = $((await doctor.agent.get("/ps/messages")).text);
    const row = list(`a[href="/ps/conversations/${id}"]`).closest(".item");
    expect(row.hasClass("unread")).toBe(true);
    expect(row.find(".badge").text()).toContain("ELSM 011");
    const thread = await doctor.agent.get(`/ps/conversations/${id}`);
    expect($(thread.text)(".attachments a").text()).toBe("releve.xlsx");
  });

  it("does not send before the recipient has been shown", async () => {
    const anna = await signInAgent(app, annaAin);
    const blank = await anna.agent.get("/bo/conversations/new");
    const before = await app.db("messages").count({ n: "*" }).first();
    const guillaume = await beneficiary(bunyel.nir, "Guillaume");
    const res = await anna.agent
      .post("/bo/conversations")
      .field({ ...hiddenFields(blank.text), nir_od: bunyel.nir, patient: guillaume, subject: "Sans vérifier", body: "Texte", action: "send" });
    expect(res.status).toBe(422);
    expect(text(res.text, ".notice")).toContain("Vérifiez le destinataire");
    expect(text(res.text, ".recipient")).toContain("Dr GENE Alain");
    expect($(res.text)("#subject").val()).toBe("Sans vérifier");
    expect(await app.db("messages").count({ n: "*" }).first()).toEqual(before);
    const resend = await anna.agent
      .post("/bo/conversations")
      .field({ ...hiddenFields(res.text), nir_od: bunyel.nir, patient: guillaume, subject: "Sans vérifier", body: "Texte", action: "send" });
    expect(resend.status).toBe(303);
  });

  it("by NIR OD of a patient whose médecin traitant is salaried goes to the structure", async () => {
    const rhone = await signInAgent(app, { lastName: "RHONE" });
    const { shown, res } = await writeTo(rhone, { nir_od: "2450201053456" }, { subject: "Pour le centre", body: "Bonjour", action: "send" });
    expect(text(shown.text, ".recipient")).toContain("CENTRE DE SANTE LES TILLEULS");
    expect(res.status).toBe(303);
    const id = Number(res.headers.location.split("/").pop());
    const roux = await signInPs(app, drRoux);
    expect((await roux.agent.get(`/ps/conversations/${id}`)).status).toBe(200);
  });

  it("by N°AM writes a general question (no patient) to a liberal doctor", async () => {
    const anna = await signInAgent(app, annaAin);
    const { res } = await writeTo(anna, { destinataire: "381711787" }, { subject: "Question générale", body: "Bonjour", action: "send" });
    expect(res.status).toBe(303);
    const id = Number(res.headers.location.split("/").pop());
    expect(await app.db("conversations").where({ id }).first()).toMatchObject({ patient_id: null });
  });

  it("by FINESS writes to an establishment, and its bariatric surgeon sees it", async () => {
    const paul = await signInAgent(app, paulHerault);
    const { res } = await writeTo(paul, { destinataire: "340098765" }, { subject: "Pour la clinique", body: "Bonjour", action: "send" });
    expect(res.status).toBe(303);
    const id = Number(res.headers.location.split("/").pop());
    const leroy = await signInPs(app, drLeroy);
    expect((await leroy.agent.get(`/ps/conversations/${id}`)).status).toBe(200);
  });

  it("saves an incomplete draft, lists it as [Brouillon] in EN COURS, and sends it later", async () => {
    const anna = await signInAgent(app, annaAin);
    const { res } = await writeTo(anna, { destinataire: "991101197" }, { subject: "Brouillon ELSM", body: "", action: "draft" });
    expect(res.status).toBe(303);
    const draftUrl = res.headers.location;
    expect(draftUrl).toMatch(/^\/bo\/drafts\/\d+$/);
    const tray = $((await anna.agent.get("/bo/bannettes/en-cours")).text);
    expect(tray("#list .item.draft").text()).toContain("Brouillon ELSM");
    const reopened = await anna.agent.get(draftUrl);
    expect($(reopened.text)("#subject").val()).toBe("Brouillon ELSM");
    expect($(reopened.text)("#destinataire").val()).toBe("991101197");
    const sent = await anna.agent.post(draftUrl).field({ ...hiddenFields(reopened.text), destinataire: "991101197", subject: "Brouillon ELSM", body: "Complété", action: "send" });
    expect(sent.status).toBe(303);
    expect(sent.headers.location).toMatch(/^\/bo\/conversations\/\d+$/);
    expect((await anna.agent.get(draftUrl)).status).toBe(404);
  });

  it("sends a content-free notification to the recipient's mailbox", async () => {
    const anna = await signInAgent(app, annaAin);
    const { res } = await writeTo(anna, { destinataire: "991101197" }, { subject: "Objet secret", body: "Corps secret", action: "send" });
    const id = Number(res.headers.location.split("/").pop());
    const n = await app.db("notifications").where({ conversation_id: id }).first();
    expect(n.email).toBe("alain.gene@medecin.example");
  });
});

describe("bad input when writing", () => {
  const cases: [string, Record<string, string>, string, string][] = [
    ["an unknown NIR OD", { nir_od: "1991299999999" }, "nir_od", "Aucun patient rattaché à votre échelon"],
    ["a malformed NIR OD", { nir_od: "17004ABC" }, "nir_od", "13 caractères"],
    ["a patient without a médecin traitant", { nir_od: "1900534172789" }, "nir_od", "n'a pas déclaré de médecin traitant"],
    ["an unknown N°AM or FINESS", { destinataire: "123456789" }, "destinataire", "Aucun médecin (N°AM) ni aucune structure (FINESS)"],
    ["a recipient without a mailbox", { destinataire: "011234567" }, "destinataire", "n'a pas de boîte mail de notification active"],
    ["a recipient without a mailbox, in the masculine for a doctor", { destinataire: "011234567" }, "destinataire", "ce médecin ne peut pas être prévenu d'un message"],
    ["a salaried doctor's N°AM", { destinataire: "011500011" }, "destinataire", "on ne peut pas écrire à un médecin salarié en particulier"],
    ["no recipient at all", {}, "nir_od", "Indiquez le destinataire"],
  ];
  for (const [label, recipient, field, message] of cases) {
    it(`refuses ${label} with a clear message and keeps the typed text`, async () => {
      const agent = label.includes("médecin traitant") ? await signInAgent(app, paulHerault) : await signInAgent(app, annaAin);
      const blank = await agent.agent.get("/bo/conversations/new");
      const res = await agent.agent.post("/bo/conversations").field({ ...hiddenFields(blank.text), ...recipient, subject: "Objet tapé", body: "Message tapé", action: "send" });
      expect(res.status).toBe(422);
      expect(text(res.text, `#${field}-error`)).toContain(message);
      expect($(res.text)(`#${field}`).attr("aria-invalid")).toBe("true");
      expect(text(res.text, ".error-summary")).toContain(message);
      expect($(res.text)("#subject").val()).toBe("Objet tapé");
      expect($(res.text)("#body").text()).toBe("Message tapé");
    });
  }

  it("keeps the valid attachment and the text in the form, with no draft, when the recipient is refused, and sends once it is right", async () => {
    const anna = await signInAgent(app, annaAin);
    const drafts = await app.db("drafts").count({ n: "*" }).first();
    const blank = await anna.agent.get("/bo/conversations/new");
    const res = await anna.agent
      .post("/bo/conversations")
      .field({ ...hiddenFields(blank.text), destinataire: "123456789", subject: "Avec pièce", body: "Texte", action: "send" })
      .attach("attachments", fixture("valid", "compte-rendu.pdf"));
    expect(res.status).toBe(422);
    const page = $(res.text);
    expect(page("#destinataire-error").text()).toContain("Aucun médecin");
    expect(page("#destinataire").val()).toBe("123456789");
    expect(text(res.text, ".attached li")).toContain("compte-rendu.pdf");
    expect(page("#subject").val()).toBe("Avec pièce");
    expect(page("form.compose").attr("action")).toBe("/bo/conversations");
    expect(res.headers["hx-replace-url"]).toBeUndefined();
    expect(await app.db("drafts").count({ n: "*" }).first()).toEqual(drafts);
    const fixed = await anna.agent
      .post(page("form.compose").attr("action")!)
      .field({ ...hiddenFields(res.text), destinataire: "991101197", subject: "Avec pièce", body: "Texte", action: "lookup" });
    expect(text(fixed.text, ".attached li")).toContain("compte-rendu.pdf");
    const sent = await anna.agent
      .post($(fixed.text)("form.compose").attr("action")!)
      .field({ ...hiddenFields(fixed.text), destinataire: "991101197", subject: "Avec pièce", body: "Texte", action: "send" });
    expect(sent.status).toBe(303);
    const thread = await anna.agent.get(sent.headers.location);
    expect($(thread.text)(".attachments a").text()).toBe("compte-rendu.pdf");
    expect(await app.db("drafts").count({ n: "*" }).first()).toEqual(drafts);
  });

  it("a recipient without mailbox is refused by NIR OD too (the médecin traitant has none)", async () => {
    const paul = await signInAgent(app, paulHerault);
    const blank = await paul.agent.get("/bo/conversations/new");
    const res = await paul.agent.post("/bo/conversations").field({ ...hiddenFields(blank.text), nir_od: "278052A012034", subject: "x", body: "y", action: "lookup" });
    expect(res.status).toBe(422);
    expect(text(res.text, "#nir_od-error")).toContain("Dr Sophie MARTIN n'a pas de boîte mail");
  });

  it("another ELSM's draft is a 404", async () => {
    const anna = await signInAgent(app, annaAin);
    const { res } = await writeTo(anna, { destinataire: "991101197" }, { subject: "Brouillon d'Anna", body: "", action: "draft" });
    const paul = await signInAgent(app, paulHerault);
    expect((await paul.agent.get(res.headers.location)).status).toBe(404);
    const doctor = await signInPs(app, drMartin);
    expect((await doctor.agent.get(res.headers.location)).status).toBe(404);
  });
});
