import type { RequestHandler } from "express";
import { flash } from "./flash.js";
import { readContext } from "../../domain/conversations/form-context.js";

/**
 * A compose form posted after the session expired: keep what was typed (bound to the person who
 * typed it by the signed form context) and send them to log in; after login it becomes a draft.
 * Runs before the CSRF check, which an expired session would otherwise fail.
 */
const MAX_FORM_AGE_MS = 24 * 3_600_000;

export function rescueExpiredSubmission(secret: string): RequestHandler {
  return (req, res, next) => {
    if (req.method !== "POST" || req.session?.user || !req.body) return next();
    // Only a form of ours, posted from our own pages, recently served: no cross-site planting of drafts.
    const site = req.get("Sec-Fetch-Site");
    const origin = req.get("Origin");
    if ((site && site !== "same-origin") || (origin && origin !== `${req.protocol}://${req.get("host")}`)) return next();
    const context = readContext(secret, req.body._ctx);
    if (!context || !context.iat || Date.now() - context.iat > MAX_FORM_AGE_MS) return next();
    const text = (v: unknown) => (typeof v === "string" ? v : "");
    req.session.rescued = { context, subject: text(req.body.subject).slice(0, 1000), body: text(req.body.body).slice(0, 50_000), at: Date.now() };
    flash(req, "Votre session a expiré. Reconnectez-vous : le texte que vous aviez saisi a été conservé en brouillon.");
    const login = context.a.startsWith("agent:") ? "/bo/login" : "/ps/login";
    if (req.get("HX-Request") === "true") {
      res.set("HX-Redirect", login);
      return res.status(204).end();
    }
    res.redirect(303, login);
  };
}
