/**
 * The one place where SQLite and PostgreSQL differ. Everything else goes through portable Knex.
 */
import type { Knex } from "knex";

type SqliteConnection = { run(sql: string, cb: (err: Error | null) => void): void };

/** Connection set-up for SQLite: enforce foreign keys, write-ahead log, wait on locks instead of failing. */
export function afterConnect(conn: SqliteConnection, done: (err: Error | null, conn: unknown) => void): void {
  conn.run("PRAGMA foreign_keys = ON", (e1) => {
    if (e1) return done(e1, conn);
    conn.run("PRAGMA journal_mode = WAL", (e2) => {
      if (e2) return done(e2, conn);
      conn.run("PRAGMA busy_timeout = 5000", (e3) => {
        if (e3) return done(e3, conn);
        // 32 MB of page cache instead of 2 MB: list pages read the same index pages again and again.
        conn.run("PRAGMA cache_size = -32768", (e4) => done(e4, conn));
      });
    });
  });
}

export function isPostgres(knex: Knex): boolean {
  return knex.client.config.client === "pg";
}

/** Make a table append-only: the database itself refuses UPDATE and DELETE of its rows. */
export async function makeAppendOnly(knex: Knex, table: string): Promise<void> {
  if (isPostgres(knex)) {
    await knex.raw(`
      CREATE OR REPLACE FUNCTION refuse_change() RETURNS trigger AS $$
      BEGIN
        IF current_setting('app.audit_purge', true) = 'on' AND TG_OP = 'DELETE' THEN RETURN OLD; END IF;
        RAISE EXCEPTION 'append-only table';
      END $$ LANGUAGE plpgsql`);
    await knex.raw(`CREATE TRIGGER ${table}_no_update BEFORE UPDATE ON ${table} FOR EACH ROW EXECUTE FUNCTION refuse_change()`);
    await knex.raw(`CREATE TRIGGER ${table}_no_delete BEFORE DELETE ON ${table} FOR EACH ROW EXECUTE FUNCTION refuse_change()`);
    return;
  }
  await knex.raw(`CREATE TRIGGER ${table}_no_update BEFORE UPDATE ON ${table} BEGIN SELECT RAISE(ABORT, 'append-only table'); END`);
  // Only the retention purge (which flips the guard row) may delete, and only rows past retention.
  await knex.raw(`CREATE TRIGGER ${table}_no_delete BEFORE DELETE ON ${table}
    WHEN (SELECT COUNT(*) FROM audit_purge_guard WHERE active = 1) = 0
    BEGIN SELECT RAISE(ABORT, 'append-only table'); END`);
}

export async function dropAppendOnly(knex: Knex, table: string): Promise<void> {
  if (isPostgres(knex)) {
    await knex.raw(`DROP TRIGGER IF EXISTS ${table}_no_update ON ${table}`);
    await knex.raw(`DROP TRIGGER IF EXISTS ${table}_no_delete ON ${table}`);
    return;
  }
  await knex.raw(`DROP TRIGGER IF EXISTS ${table}_no_update`);
  await knex.raw(`DROP TRIGGER IF EXISTS ${table}_no_delete`);
}

/**
 * "Starts with" on a column holding an upper-cased search key, written as a range
 * (key >= 'BUN' AND key < 'BUO') so that a plain b-tree index serves it on both databases
 * (SQLite's LIKE and PostgreSQL's LIKE under a non-C collation cannot use one).
 */
export function whereStartsWith(q: Knex.QueryBuilder, column: string, prefix: string): Knex.QueryBuilder {
  if (!prefix) return q;
  const last = prefix.charCodeAt(prefix.length - 1);
  const upper = prefix.slice(0, -1) + String.fromCharCode(last + 1);
  return q.where(column, ">=", prefix).andWhere(column, "<", upper);
}

/** A unique constraint refused the row (SQLite: SQLITE_CONSTRAINT UNIQUE; PostgreSQL: 23505). */
export function isUniqueViolation(err: unknown): boolean {
  const e = err as { code?: string; message?: string };
  return e?.code === "23505" || (e?.code === "SQLITE_CONSTRAINT" && /UNIQUE/i.test(e.message ?? ""));
}

