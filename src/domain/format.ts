const dateParts = new Intl.DateTimeFormat("fr-FR", {
  timeZone: "Europe/Paris",
  weekday: "long",
  day: "numeric",
  month: "2-digit",
  year: "numeric",
  hour: "2-digit",
  minute: "2-digit",
});

/** Lists show the same few minutes again and again: formatted once each (Intl's formatToParts is slow). */
const formattedMinutes = new Map<string, string>();

/** "lundi, 15/04/2019 15:14" in Europe/Paris, as in the manual's lists. */
export function formatDateTime(iso: string): string {
  const minute = iso.slice(0, 16);
  let text = formattedMinutes.get(minute);
  if (text === undefined) {
    if (formattedMinutes.size >= 50_000) formattedMinutes.clear();
    text = formatMinute(iso);
    formattedMinutes.set(minute, text);
  }
  return text;
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
