/**
 * The one place where SQLite and PostgreSQL differ. Everything else goes through portable Knex.
 */
import { createRequire } from "node:module";
import type { Knex } from "knex";

type SqliteConnection = { run(sql: string, cb: (err: Error | null) => void): void };

// ---- SQLite: a pool of connections, writers one at a time (issue 17 §3) -----------------------------------------
// WAL lets readers run beside the one writer, so a process keeps several connections (SQLITE_CONNECTIONS, default 4):
// list pages no longer queue behind each other on one connection. What that must not break:
// - A deferred transaction (`BEGIN`) that reads, then writes, cannot upgrade once another connection has committed
//   since its read: SQLite answers SQLITE_BUSY at once (no busy wait). Every transaction therefore opens with
//   `BEGIN IMMEDIATE`: it takes the write lock first, waiting (busy_timeout) for another process's writer.
// - Within a process, writers take turns in JavaScript (one at a time per database file): a transaction for its whole
//   length, a write statement outside a transaction for that statement. Waiting inside SQLite instead (busy_timeout)
//   holds one of libuv's 4 threads per waiting writer: three session writes waiting that way, and a file write or a
//   gzip, leave no thread for the next statement of the transaction that holds the lock, which then waits until
//   busy_timeout fails everybody (seen in test/scale/sqlite-pool.test.ts). Across processes, SQLite's lock and
//   busy_timeout still decide. Savepoints (nested transactions) run inside their outer transaction's turn.
// - Every read keeps its prepared statement per connection (the last STATEMENTS_KEPT texts): parsed and planned once,
//   bound and run on each call. The driver's `db.all(sql)` prepares, runs and finalizes each time (4.5 % of a list
//   page's main thread, and 3× the CPU of a kept statement: docs/PERFORMANCE.md). SQLite re-prepares a kept statement
//   itself after a schema change.

const require = createRequire(import.meta.url);
type KnexClientClass = new (config: Knex.Config) => object;
// biome-ignore lint/suspicious/noExplicitAny: knex's internal classes are untyped CommonJS.
type Internal = any;

/** Each SQLite file's writers of this process, in turn: `turn` runs `work` once the previous writer is done. */
const writerTurns = new Map<string, Promise<unknown>>();
function inTurn<T>(file: string, work: () => Promise<T>): Promise<T> {
  const run = (writerTurns.get(file) ?? Promise.resolve()).then(work);
  const settled = run.then(
    () => undefined,
    () => undefined,
  );
  writerTurns.set(file, settled);
  // Forget a file whose writers are all done (tests open many files).
  void settled.then(() => {
    if (writerTurns.get(file) === settled) writerTurns.delete(file);
  });
  return run;
}
const WRITE_SQL = /^\s*(insert|update|delete|replace|create|drop|alter)\b/i;
const READ_SQL = /^\s*(select|with)\b/i;
const WRITE_WORD = /\b(insert|update|delete|replace|returning)\b/i;
/** A query whose statement can be kept: a select (or a raw select or CTE that writes nothing), run with `all`. */
function isRead(obj: Internal): boolean {
  if (obj.method === "select" || obj.method === "first" || obj.method === "pluck") return true;
  return obj.method === "raw" && READ_SQL.test(obj.sql) && !WRITE_WORD.test(obj.sql);
}

const STATEMENTS_KEPT = 200;
/** The connection's statement for `sql`, prepared on first use; the least recently used beyond STATEMENTS_KEPT goes. */
function keptStatement(connection: Internal, sql: string): Internal | Promise<Internal> {
  connection.__prepared ??= new Map<string, Internal>();
  const kept: Map<string, Internal> = connection.__prepared;
  const statement = kept.get(sql);
  if (statement) {
    kept.delete(sql); // most recently used last
    kept.set(sql, statement);
    return statement;
  }
  return new Promise((resolve, reject) => {
    // With a callback, a failed prepare is reported here (without one, the driver emits an unhandled `error` and drops
    // the calls queued behind it: the query would never settle).
    const fresh = connection.prepare(sql, (err: Error | null) => {
      if (err) return reject(err);
      if (kept.has(sql)) return resolve(fresh); // prepared twice at once (a transaction's parallel reads): keep one
      kept.set(sql, fresh);
      if (kept.size > STATEMENTS_KEPT) {
        const [oldest, old] = kept.entries().next().value as [string, Internal];
        kept.delete(oldest);
        old.finalize(); // the driver finalizes after the calls already queued on it
      }
      resolve(fresh);
    });
  });
}

