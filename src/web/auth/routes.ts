import { Router, type Request } from "express";
import type { AppDeps } from "../../app.js";
import { audit } from "../../domain/audit/audit.js";
import { restoreRescued } from "../../domain/conversations/rescue.js";
import { agentCards, cpsCards } from "../../domain/directory/queries.js";
import type { Actor } from "../../domain/actor.js";
import { csrfProtection } from "../middleware/csrf.js";
import { loginLimiters } from "../middleware/rate-limit.js";
import { agentLogin, cpsLogin } from "../../domain/auth/cps.js";

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
  return target && target.startsWith(prefix) && !target.startsWith("//") ? target : null;
}

export function authRoutes(deps: AppDeps): Router {
  const { db, config } = deps;
  const router = Router();
  const limited = loginLimiters(db, config.loginLimitPerAddress, config.loginLimitPerCard);

  router.get("/ps/login", async (_req, res) => res.render("auth/ps-login", { cards: await cpsCards(db) }));
  router.post("/ps/login", csrfProtection, ...limited, async (req, res) => {
    const result = await cpsLogin(db, req.body.card, String(req.body.pin ?? ""), req.ip ?? "");
    if (!result.ok) {
      return res.status(422).render("auth/ps-login", { cards: await cpsCards(db), error: result.message, selected: String(req.body.card ?? "") });
    }
    await startSession(req, result.actor);
    const restored = await restoreRescued(deps, req);
    res.redirect(303, restored ?? safeReturn(req, "/ps/") ?? "/ps");
  });

  router.get("/bo/login", async (_req, res) => res.render("auth/bo-login", { agents: await agentCards(db) }));
  router.post("/bo/login", csrfProtection, ...limited, async (req, res) => {
    const result = await agentLogin(db, req.body.agent, req.ip ?? "");
    if (!result.ok) {
      return res.status(422).render("auth/bo-login", { agents: await agentCards(db), error: result.message });
    }
    await startSession(req, result.actor);
    const restored = await restoreRescued(deps, req);
    res.redirect(303, restored ?? safeReturn(req, "/bo/") ?? "/bo");
  });

  // Any signed-in request extends the session (rolling cookie); this one exists for the warning dialog.
  router.post("/session/prolonger", csrfProtection, (req, res) => {
    if (!req.session.user) return res.status(401).end();
    res.status(204).end();
  });

  router.post("/logout", csrfProtection, async (req, res) => {
    const actor = req.session.user;
    if (actor) await audit(db, { actor, ip: req.ip ?? "" }, "logout");
    const home = actor?.kind === "agent" ? "/bo/login" : "/ps/login";
    await new Promise<void>((resolve) => req.session.destroy(() => resolve()));
    res.clearCookie(deps.config.secureCookies ? "__Host-ems.sid" : "ems.sid", { path: "/" });
    res.redirect(303, `${home}?deconnecte=1`);
  });

  return router;
}
