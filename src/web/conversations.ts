import type { Request, RequestHandler, Response } from "express";
import type { z } from "zod";
import type { AppDeps } from "../deps.js";
import { submitCompose } from "../domain/conversations/compose.js";
import { holdUploads } from "../domain/conversations/elsm-question.js";
import { draftAttachments } from "../domain/attachments/service.js";
import { discardDraft, traceDisplay } from "../domain/conversations/operations.js";
import { markWriting } from "../domain/conversations/presence.js";
import { recallNotice, recallQuestion, withdrawMessage } from "../domain/conversations/recall.js";
import { startSearch, type SearchErrors } from "../domain/conversations/search.js";
import { namedReplyDraft, replyDraft, type DraftRow } from "../domain/conversations/scope.js";
import { CLOSED_FOR_ELSM, canWrite, type Side } from "../domain/conversations/states.js";
import { answerSubmission, composePage, readComposePost, type ComposeSide, type ComposeWhere } from "./compose.js";
import { conversationOf, draftOf } from "./loaders.js";
import { answerModelInsert } from "./model-insert.js";
import { uploadProblem } from "./middleware/upload.js";
import { flash } from "./middleware/flash.js";
import { actorOf, contextOf } from "./middleware/guards.js";

/** The handlers both sides share, parameterised by the side: search, reply page, reply post, draft page, draft deletion. */
export type SideHandlers = ComposeSide & { side: Side };

/**
 * The search panel's two posts (the terms are kept in the session, never in a URL), then back to the list.
 * A search that cannot find anything as typed (a NIR too short…) is answered in place (422) by `refused`:
 * the panel again with what was typed and the message on each field, no search kept.
 */
export function searchHandlers<S extends Record<string, string>>(
  deps: AppDeps,
  key: "psSearch" | "boSearch",
  schema: z.ZodType<S>,
  back: string,
  refused: (req: Request, res: Response, form: { searchValues: S; searchErrors: SearchErrors }) => Promise<void>,
) {
  const save: RequestHandler = async (req, res) => {
    const outcome = await startSearch(deps.db, contextOf(req, res), schema, req.body);
    if (!outcome.ok) {
      delete req.session[key];
      return refused(req, res, { searchValues: outcome.values, searchErrors: outcome.errors });
    }
    req.session[key] = (outcome.search ?? undefined) as never;
    res.redirect(303, back);
  };
  const reset: RequestHandler = (req, res) => {
    delete req.session[key];
    res.redirect(303, back);
  };
  return { save, reset };
}

export function replyPage(deps: AppDeps, s: SideHandlers): RequestHandler {
  return async (req, res) => {
    const conversation = conversationOf(res);
    if (!canWrite(s.side, conversation.state)) {
      flash(req, CLOSED_FOR_ELSM);
      return res.redirect(303, `${s.base}/conversations/${conversation.id}`);
    }
    await traceDisplay(deps.db, contextOf(req, res), conversation);
    const actor = actorOf(res);
    // The échelon's colleagues see that this agent has the reply form open (issue 13 §4).
    if (actor.kind === "agent") await markWriting(deps.db, actor, conversation.id);
    const draft = await replyDraft(deps.db, actor, conversation.id);
    return composePage(req, res, deps, s, { kind: "reply", conversation }, draft);
  };
}

export function postReply(deps: AppDeps, s: SideHandlers): RequestHandler {
  return async (req, res) => {
    const conversation = conversationOf(res);
    const draft = await namedReplyDraft(deps.db, actorOf(res), conversation, req.body?.draft_id);
    const { intent, input } = readComposePost(deps, req, res, draft);
    const where: ComposeWhere = { kind: "reply", conversation };
    if (intent === "insert_model" && s.side === "elsm" && !uploadProblem(req))
      return answerModelInsert(req, res, deps, s, draft, input, async () => ({ where, ...(await holdUploads(deps, input)) }));
    return answerSubmission(req, res, deps, s, { where, draft }, input, () => submitCompose(deps, contextOf(req, res), where, input));
  };
}

/** « Retirer le message » (issue 15 §1): the question (without JavaScript as with), or why the message cannot be withdrawn (409). */
async function withdrawQuestion(req: Request, res: Response, deps: AppDeps, s: SideHandlers, refused: { reason?: string; trace: boolean }) {
  const conversation = conversationOf(res);
  const recall = await recallQuestion(deps.db, actorOf(res), conversation, req.params.messageId);
  // The page shows the thread's subject: traced once the message is known to be this thread's (else 404, nothing traced).
  if (refused.trace) await traceDisplay(deps.db, contextOf(req, res), conversation);
  const shown = { ...recall, refusal: refused.reason ?? recall.refusal };
  const threadHref = `${s.base}/conversations/${conversation.id}`;
  return s.render(req, res, "conversations/confirm-withdraw", { title: "Retirer le message", recall: shown, threadHref, current: conversation.id }, shown.refusal ? 409 : 200);
}

export function withdrawPage(deps: AppDeps, s: SideHandlers): RequestHandler {
  return (req, res) => withdrawQuestion(req, res, deps, s, { trace: true });
}

/** Withdrawn: back to the thread (or to the list, the thread gone with its first message); too late or not allowed: said, 409. */
export function postWithdraw(deps: AppDeps, s: SideHandlers): RequestHandler {
  return async (req, res) => {
    const conversation = conversationOf(res);
    const outcome = await withdrawMessage(deps, contextOf(req, res), conversation, req.params.messageId);
    if (outcome.status === "refused") return withdrawQuestion(req, res, deps, s, { reason: outcome.reason, trace: false });
    flash(req, recallNotice(outcome));
    res.redirect(303, outcome.status === "removed" ? s.home : `${s.base}/conversations/${conversation.id}`);
  };
}

/** A draft's page: a reply draft is written on its conversation's reply page; a question draft on its own. */
export function draftPage(deps: AppDeps, s: SideHandlers, whereOf: (draft: DraftRow) => Promise<ComposeWhere>): RequestHandler {
  return async (req, res) => {
    const draft = draftOf(res);
    if (draft.conversation_id) return res.redirect(303, draftHref(s, draft));
    return composePage(req, res, deps, s, await whereOf(draft), draft);
  };
}

/** Where a draft is written on: its conversation's reply page, or its own page. */
function draftHref(s: SideHandlers, draft: DraftRow): string {
  return draft.conversation_id ? `${s.base}/conversations/${draft.conversation_id}/reply` : `${s.base}/drafts/${draft.id}`;
}

/** The question before a draft is discarded (its attachments go with it): the page of "Supprimer ce brouillon" without JavaScript. */
export function confirmDiscardPage(deps: AppDeps, s: SideHandlers): RequestHandler {
  return async (req, res) => {
    const draft = draftOf(res);
    const current = draft.conversation_id ? { current: draft.conversation_id } : { currentDraft: draft.id };
    const discard = { action: `${s.base}/drafts/${draft.id}/delete`, cancelHref: draftHref(s, draft), files: (await draftAttachments(deps.db, draft.id)).length };
    return s.render(req, res, "conversations/confirm-discard", { title: "Supprimer le brouillon", discard, ...current });
  };
}

export function deleteDraft(deps: AppDeps, s: SideHandlers): RequestHandler {
  return async (req, res) => {
    const draft = draftOf(res);
    await discardDraft(deps, contextOf(req, res), draft);
    flash(req, "Le brouillon a été supprimé.");
    res.redirect(303, draft.conversation_id ? `${s.base}/conversations/${draft.conversation_id}` : s.home);
  };
}