/**
 * The database cannot store anything now: SQLite's disk or file full, read-only, I/O error, file not openable
 * (the basic code, or an extended one such as SQLITE_IOERR_WRITE); PostgreSQL's insufficient resources (53000),
 * disk full (53100), read-only transaction (25006, a standby or `default_transaction_read_only`), I/O error (58030).
 * Not 53200 out of memory nor 53300 too many connections: the disk is not the cause there.
 */
export function isDatabaseStorageFault(err: unknown): boolean {
  const code = (err as { code?: unknown })?.code;
  if (typeof code !== "string") return false;
  return /^SQLITE_(FULL|READONLY|IOERR|CANTOPEN)/.test(code) || ["53000", "53100", "25006", "58030"].includes(code);
}

/** The id of an inserted row, whichever shape the driver returns it in. */
export function insertedId(row: unknown): number {
  return typeof row === "object" && row !== null ? Number((row as { id: number }).id) : Number(row);
}

/**
 * A query run very often whose SQL text never changes: on PostgreSQL, a named prepared statement
 * (each connection plans it once, then reuses a generic plan; planning a 7-table join costs more
 * than running it). The name must stand for one SQL text only. SQLite's driver ignores it.
 * Behind PgBouncer, use session pooling (or PgBouncer ≥ 1.21 with max_prepared_statements set).
 */
export function prepared(knex: Knex, q: Knex.QueryBuilder, name: string): Knex.QueryBuilder {
  return isPostgres(knex) ? q.options({ name }) : q;
}

/**
 * Empties a PostgreSQL database the app uses: drops the schema in use (the configured one, or the
 * first of the search path) with everything in it and creates it again, empty. SQLite is emptied by
 * deleting its file instead (src/cli/reset-demo.ts). Nothing is rolled back migration by migration.
 */
export async function recreatePostgresSchema(knex: Knex, schema?: string): Promise<void> {
  const name = schema ?? (await knex.raw("SELECT current_schema() AS name")).rows[0]?.name ?? "public";
  const quoted = `"${String(name).replaceAll('"', '""')}"`;
  await knex.raw(`DROP SCHEMA IF EXISTS ${quoted} CASCADE`);
  await knex.raw(`CREATE SCHEMA ${quoted}`);
}

/**
 * Adds a nullable column that references another table's id. PostgreSQL: Knex's ALTER TABLE with its foreign key.
 * SQLite: one plain `ADD COLUMN … REFERENCES` (allowed for a column whose default is NULL) — Knex would rebuild the
 * whole table to add the key, rewriting every row of a table of a million messages' threads.
 */
export async function addReferenceColumn(knex: Knex, table: string, column: string, references: { table: string; column: string }): Promise<void> {
  if (isPostgres(knex)) {
    await knex.schema.alterTable(table, (t) => {
      t.integer(column).references(`${references.table}.${references.column}`);
    });
    return;
  }
  await knex.raw(`ALTER TABLE ?? ADD COLUMN ?? integer REFERENCES ??(??)`, [table, column, references.table, references.column]);
}

// ---- Full-text search (issue 13 §6) ---------------------------------------------------------------------------
// THE adapter of the full-text index `search_text`: one row per thread subject, message and internal note, with the
// thread and its échelon. SQLite: an FTS5 table, tokenizer unicode61 with diacritics removed (no stemming in FTS5:
// the domain asks for each word as a prefix). PostgreSQL: a tsvector in the `french` configuration over unaccent()
// (stemmed: « arrêts » finds « arrêt »), under a GIN index. Written in the transaction that writes its text.

export type SearchTextKind = "subject" | "message" | "note";
export type SearchTextRow = { kind: SearchTextKind; conversationId: number; elsmId: number; text: string };

/** The two-argument unaccent: it does not depend on the search path (the app may run in its own schema). */
const UNACCENT = "public.unaccent('public.unaccent'::regdictionary, ?)";

