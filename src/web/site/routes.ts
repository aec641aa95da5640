import { Router } from "express";
import type { AppDeps } from "../../deps.js";
import { accessibilityStatement } from "../../domain/site/accessibility.js";
import { FEEDBACK_LIMITS, recordFeedback, type FeedbackValues } from "../../domain/site/feedback.js";
import { errorItems } from "../forms.js";
import { csrfProtection } from "../middleware/csrf.js";
import { flash } from "../middleware/flash.js";
import { feedbackLimiter } from "../middleware/rate-limit.js";

const FIELD_ORDER = ["contact-name", "contact-email", "contact-page", "contact-message"];
const EMPTY: FeedbackValues = { name: "", email: "", page: "", message: "" };

/** The public pages: home, legal notice, terms, accessibility statement (its contact form, its multi-year plan). */
export function siteRoutes(deps: AppDeps): Router {
  const router = Router();
  const statement = (values: FeedbackValues, errors: Partial<Record<keyof FeedbackValues, string>>) => ({
    title: "Déclaration d'accessibilité",
    statement: accessibilityStatement(),
    limits: FEEDBACK_LIMITS,
    values,
    errors,
    // The summary links to the fields by their ids (contact-email…), in the order of the form.
    errorItems: errorItems(Object.fromEntries(Object.entries(errors).map(([field, message]) => [`contact-${field}`, message])), [], FIELD_ORDER),
  });
  router.get("/", (_req, res) => res.render("home", { title: "Accueil" }));
  router.get("/mentions-legales", (_req, res) => res.render("site/mentions-legales", { title: "Mentions légales" }));
  router.get("/cgu", (_req, res) => res.render("site/cgu", { title: "Conditions générales d'utilisation" }));
  router.get("/accessibilite", (_req, res) => res.render("site/accessibilite", statement(EMPTY, {})));
  router.post("/accessibilite/contact", csrfProtection, feedbackLimiter(deps.db), async (req, res) => {
    const result = await recordFeedback(deps.db, req.body ?? {});
    if (!result.ok) return res.status(422).render("site/accessibilite", statement(result.values, result.errors));
    flash(req, "Votre message a été envoyé. Nous vous répondrons par courriel.");
    res.redirect(303, "/accessibilite#contact");
  });
  router.get("/accessibilite/schema-pluriannuel", (_req, res) => res.render("site/schema-pluriannuel", { title: "Schéma pluriannuel de mise en accessibilité" }));
  return router;
}
