import type { Knex } from "knex";
import { createSearchText, dropSearchText, rebuildSearchText } from "../../src/db/dialect.js";

/**
 * Issue 13 §6: full-text search in subjects, messages and (on request) internal notes. The index `search_text` is
 * the dialect's (src/db/dialect.ts: SQLite FTS5, PostgreSQL tsvector french + unaccent); filled here from what exists,
 * then kept in step by the operations that write a subject, a message or a note, in their transaction.
 * (SQLite also gets conversations_elsm_recent there: see createSearchText.)
 */
export async function up(knex: Knex): Promise<void> {
  await createSearchText(knex);
  await rebuildSearchText(knex);
}

export async function down(knex: Knex): Promise<void> {
  await dropSearchText(knex);
}
