import type { Knex } from "knex";
import { indexAllWords } from "../../src/domain/directory/words.js";

/**
 * Any-word search of raison sociale, city and names (src/domain/directory/words.ts): one row per word of
 * each searchable directory column, found by (kind, word) ranges. Filled here for the rows already there.
 */
export async function up(knex: Knex): Promise<void> {
  await knex.schema.createTable("search_words", (t) => {
    t.string("kind", 20).notNullable();
    t.string("word", 80).notNullable();
    t.integer("entity_id").notNullable();
    t.primary(["kind", "word", "entity_id"]);
  });
  await indexAllWords(knex);
}

export async function down(knex: Knex): Promise<void> {
  await knex.schema.dropTable("search_words");
}
