import { afterAll, beforeAll, describe, expect, it } from "vitest";
import type { AgentActor, PsActor } from "../../src/domain/actor.js";
import { submitCompose } from "../../src/domain/conversations/compose.js";
import { closeConversation } from "../../src/domain/conversations/operations.js";
import type { ConversationRow } from "../../src/domain/conversations/scope.js";
import {
  actualTrays,
  agentActor,
  closeForm,
  conversationById,
  count,
  ctx,
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

/**
 * Issue 11 §3: an agent's reply racing a close of the same thread (another agent, or the same one in
 * another tab). Whichever commits first wins; the thread never ends closed-then-reopened by the reply.
 */
let f: DomainFixture;
let reason: { reason_id: string };
let anna: AgentActor;
let dubois: AgentActor;
let gene: PsActor;
beforeAll(async () => {
  f = await seededDomain();
  reason = await closeForm(f.db, await agentActor(f.db, "AIN"));
  anna = await agentActor(f.db, "AIN");
  dubois = await agentActor(f.db, "DUBOIS");
  gene = await psActor(f.db, nam.gene);
});
afterAll(async () => {
  await f?.close();
});

/** A fresh thread from Dr GENE about Guillaume BUNYEL, in A TRAITER, as the agent loaded it. */
async function freshThread(i: number): Promise<ConversationRow> {
  const guillaume = await patient(f.db, nir.bunyel.nir, "Guillaume");
  const o = await submitCompose(f.deps, ctx(gene), { kind: "ps-new", patient: guillaume }, form({ subject: `Course ${i}`, body: "Question" }));
  if (o.status !== "sent") throw new Error("not sent");
  return (await conversationById(f.db, o.conversationId)) as ConversationRow;
}

describe("a reply racing a close of the same thread", () => {
  it("ends either replied-then-closed or closed with the reply refused, never reopened by the reply", async () => {
    const threads = await Promise.all(Array.from({ length: 20 }, (_, i) => freshThread(i)));
    const outcomes = await Promise.all(
      threads.map((c, i) =>
        Promise.all([
          submitCompose(f.deps, ctx(anna), { kind: "reply", conversation: c }, form({ body: `Réponse ${i}`, confirmNoMail: true })),
          closeConversation(f.deps, ctx(dubois), c, reason),
        ]),
      ),
    );
    for (const [i, c] of threads.entries()) {
      const [reply, close] = outcomes[i]!;
      const after = await conversationById(f.db, c.id);
      const elsmMessages = await f.db("messages").where({ conversation_id: c.id, side: "elsm" }).select("body", "sent_at");
      expect(after.state, `thread ${i}`).toBe("clos");
      expect(close, `thread ${i}`).toEqual({ closed: true });
      if (reply.status === "sent") {
        // Reply then close: delivered before the close.
        expect(elsmMessages).toHaveLength(1);
        expect(elsmMessages[0]!.sent_at <= String(after.closed_at)).toBe(true);
      } else {
        // Close then reply: refused, saying who closed it, with nothing written after the close.
        expect(reply.status).toBe("invalid");
        expect(reply.status === "invalid" && reply.errors.conversation).toBe("Ce fil a été clos par Marc DUBOIS pendant votre saisie : la réponse n'a pas été envoyée.");
        expect(elsmMessages).toHaveLength(0);
        expect(await f.db("drafts").where({ conversation_id: c.id, side: "elsm" }).first()).toBeUndefined();
      }
    }
    expect(await trays(f.db, anna.elsmId)).toEqual(await actualTrays(f.db, anna.elsmId));
  });

  it("a reply form loaded before the close and posted after is refused with its text and its valid file handed back", async () => {
    const c = await freshThread(100); // the row as the reply form saw it: A TRAITER
    expect(await closeConversation(f.deps, ctx(dubois), c, reason)).toEqual({ closed: true });
    const o = await submitCompose(
      f.deps,
      ctx(anna),
      { kind: "reply", conversation: c },
      form({ body: "Texte tapé trop tard", confirmNoMail: true, files: [upload(f.storage, "valid", "compte-rendu.pdf")] }),
    );
    expect(o.status).toBe("invalid");
    if (o.status !== "invalid") return;
    expect(o.errors.conversation).toBe("Ce fil a été clos par Marc DUBOIS pendant votre saisie : la réponse n'a pas été envoyée.");
    expect(o.draftId).toBeNull();
    expect(o.held?.map((h) => h.originalName)).toEqual(["compte-rendu.pdf"]);
    expect(await isStored(f.storage, o.held![0]!.storageKey)).toBe(true);
    expect(await count(f.db, "messages", { conversation_id: c.id, side: "elsm" })).toBe(0);
    expect(await count(f.db, "drafts", { conversation_id: c.id, side: "elsm" })).toBe(0);
    expect((await conversationById(f.db, c.id)).state).toBe("clos");
  });
});
