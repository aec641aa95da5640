import { Router, type Request, type Response } from "express";
import type { AppDeps } from "../../deps.js";
import type { Actor } from "../../domain/actor.js";
import { audit } from "../../domain/audit/audit.js";
import { agentLogin, cpsLogin, type LoginResult } from "../../domain/auth/cps.js";
import { restoreRescued, type RestoredDraft } from "../../domain/conversations/rescue.js";
import { agentCards, cpsCards } from "../../domain/directory/queries.js";
import { errorItems } from "../forms.js";
import { csrfProtection } from "../middleware/csrf.js";
import { loginLimiters } from "../middleware/rate-limit.js";
import { clearSignedIn, markSignedIn, sessionCookieName } from "../middleware/session.js";

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

/** A refused login: the same page, the error in the summary and on its field. */
function refusal(result: Extract<LoginResult<unknown>, { ok: false }>) {
  const errors = { [result.field]: result.message };
  return { errors, errorItems: errorItems(errors) };
}

/** Why the login page is shown, when a link or redirect says it: the session expired, or the user logged out. */
function loginNotice(req: Request): string | null {
  if (req.query.expire === "1") return "Votre session a expiré : reconnectez-vous.";
  if (req.query.deconnecte === "1") return "Vous avez été déconnecté.";
  return null;
}

/** The simulated logins (CPS card + PIN; agent picker), the session's keep-alive, and logout. */
export function authRoutes(deps: AppDeps): Router {
  const { db, config } = deps;
  const router = Router();
  const limited = loginLimiters(db, config.loginLimitPerAddress, config.loginLimitPerCard);

  async function signIn(req: Request, res: Response, actor: Actor, base: "/ps" | "/bo"): Promise<string> {
    const rescued = req.session.rescued;
    await startSession(req, actor);
    markSignedIn(res, config);
    delete req.session.rescued;
    const restored = await restoreRescued(deps, { actor, ip: req.ip ?? "" }, rescued);
    return restoredHref(base, restored) ?? safeReturn(req, `${base}/`) ?? base;
  }

  router.get("/ps/login", async (req, res) => res.render("auth/ps-login", { cards: await cpsCards(db), errors: {}, errorItems: [], notice: loginNotice(req) }));
  router.post("/ps/login", csrfProtection, ...limited, async (req, res) => {
    const result = await cpsLogin(db, req.body.card, String(req.body.pin ?? ""), req.ip ?? "");
    if (!result.ok) {
      return res.status(422).render("auth/ps-login", { cards: await cpsCards(db), ...refusal(result), selected: String(req.body.card ?? "") });
    }
    res.redirect(303, await signIn(req, res, result.actor, "/ps"));
  });

  router.get("/bo/login", async (req, res) => res.render("auth/bo-login", { agents: await agentCards(db), errors: {}, errorItems: [], notice: loginNotice(req) }));
  router.post("/bo/login", csrfProtection, ...limited, async (req, res) => {
    const result = await agentLogin(db, req.body.agent, req.ip ?? "");
    if (!result.ok) return res.status(422).render("auth/bo-login", { agents: await agentCards(db), ...refusal(result) });
    res.redirect(303, await signIn(req, res, result.actor, "/bo"));
  });

  // Any signed-in request extends the session (rolling cookie). This one — the warning's "Prolonger", or typing in a
  // form (session.js, at most once a minute) — always writes the new deadline, and says how long is left.
  router.post("/session/prolonger", csrfProtection, (req, res) => {
    if (!req.session.user) return res.status(401).end();
    req.session.activeAt = Date.now();
    res.set("X-Session-Remaining", String(config.sessionIdleMs));
    res.status(204).end();
  });

  router.post("/logout", csrfProtection, async (req, res) => {
    const actor = req.session.user;
    if (actor) await audit(db, { actor, ip: req.ip ?? "" }, "logout");
    const home = actor?.kind === "agent" ? "/bo/login" : "/ps/login";
    await new Promise<void>((resolve) => req.session.destroy(() => resolve()));
    res.clearCookie(sessionCookieName(config), { path: "/" });
    clearSignedIn(res);
    res.redirect(303, `${home}?deconnecte=1`);
  });

  return router;
}
