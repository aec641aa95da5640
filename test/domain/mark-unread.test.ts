import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { recountDerived } from "../../src/domain/conversations/counters.js";
import { markUnread, openConversation } from "../../src/domain/conversations/operations.js";
import { agentActor, conversationBySubject, ctx, nam, psActor, seededDomain, type DomainFixture } from "./helpers.js";

let f: DomainFixture;
beforeAll(async () => {
  f = await seededDomain();
});
afterAll(async () => {
  await f?.close();
});

const MIGRATION = "20261205030000_mark_unread";
const counters = async () => ({
  trays: (await f.db("tray_counts").orderBy(["elsm_id", "state"]).select("elsm_id", "state", "n", "unread", "patient", "patient_unread")).map((r) =>
    Object.fromEntries(Object.entries(r).map(([k, v]) => [k, k === "state" ? v : Number(v)])),
  ),
  unread: (await f.db("conversations").orderBy("id").select("id", "ps_unread", "elsm_unread")).map((r) => ({ id: r.id, ps: Number(r.ps_unread), elsm: Number(r.elsm_unread) })),
});

describe("marking a thread unread (issue 14 §4)", () => {
  it("each side marks for itself: the other side's counter and read times stay", async () => {
    const gene = await psActor(f.db, nam.gene);
    const anna = await agentActor(f.db, "AIN");
    const c = await conversationBySubject(f.db, "RV pour échange confraternel");
    const read = await f.db("messages").where({ conversation_id: c.id }).orderBy("id").pluck("read_at");
    expect(await markUnread(f.db, ctx(gene), c)).toEqual({ marked: true });
    expect(await f.db("conversations").where({ id: c.id }).first("ps_unread", "elsm_unread")).toMatchObject({ ps_unread: 1, elsm_unread: 0 });
    expect(await markUnread(f.db, ctx(anna), c)).toEqual({ marked: true });
    expect(await f.db("conversations").where({ id: c.id }).first("ps_unread", "elsm_unread")).toMatchObject({ ps_unread: 1, elsm_unread: 1 });
    expect(await f.db("messages").where({ conversation_id: c.id }).orderBy("id").pluck("read_at")).toEqual(read);
    // One side opening ends its own mark only.
    await openConversation(f.db, ctx(anna), c);
    expect(await f.db("conversations").where({ id: c.id }).first("ps_unread", "elsm_unread")).toMatchObject({ ps_unread: 1, elsm_unread: 0 });
  });

  it("two agents marking at once count the thread unread once in its tray", async () => {
    const anna = await agentActor(f.db, "AIN");
    const marc = await agentActor(f.db, "DUBOIS");
    const c = await conversationBySubject(f.db, "Arrêt de travail durée maxi");
    const before = await f.db("tray_counts").where({ elsm_id: c.elsm_id, state: c.state }).first("unread");
    const outcomes = await Promise.all([markUnread(f.db, ctx(anna), c), markUnread(f.db, ctx(marc), c), markUnread(f.db, ctx(anna), c)]);
    expect(outcomes.filter((o) => o.marked)).toHaveLength(1);
    const after = await f.db("tray_counts").where({ elsm_id: c.elsm_id, state: c.state }).first("unread");
    expect(Number(after.unread)).toBe(Number(before.unread) + 1);
    const kept = await counters();
    await recountDerived(f.db);
    expect(await counters()).toEqual(kept);
  });

  it("the migration rolls back to the counts without the marks, and the marks' columns go", async () => {
    const marked = await counters();
    await f.db.migrate.down({ name: MIGRATION });
    expect(await f.db.schema.hasColumn("conversations", "elsm_marked_unread")).toBe(false);
    const unmarked = await counters();
    await f.db.migrate.up({ name: MIGRATION });
    // Without the marks, the counts are those a recount of the messages alone gives.
    await recountDerived(f.db);
    expect(await counters()).toEqual(unmarked);
    expect(unmarked).not.toEqual(marked);
  });
});
