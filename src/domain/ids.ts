/** The largest id a row can have on both databases (PostgreSQL `integer`). */
const MAX_ID = 2_147_483_647;

/** An id from a URL or a form: a positive integer ("2", "02" and "002" are the same), or null for anything else. */
export function parseId(raw: unknown): number | null {
  if (typeof raw !== "string" || !/^[0-9]{1,10}$/.test(raw)) return null;
  const id = Number(raw);
  return id >= 1 && id <= MAX_ID ? id : null;
}
