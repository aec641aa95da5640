import type { RequestHandler } from "express";
import { csrfSync } from "csrf-sync";
import { HttpError } from "./errors.js";

/**
 * Synchronizer-token CSRF protection (token kept in the server-side session).
 * Forms carry it in `_csrf`; htmx requests also send it as `X-CSRF-Token` (public/js/app.js).
 * Runs after the body parsers (multipart included): in every route guard (guards.ts) and on login/logout.
 */
const { generateToken, isRequestValid } = csrfSync({
  getTokenFromRequest: (req) => (req.body?._csrf as string | undefined) ?? req.get("X-CSRF-Token"),
});

/** Whether the request carries this session's token (a multipart post: read at its first file part, see upload.ts). */
export function csrfValid(req: Parameters<typeof isRequestValid>[0]): boolean {
  return isRequestValid(req);
}

const SAFE = new Set(["GET", "HEAD", "OPTIONS"]);

export const csrfProtection: RequestHandler = (req, _res, next) => {
  if (SAFE.has(req.method)) return next();
  if (!isRequestValid(req)) return next(new HttpError(403, "invalid csrf token"));
  next();
};

/** Templates call `it.csrf()`: the token (and so a session) is only made for pages holding a form. */
export const csrfLocals: RequestHandler = (req, res, next) => {
  res.locals.csrf = () => generateToken(req);
  next();
};
