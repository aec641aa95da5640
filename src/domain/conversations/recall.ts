import type { Knex } from "knex";
import type { Db } from "../../db/connection.js";
import type { FileStorage } from "../attachments/storage.js";
import { audit } from "../audit/audit.js";
import type { Actor, RequestContext } from "../actor.js";
import { NotFound } from "../errors.js";
import { formatDateTime } from "../format.js";
import { parseId } from "../ids.js";
import { cancelNotification } from "../notifications/mailer.js";
import { lockedSlot, moveTray } from "./counters.js";
import { unindexWithdrawn } from "./full-text.js";
import { removeFiles } from "./operations.js";
import { removeThread } from "./removal.js";
import type { ConversationRow } from "./scope.js";
import { isClosed, sideOf, type Side } from "./states.js";

/**
 * « Retirer le message » (issue 15 §1): a message sent by mistake is withdrawn by its side while the other side has not
 * opened it — a doctor's by its author only, the échelon's by any of its agents (they share its messages as its trays).
 * Only the thread's latest message, in a thread not closed, sent since withdrawals exist (it carries its undo). The
 * withdrawal is one conditional update (`read_at IS NULL AND withdrawn_at IS NULL`) under the thread's row lock: an opening
 * that won makes it too late, and the author is told. The message becomes a tombstone on both sides (« Message retiré
 * par … le … »: its text emptied, its attachments' rows and files deleted, its words out of the search index), its mail
 * cancelled if it has not left (a mail already sent is never followed by another), and the thread is put back as it
 * was before the send (`messages.undo`: state, closure, last message, due date, rédacteur, first answer, the doctor's
 * deletion) with the other side's unread count and the échelon's tray moved back. A withdrawn first message takes its
 * thread away whole, for both sides: nobody else ever opened it. Traced message.withdrawn (and conversation.withdrawn).
 */

/** The conversation's columns a send changes, as they were before it (the message's `undo`). */
const UNDONE = [
  "state",
  "closed_at",
  "closed_reason_label",
  "closed_reason_text",
  "last_message_at",
  "last_message_side",
  "redacteur_agent_id",
  "ps_deleted_at",
  "due_at",
  "due_side",
  "overdue",
  "first_answer_at",
] as const;

/** What a send writes on its message, read in the send's transaction before it changes the thread (none yet: a new thread). */
export async function undoOfSend(trx: Knex, conversationId: number | null): Promise<string> {
  if (conversationId === null) return JSON.stringify({ newThread: true });
  return JSON.stringify(
    await trx("conversations")
      .where({ id: conversationId })
      .first(...UNDONE),
  );
}

/** A message as the rule reads it. */
export type RecallFacts = {
  id: number;
  side: Side;
  author_practitioner_id: number | null;
  read_at: string | null;
  withdrawn_at: string | null;
  /** Sent before withdrawals existed: no undo, it cannot be withdrawn. */
  undoable: boolean;
};

export const RECALL_REFUSALS = {
  notYours: "Vous ne pouvez retirer que vos propres messages.",
  withdrawn: "Ce message a déjà été retiré.",
  closed: "La conversation est close : ses messages ne peuvent plus être retirés.",
  notLatest: "Seul le dernier message de la conversation peut être retiré, tant que son destinataire ne l'a pas ouvert.",
  tooOld: "Ce message a été envoyé avant que le retrait soit possible : il ne peut pas être retiré.",
} as const;

function openedRefusal(readAt: string, side: Side): string {
  const who = side === "ps" ? "l'échelon" : "le destinataire";
  return `Trop tard : le message a été ouvert par ${who} le ${formatDateTime(readAt)} ; il ne peut plus être retiré.`;
}

/** THE rule: why this actor cannot withdraw this message now (null: they can). `latestId`: the thread's latest message not withdrawn. */
export function recallRefusal(actor: Actor, state: ConversationRow["state"], m: RecallFacts, latestId: number | null): string | null {
  const own = m.side === sideOf(actor) && (actor.kind === "agent" || m.author_practitioner_id === actor.practitionerId);
  if (!own) return RECALL_REFUSALS.notYours;
  if (m.withdrawn_at) return RECALL_REFUSALS.withdrawn;
  if (isClosed(state)) return RECALL_REFUSALS.closed;
  if (m.read_at) return openedRefusal(m.read_at, m.side);
  if (m.id !== latestId) return RECALL_REFUSALS.notLatest;
  if (!m.undoable) return RECALL_REFUSALS.tooOld;
  return null;
}

const FACTS = ["id", "side", "author_practitioner_id", "read_at", "withdrawn_at", "undo"] as const;
const factsOf = (row: Record<string, unknown>): RecallFacts & { undo: string | null } => ({
  id: Number(row.id),
  side: row.side as Side,
  author_practitioner_id: row.author_practitioner_id === null ? null : Number(row.author_practitioner_id),
  read_at: (row.read_at as string | null) ?? null,
  withdrawn_at: (row.withdrawn_at as string | null) ?? null,
  undoable: row.undo !== null,
  undo: (row.undo as string | null) ?? null,
});

