import { z } from "zod";
import type { Db } from "../../db/connection.js";
import { insertedId } from "../../db/dialect.js";
import type { AgentActor, RequestContext } from "../actor.js";
import { audit } from "../audit/audit.js";
import { formatDateTime } from "../format.js";
import { indexText } from "./full-text.js";
import { ownElsmThread, type ConversationRow } from "./scope.js";

/**
 * The échelon's internal notes on a thread (issue 13 §2): plain text between colleagues of the ELSM. Only the
 * back office loads them (nothing on the doctor's side calls this module: the thread view model has no notes),
 * they are never notified, and they leave the thread where it is — no tray move, no unread count, no
 * last_message_at, no rédacteur. Allowed on a closed thread too: a note is bookkeeping, not a reply.
 */
export const NOTE_MAX = 20_000;

export type NoteView = {
  id: number;
  author: string;
  date: string;
  body: string;
  /** The message the note is shown before (the first one written after it); null: after the last message. */
  before: number | null;
};

/** What the note form shows again after a refused post: the text as typed, whole, and its error. */
export type NoteForm = { body: string; error: string | null };

export const EMPTY_NOTE_FORM: NoteForm = { body: "", error: null };

const noteFields = z.object({
  note: z
    .string()
    .catch("")
    .transform((s) => s.replace(/\r\n?/g, "\n")),
});

function checkedNote(body: string): string | null {
  if (!body.trim()) return "Saisissez le texte de la note interne.";
  if (body.length > NOTE_MAX) return `La note ne peut pas dépasser ${NOTE_MAX} caractères (${body.length} saisis) : raccourcissez-la, votre texte est conservé.`;
  return null;
}

/** The thread's notes, oldest first, each placed before the first message written after it. */
export async function internalNotes(db: Db, actor: AgentActor, c: ConversationRow): Promise<NoteView[]> {
  ownElsmThread(actor, c);
  const rows = await db("internal_notes as n")
    .join("agents as a", "a.id", "n.author_agent_id")
    .where("n.conversation_id", c.id)
    .orderBy([{ column: "n.created_at" }, { column: "n.id" }])
    .select("n.id", "n.body", "n.created_at", "a.first_name", "a.last_name");
  if (!rows.length) return [];
  const messages = (await db("messages")
    .where({ conversation_id: c.id })
    .orderBy([{ column: "sent_at" }, { column: "id" }])
    .select("id", "sent_at")) as { id: number; sent_at: string }[];
  return rows.map((r) => ({
    id: r.id,
    author: `${r.first_name} ${r.last_name}`,
    date: formatDateTime(r.created_at),
    body: r.body,
    before: messages.find((m) => m.sent_at > r.created_at)?.id ?? null,
  }));
}

export type NoteOutcome = { status: "added"; noteId: number } | { status: "refused"; form: NoteForm };

/** "Ajouter une note interne": written and traced (note.added, ids only), or refused with the text whole. */
export async function addInternalNote(db: Db, ctx: RequestContext<AgentActor>, c: ConversationRow, posted: unknown): Promise<NoteOutcome> {
  ownElsmThread(ctx.actor, c);
  const { note } = noteFields.parse(posted ?? {});
  const error = checkedNote(note);
  if (error) return { status: "refused", form: { body: note, error } };
  const noteId = await db.transaction(async (trx) => {
    const [row] = await trx("internal_notes")
      .insert({ conversation_id: c.id, elsm_id: c.elsm_id, author_agent_id: ctx.actor.agentId, body: note.trim(), created_at: new Date().toISOString() })
      .returning("id");
    const id = insertedId(row);
    await indexText(trx, { kind: "note", conversationId: c.id, elsmId: c.elsm_id, text: note.trim() });
    await audit(trx, ctx, "note.added", { type: "note", id });
    return id;
  });
  return { status: "added", noteId };
}
