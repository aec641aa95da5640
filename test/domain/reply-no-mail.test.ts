import { afterAll, beforeAll, describe, expect, it } from "vitest";
import type { AgentActor } from "../../src/domain/actor.js";
import { replyMailWarning, submitCompose } from "../../src/domain/conversations/compose.js";
import { loadConversation, replyDraft } from "../../src/domain/conversations/scope.js";
import { agentActor, conversationBySubject, count, ctx, form, nam, nir, patient, psActor, seededDomain, type DomainFixture } from "./helpers.js";

/** Issue 10 §7: the échelon replying to a doctor or structure that no notification mail reaches is told, and confirms. */
let f: DomainFixture;
let paul: AgentActor;
let martinThread: number;
beforeAll(async () => {
  f = await seededDomain();
  paul = await agentActor(f.db, "HERAULT");
  // Dr MARTIN (no mailbox) asks the ELSM 341 about Marie-Ange CASANOVA.
  const martin = await psActor(f.db, nam.martin);
  const o = await submitCompose(
    f.deps,
    ctx(martin),
    { kind: "ps-new", patient: await patient(f.db, nir.casanova2A.nir) },
    form({ subject: "Question du Dr Martin", body: "Bonjour" }),
  );
  if (o.status !== "sent") throw new Error("setup: not sent");
  martinThread = o.conversationId;
});
afterAll(async () => {
  await f?.close();
});

const WARNING = "Dr Sophie MARTIN n'a pas de boîte mail de notification : la réponse sera visible à sa prochaine connexion, sans courriel.";

describe("the échelon's reply to a party without a notification mailbox", () => {
  it("is announced by a warning naming the doctor; none for a doctor with a mailbox, none on the doctor's side", async () => {
    const thread = await loadConversation(f.db, paul, String(martinThread));
    expect(await replyMailWarning(f.db, paul, thread)).toBe(WARNING);
    const anna = await agentActor(f.db, "AIN");
    const gene = await loadConversation(f.db, anna, String((await conversationBySubject(f.db, "info ALD")).id));
    expect(await replyMailWarning(f.db, anna, gene)).toBeNull();
    const martin = await psActor(f.db, nam.martin);
    expect(await replyMailWarning(f.db, martin, await loadConversation(f.db, martin, String(martinThread)))).toBeNull();
  });

  it("sent without the confirmation is refused with the warning as the error, and nothing is sent", async () => {
    const thread = await loadConversation(f.db, paul, String(martinThread));
    const messages = await count(f.db, "messages", { conversation_id: martinThread });
    const o = await submitCompose(f.deps, ctx(paul), { kind: "reply", conversation: thread }, form({ body: "Réponse sans confirmation" }));
    expect(o).toMatchObject({ status: "invalid", errors: { confirm_no_mail: expect.stringContaining(WARNING) } });
    expect(await count(f.db, "messages", { conversation_id: martinThread })).toBe(messages);
  });

  it("sent with the confirmation goes, and no mail is queued", async () => {
    const thread = await loadConversation(f.db, paul, String(martinThread));
    // The form given back by the refused send names the draft that kept its text (a post naming none never takes it).
    const kept = await replyDraft(f.db, paul, martinThread);
    const o = await submitCompose(f.deps, ctx(paul), { kind: "reply", conversation: thread }, form({ body: "Réponse confirmée", confirmNoMail: true, draft: kept }));
    expect(o.status).toBe("sent");
    expect(await f.db("messages").where({ conversation_id: martinThread, side: "elsm" }).pluck("body")).toEqual(["Réponse confirmée"]);
    expect(await f.db("notifications").where({ conversation_id: martinThread }).whereNull("recipient_elsm_id").pluck("id")).toEqual([]);
  });

  it("names a structure without a mailbox by its raison sociale", async () => {
    await f.db("structures").where({ finess: "340098765" }).update({ mailbox: null });
    const thread = await loadConversation(f.db, paul, String((await conversationBySubject(f.db, "Chirurgie bariatrique - entente préalable")).id));
    expect(await replyMailWarning(f.db, paul, thread)).toBe(
      "CLINIQUE DU PARC n'a pas de boîte mail de notification : la réponse sera visible à sa prochaine connexion, sans courriel.",
    );
    await f.db("structures").where({ finess: "340098765" }).update({ mailbox: "direction@clinique-parc.example" });
  });
});
