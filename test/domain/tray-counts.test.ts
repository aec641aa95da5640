import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { openConversation } from "../../src/domain/conversations/operations.js";
import { readTrayView, trayCountLabel } from "../../src/domain/conversations/tray-view.js";
import { agentActor, conversationBySubject, ctx, seededDomain, type DomainFixture } from "./helpers.js";

let f: DomainFixture;
beforeAll(async () => {
  f = await seededDomain();
});
afterAll(async () => {
  await f?.close();
});

const MIGRATION = "20261202010000_tray_unread_and_filters";
const snapshot = async () =>
  (await f.db("tray_counts").orderBy(["elsm_id", "state"]).select("elsm_id", "state", "n", "unread", "patient", "patient_unread")).map((r) =>
    Object.fromEntries(Object.entries(r).map(([k, v]) => [k, k === "state" ? v : Number(v)])),
  );

describe("unread and patient counts of the trays", () => {
  it("the migration fills them from the existing conversations, and rolls back to the tray sizes alone", async () => {
    const kept = await snapshot();
    expect(kept.some((r) => Number(r.unread) > 0)).toBe(true);
    await f.db.migrate.down({ name: MIGRATION });
    expect(await f.db.schema.hasColumn("tray_counts", "unread")).toBe(false);
    expect(await f.db.schema.hasColumn("tray_counts", "n")).toBe(true);
    await f.db.migrate.up({ name: MIGRATION });
    expect(await snapshot()).toEqual(kept);
  });

  it("two agents opening the same unread thread at once count it read once", async () => {
    const anna = await agentActor(f.db, "AIN");
    const marc = await agentActor(f.db, "DUBOIS");
    const c = await conversationBySubject(f.db, "info ALD");
    const before = await f.db("tray_counts").where({ elsm_id: c.elsm_id, state: c.state }).first("unread");
    await Promise.all([openConversation(f.db, ctx(anna), c), openConversation(f.db, ctx(marc), c), openConversation(f.db, ctx(anna), c)]);
    const after = await f.db("tray_counts").where({ elsm_id: c.elsm_id, state: c.state }).first("unread");
    expect(Number(after.unread)).toBe(Number(before.unread) - 1);
  });
});

describe("a tray tab's count", () => {
  it("reads out as a sentence, singular or plural, and shows the size alone when everything is read", () => {
    expect(trayCountLabel({ n: 12, unread: 3, patient: 0, patientUnread: 0, overdue: 0 })).toEqual({ shown: "(12 · 3 non lus)", spoken: "12 échanges, dont 3 non lus" });
    expect(trayCountLabel({ n: 1, unread: 1, patient: 1, patientUnread: 1, overdue: 0 })).toEqual({ shown: "(1 · 1 non lu)", spoken: "1 échange, dont 1 non lu" });
    expect(trayCountLabel({ n: 4, unread: 0, patient: 2, patientUnread: 0, overdue: 0 })).toEqual({ shown: "(4)", spoken: null });
  });

  it("an order or filter value it does not know (or given twice) falls back to the default", () => {
    expect(readTrayView({ ordre: ["anciennes", "recentes"], non_lus: "oui", patient: "x", attribution: ["moi", "aucun"], retard: "oui" })).toEqual({
      ordre: "recentes",
      non_lus: false,
      patient: "tous",
      attribution: "tous",
      retard: false,
    });
    expect(readTrayView({ ordre: "anciennes", non_lus: "1", patient: "sans", attribution: "aucun", retard: "1" })).toEqual({
      ordre: "anciennes",
      non_lus: true,
      patient: "sans",
      attribution: "aucun",
      retard: true,
    });
  });
});
