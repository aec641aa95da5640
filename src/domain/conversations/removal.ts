import type { Knex } from "knex";
import { type lockedSlot, removeFromTray } from "./counters.js";
import { unindexThread } from "./full-text.js";
import { dropDrafts } from "./operations.js";

/**
 * THE list of what names a thread, in one place: a thread removed whole — its first message withdrawn (recall.ts), or
 * purged at the end of its retention (retention.ts) — goes with the rows of every table naming it (drafts and their
 * attachments, messages and theirs, notifications, internal notes, the échelon's presence, the search index) and its
 * place in the tray counts. In the caller's transaction, the row locked; returns the stored files' keys, to remove
 * once committed (never a row pointing to a missing file).
 */
export async function removeThread(trx: Knex, conversationId: number, elsmId: number, slot: Awaited<ReturnType<typeof lockedSlot>>): Promise<string[]> {
  const keys = await dropDrafts(trx, trx("drafts").where({ conversation_id: conversationId }));
  const messageIds = trx("messages").where({ conversation_id: conversationId }).select("id");
  keys.push(...((await trx("attachments").whereIn("message_id", messageIds).pluck("storage_key")) as string[]));
  await trx("attachments").whereIn("message_id", messageIds).del();
  await trx("notifications").where({ conversation_id: conversationId }).del();
  for (const table of THREAD_TABLES) await trx(table).where({ conversation_id: conversationId }).del();
  await unindexThread(trx, conversationId);
  await trx("conversations").where({ id: conversationId }).del();
  await removeFromTray(trx, elsmId, slot);
  return keys;
}

/** The tables whose rows name a thread directly (besides drafts and notifications above), messages last. */
export const THREAD_TABLES = ["internal_notes", "reply_presence", "messages"] as const;
