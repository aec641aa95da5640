/**
 * Calendar arithmetic in Europe/Paris, the one time zone of the service (issue 14): the days of a due date, how many
 * days late it is, the dashboard's weeks. Days are Paris calendar days, daylight saving included: "15 days later" keeps
 * the wall-clock time across a change of hour, and "late by 1 day" means the day after the due date, not 24 hours.
 */
const DAY_MS = 86_400_000;

const offsetFormat = new Intl.DateTimeFormat("en-US", { timeZone: "Europe/Paris", timeZoneName: "longOffset" });

export type ParisWallClock = { year: number; month: number; day: number; hour: number; minute: number; second: number; weekday: number };

const HOUR_MS = 3_600_000;
/**
 * Paris's offset by UTC hour. Europe/Paris changes its offset only at a whole UTC hour (01:00 UTC since 1996), so
 * one reading of the time-zone data per hour is exact; a list page asks for 20 rows' days and a dashboard for
 * thousands, and `Intl` costs ~10 µs a call. Bounded: cleared when full.
 */
const offsetByHour = new Map<number, number>();

/** Paris's offset from UTC at an instant, in minutes (+60 in winter, +120 in summer). */
function offsetMinutes(instant: number): number {
  const hour = Math.floor(instant / HOUR_MS);
  let offset = offsetByHour.get(hour);
  if (offset === undefined) {
    const m = /GMT([+-])(\d\d):(\d\d)/.exec(offsetFormat.format(new Date(hour * HOUR_MS)));
    offset = m ? (m[1] === "-" ? -1 : 1) * (Number(m[2]) * 60 + Number(m[3])) : 0;
    if (offsetByHour.size >= 50_000) offsetByHour.clear();
    offsetByHour.set(hour, offset);
  }
  return offset;
}

/** The Paris calendar day and time of an instant; weekday 0 is Monday. */
export function parisWallClock(instant: Date): ParisWallClock {
  const wall = new Date(instant.getTime() + offsetMinutes(instant.getTime()) * 60_000);
  return {
    year: wall.getUTCFullYear(),
    month: wall.getUTCMonth() + 1,
    day: wall.getUTCDate(),
    hour: wall.getUTCHours(),
    minute: wall.getUTCMinutes(),
    second: wall.getUTCSeconds(),
    weekday: (wall.getUTCDay() + 6) % 7,
  };
}

/** The instant of a Paris wall-clock time; a day past the month's end rolls over (Date.UTC's rule). */
export function parisInstant(year: number, month: number, day: number, hour = 0, minute = 0, second = 0, ms = 0): Date {
  const asUtc = Date.UTC(year, month - 1, day, hour, minute, second, ms);
  // The offset read at the guess, then again at the instant found: right on both sides of a change of hour.
  const first = asUtc - offsetMinutes(asUtc) * 60_000;
  return new Date(asUtc - offsetMinutes(first) * 60_000);
}

/** 00:00 in Paris on the Paris calendar day `year-month-day`. */
export function parisMidnight(year: number, month: number, day: number): Date {
  return parisInstant(year, month, day);
}

/** `days` Paris calendar days after `iso`, at the same Paris wall-clock time. */
export function addParisDays(iso: string, days: number): string {
  const at = new Date(iso);
  const w = parisWallClock(at);
  return parisInstant(w.year, w.month, w.day + days, w.hour, w.minute, w.second, at.getUTCMilliseconds()).toISOString();
}

/** Paris calendar days from `from` to `to` (0: the same day in Paris). */
export function parisDaysBetween(from: Date, to: Date): number {
  const day = (d: Date) => {
    const w = parisWallClock(d);
    return Date.UTC(w.year, w.month - 1, w.day) / DAY_MS;
  };
  return day(to) - day(from);
}
