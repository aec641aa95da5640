import type { Request, RequestHandler, Response } from "express";
import type { Actor, RequestContext } from "../../domain/actor.js";
import { NotFound } from "../../domain/errors.js";
import { csrfProtection } from "./csrf.js";
import { redirectToLogin } from "./rescue.js";

function guard(kind: Actor["kind"], loginPath: string): RequestHandler {
  return (req, res, next) => {
    const user = req.session?.user;
    if (user?.kind === kind) {
      res.locals.actor = user;
      return next();
    }
    // Signed in on the other side: these pages do not exist for them.
    if (user) return next(new NotFound());
    if (req.method === "GET") req.session.returnTo = req.originalUrl;
    redirectToLogin(req, res, loginPath);
  };
}

/**
 * The gate of every signed-in route: the right kind of user, then the CSRF token on anything that
 * is not a GET. Without a session the user is sent to log in before any token is looked at.
 */
export const requirePs: RequestHandler[] = [guard("ps", "/ps/login"), csrfProtection];
export const requireAgent: RequestHandler[] = [guard("agent", "/bo/login"), csrfProtection];

/** The signed-in actor, set by the guard above. */
export function actorOf<A extends Actor = Actor>(res: Response): A {
  return res.locals.actor as A;
}

/** The facts the domain needs about a request (the audit trail): who, from where. */
export function contextOf<A extends Actor = Actor>(req: Request, res: Response): RequestContext<A> {
  return { actor: actorOf<A>(res), ip: req.ip ?? "" };
}
