import { afterAll, beforeAll, describe, expect, it } from "vitest";
import type { AgentActor } from "../../src/domain/actor.js";
import type { ComposeInput } from "../../src/domain/conversations/compose.js";
import { questionStateOfDraft, recipientFields, submitElsmQuestion, type QuestionOutcome, type ShownRecipient } from "../../src/domain/conversations/elsm-question.js";
import type { DraftRow } from "../../src/domain/conversations/scope.js";
import {
  agentActor,
  conversationById,
  count,
  ctx,
  elsmIdOf,
  finess,
  form,
  isStored,
  nam,
  nir,
  patient,
  psActor,
  seededDomain,
  trays,
  upload,
  type DomainFixture,
} from "./helpers.js";

let f: DomainFixture;
let anna: AgentActor;
/** Bunyel's NIR OD has three beneficiaries: the agent chooses Guillaume (the ouvrant droit) unless told otherwise. */
let guillaume: string;
beforeAll(async () => {
  f = await seededDomain();
  anna = await agentActor(f.db, "AIN");
  guillaume = String((await patient(f.db, nir.bunyel.nir, "Guillaume")).id);
});
afterAll(async () => {
  await f?.close();
});

const CHECK = "Vérifiez le destinataire affiché ci-dessous, puis cliquez à nouveau sur ENVOYER.";

