import type { Knex } from "knex";
import type { Actor, RequestContext } from "../actor.js";

/** Every traced action. Objects are named by id only: never a subject, a text, a NIR or search terms. */
export type AuditAction =
  | "login"
  | "logout"
  | "login.failed_pin"
  | "login.card_blocked"
  // Real logins refused (issue 16), the reason in the action: Pro Santé Connect (psc) and the agents' SSO (sso).
  | "login.psc.unknown_rpps"
  | "login.psc.no_activity"
  | "login.psc.acr_too_low"
  | "login.psc.flow_failed"
  | "login.psc.flow_expired"
  | "login.sso.unknown_agent"
  | "login.sso.flow_failed"
  | "login.sso.flow_expired"
  | "conversation.opened"
  // A page showing a thread's subject or content without opening it: the reply form, the delete / close confirmation.
  | "conversation.displayed"
  // A patient's identity shown: a look-up by Carte Vitale or NIR (doctor), by NIR OD (échelon), each beneficiary offered.
  | "patient.displayed"
  | "conversation.deleted"
  | "conversation.closed"
  | "conversation.reopened"
  // « Marquer comme non lu » by one side (only when it changed something: a thread already unread is left as it is).
  | "conversation.marked_unread"
  // A thread downloaded as a PDF for the medical record (issue 15 §3), by either side.
  | "conversation.exported"
  | "message.sent"
  // « Retirer le message » (issue 15 §1): the message withdrawn; its thread removed whole when it was its first message.
  | "message.withdrawn"
  | "conversation.withdrawn"
  | "draft.saved"
  | "draft.deleted"
  | "attachment.downloaded"
  // Its stored file could not be read: nothing was handed over.
  | "attachment.download_failed"
  | "search"
  // The échelon's saved replies (modèles de réponse): by id, never their title or text.
  | "reply_model.created"
  | "reply_model.updated"
  | "reply_model.deleted"
  | "closure_reason.created"
  | "closure_reason.updated"
  | "closure_reason.deleted"
  // An internal note written on a thread (the object is the note; its row names the thread).
  | "note.added"
  // A thread taken or given to an agent of its échelon (the row names the agent: assignee_agent_id), or released.
  | "conversation.assigned"
  | "conversation.released"
  // The échelon's answer delays changed (issue 14 §1; the object is the échelon).
  | "elsm.answer_days_changed"
  // A thread purged at the end of its retention (issue 17 §1): by the service itself, with what was removed, as counts.
  | "conversation.purged";

export type AuditObject = {
  type: "conversation" | "message" | "draft" | "attachment" | "practitioner" | "agent" | "patient" | "reply_model" | "closure_reason" | "note" | "elsm";
  id: number;
};

function organisation(actor: Actor): { org_type: string; org_id: number } {
  if (actor.kind === "agent") return { org_type: "elsm", org_id: actor.elsmId };
  return actor.structureId ? { org_type: "structure", org_id: actor.structureId } : { org_type: "practitioner", org_id: actor.practitionerId };
}

/** Appends one row to the audit trail, inside the caller's transaction when it has one. */
export async function audit(
  db: Knex,
  ctx: { actor: Actor | null; ip: string },
  action: AuditAction,
  object?: AuditObject,
  about?: { assigneeAgentId: number },
  /** Numbers only (conversation.purged: the rows removed), never a text. */
  counts?: Record<string, number>,
): Promise<void> {
  const who = ctx.actor
    ? {
        actor_type: ctx.actor.kind === "ps" ? "practitioner" : "agent",
        actor_id: ctx.actor.kind === "ps" ? ctx.actor.practitionerId : ctx.actor.agentId,
        ...organisation(ctx.actor),
      }
    : { actor_type: "anonymous", actor_id: null, org_type: null, org_id: null };
  await db("audit_events").insert({
    at: new Date().toISOString(),
    ...who,
    action,
    object_type: object?.type ?? null,
    object_id: object?.id ?? null,
    ...(about ? { assignee_agent_id: about.assigneeAgentId } : {}),
    ...(counts ? { counts: JSON.stringify(counts) } : {}),
    ip: ctx.ip.slice(0, 64),
  });
}

export type { RequestContext };
