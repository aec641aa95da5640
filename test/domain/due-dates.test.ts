import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { dueAfterMessage, dueView } from "../../src/domain/conversations/deadlines.js";
import { seededDomain, type DomainFixture } from "./helpers.js";

/**
 * Issue 14 §1 with a fake clock: a due date is counted in Paris calendar days (the wall-clock time kept across a change
 * of hour), and « En retard de n jours » counts the Paris days since the due date — the day after it is 1 day, in the
 * singular; three days after it, 3 days, whatever the hour.
 */
let f: DomainFixture;
let ain: number;
beforeAll(async () => {
  f = await seededDomain();
  ain = Number((await f.db("elsms").where({ code: "ELSM 011" }).first("id")).id);
});
afterAll(async () => {
  await f?.close();
});

const due = (due_at: string, now: string) => dueView({ due_at, due_side: "elsm" }, new Date(now));

describe("the due date of a doctor's message", () => {
  it("is 15 Paris days later at the same Paris time, across the change to summer time and back", async () => {
    // Friday 20 March 2027, 10:00 in Paris (UTC+1) → Sunday 4 April 2027, 10:00 in Paris (UTC+2).
    const spring = await dueAfterMessage(f.db, { elsmId: ain, startedBy: "ps", before: null }, "ps", "2027-03-20T09:00:00.000Z");
    expect(spring).toEqual({ due_at: "2027-04-04T08:00:00.000Z", due_side: "elsm", overdue: false });
    expect(due(spring!.due_at!, "2027-03-20T09:00:00.000Z")!.expected).toBe("Réponse attendue avant le 04/04/2027 à 10:00");
    // Thursday 21 October 2027, 23:30 in Paris (UTC+2) → Friday 5 November 2027, 23:30 in Paris (UTC+1).
    const autumn = await dueAfterMessage(f.db, { elsmId: ain, startedBy: "ps", before: null }, "ps", "2027-10-21T21:30:00.000Z");
    expect(autumn!.due_at).toBe("2027-11-05T22:30:00.000Z");
    expect(due(autumn!.due_at!, "2027-10-21T21:30:00.000Z")!.expected).toBe("Réponse attendue avant le 05/11/2027 à 23:30");
  });

  it("an échelon question is due 21 Paris days later for the doctor", async () => {
    const d = await dueAfterMessage(f.db, { elsmId: ain, startedBy: "elsm", before: null }, "elsm", "2027-03-10T08:15:00.000Z");
    expect(d).toEqual({ due_at: "2027-03-31T07:15:00.000Z", due_side: "ps", overdue: false });
  });
});

describe("how late a due date is", () => {
  // Due Wednesday 16 December 2026 at 14:02 in Paris (13:02 UTC).
  const at = "2026-12-16T13:02:00.000Z";

  it("not past: no lateness; within 3 days the row shows the expected date, further off nothing", () => {
    expect(due(at, "2026-12-16T13:01:00.000Z")).toMatchObject({ lateDays: null, rowText: "Réponse attendue avant le 16/12/2026 à 14:02" });
    expect(due(at, "2026-12-13T13:03:00.000Z")).toMatchObject({ lateDays: null, rowText: "Réponse attendue avant le 16/12/2026 à 14:02" });
    expect(due(at, "2026-12-12T12:00:00.000Z")).toMatchObject({ lateDays: null, rowText: null });
  });

  it("past the same day: late by 1 day, in the singular", () => {
    expect(due(at, "2026-12-16T13:03:00.000Z")).toMatchObject({ lateDays: 1, rowText: "En retard de 1 jour" });
    expect(due(at, "2026-12-16T22:59:00.000Z")!.rowText).toBe("En retard de 1 jour"); // 23:59 in Paris
  });

  it("counts Paris calendar days: the day after is 1, three days after is 3 at any hour, midnight in Paris (not UTC) starts a day", () => {
    expect(due(at, "2026-12-17T22:30:00.000Z")!.rowText).toBe("En retard de 1 jour"); // 23:30 on the 17th in Paris
    expect(due(at, "2026-12-17T23:30:00.000Z")!.rowText).toBe("En retard de 2 jours"); // 00:30 on the 18th in Paris, still the 17th in UTC
    expect(due(at, "2026-12-19T08:00:00.000Z")!.rowText).toBe("En retard de 3 jours");
    expect(due(at, "2026-12-19T13:03:00.000Z")!.rowText).toBe("En retard de 3 jours"); // three days and a minute
    expect(due(at, "2026-12-19T22:59:00.000Z")!.rowText).toBe("En retard de 3 jours");
  });

  it("a due date just before midnight in Paris: the next Paris day is already 1 day late, in summer time too", () => {
    // Due 30 June 2027 at 23:50 in Paris (21:50 UTC); 1 July at 00:10 in Paris.
    expect(dueView({ due_at: "2027-06-30T21:50:00.000Z", due_side: "ps" }, new Date("2027-06-30T22:10:00.000Z"))).toMatchObject({
      expected: "Réponse attendue avant le 30/06/2027 à 23:50",
      lateDays: 1,
      rowText: "En retard de 1 jour",
      owedBy: "ps",
    });
    expect(dueView({ due_at: "2027-06-30T21:50:00.000Z", due_side: "ps" }, new Date("2027-07-01T22:10:00.000Z"))!.rowText).toBe("En retard de 2 jours");
  });

  it("the due date as shown is Intl's Paris date and time of the instant, read again from the minute's cache", () => {
    const paris = (d: Date, o: Intl.DateTimeFormatOptions) => new Intl.DateTimeFormat("fr-FR", { timeZone: "Europe/Paris", ...o }).format(d);
    // 3,000 instants over 2000–2035 (both changes of hour included), each shown twice: computed, then cached.
    let seed = 17;
    for (let i = 0; i < 3_000; i += 1) {
      seed = (seed * 1_103_515_245 + 12_345) % 2_147_483_648;
      const d = new Date(Date.UTC(2000, 0, 1) + (seed / 2_147_483_648) * 35 * 365.25 * 86_400_000);
      const text = `Réponse attendue avant le ${paris(d, { day: "2-digit", month: "2-digit", year: "numeric" })} à ${paris(d, { hour: "2-digit", minute: "2-digit" })}`;
      for (let again = 0; again < 2; again += 1) expect(dueView({ due_at: d.toISOString(), due_side: "elsm" }, d)!.expected).toBe(text);
    }
    // Seconds do not change the minute shown; the next minute does, across midnight in Paris.
    expect(dueView({ due_at: "2027-06-30T21:59:59.999Z", due_side: "ps" }, new Date(0))!.expected).toBe("Réponse attendue avant le 30/06/2027 à 23:59");
    expect(dueView({ due_at: "2027-06-30T22:00:00.000Z", due_side: "ps" }, new Date(0))!.expected).toBe("Réponse attendue avant le 01/07/2027 à 00:00");
  });

  it("nobody owes an answer: nothing shown", () => {
    expect(dueView({ due_at: null, due_side: null }, new Date())).toBeNull();
    expect(dueView({ due_at: at, due_side: null }, new Date())).toBeNull();
  });
});
