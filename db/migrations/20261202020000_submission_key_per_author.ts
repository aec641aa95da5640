import type { Knex } from "knex";

/**
 * Issue 11 §8: a compose form's submission_key (what makes a double post deliver once) was unique across
 * the whole database but looked up in the sender's scope only, so a key copied from someone else's form
 * failed the insert (a server error) or matched a message of another thread. It is now unique per author:
 * (author_practitioner_id, submission_key) for the PS side, (author_agent_id, submission_key) for the
 * échelon's (each row has exactly one author; NULLs do not clash in a unique index), on messages and drafts.
 */
const TABLES = ["messages", "drafts"] as const;

export async function up(knex: Knex): Promise<void> {
  for (const table of TABLES) {
    await knex.schema.alterTable(table, (t) => {
      t.dropUnique(["submission_key"]);
      t.unique(["author_practitioner_id", "submission_key"], { indexName: `${table}_ps_submission_key` });
      t.unique(["author_agent_id", "submission_key"], { indexName: `${table}_agent_submission_key` });
    });
  }
}

export async function down(knex: Knex): Promise<void> {
  for (const table of TABLES) {
    // Two authors may now hold the same key: all but the oldest row lose it (it only guards a double post).
    await knex(table)
      .whereNotNull("submission_key")
      .where(
        "id",
        ">",
        knex(`${table} as o`)
          .min("o.id")
          .where("o.submission_key", knex.ref(`${table}.submission_key`)),
      )
      .update({ submission_key: null });
    await knex.schema.alterTable(table, (t) => {
      t.dropUnique([], `${table}_agent_submission_key`);
      t.dropUnique([], `${table}_ps_submission_key`);
      t.unique(["submission_key"]);
    });
  }
}
