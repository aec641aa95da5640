import type { Request } from "express";
import type { AppDeps } from "../../app.js";
import { patientById } from "../directory/queries.js";
import { actorKey } from "../actor.js";
import { submitCompose, type ComposeTarget } from "./compose.js";
import { loadConversation } from "./scope.js";

const RESCUE_TTL_MS = 24 * 3_600_000;

/**
 * After a login, turns what a form posted with an expired session held into a draft, if the same
 * person typed it; returns where to continue writing it.
 */
export async function restoreRescued(deps: AppDeps, req: Request): Promise<string | null> {
  const rescued = req.session.rescued;
  delete req.session.rescued;
  const actor = req.session.user;
  if (!rescued || !actor || actorKey(actor) !== rescued.context.a || Date.now() - rescued.at > RESCUE_TTL_MS) return null;
  if (!rescued.subject.trim() && !rescued.body.trim()) return null;
  const { context } = rescued;
  let target: ComposeTarget;
  try {
    if (context.t === "reply" && context.c) {
      target = { kind: "reply", conversation: await loadConversation(deps.db, actor, String(context.c)) };
    } else if (context.t === "ps-new" && actor.kind === "ps" && context.p) {
      const patient = await patientById(deps.db, context.p);
      if (!patient) return null;
      target = { kind: "ps-new", patient };
    } else if (context.t === "elsm-new" && actor.kind === "agent") {
      target = { kind: "elsm-new", patientId: context.p ?? null, recipient: context.rs ? { structureId: context.rs } : context.rp ? { practitionerId: context.rp } : null };
    } else {
      return null;
    }
  } catch {
    return null; // the conversation is no longer reachable
  }
  const outcome = await submitCompose(deps, { actor, ip: req.ip ?? "" }, target, {
    action: "draft", subject: rescued.subject, body: rescued.body, submissionKey: "", draft: null, removeAttachmentIds: [], files: [],
  });
  const side = actor.kind === "ps" ? "ps" : "bo";
  if (target.kind === "reply") return `/${side}/conversations/${target.conversation.id}/reply`;
  return outcome.status === "sent" ? null : outcome.draftId ? `/${side}/drafts/${outcome.draftId}` : null;
}
