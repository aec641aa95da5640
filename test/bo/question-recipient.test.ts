import { textAll } from "../helpers/ps.js";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { $, annaAin, bunyel, fixture, hiddenFields, marcDubois, signInAgent, solana, startTestApp, type Session, type TestApp } from "../helpers/app.js";

/** Issue 10: the échelon's question refused for its recipient (§4), both ways of naming it typed (§6), a NIR OD of several beneficiaries (§12). */
let app: TestApp;
beforeAll(async () => {
  app = await startTestApp();
});
afterAll(async () => {
  await app.close();
});

const text = textAll;

async function newQuestion(s: Session, fields: Record<string, string>, files: string[] = []) {
  const blank = await s.agent.get("/bo/conversations/new");
  let req = s.agent.post("/bo/conversations").field({ ...hiddenFields(blank.text), ...fields });
  for (const f of files) req = req.attach("attachments", f);
  return req;
}

/** The subjects of the drafts an agent sees in EN COURS. */
async function draftsInEnCours(s: Session): Promise<string[]> {
  const tray = $((await s.agent.get("/bo/bannettes/en-cours")).text);
  return tray("#list .item.draft .item-subject")
    .map((_, el) => tray(el).text().trim())
    .get();
}

async function patientId(nir: string, firstName: string): Promise<string> {
  return String((await app.db("patients").where({ nir, first_name: firstName }).first("id")).id);
}

describe("an échelon's question refused for its recipient", () => {
  const refusals: [string, Record<string, string>, string, string][] = [
    ["a doctor without a notification mailbox", { destinataire: "011234567" }, "destinataire", "n'a pas de boîte mail de notification"],
    ["an unknown N°AM or FINESS", { destinataire: "123456789" }, "destinataire", "Aucun médecin (N°AM) ni aucune structure"],
    ["a send before the recipient was shown", { destinataire: "991101197" }, "destinataire", ""],
  ];
  for (const [label, recipient, field, message] of refusals) {
    it(`(${label}) comes back with everything typed and leaves no [Brouillon] in EN COURS, for its author or a colleague`, async () => {
      const anna = await signInAgent(app, annaAin);
      const subject = `Refusé : ${label}`;
      const res = await newQuestion(anna, { ...recipient, subject, body: "Message tapé", action: "send" }, [fixture("valid", "compte-rendu.pdf")]);
      expect(res.status).toBe(422);
      const page = $(res.text);
      if (message) expect(text(res.text, `#${field}-error`)).toContain(message);
      else expect(text(res.text, ".notice")).toContain("Vérifiez le destinataire");
      expect(page(`#${field}`).val()).toBe(recipient[field]);
      expect(page("#subject").val()).toBe(subject);
      expect(page("#body").text()).toBe("Message tapé");
      expect(text(res.text, ".attached li")).toContain("compte-rendu.pdf");
      expect(page('input[name="draft_id"]').length).toBe(0);
      expect(page(".discard").length).toBe(0);
      expect(await app.db("drafts").where({ subject }).first()).toBeUndefined();
      expect(await draftsInEnCours(anna)).not.toContain(subject);
      expect(await draftsInEnCours(await signInAgent(app, marcDubois))).not.toContain(subject);
    });
  }

  it("a file held by one agent's form cannot be claimed by a colleague posting the same field", async () => {
    const anna = await signInAgent(app, annaAin);
    const refused = await newQuestion(anna, { destinataire: "123456789", subject: "Pièce d'Anna", body: "x", action: "send" }, [fixture("valid", "compte-rendu.pdf")]);
    const stolen = hiddenFields(refused.text)._files;
    expect(stolen).toBeTruthy();
    const marc = await signInAgent(app, marcDubois);
    const res = await newQuestion(marc, { _files: stolen!, destinataire: "991101197", subject: "Pièce volée", body: "x", action: "draft" });
    expect(res.status).toBe(303);
    const draft = await app.db("drafts").where({ subject: "Pièce volée" }).first();
    expect(await app.db("attachments").where({ draft_id: draft.id }).pluck("id")).toEqual([]);
  });

  it("a held file ticked Retirer is not sent", async () => {
    const anna = await signInAgent(app, annaAin);
    const refused = await newQuestion(anna, { destinataire: "123456789", subject: "Pièce retirée", body: "x", action: "send" }, [fixture("valid", "compte-rendu.pdf")]);
    const key = $(refused.text)('input[name="remove_held"]').val() as string;
    const shown = await anna.agent
      .post("/bo/conversations")
      .field({ ...hiddenFields(refused.text), remove_held: key, destinataire: "991101197", subject: "Pièce retirée", body: "x", action: "lookup" });
    expect(text(shown.text, ".attached li")).toBe("");
    const sent = await anna.agent.post("/bo/conversations").field({ ...hiddenFields(shown.text), destinataire: "991101197", subject: "Pièce retirée", body: "x", action: "send" });
    expect(sent.status).toBe(303);
    const id = Number(sent.headers.location.split("/").pop());
    const [message] = await app.db("messages").where({ conversation_id: id });
    expect(await app.db("attachments").where({ message_id: message.id }).pluck("id")).toEqual([]);
  });

  it("saved with ENREGISTRER COMME BROUILLON, a draft that says it has no recipient, the N°AM typed kept in the form", async () => {
    const anna = await signInAgent(app, annaAin);
    const res = await newQuestion(anna, { destinataire: "123456789", subject: "Brouillon sans destinataire", body: "x", action: "draft" });
    expect(res.status).toBe(422);
    expect(text(res.text, ".notice")).toContain("Le brouillon a été enregistré sans destinataire");
    expect($(res.text)("#destinataire").val()).toBe("123456789");
    const tray = $((await (await signInAgent(app, marcDubois)).agent.get("/bo/bannettes/en-cours")).text);
    const row = tray("#list .item.draft").filter((_, el) => tray(el).text().includes("Brouillon sans destinataire"));
    expect(row.text()).toContain("Destinataire : non renseigné");
  });
});

