import type { Request, RequestHandler } from "express";
import type { AgentActor, PsActor, RequestContext } from "../../domain/actor.js";
import { csrfProtection } from "./csrf.js";
import { NotFound } from "./errors.js";

function guard(kind: "ps" | "agent", loginPath: string): RequestHandler {
  return (req, res, next) => {
    const user = req.session?.user;
    if (user?.kind === kind) {
      res.locals.actor = user;
      return next();
    }
    // Signed in on the other side: these pages do not exist for them.
    if (user) return next(new NotFound());
    if (req.method === "GET") req.session.returnTo = req.originalUrl;
    if (req.get("HX-Request") === "true") {
      res.set("HX-Redirect", loginPath);
      return res.status(204).end();
    }
    res.redirect(303, loginPath);
  };
}

/**
 * The gate of every signed-in route: the right kind of user, then the CSRF token on anything that
 * is not a GET. Without a session the user is sent to log in before any token is looked at.
 */
export const requirePs: RequestHandler[] = [guard("ps", "/ps/login"), csrfProtection];
export const requireAgent: RequestHandler[] = [guard("agent", "/bo/login"), csrfProtection];

export function psContext(req: Request): RequestContext<PsActor> {
  return { actor: req.session.user as PsActor, ip: req.ip ?? "" };
}

export function agentContext(req: Request): RequestContext<AgentActor> {
  return { actor: req.session.user as AgentActor, ip: req.ip ?? "" };
}
