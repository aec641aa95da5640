import type { Knex } from "knex";
import { dropAppendOnly, makeAppendOnly } from "../../src/db/dialect.js";

// Times are stored as ISO-8601 UTC strings (24 chars): portable, sortable, identical on SQLite and PostgreSQL.
const TIME = 24;

export async function up(knex: Knex): Promise<void> {
  await knex.schema.createTable("elsms", (t) => {
    t.increments("id");
    t.string("code", 20).notNullable().unique(); // "ELSM 011"
    t.string("name", 120).notNullable(); // "ELSM de l'AIN"
    t.string("mailbox", 160); // the échelon's notification mailbox
  });

  await knex.schema.createTable("caisses", (t) => {
    t.increments("id");
    t.string("regime", 10).notNullable(); // general (CPAM) | agricole (MSA)
    t.string("name", 120).notNullable();
    t.string("centre_gestion", 10).notNullable();
    t.integer("elsm_id").notNullable().references("elsms.id");
  });

  await knex.schema.createTable("structures", (t) => {
    t.increments("id");
    t.string("kind", 20).notNullable(); // centre_sante | etablissement
    t.string("finess", 9).notNullable().unique();
    t.string("raison_sociale", 160).notNullable();
    t.string("raison_sociale_key", 160).notNullable().index();
    t.string("address", 160).notNullable();
    t.string("postal_code", 5).notNullable();
    t.string("city", 80).notNullable();
    t.string("mailbox", 160); // the structure's main amelipro mailbox; null = none
  });

  await knex.schema.createTable("practitioners", (t) => {
    t.increments("id");
    t.string("nam", 9).notNullable().unique();
    t.string("last_name", 80).notNullable();
    t.string("first_name", 80).notNullable();
    t.string("last_name_key", 80).notNullable().index();
    t.string("postal_code", 5).notNullable();
    t.string("city", 80).notNullable();
    t.integer("structure_id").references("structures.id"); // set = salaried, acts as the structure
    t.string("mailbox", 160); // amelipro notification mailbox; null = none
    t.string("pin_hash", 200).notNullable();
    t.integer("failed_pin_attempts").notNullable().defaultTo(0);
    t.string("card_blocked_at", TIME);
    t.index(["postal_code"]);
  });

  await knex.schema.createTable("agents", (t) => {
    t.increments("id");
    t.integer("elsm_id").notNullable().references("elsms.id");
    t.string("last_name", 80).notNullable();
    t.string("first_name", 80).notNullable();
    t.string("last_name_key", 80).notNullable();
    t.string("first_name_key", 80).notNullable();
    t.index(["elsm_id", "last_name_key"]);
  });

  await knex.schema.createTable("patients", (t) => {
    t.increments("id");
    t.string("nir", 13).notNullable();
    t.string("nir_key", 2).notNullable();
    t.string("last_name", 80).notNullable();
    t.string("first_name", 80).notNullable();
    t.string("last_name_key", 80).notNullable().index();
    t.string("first_name_key", 80).notNullable();
    t.string("birth_date", 10).notNullable(); // YYYY-MM-DD
    t.integer("rang").notNullable().defaultTo(1);
    t.integer("caisse_id").notNullable().references("caisses.id");
    t.integer("attending_practitioner_id").references("practitioners.id"); // médecin traitant
    t.boolean("demo_vitale_card").notNullable().defaultTo(false);
    t.unique(["nir", "birth_date", "rang"]);
    t.index(["nir"]);
  });

  await knex.schema.createTable("conversations", (t) => {
    t.increments("id");
    t.string("subject", 200).notNullable();
    t.integer("patient_id").references("patients.id");
    // The PS party is either a liberal doctor or a structure (centre / establishment), never both.
    t.integer("ps_practitioner_id").references("practitioners.id");
    t.integer("ps_structure_id").references("structures.id");
    t.integer("elsm_id").notNullable().references("elsms.id");
    t.string("started_by", 4).notNullable(); // ps | elsm
    t.integer("started_by_practitioner_id").references("practitioners.id");
    t.integer("started_by_agent_id").references("agents.id");
    t.string("state", 10).notNullable(); // a_traiter | en_cours | clos (ELSM side)
    t.integer("redacteur_agent_id").references("agents.id"); // agent who last wrote for the ELSM
    t.string("last_message_at", TIME).notNullable();
    t.string("last_message_side", 4).notNullable();
    t.string("ps_deleted_at", TIME);
    t.string("closed_at", TIME);
    t.string("created_at", TIME).notNullable();
    t.index(["elsm_id", "state", "last_message_at", "id"], "conversations_tray");
    t.index(["ps_practitioner_id", "last_message_at", "id"], "conversations_ps_practitioner");
    t.index(["ps_structure_id", "last_message_at", "id"], "conversations_ps_structure");
    t.index(["patient_id"]);
    t.index(["redacteur_agent_id"]);
  });

  await knex.schema.createTable("messages", (t) => {
    t.increments("id");
    t.integer("conversation_id").notNullable().references("conversations.id");
    t.string("side", 4).notNullable(); // ps | elsm
    t.integer("author_practitioner_id").references("practitioners.id");
    t.integer("author_agent_id").references("agents.id");
    t.text("body").notNullable();
    t.string("sent_at", TIME).notNullable();
    t.string("read_at", TIME); // when the other side first opened it
    t.string("submission_key", 64).unique(); // makes a double-clicked send idempotent
    t.index(["conversation_id", "sent_at", "id"]);
  });

  await knex.schema.createTable("drafts", (t) => {
    t.increments("id");
    t.string("side", 4).notNullable();
    t.integer("author_practitioner_id").references("practitioners.id");
    t.integer("author_agent_id").references("agents.id");
    t.integer("elsm_id").references("elsms.id"); // ELSM-side drafts belong to the ELSM's trays
    t.integer("conversation_id").references("conversations.id"); // set = a reply draft
    t.integer("patient_id").references("patients.id");
    t.integer("recipient_practitioner_id").references("practitioners.id"); // ELSM new question
    t.integer("recipient_structure_id").references("structures.id");
    t.string("subject", 200).notNullable().defaultTo("");
    t.text("body").notNullable().defaultTo("");
    t.string("submission_key", 64).unique(); // a double-clicked first save creates one draft
    t.string("created_at", TIME).notNullable();
    t.string("updated_at", TIME).notNullable();
    t.index(["author_practitioner_id", "updated_at"]);
    t.index(["elsm_id", "updated_at"]);
    t.index(["conversation_id"]);
  });

  await knex.schema.createTable("attachments", (t) => {
    t.increments("id");
    t.integer("message_id").references("messages.id");
    t.integer("draft_id").references("drafts.id").onDelete("SET NULL");
    t.string("storage_key", 64).notNullable().unique();
    t.string("original_name", 255).notNullable();
    t.string("mime_type", 120).notNullable();
    t.string("extension", 8).notNullable();
    t.integer("size_bytes").notNullable();
    t.string("sha256", 64).notNullable();
    t.string("created_at", TIME).notNullable();
    t.index(["message_id"]);
    t.index(["draft_id"]);
  });

  await knex.schema.createTable("notifications", (t) => {
    t.increments("id");
    t.integer("conversation_id").notNullable().references("conversations.id");
    t.integer("recipient_practitioner_id").references("practitioners.id");
    t.integer("recipient_structure_id").references("structures.id");
    t.integer("recipient_elsm_id").references("elsms.id");
    t.string("email", 160).notNullable();
    t.string("created_at", TIME).notNullable();
    t.string("sent_at", TIME);
    t.integer("attempts").notNullable().defaultTo(0);
    t.string("last_error", 300);
    t.index(["sent_at"]);
  });

  await knex.schema.createTable("audit_purge_guard", (t) => {
    t.integer("active").notNullable();
  });
  await knex("audit_purge_guard").insert({ active: 0 });

  await knex.schema.createTable("audit_events", (t) => {
    t.bigIncrements("id");
    t.string("at", TIME).notNullable().index();
    t.string("actor_type", 12).notNullable(); // practitioner | agent | anonymous
    t.integer("actor_id");
    t.string("org_type", 12); // practitioner (liberal) | structure | elsm
    t.integer("org_id");
    t.string("action", 40).notNullable();
    t.string("object_type", 20);
    t.integer("object_id");
    t.string("ip", 64);
    t.index(["object_type", "object_id", "at"]);
  });
  await makeAppendOnly(knex, "audit_events");

  await knex.schema.createTable("sessions", (t) => {
    t.string("sid", 128).primary();
    t.text("data").notNullable();
    t.bigInteger("expires_at").notNullable().index();
  });
}

export async function down(knex: Knex): Promise<void> {
  await dropAppendOnly(knex, "audit_events");
  for (const table of [
    "sessions",
    "audit_events",
    "audit_purge_guard",
    "notifications",
    "attachments",
    "drafts",
    "messages",
    "conversations",
    "patients",
    "agents",
    "practitioners",
    "structures",
    "caisses",
    "elsms",
  ]) {
    await knex.schema.dropTableIfExists(table);
  }
}
