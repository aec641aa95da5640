import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { submitCompose } from "../../src/domain/conversations/compose.js";
import { deleteForPs, openConversation } from "../../src/domain/conversations/operations.js";
import { loadConversation } from "../../src/domain/conversations/scope.js";
import { NotFound } from "../../src/domain/errors.js";
import { agentActor, auditRows, conversationById, conversationBySubject, ctx, form, nam, psActor, seededDomain, trays, type DomainFixture } from "./helpers.js";

let f: DomainFixture;
beforeAll(async () => {
  f = await seededDomain();
});
afterAll(async () => {
  await f?.close();
});

describe("opening a thread", () => {
  it("the échelon opening a doctor's message marks it read ([Lu] for the doctor) and clears the échelon's unread count", async () => {
    const anna = await agentActor(f.db, "AIN");
    const c = await conversationBySubject(f.db, "info ALD"); // one unread PS message
    expect((await conversationById(f.db, c.id)).elsm_unread).toBe(1);
    await openConversation(f.db, ctx(anna), c);
    expect(await f.db("messages").where({ conversation_id: c.id, side: "ps" }).whereNull("read_at").first()).toBeUndefined();
    expect((await conversationById(f.db, c.id)).elsm_unread).toBe(0);
    expect(await auditRows(f.db, "conversation.opened", c.id)).toBe(1);
  });

  it("a doctor opening a thread marks only the échelon's messages read, never their own", async () => {
    const mezin = await psActor(f.db, nam.mezin);
    const c = await conversationBySubject(f.db, "Recherche"); // one unread ELSM message
    const gene = await psActor(f.db, nam.gene);
    const own = await conversationBySubject(f.db, "ALD - demande d'info critères HAS");
    await submitCompose(f.deps, ctx(gene), { kind: "reply", conversation: own }, form({ body: "Relance" }));
    const unreadForElsm = Number((await conversationById(f.db, own.id)).elsm_unread);

    await openConversation(f.db, ctx(mezin), c);
    expect((await conversationById(f.db, c.id)).ps_unread).toBe(0);
    expect(await f.db("messages").where({ conversation_id: c.id }).whereNull("read_at").first()).toBeUndefined();

    await openConversation(f.db, ctx(gene), own);
    expect(await f.db("messages").where({ conversation_id: own.id, side: "ps", body: "Relance" }).first("read_at")).toEqual({ read_at: null });
    expect((await conversationById(f.db, own.id)).elsm_unread).toBe(unreadForElsm);
  });
});

describe("a doctor deleting a thread", () => {
  it("hides it from the doctor only, moves no tray, and an échelon message brings it back unread", async () => {
    const gene = await psActor(f.db, nam.gene);
    const anna = await agentActor(f.db, "AIN");
    const c = await conversationBySubject(f.db, "Durée arrêt de travail Lombalgie");
    const before = await trays(f.db, anna.elsmId);
    const unread = Number((await conversationById(f.db, c.id)).ps_unread);

    await deleteForPs(f.deps, ctx(gene), c);
    await expect(loadConversation(f.db, gene, String(c.id))).rejects.toBeInstanceOf(NotFound);
    expect(await trays(f.db, anna.elsmId)).toEqual(before);
    expect(await auditRows(f.db, "conversation.deleted", c.id)).toBe(1);

    const relaunch = await submitCompose(f.deps, ctx(anna), { kind: "reply", conversation: await loadConversation(f.db, anna, String(c.id)) }, form({ body: "Relance" }));
    expect(relaunch.status).toBe("sent");
    const back = await loadConversation(f.db, gene, String(c.id));
    expect(back.ps_deleted_at).toBeNull();
    expect((await conversationById(f.db, c.id)).ps_unread).toBe(unread + 1);
  });
});
