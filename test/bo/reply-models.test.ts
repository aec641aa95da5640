import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { $, annaAin, bunyel, drGene, fixture, hiddenFields, marcDubois, paulHerault, signInAgent, signInPs, startTestApp, type Session, type TestApp } from "../helpers/app.js";

/** Issue 13 §3: the échelon's saved replies (modèles de réponse) and "Insérer un modèle" in the back office's forms. */
let app: TestApp;
let anna: Session;
let ainId: number;
/** A thread of ELSM 011 about a patient, with a liberal doctor who has a mailbox, still open. */
let thread: { id: number; patient: string; doctor: string };

beforeAll(async () => {
  app = await startTestApp();
  anna = await signInAgent(app, annaAin);
  ainId = (await app.db("elsms").where({ code: "ELSM 011" }).first("id")).id;
  const row = await app
    .db("conversations as c")
    .join("patients as p", "p.id", "c.patient_id")
    .join("practitioners as d", "d.id", "c.ps_practitioner_id")
    .where({ "c.elsm_id": ainId })
    .whereNot("c.state", "clos")
    .whereNull("c.ps_structure_id")
    .whereNotNull("d.mailbox")
    .first("c.id", "p.first_name", "p.last_name", "d.first_name as d_first", "d.last_name as d_last");
  thread = { id: row.id, patient: `${row.first_name} ${row.last_name}`, doctor: `Dr ${row.d_last} ${row.d_first}` };
});
afterAll(async () => {
  await app.close();
});

const text = (html: string, selector: string) => $(html)(selector).text().replace(/\s+/g, " ").trim();

async function createModel(s: Session, title: string, body: string): Promise<number> {
  const res = await s.agent.post("/bo/modeles").type("form").send({ _csrf: s.csrf, title, body });
  expect(res.status).toBe(303);
  return (await app.db("reply_models").where({ title }).orderBy("id", "desc").first("id")).id;
}