/** `sql`'s rows, through the connection's kept statement for it. */
async function allKept(connection: Internal, sql: string, bindings: unknown[] | undefined): Promise<Record<string, unknown>[]> {
  const got = keptStatement(connection, sql);
  const statement = got instanceof Promise ? await got : got;
  return new Promise((resolve, reject) => {
    statement.all(bindings ?? [], (err: Error | null, rows: Record<string, unknown>[]) => {
      if (err) {
        if (connection.__prepared?.get(sql) === statement) {
          connection.__prepared.delete(sql);
          statement.finalize();
        }
        return reject(err);
      }
      resolve(rows);
    });
  });
}

async function runPrepared(connection: Internal, obj: Internal): Promise<Internal> {
  obj.response = obj.options?.name ? await namedRows(connection, obj.sql, obj.bindings) : await allKept(connection, obj.sql, obj.bindings);
  return obj;
}

// ---- SQLite: a named read's rows as JSON texts (issue 17 §3) -------------------------------------------------------
// The driver builds each row as a JavaScript object on the main thread, one property (and one new key string) per
// column: a list's 20 rows of 31 columns cost 163 µs of main thread, the same rows as 20 JSON texts 88 µs, JSON.parse
// included (docs/PERFORMANCE.md). A named read (`prepared()`: a hot query with a fixed text) is therefore answered,
// once its columns are known from a first plain run, by `SELECT json_object(…) AS j FROM (<its SQL>)` — but only when
// that gives exactly the same rows: the first time, both are run and compared (order, names, values). A read whose
// rows hold a REAL (JSON would round it) or a BLOB, or whose JSON rows differ (two columns of one name), stays plain.

const AS_JSON_KEPT = 100;
/** The JSON form of a read's SQL text, its columns known: each row one text of the same names and values. */
function jsonText(sql: string, columns: string[]): string {
  const pairs = columns.map((c) => `'${c.replaceAll("'", "''")}', "${c.replaceAll('"', '""')}"`);
  return `SELECT json_object(${pairs.join(", ")}) AS j FROM (${sql})`;
}

/** Values JSON carries back unchanged: text, integers JavaScript holds exactly, null. */
function jsonSafe(rows: Record<string, unknown>[]): boolean {
  return rows.every((row) => Object.values(row).every((v) => v === null || typeof v === "string" || Number.isSafeInteger(v)));
}

async function namedRows(connection: Internal, sql: string, bindings: unknown[] | undefined): Promise<Record<string, unknown>[]> {
  connection.__asJson ??= new Map<string, string | null>();
  const asJson: Map<string, string | null> = connection.__asJson;
  const json = asJson.get(sql);
  if (json) return (await allKept(connection, json, bindings)).map((r) => JSON.parse(r.j as string));
  const rows = await allKept(connection, sql, bindings);
  if (json === undefined && rows.length > 0) {
    if (asJson.size >= AS_JSON_KEPT) asJson.clear();
    if (!jsonSafe(rows)) asJson.set(sql, null);
    else {
      const text = jsonText(sql, Object.keys(rows[0]!));
      const same = await allKept(connection, text, bindings).then(
        (got) => JSON.stringify(got.map((r) => JSON.parse(r.j as string))) === JSON.stringify(rows),
        () => false,
      );
      asJson.set(sql, same ? text : null);
    }
  }
  return rows;
}

