import type { Request, Response } from "express";
import type { AppDeps } from "../../deps.js";
import type { Actor } from "../../domain/actor.js";
import { restoreRescued, type RestoredDraft } from "../../domain/conversations/rescue.js";
import { markSignedIn } from "../middleware/session.js";

/** Regenerates the session at login (no fixation), keeping only what must survive it. */
function startSession(req: Request, actor: Actor): Promise<void> {
  const { returnTo, rescued } = req.session;
  return new Promise((resolve, reject) => {
    req.session.regenerate((err) => {
      if (err) return reject(err);
      req.session.user = actor;
      req.session.startedAt = Date.now();
      if (rescued) req.session.rescued = rescued;
      if (returnTo) req.session.returnTo = returnTo;
      resolve();
    });
  });
}

function safeReturn(req: Request, prefix: string): string | null {
  const target = req.session.returnTo;
  delete req.session.returnTo;
  return target?.startsWith(prefix) && !target.startsWith("//") ? target : null;
}

/** Where to continue writing a form rescued from an expired session. */
function restoredHref(base: "/ps" | "/bo", restored: RestoredDraft | null): string | null {
  if (!restored) return null;
  return restored.kind === "reply" ? `${base}/conversations/${restored.conversationId}/reply` : `${base}/drafts/${restored.draftId}`;
}

/**
 * The one way a login ends, whichever door (the simulated card or picker, Pro Santé Connect, the agents' SSO): a new
 * session id, the signed-in marker, a form rescued from an expired session restored. Answers where to go next.
 */
export async function signIn(deps: AppDeps, req: Request, res: Response, actor: Actor, base: "/ps" | "/bo"): Promise<string> {
  const rescued = req.session.rescued;
  await startSession(req, actor);
  markSignedIn(res, deps.config);
  delete req.session.rescued;
  const restored = await restoreRescued(deps, { actor, ip: req.ip ?? "" }, rescued);
  return restoredHref(base, restored) ?? safeReturn(req, `${base}/`) ?? base;
}
