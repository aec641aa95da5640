import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { hasContent, submitCompose, TOO_LONG_NOT_SAVED, type ComposeOutcome } from "../../src/domain/conversations/compose.js";
import { closeConversation } from "../../src/domain/conversations/operations.js";
import { loadConversation, type DraftRow } from "../../src/domain/conversations/scope.js";
import { closedWhileTyping } from "../../src/domain/conversations/states.js";
import {
  agentActor,
  auditRows,
  conversationById,
  conversationBySubject,
  count,
  ctx,
  elsmIdOf,
  form,
  isStored,
  nam,
  newKey,
  nir,
  patient,
  psActor,
  seededDomain,
  trays,
  upload,
  type DomainFixture,
  closeForm,
} from "./helpers.js";

let f: DomainFixture;
let reason: { reason_id: string };
let ain: number;
beforeAll(async () => {
  f = await seededDomain();
  reason = await closeForm(f.db, await agentActor(f.db, "AIN"));
  ain = await elsmIdOf(f.db, "ELSM 011");
});
afterAll(async () => {
  await f?.close();
});

function sent(o: ComposeOutcome): number {
  if (o.status !== "sent") throw new Error(`not sent: ${JSON.stringify(o)}`);
  return o.conversationId;
}

async function askAsGene(fields: Parameters<typeof form>[0]) {
  const gene = await psActor(f.db, nam.gene);
  const guillaume = await patient(f.db, nir.bunyel.nir, "Guillaume");
  return submitCompose(f.deps, ctx(gene), { kind: "ps-new", patient: guillaume }, form(fields));
}

