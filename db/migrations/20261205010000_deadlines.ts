import type { Knex } from "knex";
import { isoPlusDays } from "../../src/db/dialect.js";

/**
 * Issue 14 §1–2 and §5: answer-due dates and their reminders; the first answer's time, for the échelon's dashboard.
 * - `elsms.elsm_answer_days` / `ps_answer_days`: the échelon's delays (15 and 21 days by default), set on /bo/delais.
 * - `conversations.due_at` (ISO time, null when the thread waits for nobody), `due_side` (who owes the answer:
 *   'elsm' or 'ps'), `overdue` (set once by the deadline pass when due_at is past, with its reminder; cleared by a new
 *   due date), and `tray_counts.overdue` (the ELSM's overdue threads per tray, kept like its other counts).
 * - (overdue, due_at): the deadline pass's range; (elsm_id, state, overdue, last_message_at, id): a tray's
 *   « En retard seulement » page.
 * - `notifications.kind`: 'message' (a message waits) or 'reminder' (an answer is overdue) — which mail is sent.
 * - `conversations.first_answer_at`: the échelon's first message in a thread a doctor started (kept by the send);
 *   (elsm_id, started_by, created_at, first_answer_at): the dashboard's weeks of questions, one covering range.
 * Existing threads get their due date from their history; those already past are flagged overdue without a mail
 * (no burst of reminders for the past on the day this is deployed).
 */
export async function up(knex: Knex): Promise<void> {
  await knex.schema.alterTable("elsms", (t) => {
    t.integer("elsm_answer_days").notNullable().defaultTo(15);
    t.integer("ps_answer_days").notNullable().defaultTo(21);
  });
  await knex.schema.alterTable("conversations", (t) => {
    t.string("due_at", 24);
    t.string("due_side", 4);
    t.boolean("overdue").notNullable().defaultTo(false);
    t.index(["overdue", "due_at"], "conversations_due");
    t.index(["elsm_id", "state", "overdue", "last_message_at", "id"], "conversations_tray_overdue");
    t.string("first_answer_at", 24);
    t.index(["elsm_id", "started_by", "created_at", "first_answer_at"], "conversations_questions");
  });
  await knex.schema.alterTable("tray_counts", (t) => {
    t.integer("overdue").notNullable().defaultTo(0);
  });
  await knex.schema.alterTable("notifications", (t) => {
    t.string("kind", 10).notNullable().defaultTo("message");
  });
  await backfillFromHistory(knex, new Date());
}

export async function down(knex: Knex): Promise<void> {
  await knex.schema.alterTable("notifications", (t) => t.dropColumn("kind"));
  await knex.schema.alterTable("tray_counts", (t) => t.dropColumn("overdue"));
  await knex.schema.alterTable("conversations", (t) => {
    t.dropIndex([], "conversations_questions");
    t.dropIndex([], "conversations_tray_overdue");
    t.dropIndex([], "conversations_due");
  });
  await knex.schema.alterTable("conversations", (t) => {
    t.dropColumn("first_answer_at");
    t.dropColumn("overdue");
    t.dropColumn("due_side");
    t.dropColumn("due_at");
  });
  await knex.schema.alterTable("elsms", (t) => {
    t.dropColumn("ps_answer_days");
    t.dropColumn("elsm_answer_days");
  });
}

/**
 * The first answers' times, and the due dates of threads written before due dates existed (this migration; scripts/populate.ts after its load — the rules of src/domain/conversations/deadlines.ts as of this migration), from
 * their history: A TRAITER from the first doctor message since the échelon last wrote; an échelon-started thread in
 * EN COURS from the first échelon message since the doctor last wrote. Those already past are flagged overdue
 * without a reminder (the tray counts are rebuilt by recountDerived).
 */
export async function backfillFromHistory(db: Knex, now: Date): Promise<void> {
  await db("conversations")
    .where("started_by", "ps")
    .update({ first_answer_at: db("messages as m").min("m.sent_at").where("m.conversation_id", db.ref("conversations.id")).where("m.side", "elsm") });
  const since = (side: "ps" | "elsm") =>
    db("messages as m")
      .min("m.sent_at")
      .where("m.conversation_id", db.ref("conversations.id"))
      .where("m.side", side)
      .where(
        "m.sent_at",
        ">",
        db.raw("COALESCE(?, '')", [
          db("messages as o")
            .max("o.sent_at")
            .where("o.conversation_id", db.ref("conversations.id"))
            .where("o.side", side === "ps" ? "elsm" : "ps"),
        ]),
      );
  const delay = (column: string) => db("elsms").select(column).where("elsms.id", db.ref("conversations.elsm_id"));
  await db("conversations")
    .whereNull("due_at")
    .where("state", "a_traiter")
    .update({ due_at: isoPlusDays(db, since("ps"), delay("elsm_answer_days")), due_side: "elsm" });
  await db("conversations")
    .whereNull("due_at")
    .where({ state: "en_cours", started_by: "elsm", last_message_side: "elsm" })
    .update({ due_at: isoPlusDays(db, since("elsm"), delay("ps_answer_days")), due_side: "ps" });
  await db("conversations").whereNull("due_at").update({ due_side: null });
  await db("conversations").where("overdue", false).whereNotNull("due_at").where("due_at", "<=", now.toISOString()).update({ overdue: true });
  await db("tray_counts").update({
    overdue: db("conversations as c").count("*").where("c.elsm_id", db.ref("tray_counts.elsm_id")).where("c.state", db.ref("tray_counts.state")).where("c.overdue", true),
  });
}