function sqliteClientClass(): KnexClientClass {
  const ClientSqlite3: Internal = require("knex/lib/dialects/sqlite3/index.js");
  const TransactionSqlite: Internal = require("knex/lib/dialects/sqlite3/execution/sqlite-transaction.js");

  class ImmediateTransaction extends TransactionSqlite {
    begin(conn: unknown) {
      return this.query(conn, "BEGIN IMMEDIATE;");
    }
    _onAcquire(container: unknown, connection: unknown) {
      if (this.client.transacting) return super._onAcquire(container, connection);
      // One writer at a time in this process, its connection in hand (whoever has the turn can always go on): the
      // next starts once this transaction has committed or rolled back.
      return inTurn(this.client.connectionSettings.filename, () => super._onAcquire(container, connection));
    }
  }

  class PooledSqlite extends ClientSqlite3 {
    transaction(...args: unknown[]) {
      return new (ImmediateTransaction as Internal)(this, ...args);
    }
    _query(connection: Internal, obj: Internal) {
      // A write outside a transaction takes its turn; inside one (`transacting`), the transaction holds the turn already.
      if (!this.transacting && obj.sql && (["insert", "update", "del", "counter"].includes(obj.method) || WRITE_SQL.test(obj.sql)))
        return inTurn(this.connectionSettings.filename, () => super._query(connection, obj));
      if (!obj.sql || !isRead(obj)) return super._query(connection, obj);
      return runPrepared(connection, obj);
    }
    async destroyRawConnection(connection: Internal) {
      for (const statement of connection.__prepared?.values() ?? []) await new Promise((r) => statement.finalize(r));
      connection.__prepared?.clear();
      connection.__asJson?.clear();
      return super.destroyRawConnection(connection);
    }
  }
  return PooledSqlite as unknown as KnexClientClass;
}

let sqliteClient: KnexClientClass | null = null;
/** The knex client for SQLite: the sqlite3 driver's, with immediate, queued transactions and prepared hot reads. */
export function sqlitePooledClient(): KnexClientClass {
  sqliteClient ??= sqliteClientClass();
  return sqliteClient;
}

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
/** An ISO time plus a number of days (each a column reference, a raw expression or a subquery), as the same ISO text (UTC, milliseconds). */
export function isoPlusDays(knex: Knex, time: Knex.Raw | Knex.Ref<string, object> | Knex.QueryBuilder, days: Knex.Raw | Knex.Ref<string, object> | Knex.QueryBuilder): Knex.Raw {
  if (isPostgres(knex)) {
    return knex.raw(`to_char((?::timestamptz + ? * interval '1 day') AT TIME ZONE 'UTC', 'YYYY-MM-DD"T"HH24:MI:SS.MS"Z"')`, [time, days]);
  }
  return knex.raw(`strftime('%Y-%m-%dT%H:%M:%fZ', ?, '+' || ? || ' days')`, [time, days]);
}

export function insertedId(row: unknown): number {
  return typeof row === "object" && row !== null ? Number((row as { id: number }).id) : Number(row);
}

/**
 * A query run very often whose SQL text never changes: on PostgreSQL, a named prepared statement
 * (each connection plans it once, then reuses a generic plan; planning a 7-table join costs more
 * than running it). The name must stand for one SQL text only. On SQLite, the connection keeps the statement
 * prepared (sqlitePooledClient above): parsed and planned once per connection, bound and run on each call.
 * Behind PgBouncer, use session pooling (or PgBouncer ≥ 1.21 with max_prepared_statements set).
 */