/** The thread's latest message not withdrawn (the only one that may be). */
export async function latestMessageId(db: Knex, conversationId: number): Promise<number | null> {
  const row = await db("messages").where({ conversation_id: conversationId }).whereNull("withdrawn_at").orderBy("id", "desc").first("id");
  return row ? Number(row.id) : null;
}

/** A message of this thread (already loaded through the actor's scope), or a 404. */
async function messageOf(db: Knex, conversation: ConversationRow, rawId: unknown) {
  const id = parseId(rawId);
  const row =
    id === null
      ? undefined
      : await db("messages")
          .where({ id, conversation_id: conversation.id })
          .first(...FACTS, "sent_at");
  if (!row) throw new NotFound();
  return { ...factsOf(row), sentAt: row.sent_at as string };
}

/** The confirmation page's facts: the message (date, files) and why it cannot be withdrawn, if it cannot. */
export async function recallQuestion(db: Db, actor: Actor, conversation: ConversationRow, rawId: unknown) {
  const m = await messageOf(db, conversation, rawId);
  const [latest, files, earlier] = await Promise.all([
    latestMessageId(db, conversation.id),
    db("attachments").where({ message_id: m.id }).count({ n: "*" }).first(),
    db("messages").where({ conversation_id: conversation.id }).where("id", "<", m.id).first("id"),
  ]);
  return { id: m.id, date: formatDateTime(m.sentAt), files: Number(files?.n ?? 0), first: !earlier, refusal: recallRefusal(actor, conversation.state, m, latest) };
}

export type RecallOutcome = { status: "withdrawn" } | { status: "removed" } | { status: "refused"; reason: string };

export async function withdrawMessage(deps: { db: Db; storage: FileStorage }, ctx: RequestContext, conversation: ConversationRow, rawId: unknown): Promise<RecallOutcome> {
  const { id } = await messageOf(deps.db, conversation, rawId);
  const actor = ctx.actor;
  const outcome = await deps.db.transaction(async (trx) => {
    // The thread's row lock (PostgreSQL) orders the withdrawal with the sends, the échelon's openings and the close.
    const slot = await lockedSlot(trx, conversation.id);
    const thread = await trx("conversations").where({ id: conversation.id }).first("ps_deleted_at");
    // The rule on the message as it is now, under the lock (the thread's state read with the lock: slot.state).
    const refusalNow = async () => {
      const m = factsOf(
        await trx("messages")
          .where({ id })
          .first(...FACTS),
      );
      return { m, refusal: recallRefusal(actor, slot.state, m, await latestMessageId(trx, conversation.id)) };
    };
    const { m, refusal } = await refusalNow();
    if (refusal) return { status: "refused" as const, reason: refusal, keys: [] };
    // THE conditional update: an opening that committed first (it takes the same row lock, or won the message row's) wins.
    const changed = await trx("messages")
      .where({ id })
      .whereNull("read_at")
      .whereNull("withdrawn_at")
      // Its form's key goes too: the same form posted again (Back, corrected) is a new send, never « already sent ».
      .update({ withdrawn_at: new Date().toISOString(), withdrawn_by_agent_id: actor.kind === "agent" ? actor.agentId : null, body: "", undo: null, submission_key: null });
    if (!changed) return { status: "refused" as const, reason: (await refusalNow()).refusal ?? RECALL_REFUSALS.withdrawn, keys: [] };
    const keys = (await trx("attachments").where({ message_id: id }).pluck("storage_key")) as string[];
    await trx("attachments").where({ message_id: id }).del();
    await cancelNotification(trx, id);
    await unindexWithdrawn(trx, { conversationId: conversation.id, messageId: id });
    await audit(trx, ctx, "message.withdrawn", { type: "message", id });
    const earlier = await trx("messages").where({ conversation_id: conversation.id }).where("id", "<", id).first("id");
    if (!earlier) {
      keys.push(...(await removeThread(trx, conversation.id, conversation.elsm_id, slot)));
      await audit(trx, ctx, "conversation.withdrawn", { type: "conversation", id: conversation.id });
      return { status: "removed" as const, keys };
    }
    const undo = JSON.parse(m.undo!) as Record<string, unknown>;
    // The doctor's side deleting the thread since (its messages unread) stays so; else the deletion the send undid comes back.
    const counter = m.side === "ps" ? "elsm_unread" : "ps_unread";
    await trx("conversations")
      .where({ id: conversation.id })
      .update({
        ...undo,
        ps_deleted_at: thread.ps_deleted_at ?? undo.ps_deleted_at ?? null,
        [counter]: trx.raw("CASE WHEN ?? > 0 THEN ?? - 1 ELSE 0 END", [counter, counter]),
      });
    await moveTray(trx, conversation.elsm_id, slot, await lockedSlot(trx, conversation.id));
    return { status: "withdrawn" as const, keys };
  });
  await removeFiles(deps.storage, outcome.keys);
  return outcome.status === "refused" ? { status: "refused", reason: outcome.reason } : { status: outcome.status };
}

/** What the author is told once withdrawn. */
export function recallNotice(outcome: { status: "withdrawn" | "removed" }): string {
  return outcome.status === "removed"
    ? "Le message a été retiré et la conversation supprimée : personne d'autre ne l'avait ouverte."
    : "Le message a été retiré : les deux côtés ne voient plus que la mention « Message retiré ».";
}
