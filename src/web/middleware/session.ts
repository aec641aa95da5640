import type { RequestHandler } from "express";
import session from "express-session";
import type { Config } from "../../config.js";
import type { Db } from "../../db/connection.js";
import "../session-data.js";
import { KnexSessionStore } from "./session-store.js";

/** The session cookie's name: `__Host-` (Secure, whole site, no Domain) whenever cookies are Secure. */
export function sessionCookieName(config: Pick<Config, "secureCookies">): string {
  return config.secureCookies ? "__Host-ems.sid" : "ems.sid";
}

export function sessionMiddleware(config: Config, db: Db): { middleware: RequestHandler; store: KnexSessionStore } {
  const idleMs = config.sessionIdleMinutes * 60_000;
  const store = new KnexSessionStore(db, idleMs);
  const middleware = session({
    name: sessionCookieName(config),
    secret: config.sessionSecret,
    store,
    resave: false,
    saveUninitialized: false,
    rolling: true,
    cookie: { httpOnly: true, sameSite: "lax", secure: config.secureCookies, path: "/", maxAge: idleMs },
  });
  return { middleware, store };
}

/** Empties a session of everything it holds (the user, their searches, patient, drafts rescued…), keeping only its cookie. */
export function clearSession(s: session.Session & Partial<session.SessionData>): void {
  for (const key of Object.keys(s) as (keyof session.SessionData)[]) {
    if (key !== "cookie") delete s[key];
  }
}

/** Ends a signed-in session past its absolute lifetime, whatever the activity: nothing of it is kept. */
export function absoluteLifetime(config: Config): RequestHandler {
  const maxMs = config.sessionAbsoluteHours * 3_600_000;
  return (req, _res, next) => {
    const s = req.session;
    if (s?.user && s.startedAt && Date.now() - s.startedAt > maxMs) clearSession(s);
    next();
  };
}
