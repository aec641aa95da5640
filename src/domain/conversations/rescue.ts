import { patientById } from "../directory/queries.js";
import { actorKey, type Actor } from "../actor.js";
import { submitCompose, type ComposeDeps, type ComposeTarget } from "./compose.js";
import { FORM_MAX_AGE_MS, type RescuedForm } from "./form-context.js";
import { loadConversation, replyDraft, type DraftRow } from "./scope.js";

/**
 * After a login, turns what a form posted with an expired session held into a draft, if the same
 * person typed it; returns the draft to continue writing.
 */
export type RestoredDraft = { kind: "reply"; conversationId: number } | { kind: "new"; draftId: number };

export async function restoreRescued(deps: ComposeDeps, ctx: { actor: Actor; ip: string }, rescued: RescuedForm | undefined): Promise<RestoredDraft | null> {
  const { actor } = ctx;
  if (!rescued || actorKey(actor) !== rescued.context.a || Date.now() - rescued.at > FORM_MAX_AGE_MS) return null;
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
  // A reply's rescued text goes into this person's own reply draft of the thread; a colleague's is never taken
  // (submitCompose answers a conflict and writes nothing).
  const slot = target.kind === "reply" ? await replyDraft(deps.db, actor, target.conversation.id) : null;
  const own = slot && (actor.kind === "ps" ? slot.author_practitioner_id === actor.practitionerId : slot.author_agent_id === actor.agentId);
  const draft: DraftRow | null = own ? slot : null;
  const outcome = await submitCompose(deps, ctx, target, {
    action: "draft",
    subject: rescued.subject,
    body: rescued.body,
    submissionKey: "",
    draft,
    removeAttachmentIds: [],
    files: [],
    rescued: true,
  });
  if (target.kind === "reply") return { kind: "reply", conversationId: target.conversation.id };
  return (outcome.status === "saved" || outcome.status === "invalid") && outcome.draftId ? { kind: "new", draftId: outcome.draftId } : null;
}