export function prepared(_knex: Knex, q: Knex.QueryBuilder, name: string): Knex.QueryBuilder {
  return q.options({ name });
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

/**
 * Drops a plain column (no index, no key of its own). PostgreSQL: Knex's ALTER TABLE. SQLite: its own `DROP COLUMN`
 * (3.35+) — Knex would rebuild the table, which the foreign keys pointing at it (messages → conversations) refuse.
 */
export async function dropPlainColumn(knex: Knex, table: string, column: string): Promise<void> {
  if (isPostgres(knex)) {
    await knex.schema.alterTable(table, (t) => t.dropColumn(column));
    return;
  }
  await knex.raw("ALTER TABLE ?? DROP COLUMN ??", [table, column]);
}

// ---- Full-text search (issue 13 §6) ---------------------------------------------------------------------------
// THE adapter of the full-text index `search_text`: one entry per thread subject, message and internal note.
// SQLite: a contentless FTS5 table (tokenizer unicode61, diacritics removed; no stemmer in FTS5: each word is asked
// as a prefix, a plural's final s / x dropped) whose rowid says everything a search needs without reading a row:
// (conversation_id << 24) + 0 for the subject, + n for the thread's n-th message, + 2^23 + n for its n-th note.
// PostgreSQL: a tsvector in the `french` configuration over unaccent() (stemmed: « arrêts » finds « arrêt »), GIN.
// Written in the transaction that writes its text; each word matched on its own (a condition per word).

export type SearchTextKind = "subject" | "message" | "note";
export type SearchTextRow = { kind: SearchTextKind; conversationId: number; elsmId: number; text: string };

/** The two-argument unaccent: it does not depend on the search path (the app may run in its own schema). */
const UNACCENT = "public.unaccent('public.unaccent'::regdictionary, ?)";
const SHIFT = 16_777_216; // 2^24 entries per thread in SQLite's rowid
const NOTE = 8_388_608; // 2^23: the notes' half of a thread's range

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
    // A common word is checked thread by thread while the list is walked in order (see textConditions).
    await knex.raw("CREATE INDEX search_text_conversation ON search_text (conversation_id)");
  } else {
    await knex.raw(`CREATE VIRTUAL TABLE search_text USING fts5(text, content = '', contentless_delete = 1, tokenize = "unicode61 remove_diacritics 2")`);
  }
  // The back office's search results (the three trays) newest first, walked in order while each thread is checked
  // against the words (textConditions): a page of a frequent word stops after its 21 rows.
  await knex.schema.alterTable("conversations", (t) => {
    t.index(["elsm_id", "last_message_at", "id"], "conversations_elsm_recent");
  });
}

export async function dropSearchText(knex: Knex): Promise<void> {
  await knex.raw("DROP TABLE IF EXISTS search_text");
  await knex.raw("DROP INDEX IF EXISTS conversations_elsm_recent");
}

/** Indexes texts just written (same transaction; a message or a note after its row is inserted). */
export async function indexSearchText(knex: Knex, rows: SearchTextRow[]): Promise<void> {
  for (const r of rows) {
    if (isPostgres(knex)) {
      await knex.raw(`INSERT INTO search_text (kind, conversation_id, elsm_id, tsv) VALUES (?, ?, ?, to_tsvector('french', ${UNACCENT}))`, [
        r.kind,
        r.conversationId,
        r.elsmId,
        r.text,
      ]);
      continue;
    }
    const base = r.conversationId * SHIFT;
    // The entry's place in its thread's range: the message's (or note's) rank, its row being written already.
    const rank =
      r.kind === "subject"
        ? "0"
        : r.kind === "message"
          ? "(SELECT COUNT(*) FROM messages WHERE conversation_id = ?)"
          : `${NOTE} + (SELECT COUNT(*) FROM internal_notes WHERE conversation_id = ?)`;
    await knex.raw(`INSERT INTO search_text (rowid, text) VALUES (? + ${rank}, ?)`, r.kind === "subject" ? [base, r.text] : [base, r.conversationId, r.text]);
  }
}

/**
 * Takes a withdrawn message out of the index (issue 15 §1), in the withdrawal's transaction; its row stays, emptied (the
 * tombstone). SQLite: its entry's rowid is its rank in the thread, which the tombstone keeps for the messages after it.
 * PostgreSQL: the rows do not name their message, so the thread's messages are indexed again, the withdrawn one left out.
 */
export async function unindexMessage(knex: Knex, r: { conversationId: number; messageId: number }): Promise<void> {
  if (isPostgres(knex)) {
    await knex("search_text").where({ conversation_id: r.conversationId, kind: "message" }).del();
    await knex.raw(
      `INSERT INTO search_text (kind, conversation_id, elsm_id, tsv)
       SELECT 'message', m.conversation_id, c.elsm_id, to_tsvector('french', ${UNACCENT.replace("?", "m.body")})
       FROM messages m JOIN conversations c ON c.id = m.conversation_id WHERE m.conversation_id = ? AND m.withdrawn_at IS NULL`,
      [r.conversationId],
    );
    return;
  }
  await knex.raw("DELETE FROM search_text WHERE rowid = ? + (SELECT COUNT(*) FROM messages WHERE conversation_id = ? AND id <= ?)", [
    r.conversationId * SHIFT,
    r.conversationId,
    r.messageId,
  ]);
}

