import type { Knex } from "knex";
import type { FileStorage } from "../attachments/storage.js";
import { audit } from "../audit/audit.js";
import { readCloseForm, reasonsOf, REASON_NOT_FOUND, type CloseForm } from "../closure-reasons/reasons.js";
import type { Db } from "../../db/connection.js";
import type { AgentActor, PsActor, RequestContext } from "../actor.js";
import { lockedSlot, lockThread, moveTray } from "./counters.js";
import { dueOnClose } from "./deadlines.js";
import { stopAllWriting, stopWriting } from "./presence.js";
import type { ConversationRow, DraftRow } from "./scope.js";
import { isClosed, otherSide, sideOf } from "./states.js";

/** Deletes drafts with their attachment rows; returns the storage keys to remove once committed. */
export async function dropDrafts(trx: Knex, draftIds: Knex.QueryBuilder | number[]): Promise<string[]> {
  const ids = Array.isArray(draftIds) ? draftIds : ((await draftIds.pluck("id")) as number[]);
  if (ids.length === 0) return [];
  const keys = (await trx("attachments").whereIn("draft_id", ids).pluck("storage_key")) as string[];
  await trx("attachments").whereIn("draft_id", ids).del();
  await trx("drafts").whereIn("id", ids).del();
  return keys;
}

/** Removes stored files once their rows are gone (committed); a file already missing is not an error. */
export async function removeFiles(storage: FileStorage, keys: string[]): Promise<void> {
  await Promise.all(keys.map((k) => storage.remove(k).catch(() => undefined)));
}

/** Discards a draft (new question or reply) and its attachments. */
export async function discardDraft(deps: { db: Db; storage: FileStorage }, ctx: RequestContext, draft: DraftRow): Promise<void> {
  const keys = await deps.db.transaction(async (trx) => {
    const dropped = await dropDrafts(trx, [draft.id]);
    await audit(trx, ctx, "draft.deleted", { type: "draft", id: draft.id });
    // The agent who discards the shared reply draft is no longer writing it (issue 13 §4).
    if (draft.conversation_id && ctx.actor.kind === "agent") await stopWriting(trx, ctx.actor, draft.conversation_id);
    return dropped;
  });
  await removeFiles(deps.storage, keys);
}

/** Opening a thread marks the other side's messages read (the ELSM then sees [Lu]), ends the side's mark, and is traced. */
export async function openConversation(db: Db, ctx: RequestContext, conversation: ConversationRow, options: { markRead: boolean } = { markRead: true }): Promise<void> {
  await db.transaction(async (trx) => {
    // Shown, and traced, but not marked read: a navigation another site started (issue 11 §11).
    if (!options.markRead) {
      await audit(trx, ctx, "conversation.opened", { type: "conversation", id: conversation.id });
      return;
    }
    // The thread's row lock first, on both sides: the same order as a withdrawal (recall.ts), which locks it before its
    // messages — an opening updating the messages first would deadlock with it. The ELSM reading a thread it had not
    // read: one fewer unread in its tray (read under the lock, so two agents opening it at once count it once).
    if (ctx.actor.kind === "agent") {
      const slot = await lockedSlot(trx, conversation.id);
      if (slot.unread) await moveTray(trx, conversation.elsm_id, slot, { ...slot, unread: false });
    } else await lockThread(trx, conversation.id);
    await trx("messages")
      .where({ conversation_id: conversation.id, side: otherSide(sideOf(ctx.actor)) })
      .whereNull("read_at")
      // A withdrawn message (a tombstone) is never read: its withdrawal's condition stays what it was.
      .whereNull("withdrawn_at")
      .update({ read_at: new Date().toISOString() });
    // Opening also ends the side's « Marquer comme non lu » (counted in its counter).
    await trx("conversations")
      .where({ id: conversation.id })
      .update(ctx.actor.kind === "ps" ? { ps_unread: 0, ps_marked_unread: false } : { elsm_unread: 0, elsm_marked_unread: false });
    await audit(trx, ctx, "conversation.opened", { type: "conversation", id: conversation.id });
  });
}

/**
 * « Marquer comme non lu » (issue 14 §4): the thread counts as unread again for the actor's side only — the ELSM's
 * agents share it, as a structure's doctors share its list. The side's counter takes one more (the mark), so its
 * row, its counts and the tray's "non lus" follow; the other side's messages keep their read_at (the [Lu] and the
 * read receipts the other side relies on). A thread already unread (a mark, or a message not read yet) is left as
 * it is: `marked` false. Opening the thread clears the mark (openConversation).
 */