export async function createSearchText(knex: Knex): Promise<void> {
  if (isPostgres(knex)) {
    // Database-wide, in public; several test schemas may migrate at once: a concurrent creation is not an error.
    for (let attempt = 0; ; attempt += 1) {
      try {
        await knex.raw("CREATE EXTENSION IF NOT EXISTS unaccent SCHEMA public");
        break;
      } catch (err) {
        if (attempt >= 3 || !["23505", "42710", "XX000"].includes((err as { code?: string }).code ?? "")) throw err;
      }
    }
    await knex.schema.createTable("search_text", (t) => {
      t.bigIncrements("id");
      t.string("kind", 8).notNullable();
      t.integer("conversation_id").notNullable();
      t.integer("elsm_id").notNullable();
      t.specificType("tsv", "tsvector").notNullable();
    });
    await knex.raw("CREATE INDEX search_text_tsv ON search_text USING gin (tsv)");
    return;
  }
  await knex.raw(`CREATE VIRTUAL TABLE search_text USING fts5(text, kind UNINDEXED, conversation_id UNINDEXED, elsm_id UNINDEXED, tokenize = "unicode61 remove_diacritics 2")`);
}

export async function dropSearchText(knex: Knex): Promise<void> {
  await knex.raw("DROP TABLE IF EXISTS search_text");
}

/** Indexes texts just written (same transaction). */
export async function indexSearchText(knex: Knex, rows: SearchTextRow[]): Promise<void> {
  for (const r of rows) {
    if (isPostgres(knex)) {
      await knex.raw(`INSERT INTO search_text (kind, conversation_id, elsm_id, tsv) VALUES (?, ?, ?, to_tsvector('french', ${UNACCENT}))`, [
        r.kind,
        r.conversationId,
        r.elsmId,
        r.text,
      ]);
    } else {
      await knex.raw("INSERT INTO search_text (text, kind, conversation_id, elsm_id) VALUES (?, ?, ?, ?)", [r.text, r.kind, r.conversationId, r.elsmId]);
    }
  }
}

/** Empties the index and fills it again from the subjects, messages and notes (migration, demo seed, volume script). */
export async function rebuildSearchText(knex: Knex): Promise<void> {
  await knex.raw("DELETE FROM search_text");
  const sources = [
    ["subject", "SELECT c.subject AS text, c.id AS conversation_id, c.elsm_id FROM conversations c"],
    ["message", "SELECT m.body AS text, m.conversation_id, c.elsm_id FROM messages m JOIN conversations c ON c.id = m.conversation_id"],
    ["note", "SELECT n.body AS text, n.conversation_id, n.elsm_id FROM internal_notes n"],
  ] as const;
  for (const [kind, select] of sources) {
    if (isPostgres(knex)) {
      await knex.raw(
        `INSERT INTO search_text (kind, conversation_id, elsm_id, tsv) SELECT ?, s.conversation_id, s.elsm_id, to_tsvector('french', ${UNACCENT.replace("?", "s.text")}) FROM (${select}) s`,
        [kind],
      );
    } else {
      await knex.raw(`INSERT INTO search_text (text, kind, conversation_id, elsm_id) SELECT s.text, ?, s.conversation_id, s.elsm_id FROM (${select}) s`, [kind]);
    }
  }
  if (!isPostgres(knex)) await knex.raw("INSERT INTO search_text (search_text) VALUES ('optimize')");
}

/**
 * The threads whose indexed texts of these kinds hold every word — each word in any of them (the subject, one
 * message, another): one match per word, their conversations intersected (a subquery of conversation ids). The words
 * come from the domain already reduced to letters and digits; each is still passed as a bound, quoted literal, so
 * nothing typed is ever read as query syntax (FTS5 operators, column filters; tsquery operators).
 */
export function searchTextMatches(knex: Knex, words: string[], options: { kinds: SearchTextKind[]; elsmId?: number }): Knex.QueryBuilder {
  const one = (word: string) => {
    const q = knex("search_text").select("conversation_id").whereIn("kind", options.kinds);
    if (options.elsmId !== undefined) q.where("elsm_id", options.elsmId);
    if (isPostgres(knex)) return q.whereRaw(`tsv @@ plainto_tsquery('french', ${UNACCENT})`, [word]);
    // FTS5: "word"*, the quote doubled inside a string (none is left by the domain anyway). No stemmer: a plural's
    // final s / x is dropped from a word of 5 letters or more ("examens" → "examen"*).
    const stem = word.length >= 5 && /[sx]$/.test(word) ? word.slice(0, -1) : word;
    return q.whereRaw("search_text MATCH ?", [`"${stem.replaceAll('"', '""')}"*`]);
  };
  const [first, ...rest] = words.length ? words : [""];
  const q = one(first!);
  if (rest.length) q.intersect(rest.map(one), false);
  return q;
}
