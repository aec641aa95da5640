import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { submitCompose } from "../../src/domain/conversations/compose.js";
import { deleteForPs } from "../../src/domain/conversations/operations.js";
import { loadAttachment, loadConversation, loadDraft, namedReplyDraft, newQuestionDraft } from "../../src/domain/conversations/scope.js";
import { patientById } from "../../src/domain/directory/queries.js";
import { NotFound } from "../../src/domain/errors.js";
import { parseId } from "../../src/domain/ids.js";
import { agentActor, conversationBySubject, ctx, form, nam, psActor, seededDomain, upload, type DomainFixture } from "./helpers.js";

describe("an id from a URL or a form", () => {
  it.each([
    ["1", 1],
    ["02", 2],
    ["002", 2],
    ["2147483647", 2_147_483_647],
  ])("%j is the id %d", (raw, id) => {
    expect(parseId(raw)).toBe(id);
  });

  it.each(["0", "-1", "1e3", "99999999999", " 1", "1 ", "", "1.0", "0x10", "+1", "2147483648", "9999999999", "１", "1/2"])("%j is no id (a 404)", (raw) => {
    expect(parseId(raw)).toBeNull();
  });

  it("anything that is not a string is no id", () => {
    for (const raw of [1, undefined, null, ["1"], { id: "1" }, true]) expect(parseId(raw)).toBeNull();
  });
});