/** Takes a whole thread out of the index (its only message withdrawn: the thread goes, issue 15 §1). */
export async function unindexConversation(knex: Knex, conversationId: number): Promise<void> {
  if (isPostgres(knex)) {
    await knex("search_text").where({ conversation_id: conversationId }).del();
    return;
  }
  await knex.raw("DELETE FROM search_text WHERE rowid >= ? AND rowid < ?", [conversationId * SHIFT, (conversationId + 1) * SHIFT]);
}

/** Empties the index and fills it again from the subjects, messages and notes (migration, demo seed, volume script). */
export async function rebuildSearchText(knex: Knex): Promise<void> {
  if (isPostgres(knex)) {
    await knex.raw("DELETE FROM search_text");
    const sources = [
      ["subject", "SELECT c.subject AS text, c.id AS conversation_id, c.elsm_id FROM conversations c"],
      ["message", "SELECT m.body AS text, m.conversation_id, c.elsm_id FROM messages m JOIN conversations c ON c.id = m.conversation_id"],
      ["note", "SELECT n.body AS text, n.conversation_id, n.elsm_id FROM internal_notes n"],
    ] as const;
    for (const [kind, select] of sources) {
      await knex.raw(
        `INSERT INTO search_text (kind, conversation_id, elsm_id, tsv) SELECT ?, s.conversation_id, s.elsm_id, to_tsvector('french', ${UNACCENT.replace("?", "s.text")}) FROM (${select}) s`,
        [kind],
      );
    }
    return;
  }
  await knex.raw("INSERT INTO search_text (search_text) VALUES ('delete-all')");
  await knex.raw(`INSERT INTO search_text (rowid, text) SELECT id * ${SHIFT}, subject FROM conversations`);
  await knex.raw(`INSERT INTO search_text (rowid, text) SELECT conversation_id * ${SHIFT} + ROW_NUMBER() OVER (PARTITION BY conversation_id ORDER BY id), body FROM messages`);
  await knex.raw(
    `INSERT INTO search_text (rowid, text) SELECT conversation_id * ${SHIFT} + ${NOTE} + ROW_NUMBER() OVER (PARTITION BY conversation_id ORDER BY id), body FROM internal_notes`,
  );
  await knex.raw("INSERT INTO search_text (search_text) VALUES ('optimize')");
}

/**
 * The words the engine does not index, so cannot search: PostgreSQL's french stop words (« le », « de », « la »…, an
 * empty tsquery); SQLite's FTS5 has none. Searched alone they would narrow nothing (see textConditions).
 */
export async function unindexedWords(knex: Knex, words: string[]): Promise<string[]> {
  if (!isPostgres(knex) || !words.length) return [];
  const rows = (
    await knex.raw(`SELECT w, plainto_tsquery('french', ${UNACCENT.replace("?", "w")})::text AS q FROM unnest(?::text[]) WITH ORDINALITY AS t(w, n) ORDER BY n`, [words])
  ).rows as { w: string; q: string }[];
  return rows.filter((r) => !r.q).map((r) => r.w);
}

/** At most this many rows holding a word (by PostgreSQL's planner statistics), its threads are listed first. */
const PG_RARE = 5_000;

