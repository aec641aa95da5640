import type { ErrorRequestHandler, Request, RequestHandler, Response } from "express";
import session from "express-session";
import type { Config } from "../../config.js";
import type { Db } from "../../db/connection.js";
import "../session-data.js";
import { KnexSessionStore } from "./session-store.js";

/** The session cookie's name: `__Host-` (Secure, whole site, no Domain) whenever cookies are Secure. */
export function sessionCookieName(config: Pick<Config, "secureCookies">): string {
  return config.secureCookies ? "__Host-ems.sid" : "ems.sid";
}

/** The marker a signed-in browser keeps (no secret in it): a later request without a session then says "expired". */
const SIGNED_IN_MARKER = "ems.signed-in";

/** Set at login, for as long as a session may last: a request without session that carries it comes from an expired one. */
export function markSignedIn(res: Response, config: Config): void {
  res.cookie(SIGNED_IN_MARKER, "1", {
    httpOnly: true,
    sameSite: "lax",
    secure: config.secureCookies,
    path: "/",
    maxAge: config.sessionAbsoluteHours * 3_600_000,
  });
}

/** Cleared at logout, and once the expiry has been told. */
export function clearSignedIn(res: Response): void {
  res.clearCookie(SIGNED_IN_MARKER, { path: "/" });
}

/** A request without a signed-in session from a browser that had one: its session expired (idle or absolute limit). */
export function sessionExpired(req: Request): boolean {
  return !req.session?.user && (req.get("Cookie") ?? "").split(";").some((pair) => pair.trim() === `${SIGNED_IN_MARKER}=1`);
}

export function sessionMiddleware(config: Config, db: Db): { middleware: RequestHandler; store: KnexSessionStore } {
  const idleMs = config.sessionIdleMs;
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

/** What a session holds, its cookie aside: changed during a request, the session has to be written. */
function contents(s: session.Session | undefined): string {
  return JSON.stringify(s ?? null, (key, value) => (key === "cookie" ? undefined : value));
}

/** Headers of the answer a failed session write replaces: a redirect, htmx's, the body's. */
const REPLACED_HEADERS = ["location", "hx-redirect", "hx-location", "hx-push-url", "hx-replace-url", "hx-trigger", "content-length", "content-type", "etag"];

/**
 * A changed session is written before its answer leaves, not after: express-session saves it in `res.end`, once the
 * headers and all but the last byte are out, and reports a failed write (a full disk) after the answer — which then
 * could only be cut, leaving the browser with a closed socket and the user signed in (or flashed) for nothing.
 * Here the write is awaited first; if it fails, the answer is replaced by the error page (`onError`: a storage fault is a
 * 503 « Service momentanément indisponible »). express-session then finds the session saved and does not write it again.
 */
export function sessionWrittenBeforeAnswer(onError: ErrorRequestHandler): RequestHandler {
  return (req, res, next) => {
    if (!req.session) return next();
    const before = contents(req.session);
    const end = res.end;
    let replacing = false;
    res.end = function (this: Response, ...args: unknown[]) {
      if (replacing || res.headersSent || !req.session || contents(req.session) === before) return end.apply(this, args as Parameters<typeof end>);
      // The rolling deadline is reset by express-session only as the answer leaves: reset it now, so this write stores it.
      req.session.touch();
      req.session.save((err) => {
        if (!err) return end.apply(res, args as Parameters<typeof end>);
        replacing = true;
        for (const header of REPLACED_HEADERS) res.removeHeader(header);
        onError(err, req, res, () => undefined);
      });
      return res;
    } as typeof res.end;
    next();
  };
}
