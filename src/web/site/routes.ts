import { Router } from "express";

/** The public pages: home, legal notice, terms, accessibility statement. */
export function siteRoutes(): Router {
  const router = Router();
  router.get("/", (_req, res) => res.render("home", { title: "Accueil" }));
  router.get("/mentions-legales", (_req, res) => res.render("site/mentions-legales", { title: "Mentions légales" }));
  router.get("/cgu", (_req, res) => res.render("site/cgu", { title: "Conditions générales d'utilisation" }));
  router.get("/accessibilite", (_req, res) => res.render("site/accessibilite", { title: "Accessibilité" }));
  return router;
}
