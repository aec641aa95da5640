import type { Knex } from "knex";
import { whereStartsWith } from "../../db/dialect.js";
import { nameKey } from "./names.js";

/**
 * Any-word search of the directory (raison sociale, city, names): each word of a searchable column is a
 * row of `search_words` (kind, word, entity id), primary key (kind, word, entity_id), so that "tilleuls",
 * "LES TILLEULS" or "Castelnau-le-Lez" find CENTRE DE SANTE LES TILLEULS and CASTELNAU LE LEZ through
 * one index range per typed word — never a scan of the directory. Case, accents, hyphens and apostrophes
 * are ignored. Rows are written by whoever creates directory rows: the migration that added the table,
 * the demo seed and the populate script (indexWords).
 */
export const WORD_SOURCES = {
  structures: { raison_sociale: "structure_name", city: "structure_city" },
  practitioners: { last_name: "practitioner_name", city: "practitioner_city" },
  patients: { last_name: "patient_last", first_name: "patient_first" },
  agents: { last_name: "agent_last", first_name: "agent_first" },
} as const;

type Sources = typeof WORD_SOURCES;
export type WordKind = { [T in keyof Sources]: Sources[T][keyof Sources[T]] }[keyof Sources];

/** The longest word kept (the column's length). */
const WORD_MAX = 80;

/** The words of a value, as searched: no accents, upper case, split on anything but letters and digits, once each. */
export function wordKeys(value: string): string[] {
  const words = nameKey(value)
    .split(/[^\p{L}\p{N}]+/u)
    .filter(Boolean)
    .map((w) => w.slice(0, WORD_MAX));
  return [...new Set(words)];
}

/** Rows a single insert writes (SQLite's limit of 500 terms in a compound SELECT, with room). */
const INSERT_ROWS = 400;

type Row = { kind: WordKind; word: string; entity_id: number };

/** The word rows of one directory row of `table`. */
export function wordRows(table: keyof Sources, row: { id: number } & Record<string, unknown>): Row[] {
  const rows: Row[] = [];
  for (const [column, kind] of Object.entries(WORD_SOURCES[table]) as [string, WordKind][]) {
    for (const word of wordKeys(String(row[column] ?? ""))) rows.push({ kind, word, entity_id: row.id });
  }
  return rows;
}

/** (Re)writes the words of every row of `table`, read and written by batches (the migration, the seed, the populate script). */
export async function indexWords(db: Knex | Knex.Transaction, table: keyof Sources, batch = 2_000): Promise<void> {
  const columns = Object.keys(WORD_SOURCES[table]);
  await db("search_words").whereIn("kind", Object.values(WORD_SOURCES[table])).delete();
  let after = 0;
  for (;;) {
    const rows = (await db(table)
      .select("id", ...columns)
      .where("id", ">", after)
      .orderBy("id")
      .limit(batch)) as ({ id: number } & Record<string, unknown>)[];
    if (rows.length === 0) return;
    const words = rows.flatMap((r) => wordRows(table, r));
    // Knex writes a multi-row insert on SQLite as a compound SELECT, limited to 500 terms.
    for (let i = 0; i < words.length; i += INSERT_ROWS) await db("search_words").insert(words.slice(i, i + INSERT_ROWS));
    after = Number(rows[rows.length - 1]!.id);
  }
}

/** Every directory table's words (the migration that created search_words, the demo seed). */
export async function indexAllWords(db: Knex | Knex.Transaction): Promise<void> {
  for (const table of Object.keys(WORD_SOURCES) as (keyof Sources)[]) await indexWords(db, table);
}

/**
 * The ids of the rows each typed word starts one of the words of (all typed words must match, in any
 * order): one index range of search_words per word. Typed text without a letter or digit matches nothing.
 */
export function idsMatchingWords(db: Knex, kind: WordKind, typed: string): Knex.QueryBuilder {
  // The longest word first: the most selective range is read first.
  const words = wordKeys(typed).sort((a, b) => b.length - a.length);
  let ids: Knex.QueryBuilder | null = null;
  for (const word of words) {
    const q = db("search_words").select("entity_id").where("kind", kind);
    whereStartsWith(q, "word", word);
    if (ids) q.whereIn("entity_id", ids);
    ids = q;
  }
  return ids ?? db("search_words").select("entity_id").whereIn("entity_id", []);
}