describe("the models page", () => {
  it("is linked from the back office's column, lists the ELSM's models, creates, edits and deletes one (audited by id)", async () => {
    const tray = await anna.agent.get("/bo/bannettes/a-traiter");
    expect($(tray.text)('.sidebar a[href="/bo/modeles"]').text()).toBe("Modèles de réponse");
    const blank = await anna.agent.get("/bo/modeles/nouveau");
    expect(blank.status).toBe(200);
    expect($(blank.text)("#model-title").attr("maxlength")).toBe("120");
    expect($(blank.text)("#model-body").attr("maxlength")).toBe("20000");

    const created = await anna.agent
      .post("/bo/modeles")
      .type("form")
      .send({ _csrf: anna.csrf, title: "  Relance examen  ", body: "Bonjour,\r\nmerci de nous adresser le compte rendu." });
    expect(created.status).toBe(303);
    expect(created.headers.location).toBe("/bo/modeles");
    const row = await app.db("reply_models").where({ title: "Relance examen" }).first();
    expect(row).toMatchObject({ elsm_id: ainId, body: "Bonjour,\nmerci de nous adresser le compte rendu." });
    const list = await anna.agent.get("/bo/modeles");
    expect(text(list.text, "main .notice")).toContain("Le modèle de réponse a été créé.");
    expect($(list.text)(`.models a[href="/bo/modeles/${row.id}"]`).text()).toBe("Relance examen");

    // A colleague of the same ELSM shares it, and changes it.
    const marc = await signInAgent(app, marcDubois);
    const edit = await marc.agent.get(`/bo/modeles/${row.id}`);
    expect($(edit.text)("#model-title").val()).toBe("Relance examen");
    const changed = await marc.agent.post(`/bo/modeles/${row.id}`).type("form").send({ _csrf: marc.csrf, title: "Relance du compte rendu", body: "Texte changé" });
    expect(changed.status).toBe(303);
    const marcId = (await app.db("agents").where({ last_name: "DUBOIS" }).first("id")).id;
    expect(await app.db("reply_models").where({ id: row.id }).first()).toMatchObject({ title: "Relance du compte rendu", body: "Texte changé", updated_by_agent_id: marcId });

    const confirm = await anna.agent.get(`/bo/modeles/${row.id}/supprimer`);
    expect(confirm.status).toBe(200);
    expect(text(confirm.text, "h1")).toBe("Supprimer le modèle « Relance du compte rendu » ?");
    expect(await app.db("reply_models").where({ id: row.id }).first()).toBeDefined();
    const deleted = await anna.agent.post(`/bo/modeles/${row.id}/supprimer`).type("form").send({ _csrf: anna.csrf });
    expect(deleted.status).toBe(303);
    expect(await app.db("reply_models").where({ id: row.id }).first()).toBeUndefined();
    expect((await anna.agent.get(`/bo/modeles/${row.id}`)).status).toBe(404);

    const events = await app.db("audit_events").where({ object_type: "reply_model", object_id: row.id }).orderBy("id").select("action", "actor_id");
    expect(events.map((e) => e.action)).toEqual(["reply_model.created", "reply_model.updated", "reply_model.deleted"]);
    const annaId = (await app.db("agents").where({ last_name: "AIN" }).first("id")).id;
    expect(events.map((e) => e.actor_id)).toEqual([annaId, marcId, annaId]);
  });

  for (const [label, fields, field, message] of [
    ["an empty title", { title: "   ", body: "Texte gardé" }, "model-title", "Saisissez le titre du modèle"],
    ["a title of 121 characters", { title: "T".repeat(121), body: "Texte gardé" }, "model-title", "Le titre ne peut pas dépasser 120 caractères."],
    ["an empty text", { title: "Titre gardé", body: " \n " }, "model-body", "Saisissez le texte du modèle."],
    ["a text of 20,001 characters", { title: "Titre gardé", body: "x".repeat(20_001) }, "model-body", "Le texte ne peut pas dépasser 20000 caractères"],
    ["fields sent as arrays", { title: ["a", "b"], body: "Texte gardé" }, "model-title", "Saisissez le titre du modèle"],
  ] as const) {
    it(`refuses ${label}: 422, a French error on its field, what was typed kept, nothing written`, async () => {
      const before = await app.db("reply_models").count<{ n: number }[]>({ n: "*" });
      const res = await anna.agent
        .post("/bo/modeles")
        .type("form")
        .send({ _csrf: anna.csrf, ...fields });
      expect(res.status).toBe(422);
      const page = $(res.text);
      expect(page(`#${field}-error`).text()).toContain(message);
      expect(page(`#${field}`).attr("aria-invalid")).toBe("true");
      expect(page(".error-summary a").attr("href")).toBe(`#${field}`);
      if (typeof fields.body === "string" && field === "model-title") expect(page("#model-body").val()).toBe(fields.body);
      if (field === "model-body") expect(page("#model-title").val()).toBe("Titre gardé");
      expect(await app.db("reply_models").count<{ n: number }[]>({ n: "*" })).toEqual(before);
    });
  }

  it("a NUL character pasted in the title or the text is dropped: the model is saved without it, never a 500", async () => {
    const res = await anna.agent.post("/bo/modeles").type("form").send({ _csrf: anna.csrf, title: "Titre\u0000 nul", body: "Texte\u0000 nul" });
    expect(res.status).toBe(303);
    expect(await app.db("reply_models").where({ title: "Titre nul" }).first("body")).toEqual({ body: "Texte nul" });
  });

  it("another ELSM's agent and a doctor: 404 on every model route, never the model, nothing changed", async () => {
    const id = await createModel(anna, "Modèle de l'Ain", "Texte confidentiel de l'Ain");
    const paul = await signInAgent(app, paulHerault);
    const list = await paul.agent.get("/bo/modeles");
    expect(list.status).toBe(200);
    expect(list.text).not.toContain("Modèle de l'Ain");
    for (const url of [`/bo/modeles/${id}`, `/bo/modeles/${id}/supprimer`, `/bo/modeles/${id}/texte`]) {
      const res = await paul.agent.get(url);
      expect(res.status, url).toBe(404);
      expect(res.text).not.toContain("Texte confidentiel");
    }
    expect((await paul.agent.post(`/bo/modeles/${id}`).type("form").send({ _csrf: paul.csrf, title: "Volé", body: "Volé" })).status).toBe(404);
    expect((await paul.agent.post(`/bo/modeles/${id}/supprimer`).type("form").send({ _csrf: paul.csrf })).status).toBe(404);
    expect((await paul.agent.get("/bo/modeles/abc")).status).toBe(404);
    const gene = await signInPs(app, drGene);
    expect((await gene.agent.get(`/bo/modeles/${id}`)).status).toBe(404);
    expect((await gene.agent.get("/bo/modeles")).status).toBe(404);
    expect(await app.db("reply_models").where({ id }).first()).toMatchObject({ title: "Modèle de l'Ain", body: "Texte confidentiel de l'Ain" });
  });
});