export async function markUnread(db: Db, ctx: RequestContext, conversation: ConversationRow): Promise<{ marked: boolean }> {
  const ps = ctx.actor.kind === "ps";
  return db.transaction(async (trx) => {
    // The ELSM's slot read under the row lock (as openConversation): two agents marking at once count it once.
    const slot = ps ? null : await lockedSlot(trx, conversation.id);
    if (slot?.unread) return { marked: false };
    const counter = ps ? "ps_unread" : "elsm_unread";
    // Conditional on the counter: already unread (a doctor of the same structure marked it meanwhile), nothing changes.
    const changed = await trx("conversations")
      .where({ id: conversation.id, [counter]: 0 })
      .update(ps ? { ps_unread: 1, ps_marked_unread: true } : { elsm_unread: 1, elsm_marked_unread: true });
    if (!changed) return { marked: false };
    if (slot) await moveTray(trx, conversation.elsm_id, slot, { ...slot, unread: true });
    await audit(trx, ctx, "conversation.marked_unread", { type: "conversation", id: conversation.id });
    return { marked: true };
  });
}

/** What « Marquer comme non lu » says on the list it returns to: done, or already so (nothing changed). */
export function markedUnreadNotice(outcome: { marked: boolean }): string {
  return outcome.marked ? "La conversation est marquée comme non lue." : "La conversation est déjà non lue.";
}

/** A page showing a thread's subject or content without opening it (reply form, delete / close confirmation): traced. */
export async function traceDisplay(db: Db, ctx: RequestContext, conversation: ConversationRow): Promise<void> {
  await audit(db, ctx, "conversation.displayed", { type: "conversation", id: conversation.id });
}

/** PS side: the thread leaves this PS's (or structure's) list for good; the ELSM keeps it (manual §4). */
export async function deleteForPs(deps: { db: Db; storage: FileStorage }, ctx: RequestContext<PsActor>, conversation: ConversationRow): Promise<void> {
  const keys = await deps.db.transaction(async (trx) => {
    await trx("conversations").where({ id: conversation.id }).update({ ps_deleted_at: new Date().toISOString() });
    const dropped = await dropDrafts(trx, trx("drafts").where({ conversation_id: conversation.id, side: "ps" }));
    await audit(trx, ctx, "conversation.deleted", { type: "conversation", id: conversation.id });
    return dropped;
  });
  await removeFiles(deps.storage, keys);
}

/**
 * ELSM side: the thread moves to CLOS, stays readable, and the ELSM can no longer write in it (manual §10). The close
 * names one of the ELSM's reasons and may add a précision (issue 14 §3): the reason's label is copied onto the thread.
 * Idempotent: closing a closed thread (a double click, two agents at once) changes nothing and is not an error — its
 * form is not even read; the state is read under the row lock, so concurrent closes move the tray count once.
 * Refused (no reason, an unknown one or another ELSM's, a précision too long): nothing written, the form given back.
 */
export async function closeConversation(
  deps: { db: Db; storage: FileStorage },
  ctx: RequestContext<AgentActor>,
  conversation: ConversationRow,
  input: Record<string, unknown> | undefined,
): Promise<{ closed: boolean } | { refused: CloseForm }> {
  if (isClosed(conversation.state)) return { closed: false };
  const read = readCloseForm(input);
  if (!read.ok) return { refused: read.form };
  const refusedReason = { refused: { values: read.form.values, errors: { reason: REASON_NOT_FOUND } } };
  const outcome = await deps.db.transaction(async (trx) => {
    const before = await lockedSlot(trx, conversation.id);
    if (isClosed(before.state)) return { keys: [], closed: false };
    // Only a reason of the agent's own ELSM: another's is as unknown as a deleted one (its label is never read).
    const reason = read.reasonId === null ? undefined : await reasonsOf(trx, ctx.actor).where({ id: read.reasonId }).first("label");
    if (!reason) return refusedReason;
    await trx("conversations")
      .where({ id: conversation.id })
      .update({ state: "clos", closed_at: new Date().toISOString(), closed_reason_label: reason.label, closed_reason_text: read.text, ...dueOnClose() });
    await moveTray(trx, conversation.elsm_id, before, { ...before, state: "clos", overdue: false });
    const dropped = await dropDrafts(trx, trx("drafts").where({ conversation_id: conversation.id, side: "elsm" }));
    await audit(trx, ctx, "conversation.closed", { type: "conversation", id: conversation.id });
    await stopAllWriting(trx, conversation.id);
    return { keys: dropped, closed: true };
  });
  if ("refused" in outcome) return outcome;
  await removeFiles(deps.storage, outcome.keys);
  return { closed: outcome.closed };
}

/** The agent who last closed a conversation, "Marc DUBOIS", from the audit trail (null: none recorded). */
export async function closerOf(db: Knex, conversationId: number): Promise<string | null> {
  const row = await db("audit_events as e")
    .join("agents as a", "a.id", "e.actor_id")
    .where({ "e.object_type": "conversation", "e.object_id": conversationId, "e.action": "conversation.closed", "e.actor_type": "agent" })
    .orderBy("e.id", "desc")
    .first("a.first_name", "a.last_name");
  return row ? `${row.first_name} ${row.last_name}` : null;
}