describe("an échelon's question with a NIR OD and an N°AM / FINESS both typed", () => {
  for (const action of ["lookup", "send"]) {
    it(`(${action}) asks which one to use, with an error on both fields, keeps both and sends nothing`, async () => {
      const anna = await signInAgent(app, annaAin);
      const before = await app.db("messages").count({ n: "*" }).first();
      const res = await newQuestion(anna, { nir_od: solana.nir, destinataire: "991101197", subject: "Les deux", body: "x", action });
      expect(res.status).toBe(422);
      const page = $(res.text);
      expect(text(res.text, "#nir_od-error")).toContain("Un N°AM ou FINESS est aussi saisi");
      expect(text(res.text, "#destinataire-error")).toContain("Un NIR OD est aussi saisi");
      expect(page("#nir_od").attr("aria-invalid")).toBe("true");
      expect(page("#destinataire").attr("aria-invalid")).toBe("true");
      expect(page(".error-summary li").length).toBe(2);
      expect(page("#nir_od").val()).toBe(solana.nir);
      expect(page("#destinataire").val()).toBe("991101197");
      expect(page(".recipient").length).toBe(0);
      expect(await app.db("messages").count({ n: "*" }).first()).toEqual(before);
    });
  }
});

describe("an échelon's question by a NIR OD with several beneficiaries", () => {
  it("offers the beneficiaries by birth date and rang, with no recipient until one is chosen", async () => {
    const anna = await signInAgent(app, annaAin);
    const res = await newQuestion(anna, { nir_od: bunyel.nir, action: "lookup" });
    expect(res.status).toBe(200);
    const page = $(res.text);
    const labels = page('form.compose input[type="radio"][name="patient"]')
      .map((_, el) => text(res.text, `label[for="${page(el).attr("id")}"]`))
      .get();
    expect(labels).toEqual(["Guillaume BUNYEL — né(e) le 17/04/1970, rang 1", "Léa BUNYEL — né(e) le 02/06/2008, rang 1", "Hugo BUNYEL — né(e) le 02/06/2008, rang 2"]);
    expect(page('input[name="patient"]:checked').length).toBe(0);
    expect(page(".recipient").length).toBe(0);
    expect(page(".error-summary").length).toBe(0);
  });

  it("sent without a choice is refused on the choice, and nothing goes to the first one", async () => {
    const anna = await signInAgent(app, annaAin);
    const before = await app.db("messages").count({ n: "*" }).first();
    const res = await newQuestion(anna, { nir_od: bunyel.nir, subject: "Sans choix", body: "x", action: "send" });
    expect(res.status).toBe(422);
    const page = $(res.text);
    expect(text(res.text, "#choice-error")).toBe("Choisissez l'un des bénéficiaires proposés.");
    const first = page('input[name="patient"]').first();
    expect(page(".error-summary a").attr("href")).toBe(`#${first.attr("id")}`);
    expect(first.attr("aria-invalid")).toBe("true");
    expect(page("#subject").val()).toBe("Sans choix");
    expect(await app.db("messages").count({ n: "*" }).first()).toEqual(before);
  });

  it("the twin chosen (rang 2) is shown, checked, and is the patient of the question sent", async () => {
    const anna = await signInAgent(app, annaAin);
    const hugo = await patientId(bunyel.nir, "Hugo");
    const shown = await newQuestion(anna, { nir_od: bunyel.nir, patient: hugo, subject: "Pour Hugo", body: "x", action: "lookup" });
    expect(shown.status).toBe(200);
    expect($(shown.text)('input[name="patient"]:checked').val()).toBe(hugo);
    expect(text(shown.text, ".patient-card")).toContain("Hugo BUNYEL");
    expect(text(shown.text, ".recipient")).toContain("Dr GENE Alain");
    const sent = await anna.agent
      .post("/bo/conversations")
      .field({ ...hiddenFields(shown.text), nir_od: bunyel.nir, patient: hugo, subject: "Pour Hugo", body: "x", action: "send" });
    expect(sent.status).toBe(303);
    const id = Number(sent.headers.location.split("/").pop());
    expect((await app.db("conversations").where({ id }).first()).patient_id).toBe(Number(hugo));
  });

  it("another choice after the recipient was shown is shown again before anything is sent", async () => {
    const anna = await signInAgent(app, annaAin);
    const [hugo, lea] = [await patientId(bunyel.nir, "Hugo"), await patientId(bunyel.nir, "Léa")];
    const shown = await newQuestion(anna, { nir_od: bunyel.nir, patient: hugo, subject: "Changé", body: "x", action: "lookup" });
    const res = await anna.agent.post("/bo/conversations").field({ ...hiddenFields(shown.text), nir_od: bunyel.nir, patient: lea, subject: "Changé", body: "x", action: "send" });
    expect(res.status).toBe(422);
    expect(text(res.text, ".notice")).toContain("Vérifiez le destinataire");
    expect(text(res.text, ".patient-card")).toContain("Léa BUNYEL");
  });
});
