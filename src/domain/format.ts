const dateParts = new Intl.DateTimeFormat("fr-FR", {
  timeZone: "Europe/Paris",
  weekday: "long",
  day: "numeric",
  month: "2-digit",
  year: "numeric",
  hour: "2-digit",
  minute: "2-digit",
});

/**
 * Lists show the same few minutes again and again: each text of a minute is formatted once (Intl's formatToParts and
 * format are slow), then read from `cache` by the ISO instant's minute ("2019-04-15T13:14").
 */
function perMinute(cache: Map<string, string>, iso: string, format: (iso: string) => string): string {
  const minute = iso.slice(0, 16);
  let text = cache.get(minute);
  if (text === undefined) {
    if (cache.size >= 50_000) cache.clear();
    text = format(iso);
    cache.set(minute, text);
  }
  return text;
}

const formattedMinutes = new Map<string, string>();

/** "lundi, 15/04/2019 15:14" in Europe/Paris, as in the manual's lists. */
export function formatDateTime(iso: string): string {
  return perMinute(formattedMinutes, iso, formatMinute);
}

const dayOnly = new Intl.DateTimeFormat("fr-FR", { timeZone: "Europe/Paris", day: "2-digit", month: "2-digit", year: "numeric" });
const dayAndTimeMinutes = new Map<string, string>();

/** "15/04/2019 à 15:14" in Europe/Paris (an answer-due date). */
export function formatDayAtTime(iso: string): string {
  return perMinute(dayAndTimeMinutes, iso, (at) => {
    const date = new Date(at);
    return `${dayOnly.format(date)} à ${timeOnly.format(date)}`;
  });
}

function formatMinute(iso: string): string {
  const parts = Object.fromEntries(dateParts.formatToParts(new Date(iso)).map((p) => [p.type, p.value]));
  // The manual writes the day without a leading zero ("mardi, 9/04/2019 18:45"), the month with one.
  return `${parts.weekday}, ${Number(parts.day)}/${parts.month}/${parts.year} ${parts.hour}:${parts.minute}`;
}

/** "17/04/1970" from "1970-04-17". */
export function formatBirthDate(isoDate: string): string {
  const [y, m, d] = isoDate.split("-");
  return `${d}/${m}/${y}`;
}

const timeOnly = new Intl.DateTimeFormat("fr-FR", { timeZone: "Europe/Paris", hour: "2-digit", minute: "2-digit" });

/** "15:42" in Europe/Paris. */
export function formatTime(date: Date): string {
  return timeOnly.format(date);
}