describe("« Insérer un modèle » in the reply form, without JavaScript", () => {
  it("adds the model's text at the end of the message, placeholders filled, everything else kept (the file chosen too); nothing sent or saved", async () => {
    const id = await createModel(anna, "Demande de compte rendu", "Concernant {patient}, {medecin}, merci de nous adresser le compte rendu.\n{agent}\n{inconnu}");
    const form = await anna.agent.get(`/bo/conversations/${thread.id}/reply`);
    expect(text(form.text, 'label[for="model_id"]')).toBe("Insérer un modèle");
    expect($(form.text)(`#model_id option[value="${id}"]`).text()).toBe("Demande de compte rendu");
    const messages = await app.db("messages").where({ conversation_id: thread.id }).count<{ n: number }[]>({ n: "*" });
    const drafts = await app.db("drafts").where({ conversation_id: thread.id }).count<{ n: number }[]>({ n: "*" });
    const res = await anna.agent
      .post(`/bo/conversations/${thread.id}/messages`)
      .field({ ...hiddenFields(form.text), body: "Bonjour Docteur,", model_id: String(id), action: "insert_model", confirm_no_mail: "1" })
      .attach("attachments", fixture("valid", "compte-rendu.pdf"));
    expect(res.status).toBe(200);
    const page = $(res.text);
    expect(page("#body").val()).toBe(`Bonjour Docteur,\n\nConcernant ${thread.patient}, ${thread.doctor}, merci de nous adresser le compte rendu.\nAnna AIN\n{inconnu}`);
    expect(text(res.text, ".attached")).toContain("compte-rendu.pdf");
    expect(page('input[name="_files"]').val()).toBeTruthy();
    expect(page(`#model_id option[value="${id}"]`).attr("selected")).toBeDefined();
    expect(text(res.text, "main .notice")).toContain("Le modèle a été ajouté à la fin du message");
    expect(await app.db("messages").where({ conversation_id: thread.id }).count<{ n: number }[]>({ n: "*" })).toEqual(messages);
    expect(await app.db("drafts").where({ conversation_id: thread.id }).count<{ n: number }[]>({ n: "*" })).toEqual(drafts);

    // ENVOYER on the form given back sends the text and the file held.
    const sent = await anna.agent
      .post(`/bo/conversations/${thread.id}/messages`)
      .field({ ...hiddenFields(res.text), body: String(page("#body").val()), action: "send", confirm_no_mail: "1" });
    expect(sent.status).toBe(303);
    const message = await app.db("messages").where({ conversation_id: thread.id }).orderBy("id", "desc").first();
    expect(message.body).toContain(`Concernant ${thread.patient}`);
    expect(await app.db("attachments").where({ message_id: message.id }).pluck("original_name")).toEqual(["compte-rendu.pdf"]);
  });

  it("keeps a reply draft named at the version the form showed, and its attachment ticked « Retirer » (an insert writes nothing to it)", async () => {
    const id = await createModel(anna, "Brouillon modèle", "Ajout.");
    const form = await anna.agent.get(`/bo/conversations/${thread.id}/reply`);
    const saved = await anna.agent
      .post(`/bo/conversations/${thread.id}/messages`)
      .field({ ...hiddenFields(form.text), body: "Mon brouillon", action: "draft" })
      .attach("attachments", fixture("valid", "photo.jpg"));
    expect(saved.status).toBe(303);
    const draftPage = await anna.agent.get(`/bo/conversations/${thread.id}/reply`);
    const fields = hiddenFields(draftPage.text);
    const draftId = Number(fields.draft_id);
    expect(draftId).toBeGreaterThan(0);
    const attachment = (await app.db("attachments").where({ draft_id: draftId }).first("id")).id;
    const res = await anna.agent
      .post(`/bo/conversations/${thread.id}/messages`)
      .field({ ...fields, body: "Mon brouillon modifié", model_id: String(id), action: "insert_model", remove_attachment: String(attachment) });
    expect(res.status).toBe(200);
    expect($(res.text)("#body").val()).toBe("Mon brouillon modifié\n\nAjout.");
    expect(hiddenFields(res.text)).toMatchObject({ draft_id: fields.draft_id, draft_version: fields.draft_version });
    expect($(res.text)(`#remove-${attachment}`).attr("checked")).toBeDefined();
    const draft = await app.db("drafts").where({ id: draftId }).first();
    expect(draft.body).toBe("Mon brouillon");
    expect(await app.db("attachments").where({ id: attachment }).first()).toBeDefined();
    await app.db("attachments").where({ draft_id: draftId }).del();
    await app.db("drafts").where({ id: draftId }).del();
  });

  it("a message that the model takes past 20,000 characters: inserted all the same, the limit said on the message", async () => {
    const id = await createModel(anna, "Long modèle", "y".repeat(100));
    const form = await anna.agent.get(`/bo/conversations/${thread.id}/reply`);
    const res = await anna.agent
      .post(`/bo/conversations/${thread.id}/messages`)
      .field({ ...hiddenFields(form.text), body: "x".repeat(19_950), model_id: String(id), action: "insert_model" });
    expect(res.status).toBe(422);
    expect(String($(res.text)("#body").val())).toHaveLength(19_950 + 2 + 100);
    expect($(res.text)("#body-error").text()).toContain("Avec le modèle, le message dépasse 20000 caractères (20052)");
  });

  for (const [label, modelId] of [
    ["another ELSM's model", "other"],
    ["no model chosen", ""],
    ["a model id that is not a number", "1 OR 1=1"],
  ] as const) {
    it(`${label}: a French error on the list, never another ELSM's text, the message kept`, async () => {
      const herault = (await app.db("elsms").whereNot({ id: ainId }).where("code", "like", "%HERAULT%").first("id")) ?? (await app.db("elsms").whereNot({ id: ainId }).first("id"));
      const now = new Date().toISOString();
      const [other] = await app
        .db("reply_models")
        .insert({ elsm_id: herault.id, title: "Modèle de l'Hérault", body: "Texte secret de l'Hérault", created_at: now, updated_at: now })
        .returning("id");
      const otherId = typeof other === "object" ? other.id : other;
      const form = await anna.agent.get(`/bo/conversations/${thread.id}/reply`);
      expect(form.text).not.toContain("Modèle de l'Hérault");
      const res = await anna.agent
        .post(`/bo/conversations/${thread.id}/messages`)
        .field({ ...hiddenFields(form.text), body: "Texte tapé", model_id: modelId === "other" ? String(otherId) : modelId, action: "insert_model" });
      expect(res.status).toBe(422);
      expect(res.text).not.toContain("Texte secret");
      expect($(res.text)("#body").val()).toBe("Texte tapé");
      expect($(res.text)("#model_id-error").text()).toMatch(modelId === "" ? /Choisissez le modèle à insérer/ : /Ce modèle n'existe pas ou plus/);
      expect($(res.text)(".error-summary a").attr("href")).toBe("#model_id");
      const js = await anna.agent.get(`/bo/modeles/${otherId}/texte`);
      expect(js.status).toBe(404);
      expect(js.text).not.toContain("Texte secret");
    });
  }
});

describe("« Insérer un modèle » in the new-question form, without JavaScript", () => {
  it("keeps subject, message, the NIR OD typed and the file chosen; shows the recipient and fills {patient} and {medecin} from it", async () => {
    const id = await createModel(anna, "Question type", "Patient : {patient} — {medecin} — {agent}");
    const blank = await anna.agent.get("/bo/conversations/new");
    expect($(blank.text)("#model_id-hint").text()).toContain("une fois le destinataire affiché");
    const guillaume = String((await app.db("patients").where({ nir: bunyel.nir, first_name: "Guillaume" }).first("id")).id);
    const res = await anna.agent
      .post("/bo/conversations")
      .field({ ...hiddenFields(blank.text), nir_od: bunyel.nir, patient: guillaume, subject: "Mon objet", body: "", model_id: String(id), action: "insert_model" })
      .attach("attachments", fixture("valid", "radio.png"));
    expect(res.status).toBe(200);
    const page = $(res.text);
    expect(page("#subject").val()).toBe("Mon objet");
    expect(page("#nir_od").val()).toBe(bunyel.nir);
    expect(text(res.text, ".recipient")).toContain("Dr GENE Alain");
    expect(page("#body").val()).toBe("Patient : Guillaume BUNYEL — Dr GENE Alain — Anna AIN");
    expect(text(res.text, ".attached")).toContain("radio.png");
    expect(await app.db("drafts").where({ subject: "Mon objet" }).first()).toBeUndefined();
    // ENVOYER then sends it, with the file held, to the recipient shown.
    const sent = await anna.agent
      .post("/bo/conversations")
      .field({ ...hiddenFields(res.text), nir_od: bunyel.nir, patient: guillaume, subject: "Mon objet", body: String(page("#body").val()), action: "send" });
    expect(sent.status).toBe(303);
    const c = await app.db("conversations").where({ subject: "Mon objet" }).first();
    const m = await app.db("messages").where({ conversation_id: c.id }).first();
    expect(await app.db("attachments").where({ message_id: m.id }).pluck("original_name")).toEqual(["radio.png"]);
  });

  it("on a question draft's page: the draft stays named and unchanged, its recipient shown", async () => {
    const id = await createModel(anna, "Question brouillon", "Pour {medecin}.");
    const blank = await anna.agent.get("/bo/conversations/new");
    const saved = await anna.agent
      .post("/bo/conversations")
      .field({ ...hiddenFields(blank.text), destinataire: drGene.nam, subject: "Brouillon de question", body: "Début", action: "draft" });
    expect(saved.status).toBe(303);
    const draftUrl = saved.headers.location as string;
    const page = await anna.agent.get(draftUrl);
    const res = await anna.agent
      .post(draftUrl)
      .field({ ...hiddenFields(page.text), destinataire: drGene.nam, subject: "Brouillon de question modifié", body: "Début", model_id: String(id), action: "insert_model" });
    expect(res.status).toBe(200);
    expect($(res.text)("#body").val()).toBe("Début\n\nPour Dr GENE Alain.");
    expect($(res.text)("#subject").val()).toBe("Brouillon de question modifié");
    expect($(res.text)("form.compose").attr("action")).toBe(draftUrl);
    expect(hiddenFields(res.text).draft_id).toBe(hiddenFields(page.text).draft_id);
    expect(
      await app
        .db("drafts")
        .where({ id: Number(draftUrl.split("/").pop()) })
        .first(),
    ).toMatchObject({ subject: "Brouillon de question", body: "Début" });
  });

  it("with no recipient typed yet: {patient} and {medecin} stay as typed, no error on the recipient", async () => {
    const id = await createModel(anna, "Question sans destinataire", "{patient} / {medecin} / {agent}");
    const blank = await anna.agent.get("/bo/conversations/new");
    const res = await anna.agent.post("/bo/conversations").field({ ...hiddenFields(blank.text), subject: "Objet", body: "Début", model_id: String(id), action: "insert_model" });
    expect(res.status).toBe(200);
    expect($(res.text)("#body").val()).toBe("Début\n\n{patient} / {medecin} / Anna AIN");
    expect($(res.text)(".error-summary").length).toBe(0);
  });
});

describe("« Insérer un modèle » with JavaScript: the filled text of a model", () => {
  it("is the model's text filled for the form's thread (its signed context), as plain text", async () => {
    const id = await createModel(anna, "Texte JS", "Bonjour {medecin}, au sujet de {patient}. {agent}");
    const form = await anna.agent.get(`/bo/conversations/${thread.id}/reply`);
    expect($(form.text)("button[data-insert-model]").attr("data-insert-model")).toBe("/bo/modeles/{id}/texte");
    const res = await anna.agent.get(`/bo/modeles/${id}/texte`).query({ ctx: hiddenFields(form.text)._ctx });
    expect(res.status).toBe(200);
    expect(res.headers["content-type"]).toMatch(/^text\/plain/);
    expect(res.text).toBe(`Bonjour ${thread.doctor}, au sujet de ${thread.patient}. Anna AIN`);
    // Another agent's form context (not signed for this one) fills nothing but the agent.
    const marc = await signInAgent(app, marcDubois);
    const theirs = await marc.agent.get(`/bo/modeles/${id}/texte`).query({ ctx: hiddenFields(form.text)._ctx });
    expect(theirs.text).toBe("Bonjour {medecin}, au sujet de {patient}. Marc DUBOIS");
  });

  it("the doctor's forms show nothing of the models", async () => {
    const gene = await signInPs(app, drGene);
    const c = await app.db("conversations").where({ elsm_id: ainId }).whereNotNull("ps_practitioner_id").whereNull("ps_deleted_at").first("id", "ps_practitioner_id");
    const doctor = await app.db("practitioners").where({ id: c.ps_practitioner_id }).first("nam");
    const s = doctor.nam === drGene.nam ? gene : await signInPs(app, { nam: doctor.nam });
    const form = await s.agent.get(`/ps/conversations/${c.id}/reply`);
    expect(form.status).toBe(200);
    expect($(form.text)("#model_id, [data-insert-model]").length).toBe(0);
    expect(form.text).not.toContain("modèle");
  });
});