describe("a doctor's new question", () => {
  it("is sent to the patient's échelon: A TRAITER, unread there, read on the doctor's side, the échelon notified", async () => {
    const before = await trays(f.db, ain);
    const id = sent(await askAsGene({ subject: "  Reprise du travail  ", body: "Bonjour,\nQuelle date de reprise ?" }));

    const gene = await psActor(f.db, nam.gene);
    const c = await conversationById(f.db, id);
    expect(c).toMatchObject({
      subject: "Reprise du travail",
      state: "a_traiter",
      started_by: "ps",
      elsm_id: ain,
      ps_practitioner_id: gene.practitionerId,
      ps_structure_id: null,
      ps_unread: 0,
      elsm_unread: 1,
      last_message_side: "ps",
    });
    expect(await f.db("messages").where({ conversation_id: id }).pluck("body")).toEqual(["Bonjour,\nQuelle date de reprise ?"]);
    expect(await trays(f.db, ain)).toEqual({ ...before, a_traiter: before.a_traiter + 1 });
    expect(await f.db("notifications").where({ conversation_id: id }).pluck("email")).toEqual(["elsm011@assurance-maladie.example"]);
    expect(await count(f.db, "audit_events", { action: "message.sent", actor_id: gene.practitionerId })).toBeGreaterThan(0);
  });

  it("carries its valid attachment to the message, byte for byte in the store", async () => {
    const id = sent(await askAsGene({ subject: "Compte rendu", body: "Ci-joint.", files: [upload(f.storage, "valid", "compte-rendu.pdf")] }));
    const [message] = await f.db("messages").where({ conversation_id: id });
    const atts = await f.db("attachments").where({ message_id: message.id });
    expect(atts).toHaveLength(1);
    expect(atts[0]).toMatchObject({ original_name: "compte-rendu.pdf", mime_type: "application/pdf", draft_id: null });
    expect(await isStored(f.storage, atts[0].storage_key)).toBe(true);
  });

  it("from a salaried doctor goes out in the name of the structure", async () => {
    const roux = await psActor(f.db, nam.roux);
    const moreau = await patient(f.db, nir.moreauMsa.nir);
    const id = sent(await submitCompose(f.deps, ctx(roux), { kind: "ps-new", patient: moreau }, form({ subject: "ALD", body: "Question du centre" })));
    const c = await conversationById(f.db, id);
    expect(c).toMatchObject({ ps_practitioner_id: null, ps_structure_id: roux.structureId, elsm_id: await elsmIdOf(f.db, "MSA 069") });
    // A colleague of the structure sees it.
    expect((await loadConversation(f.db, await psActor(f.db, nam.benali), String(id))).id).toBe(id);
  });

  it("sent without a text is refused with a French error, and its subject and attachment are kept as a draft", async () => {
    const gene = await psActor(f.db, nam.gene);
    const conversations = await count(f.db, "conversations");
    const o = await askAsGene({ subject: "Sans texte", body: "   \n ", files: [upload(f.storage, "valid", "photo.jpg")] });
    expect(o.status).toBe("invalid");
    if (o.status !== "invalid") return;
    expect(o.errors).toEqual({ body: "Saisissez le texte du message : il est obligatoire pour l'envoyer." });
    expect(o.draftId).not.toBeNull();
    const draft = await f.db("drafts").where({ id: o.draftId! }).first();
    expect(draft).toMatchObject({ subject: "Sans texte", side: "ps", author_practitioner_id: gene.practitionerId, conversation_id: null });
    expect(await f.db("attachments").where({ draft_id: o.draftId! }).pluck("original_name")).toEqual(["photo.jpg"]);
    expect(await count(f.db, "conversations")).toBe(conversations);
  });

  it("sent with nothing typed is refused on the subject and the text, and leaves no draft", async () => {
    const drafts = await count(f.db, "drafts");
    const o = await askAsGene({ subject: " ", body: "" });
    expect(o).toEqual({
      status: "invalid",
      draftId: null,
      fileErrors: [],
      errors: {
        subject: "Saisissez l'objet du message : il est obligatoire pour l'envoyer.",
        body: "Saisissez le texte du message : il est obligatoire pour l'envoyer.",
      },
    });
    expect(await count(f.db, "drafts")).toBe(drafts);
  });

  it("with a subject over 200 characters is refused, saying how many were typed; never cut into a draft", async () => {
    const drafts = await count(f.db, "drafts");
    const o = await askAsGene({ subject: "x".repeat(201), body: "Le texte reste." });
    expect(o).toMatchObject({ status: "invalid", draftId: null, notice: TOO_LONG_NOT_SAVED, errors: { subject: "L'objet ne peut pas dépasser 200 caractères (201 saisis)." } });
    expect(await count(f.db, "drafts")).toBe(drafts);
  });

  it("with a refused file is not sent: the valid file and the text wait in a draft, the refused one is named", async () => {
    const conversations = await count(f.db, "conversations");
    const o = await askAsGene({
      subject: "Deux fichiers",
      body: "Voici.",
      files: [upload(f.storage, "valid", "releve.xlsx"), upload(f.storage, "hostile", "notes.pdf")],
    });
    expect(o.status).toBe("invalid");
    if (o.status !== "invalid") return;
    expect(o.fileErrors).toHaveLength(1);
    expect(o.fileErrors[0]).toContain("« notes.pdf »");
    expect(o.errors.attachments).toBe(o.fileErrors[0]);
    expect(await f.db("attachments").where({ draft_id: o.draftId! }).pluck("original_name")).toEqual(["releve.xlsx"]);
    expect(await count(f.db, "conversations")).toBe(conversations);
  });

  it("saved as a draft is not sent and moves no tray", async () => {
    const before = await trays(f.db, ain);
    const conversations = await count(f.db, "conversations");
    const o = await askAsGene({ action: "draft", subject: "Pour plus tard", body: "" });
    expect(o).toMatchObject({ status: "saved", fileErrors: [] });
    const draftId = (o as { draftId: number }).draftId;
    expect(await f.db("drafts").where({ id: draftId }).first()).toMatchObject({ subject: "Pour plus tard", body: "" });
    expect(await count(f.db, "conversations")).toBe(conversations);
    expect(await trays(f.db, ain)).toEqual(before);
    expect(await auditRows(f.db, "draft.saved", draftId)).toBe(1);
  });

  it("an empty draft is refused and nothing is saved", async () => {
    const drafts = await count(f.db, "drafts");
    expect(await askAsGene({ action: "draft" })).toMatchObject({
      status: "invalid",
      draftId: null,
      errors: { subject: "Le brouillon est vide : saisissez un objet, un message ou joignez un fichier." },
    });
    expect(await count(f.db, "drafts")).toBe(drafts);
  });

  it("sending a saved draft turns it into the message and removes the draft", async () => {
    const saved = await askAsGene({ action: "draft", subject: "Brouillon à envoyer", body: "Texte", files: [upload(f.storage, "valid", "radio.png")] });
    const draft = (await f
      .db("drafts")
      .where({ id: (saved as { draftId: number }).draftId })
      .first()) as DraftRow;
    const id = sent(await askAsGene({ draft, subject: draft.subject, body: draft.body }));
    expect(await f.db("drafts").where({ id: draft.id }).first()).toBeUndefined();
    const [message] = await f.db("messages").where({ conversation_id: id });
    expect(await f.db("attachments").where({ message_id: message.id }).pluck("original_name")).toEqual(["radio.png"]);
  });

  it("sent twice with the same submission key answers with the same conversation and one message", async () => {
    const before = await trays(f.db, ain);
    const submissionKey = newKey();
    const first = sent(await askAsGene({ subject: "Double clic", body: "Une seule fois", submissionKey }));
    const again = sent(await askAsGene({ subject: "Double clic", body: "Une seule fois", submissionKey }));
    expect(again).toBe(first);
    expect(await count(f.db, "messages", { conversation_id: first })).toBe(1);
    expect(await count(f.db, "conversations", { subject: "Double clic" })).toBe(1);
    expect(await trays(f.db, ain)).toEqual({ ...before, a_traiter: before.a_traiter + 1 });
  });

  it("sent twice at once with the same submission key creates one conversation, and both answers name it", async () => {
    const submissionKey = newKey();
    const outcomes = await Promise.all([0, 1].map(() => askAsGene({ subject: "Clic simultané", body: "Une seule fois", submissionKey })));
    const ids = outcomes.map(sent);
    expect(ids[1]).toBe(ids[0]);
    expect(await count(f.db, "conversations", { subject: "Clic simultané" })).toBe(1);
    expect(await count(f.db, "messages", { conversation_id: ids[0] })).toBe(1);
    expect(await count(f.db, "drafts", { submission_key: submissionKey })).toBe(0);
  });
});

