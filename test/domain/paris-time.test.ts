import { describe, expect, it } from "vitest";
import { parisDaysBetween, parisInstant, parisWallClock } from "../../src/domain/paris-time.js";

/**
 * The Paris clock reads the time-zone data once per UTC hour (a list page asks it for every row). It must say what
 * `Intl` says for every instant: the minutes around each change of hour, and a spread of instants over 30 years.
 */
const reference = new Intl.DateTimeFormat("en-CA", {
  timeZone: "Europe/Paris",
  year: "numeric",
  month: "2-digit",
  day: "2-digit",
  hour: "2-digit",
  minute: "2-digit",
  second: "2-digit",
  hourCycle: "h23",
  weekday: "short",
});
const WEEKDAYS = ["Mon", "Tue", "Wed", "Thu", "Fri", "Sat", "Sun"];
function intlClock(at: Date) {
  const p = Object.fromEntries(reference.formatToParts(at).map((x) => [x.type, x.value]));
  return {
    year: Number(p.year),
    month: Number(p.month),
    day: Number(p.day),
    hour: Number(p.hour),
    minute: Number(p.minute),
    second: Number(p.second),
    weekday: WEEKDAYS.indexOf(p.weekday!),
  };
}

describe("the Paris wall clock", () => {
  it("matches Intl minute by minute around the changes of hour of 2026 and 2027", () => {
    for (const change of ["2026-03-29T01:00:00Z", "2026-10-25T01:00:00Z", "2027-03-28T01:00:00Z", "2027-10-31T01:00:00Z"]) {
      const at = Date.parse(change);
      for (let t = at - 3 * 3_600_000; t <= at + 3 * 3_600_000; t += 60_000 + 7_000) {
        expect(parisWallClock(new Date(t)), new Date(t).toISOString()).toEqual(intlClock(new Date(t)));
      }
    }
  });

  it("matches Intl on 5,000 instants spread over 2000–2030", () => {
    let seed = 12345;
    const start = Date.parse("2000-01-01T00:00:00Z");
    const span = Date.parse("2030-12-31T00:00:00Z") - start;
    for (let i = 0; i < 5_000; i += 1) {
      seed = (seed * 1_103_515_245 + 12_345) % 2 ** 31;
      const at = new Date(start + Math.floor((seed / 2 ** 31) * span));
      expect(parisWallClock(at), at.toISOString()).toEqual(intlClock(at));
    }
  });

  it("counts Paris days across a change of hour, and finds the instant of a Paris time", () => {
    // 23:30 on Saturday 28 March 2026 (UTC+1) to 00:30 on Monday 30 March (UTC+2): two Paris days, 24 hours.
    expect(parisDaysBetween(new Date("2026-03-28T22:30:00Z"), new Date("2026-03-29T22:30:00Z"))).toBe(2);
    expect(parisInstant(2026, 3, 29, 12).toISOString()).toBe("2026-03-29T10:00:00.000Z");
    expect(parisInstant(2026, 10, 25, 12).toISOString()).toBe("2026-10-25T11:00:00.000Z");
  });
});
