import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { submitCompose } from "../../src/domain/conversations/compose.js";
import { deleteForPs, openConversation } from "../../src/domain/conversations/operations.js";
import { loadConversation } from "../../src/domain/conversations/scope.js";
import { isPostgres } from "../../src/db/dialect.js";
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

describe("an opening that cannot be written in full", () => {
  // A trigger refuses one of the opening's writes: the first sent (the tray's count) or the last (the audit row).
  const refuse = async (table: string, when: string) => {
    if (isPostgres(f.db)) {
      await f.db.raw(`CREATE OR REPLACE FUNCTION refuse_write() RETURNS trigger AS $$ BEGIN RAISE EXCEPTION 'refused'; END $$ LANGUAGE plpgsql`);
      await f.db.raw(`CREATE TRIGGER refuse_write BEFORE INSERT OR UPDATE ON ${table} FOR EACH ROW WHEN (${when}) EXECUTE FUNCTION refuse_write()`);
    } else {
      await f.db.raw(`CREATE TRIGGER refuse_write BEFORE UPDATE ON ${table} WHEN ${when} BEGIN SELECT RAISE(ABORT, 'refused'); END`);
      await f.db.raw(`CREATE TRIGGER refuse_write_insert BEFORE INSERT ON ${table} WHEN ${when} BEGIN SELECT RAISE(ABORT, 'refused'); END`);
    }
  };
  const allow = async (table: string) => {
    await f.db.raw(isPostgres(f.db) ? `DROP TRIGGER refuse_write ON ${table}` : "DROP TRIGGER refuse_write");
    if (!isPostgres(f.db)) await f.db.raw("DROP TRIGGER refuse_write_insert");
  };

  for (const [table, when] of [
    ["tray_counts", "1 = 1"],
    ["audit_events", "NEW.action = 'conversation.opened'"],
  ] as const) {
    it(`changes nothing when its write to ${table} is refused: the messages stay unread, the counts as they were`, async () => {
      const anna = await agentActor(f.db, "AIN");
      const gene = await psActor(f.db, nam.gene);
      const own = await conversationBySubject(f.db, "ALD - demande d'info critères HAS");
      await submitCompose(f.deps, ctx(gene), { kind: "reply", conversation: own }, form({ body: `Relance ${table}` }));
      const c = await conversationById(f.db, own.id);
      const before = {
        row: c,
        trays: await trays(f.db, anna.elsmId),
        unread: await f.db("messages").where({ conversation_id: c.id, side: "ps" }).whereNull("read_at").count({ n: "*" }),
        opened: await auditRows(f.db, "conversation.opened", c.id),
      };
      expect(Number(before.row.elsm_unread)).toBeGreaterThan(0);
      await refuse(table, when);
      try {
        await expect(openConversation(f.db, ctx(anna), c)).rejects.toThrow(/refused/);
      } finally {
        await allow(table);
      }
      expect(await conversationById(f.db, c.id)).toEqual(before.row);
      expect(await trays(f.db, anna.elsmId)).toEqual(before.trays);
      expect(await f.db("messages").where({ conversation_id: c.id, side: "ps" }).whereNull("read_at").count({ n: "*" })).toEqual(before.unread);
      expect(await auditRows(f.db, "conversation.opened", c.id)).toBe(before.opened);
      // Allowed again, the same opening goes through whole.
      await openConversation(f.db, ctx(anna), c);
      expect(Number((await conversationById(f.db, c.id)).elsm_unread)).toBe(0);
      expect(await auditRows(f.db, "conversation.opened", c.id)).toBe(before.opened + 1);
    });
  }
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
