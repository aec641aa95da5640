import type { RequestHandler } from "express";
import { FIELD_MAX_BYTES } from "../../domain/attachments/rules.js";
import { FORM_MAX_AGE_MS, readContext } from "../../domain/conversations/form-context.js";
import { flash } from "./flash.js";
import { postedFromOurPages } from "./origin.js";
import { clearSignedIn, sessionExpired } from "./session.js";

/**
 * A compose form posted after the session expired: keep what was typed (bound to the person who
 * typed it by the signed form context) and send them to log in; after login it becomes a draft.
 * Runs before the CSRF check, which an expired session would otherwise fail.
 */
export function rescueExpiredSubmission(secret: string): RequestHandler {
  return (req, res, next) => {
    if (req.method !== "POST" || req.session?.user || !req.body) return next();
    // Only a form of ours, posted from our own pages, recently served: no cross-site planting of drafts.
    if (!postedFromOurPages(req)) return next();
    const context = readContext(secret, req.body._ctx);
    if (!context?.iat || Date.now() - context.iat > FORM_MAX_AGE_MS) return next();
    const text = (v: unknown) => (typeof v === "string" ? v : "");
    req.session.rescued = { context, subject: text(req.body.subject).slice(0, 1000), body: text(req.body.body).slice(0, FIELD_MAX_BYTES), at: Date.now() };
    flash(req, "Votre session a expiré. Reconnectez-vous : le texte que vous aviez saisi a été conservé en brouillon.");
    redirectToLogin(req, res, context.a.startsWith("agent:") ? "/bo/login" : "/ps/login");
  };
}

/**
 * To the login page: a plain 303, or for htmx a full-page redirect (a swap would put the login inside the page).
 * A browser whose session expired is told so there (`?expire=1`), once: the marker of its login is then forgotten.
 */
export function redirectToLogin(req: Parameters<RequestHandler>[0], res: Parameters<RequestHandler>[1], loginPath: string): void {
  const expired = sessionExpired(req);
  if (expired) clearSignedIn(res);
  const login = expired ? `${loginPath}?expire=1` : loginPath;
  if (req.get("HX-Request") === "true") {
    res.set("HX-Redirect", login);
    res.status(204).end();
    return;
  }
  res.redirect(303, login);
}