/** One post of the question form, the recipient fields parsed as the web layer does. */
function post(
  recipient: { nir_od?: string; destinataire?: string; patient?: string },
  intent: "send" | "draft" | "lookup",
  input: Partial<ComposeInput>,
  shown: ShownRecipient | null,
) {
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
    const o = formOutcome(await post({ nir_od: ` ${nir.bunyel.nir} `, patient: guillaume }, "lookup", {}, null));
    const gene = await psActor(f.db, nam.gene);
    expect(o).toMatchObject({ errors: {}, notice: null, refused: false, draftId: null });
    expect(o.state).toMatchObject({
      nirOd: nir.bunyel.nir,
      destinataire: "",
      recipient: { title: "Dr GENE Alain", detail: "N°AM : 991101197 - 34170 CASTELNAU LE LEZ" },
      patientId: Number(guillaume),
      recipientIds: { rp: gene.practitionerId },
    });
    expect(o.state.beneficiaries.map((b) => b.firstName)).toEqual(["Guillaume", "Léa", "Hugo"]);
    expect(await count(f.db, "messages")).toBe(messages);
    expect(await count(f.db, "drafts")).toBe(drafts);
  });

  it("a lookup writes no draft: the text stays in the form and a valid file is held for the next post", async () => {
    const drafts = await count(f.db, "drafts");
    const o = formOutcome(
      await post(
        { nir_od: nir.bunyel.nir, patient: guillaume },
        "lookup",
        { subject: "Objet tapé avant", body: "Texte tapé avant", files: [upload(f.storage, "valid", "releve.xlsx")] },
        null,
      ),
    );
    expect(o.draftId).toBeNull();
    expect(o.held.map((h) => h.originalName)).toEqual(["releve.xlsx"]);
    expect(await isStored(f.storage, o.held[0]!.storageKey)).toBe(true);
    expect(await count(f.db, "attachments", { storage_key: o.held[0]!.storageKey })).toBe(0);
    expect(await count(f.db, "drafts")).toBe(drafts);
  });

  it("a send before the recipient was shown is not sent: the form again with the recipient, a notice, and the text kept", async () => {
    const messages = await count(f.db, "messages");
    const drafts = await count(f.db, "drafts");
    const o = formOutcome(await post({ nir_od: nir.bunyel.nir, patient: guillaume }, "send", { subject: "Sans vérifier", body: "Texte" }, null));
    expect(o).toMatchObject({ notice: CHECK, refused: true, errors: {}, draftId: null });
    expect(o.state.recipient?.title).toBe("Dr GENE Alain");
    expect(await count(f.db, "drafts")).toBe(drafts);
    expect(await count(f.db, "messages")).toBe(messages);
  });

  it("a send with the recipient shown before goes to the médecin traitant, about the patient, in EN COURS", async () => {
    const before = await trays(f.db, anna.elsmId);
    const shown = shownBy(await post({ nir_od: nir.bunyel.nir, patient: guillaume }, "lookup", {}, null));
    const o = await post(
      { nir_od: nir.bunyel.nir, patient: guillaume },
      "send",
      { subject: "Question ELSM", body: "Bonjour Docteur", files: [upload(f.storage, "valid", "releve.xlsx")] },
      shown,
    );
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
    const shown = shownBy(await post({ nir_od: nir.bunyel.nir, patient: guillaume }, "lookup", {}, null));
    const mezin = await psActor(f.db, nam.mezin);
    const lea = await patient(f.db, nir.bunyel.nir, "Léa");
    for (const other of [
      { ...shown, rp: mezin.practitionerId },
      { ...shown, patientId: lea.id },
      { patientId: shown.patientId, rs: 1 }, // a structure was shown
      { patientId: null, rp: shown.rp }, // shown by N°AM, sent by NIR OD
    ]) {
      const o = formOutcome(await post({ nir_od: nir.bunyel.nir, patient: guillaume }, "send", { subject: "Objet", body: "Texte" }, other));
      expect(o).toMatchObject({ notice: CHECK, refused: true });
    }
    expect(await count(f.db, "messages")).toBe(messages);
  });

  it("the recipient changed since it was shown: the new one is shown, and only the next send goes", async () => {
    const shownGene = shownBy(await post({ nir_od: nir.bunyel.nir, patient: guillaume }, "lookup", {}, null));
    const typed = { subject: "Changement de destinataire", body: "Texte" };
    const first = formOutcome(await post({ nir_od: nir.solana.nir }, "send", { ...typed, files: [upload(f.storage, "valid", "compte-rendu.pdf")] }, shownGene));
    expect(first.state.recipient?.title).toBe("Dr MEZIN Jean-Luc");
    const second = await post({ nir_od: nir.solana.nir }, "send", { ...typed, held: first.held }, shownBy(first));
    expect(second.status).toBe("sent");
    const mezin = await psActor(f.db, nam.mezin);
    const conversationId = (second as { conversationId: number }).conversationId;
    expect((await conversationById(f.db, conversationId)).ps_practitioner_id).toBe(mezin.practitionerId);
    const [message] = await f.db("messages").where({ conversation_id: conversationId });
    expect(await f.db("attachments").where({ message_id: message.id }).pluck("original_name")).toEqual(["compte-rendu.pdf"]);
  });

  it("a salaried doctor's N°AM is refused and points to the structure's FINESS; nothing is sent, the text is kept", async () => {
    const messages = await count(f.db, "messages");
    const o = formOutcome(await post({ destinataire: nam.roux }, "send", { subject: "Au Dr Roux", body: "Texte" }, { patientId: null }));
    expect(o.refused).toBe(true);
    expect(o.errors.destinataire).toContain("médecin salarié");
    expect(o.errors.destinataire).toContain("FINESS 010012345");
    expect(o.state.recipient).toBeNull();
    expect(o.draftId).toBeNull();
    expect(await count(f.db, "drafts", { subject: "Au Dr Roux" })).toBe(0);
    expect(await count(f.db, "messages")).toBe(messages);
  });

  it("an unknown FINESS is refused on the destinataire field", async () => {
    const o = formOutcome(await post({ destinataire: "019999999" }, "send", {}, null));
    expect(o.errors).toEqual({ destinataire: "Aucun médecin (N°AM) ni aucune structure (FINESS) ne correspond à « 019999999 »." });
    expect(o.refused).toBe(true);
  });

  it("no recipient at all is refused on the NIR OD field, and no draft without a recipient is written", async () => {
    const o = formOutcome(await post({}, "send", { subject: "Sans destinataire", body: "Texte" }, null));
    expect(o.errors).toEqual({ nir_od: "Indiquez le destinataire : le NIR OD du patient, ou le N°AM du médecin ou le FINESS de la structure." });
    expect(o.draftId).toBeNull();
    expect(await count(f.db, "drafts", { subject: "Sans destinataire" })).toBe(0);
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
    expect(recipientFields.parse({ nir_od: `  ${"1".repeat(40)}  `, destinataire: 42 })).toEqual({ nir_od: "1".repeat(30), destinataire: "", patient: "" });
    expect(recipientFields.parse({ nir_od: " 1 70 04 69 387 111 72 ", destinataire: "99 1 10 11 97" })).toEqual({
      nir_od: "1 70 04 69 387 111 72",
      destinataire: "99 1 10 11 97",
      patient: "",
    });
    expect(recipientFields.parse({})).toEqual({ nir_od: "", destinataire: "", patient: "" });
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
      beneficiaries: [],
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
    const saved = await post({ nir_od: nir.ferrand.nir }, "draft", { subject: "Reprise du brouillon", body: "Bonjour" }, null);
    expect(saved.status).toBe("saved");
    const draft = (await f
      .db("drafts")
      .where({ id: (saved as { draftId: number }).draftId })
      .first()) as DraftRow;
    const state = await questionStateOfDraft(f.db, draft);
    const o = await post(
      { nir_od: state.nirOd, destinataire: state.destinataire },
      "send",
      { draft, subject: draft.subject, body: draft.body },
      shownBy({ ...saved, state } as QuestionOutcome),
    );
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

describe("a question refused for its recipient (issue 10 §4)", () => {
  it("writes no draft: the files are held, and the send once the recipient is right attaches them", async () => {
    const drafts = await count(f.db, "drafts");
    const refused = formOutcome(
      await post({ destinataire: "123456789" }, "send", { subject: "Avec pièce", body: "Texte", files: [upload(f.storage, "valid", "compte-rendu.pdf")] }, null),
    );
    expect(refused).toMatchObject({ refused: true, draftId: null });
    expect(refused.errors.destinataire).toContain("Aucun médecin");
    expect(refused.held.map((h) => h.originalName)).toEqual(["compte-rendu.pdf"]);
    expect(await count(f.db, "drafts")).toBe(drafts);
    const shown = formOutcome(await post({ destinataire: nam.gene }, "lookup", { subject: "Avec pièce", body: "Texte", held: refused.held }, null));
    expect(shown.held.map((h) => h.originalName)).toEqual(["compte-rendu.pdf"]);
    expect(await count(f.db, "drafts")).toBe(drafts);
    const sent = await post({ destinataire: nam.gene }, "send", { subject: "Avec pièce", body: "Texte", held: shown.held }, shownBy(shown));
    expect(sent.status).toBe("sent");
    const [message] = await f.db("messages").where({ conversation_id: (sent as { conversationId: number }).conversationId });
    expect(await f.db("attachments").where({ message_id: message.id }).pluck("original_name")).toEqual(["compte-rendu.pdf"]);
  });

  it("a recipient without a notification mailbox writes no draft either", async () => {
    const drafts = await count(f.db, "drafts");
    const o = formOutcome(await post({ destinataire: nam.martin }, "send", { subject: "Pour le Dr Martin", body: "Texte" }, null));
    expect(o.errors.destinataire).toContain("n'a pas de boîte mail de notification");
    expect(o.draftId).toBeNull();
    expect(await count(f.db, "drafts")).toBe(drafts);
  });

  it("a send shown first but refused for its text writes no draft: the held files come back", async () => {
    const shown = shownBy(await post({ destinataire: nam.gene }, "lookup", {}, null));
    const drafts = await count(f.db, "drafts");
    const o = await post({ destinataire: nam.gene }, "send", { subject: "Sans texte", body: "", files: [upload(f.storage, "valid", "releve.xlsx")] }, shown);
    expect(o).toMatchObject({ status: "invalid", draftId: null, errors: { body: expect.stringContaining("obligatoire") } });
    expect((o as { held: { originalName: string }[] }).held.map((h) => h.originalName)).toEqual(["releve.xlsx"]);
    expect(await count(f.db, "drafts")).toBe(drafts);
  });

  it("Enregistrer comme brouillon with a refused recipient saves a draft that has no recipient, and says so", async () => {
    const o = formOutcome(await post({ destinataire: "123456789" }, "draft", { subject: "Brouillon sans destinataire", body: "Texte" }, null));
    expect(o.errors.destinataire).toContain("Aucun médecin");
    expect(o.notice).toBe("Le brouillon a été enregistré sans destinataire : corrigez le destinataire pour pouvoir l'envoyer.");
    expect(await f.db("drafts").where({ id: o.draftId! }).first()).toMatchObject({
      subject: "Brouillon sans destinataire",
      recipient_practitioner_id: null,
      recipient_structure_id: null,
      patient_id: null,
    });
  });

  it("a question opened from a draft and refused for its recipient leaves the draft as it was", async () => {
    const saved = await post({ destinataire: nam.gene }, "draft", { subject: "Brouillon adressé", body: "Avant" }, null);
    const draft = (await f
      .db("drafts")
      .where({ id: (saved as { draftId: number }).draftId })
      .first()) as DraftRow;
    const gene = await psActor(f.db, nam.gene);
    const o = formOutcome(await post({ destinataire: "123456789" }, "send", { draft, subject: "Brouillon adressé", body: "Après" }, null));
    expect(o.draftId).toBe(draft.id);
    expect(await f.db("drafts").where({ id: draft.id }).first()).toMatchObject({ body: "Avant", recipient_practitioner_id: gene.practitionerId });
  });
});

describe("a NIR OD and an N°AM / FINESS both typed (issue 10 §6)", () => {
  for (const intent of ["lookup", "send", "draft"] as const) {
    it(`(${intent}) asks which one to use, on both fields, and guesses no recipient`, async () => {
      const messages = await count(f.db, "messages");
      const o = formOutcome(await post({ nir_od: nir.solana.nir, destinataire: nam.gene }, intent, { subject: `Les deux (${intent})`, body: "Texte" }, null));
      expect(o.errors.nir_od).toContain("Un N°AM ou FINESS est aussi saisi");
      expect(o.errors.destinataire).toContain("Un NIR OD est aussi saisi");
      expect(o.state).toMatchObject({ nirOd: nir.solana.nir, destinataire: nam.gene, recipient: null, recipientIds: null, patientId: null });
      expect(await count(f.db, "messages")).toBe(messages);
    });
  }

  it("sent with the recipient shown for one of them still asks, nothing is sent", async () => {
    const shown = shownBy(await post({ destinataire: nam.gene }, "lookup", {}, null));
    const o = formOutcome(await post({ nir_od: nir.solana.nir, destinataire: nam.gene }, "send", { subject: "Objet", body: "Texte" }, shown));
    expect(Object.keys(o.errors).sort()).toEqual(["destinataire", "nir_od"]);
  });
});

describe("a NIR OD with several beneficiaries (issue 10 §12)", () => {
  it("looked up, offers the beneficiaries with no error and no recipient yet", async () => {
    const o = formOutcome(await post({ nir_od: nir.bunyel.nir }, "lookup", {}, null));
    expect(o).toMatchObject({ errors: {}, refused: false });
    expect(o.state.recipient).toBeNull();
    expect(o.state.beneficiaries.map((b) => `${b.firstName} rang ${b.rang}`)).toEqual(["Guillaume rang 1", "Léa rang 1", "Hugo rang 2"]);
  });

  it("sent without a choice is refused on the choice, never sent to the first one", async () => {
    const messages = await count(f.db, "messages");
    const o = formOutcome(await post({ nir_od: nir.bunyel.nir }, "send", { subject: "Sans choix", body: "Texte" }, { patientId: Number(guillaume) }));
    expect(o.errors).toEqual({ patient: "Choisissez l'un des bénéficiaires proposés." });
    expect(o.state.beneficiaries).toHaveLength(3);
    expect(await count(f.db, "messages")).toBe(messages);
  });

  it("the twin chosen (rang 2) is the patient of the question sent", async () => {
    const hugo = await patient(f.db, nir.bunyel.nir, "Hugo");
    const shown = formOutcome(await post({ nir_od: nir.bunyel.nir, patient: String(hugo.id) }, "lookup", {}, null));
    expect(shown.state.patientId).toBe(hugo.id);
    const o = await post({ nir_od: nir.bunyel.nir, patient: String(hugo.id) }, "send", { subject: "Pour Hugo", body: "Texte" }, shownBy(shown));
    expect(o.status).toBe("sent");
    expect((await conversationById(f.db, (o as { conversationId: number }).conversationId)).patient_id).toBe(hugo.id);
  });

  it("a saved draft about one of them offers the choice again, that one checked", async () => {
    const lea = await patient(f.db, nir.bunyel.nir, "Léa");
    const saved = await post({ nir_od: nir.bunyel.nir, patient: String(lea.id) }, "draft", { subject: "Pour Léa" }, null);
    const draft = (await f
      .db("drafts")
      .where({ id: (saved as { draftId: number }).draftId })
      .first()) as DraftRow;
    const state = await questionStateOfDraft(f.db, draft);
    expect(state.patientId).toBe(lea.id);
    expect(state.beneficiaries).toHaveLength(3);
  });
});
