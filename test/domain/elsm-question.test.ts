import { afterAll, beforeAll, describe, expect, it } from "vitest";
import type { AgentActor } from "../../src/domain/actor.js";
import type { ComposeInput } from "../../src/domain/conversations/compose.js";
import { questionStateOfDraft, recipientFields, submitElsmQuestion, type QuestionOutcome, type ShownRecipient } from "../../src/domain/conversations/elsm-question.js";
import type { DraftRow } from "../../src/domain/conversations/scope.js";
import { agentActor, conversationById, count, ctx, elsmIdOf, finess, form, nam, nir, patient, psActor, seededDomain, trays, upload, type DomainFixture } from "./helpers.js";

let f: DomainFixture;
let anna: AgentActor;
beforeAll(async () => {
  f = await seededDomain();
  anna = await agentActor(f.db, "AIN");
});
afterAll(async () => {
  await f?.close();
});

const CHECK = "Vérifiez le destinataire affiché ci-dessous, puis cliquez à nouveau sur ENVOYER.";

/** One post of the question form, the recipient fields parsed as the web layer does. */
function post(recipient: { nir_od?: string; destinataire?: string }, intent: "send" | "draft" | "lookup", input: Partial<ComposeInput>, shown: ShownRecipient | null) {
  return submitElsmQuestion(f.deps, ctx(anna), recipientFields.parse(recipient), intent, form(input), shown);
}

/** What the next post's signed form context says was shown. */
function shownBy(o: QuestionOutcome): ShownRecipient {
  return { patientId: o.state.patientId, ...o.state.recipientIds };
}

function formOutcome(o: QuestionOutcome) {
  if (o.status !== "form") throw new Error(`expected the form again, got ${o.status}`);
  return o;
}

