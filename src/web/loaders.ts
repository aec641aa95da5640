import type { Response, Router } from "express";
import type { AppDeps } from "../deps.js";
import { loadAttachment, loadConversation, loadDraft, type AttachmentRow, type ConversationRow, type DraftRow } from "../domain/conversations/scope.js";
import { loadReason, type ClosureReasonRow } from "../domain/closure-reasons/reasons.js";
import { loadModel, type ReplyModelRow } from "../domain/reply-models/models.js";
import { actorOf } from "./middleware/guards.js";

/**
 * The records a URL names, loaded once per request through the signed-in actor's scope (a record
 * outside it is a 404 before any handler runs). The router's guard must come first: it sets the actor.
 */
export function scopedParams(router: Router, { db }: AppDeps): void {
  router.param("conversationId", async (_req, res, next, raw) => {
    res.locals.conversation = await loadConversation(db, actorOf(res), raw);
    next();
  });
  router.param("draftId", async (_req, res, next, raw) => {
    res.locals.draft = await loadDraft(db, actorOf(res), raw);
    next();
  });
  router.param("attachmentId", async (_req, res, next, raw) => {
    res.locals.attachment = await loadAttachment(db, actorOf(res), raw);
    next();
  });
  // A saved reply of the agent's ELSM (none for a doctor).
  router.param("modelId", async (_req, res, next, raw) => {
    res.locals.model = await loadModel(db, actorOf(res), raw);
    next();
  });
  // A closure reason of the agent's ELSM (none for a doctor).
  router.param("reasonId", async (_req, res, next, raw) => {
    res.locals.reason = await loadReason(db, actorOf(res), raw);
    next();
  });
}

export const conversationOf = (res: Response): ConversationRow => res.locals.conversation as ConversationRow;
export const draftOf = (res: Response): DraftRow => res.locals.draft as DraftRow;
export const attachmentOf = (res: Response): AttachmentRow => res.locals.attachment as AttachmentRow;
export const modelOf = (res: Response): ReplyModelRow => res.locals.model as ReplyModelRow;
export const reasonOf = (res: Response): ClosureReasonRow => res.locals.reason as ClosureReasonRow;
