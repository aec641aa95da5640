import { Router, type Request, type Response } from "express";
import type { Config } from "../../config.js";
import type { AppDeps } from "../../deps.js";
import { FLOW_MAX_AGE_MS, oidcDoor, type OidcDoor } from "../../domain/auth/oidc.js";
import { chooseActor, choiceLabel, flowFailed, resolveAgentLogin, resolvePscLogin } from "../../domain/auth/psc.js";
import { errorItems } from "../forms.js";
import { csrfProtection } from "../middleware/csrf.js";
import { callbackLimiter } from "../middleware/rate-limit.js";
import { signIn } from "./sign-in.js";

/** The real doors (issue 16), each present only when configured: Pro Santé Connect for doctors, the insurer's SSO for agents. */
export type Doors = { psc: OidcDoor | null; sso: OidcDoor | null };

export function openDoors(config: Config): Doors {
  return {
    psc: config.psc ? oidcDoor(config.psc, { scope: "openid scope_all", acrValues: "eidas1" }) : null,
    sso: config.agentOidc ? oidcDoor(config.agentOidc, { scope: "openid profile" }) : null,
  };
}

/** The origins a form may be redirected to besides ours (CSP form-action): the configured providers', nothing else. */
export function formOrigins(doors: Doors): string[] {
  return [doors.psc, doors.sso].flatMap((door) => door?.formOrigins() ?? []);
}

/** The providers' endpoints known before a page's CSP is written (a no-op once discovered). */
export async function doorsReady(doors: Doors): Promise<void> {
  await Promise.all([doors.psc?.ready(), doors.sso?.ready()]);
}

/** Where logout continues: the provider's end session, for a session a provider opened; null: our logged-out page. */
export function providerLogout(doors: Doors, held: { door: "psc" | "sso"; idToken: string } | undefined): Promise<string | null> {
  const door = held ? doors[held.door] : null;
  return door && held ? door.endSessionUrl(held.idToken) : Promise.resolve(null);
}

const NAMES = { psc: "Pro Santé Connect", sso: "le compte Assurance Maladie" } as const;
const FLOW_MESSAGES = {
  expired: "La connexion a duré plus de 10 minutes et a expiré. Recommencez la connexion.",
  invalid: "La connexion n'a pas pu être vérifiée (demande invalide, déjà utilisée ou venant d'un autre service). Recommencez la connexion.",
  unavailable: "Le service d'identification ne répond pas pour le moment. Réessayez dans quelques minutes ou utilisez une autre méthode de connexion.",
} as const;

/** A login that cannot go on: a French page, no session, a link back to the login page. */
function refusedPage(res: Response, status: number, base: "/ps" | "/bo", door: "psc" | "sso", message: string) {
  res.status(status).render("auth/oidc-refused", { message, loginHref: `${base}/login`, provider: NAMES[door] });
}

/** Login, callback and post-logout return of one door, and for PSC the choice « Pour qui agissez-vous ? ». */
export function oidcRoutes(deps: AppDeps, doors: Doors): Router {
  const { db, config } = deps;
  const router = Router();
  const limited = callbackLimiter(db, config.loginLimitPerAddress);
  // The session opened (the card login's rules), then the id token kept server-side for the provider's logout.
  const signedIn = async (req: Request, res: Response, actor: Parameters<typeof signIn>[3], base: "/ps" | "/bo", logout: { door: "psc" | "sso"; idToken: string }) => {
    const next = await signIn(deps, req, res, actor, base);
    req.session.oidcLogout = logout;
    res.redirect(303, next);
  };

  const mount = (door: "psc" | "sso", base: "/ps" | "/bo", prefix: string, callbackUri: string) => {
    const provider = doors[door];
    if (!provider) return;
    router.post(`${prefix}/login`, csrfProtection, async (req, res) => {
      let started: Awaited<ReturnType<OidcDoor["begin"]>>;
      try {
        started = await provider.begin();
      } catch {
        return refusedPage(res, 503, base, door, FLOW_MESSAGES.unavailable);
      }
      delete req.session.pscChoice;
      req.session.oidcFlow = { ...started.flow, door };
      res.redirect(303, started.url);
    });

    router.get(`${prefix}/callback`, limited, async (req, res) => {
      const flow = req.session.oidcFlow?.door === door ? req.session.oidcFlow : undefined;
      // Spent at its first use, whatever comes of it: a code or state replayed finds no flow.
      delete req.session.oidcFlow;
      const query = req.originalUrl.includes("?") ? req.originalUrl.slice(req.originalUrl.indexOf("?")) : "";
      const result = await provider.complete(flow, new URL(`${callbackUri}${query}`));
      const ip = req.ip ?? "";
      if (!result.ok) {
        await flowFailed(db, door, result.reason === "expired", ip);
        return refusedPage(res, result.reason === "unavailable" ? 503 : 400, base, door, FLOW_MESSAGES[result.reason]);
      }
      if (door === "sso") {
        const agent = await resolveAgentLogin(db, { ...result.idClaims, ...result.userinfo }, config.agentOidc!.idClaim, ip);
        if (!agent.ok) return refusedPage(res, 403, base, door, agent.message);
        return signedIn(req, res, agent.actor, base, { door, idToken: result.idToken });
      }
      const resolved = await resolvePscLogin(db, result.idClaims, result.userinfo, ip);
      if (resolved.ok === false) return refusedPage(res, 403, base, door, resolved.message);
      if (resolved.ok === "choice") {
        req.session.pscChoice = { options: resolved.options, idToken: result.idToken, createdAt: Date.now() };
        return res.redirect(303, `${prefix}/choix`);
      }
      return signedIn(req, res, resolved.actor, base, { door, idToken: result.idToken });
    });

    // The provider's logout sends the browser back here: the app's own logged-out page.
    router.get(`${prefix}/deconnecte`, (_req, res) => res.redirect(303, `${base}/login?deconnecte=1`));
  };

  mount("psc", "/ps", "/ps/psc", config.psc?.redirectUri ?? "");
  mount("sso", "/bo", "/bo/oidc", config.agentOidc?.redirectUri ?? "");

  if (doors.psc) {
    const pending = (req: Request) => {
      const choice = req.session.pscChoice;
      if (choice && Date.now() - choice.createdAt <= FLOW_MAX_AGE_MS) return choice;
      delete req.session.pscChoice;
      return null;
    };
    const choicePage = (res: Response, options: { label: string }[], error?: string) =>
      res.status(error ? 422 : 200).render("auth/psc-choice", {
        options,
        errors: error ? { choice: error } : {},
        errorItems: error ? errorItems({ choice: error }) : [],
      });
    const labelled = (choice: NonNullable<ReturnType<typeof pending>>) => choice.options.map((actor) => ({ label: choiceLabel(actor) }));

    router.get("/ps/psc/choix", (req, res) => {
      const choice = pending(req);
      if (!choice) return refusedPage(res, 400, "/ps", "psc", FLOW_MESSAGES.expired);
      choicePage(res, labelled(choice));
    });
    router.post("/ps/psc/choix", csrfProtection, async (req, res) => {
      const choice = pending(req);
      if (!choice) return refusedPage(res, 400, "/ps", "psc", FLOW_MESSAGES.expired);
      const actor = await chooseActor(db, choice.options, req.body.choice, req.ip ?? "");
      if (!actor) return choicePage(res, labelled(choice), "Choisissez pour qui vous agissez.");
      delete req.session.pscChoice;
      return signedIn(req, res, actor, "/ps", { door: "psc", idToken: choice.idToken });
    });
  }
  return router;
}
