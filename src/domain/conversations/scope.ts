import type { Knex } from "knex";
import type { Db } from "../../db/connection.js";
import type { Actor, AgentActor, PsActor } from "../actor.js";
import { NotFound, ThreadDeleted } from "../errors.js";
import { parseId } from "../ids.js";
import type { ConversationState, Side } from "./states.js";

/**
 * The one rule of who sees what. A liberal doctor: the conversations they are party to; a salaried
 * doctor: every conversation of their structure; both minus those the PS side deleted. An agent:
 * every conversation of their ELSM. Every read of a conversation, message, draft or attachment
 * starts from one of these queries, so anything outside them is a 404 by construction.
 */
export function psConversations(db: Knex, actor: PsActor, alias = "conversations") {
  return psParty(db(`conversations as ${alias}`).whereNull(`${alias}.ps_deleted_at`), actor, alias);
}

/** The conversations this doctor (or their structure) is party to, deleted or not. */
function psParty(q: Knex.QueryBuilder, actor: PsActor, alias: string) {
  return actor.structureId ? q.where(`${alias}.ps_structure_id`, actor.structureId) : q.where(`${alias}.ps_practitioner_id`, actor.practitionerId);
}

export function elsmConversations(db: Knex, actor: AgentActor, alias = "conversations") {
  return db(`conversations as ${alias}`).where(`${alias}.elsm_id`, actor.elsmId);
}

/** A thread already loaded, used for the échelon's own tools (notes, assignment): any other actor meets a thread that does not exist. */
export function ownElsmThread(actor: AgentActor, c: ConversationRow): void {
  if (actor.kind !== "agent" || actor.elsmId !== c.elsm_id) throw new NotFound();
}

export function conversationsOf(db: Knex, actor: Actor, alias = "conversations") {
  return actor.kind === "ps" ? psConversations(db, actor, alias) : elsmConversations(db, actor, alias);
}

/** Drafts: a PS's own; an ELSM's drafts are shared by its agents (they share the trays). */
export function draftsOf(db: Knex, actor: Actor) {
  return actor.kind === "ps" ? db("drafts").where({ side: "ps", author_practitioner_id: actor.practitionerId }) : db("drafts").where({ side: "elsm", elsm_id: actor.elsmId });
}

/** The actor's reply draft in a conversation already loaded through its scope (one per PS author, one per ELSM). */
export async function replyDraft(db: Knex, actor: Actor, conversationId: number): Promise<DraftRow | null> {
  return ((await draftsOf(db, actor).where({ conversation_id: conversationId }).first()) as DraftRow | undefined) ?? null;
}

/** The id of a record named by a URL or a form; anything that cannot be one is a 404. */
function idOrNotFound(raw: unknown): number {
  const id = parseId(raw);
  if (id === null) throw new NotFound();
  return id;
}

export type ConversationRow = {
  id: number;
  subject: string;
  patient_id: number | null;
  ps_practitioner_id: number | null;
  ps_structure_id: number | null;
  elsm_id: number;
  started_by: Side;
  state: ConversationState;
  ps_deleted_at: string | null;
  closed_at: string | null;
  /** The closure reason's label as it was at the close, and its précision (issue 14 §3); null once reopened. */
  closed_reason_label: string | null;
  closed_reason_text: string | null;
  created_at: string;
  last_message_at: string;
  last_message_side: Side;
  redacteur_agent_id: number | null;
  assignee_agent_id: number | null;
  due_at: string | null;
  due_side: Side | null;
  overdue: boolean | number;
  /** The purge date a retention notice announced (retention.ts); null: none. */
  purge_at?: string | null;
};

export async function loadConversation(db: Knex, actor: Actor, rawId: unknown): Promise<ConversationRow> {
  const id = idOrNotFound(rawId);
  const row = await conversationsOf(db, actor).where("conversations.id", id).first("conversations.*");
  if (row) return row as ConversationRow;
  if (actor.kind === "ps") {
    // The PS side's own thread, deleted from its list: still a 404, which a reply post may answer better.
    const deleted = await psParty(db("conversations").whereNotNull("conversations.ps_deleted_at"), actor, "conversations")
      .where("conversations.id", id)
      .first("id", "subject", "patient_id");
    if (deleted) throw new ThreadDeleted({ id: Number(deleted.id), subject: deleted.subject, patientId: deleted.patient_id === null ? null : Number(deleted.patient_id) });
  }
  throw new NotFound();
}

export type DraftRow = {
  id: number;
  side: Side;
  author_practitioner_id: number | null;
  author_agent_id: number | null;
  elsm_id: number | null;
  conversation_id: number | null;
  patient_id: number | null;
  recipient_practitioner_id: number | null;
  recipient_structure_id: number | null;
  subject: string;
  body: string;
  updated_at: string;
};

export async function loadDraft(db: Knex, actor: Actor, rawId: unknown): Promise<DraftRow> {
  const draft = (await draftsOf(db, actor).where("id", idOrNotFound(rawId)).first()) as DraftRow | undefined;
  if (!draft) throw new NotFound();
  // A reply draft is only reachable while its conversation is.
  if (draft.conversation_id) await loadConversation(db, actor, String(draft.conversation_id));
  return draft;
}

/** The reply draft a reply form names (its `draft_id`): none, or one of this conversation's — anything else is a 404. */
export async function namedReplyDraft(db: Knex, actor: Actor, conversation: ConversationRow, raw: unknown): Promise<DraftRow | null> {
  if (raw === undefined || raw === "") return null;
  const draft = await loadDraft(db, actor, raw);
  if (draft.conversation_id !== conversation.id) throw new NotFound();
  return draft;
}

/** A draft of a new question (not a reply), or a 404. */
export function newQuestionDraft(draft: DraftRow): DraftRow {
  if (draft.conversation_id) throw new NotFound();
  return draft;
}

export type AttachmentRow = {
  id: number;
  message_id: number | null;
  draft_id: number | null;
  storage_key: string;
  original_name: string;
  mime_type: string;
  extension: string;
  size_bytes: number;
  sha256: string;
};

/** An attachment is reachable through its message's conversation, or through its draft. */
export async function loadAttachment(db: Db, actor: Actor, rawId: unknown): Promise<AttachmentRow> {
  const att = (await db("attachments").where("id", idOrNotFound(rawId)).first()) as AttachmentRow | undefined;
  if (!att) throw new NotFound();
  if (att.message_id) {
    const visible = await conversationsOf(db, actor, "c").join("messages as m", "m.conversation_id", "c.id").where("m.id", att.message_id).first("m.id");
    if (!visible) throw new NotFound();
  } else if (att.draft_id) {
    await loadDraft(db, actor, String(att.draft_id));
  } else {
    throw new NotFound();
  }
  return att;
}