describe("who sees what", () => {
  let f: DomainFixture;
  beforeAll(async () => {
    f = await seededDomain();
  });
  afterAll(async () => {
    await f?.close();
  });

  it("a doctor reads their own conversation", async () => {
    const gene = await psActor(f.db, nam.gene);
    const c = await conversationBySubject(f.db, "Arrêt de travail durée maxi");
    expect((await loadConversation(f.db, gene, String(c.id))).subject).toBe("Arrêt de travail durée maxi");
  });

  it("another doctor's conversation is not found", async () => {
    const mezin = await psActor(f.db, nam.mezin);
    const c = await conversationBySubject(f.db, "Arrêt de travail durée maxi");
    await expect(loadConversation(f.db, mezin, String(c.id))).rejects.toBeInstanceOf(NotFound);
  });

  it("every agent of the échelon reads its conversations, an agent of another échelon gets not found", async () => {
    const c = await conversationBySubject(f.db, "Arrêt de travail durée maxi");
    const dubois = await agentActor(f.db, "DUBOIS");
    const paul = await agentActor(f.db, "HERAULT");
    expect((await loadConversation(f.db, dubois, String(c.id))).id).toBe(c.id);
    await expect(loadConversation(f.db, paul, String(c.id))).rejects.toBeInstanceOf(NotFound);
  });

  it("a salaried doctor sees the conversations a colleague of the structure started; a liberal doctor does not", async () => {
    const c = await conversationBySubject(f.db, "Suivi ALD diabète"); // started by Dr ROUX for the centre
    const benali = await psActor(f.db, nam.benali);
    const leroy = await psActor(f.db, nam.leroy); // salaried elsewhere
    const martin = await psActor(f.db, nam.martin);
    expect((await loadConversation(f.db, benali, String(c.id))).id).toBe(c.id);
    await expect(loadConversation(f.db, leroy, String(c.id))).rejects.toBeInstanceOf(NotFound);
    await expect(loadConversation(f.db, martin, String(c.id))).rejects.toBeInstanceOf(NotFound);
  });

  it("a malformed or unknown id is not found, never a database error", async () => {
    const gene = await psActor(f.db, nam.gene);
    for (const raw of ["1e3", "-1", "0", "99999999999", "abc", undefined, "2147483647"]) {
      await expect(loadConversation(f.db, gene, raw)).rejects.toBeInstanceOf(NotFound);
      await expect(loadDraft(f.db, gene, raw)).rejects.toBeInstanceOf(NotFound);
      await expect(loadAttachment(f.db, gene, raw)).rejects.toBeInstanceOf(NotFound);
    }
  });

  it("a doctor's draft is theirs alone: another doctor and the échelon get not found", async () => {
    const draft = await f.db("drafts").where({ subject: "Maladie pro - Urgent" }).first();
    const gene = await psActor(f.db, nam.gene);
    expect((await loadDraft(f.db, gene, String(draft.id))).subject).toBe("Maladie pro - Urgent");
    await expect(loadDraft(f.db, await psActor(f.db, nam.mezin), String(draft.id))).rejects.toBeInstanceOf(NotFound);
    await expect(loadDraft(f.db, await agentActor(f.db, "AIN"), String(draft.id))).rejects.toBeInstanceOf(NotFound);
  });

  it("an échelon's draft is shared by its agents, not by another échelon's", async () => {
    const draft = await f.db("drafts").where({ subject: "TEST ELSM INIT QUESTION" }).first();
    expect((await loadDraft(f.db, await agentActor(f.db, "DUBOIS"), String(draft.id))).id).toBe(draft.id);
    await expect(loadDraft(f.db, await agentActor(f.db, "HERAULT"), String(draft.id))).rejects.toBeInstanceOf(NotFound);
    await expect(loadDraft(f.db, await psActor(f.db, nam.gene), String(draft.id))).rejects.toBeInstanceOf(NotFound);
  });

  it("a reply form may only name a reply draft of its own conversation", async () => {
    const gene = await psActor(f.db, nam.gene);
    const here = await conversationBySubject(f.db, "ALD - demande d'info critères HAS");
    const elsewhere = await conversationBySubject(f.db, "info ALD");
    const saved = await submitCompose(f.deps, ctx(gene), { kind: "reply", conversation: here }, form({ action: "draft", body: "Réponse en cours" }));
    expect(saved.status).toBe("saved");
    const draftId = String((saved as { draftId: number }).draftId);

    expect(await namedReplyDraft(f.db, gene, here, undefined)).toBeNull();
    expect(await namedReplyDraft(f.db, gene, here, "")).toBeNull();
    expect((await namedReplyDraft(f.db, gene, here, draftId))?.body).toBe("Réponse en cours");
    await expect(namedReplyDraft(f.db, gene, elsewhere, draftId)).rejects.toBeInstanceOf(NotFound);
    await expect(namedReplyDraft(f.db, await psActor(f.db, nam.mezin), here, draftId)).rejects.toBeInstanceOf(NotFound);
    // A new question's draft is not a reply draft.
    const question = await f.db("drafts").where({ subject: "Maladie pro - Urgent" }).first();
    await expect(namedReplyDraft(f.db, gene, here, String(question.id))).rejects.toBeInstanceOf(NotFound);
    // … and a reply draft is not a new question's.
    expect(() => newQuestionDraft({ ...question, conversation_id: here.id })).toThrow(NotFound);
  });

  it("an attachment is reachable through its draft's owner only", async () => {
    const gene = await psActor(f.db, nam.gene);
    const question = await f.db("drafts").where({ subject: "Maladie pro - Urgent" }).first();
    const saved = await submitCompose(
      f.deps,
      ctx(gene),
      { kind: "ps-new", patient: (await patientById(f.db, question.patient_id))! },
      form({ action: "draft", draft: question, subject: question.subject, body: question.body, files: [upload(f.storage, "valid", "radio.png")] }),
    );
    expect(saved.status).toBe("saved");
    const att = await f.db("attachments").where({ draft_id: question.id }).first();
    expect((await loadAttachment(f.db, gene, String(att.id))).original_name).toBe("radio.png");
    await expect(loadAttachment(f.db, await psActor(f.db, nam.mezin), String(att.id))).rejects.toBeInstanceOf(NotFound);
    await expect(loadAttachment(f.db, await agentActor(f.db, "AIN"), String(att.id))).rejects.toBeInstanceOf(NotFound);
  });

  it("a thread the doctor deleted is gone for the doctor and their reply draft with it; the échelon still has it", async () => {
    const gene = await psActor(f.db, nam.gene);
    const anna = await agentActor(f.db, "AIN");
    const c = await conversationBySubject(f.db, "complément d'info PSE");
    const saved = await submitCompose(f.deps, ctx(gene), { kind: "reply", conversation: c }, form({ action: "draft", body: "Je vous réponds bientôt" }));
    expect(saved.status).toBe("saved");

    await deleteForPs(f.deps, ctx(gene), c);
    await expect(loadConversation(f.db, gene, String(c.id))).rejects.toBeInstanceOf(NotFound);
    await expect(loadDraft(f.db, gene, String((saved as { draftId: number }).draftId))).rejects.toBeInstanceOf(NotFound);
    expect(await f.db("drafts").where({ conversation_id: c.id, side: "ps" }).first()).toBeUndefined();
    expect((await loadConversation(f.db, anna, String(c.id))).state).toBe(c.state);
  });
});
