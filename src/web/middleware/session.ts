import type { RequestHandler } from "express";
import session from "express-session";
import type { Config } from "../../config.js";
import type { Db } from "../../db/connection.js";
import type { Actor } from "../../domain/actor.js";
import type { FormContext } from "../../domain/conversations/form-context.js";
import { KnexSessionStore } from "./session-store.js";

declare module "express-session" {
  interface SessionData {
    user?: Actor;
    startedAt?: number;
    returnTo?: string;
    /** What a form posted after the session expired held, kept for the same person's next login. */
    rescued?: { context: FormContext; subject: string; body: string; at: number };
    selectedPatientId?: number;
    patientCandidates?: number[];
    psSearch?: { nom: string; nir: string };
  }
}

export function sessionMiddleware(config: Config, db: Db): { middleware: RequestHandler; store: KnexSessionStore } {
  const idleMs = config.sessionIdleMinutes * 60_000;
  const store = new KnexSessionStore(db, idleMs);
  const middleware = session({
    name: config.secureCookies ? "__Host-ems.sid" : "ems.sid",
    secret: config.sessionSecret,
    store,
    resave: false,
    saveUninitialized: false,
    rolling: true,
    cookie: { httpOnly: true, sameSite: "lax", secure: config.secureCookies, path: "/", maxAge: idleMs },
  });
  return { middleware, store };
}

/** Ends a signed-in session past its absolute lifetime, whatever the activity. */
export function absoluteLifetime(config: Config): RequestHandler {
  const maxMs = config.sessionAbsoluteHours * 3_600_000;
  return (req, _res, next) => {
    const s = req.session;
    if (s?.user && s.startedAt && Date.now() - s.startedAt > maxMs) {
      delete s.user;
      delete s.selectedPatientId;
    }
    next();
  };
}