describe("the échelon's new question", () => {
  it("a lookup by NIR OD shows the médecin traitant and the patient, and sends nothing", async () => {
    const messages = await count(f.db, "messages");
    const drafts = await count(f.db, "drafts");
    const o = formOutcome(await post({ nir_od: ` ${nir.bunyel.nir} ` }, "lookup", {}, null));
    const gene = await psActor(f.db, nam.gene);
    const guillaume = await patient(f.db, nir.bunyel.nir, "Guillaume");
    expect(o).toMatchObject({ errors: {}, notice: null, refused: false, draftId: null });
    expect(o.state).toEqual({
      nirOd: nir.bunyel.nir,
      destinataire: "",
      recipient: { title: "Dr GENE Alain", detail: "N°AM : 991101197 - 34170 CASTELNAU LE LEZ" },
      patientId: guillaume.id,
      recipientIds: { rp: gene.practitionerId },
    });
    expect(await count(f.db, "messages")).toBe(messages);
    expect(await count(f.db, "drafts")).toBe(drafts);
  });

  it("a lookup keeps what was already typed in a draft addressed to the recipient shown", async () => {
    const o = formOutcome(await post({ nir_od: nir.bunyel.nir }, "lookup", { subject: "Objet tapé avant", body: "Texte tapé avant" }, null));
    expect(o.draftId).not.toBeNull();
    const gene = await psActor(f.db, nam.gene);
    expect(await f.db("drafts").where({ id: o.draftId! }).first()).toMatchObject({
      side: "elsm",
      elsm_id: anna.elsmId,
      subject: "Objet tapé avant",
      body: "Texte tapé avant",
      recipient_practitioner_id: gene.practitionerId,
      patient_id: o.state.patientId,
    });
  });

  it("a send before the recipient was shown is not sent: the form again with the recipient, a notice, and the text kept", async () => {
    const messages = await count(f.db, "messages");
    const o = formOutcome(await post({ nir_od: nir.bunyel.nir }, "send", { subject: "Sans vérifier", body: "Texte" }, null));
    expect(o).toMatchObject({ notice: CHECK, refused: true, errors: {} });
    expect(o.state.recipient?.title).toBe("Dr GENE Alain");
    expect(await f.db("drafts").where({ id: o.draftId! }).first()).toMatchObject({ subject: "Sans vérifier", body: "Texte" });
    expect(await count(f.db, "messages")).toBe(messages);
  });

  it("a send with the recipient shown before goes to the médecin traitant, about the patient, in EN COURS", async () => {
    const before = await trays(f.db, anna.elsmId);
    const shown = shownBy(await post({ nir_od: nir.bunyel.nir }, "lookup", {}, null));
    const o = await post({ nir_od: nir.bunyel.nir }, "send", { subject: "Question ELSM", body: "Bonjour Docteur", files: [upload(f.storage, "valid", "releve.xlsx")] }, shown);
    expect(o.status).toBe("sent");
    if (o.status !== "sent") return;
    const gene = await psActor(f.db, nam.gene);
    expect(await conversationById(f.db, o.conversationId)).toMatchObject({
      subject: "Question ELSM",
      started_by: "elsm",
      state: "en_cours",
      ps_practitioner_id: gene.practitionerId,
      patient_id: shown.patientId,
      redacteur_agent_id: anna.agentId,
      ps_unread: 1,
      elsm_unread: 0,
    });
    expect(await trays(f.db, anna.elsmId)).toEqual({ ...before, en_cours: before.en_cours + 1 });
    expect(await f.db("notifications").where({ conversation_id: o.conversationId }).pluck("email")).toEqual(["alain.gene@medecin.example"]);
    const [message] = await f.db("messages").where({ conversation_id: o.conversationId });
    expect(await f.db("attachments").where({ message_id: message.id }).pluck("original_name")).toEqual(["releve.xlsx"]);
  });

  it("a send whose recipient is not the one shown (another doctor, a structure, or another patient) is not sent", async () => {
    const messages = await count(f.db, "messages");
    const shown = shownBy(await post({ nir_od: nir.bunyel.nir }, "lookup", {}, null));
    const mezin = await psActor(f.db, nam.mezin);
    const lea = await patient(f.db, nir.bunyel.nir, "Léa");
    for (const other of [
      { ...shown, rp: mezin.practitionerId },
      { ...shown, patientId: lea.id },
      { patientId: shown.patientId, rs: 1 }, // a structure was shown
      { patientId: null, rp: shown.rp }, // shown by N°AM, sent by NIR OD
    ]) {
      const o = formOutcome(await post({ nir_od: nir.bunyel.nir }, "send", { subject: "Objet", body: "Texte" }, other));
      expect(o).toMatchObject({ notice: CHECK, refused: true });
    }
    expect(await count(f.db, "messages")).toBe(messages);
  });

  it("the recipient changed since it was shown: the new one is shown, and only the next send goes", async () => {
    const shownGene = shownBy(await post({ nir_od: nir.bunyel.nir }, "lookup", {}, null));
    const typed = { subject: "Changement de destinataire", body: "Texte" };
    const first = formOutcome(await post({ nir_od: nir.solana.nir }, "send", typed, shownGene));
    expect(first.state.recipient?.title).toBe("Dr MEZIN Jean-Luc");
    const draft = (await f.db("drafts").where({ id: first.draftId! }).first()) as DraftRow;
    const second = await post({ nir_od: nir.solana.nir }, "send", { ...typed, draft }, shownBy(first));
    expect(second.status).toBe("sent");
    const mezin = await psActor(f.db, nam.mezin);
    expect((await conversationById(f.db, (second as { conversationId: number }).conversationId)).ps_practitioner_id).toBe(mezin.practitionerId);
    expect(await f.db("drafts").where({ id: draft.id }).first()).toBeUndefined();
  });

  it("a salaried doctor's N°AM is refused and points to the structure's FINESS; nothing is sent, the text is kept", async () => {
    const messages = await count(f.db, "messages");
    const o = formOutcome(await post({ destinataire: nam.roux }, "send", { subject: "Au Dr Roux", body: "Texte" }, { patientId: null }));
    expect(o.refused).toBe(true);
    expect(o.errors.destinataire).toContain("médecin salarié");
    expect(o.errors.destinataire).toContain("FINESS 010012345");
    expect(o.state.recipient).toBeNull();
    expect(await f.db("drafts").where({ id: o.draftId! }).first()).toMatchObject({ subject: "Au Dr Roux", recipient_practitioner_id: null, recipient_structure_id: null });
    expect(await count(f.db, "messages")).toBe(messages);
  });

  it("an unknown FINESS is refused on the destinataire field", async () => {
    const o = formOutcome(await post({ destinataire: "019999999" }, "send", {}, null));
    expect(o.errors).toEqual({ destinataire: "Aucun médecin (N°AM) ni aucune structure (FINESS) ne correspond à « 019999999 »." });
    expect(o.refused).toBe(true);
  });

  it("no recipient at all is refused on the NIR OD field, and the text waits in a draft", async () => {
    const o = formOutcome(await post({}, "send", { subject: "Sans destinataire", body: "Texte" }, null));
    expect(o.errors).toEqual({ nir_od: "Indiquez le destinataire : le NIR OD du patient, ou le N°AM du médecin ou le FINESS de la structure." });
    expect(await f.db("drafts").where({ id: o.draftId! }).first()).toMatchObject({ subject: "Sans destinataire" });
  });

  it("a question by FINESS shown first goes to the structure, with no patient", async () => {
    const shown = shownBy(await post({ destinataire: finess.tilleuls }, "lookup", {}, null));
    const o = await post({ destinataire: ` ${finess.tilleuls} ` }, "send", { subject: "Au centre", body: "Bonjour" }, shown);
    expect(o.status).toBe("sent");
    const tilleuls = await f.db("structures").where({ finess: finess.tilleuls }).first();
    expect(await conversationById(f.db, (o as { conversationId: number }).conversationId)).toMatchObject({
      ps_structure_id: tilleuls.id,
      ps_practitioner_id: null,
      patient_id: null,
    });
  });

  it("the recipient fields are trimmed and cut at 30 characters (a NIR OD spaced or dotted with its key stays whole); a missing field is empty", () => {
    expect(recipientFields.parse({ nir_od: `  ${"1".repeat(40)}  `, destinataire: 42 })).toEqual({ nir_od: "1".repeat(30), destinataire: "" });
    expect(recipientFields.parse({ nir_od: " 1 70 04 69 387 111 72 ", destinataire: "99 1 10 11 97" })).toEqual({ nir_od: "1 70 04 69 387 111 72", destinataire: "99 1 10 11 97" });
    expect(recipientFields.parse({})).toEqual({ nir_od: "", destinataire: "" });
  });
});