describe("replies", () => {
  it("the échelon's reply puts the thread in EN COURS, makes the agent its rédacteur and is unread for the doctor", async () => {
    const anna = await agentActor(f.db, "AIN");
    const c = await conversationBySubject(f.db, "info ALD"); // a_traiter
    const before = await trays(f.db, ain);
    sent(await submitCompose(f.deps, ctx(anna), { kind: "reply", conversation: c }, form({ body: "Nous confirmons." })));
    expect(await conversationById(f.db, c.id)).toMatchObject({ state: "en_cours", redacteur_agent_id: anna.agentId, ps_unread: 1, last_message_side: "elsm" });
    expect(await trays(f.db, ain)).toEqual({ ...before, a_traiter: before.a_traiter - 1, en_cours: before.en_cours + 1 });
    expect(await f.db("notifications").where({ conversation_id: c.id }).pluck("email")).toContain("alain.gene@medecin.example");
  });

  it("a reply needs a text but no subject", async () => {
    const gene = await psActor(f.db, nam.gene);
    const c = await conversationBySubject(f.db, "Durée arrêt de travail Lombalgie");
    const o = await submitCompose(f.deps, ctx(gene), { kind: "reply", conversation: c }, form({ body: "" }));
    expect(o).toMatchObject({ status: "invalid", errors: { body: "Saisissez le texte du message : il est obligatoire pour l'envoyer." } });
    expect((o as { errors: object }).errors).not.toHaveProperty("subject");
    sent(await submitCompose(f.deps, ctx(gene), { kind: "reply", conversation: c }, form({ body: "Merci." })));
  });

  it("the échelon's reply in a closed thread is refused on the conversation, and nothing is written", async () => {
    const anna = await agentActor(f.db, "AIN");
    const c = await conversationBySubject(f.db, "Sans dossier"); // clos
    const messages = await count(f.db, "messages", { conversation_id: c.id });
    const drafts = await count(f.db, "drafts");
    for (const action of ["send", "draft"] as const) {
      const o = await submitCompose(f.deps, ctx(anna), { kind: "reply", conversation: c }, form({ action, body: "Encore une précision" }));
      // Closed by the seed, before any audit trail: nobody to name.
      expect(o).toEqual({ status: "invalid", draftId: null, errors: { conversation: closedWhileTyping(action === "send", null) }, fileErrors: [], held: [] });
    }
    expect(await count(f.db, "messages", { conversation_id: c.id })).toBe(messages);
    expect(await count(f.db, "drafts")).toBe(drafts);
    expect((await conversationById(f.db, c.id)).state).toBe("clos");
  });

  it("the doctor's reply reopens a closed thread into A TRAITER", async () => {
    const anna = await agentActor(f.db, "AIN");
    const gene = await psActor(f.db, nam.gene);
    const id = sent(await askAsGene({ subject: "Sera close puis rouverte", body: "Question" }));
    await closeConversation(f.deps, ctx(anna), await loadConversation(f.db, anna, String(id)), reason);
    const closed = await loadConversation(f.db, gene, String(id));
    expect(closed.state).toBe("clos");
    const before = await trays(f.db, ain);
    const unread = Number((await conversationById(f.db, id)).elsm_unread);

    sent(await submitCompose(f.deps, ctx(gene), { kind: "reply", conversation: closed }, form({ body: "Une précision encore." })));
    expect(await conversationById(f.db, id)).toMatchObject({ state: "a_traiter", closed_at: null, elsm_unread: unread + 1 });
    expect(await trays(f.db, ain)).toEqual({ ...before, clos: before.clos - 1, a_traiter: before.a_traiter + 1 });
    expect(await auditRows(f.db, "conversation.reopened", id)).toBe(1);
  });
});

describe("whether a form holds anything to keep", () => {
  it("blank text and no file is nothing; any text, a file or an existing draft is something", () => {
    expect(hasContent(null, "", "", 0)).toBe(false);
    expect(hasContent(null, "  ", "\n\t", 0)).toBe(false);
    expect(hasContent(null, "Objet", "", 0)).toBe(true);
    expect(hasContent(null, "", "Texte", 0)).toBe(true);
    expect(hasContent(null, "", "", 1)).toBe(true);
    expect(hasContent({ id: 1 } as DraftRow, "", "", 0)).toBe(true);
  });
});