/**
 * The conditions that narrow a list query to the threads whose indexed texts hold every word — each word in any of
 * them (the subject, a message, a note when asked): one condition per word. The words come from the domain already
 * reduced to letters and digits; each is still a bound, quoted literal, so nothing typed is ever read as query syntax
 * (FTS5 operators, column filters; tsquery operators).
 * - SQLite: the thread id is `c.id + 0`, so that the planner walks the list's own index in its order and probes each
 *   thread in the word's hashed matches until the page is full (a frequent word, in 1 message in 14: 290 ms → 20 ms
 *   at 1 M messages), instead of fetching and sorting every matching thread.
 * - PostgreSQL: each word's tsquery first (a French stop word, which the index does not hold, is left out instead of
 *   matching nothing) and how many rows hold it by the planner's statistics (pg_stats most_common_elems: reading the
 *   GIN index to count would cost a common word's whole posting list). A rare word lists its threads first
 *   (`= ANY(ARRAY(…))`, computed once, in `where`); a common one is checked thread by thread through
 *   search_text_conversation on the list already in its order (`inOrder`: the list query applies it outside an ordered
 *   subquery), so that a page stops after its rows — left to itself the planner would also walk for a word in no
 *   thread, and, with another criterion (a frequent name: 4,706 threads), check every candidate before sorting them
 *   (45 ms, against 15 ms in order).
 */
export type TextConditions = { where: (q: Knex.QueryBuilder) => void; inOrder: ((q: Knex.QueryBuilder) => void) | null };

export async function textConditions(knex: Knex, column: string, words: string[], options: { notes: boolean; elsmId?: number }): Promise<TextConditions> {
  if (isPostgres(knex)) {
    const [tsqueries, stats] = await Promise.all([
      knex.raw(`SELECT plainto_tsquery('french', ${UNACCENT.replace("?", "w")})::text AS q FROM unnest(?::text[]) AS w`, [words]),
      knex.raw(`SELECT s.most_common_elems::text::text[] AS elems, s.most_common_elem_freqs AS freqs, c.reltuples AS n
                  FROM pg_stats s JOIN pg_namespace ns ON ns.nspname = s.schemaname JOIN pg_class c ON c.relnamespace = ns.oid AND c.relname = s.tablename
                 WHERE s.schemaname = current_schema() AND s.tablename = 'search_text' AND s.attname = 'tsv'`),
    ]);
    const stat = stats.rows[0] as { elems: string[] | null; freqs: number[] | null; n: number } | undefined;
    const frequency = new Map((stat?.elems ?? []).map((e, i) => [e, Number(stat?.freqs?.[i] ?? 0)]));
    const rowsOf = (tsquery: string) =>
      Math.min(...[...tsquery.matchAll(/'((?:[^']|'')+)'/g)].map((m) => (frequency.get(m[1]!.replaceAll("''", "'")) ?? 0) * Number(stat?.n ?? 0)));
    const queries = (tsqueries.rows as { q: string }[]).filter((r) => r.q).map((r) => ({ tsquery: r.q, rows: rowsOf(r.q) }));
    // Only stop words (a search kept from before they were refused, full-text.ts): nothing holds them, nothing is found.
    if (words.length && !queries.length) return { where: (q) => void q.whereRaw("1 = 0"), inOrder: null };
    const kinds = options.notes ? ["subject", "message", "note"] : ["subject", "message"];
    const matching = (tsquery: string) => {
      const m = knex("search_text").select("conversation_id").whereIn("kind", kinds).whereRaw("tsv @@ ?::tsquery", [tsquery]);
      if (options.elsmId !== undefined) m.where("elsm_id", options.elsmId);
      return m;
    };
    const rare = queries.filter((w) => w.rows <= PG_RARE);
    const common = queries.filter((w) => w.rows > PG_RARE);
    return {
      where: (q) => {
        for (const { tsquery } of rare) q.whereRaw("?? = ANY(ARRAY(?))", [column, matching(tsquery)]);
      },
      inOrder: common.length
        ? (q) => {
            for (const { tsquery } of common) q.whereIn(column, matching(tsquery));
          }
        : null,
    };
  }
  const one = (word: string) => {
    const stem = word.length >= 5 && /[sx]$/.test(word) ? word.slice(0, -1) : word;
    const m = knex("search_text")
      .select(knex.raw(`rowid / ${SHIFT}`))
      .whereRaw("search_text MATCH ?", [`"${stem.replaceAll('"', '""')}"*`]);
    if (!options.notes) m.whereRaw(`rowid % ${SHIFT} < ${NOTE}`);
    return m;
  };
  return {
    where: (q) => {
      for (const word of words) q.whereRaw("?? + 0 IN ?", [column, one(word)]);
    },
    inOrder: null,
  };
}
