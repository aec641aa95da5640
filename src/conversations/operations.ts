import { audit } from "../audit/audit.js";
import type { Db } from "../db/connection.js";
import type { AgentActor, PsActor, RequestContext } from "../http/actor.js";
import { HttpError } from "../http/errors.js";
import type { ConversationRow } from "./scope.js";

/** Opening a thread marks the other side's messages read (the ELSM then sees [Lu]) and is traced. */
export async function openConversation(db: Db, ctx: RequestContext, conversation: ConversationRow): Promise<void> {
  const otherSide = ctx.actor.kind === "ps" ? "elsm" : "ps";
  await db.transaction(async (trx) => {
    await trx("messages").where({ conversation_id: conversation.id, side: otherSide }).whereNull("read_at")
      .update({ read_at: new Date().toISOString() });
    await audit(trx, ctx, "conversation.opened", { type: "conversation", id: conversation.id });
  });
}

/** PS side: the thread leaves this PS's (or structure's) list for good; the ELSM keeps it (manual §4). */
export async function deleteForPs(db: Db, ctx: RequestContext<PsActor>, conversation: ConversationRow): Promise<void> {
  await db.transaction(async (trx) => {
    await trx("conversations").where({ id: conversation.id }).update({ ps_deleted_at: new Date().toISOString() });
    const drafts = trx("drafts").where({ conversation_id: conversation.id, side: "ps" });
    await trx("attachments").whereIn("draft_id", drafts.clone().select("id")).update({ draft_id: null });
    await drafts.del();
    await audit(trx, ctx, "conversation.deleted", { type: "conversation", id: conversation.id });
  });
}

/** ELSM side: the thread moves to CLOS, stays readable, and the ELSM can no longer write in it (manual §10). */
export async function closeConversation(db: Db, ctx: RequestContext<AgentActor>, conversation: ConversationRow): Promise<void> {
  if (conversation.state === "clos") throw new HttpError(409, "already closed");
  await db.transaction(async (trx) => {
    await trx("conversations").where({ id: conversation.id }).update({ state: "clos", closed_at: new Date().toISOString() });
    const drafts = trx("drafts").where({ conversation_id: conversation.id, side: "elsm" });
    await trx("attachments").whereIn("draft_id", drafts.clone().select("id")).update({ draft_id: null });
    await drafts.del();
    await audit(trx, ctx, "conversation.closed", { type: "conversation", id: conversation.id });
  });
}