describe("a saved question draft", () => {
  it("shows its patient's NIR OD and its recipient again", async () => {
    const draft = (await f.db("drafts").where({ subject: "TEST ELSM INIT QUESTION" }).first()) as DraftRow;
    const gene = await psActor(f.db, nam.gene);
    const ferrand = await patient(f.db, nir.ferrand.nir);
    expect(await questionStateOfDraft(f.db, draft)).toEqual({
      nirOd: nir.ferrand.nir,
      destinataire: "",
      recipient: { title: "Dr GENE Alain", detail: "N°AM : 991101197 - 34170 CASTELNAU LE LEZ" },
      patientId: ferrand.id,
      recipientIds: { rp: gene.practitionerId },
    });
  });

  it("addressed by FINESS shows the FINESS and no NIR OD", async () => {
    const o = await post({ destinataire: finess.parc }, "draft", { subject: "Pour la clinique" }, null);
    expect(o.status).toBe("saved");
    const draft = (await f
      .db("drafts")
      .where({ id: (o as { draftId: number }).draftId })
      .first()) as DraftRow;
    const state = await questionStateOfDraft(f.db, draft);
    expect(state).toMatchObject({ nirOd: "", destinataire: finess.parc, patientId: null, recipient: { title: "CLINIQUE DU PARC" } });
  });

  it("reopened and sent as shown goes out, and the draft is gone", async () => {
    const saved = formOutcome(await post({ nir_od: nir.ferrand.nir }, "lookup", { subject: "Reprise du brouillon", body: "Bonjour" }, null));
    const draft = (await f.db("drafts").where({ id: saved.draftId! }).first()) as DraftRow;
    const state = await questionStateOfDraft(f.db, draft);
    const o = await post({ nir_od: state.nirOd, destinataire: state.destinataire }, "send", { draft, subject: draft.subject, body: draft.body }, shownBy({ ...saved, state }));
    expect(o.status).toBe("sent");
    expect(await f.db("drafts").where({ id: draft.id }).first()).toBeUndefined();
  });
});

describe("an agent's question by NIR OD", () => {
  it("reaches only patients of the agent's own échelon", async () => {
    const paul = await agentActor(f.db, "HERAULT");
    const o = await submitElsmQuestion(f.deps, ctx(paul), recipientFields.parse({ nir_od: nir.bunyel.nir }), "lookup", form(), null);
    expect(o).toMatchObject({ status: "form", refused: true, errors: { nir_od: "Aucun patient rattaché à votre échelon ne correspond à ce NIR OD." } });
    expect(paul.elsmId).toBe(await elsmIdOf(f.db, "ELSM 341"));
  });
});
