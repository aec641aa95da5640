import { afterAll, beforeAll, describe, expect, it } from "vitest";
import type { AgentActor } from "../../src/domain/actor.js";
import { submitCompose } from "../../src/domain/conversations/compose.js";
import { closeConversation } from "../../src/domain/conversations/operations.js";
import { loadConversation } from "../../src/domain/conversations/scope.js";
import {
  actualTrays,
  agentActor,
  auditRows,
  conversationById,
  conversationBySubject,
  ctx,
  form,
  isStored,
  nam,
  psActor,
  seededDomain,
  trays,
  upload,
  type DomainFixture,
  closeForm,
} from "./helpers.js";

let f: DomainFixture;
let reason: { reason_id: string };
let anna: AgentActor;
let dubois: AgentActor;
beforeAll(async () => {
  f = await seededDomain();
  reason = await closeForm(f.db, await agentActor(f.db, "AIN"));
  anna = await agentActor(f.db, "AIN");
  dubois = await agentActor(f.db, "DUBOIS");
});
afterAll(async () => {
  await f?.close();
});

describe("closing a conversation", () => {
  it("moves it to CLOS once; closing it again (stale page or fresh) changes nothing and is not an error", async () => {
    const c = await conversationBySubject(f.db, "Arrêt de travail durée maxi"); // en_cours
    const before = await trays(f.db, anna.elsmId);

    expect(await closeConversation(f.deps, ctx(anna), c, reason)).toEqual({ closed: true });
    const closed = await conversationById(f.db, c.id);
    expect(closed.state).toBe("clos");
    expect(closed.closed_at).toBeTruthy();
    const after = { ...before, en_cours: before.en_cours - 1, clos: before.clos + 1 };
    expect(await trays(f.db, anna.elsmId)).toEqual(after);

    expect(await closeConversation(f.deps, ctx(dubois), c, reason)).toEqual({ closed: false }); // the row as loaded before the first close
    expect(await closeConversation(f.deps, ctx(anna), await loadConversation(f.db, anna, String(c.id)), reason)).toEqual({ closed: false });
    expect(await trays(f.db, anna.elsmId)).toEqual(after);
    expect(await auditRows(f.db, "conversation.closed", c.id)).toBe(1);
    expect((await conversationById(f.db, c.id)).closed_at).toBe(closed.closed_at);
  });

  it("four closes at once by two agents all answer, one closes, the tray moves once and one audit row is written", async () => {
    const c = await conversationBySubject(f.db, "ALD - demande d'info critères HAS"); // a_traiter
    expect(c.state).toBe("a_traiter");
    const before = await trays(f.db, anna.elsmId);

    const results = await Promise.all([anna, dubois, anna, dubois].map((agent) => closeConversation(f.deps, ctx(agent), c, reason)));
    expect(results.filter((r) => "closed" in r && r.closed)).toHaveLength(1);
    expect(results.filter((r) => "closed" in r && !r.closed)).toHaveLength(3);

    expect((await conversationById(f.db, c.id)).state).toBe("clos");
    expect(await trays(f.db, anna.elsmId)).toEqual({ ...before, a_traiter: before.a_traiter - 1, clos: before.clos + 1 });
    expect(await trays(f.db, anna.elsmId)).toEqual(await actualTrays(f.db, anna.elsmId));
    expect(await auditRows(f.db, "conversation.closed", c.id)).toBe(1);
  });

  it("an already closed thread stays as it is: no audit row, no tray change", async () => {
    const c = await conversationBySubject(f.db, "Sans dossier");
    const before = await trays(f.db, anna.elsmId);
    expect(await closeConversation(f.deps, ctx(anna), c, reason)).toEqual({ closed: false });
    expect(await trays(f.db, anna.elsmId)).toEqual(before);
    expect(await auditRows(f.db, "conversation.closed", c.id)).toBe(0);
  });

  it("discards the échelon's reply draft and its file, keeps the doctor's draft, and the doctor still reads the thread", async () => {
    const gene = await psActor(f.db, nam.gene);
    const c = await conversationBySubject(f.db, "complément d'info PSE");
    const elsmDraft = await submitCompose(
      f.deps,
      ctx(anna),
      { kind: "reply", conversation: c },
      form({ action: "draft", body: "Réponse jamais envoyée", files: [upload(f.storage, "valid", "compte-rendu.docx")] }),
    );
    const psDraft = await submitCompose(f.deps, ctx(gene), { kind: "reply", conversation: c }, form({ action: "draft", body: "Ma réponse" }));
    expect(elsmDraft.status).toBe("saved");
    expect(psDraft.status).toBe("saved");
    const elsmDraftId = (elsmDraft as { draftId: number }).draftId;
    const [file] = await f.db("attachments").where({ draft_id: elsmDraftId }).pluck("storage_key");
    expect(await isStored(f.storage, file)).toBe(true);

    expect(await closeConversation(f.deps, ctx(anna), c, reason)).toEqual({ closed: true });
    expect(await f.db("drafts").where({ id: elsmDraftId }).first()).toBeUndefined();
    expect(await f.db("attachments").where({ storage_key: file }).first()).toBeUndefined();
    expect(await isStored(f.storage, file)).toBe(false);
    expect(
      await f
        .db("drafts")
        .where({ id: (psDraft as { draftId: number }).draftId })
        .first(),
    ).toMatchObject({ body: "Ma réponse" });
    expect((await loadConversation(f.db, gene, String(c.id))).state).toBe("clos");
  });
});

describe("the reason of a close (issue 14 §3)", () => {
  it("only a reason of the agent's own ELSM: another's refused on its field like an unknown one, nothing written", async () => {
    const c = await conversationBySubject(f.db, "Recherche"); // ELSM 011, en_cours
    const paul = await agentActor(f.db, "HERAULT");
    const foreign = await closeForm(f.db, paul);
    const before = await trays(f.db, anna.elsmId);
    for (const input of [foreign, { reason_id: "0" }, { reason_id: "x" }]) {
      expect(await closeConversation(f.deps, ctx(anna), c, { ...input, reason_text: "gardé" })).toEqual({
        refused: { values: { reasonId: input.reason_id, text: "gardé" }, errors: { reason: "Ce motif de clôture n'existe pas ou plus : choisissez-en un dans la liste." } },
      });
    }
    expect(await closeConversation(f.deps, ctx(anna), c, undefined)).toEqual({
      refused: { values: { reasonId: "", text: "" }, errors: { reason: "Choisissez le motif de clôture dans la liste." } },
    });
    expect((await conversationById(f.db, c.id)).state).toBe("en_cours");
    expect(await trays(f.db, anna.elsmId)).toEqual(before);
    expect(await auditRows(f.db, "conversation.closed", c.id)).toBe(0);
  });

  it("copies the label and the trimmed précision onto the thread", async () => {
    const c = await conversationBySubject(f.db, "Recherche");
    expect(await closeConversation(f.deps, ctx(dubois), c, { ...reason, reason_text: " Vu.\r\nMerci " })).toEqual({ closed: true });
    expect(await conversationById(f.db, c.id)).toMatchObject({ state: "clos", closed_reason_label: "Réponse apportée", closed_reason_text: "Vu.\nMerci" });
  });
});
